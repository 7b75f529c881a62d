/* obj.h: the BPF object userdata (obj.c) and its load-error report
 * (obj_load.c). */
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
#endif
