/* main.c: the luatrace command line.
 *
 *   luatrace script.lua [args...]   run a script (arg as in lua)
 *   luatrace -e 'code' [args...]    run a chunk
 *   luatrace -m tool [args...]      run a tool module
 *   luatrace -v ...                 tracebacks and libbpf's debug log
 *
 * Exit codes: 0 success (also when SIGINT/SIGTERM ended the run cleanly),
 * 1 script or kernel error, 2 usage error. Errors print one line
 * "luatrace: <message>" (with a traceback under -v). Everything the
 * script attached is released by lua_close(), which runs every __gc. */
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

static const char usage[] =
	"usage: luatrace [options] [script.lua [args...]]\n"
	"  -e CODE       run CODE (a Lua chunk); args go to arg[1..]\n"
	"  -m TOOL       run the tool module TOOL with args\n"
	"  compile ...   build objects for another kernel (luatrace compile -h)\n"
	"  -v            verbose: tracebacks and libbpf's debug log\n"
	"  -h, --help    this help\n"
	"  --version     print the version\n"
	"With no script, a script is read from standard input when it is not\n"
	"a terminal.\n"
	"Environment: LUATRACE_PATH=DIR loads the Lua library from DIR (a\n"
	"source tree's lua/) instead of the copy built into the binary.\n";

static int usage_error(const char *msg)
{
	fprintf(stderr, "luatrace: %s\n%s", msg, usage);
	return 2;
}

static int embedded_loader(lua_State *L)
{
	const struct lt_embedded *m = lua_touserdata(L, lua_upvalueindex(1));
	if (luaL_loadbuffer(L, m->code, m->size, m->name))
		return lua_error(L);
	lua_pushstring(L, m->name);
	lua_call(L, 1, 1);
	return 1;
}

/* Make require find the Lua library: from LUATRACE_PATH (development) or
 * from the bytecode built into the binary. */
static void setup_library(lua_State *L)
{
	lua_getglobal(L, "package");
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
	} else {
		for (const struct lt_embedded *m = lt_embedded; m->name; m++) {
			lua_pushlightuserdata(L, (void *)m);
			lua_pushcclosure(L, embedded_loader, 1);
			lua_setfield(L, -2, m->name);
		}
	}
	lua_pop(L, 2);
}

static int traceback(lua_State *L)
{
	if (!lua_isstring(L, 1))
		return 1; /* keep non-string error objects */
	if (!lt_verbose())
		return 1;
	lua_getglobal(L, "debug");
	lua_getfield(L, -1, "traceback");
	lua_pushvalue(L, 1);
	lua_pushinteger(L, 2);
	lua_call(L, 2, 1);
	return 1;
}

/* Run the function on top with nargs arguments below it; report errors. */
static int run(lua_State *L, int nargs)
{
	int base = lua_gettop(L) - nargs;
	lua_pushcfunction(L, traceback);
	lua_insert(L, base);
	int status = lua_pcall(L, nargs, 0, base);
	lua_remove(L, base);
	if (!status)
		return 0;
	const char *msg = lua_tostring(L, -1);
	if (!msg)
		msg = "(error object is not a string)";
	/* SIGINT/SIGTERM in a CPU-bound loop: a clean stop, not a failure. */
	if (lt_sig_pending() && strstr(msg, "interrupted"))
		return 0;
	fprintf(stderr, "luatrace: %s\n", msg);
	return 1;
}

static void set_args(lua_State *L, char **argv, int argc, int script_idx)
{
	lua_createtable(L, argc - script_idx, script_idx + 1);
	for (int i = 0; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i - script_idx);
	}
	lua_setglobal(L, "arg");
}

static int push_args(lua_State *L, char **argv, int argc, int first)
{
	for (int i = first; i < argc; i++)
		lua_pushstring(L, argv[i]);
	return argc > first ? argc - first : 0;
}

int main(int argc, char **argv)
{
	int verbose = 0, i;
	const char *code = NULL, *tool = NULL;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			return 0;
		} else if (!strcmp(a, "--version")) {
			printf("luatrace %s (%s)\n", LT_VERSION, LUAJIT_VERSION);
			return 0;
		} else if (!strcmp(a, "-v")) {
			verbose = 1;
		} else if (!strcmp(a, "-e") || !strcmp(a, "-m")) {
			if (i + 1 >= argc)
				return usage_error("option needs an argument");
			if (a[1] == 'e')
				code = argv[++i];
			else
				tool = argv[++i];
			i++;
			break;
		} else if (!strcmp(a, "--")) {
			i++;
			break;
		} else if (a[0] == '-' && a[1]) {
			char msg[128];
			snprintf(msg, sizeof(msg), "unknown option %s", a);
			return usage_error(msg);
		} else {
			break;
		}
	}
	lt_log_init(verbose);
	lua_State *L = luaL_newstate();
	if (!L) {
		fprintf(stderr, "luatrace: cannot create the Lua state\n");
		return 1;
	}
	luaL_openlibs(L);
	setup_library(L);
	lt_sig_install(L);
	int status;
	if (code) {
		set_args(L, argv, argc, i - 1);
		if (luaL_loadbuffer(L, code, strlen(code), "=(command line)")) {
			fprintf(stderr, "luatrace: %s\n", lua_tostring(L, -1));
			status = 1;
		} else {
			status = run(L, push_args(L, argv, argc, i));
		}
	} else if (tool) {
		set_args(L, argv, argc, i - 1);
		if (luaL_loadstring(L, "return require('luatrace.tool').run(...)")) {
			fprintf(stderr, "luatrace: %s\n", lua_tostring(L, -1));
			status = 1;
		} else {
			lua_pushstring(L, tool);
			status = run(L, 1 + push_args(L, argv, argc, i));
		}
	} else if (i < argc && !strcmp(argv[i], "compile") &&
		   access(argv[i], F_OK) != 0) {
		/* the compile subcommand (a file named "compile" is a script) */
		set_args(L, argv, argc, i);
		if (luaL_loadstring(L, "return require('luatrace.compile_cli').main(...)")) {
			fprintf(stderr, "luatrace: %s\n", lua_tostring(L, -1));
			status = 1;
		} else {
			status = run(L, push_args(L, argv, argc, i + 1));
		}
	} else {
		const char *script = i < argc ? argv[i] : NULL;
		if (!script && isatty(0)) {
			lua_close(L);
			return usage_error("no script given (the interactive console "
					   "is not built yet)");
		}
		set_args(L, argv, argc, script ? i : i - 1);
		if (luaL_loadfile(L, script)) {
			fprintf(stderr, "luatrace: %s\n", lua_tostring(L, -1));
			status = 1;
		} else {
			status = run(L, push_args(L, argv, argc, script ? i + 1 : i));
		}
	}
	/* Detach everything: every link and object is released by its __gc. */
	lua_close(L);
	return status;
}
