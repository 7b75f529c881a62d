/* sys.c: small OS services the Lua library needs and plain Lua lacks:
 * content hashes (cache keys), stat/mkdir with modes (the compile cache's
 * ownership checks), and running a program with its output captured and
 * no shell in between (clang). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

/* core.hash(str...) -> 16 hex digits over all arguments */
static int l_hash(lua_State *L)
{
	uint64_t h = FNV_OFFSET;
	for (int i = 1; i <= lua_gettop(L); i++) {
		size_t n;
		const char *s = luaL_checklstring(L, i, &n);
		h = fnv1a(h, (const unsigned char *)s, n);
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

/* The child side of core.exec: output to the pipe, stdin from /dev/null,
 * the given directory fds at 3, 4, ... (so the child can name them as
 * /proc/self/fd/3...), killed when luatrace dies (a SIGKILLed luatrace
 * must not leave a compiler running). Only async-signal-safe calls. */
static void exec_child(const char **argv, int out, int errfd, const int *fds,
		       int nfds, pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(127);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	int high[16];
	for (int i = 0; i < nfds; i++) /* out of the way of 3.. first */
		if ((high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 64)) < 0)
			_exit(127);
	int in = open("/dev/null", O_RDONLY);
	if (in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(127);
	for (int i = 0; i < nfds; i++)
		if (dup2(high[i], 3 + i) < 0) /* dup2 clears FD_CLOEXEC */
			_exit(127);
	execvp(argv[0], (char *const *)argv);
	int err = errno;
	ssize_t r = write(errfd, &err, sizeof(err));
	(void)r;
	_exit(127);
}

/* core.exec(argv [, fds]) -> exit code (or 128+signal), output (stdout
 * and stderr together) | nil, err when the program cannot be started.
 * fds: up to 16 open fds the program gets as 3, 4, ... */
static int l_exec(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	int argc = (int)lua_objlen(L, 1);
	if (argc < 1)
		return luaL_argerror(L, 1, "empty argv");
	int fds[16], nfds = 0;
	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		nfds = (int)lua_objlen(L, 2);
		if (nfds > 16)
			return luaL_argerror(L, 2, "at most 16 fds");
		for (int i = 0; i < nfds; i++) {
			lua_rawgeti(L, 2, i + 1);
			fds[i] = (int)lua_tointeger(L, -1);
			lua_pop(L, 1);
		}
	}
	const char **argv = calloc(argc + 1, sizeof(*argv));
	if (!argv)
		return lt_fail(L, "run", "program", ENOMEM, NULL);
	for (int i = 0; i < argc; i++) {
		lua_rawgeti(L, 1, i + 1);
		argv[i] = lua_tostring(L, -1); /* anchored by the table */
		lua_pop(L, 1);
		if (!argv[i]) {
			free(argv);
			return luaL_argerror(L, 1, "argv items must be strings");
		}
	}
	/* an exec failure is reported through a second pipe, closed by exec */
	int pfd[2], efd[2];
	pfd[0] = -1;
	if (pipe2(pfd, O_CLOEXEC) || pipe2(efd, O_CLOEXEC)) {
		int err = errno;
		if (pfd[0] >= 0) {
			close(pfd[0]);
			close(pfd[1]);
		}
		free(argv);
		lua_rawgeti(L, 1, 1);
		return lt_fail(L, "run", lua_tostring(L, -1), err, NULL);
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		close(efd[0]);
		exec_child(argv, pfd[1], efd[1], fds, nfds, parent);
	}
	int err = pid < 0 ? errno : 0;
	close(pfd[1]);
	close(efd[1]);
	if (err) {
		close(pfd[0]);
		close(efd[0]);
		free(argv);
		lua_pushnil(L);
		lua_pushstring(L, strerror(err));
		return 2;
	}
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	char buf[8192];
	ssize_t n;
	while ((n = read(pfd[0], buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		luaL_addlstring(&b, buf, n);
	}
	close(pfd[0]);
	int exec_err = 0;
	if (read(efd[0], &exec_err, sizeof(exec_err)) != sizeof(exec_err))
		exec_err = 0;
	close(efd[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	free(argv);
	if (exec_err) {
		luaL_pushresult(&b);
		lua_pushnil(L);
		lua_pushstring(L, strerror(exec_err));
		return 2;
	}
	lua_pushinteger(L, WIFEXITED(status) ? WEXITSTATUS(status) :
					       128 + WTERMSIG(status));
	luaL_pushresult(&b);
	return 2;
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
		{"exec", l_exec},
		{NULL, NULL},
	};
	lt_setfuncs(L, fns);
	lt_open_safefs(L);
}
