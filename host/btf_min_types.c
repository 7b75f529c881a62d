/* btf_min_types.c: which kernel types a minimized BTF keeps for each
 * CO-RE relocation (libbpf's candidates by kind and essential name; along
 * a field's access path the members named, found through anonymous
 * members as libbpf does), and the new BTF of just those (btf_min.c says
 * why and what). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "btf_min.h"

enum {
	RELO_TYPE_ID_TARGET = 7,   /* the kernel's own type id: full BTF only */
	RELO_FIELD_LAST = 5,	   /* byte offset .. rshift: field relocations */
	RELO_TYPE_ID_LOCAL = 6,	   /* needs nothing from the kernel */
	RELO_ENUMVAL_EXISTS = 10,  /* and 11, ENUMVAL_VALUE */
};

#define MAX_ACCESS 64



static const struct btf_type *ktype(struct minbtf *m, __u32 id)
{
	return btf__type_by_id(m->kern, id);
}

static int is_mod(const struct btf_type *t)
{
	switch (btf_kind(t)) {
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		return 1;
	}
	return 0;
}

static int mark_member(struct minbtf *m, __u32 sid, int idx)
{
	if (!m->members[sid]) {
		m->members[sid] = calloc(btf_vlen(ktype(m, sid)), 1);
		if (!m->members[sid])
			return -ENOMEM;
	}
	m->members[sid][idx] = 1;
	return 0;
}

/* Keep a type and what it cannot do without: modifiers and typedefs down
 * to their target, array elements and index types, function prototypes'
 * types. A struct or union stays a shell (members come from relocations);
 * a pointer's target is not followed. */
static void mark_shallow(struct minbtf *m, __u32 id)
{
	while (id && id < m->n && !m->marked[id]) {
		const struct btf_type *t = ktype(m, id);
		m->marked[id] = 1;
		if (is_mod(t)) {
			id = t->type;
		} else if (btf_is_array(t)) {
			mark_shallow(m, btf_array(t)->index_type);
			id = btf_array(t)->type;
		} else if (btf_is_func_proto(t)) {
			const struct btf_param *p = btf_params(t);
			for (int i = 0; i < btf_vlen(t); i++)
				mark_shallow(m, p[i].type);
			id = t->type;
		} else {
			return;
		}
	}
}

/* A type relocation's candidate: the type with every member, and what
 * members point to (bpf_core_type_matches compares pointees by name). */
static int mark_full(struct minbtf *m, __u32 id)
{
	mark_shallow(m, id);
	id = btf__resolve_type(m->kern, id) > 0 ? (__u32)btf__resolve_type(m->kern, id) : id;
	const struct btf_type *t = ktype(m, id);
	if (!btf_is_composite(t))
		return 0;
	mark_shallow(m, id);
	const struct btf_member *mem = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++) {
		if (mark_member(m, id, i))
			return -ENOMEM;
		mark_shallow(m, mem[i].type);
		const struct btf_type *mt = ktype(m, mem[i].type);
		while (mt && is_mod(mt))
			mt = ktype(m, mt->type);
		if (mt && btf_is_ptr(mt))
			mark_shallow(m, mt->type);
	}
	return 0;
}

/* Skip modifiers and typedefs (local BTF): the type id they lead to. */
static __u32 skip_mods(const struct btf *b, __u32 id)
{
	const struct btf_type *t = btf__type_by_id(b, id);
	while (t && is_mod(t)) {
		id = t->type;
		t = btf__type_by_id(b, id);
	}
	return id;
}

/* libbpf's essential name: "task_struct___v2" -> "task_struct". */
static size_t essential_len(const char *s)
{
	size_t n = strlen(s);
	for (size_t i = n >= 5 ? n - 5 + 1 : 0; i-- > 0;)
		if (s[i] != '_' && s[i + 1] == '_' && s[i + 2] == '_' &&
		    s[i + 3] == '_' && s[i + 4] != '_')
			return i + 1;
	return n;
}

static int same_kind(const struct btf_type *a, const struct btf_type *b)
{
	return btf_kind(a) == btf_kind(b) ||
	       (btf_is_any_enum(a) && btf_is_any_enum(b));
}

/* A path step found in the kernel: member idx of struct sid. */
struct step {
	__u32 sid;
	int idx;
};

/* Find member `name` in kernel composite sid, through anonymous members;
 * appends the members crossed to path. Returns the member's type id, or
 * 0 (not found). */
static __u32 find_member(struct minbtf *m, __u32 sid, const char *name,
			 struct step *path, int *np, int depth)
{
	const struct btf_type *t = ktype(m, sid);
	if (!btf_is_composite(t) || depth > 32 || *np >= MAX_ACCESS * 4)
		return 0;
	const struct btf_member *mem = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++) {
		const char *mn = btf__name_by_offset(m->kern, mem[i].name_off);
		int at = *np;
		path[(*np)++] = (struct step){sid, i};
		if (mn && *mn) {
			if (!strcmp(mn, name))
				return mem[i].type ? mem[i].type : 0;
		} else {
			__u32 in = btf__resolve_type(m->kern, mem[i].type) > 0 ?
					   (__u32)btf__resolve_type(m->kern, mem[i].type) : 0;
			__u32 found = in ? find_member(m, in, name, path, np, depth + 1) : 0;
			if (found)
				return found;
		}
		*np = at;
	}
	return 0;
}

/* A field relocation against one kernel candidate: walk the access path;
 * when all of it matches, keep what it crossed. */
static int field_relo(struct minbtf *m, __u32 local_root, __u32 cand,
		      const int *acc, int nacc)
{
	struct step path[MAX_ACCESS * 4];
	__u32 types[MAX_ACCESS];
	int np = 0, nt = 0;
	__u32 lt = local_root, kt = cand;
	types[nt++] = cand;
	for (int i = 1; i < nacc; i++) {
		lt = skip_mods(m->local, lt);
		const struct btf_type *l = btf__type_by_id(m->local, lt);
		int r = btf__resolve_type(m->kern, kt);
		if (r <= 0)
			return 0;
		const struct btf_type *k = ktype(m, r);
		if (btf_is_composite(l)) {
			if (acc[i] >= btf_vlen(l))
				return 0;
			const struct btf_member *lm = btf_members(l) + acc[i];
			const char *name = btf__name_by_offset(m->local, lm->name_off);
			lt = lm->type;
			if (!name || !*name) /* anonymous: libbpf matches by the names inside */
				continue;
			__u32 found = find_member(m, r, name, path, &np, 0);
			if (!found)
				return 0;
			kt = found;
		} else if (btf_is_array(l)) {
			if (!btf_is_array(k))
				return 0;
			lt = btf_array(l)->type;
			kt = btf_array(k)->type;
		} else {
			return 0;
		}
		if (nt < MAX_ACCESS)
			types[nt++] = kt;
	}
	for (int i = 0; i < nt; i++)
		mark_shallow(m, types[i]);
	for (int i = 0; i < np; i++) {
		if (mark_member(m, path[i].sid, path[i].idx))
			return -ENOMEM;
		mark_shallow(m, path[i].sid);
		mark_shallow(m, btf_members(ktype(m, path[i].sid))[path[i].idx].type);
	}
	return 0;
}

static int parse_access(const char *s, int *acc)
{
	int n = 0;
	while (s && *s && n < MAX_ACCESS) {
		acc[n++] = (int)strtol(s, (char **)&s, 10);
		if (*s == ':')
			s++;
		else if (*s)
			return -1;
	}
	return n;
}

int lt_minbtf_relo(struct minbtf *m, const struct core_relo *r)
{
	if (r->kind == RELO_TYPE_ID_LOCAL)
		return 0;
	if (r->kind == RELO_TYPE_ID_TARGET) {
		/* bpf_core_type_id_kernel(): an id the kernel will read (as
		 * bpf_snprintf_btf does) must be vmlinux's, not ours */
		m->uncovered = 1;
		return 0;
	}
	const struct btf_type *lt = btf__type_by_id(m->local, r->type_id);
	if (!lt)
		return -EINVAL;
	const char *lname = btf__name_by_offset(m->local, lt->name_off);
	if (!lname || !*lname)
		return 0; /* anonymous roots: libbpf relocates them locally */
	size_t elen = essential_len(lname);
	int acc[MAX_ACCESS], nacc = 0;
	if (r->kind <= RELO_FIELD_LAST) {
		nacc = parse_access(btf__name_by_offset(m->local, r->access_str_off), acc);
		if (nacc <= 0)
			return -EINVAL;
	}
	int cands = 0;
	for (__u32 id = 1; id < m->n; id++) {
		const struct btf_type *t = ktype(m, id);
		if (!same_kind(t, lt))
			continue;
		const char *kn = btf__name_by_offset(m->kern, t->name_off);
		if (!kn || essential_len(kn) != elen || strncmp(kn, lname, elen))
			continue;
		cands++;
		int err = 0;
		if (r->kind <= RELO_FIELD_LAST)
			err = field_relo(m, r->type_id, id, acc, nacc);
		else if (r->kind >= RELO_ENUMVAL_EXISTS && r->kind <= RELO_ENUMVAL_EXISTS + 1)
			mark_shallow(m, id);
		else
			err = mark_full(m, id);
		if (err)
			return err;
	}
	/* libbpf looks for it in the modules' BTF too, which a custom BTF
	 * turns off: such an object keeps the kernel's BTF */
	if (!cands)
		m->uncovered = 1;
	return 0;
}

/* Point a copied type's references at the new ids. */
static void remap(struct btf_type *t, const __u32 *nid)
{
	if (is_mod(t) || btf_is_ptr(t)) {
		t->type = nid[t->type];
	} else if (btf_is_array(t)) {
		btf_array(t)->type = nid[btf_array(t)->type];
		btf_array(t)->index_type = nid[btf_array(t)->index_type];
	} else if (btf_is_func_proto(t)) {
		struct btf_param *p = btf_params(t);
		t->type = nid[t->type];
		for (int i = 0; i < btf_vlen(t); i++)
			p[i].type = nid[p[i].type];
	}
}

struct btf *lt_minbtf_emit(struct minbtf *m, int *errp)
{
	__u32 *nid = calloc(m->n, sizeof(*nid)), next = 1;
	struct btf *out = btf__new_empty();
	int err = !nid || !out ? -ENOMEM : 0;
	for (__u32 id = 1; !err && id < m->n; id++)
		if (m->marked[id])
			nid[id] = next++;
	for (__u32 id = 1; !err && id < m->n; id++) {
		if (!m->marked[id])
			continue;
		const struct btf_type *t = ktype(m, id);
		const char *name = btf__name_by_offset(m->kern, t->name_off);
		if (btf_is_composite(t)) {
			int nt = btf_is_struct(t) ? btf__add_struct(out, name, t->size) :
						    btf__add_union(out, name, t->size);
			err = nt < 0 ? nt : 0;
			const struct btf_member *mem = btf_members(t);
			for (int i = 0; !err && i < btf_vlen(t); i++) {
				if (!m->members[id] || !m->members[id][i])
					continue;
				int e = btf__add_field(out, btf__name_by_offset(m->kern, mem[i].name_off),
						       nid[mem[i].type], btf_member_bit_offset(t, i),
						       btf_member_bitfield_size(t, i));
				err = e < 0 ? e : 0;
			}
		} else {
			int nt = btf__add_type(out, m->kern, t);
			if (nt < 0)
				err = nt;
			else
				remap((struct btf_type *)btf__type_by_id(out, nt), nid);
		}
	}
	free(nid);
	if (err) {
		btf__free(out);
		*errp = err;
		return NULL;
	}
	return out;
}
