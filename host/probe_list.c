/* probe_list.c: the fast paths of `luatrace -l`: kernel function names
 * (tracefs available_filter_functions, else the text symbols of
 * /proc/kallsyms), tracefs available_events, and an ELF file's function
 * symbols, filtered by a glob in C and returned sorted and unique. Reading
 * and matching ~120k symbols line by line in Lua costs more than the whole
 * listing may (bpftrace takes seconds; we aim at tens of milliseconds). */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lt.h"
#include "probe_list.h"

void lt_names_add(struct lt_names *ns, const char *name)
{
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 1024;
		char **v = realloc(ns->v, cap * sizeof(*v));
		if (!v)
			return;
		ns->v = v;
		ns->cap = cap;
	}
	char *s = strdup(name);
	if (s)
		ns->v[ns->n++] = s;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void lt_names_push(lua_State *L, struct lt_names *ns)
{
	if (ns->n)
		qsort(ns->v, ns->n, sizeof(*ns->v), cmp_str);
	lua_createtable(L, (int)ns->n, 0);
	int k = 0;
	for (size_t i = 0; i < ns->n; i++) {
		if (i == 0 || strcmp(ns->v[i], ns->v[i - 1])) {
			lua_pushstring(L, ns->v[i]);
			lua_rawseti(L, -2, ++k);
		}
	}
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
	memset(ns, 0, sizeof(*ns));
}

int lt_glob_match(const char *glob, const char *name, int any_suffix)
{
	if (glob[0] == '*' && glob[1] == 0)
		return 1;
	if (!fnmatch(glob, name, 0))
		return 1;
	for (const char *c = any_suffix ? strchr(name, ':') : NULL; c;
	     c = strchr(c + 1, ':'))
		if (!fnmatch(glob, c + 1, 0))
			return 1;
	return 0;
}

/* Symbols no probe can use: compiler-split parts (bpftrace skips them
 * too), cold sections, the __pfx_ padding symbols of kallsyms, and the
 * placeholders of available_filter_functions for dropped entries. */
static int untraceable(const char *s)
{
	return !strncmp(s, "__pfx_", 6) || strstr(s, ".part.") || strstr(s, ".cold") ||
	       !strncmp(s, "__ftrace_invalid_address__", 26);
}

/* core.glob_lines(path, format, glob[, any_suffix]) -> names | nil, error
 *   format "words":    the first word of each line (" [module]" dropped)
 *   format "kallsyms": the names of text symbols (type t or T) */
static int l_glob_lines(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	const char *format = luaL_checkstring(L, 2);
	const char *glob = luaL_optstring(L, 3, "*");
	int any_suffix = lua_toboolean(L, 4);
	int kallsyms = !strcmp(format, "kallsyms");
	FILE *f = fopen(path, "re");
	if (!f) {
		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s", path, strerror(errno));
		return 2;
	}
	static char buf[1 << 16];
	setvbuf(f, buf, _IOFBF, sizeof(buf));
	struct lt_names ns = {0};
	char line[1024];
	while (fgets(line, sizeof(line), f)) {
		char *name = line;
		if (kallsyms) {
			/* "ffffffff81000000 T name\t[module]" */
			char *sp = strchr(line, ' ');
			if (!sp || (sp[1] != 't' && sp[1] != 'T') || sp[2] != ' ')
				continue;
			name = sp + 3;
			/* JIT-ed BPF programs and ftrace trampolines are no
			 * kernel functions */
			if (strstr(name, "\t[bpf]") || strstr(name, "\t[__builtin"))
				continue;
		}
		name[strcspn(name, " \t\n")] = 0;
		if (!*name || untraceable(name))
			continue;
		if (lt_glob_match(glob, name, any_suffix))
			lt_names_add(&ns, name);
	}
	int err = ferror(f) ? errno : 0;
	fclose(f);
	if (err) {
		lt_names_push(L, &ns);
		lua_pop(L, 1);
		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s", path, strerror(err));
		return 2;
	}
	lt_names_push(L, &ns);
	return 1;
}

struct glob_ctx {
	const char *glob;
	struct lt_names ns;
};

static void add_if_match(void *ctx, const char *name)
{
	struct glob_ctx *c = ctx;
	if (lt_glob_match(c->glob, name, 0))
		lt_names_add(&c->ns, name);
}

/* core.elf_functions(path, glob) -> sorted function symbol names | nil, error */
static int l_elf_functions(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	const char *glob = luaL_optstring(L, 2, "*");
	struct glob_ctx c = {.glob = glob};
	int err = lt_elf_function_names(path, add_if_match, &c);
	if (err) {
		lt_names_push(L, &c.ns);
		lua_pop(L, 1);
		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s", path, strerror(err));
		return 2;
	}
	lt_names_push(L, &c.ns);
	return 1;
}

/* core.glob_match(glob, name[, any_suffix]) -> boolean (the same rule the
 * C listings use, for the short lists Lua filters itself) */
static int l_glob_match(lua_State *L)
{
	lua_pushboolean(L, lt_glob_match(luaL_checkstring(L, 1),
					 luaL_checkstring(L, 2), lua_toboolean(L, 3)));
	return 1;
}

void lt_open_probe_list(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{"glob_lines", l_glob_lines},
		{"elf_functions", l_elf_functions},
		{"glob_match", l_glob_match},
		{NULL, NULL},
	};
	lt_setfuncs(L, fns);
}
