/* btf_ffi.c: C declarations for LuaJIT's FFI, generated from a program's
 * own BTF, so no one declares an event or map struct by hand.
 *
 * core.btf_decl(obj, "struct event" | "event" | type_id) returns one
 * anonymous type ("struct { ... }") with every dependency inlined, and its
 * size. Anonymous types never clash in FFI's global namespace, so two
 * programs may each have their own `struct event`. Layout is reproduced
 * exactly: explicit padding where BTF offsets exceed natural placement,
 * `packed` where a member sits below its natural alignment; Lua checks the
 * size against BTF. Pointers become uint64_t: they are addresses in another
 * address space, to print or symbolize, not to follow. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "lt.h"

struct sbuf {
	char *s;
	size_t len, cap;
	int err;
	/* View mode: top-level char arrays and 64-bit integers are renamed
	 * "__lt_<name>" and listed here so Lua can present them as strings and
	 * numbers (types.lua). */
	int view;
	lua_State *L;
	int fields_idx, nfields;
};

#define VIEW_PREFIX "__lt_"

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		size_t room = b->cap - b->len;
		va_start(ap, fmt);
		int n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->err = EINVAL;
			return;
		}
		if ((size_t)n < room) {
			b->len += n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 1024;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *ns = realloc(b->s, cap);
		if (!ns) {
			b->err = ENOMEM;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
}

static const struct btf_type *skip_mods(const struct btf *btf, __u32 *id)
{
	const struct btf_type *t = btf__type_by_id(btf, *id);
	while (t && (btf_is_typedef(t) || btf_is_const(t) ||
		     btf_is_volatile(t) || btf_is_restrict(t) ||
		     btf_kind(t) == BTF_KIND_TYPE_TAG)) {
		*id = t->type;
		t = btf__type_by_id(btf, *id);
	}
	return t;
}

static void emit_decl(struct sbuf *b, const struct btf *btf, __u32 id,
		      const char *name, int depth);

static void emit_int(struct sbuf *b, const struct btf *btf,
		     const struct btf_type *t, const char *name)
{
	int enc = btf_int_encoding(t);
	const char *tn = btf__name_by_offset(btf, t->name_off);
	const char *ty;
	if (enc & BTF_INT_BOOL)
		ty = "bool";
	else if (t->size == 1 && (enc & BTF_INT_CHAR || !strcmp(tn, "char")))
		ty = "char";
	else if (t->size == 16)
		ty = "uint64_t";
	else {
		static const char *s[] = {"int8_t", "int16_t", "int32_t", "int64_t"};
		static const char *u[] = {"uint8_t", "uint16_t", "uint32_t",
					  "uint64_t"};
		int i = t->size == 1 ? 0 : t->size == 2 ? 1 : t->size == 4 ? 2 : 3;
		ty = enc & BTF_INT_SIGNED ? s[i] : u[i];
	}
	if (t->size == 16)
		sb_printf(b, "%s %s[2]", ty, name); /* __int128: two halves */
	else
		sb_printf(b, "%s %s", ty, name);
}

/* How a top-level member is presented in view mode: "string" for a char
 * array, "uint64"/"int64" for 64-bit integers and pointers, else NULL. */
static const char *view_kind(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = skip_mods(btf, &id);
	if (!t)
		return NULL;
	if (btf_is_array(t)) {
		__u32 eid = btf_array(t)->type;
		const struct btf_type *e = skip_mods(btf, &eid);
		return e && btf_is_int(e) && e->size == 1 ? "string" : NULL;
	}
	if (btf_is_ptr(t))
		return "uint64";
	if (btf_is_int(t) && t->size == 8)
		return btf_int_encoding(t) & BTF_INT_SIGNED ? "int64" : "uint64";
	if ((btf_is_enum(t) || btf_kind(t) == BTF_KIND_ENUM64) && t->size == 8)
		return btf_kflag(t) ? "int64" : "uint64";
	return NULL;
}

static void emit_composite(struct sbuf *b, const struct btf *btf,
			   const struct btf_type *t, const char *name, int depth)
{
	int is_union = btf_is_union(t);
	const struct btf_member *m = btf_members(t);
	int vlen = btf_vlen(t);
	int packed = 0, max_align = 1;
	/* Packed when a member sits below its natural alignment. */
	for (int i = 0; i < vlen; i++) {
		if (btf_member_bitfield_size(t, i))
			continue;
		int a = btf__align_of(btf, m[i].type);
		if (a <= 0)
			a = 1;
		if (a > max_align)
			max_align = a;
		if ((btf_member_bit_offset(t, i) / 8) % a)
			packed = 1;
	}
	if (t->size % max_align)
		packed = 1;
	sb_printf(b, "%s %s{ ", is_union ? "union" : "struct",
		  packed ? "__attribute__((packed)) " : "");
	__u32 cur_bits = 0; /* struct: end of what we emitted so far */
	int pad = 0;
	for (int i = 0; i < vlen; i++) {
		const char *mn = btf__name_by_offset(btf, m[i].name_off);
		__u32 off = btf_member_bit_offset(t, i);
		__u32 bits = btf_member_bitfield_size(t, i);
		if (!is_union) {
			if (bits) {
				if (off > cur_bits && off / 8 > (cur_bits + 7) / 8) {
					__u32 gap = off / 8 - (cur_bits + 7) / 8;
					sb_printf(b, "uint8_t __pad%d[%u]; ", pad++, gap);
					cur_bits = (off / 8) * 8;
				}
				if (off > cur_bits)
					sb_printf(b, "uint32_t : %u; ", off - cur_bits);
			} else {
				int a = packed ? 1 : btf__align_of(btf, m[i].type);
				if (a <= 0)
					a = 1;
				__u32 cur = (cur_bits + 7) / 8;
				__u32 natural = (cur + a - 1) / a * a;
				if (off / 8 > natural || (packed && off / 8 > cur))
					sb_printf(b, "uint8_t __pad%d[%u]; ", pad++,
						  off / 8 - cur);
			}
		}
		if (bits) {
			__u32 tid = m[i].type;
			const struct btf_type *mt = skip_mods(btf, &tid);
			int sgn = btf_is_int(mt) && (btf_int_encoding(mt) & BTF_INT_SIGNED);
			int sz = mt->size <= 4 ? 32 : 64;
			sb_printf(b, "%s%d_t %s : %u; ", sgn ? "int" : "uint", sz, mn,
				  bits);
			if (!is_union)
				cur_bits = off + bits;
		} else {
			const char *kind = b->view && depth == 0 && *mn ?
						   view_kind(btf, m[i].type) : NULL;
			if (kind) {
				char renamed[256];
				snprintf(renamed, sizeof(renamed), VIEW_PREFIX "%s", mn);
				emit_decl(b, btf, m[i].type, renamed, depth + 1);
				lua_createtable(b->L, 0, 3);
				lua_pushstring(b->L, mn);
				lua_setfield(b->L, -2, "name");
				lua_pushstring(b->L, kind);
				lua_setfield(b->L, -2, "kind");
				lua_pushinteger(b->L, btf__resolve_size(btf, m[i].type));
				lua_setfield(b->L, -2, "size");
				lua_rawseti(b->L, b->fields_idx, ++b->nfields);
			} else {
				emit_decl(b, btf, m[i].type, mn, depth + 1);
			}
			sb_printf(b, "; ");
			if (!is_union) {
				__s64 sz = btf__resolve_size(btf, m[i].type);
				cur_bits = off + (sz > 0 ? sz : 0) * 8;
			}
		}
	}
	/* Tail padding the natural layout does not give: packed structs, and
	 * structs padded out by an aligned member's attribute (the kernel's
	 * ____cacheline_aligned members of task_struct, mm_struct, ...). */
	__u32 end = is_union ? 0 : (cur_bits + 7) / 8;
	__u32 natural_end = (end + max_align - 1) / max_align * max_align;
	if (!is_union && t->size > (packed ? end : natural_end))
		sb_printf(b, "uint8_t __pad%d[%u]; ", pad++, t->size - end);
	sb_printf(b, "}%s%s", *name ? " " : "", name);
}

/* Emit "type name" for BTF type id, inlining structs and unions. */
static void emit_decl(struct sbuf *b, const struct btf *btf, __u32 id,
		      const char *name, int depth)
{
	if (depth > 32) {
		b->err = ELOOP;
		return;
	}
	const struct btf_type *t = skip_mods(btf, &id);
	if (!t || id == 0) {
		sb_printf(b, "void %s", name);
		return;
	}
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
		emit_int(b, btf, t, name);
		break;
	case BTF_KIND_PTR:
		sb_printf(b, "uint64_t %s", name);
		break;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64: {
		static const char *s[] = {"int8_t", "int16_t", "int32_t", "int64_t"};
		static const char *u[] = {"uint8_t", "uint16_t", "uint32_t",
					  "uint64_t"};
		int i = t->size == 1 ? 0 : t->size == 2 ? 1 : t->size == 4 ? 2 : 3;
		sb_printf(b, "%s %s", btf_kflag(t) ? s[i] : u[i], name);
		break;
	}
	case BTF_KIND_FLOAT:
		sb_printf(b, "%s %s", t->size == 4 ? "float" : t->size == 8 ?
						"double" : "long double", name);
		break;
	case BTF_KIND_ARRAY: {
		const struct btf_array *a = btf_array(t);
		char *n2;
		if (asprintf(&n2, "%s[%u]", name, a->nelems) < 0) {
			b->err = ENOMEM;
			return;
		}
		emit_decl(b, btf, a->type, n2, depth + 1);
		free(n2);
		break;
	}
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		emit_composite(b, btf, t, name, depth);
		break;
	case BTF_KIND_FWD:
		/* An incomplete type can only be pointed to; as a value it has
		 * no layout. */
		b->err = EINVAL;
		break;
	default:
		b->err = EINVAL;
	}
}

static __s32 find_type(const struct btf *btf, const char *what)
{
	static const struct {
		const char *prefix;
		int kind;
	} kinds[] = {{"struct ", BTF_KIND_STRUCT}, {"union ", BTF_KIND_UNION},
		     {"enum ", BTF_KIND_ENUM}};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++)
		if (!strncmp(what, kinds[i].prefix, strlen(kinds[i].prefix)))
			return btf__find_by_name_kind(btf, what + strlen(kinds[i].prefix),
						      kinds[i].kind);
	static const int order[] = {BTF_KIND_STRUCT, BTF_KIND_TYPEDEF,
				    BTF_KIND_UNION, BTF_KIND_INT, BTF_KIND_ENUM};
	for (size_t i = 0; i < sizeof(order) / sizeof(*order); i++) {
		__s32 id = btf__find_by_name_kind(btf, what, order[i]);
		if (id > 0)
			return id;
	}
	return -ENOENT;
}

/* core.btf_decl(obj, name_or_id[, view]) -> "struct { ... }", size, fields
 * fields lists the members renamed in view mode. */
static int l_btf_decl(lua_State *L)
{
	struct bpf_object *o = lt_check_obj(L, 1);
	struct btf *btf = bpf_object__btf(o);
	char what[160];
	if (lua_type(L, 2) == LUA_TNUMBER)
		snprintf(what, sizeof(what), "type id %d", (int)lua_tointeger(L, 2));
	else
		snprintf(what, sizeof(what), "%s", luaL_checkstring(L, 2));
	if (!btf)
		return lt_failf(L, "find BTF type %s: the object has no BTF "
				"(compile with -g)", what);
	__s32 id = lua_type(L, 2) == LUA_TNUMBER ? (__s32)lua_tointeger(L, 2) :
						   find_type(btf, what);
	if (id <= 0 || !btf__type_by_id(btf, id))
		return lt_failf(L, "find BTF type %s: not in the object's BTF (is "
				"it used by the program?)", what);
	struct sbuf b = {0};
	b.view = lua_toboolean(L, 3);
	b.L = L;
	lua_newtable(L);
	b.fields_idx = lua_gettop(L);
	emit_decl(&b, btf, id, "", 0);
	if (b.err) {
		free(b.s);
		return lt_fail(L, "generate FFI declaration for", what, b.err, NULL);
	}
	lua_pushlstring(L, b.s, b.len);
	free(b.s);
	lua_pushinteger(L, btf__resolve_size(btf, id));
	lua_pushvalue(L, b.fields_idx);
	return 3;
}

/* core.btf_layout(obj, name_or_id) -> {size=, members={{name=, bit_offset=,
 * bitfield_size=}, ...}}: what BTF says, for checking the FFI type. */
static int l_btf_layout(lua_State *L)
{
	struct bpf_object *o = lt_check_obj(L, 1);
	struct btf *btf = bpf_object__btf(o);
	__s32 id = -ENOENT;
	if (btf)
		id = lua_type(L, 2) == LUA_TNUMBER ? (__s32)lua_tointeger(L, 2) :
						     find_type(btf, luaL_checkstring(L, 2));
	if (id <= 0 || !btf__type_by_id(btf, id))
		return lt_failf(L, "find BTF type %s: not in the object's BTF",
				lua_tostring(L, 2));
	__u32 uid = id;
	const struct btf_type *t = skip_mods(btf, &uid);
	lua_createtable(L, 0, 2);
	lua_pushinteger(L, btf__resolve_size(btf, id));
	lua_setfield(L, -2, "size");
	lua_newtable(L);
	if (t && (btf_is_struct(t) || btf_is_union(t))) {
		const struct btf_member *m = btf_members(t);
		for (int i = 0; i < btf_vlen(t); i++) {
			lua_createtable(L, 0, 3);
			lua_pushstring(L, btf__name_by_offset(btf, m[i].name_off));
			lua_setfield(L, -2, "name");
			lua_pushinteger(L, btf_member_bit_offset(t, i));
			lua_setfield(L, -2, "bit_offset");
			lua_pushinteger(L, btf_member_bitfield_size(t, i));
			lua_setfield(L, -2, "bitfield_size");
			lua_rawseti(L, -2, i + 1);
		}
	}
	lua_setfield(L, -2, "members");
	return 1;
}

/* core.btf_exports(obj) -> {tag = type id}: the types an object exports
 * with LT_EXPORT_TYPE(type, tag) (bpf/lt_export.h), found by the anchor
 * variables __lt_export_<tag>, each a pointer to the exported type. AOT
 * objects name their ring/perf buffer record types this way. */
static int l_btf_exports(lua_State *L)
{
	static const char prefix[] = "__lt_export_";
	struct btf *btf = bpf_object__btf(lt_check_obj(L, 1));
	lua_newtable(L);
	if (!btf)
		return 1;
	__u32 n = btf__type_cnt(btf);
	for (__u32 id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (!btf_is_var(t))
			continue;
		const char *name = btf__name_by_offset(btf, t->name_off);
		if (!name || strncmp(name, prefix, sizeof(prefix) - 1))
			continue;
		__u32 ptr = t->type;
		const struct btf_type *pt = skip_mods(btf, &ptr);
		if (!pt || !btf_is_ptr(pt))
			continue;
		lua_pushinteger(L, pt->type);
		lua_setfield(L, -2, name + sizeof(prefix) - 1);
	}
	return 1;
}

void lt_open_btf(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{"btf_exports", l_btf_exports},
		{"btf_decl", l_btf_decl},
		{"btf_layout", l_btf_layout},
		{NULL, NULL},
	};
	lt_setfuncs(L, fns);
}
