/* probe_list.h: sorted name lists and glob matching for `luatrace -l`. */
#ifndef LT_PROBE_LIST_H
#define LT_PROBE_LIST_H
#include <stddef.h>
#include <lua.h>

/* A growable list of names; lt_names_push sorts it (strcmp order, as
 * bpftrace's std::set), drops duplicates, pushes a Lua array and frees it. */
struct lt_names {
	char **v;
	size_t n, cap;
};
void lt_names_add(struct lt_names *ns, const char *name);
void lt_names_push(lua_State *L, struct lt_names *ns);

/* fnmatch(3) of glob against name; with any_suffix, also against the part
 * after each ':' of name (a pattern without a provider matches the end of
 * "provider:...:name"). */
int lt_glob_match(const char *glob, const char *name, int any_suffix);

#endif
