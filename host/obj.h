/* obj.h: the BPF object userdata (obj.c), its load-error report
 * (obj_load.c), its program run (prog_run.c) and map setters (obj_maps.c). */
#ifndef LT_OBJ_H
#define LT_OBJ_H
#include <bpf/libbpf.h>
#include "lt.h"

struct lt_obj {
	struct bpf_object *o;
	int loaded;
	char name[128];
};

/* Raise the one-line error for a failed bpf_object__load (err positive):
 * program, verifier reason, the user's file:line, hint. */
int lt_obj_load_fail(lua_State *L, struct bpf_object *o, const char *objname,
		     int err);
/* obj:run(prog): run a loaded program once (prog_run.c) */
int lt_obj_run(lua_State *L);
/* obj:set_max_entries / set_value_size / set_map_flags (map, n): before
 * load (obj_maps.c) */
int lt_obj_set_max_entries(lua_State *L);
int lt_obj_set_value_size(lua_State *L);
int lt_obj_set_map_flags(lua_State *L);
#endif
