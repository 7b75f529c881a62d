/* btf_min.c: a minimized kernel BTF for one BPF object: just the kernel
 * types its CO-RE relocations resolve against (what `bpftool gen
 * min_core_btf` makes), built with libbpf's public BTF API.
 *
 * Why: an object with CO-RE relocations makes libbpf parse the whole
 * kernel BTF at load (~20 ms, ~30 MB here). Given this small BTF as
 * btf_custom_path, libbpf resolves the same relocations against it in
 * well under a millisecond. Lua caches the result per kernel and object
 * (luatrace.bpf.minbtf), so the kernel BTF is parsed once, on a miss.
 *
 * What is kept, per relocation (the record in .BTF.ext names the local
 * root type, an access string "0:2:1" and a kind):
 *  - field relocations: every kernel type of the same kind and essential
 *    name (libbpf's candidates), and along the access path the members
 *    named (found by name, through anonymous structs and unions as libbpf
 *    does) and the types they lead to; a struct or union reached keeps
 *    its name and size but only the members some relocation used, and a
 *    pointer whose target nothing used points to void;
 *  - type relocations (exists, size, matches, target id): the candidates
 *    with all their members;
 *  - enum value relocations: the candidate enums whole.
 * Type ids of the result are not the kernel's, so a program must not pass
 * bpf_core_type_id_kernel() results to the kernel (none of ours do). */
#define _GNU_SOURCE
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "lt.h"

/* .BTF.ext layout (kernel ABI, include/uapi/linux/btf.h's neighbours in
 * libbpf: struct btf_ext_header and struct bpf_core_relo). */
struct ext_header {
	__u16 magic;
	__u8 version, flags;
	__u32 hdr_len;
	__u32 func_info_off, func_info_len, line_info_off, line_info_len;
	__u32 core_relo_off, core_relo_len;
};

struct core_relo {
	__u32 insn_off, type_id, access_str_off, kind;
};

enum {
	RELO_FIELD_LAST = 5,	   /* byte offset .. rshift: field relocations */
	RELO_TYPE_ID_LOCAL = 6,	   /* needs nothing from the kernel */
	RELO_ENUMVAL_EXISTS = 10,  /* and 11, ENUMVAL_VALUE */
};

#define MAX_ACCESS 64

struct minbtf {
	const struct btf *local, *kern;
	__u32 n;	  /* kernel type count */
	__u8 *marked;	  /* kernel type id -> kept */
	__u8 **members;	  /* kernel struct id -> kept member flags */
};

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

static int relo(struct minbtf *m, const struct core_relo *r)
{
	if (r->kind == RELO_TYPE_ID_LOCAL)
		return 0;
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
	for (__u32 id = 1; id < m->n; id++) {
		const struct btf_type *t = ktype(m, id);
		if (!same_kind(t, lt))
			continue;
		const char *kn = btf__name_by_offset(m->kern, t->name_off);
		if (!kn || essential_len(kn) != elen || strncmp(kn, lname, elen))
			continue;
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

static struct btf *emit(struct minbtf *m, int *errp)
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

/* The .BTF and .BTF.ext sections of an ELF object in memory. */
static int elf_sections(const char *buf, size_t n, Elf_Data **btf, Elf_Data **ext)
{
	*btf = *ext = NULL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	Elf *e = elf_memory((char *)buf, n);
	size_t shstrndx;
	if (!e)
		return -ENOEXEC;
	if (elf_getshdrstrndx(e, &shstrndx)) {
		elf_end(e);
		return -ENOEXEC;
	}
	for (Elf_Scn *s = elf_nextscn(e, NULL); s; s = elf_nextscn(e, s)) {
		GElf_Shdr sh;
		if (!gelf_getshdr(s, &sh))
			continue;
		const char *name = elf_strptr(e, shstrndx, sh.sh_name);
		if (name && !strcmp(name, ".BTF"))
			*btf = elf_getdata(s, NULL);
		else if (name && !strcmp(name, ".BTF.ext"))
			*ext = elf_getdata(s, NULL);
	}
	/* the data point into buf, which outlives the Elf handle */
	elf_end(e);
	return 0;
}

/* core.btf_min(object_bytes [, kernel_btf_path]) -> raw BTF bytes, or
 * false when the object has no CO-RE relocations (it needs no kernel
 * BTF at all). */
static int l_btf_min(lua_State *L)
{
	size_t n;
	const char *buf = luaL_checklstring(L, 1, &n);
	const char *kpath = luaL_optstring(L, 2, NULL);
	Elf_Data *bd, *xd;
	int err = elf_sections(buf, n, &bd, &xd);
	if (err)
		return lt_fail(L, "minimize BTF for", "BPF object", -err, "not an ELF object");
	const struct ext_header *h = xd ? xd->d_buf : NULL;
	if (!bd || !h || xd->d_size < sizeof(*h) || h->hdr_len < sizeof(*h) ||
	    !h->core_relo_len) {
		lua_pushboolean(L, 0);
		return 1;
	}
	const char *relos = (const char *)h + h->hdr_len + h->core_relo_off;
	const char *end = relos + h->core_relo_len;
	if (end > (const char *)h + xd->d_size || h->core_relo_len < 4)
		return lt_failf(L, "minimize BTF: the object's .BTF.ext is truncated");
	struct btf *local = btf__new(bd->d_buf, bd->d_size);
	struct btf *kern = kpath ? btf__parse(kpath, NULL) : btf__load_vmlinux_btf();
	if (libbpf_get_error(local) || libbpf_get_error(kern)) {
		err = libbpf_get_error(local) ? (int)libbpf_get_error(local) : (int)libbpf_get_error(kern);
		if (!libbpf_get_error(local))
			btf__free(local);
		if (!libbpf_get_error(kern))
			btf__free(kern);
		return lt_fail(L, "minimize BTF: read", libbpf_get_error(local) ? "the object's BTF" :
			       (kpath ? kpath : "the kernel's BTF"), -err, NULL);
	}
	struct minbtf m = {.local = local, .kern = kern, .n = btf__type_cnt(kern)};
	m.marked = calloc(m.n, 1);
	m.members = calloc(m.n, sizeof(*m.members));
	err = !m.marked || !m.members ? -ENOMEM : 0;
	__u32 rec = *(const __u32 *)relos;
	const char *p = relos + 4;
	while (!err && rec >= sizeof(struct core_relo) && p + 8 <= end) {
		__u32 cnt = ((const __u32 *)p)[1];
		p += 8;
		for (__u32 i = 0; !err && i < cnt && p + rec <= end; i++, p += rec)
			err = relo(&m, (const struct core_relo *)p);
	}
	struct btf *out = err ? NULL : emit(&m, &err);
	for (__u32 i = 0; m.members && i < m.n; i++)
		free(m.members[i]);
	free(m.members);
	free(m.marked);
	btf__free(local);
	btf__free(kern);
	if (!out)
		return lt_fail(L, "minimize BTF for", "BPF object", -err, NULL);
	__u32 size;
	const void *raw = btf__raw_data(out, &size);
	if (raw)
		lua_pushlstring(L, raw, size);
	btf__free(out);
	if (!raw)
		return lt_fail(L, "minimize BTF for", "BPF object", ENOMEM, NULL);
	return 1;
}

void lt_open_btf_min(lua_State *L)
{
	lua_pushcfunction(L, l_btf_min);
	lua_setfield(L, -2, "btf_min");
}
