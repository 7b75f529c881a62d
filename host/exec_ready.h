/* exec_ready.h: see exec_ready.c. */
#ifndef LT_EXEC_READY_H
#define LT_EXEC_READY_H
#include <stdbool.h>
#include <sys/types.h>
#include <lua.h>
#include <lauxlib.h>

/* The watch for ready = {fd = dir, name = file} at stack index idx, set
 * before the program starts (-1: none, *name NULL). */
int lt_exec_watch(lua_State *L, int idx, const char **name);
void lt_exec_unwatch(int wd);
bool lt_exec_read_output(int out, int wd, const char *name, luaL_Buffer *b);
void lt_exec_reap_later(pid_t pid);
#endif
