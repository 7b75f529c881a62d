/* safedir.c: the compile cache's directories as Lua objects: an O_PATH fd
 * checked by safefs.c, and the file operations the cache needs, all
 * relative to that fd (openat, renameat, unlinkat with O_NOFOLLOW and
 * fstat checks), never by re-resolving a path. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "lt.h"

#define LT_DIR_MT "luatrace.safedir"

struct safedir {
	int fd;
};

static struct safedir *check_dir(lua_State *L, int idx)
{
	struct safedir *d = luaL_checkudata(L, idx, LT_DIR_MT);
	if (d->fd < 0)
		luaL_error(L, "use of a closed cache directory");
	return d;
}

static void push_dir(lua_State *L, int fd)
{
	struct safedir *d = lua_newuserdata(L, sizeof(*d));
	d->fd = fd;
	luaL_getmetatable(L, LT_DIR_MT);
	lua_setmetatable(L, -2);
}

/* A file name inside a directory: one component, never a path. */
static const char *check_name(lua_State *L, int idx)
{
	const char *name = luaL_checkstring(L, idx);
	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		luaL_argerror(L, idx, "a plain file name is needed");
	return name;
}

/* core.safe_dir(path) -> dir | nil, reason: the private directory at
 * path, created (with missing parents) 0700, checked from /. */
static int l_safe_dir(lua_State *L)
{
	char why[512] = "";
	int fd = lt_safe_open_dir(luaL_checkstring(L, 1), why, sizeof(why));
	if (fd < 0) {
		lua_pushnil(L);
		lua_pushstring(L, why);
		return 2;
	}
	push_dir(L, fd);
	return 1;
}

/* core.safe_path_ok(path) -> true | false, reason (nothing created) */
static int l_safe_path_ok(lua_State *L)
{
	char why[512];
	bool ok = lt_safe_dir_ok(luaL_checkstring(L, 1), why, sizeof(why));
	lua_pushboolean(L, ok);
	if (ok)
		return 1;
	lua_pushstring(L, why);
	return 2;
}

/* dir:sub(name) -> dir | nil, reason: a private subdirectory, made 0700 */
static int d_sub(lua_State *L)
{
	struct safedir *d = check_dir(L, 1);
	const char *name = check_name(L, 2);
	char why[256];
	if (mkdirat(d->fd, name, 0700) && errno != EEXIST) {
		lua_pushnil(L);
		lua_pushfstring(L, "create %s: %s", name, strerror(errno));
		return 2;
	}
	int fd = openat(d->fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0) {
		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s", name, errno == ELOOP || errno == ENOTDIR ?
				"not a directory (a symlink or file is refused)" :
				strerror(errno));
		return 2;
	}
	if (fstat(fd, &st) || !lt_dir_private(&st, why, sizeof(why))) {
		close(fd);
		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s", name, why);
		return 2;
	}
	push_dir(L, fd);
	return 1;
}

/* Open a regular file of ours in d, read-only, no links followed. */
static int open_own(int dfd, const char *name, struct stat *st)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) || !S_ISREG(st->st_mode) || st->st_uid != geteuid() ||
	    (st->st_mode & 022)) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

/* dir:read(name) -> bytes | nil, err. Only a regular file of ours that
 * nobody else may write; a link is not followed. */
static int d_read(lua_State *L)
{
	struct safedir *d = check_dir(L, 1);
	const char *name = check_name(L, 2);
	struct stat st;
	int fd = open_own(d->fd, name, &st);
	if (fd < 0) {
		lua_pushnil(L);
		lua_pushstring(L, strerror(errno));
		return 2;
	}
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	char buf[65536];
	ssize_t r;
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int err = errno;
			close(fd);
			lua_pushnil(L);
			lua_pushstring(L, strerror(err));
			return 2;
		}
		luaL_addlstring(&b, buf, r);
	}
	close(fd);
	luaL_pushresult(&b);
	return 1;
}

/* dir:write(name, data): atomically (a temp file named name.tmp.PID,
 * then renamed over name), 0600. */
static int d_write(lua_State *L)
{
	struct safedir *d = check_dir(L, 1);
	const char *name = check_name(L, 2);
	size_t len;
	const char *data = luaL_checklstring(L, 3, &len);
	char tmp[NAME_MAX + 32];
	snprintf(tmp, sizeof(tmp), "%.200s.tmp.%d", name, (int)getpid());
	unlinkat(d->fd, tmp, 0);
	int fd = openat(d->fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				    O_CLOEXEC, 0600);
	if (fd < 0)
		return lt_fail(L, "write cache file", tmp, errno, NULL);
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int err = w < 0 ? errno : EIO;
			close(fd);
			unlinkat(d->fd, tmp, 0);
			return lt_fail(L, "write cache file", tmp, err, NULL);
		}
		off += w;
	}
	if (close(fd) || renameat(d->fd, tmp, d->fd, name)) {
		int err = errno;
		unlinkat(d->fd, tmp, 0);
		return lt_fail(L, "write cache file", name, err, NULL);
	}
	return 0;
}

/* dir:rename(from, to) -> true | nil, err */
static int d_rename(lua_State *L)
{
	struct safedir *d = check_dir(L, 1);
	if (renameat(d->fd, check_name(L, 2), d->fd, check_name(L, 3))) {
		lua_pushnil(L);
		lua_pushstring(L, strerror(errno));
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* dir:unlink(name) -> true | nil, err (a directory: removed if empty) */
static int d_unlink(lua_State *L)
{
	struct safedir *d = check_dir(L, 1);
	const char *name = check_name(L, 2);
	if (unlinkat(d->fd, name, 0) &&
	    (errno != EISDIR || unlinkat(d->fd, name, AT_REMOVEDIR))) {
		lua_pushnil(L);
		lua_pushstring(L, strerror(errno));
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* dir:stat(name) -> {size=, mtime=, uid=, mode=, reg=, dir=, link=} | nil */
static int d_stat(lua_State *L)
{
	struct safedir *d = check_dir(L, 1);
	struct stat st;
	if (fstatat(d->fd, check_name(L, 2), &st, AT_SYMLINK_NOFOLLOW)) {
		lua_pushnil(L);
		lua_pushstring(L, strerror(errno));
		return 2;
	}
	lua_createtable(L, 0, 7);
	lua_pushnumber(L, (lua_Number)st.st_size);
	lua_setfield(L, -2, "size");
	lua_pushnumber(L, (lua_Number)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9);
	lua_setfield(L, -2, "mtime");
	lua_pushinteger(L, st.st_uid);
	lua_setfield(L, -2, "uid");
	lua_pushinteger(L, st.st_mode & 07777);
	lua_setfield(L, -2, "mode");
	lua_pushboolean(L, S_ISREG(st.st_mode));
	lua_setfield(L, -2, "reg");
	lua_pushboolean(L, S_ISDIR(st.st_mode));
	lua_setfield(L, -2, "dir");
	lua_pushboolean(L, S_ISLNK(st.st_mode));
	lua_setfield(L, -2, "link");
	return 1;
}

/* dir:touch(name): mark as just used (mtime now), for LRU eviction */
static int d_touch(lua_State *L)
{
	struct safedir *d = check_dir(L, 1);
	utimensat(d->fd, check_name(L, 2), NULL, AT_SYMLINK_NOFOLLOW);
	return 0;
}

/* dir:list([part]) -> array of names (no . and ..), those containing part */
static int d_list(lua_State *L)
{
	struct safedir *d = check_dir(L, 1);
	int fd = openat(d->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return lt_fail(L, "list", "cache directory", errno, NULL);
	}
	/* an optional part of the name: only names containing it (finding
	 * temp files among thousands of objects without a string for each) */
	const char *part = luaL_optstring(L, 2, NULL);
	lua_newtable(L);
	int i = 0;
	struct dirent *e;
	while ((e = readdir(dir))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (part && !strstr(e->d_name, part))
			continue;
		lua_pushstring(L, e->d_name);
		lua_rawseti(L, -2, ++i);
	}
	closedir(dir);
	return 1;
}

/* dir:fd() -> the O_PATH fd; dir:path() -> "/proc/self/fd/N" */
static int d_fd(lua_State *L)
{
	lua_pushinteger(L, check_dir(L, 1)->fd);
	return 1;
}

static int d_path(lua_State *L)
{
	lua_pushfstring(L, "/proc/self/fd/%d", check_dir(L, 1)->fd);
	return 1;
}

static int d_close(lua_State *L)
{
	struct safedir *d = luaL_checkudata(L, 1, LT_DIR_MT);
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	return 0;
}

/* core.pid_alive(pid) -> bool (a temp file's writer still running?) */
static int l_pid_alive(lua_State *L)
{
	lua_Integer pid = luaL_checkinteger(L, 1);
	lua_pushboolean(L, pid > 0 && pid <= INT_MAX &&
				   (kill((pid_t)pid, 0) == 0 || errno == EPERM));
	return 1;
}

/* core.user_home() -> the home of our effective uid from the password
 * database (not $HOME, which sudo may keep from the user) | nil */
static int l_user_home(lua_State *L)
{
	struct passwd *pw = getpwuid(geteuid());
	if (!pw || !pw->pw_dir || pw->pw_dir[0] != '/')
		return 0;
	lua_pushstring(L, pw->pw_dir);
	return 1;
}

void lt_open_safefs(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"sub", d_sub},       {"read", d_read},   {"write", d_write},
		{"rename", d_rename}, {"unlink", d_unlink}, {"stat", d_stat},
		{"touch", d_touch},   {"list", d_list},   {"fd", d_fd},
		{"path", d_path},     {"close", d_close}, {"__gc", d_close},
		{NULL, NULL},
	};
	lt_new_metatable(L, LT_DIR_MT, methods);
	static const luaL_Reg fns[] = {
		{"safe_dir", l_safe_dir},
		{"safe_path_ok", l_safe_path_ok},
		{"pid_alive", l_pid_alive},
		{"user_home", l_user_home},
		{NULL, NULL},
	};
	lt_setfuncs(L, fns);
}
