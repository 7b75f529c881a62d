/* map.c: BPF maps: lookup, update, delete, next key, info, and an
 * object's maps (obj:map, obj:maps, obj:reuse_maps). Whole-map reads and
 * batch updates are in map_batch.c.
 *
 * Keys and values cross into Lua as byte strings; Lua types them with FFI
 * ctypes generated from the object's BTF. A batch returns all keys in one
 * string and all values in another, so reading a 100k map is one C call. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lt.h"
#include "map.h"


struct lt_map *lt_map_check(lua_State *L, int idx)
{
	struct lt_map *m = luaL_checkudata(L, idx, LT_MAP_MT);
	/* The owning object is in the environment: a closed object closed
	 * our fd too. */
	lua_getfenv(L, idx);
	lua_rawgeti(L, -1, 1);
	lt_check_obj(L, -1);
	lua_pop(L, 2);
	return m;
}

bool lt_map_is_percpu(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       t == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

bool lt_map_is_array(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_ARRAY || t == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       t == BPF_MAP_TYPE_PERF_EVENT_ARRAY;
}

/* obj:map(name) -> map */
static int l_obj_map(lua_State *L)
{
	struct bpf_object *o = lt_check_obj(L, 1);
	const char *name = luaL_checkstring(L, 2);
	struct bpf_map *bm = bpf_object__find_map_by_name(o, name);
	if (!bm)
		return lt_failf(L, "find map %s: no such map in the object", name);
	int fd = bpf_map__fd(bm);
	if (fd < 0)
		return lt_failf(L, "use map %s: the object is not loaded yet", name);
	struct lt_map *m = lua_newuserdata(L, sizeof(*m));
	memset(m, 0, sizeof(*m));
	m->fd = fd;
	m->type = bpf_map__type(bm);
	m->key_size = bpf_map__key_size(bm);
	m->value_size = bpf_map__value_size(bm);
	m->max_entries = bpf_map__max_entries(bm);
	m->key_type_id = bpf_map__btf_key_type_id(bm);
	m->value_type_id = bpf_map__btf_value_type_id(bm);
	m->vbytes = m->value_size;
	if (lt_map_is_percpu(m->type))
		m->vbytes = lt_percpu_stride(m->value_size) * libbpf_num_possible_cpus();
	snprintf(m->name, sizeof(m->name), "%s", name);
	luaL_getmetatable(L, LT_MAP_MT);
	lua_setmetatable(L, -2);
	lt_keep_alive(L, 1);
	return 1;
}

/* obj:maps() -> { {name=, type=}, ... } */
static int l_obj_maps(lua_State *L)
{
	struct bpf_object *o = lt_check_obj(L, 1);
	struct bpf_map *m;
	int i = 0;
	lua_newtable(L);
	bpf_object__for_each_map(m, o) {
		lua_createtable(L, 0, 3);
		lua_pushstring(L, bpf_map__name(m));
		lua_setfield(L, -2, "name");
		lua_pushstring(L, libbpf_bpf_map_type_str(bpf_map__type(m)));
		lua_setfield(L, -2, "type");
		lua_pushboolean(L, bpf_map__is_internal(m));
		lua_setfield(L, -2, "internal");
		lua_rawseti(L, -2, ++i);
	}
	return 1;
}

static const char *check_bytes(lua_State *L, int idx, unsigned size,
			       const char *what, struct lt_map *m)
{
	size_t n;
	const char *s = luaL_checklstring(L, idx, &n);
	if (n != size)
		lt_failf(L, "%s of map %s: %zu bytes given, it has %u", what,
			 m->name, n, size);
	return s;
}

static int l_lookup(lua_State *L)
{
	struct lt_map *m = lt_map_check(L, 1);
	const char *k = check_bytes(L, 2, m->key_size, "key", m);
	char stackbuf[256], *v = m->vbytes <= sizeof(stackbuf) ?
					 stackbuf : malloc(m->vbytes);
	if (!v)
		return lt_fail(L, "lookup in map", m->name, ENOMEM, NULL);
	int err = bpf_map_lookup_elem(m->fd, k, v);
	if (err) {
		err = errno;
		if (v != stackbuf)
			free(v);
		if (err == ENOENT) {
			lua_pushnil(L);
			return 1;
		}
		return lt_fail(L, "lookup in map", m->name, err, NULL);
	}
	lua_pushlstring(L, v, m->vbytes);
	if (v != stackbuf)
		free(v);
	return 1;
}

static int l_update(lua_State *L)
{
	struct lt_map *m = lt_map_check(L, 1);
	const char *k = check_bytes(L, 2, m->key_size, "key", m);
	const char *v = check_bytes(L, 3, m->vbytes, "value", m);
	__u64 flags = (__u64)luaL_optnumber(L, 4, BPF_ANY);
	if (bpf_map_update_elem(m->fd, k, v, flags))
		return lt_fail(L, "update map", m->name, errno,
			       errno == E2BIG ? "the map is full" : NULL);
	return 0;
}

/* map:delete(key) -> true, or false when the key was not there. */
static int l_delete(lua_State *L)
{
	struct lt_map *m = lt_map_check(L, 1);
	const char *k = check_bytes(L, 2, m->key_size, "key", m);
	if (bpf_map_delete_elem(m->fd, k)) {
		if (errno == ENOENT) {
			lua_pushboolean(L, 0);
			return 1;
		}
		return lt_fail(L, "delete from map", m->name, errno,
			       lt_map_is_array(m->type) ? "array entries cannot be "
						   "deleted; set them to zero" : NULL);
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* map:next_key([key]) -> the key after key (the first without), or nil. */
static int l_next_key(lua_State *L)
{
	struct lt_map *m = lt_map_check(L, 1);
	const char *k = lua_isnoneornil(L, 2) ?
				NULL : check_bytes(L, 2, m->key_size, "key", m);
	char stackbuf[256], *nk = m->key_size <= sizeof(stackbuf) ?
					  stackbuf : malloc(m->key_size);
	if (!nk)
		return lt_fail(L, "iterate map", m->name, ENOMEM, NULL);
	if (bpf_map_get_next_key(m->fd, k, nk)) {
		int err = errno;
		if (nk != stackbuf)
			free(nk);
		if (err == ENOENT) {
			lua_pushnil(L);
			return 1;
		}
		return lt_fail(L, "iterate map", m->name, err, NULL);
	}
	lua_pushlstring(L, nk, m->key_size);
	if (nk != stackbuf)
		free(nk);
	return 1;
}

static int l_info(lua_State *L)
{
	struct lt_map *m = lt_map_check(L, 1);
	lua_createtable(L, 0, 10);
	lua_pushstring(L, m->name);
	lua_setfield(L, -2, "name");
	lua_pushstring(L, libbpf_bpf_map_type_str(m->type));
	lua_setfield(L, -2, "type");
	lua_pushinteger(L, m->key_size);
	lua_setfield(L, -2, "key_size");
	lua_pushinteger(L, m->value_size);
	lua_setfield(L, -2, "value_size");
	lua_pushinteger(L, m->vbytes);
	lua_setfield(L, -2, "value_bytes");
	lua_pushinteger(L, m->max_entries);
	lua_setfield(L, -2, "max_entries");
	lua_pushinteger(L, m->key_type_id);
	lua_setfield(L, -2, "key_type_id");
	lua_pushinteger(L, m->value_type_id);
	lua_setfield(L, -2, "value_type_id");
	lua_pushboolean(L, lt_map_is_percpu(m->type));
	lua_setfield(L, -2, "percpu");
	lua_pushinteger(L, m->fd);
	lua_setfield(L, -2, "fd");
	return 1;
}

/* The fd of the map userdata at idx, and its name and type for messages. */
int lt_map_get(lua_State *L, int idx, const char **name, int *type)
{
	struct lt_map *m = lt_map_check(L, idx);
	if (name)
		*name = m->name;
	if (type)
		*type = m->type;
	return m->fd;
}

static int l_tostring(lua_State *L)
{
	struct lt_map *m = luaL_checkudata(L, 1, LT_MAP_MT);
	lua_pushfstring(L, "BPF map %s", m->name);
	return 1;
}

/* obj:reuse_maps(from): before load, make every map of obj that `from`
 * (a loaded object of the same file) also has use from's map, so a second
 * instance of an object shares its maps (and globals) with the first. */
static int l_obj_reuse_maps(lua_State *L)
{
	struct bpf_object *o = lt_check_obj(L, 1);
	struct bpf_object *from = lt_check_obj(L, 2);
	struct bpf_map *m;
	bpf_object__for_each_map(m, o) {
		/* internal maps (.rodata, .bss) are named "<object>.<section>"
		 * and the two instances' object names may differ: match those
		 * by section */
		struct bpf_map *f = NULL, *c;
		const char *name = bpf_map__name(m);
		if (bpf_map__is_internal(m) && strchr(name, '.'))
			name = strchr(name, '.');
		bpf_object__for_each_map(c, from) {
			const char *cn = bpf_map__name(c);
			if (bpf_map__is_internal(c) && strchr(cn, '.'))
				cn = strchr(cn, '.');
			if (bpf_map__is_internal(c) == bpf_map__is_internal(m) &&
			    !strcmp(cn, name))
				f = c;
		}
		if (!f || bpf_map__fd(f) < 0)
			continue;
		int err = bpf_map__reuse_fd(m, bpf_map__fd(f));
		if (err)
			return lt_fail(L, "share map", bpf_map__name(m), err, NULL);
	}
	return 0;
}

void lt_open_map(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"lookup", l_lookup},
		{"update", l_update},
		{"update_batch", lt_map_update_batch},
		{"delete", l_delete},
		{"next_key", l_next_key},
		{"read_all", lt_map_read_all},
		{"take_all", lt_map_take_all},
		{"info", l_info},
		{"__tostring", l_tostring},
		{NULL, NULL},
	};
	static const luaL_Reg obj_methods[] = {
		{"map", l_obj_map},
		{"maps", l_obj_maps},
		{"reuse_maps", l_obj_reuse_maps},
		{NULL, NULL},
	};
	lt_new_metatable(L, LT_MAP_MT, methods);
	luaL_getmetatable(L, LT_OBJ_MT);
	lt_setfuncs(L, obj_methods);
	lua_pop(L, 1);
}
