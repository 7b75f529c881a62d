/* obj.c: BPF objects: open (file or memory), set globals, load, inspect.
 *
 * The object userdata owns the bpf_object. Links and maps keep it alive
 * through their environment tables; close() is idempotent and __gc is the
 * backstop. A failed load carries the verifier's reason and a hint. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "lt.h"
#include "kfeatures.h"
#include "obj.h"


static struct lt_obj *obj_check(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, LT_OBJ_MT);
}

struct bpf_object *lt_check_obj(lua_State *L, int idx)
{
	struct lt_obj *ob = obj_check(L, idx);
	if (!ob->o)
		lt_failf(L, "use of BPF object %s: it is closed", ob->name);
	return ob->o;
}

struct bpf_program *lt_check_prog(lua_State *L, int obj_idx, int name_idx)
{
	struct bpf_object *o = lt_check_obj(L, obj_idx);
	const char *name = luaL_checkstring(L, name_idx);
	struct bpf_program *p = bpf_object__find_program_by_name(o, name);
	if (!p) {
		struct lt_obj *ob = obj_check(L, obj_idx);
		lt_failf(L, "find program %s in %s: no such program", name,
			 ob->name);
	}
	return p;
}

static struct lt_obj *obj_push(lua_State *L, struct bpf_object *o,
			       const char *name)
{
	struct lt_obj *ob = lua_newuserdata(L, sizeof(*ob));
	memset(ob, 0, sizeof(*ob));
	ob->o = o;
	snprintf(ob->name, sizeof(ob->name), "%s", name);
	luaL_getmetatable(L, LT_OBJ_MT);
	lua_setmetatable(L, -2);
	return ob;
}

static int open_error(lua_State *L, const char *what, int err)
{
	const char *hint = NULL;
	if (err == ENOENT)
		hint = "check the path";
	else if (err == EINVAL || err == ENOEXEC || err == EPROTO ||
		 (err >= __LIBBPF_ERRNO__START && err < __LIBBPF_ERRNO__END))
		hint = "not a BPF ELF object; build it with clang -target bpf";
	return lt_fail(L, "open BPF object", what, err, hint);
}

/* The open options both openers take as their last argument: a table
 * {btf = PATH}, the kernel types CO-RE relocations resolve against (a
 * minimized BTF, btf_min.c) instead of the whole kernel BTF. */
static const char *opt_btf(lua_State *L, int idx)
{
	if (lua_isnoneornil(L, idx))
		return NULL;
	luaL_checktype(L, idx, LUA_TTABLE);
	lua_getfield(L, idx, "btf");
	const char *btf = lua_tostring(L, -1); /* the table keeps it alive */
	lua_pop(L, 1);
	return btf;
}

/* core.open_file(path [, {btf=}]) -> obj */
static int l_open_file(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = opt_btf(L, 2));
	lt_log_reset();
	struct bpf_object *o = bpf_object__open_file(path, &opts);
	int err = libbpf_get_error(o);
	if (err)
		return open_error(L, path, -err);
	obj_push(L, o, path);
	return 1;
}

/* core.open_mem(bytes, name [, {btf=}]) -> obj */
static int l_open_mem(lua_State *L)
{
	size_t n;
	const char *buf = luaL_checklstring(L, 1, &n);
	const char *name = luaL_optstring(L, 2, "memory");
	char oname[64];
	/* libbpf derives map names from the object name: keep it short. */
	snprintf(oname, sizeof(oname), "%s", name);
	for (char *c = oname; *c; c++)
		if (*c == '.' || *c == '/' || *c == '-')
			*c = '_';
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = oname,
		    .btf_custom_path = opt_btf(L, 3));
	lt_log_reset();
	struct bpf_object *o = bpf_object__open_mem(buf, n, &opts);
	int err = libbpf_get_error(o);
	if (err)
		return open_error(L, name, -err);
	obj_push(L, o, name);
	return 1;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Find global variable `name` in the object's data sections: its map,
 * offset and size. */
static int find_global(struct bpf_object *o, const char *name,
		       struct bpf_map **mapp, __u32 *off, __u32 *size)
{
	struct btf *btf = bpf_object__btf(o);
	if (!btf)
		return -ENOENT;
	int n = btf__type_cnt(btf);
	for (int id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (!btf_is_datasec(t))
			continue;
		const char *sec = btf__name_by_offset(btf, t->name_off);
		const struct btf_var_secinfo *vs = btf_var_secinfos(t);
		for (int i = 0; i < btf_vlen(t); i++, vs++) {
			const struct btf_type *v = btf__type_by_id(btf, vs->type);
			if (strcmp(btf__name_by_offset(btf, v->name_off), name))
				continue;
			struct bpf_map *m;
			bpf_object__for_each_map(m, o) {
				if (bpf_map__is_internal(m) &&
				    ends_with(bpf_map__name(m), sec)) {
					*mapp = m;
					*off = vs->offset;
					*size = vs->size;
					return 0;
				}
			}
		}
	}
	return -ENOENT;
}

/* obj:set_global(name, value): before load, set a global (const volatile
 * rodata, data or bss). value is a number (stored as an integer of the
 * variable's size), a boolean, or a string of exactly its size. */
static int l_set_global(lua_State *L)
{
	struct lt_obj *ob = obj_check(L, 1);
	struct bpf_object *o = lt_check_obj(L, 1);
	const char *name = luaL_checkstring(L, 2);
	struct bpf_map *m;
	__u32 off, size;
	if (ob->loaded)
		return lt_failf(L, "set global %s of %s: the object is already "
				"loaded (set globals before load)", name, ob->name);
	if (find_global(o, name, &m, &off, &size))
		return lt_failf(L, "set global %s of %s: no such global variable",
				name, ob->name);
	size_t mapsz;
	char *data = (char *)bpf_map__initial_value(m, &mapsz);
	if (!data || off + size > mapsz)
		return lt_failf(L, "set global %s of %s: no initial data", name,
				ob->name);
	switch (lua_type(L, 3)) {
	case LUA_TNUMBER:
	case LUA_TBOOLEAN: {
		long long v = lua_type(L, 3) == LUA_TBOOLEAN ?
				      lua_toboolean(L, 3) :
				      (long long)lua_tonumber(L, 3);
		if (size != 1 && size != 2 && size != 4 && size != 8)
			return lt_failf(L, "set global %s of %s: a number does "
					"not fit its %u bytes", name, ob->name, size);
		/* a pid of 2^32+5 must not become 5: refuse what does not fit
		 * (signed or unsigned) in the variable's size */
		lua_Number n = lua_tonumber(L, 3);
		if (lua_type(L, 3) == LUA_TNUMBER &&
		    (n != (lua_Number)v || (size < 8 && (v < -(1LL << (8 * size - 1)) ||
							 v >= 1LL << (8 * size)))))
			return lt_failf(L, "set global %s of %s: %.17g does not fit "
					"its %u bytes", name, ob->name, (double)n, size);
		/* Little-endian host: the low bytes are the value. */
		memcpy(data + off, &v, size);
		break;
	}
	case LUA_TSTRING: {
		size_t n;
		const char *s = lua_tolstring(L, 3, &n);
		if (n > size)
			return lt_failf(L, "set global %s of %s: %zu bytes given, "
					"the variable has %u", name, ob->name, n, size);
		memset(data + off, 0, size);
		memcpy(data + off, s, n);
		break;
	}
	default:
		return luaL_argerror(L, 3, "number, boolean or string expected");
	}
	return 0;
}

static int l_load(lua_State *L)
{
	struct lt_obj *ob = obj_check(L, 1);
	struct bpf_object *o = lt_check_obj(L, 1);
	if (ob->loaded)
		return 0;
	if (!lt_has_bpf_caps())
		return lt_failf(L, "load BPF object %s: permission denied (luatrace "
				"needs root, or CAP_BPF with CAP_PERFMON)", ob->name);
	lt_log_reset();
	int err = bpf_object__load(o);
	if (!err) {
		ob->loaded = 1;
		return 0;
	}
	return lt_obj_load_fail(L, o, ob->name, -err);
}

static int l_programs(lua_State *L)
{
	struct bpf_object *o = lt_check_obj(L, 1);
	struct bpf_program *p;
	int i = 0;
	lua_newtable(L);
	bpf_object__for_each_program(p, o) {
		lua_createtable(L, 0, 3);
		lua_pushstring(L, bpf_program__name(p));
		lua_setfield(L, -2, "name");
		lua_pushstring(L, bpf_program__section_name(p));
		lua_setfield(L, -2, "section");
		lua_pushstring(L, libbpf_bpf_prog_type_str(bpf_program__type(p)));
		lua_setfield(L, -2, "type");
		lua_rawseti(L, -2, ++i);
	}
	return 1;
}

/* obj:set_autoload(prog, bool): programs left out of the load;
 * obj:set_autoload(set) -> how many of set's names are programs: only
 * those load (one pass: by name, each lookup walks all programs). */
static int l_set_autoload(lua_State *L)
{
	if (lua_istable(L, 2)) {
		struct bpf_program *p;
		int found = 0;
		bpf_object__for_each_program(p, lt_check_obj(L, 1)) {
			lua_getfield(L, 2, bpf_program__name(p));
			int on = lua_toboolean(L, -1);
			lua_pop(L, 1);
			found += on;
			int err = bpf_program__set_autoload(p, on);
			if (err)
				return lt_fail(L, "set autoload of", bpf_program__name(p), err, NULL);
		}
		lua_pushinteger(L, found);
		return 1;
	}
	struct bpf_program *p = lt_check_prog(L, 1, 2);
	int err = bpf_program__set_autoload(p, lua_toboolean(L, 3));
	if (err)
		return lt_fail(L, "set autoload of", bpf_program__name(p), err, NULL);
	return 0;
}

/* obj:set_attach_target(prog, func): before load, the kernel function an
 * fentry/fexit program (SEC("fentry") without a target) attaches to,
 * chosen at run time. */
static int l_set_attach_target(lua_State *L)
{
	struct lt_obj *ob = obj_check(L, 1);
	struct bpf_program *p = lt_check_prog(L, 1, 2);
	const char *func = luaL_checkstring(L, 3);
	if (ob->loaded)
		return lt_failf(L, "set attach target of %s to %s: the object is "
				"already loaded (set it before load)",
				bpf_program__name(p), func);
	lt_log_reset();
	int err = bpf_program__set_attach_target(p, 0, func);
	if (err == -ESRCH)
		return lt_failf(L, "set attach target of %s to %s: the kernel's BTF "
				"has no function %s (fentry/fexit need one)",
				bpf_program__name(p), func, func);
	if (err) {
		char what[256];
		snprintf(what, sizeof(what), "%s to %s", bpf_program__name(p), func);
		return lt_fail(L, "set attach target of", what, -err, NULL);
	}
	return 0;
}

static int l_close(lua_State *L)
{
	struct lt_obj *ob = obj_check(L, 1);
	if (ob->o) {
		bpf_object__close(ob->o);
		ob->o = NULL;
	}
	return 0;
}

static int l_name(lua_State *L)
{
	lua_pushstring(L, obj_check(L, 1)->name);
	return 1;
}

static int l_tostring(lua_State *L)
{
	struct lt_obj *ob = obj_check(L, 1);
	lua_pushfstring(L, "BPF object %s%s", ob->name,
			ob->o ? (ob->loaded ? " (loaded)" : "") : " (closed)");
	return 1;
}

void lt_open_obj(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"set_global", l_set_global},
		{"set_autoload", l_set_autoload},
		{"set_attach_target", l_set_attach_target},
		{"set_max_entries", lt_obj_set_max_entries},
		{"set_value_size", lt_obj_set_value_size},
		{"set_map_flags", lt_obj_set_map_flags},
		{"load", l_load},
		{"programs", l_programs},
		{"run", lt_obj_run},
		{"name", l_name},
		{"close", l_close},
		{"__gc", l_close},
		{"__tostring", l_tostring},
		{NULL, NULL},
	};
	static const luaL_Reg fns[] = {
		{"open_file", l_open_file},
		{"open_mem", l_open_mem},
		{NULL, NULL},
	};
	lt_new_metatable(L, LT_OBJ_MT, methods);
	lt_setfuncs(L, fns);
}
