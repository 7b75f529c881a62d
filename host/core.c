/* core.c: the module luatrace.core: every primitive the host gives Lua.
 * Internal: scripts use the public library (require "luatrace"). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lt.h"

/* Embedded by the build (tools/bcgen.c): lt_abi.h and the prelude headers
 * of on-demand programs. */
extern const char lt_abi_text[];
extern const char lt_prelude_text[];
extern const char lt_export_text[];

/* core.open_fds() -> { [fd] = target } of this process: for leak checks. */
static int l_open_fds(lua_State *L)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return lt_fail(L, "list", "/proc/self/fd", errno, NULL);
	int self = dirfd(d);
	struct dirent *e;
	lua_newtable(L);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		int fd = atoi(e->d_name);
		if (fd == self)
			continue;
		char p[64], target[512];
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(p, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = 0;
		lua_pushstring(L, target);
		lua_rawseti(L, -2, fd);
	}
	closedir(d);
	return 1;
}

static int l_exe_path(lua_State *L)
{
	char p[4096];
	ssize_t n = readlink("/proc/self/exe", p, sizeof(p) - 1);
	if (n <= 0)
		return 0;
	lua_pushlstring(L, p, n);
	return 1;
}

static int l_getpid(lua_State *L)
{
	lua_pushinteger(L, getpid());
	return 1;
}

static int l_libbpf_log(lua_State *L)
{
	lua_pushstring(L, lt_log_text());
	return 1;
}

static int l_verbose(lua_State *L)
{
	lua_pushboolean(L, lt_verbose());
	return 1;
}

static int l_set_verbose(lua_State *L)
{
	lt_log_init(lua_toboolean(L, 1));
	return 0;
}

static int l_isatty(lua_State *L)
{
	lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)));
	return 1;
}

int luaopen_luatrace_core(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{"open_fds", l_open_fds},
		{"getpid", l_getpid},
		{"exe_path", l_exe_path},
		{"libbpf_log", l_libbpf_log},
		{"verbose", l_verbose},
		{"set_verbose", l_set_verbose},
		{"isatty", l_isatty},
		{NULL, NULL},
	};
	lua_newtable(L);
	lt_setfuncs(L, fns);
	lt_open_obj(L);
	lt_open_btf_min(L);
	lt_open_link(L);
	lt_open_map(L);
	lt_open_chan(L);
	lt_open_features(L);
	lt_open_btf(L);
	lt_open_ksym(L);
	lt_open_usym(L);
	lt_open_libpath(L);
	lt_open_sys(L);
	lt_open_vmlinux_h(L);
	lt_open_usdt_notes(L);
	lt_open_tracepipe(L);
	lt_open_poller(L);
	lt_open_net(L);
	lt_open_lineedit(L);
	lt_open_btf_list(L);
	lt_open_probe_list(L);
	lt_open_proc(L);
	lt_open_libbpf_features(L);
	lua_pushstring(L, lt_abi_text);
	lua_setfield(L, -2, "abi_cdef");
	lua_createtable(L, 0, 2);
	lua_pushstring(L, lt_prelude_text);
	lua_setfield(L, -2, "luatrace.bpf.h");
	lua_pushstring(L, lt_export_text);
	lua_setfield(L, -2, "lt_export.h");
	lua_setfield(L, -2, "prelude");
	lua_pushstring(L, LT_BPF_CFLAGS);
	lua_setfield(L, -2, "bpf_cflags");
	lua_pushstring(L, LT_VERSION);
	lua_setfield(L, -2, "version");
	return 1;
}
