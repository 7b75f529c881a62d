/* main.c: the luatrace entry point. It creates the Lua state, makes the
 * library requirable (embedded bytecode, or LUATRACE_PATH), installs the
 * signal handling, and hands argv to luatrace.cli (lua/luatrace/cli.lua),
 * which parses the command line and runs what it asks.
 *
 * Exit codes: 0 success (also when SIGINT/SIGTERM ended the run cleanly),
 * 1 script or kernel error, 2 usage error (returned by cli.main). Errors
 * print one line "luatrace: <message>" (cli.lua adds a traceback under -v).
 * Everything the script attached is released by lua_close(), which runs
 * every __gc. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <luajit.h>
#include "lt.h"
#include "embed.h"

static const struct lt_embedded *find_embedded(const char *name)
{
	for (const struct lt_embedded *m = lt_embedded; m->name; m++)
		if (!strcmp(m->name, name))
			return m;
	return NULL;
}

/* The loader of every embedded module: require passes the name. One
 * function value serves all of package.preload, so a start does not
 * build a closure per module (docs/STARTUP.md). */
static int embedded_loader(lua_State *L)
{
	const struct lt_embedded *m = find_embedded(luaL_checkstring(L, 1));
	if (!m)
		return luaL_error(L, "no embedded module '%s'", lua_tostring(L, 1));
	if (luaL_loadbuffer(L, m->code, m->size, m->name))
		return lua_error(L);
	lua_pushstring(L, m->name);
	lua_call(L, 1, 1);
	return 1;
}

/* package.loaders entry: the embedded module of that name, if any. */
static int embedded_searcher(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	if (find_embedded(name)) {
		lua_pushcfunction(L, embedded_loader);
		return 1;
	}
	lua_pushfstring(L, "\n\tno embedded module '%s'", name);
	return 1;
}

/* lt_safe_dir_ok, asked once per directory: templates share them
 * (dir/?.lua and dir/?/init.lua), and each check walks the path from /. */
static int safe_dir_once(const char *dir)
{
	static struct { char dir[256]; int ok; } seen[16];
	static int nseen;
	for (int i = 0; i < nseen; i++)
		if (!strcmp(seen[i].dir, dir))
			return seen[i].ok;
	char why[256];
	int ok = lt_safe_dir_ok(dir, why, sizeof(why));
	if (nseen < 16 && strlen(dir) < sizeof(seen[0].dir)) {
		strcpy(seen[nseen].dir, dir);
		seen[nseen++].ok = ok;
	}
	return ok;
}

/* package.path/cpath without the templates root must not load from: a
 * relative one (./?.lua: the working directory) and one whose directory,
 * or any directory above it, someone other than root or us can write
 * (host/safefs.c). The field on top of the stack at idx is rewritten. */
static void drop_unsafe_templates(lua_State *L, int pkg, const char *field)
{
	lua_getfield(L, pkg, field);
	const char *list = lua_tostring(L, -1);
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	int n = 0;
	for (const char *p = list ? list : ""; *p;) {
		const char *e = strchr(p, ';');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		char tpl[4096];
		if (len && len < sizeof(tpl)) {
			memcpy(tpl, p, len);
			tpl[len] = 0;
			char *q = strchr(tpl, '?');
			char dir[4096];
			snprintf(dir, sizeof(dir), "%.*s", q ? (int)(q - tpl) : (int)len, tpl);
			char *slash = strrchr(dir, '/');
			if (slash)
				*slash = 0;
			if (tpl[0] == '/' && safe_dir_once(*dir ? dir : "/")) {
				if (n++)
					luaL_addchar(&b, ';');
				luaL_addstring(&b, tpl);
			}
		}
		p += len + (e ? 1 : 0);
	}
	luaL_pushresult(&b);
	lua_setfield(L, pkg, field);
	lua_pop(L, 1);
}

/* Make require find the Lua library: from LUATRACE_PATH (development;
 * modules the tree lacks still come from the binary) or from the bytecode
 * built into the binary. Lua's default ./?.lua and ./?.so are dropped:
 * `luatrace -m typo` or a script's require of a missing module must not
 * run a file from the working directory as root (a script's own
 * directory is added back by cli.lua when it is safe). */
static void setup_library(lua_State *L)
{
	lua_getglobal(L, "package");
	drop_unsafe_templates(L, lua_gettop(L), "path");
	drop_unsafe_templates(L, lua_gettop(L), "cpath");
	lua_getfield(L, -1, "preload");
	lua_pushcfunction(L, luaopen_luatrace_core);
	lua_setfield(L, -2, "luatrace.core");
	const char *dev = getenv("LUATRACE_PATH");
	if (dev && *dev) {
		lua_getfield(L, -2, "path");
		lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", dev, dev,
				lua_tostring(L, -1));
		lua_setfield(L, -4, "path");
		lua_pop(L, 1);
		lua_getfield(L, -2, "loaders");
		lua_pushcfunction(L, embedded_searcher);
		lua_rawseti(L, -2, (int)lua_objlen(L, -2) + 1);
		lua_pop(L, 1);
	} else {
		lua_pushcfunction(L, embedded_loader);
		for (const struct lt_embedded *m = lt_embedded; m->name; m++) {
			lua_pushvalue(L, -1);
			lua_setfield(L, -3, m->name);
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 2);
}

/* Run the function on top with nargs arguments below it; report errors.
 * The function's integer result (if any) is the exit status. */
static int run(lua_State *L, int nargs)
{
	/* No message handler here: one cannot run on a full stack, so a stack
	 * overflow would only say "error in error handling". Tracebacks (-v)
	 * are added by cli.lua, which knows whether -v was given. */
	int status = lua_pcall(L, nargs, 1, 0);
	if (!status) {
		int rc = lua_isnumber(L, -1) ? (int)lua_tointeger(L, -1) : 0;
		lua_pop(L, 1);
		return rc;
	}
	const char *msg = lua_tostring(L, -1);
	if (!msg)
		msg = "(error object is not a string)";
	/* SIGINT/SIGTERM in a CPU-bound loop: a clean stop, not a failure. */
	if (lt_sig_pending() && strstr(msg, "interrupted"))
		return 0;
	fprintf(stderr, "luatrace: %s\n", msg);
	return 1;
}

int main(int argc, char **argv)
{
	lt_log_init(0);
	lua_State *L = luaL_newstate();
	if (!L) {
		fprintf(stderr, "luatrace: cannot create the Lua state\n");
		return 1;
	}
	luaL_openlibs(L);
	lt_gc_startup(L); /* until the first wait for events (sys.c) */
	setup_library(L);
	lt_sig_install(L);
	int status;
	if (luaL_loadstring(L, "return require('luatrace.cli').main(...)")) {
		fprintf(stderr, "luatrace: %s\n", lua_tostring(L, -1));
		status = 1;
	} else {
		for (int i = 0; i < argc; i++)
			lua_pushstring(L, argv[i]);
		status = run(L, argc);
	}
	/* Detach everything: every link and object is released by its __gc. */
	lua_close(L);
	return status;
}
