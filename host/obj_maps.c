/* obj_maps.c: a BPF object's maps changed between open and load: their
 * sizes (max_entries, value_size) and creation flags, for BPF{max_entries=,
 * value_size=, map_flags=}. */
#include <bpf/libbpf.h>
#include "lt.h"
#include "obj.h"

/* The map `name` of an object not yet loaded, for a setter that only
 * works between open and load; an unknown name lists the maps. */
static struct bpf_map *map_to_size(lua_State *L, const char *what)
{
	struct lt_obj *ob = luaL_checkudata(L, 1, LT_OBJ_MT);
	struct bpf_object *o = lt_check_obj(L, 1);
	const char *name = luaL_checkstring(L, 2);
	if (ob->loaded)
		lt_failf(L, "set %s of map %s in %s: the object is already loaded "
			 "(set it before load)", what, name, ob->name);
	struct bpf_map *m = bpf_object__find_map_by_name(o, name);
	if (m && !bpf_map__is_internal(m))
		return m;
	luaL_Buffer b;
	int first = 1;
	luaL_buffinit(L, &b);
	bpf_object__for_each_map(m, o) {
		if (bpf_map__is_internal(m))
			continue;
		luaL_addstring(&b, first ? "" : ", ");
		luaL_addstring(&b, bpf_map__name(m));
		first = 0;
	}
	luaL_pushresult(&b);
	lt_failf(L, "set %s of map %s in %s: no such map (maps: %s)", what, name,
		 ob->name, lua_tostring(L, -1));
	return NULL;
}

/* obj:set_max_entries(map, n), obj:set_value_size(map, bytes): before
 * load, resize a map (BCC/libbpf-tools' --stack-storage-size and
 * --perf-max-stack-depth). */
static int set_map_size(lua_State *L, const char *what,
			int (*set)(struct bpf_map *, __u32))
{
	struct bpf_map *m = map_to_size(L, what);
	lua_Number n = luaL_checknumber(L, 3);
	if (n < 1 || n > 0xffffffffu || n != (lua_Number)(__u32)n)
		return lt_failf(L, "set %s of map %s: %.17g is not a positive "
				"32-bit integer", what, bpf_map__name(m), (double)n);
	int err = set(m, (__u32)n);
	if (err)
		return lt_fail(L, "set the size of map", bpf_map__name(m), -err, what);
	return 0;
}

int lt_obj_set_max_entries(lua_State *L)
{
	return set_map_size(L, "max_entries", bpf_map__set_max_entries);
}

int lt_obj_set_value_size(lua_State *L)
{
	return set_map_size(L, "value_size", bpf_map__set_value_size);
}

/* obj:set_map_flags(map, flags): before load, a map's BPF_F_* creation
 * flags (memleak: its hashes preallocated in kernel mode, where
 * allocating entries on the fly would trace the allocator's own refill). */
int lt_obj_set_map_flags(lua_State *L)
{
	struct bpf_map *m = map_to_size(L, "map_flags");
	lua_Number n = luaL_checknumber(L, 3);
	if (n < 0 || n > 0xffffffffu || n != (lua_Number)(__u32)n)
		return lt_failf(L, "set map_flags of map %s: %.17g is not a 32-bit "
				"flags word", bpf_map__name(m), (double)n);
	int err = bpf_map__set_map_flags(m, (__u32)n);
	if (err)
		return lt_fail(L, "set the flags of map", bpf_map__name(m), -err, NULL);
	return 0;
}
