/* safefs.c: files root can trust, reached without re-resolving paths.
 *
 * luatrace runs as root and loads what it finds in its compile cache and
 * on package.path, so a directory someone else can change under it is a
 * way to make root load their code. Every check here walks a path from /
 * one component at a time with openat(O_NOFOLLOW) on the directory fd the
 * previous step checked, so nothing can be swapped between check and use:
 *
 *   - every directory on the way is owned by root or by us (the effective
 *     uid) and is not writable by group or others, except a root-owned
 *     sticky directory such as /tmp (others cannot rename or remove what
 *     we own there; what they create there is refused by its owner);
 *   - a symbolic link on the way is followed only when root or we own it
 *     (it then sits in a checked directory, so nobody else can change it;
 *     its target is walked with the same checks); a link as the last
 *     component of a private directory is refused;
 *   - a private directory (the cache and everything in it) is owned by us
 *     and closed to group and others (mode & 077 == 0).
 *
 * The result is a directory object holding an O_PATH fd; files in it are
 * opened with openat(O_NOFOLLOW) and checked by fstat on the open fd, and
 * other processes (clang) reach it as /proc/self/fd/N, the fd itself. */
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
#define MAX_LINKS 16

struct safedir {
	int fd;
};

/* Is this directory (st) safe to walk through / to trust? Fills why. */
static bool dir_trusted(const struct stat *st, bool allow_sticky, char *why,
			size_t n)
{
	uid_t me = geteuid();
	if (st->st_uid != 0 && st->st_uid != me) {
		snprintf(why, n, "owned by uid %u, not by root or you (uid %u)",
			 (unsigned)st->st_uid, (unsigned)me);
		return false;
	}
	if (st->st_mode & 022) {
		if (allow_sticky && (st->st_mode & S_ISVTX) && st->st_uid == 0)
			return true;
		snprintf(why, n, "writable by %s (mode %o)",
			 st->st_mode & 002 ? "others" : "its group",
			 st->st_mode & 07777);
		return false;
	}
	return true;
}

/* The private-directory rule: ours, a directory, closed to others. */
static bool dir_private(const struct stat *st, char *why, size_t n)
{
	if (!S_ISDIR(st->st_mode)) {
		snprintf(why, n, "not a directory");
		return false;
	}
	if (st->st_uid != geteuid()) {
		snprintf(why, n, "owned by uid %u, not by you (uid %u)",
			 (unsigned)st->st_uid, (unsigned)geteuid());
		return false;
	}
	if (st->st_mode & 077) {
		snprintf(why, n, "mode %o lets others in; chmod 700 it",
			 st->st_mode & 07777);
		return false;
	}
	return true;
}

/* Walk path from / (see the top). mode: 0 check only (a missing component
 * is fine when the directory that would hold it is closed to others),
 * 1 create missing components 0700 and return the final directory fd.
 * Returns an O_PATH fd (mode 1), 0 (mode 0, safe), or -1 with why set. */
static int walk(const char *path, int create, char *why, size_t n)
{
	char buf[PATH_MAX * 2];
	int links = 0;
	if (path[0] != '/') {
		snprintf(why, n, "not an absolute path");
		return -1;
	}
	if (strlen(path) >= PATH_MAX) {
		snprintf(why, n, "path too long");
		return -1;
	}
	strcpy(buf, path);
	int dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		snprintf(why, n, "open /: %s", strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(dfd, &st) || !dir_trusted(&st, true, why, n))
		goto fail;
	char *rest = buf;
	char sofar[PATH_MAX * 2] = ""; /* for messages */
	for (;;) {
		while (*rest == '/')
			rest++;
		if (!*rest)
			break;
		char *slash = strchr(rest, '/');
		char comp[NAME_MAX + 1];
		size_t len = slash ? (size_t)(slash - rest) : strlen(rest);
		if (len > NAME_MAX) {
			snprintf(why, n, "name too long");
			goto fail;
		}
		memcpy(comp, rest, len);
		comp[len] = 0;
		rest += len;
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			snprintf(why, n, "'..' in the path is refused");
			goto fail;
		}
		int nfd = openat(dfd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW |
					    O_CLOEXEC);
		if (nfd < 0 && errno == ENOENT) {
			if (!create) {
				/* the rest may be created by whoever can write
				 * here: only us or root, and not in a sticky
				 * directory open to all */
				if (fstat(dfd, &st) || (st.st_mode & 022)) {
					snprintf(why, n, "%s/%s is missing and %s is "
						 "writable by others", sofar, comp,
						 *sofar ? sofar : "/");
					goto fail;
				}
				close(dfd);
				return 0;
			}
			if (mkdirat(dfd, comp, 0700) && errno != EEXIST) {
				snprintf(why, n, "create %s: %s", comp, strerror(errno));
				goto fail;
			}
			nfd = openat(dfd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW |
						O_CLOEXEC);
		}
		if (nfd < 0 && (errno == ELOOP || errno == ENOTDIR)) {
			/* a symlink: follow it when root or we own it */
			struct stat ls;
			char target[PATH_MAX];
			ssize_t tl;
			if (fstatat(dfd, comp, &ls, AT_SYMLINK_NOFOLLOW) ||
			    !S_ISLNK(ls.st_mode)) {
				snprintf(why, n, "%s is not a directory", comp);
				goto fail;
			}
			if (ls.st_uid != 0 && ls.st_uid != geteuid()) {
				snprintf(why, n, "%s/%s is a symbolic link owned by uid %u",
					 sofar, comp, (unsigned)ls.st_uid);
				goto fail;
			}
			if (!*rest && create) {
				snprintf(why, n, "a symbolic link (refused for a "
					 "private directory)");
				goto fail;
			}
			if (++links > MAX_LINKS ||
			    (tl = readlinkat(dfd, comp, target, sizeof(target) - 1)) <= 0) {
				snprintf(why, n, "%s: too many symbolic links", comp);
				goto fail;
			}
			target[tl] = 0;
			char tail[PATH_MAX * 2];
			size_t rl = strlen(rest);
			if (rl + tl + 1 >= sizeof(tail)) {
				snprintf(why, n, "path too long");
				goto fail;
			}
			memcpy(tail, target, tl);
			memcpy(tail + tl, rest, rl + 1);
			memcpy(buf, tail, tl + rl + 1);
			rest = buf;
			if (target[0] == '/') {
				close(dfd);
				dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
				if (dfd < 0)
					goto fail;
			}
			continue;
		}
		if (nfd < 0) {
			snprintf(why, n, "open %s: %s", comp, strerror(errno));
			goto fail;
		}
		close(dfd);
		dfd = nfd;
		if (fstat(dfd, &st))
			goto fail;
		bool last = true;
		for (const char *p = rest; *p; p++)
			if (*p != '/') {
				last = false;
				break;
			}
		size_t sl = strlen(sofar);
		snprintf(sofar + sl, sizeof(sofar) - sl, "/%s", comp);
		if (last && create)
			break; /* the private rule below, in its own words */
		if (!dir_trusted(&st, !last, why, n)) {
			char w[160];
			snprintf(w, sizeof(w), "%s", why);
			snprintf(why, n, "%s is %s", sofar, w);
			goto fail;
		}
	}
	if (!create) {
		close(dfd);
		return 0;
	}
	if (fstat(dfd, &st) || !dir_private(&st, why, n))
		goto fail;
	return dfd;
fail:
	if (!*why)
		snprintf(why, n, "%s", strerror(errno));
	close(dfd);
	return -1;
}

bool lt_safe_dir_ok(const char *path, char *why, size_t n)
{
	why[0] = 0;
	return walk(path, 0, why, n) == 0;
}

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
	int fd = walk(luaL_checkstring(L, 1), 1, why, sizeof(why));
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
	if (fstat(fd, &st) || !dir_private(&st, why, sizeof(why))) {
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

/* dir:list() -> array of names (no . and ..) */
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
	lua_newtable(L);
	int i = 0;
	struct dirent *e;
	while ((e = readdir(dir))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
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
