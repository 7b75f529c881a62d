/* map.h: the BPF map userdata (map.c) and its whole-map operations
 * (map_batch.c). */
#ifndef LT_MAP_H
#define LT_MAP_H
#include <stdbool.h>
#include <bpf/bpf.h>
#include "lt.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* the kernel's internal "not supported" */
#endif

struct lt_map {
	int fd;
	enum bpf_map_type type;
	unsigned key_size, value_size, vbytes, max_entries;
	unsigned key_type_id, value_type_id;
	char name[64];
};

/* the map userdata at idx; raises when its object is closed */
struct lt_map *lt_map_check(lua_State *L, int idx);
bool lt_map_is_percpu(enum bpf_map_type t);
bool lt_map_is_array(enum bpf_map_type t);

/* map:update_batch(keys, values, count[, flags]) */
int lt_map_update_batch(lua_State *L);
/* map:read_all([{iterate=true}]), map:take_all(...) */
int lt_map_read_all(lua_State *L);
int lt_map_take_all(lua_State *L);
#endif
