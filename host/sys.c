/* sys.c: small OS services the Lua library needs and plain Lua lacks:
 * content hashes (cache keys), stat/mkdir with modes (the compile cache's
 * ownership checks); running a program (clang) is in exec.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "lt.h"

/* FNV-1a, 64 bit: cache keys, not security (the cache's protection is its
 * ownership check, not the hash). */
static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define FNV_OFFSET 0xcbf29ce484222325ULL

/* The same idea eight bytes at a step, for files (an AOT object of 1.2 MB
 * took 7.5 M instructions byte by byte, a quarter of funccount's start):
 * xor a word in, multiply, fold the high half down so every input bit
 * reaches the low bits. The tail goes byte by byte. */
static uint64_t hash_words(uint64_t h, const unsigned char *p, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 32;
	}
	return fnv1a(h, p + i, n - i);
}

static void push_hex(lua_State *L, uint64_t h)
{
	char s[17];
	snprintf(s, sizeof(s), "%016llx", (unsigned long long)h);
	lua_pushstring(L, s);
}

/* core.hash(str...) -> 16 hex digits over all arguments (a word at a step:
 * byte by byte, the C text and the plan of a warm one-liner took 5% of
 * its instructions) */
static int l_hash(lua_State *L)
{
	uint64_t h = FNV_OFFSET;
	for (int i = 1; i <= lua_gettop(L); i++) {
		size_t n;
		const char *s = luaL_checklstring(L, i, &n);
		h = hash_words(h, (const unsigned char *)s, n);
		h = fnv1a(h, (const unsigned char *)"\0", 1); /* separator */
	}
	push_hex(L, h);
	return 1;
}

/* core.hash_file(path) -> hex | nil, err */
static int l_hash_file(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		lua_pushnil(L);
		lua_pushstring(L, strerror(errno));
		return 2;
	}
	unsigned char buf[65536];
	uint64_t h = FNV_OFFSET;
	ssize_t n;
	/* full buffers, then the rest: the same hash whatever the reads */
	size_t have = 0;
	while ((n = read(fd, buf + have, sizeof(buf) - have)) > 0) {
		have += n;
		if (have == sizeof(buf)) {
			h = hash_words(h, buf, have);
			have = 0;
		}
	}
	if (n < 0) {
		int err = errno;
		close(fd);
		lua_pushnil(L);
		lua_pushstring(L, strerror(err));
		return 2;
	}
	h = hash_words(h, buf, have);
	close(fd);
	push_hex(L, h);
	return 1;
}

/* core.stat(path) -> {uid=, mode=, size=, mtime=, dir=, link=} | nil */
static int l_stat(lua_State *L)
{
	struct stat st;
	if (lstat(luaL_checkstring(L, 1), &st)) {
		lua_pushnil(L);
		lua_pushstring(L, strerror(errno));
		return 2;
	}
	lua_createtable(L, 0, 6);
	lua_pushinteger(L, st.st_uid);
	lua_setfield(L, -2, "uid");
	lua_pushinteger(L, st.st_mode & 07777);
	lua_setfield(L, -2, "mode");
	lua_pushnumber(L, (lua_Number)st.st_size);
	lua_setfield(L, -2, "size");
	lua_pushnumber(L, (lua_Number)st.st_mtim.tv_sec +
				  st.st_mtim.tv_nsec / 1e9);
	lua_setfield(L, -2, "mtime");
	lua_pushboolean(L, S_ISDIR(st.st_mode));
	lua_setfield(L, -2, "dir");
	lua_pushboolean(L, S_ISLNK(st.st_mode));
	lua_setfield(L, -2, "link");
	return 1;
}

/* core.mkdir(path, mode) -> true | nil, err (EEXIST is not an error) */
static int l_mkdir(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	mode_t mode = (mode_t)luaL_optinteger(L, 2, 0700);
	if (mkdir(path, mode) && errno != EEXIST) {
		lua_pushnil(L);
		lua_pushstring(L, strerror(errno));
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* core.realpath(path) -> canonical path | nil, err */
static int l_realpath(lua_State *L)
{
	char *r = realpath(luaL_checkstring(L, 1), NULL);
	if (!r) {
		lua_pushnil(L);
		lua_pushstring(L, strerror(errno));
		return 2;
	}
	lua_pushstring(L, r);
	free(r);
	return 1;
}

/* The GC's pause while luatrace starts a tool or a bpftrace program: a
 * collection cycle begins only when the heap is 10x what the last one
 * left, instead of 2x. Starting allocates a few MB that mostly stay live
 * (modules, the program, its tables), and the default pause spent ~13% of
 * a warm one-liner's instructions marking and sweeping them. main.c sets
 * it; lt_gc_normal() restores the default (200) at the first wait for
 * events (host/poller.c, tracepipe.c) and before Lua code of the user's,
 * the console or a listing runs (cli.lua, listing.lua): from then on the
 * heap's growth is bounded as Lua's normally is. */
void lt_gc_startup(lua_State *L)
{
	lua_gc(L, LUA_GCSETPAUSE, 1000);
}

static int gc_started;
void lt_gc_normal(lua_State *L)
{
	if (gc_started)
		return;
	gc_started = 1;
	lua_gc(L, LUA_GCSETPAUSE, 200);
}

static int l_gc_normal(lua_State *L)
{
	lt_gc_normal(L);
	return 0;
}

/* core.setenv(name, value) */
static int l_setenv(lua_State *L)
{
	if (setenv(luaL_checkstring(L, 1), luaL_checkstring(L, 2), 1))
		return lt_fail(L, "set environment variable", lua_tostring(L, 1), errno,
			       NULL);
	return 0;
}

/* core.monotonic_ns() -> CLOCK_MONOTONIC in ns (a double: exact for
 * about 104 days of uptime, plenty for intervals) */
static int l_monotonic_ns(lua_State *L)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	lua_pushnumber(L, ts.tv_sec * 1e9 + ts.tv_nsec);
	return 1;
}

static int l_geteuid(lua_State *L)
{
	lua_pushinteger(L, geteuid());
	return 1;
}

void lt_open_sys(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{"hash", l_hash},
		{"hash_file", l_hash_file},
		{"stat", l_stat},
		{"mkdir", l_mkdir},
		{"geteuid", l_geteuid},
		{"realpath", l_realpath},
		{"setenv", l_setenv},
		{"gc_normal", l_gc_normal},
		{"monotonic_ns", l_monotonic_ns},
		{NULL, NULL},
	};
	lt_setfuncs(L, fns);
	lt_open_safefs(L);
	lt_open_exec(L);
}
