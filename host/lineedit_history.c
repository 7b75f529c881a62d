/* lineedit_history.c: the console's history file, checked as root must.
 *
 * The file is appended one line at a time (so a killed session keeps it)
 * and read back at start. luatrace runs as root, so the file must be a
 * regular file owned by the user, not writable by group or others, in a
 * directory that safefs.c trusts (it and every directory above it owned by
 * root or the user, closed to others); it is opened without following
 * symlinks and checked through the descriptor. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lt.h"
#include "lineedit.h"

/* The history file's checks (see above). */
static const char *unsafe_file(int fd, const char *path)
{
	struct stat st;
	if (fstat(fd, &st))
		return strerror(errno);
	if (!S_ISREG(st.st_mode))
		return "not a regular file";
	if (st.st_uid != geteuid())
		return "owned by another user";
	if (st.st_mode & 022)
		return "writable by group or others";
	/* Its directory and every one above it: nobody else can swap them
	 * (safefs.c's walk from /, the compile cache's rule). */
	static char why[PATH_MAX + 128];
	char dir[PATH_MAX], w[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	if (!lt_safe_dir_ok(dirname(dir), w, sizeof(w))) {
		snprintf(why, sizeof(why), "its directory: %s", w);
		return why;
	}
	return NULL;
}

static int open_checked(lua_State *L, const char *path, int flags)
{
	int fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s (history not used)", path, strerror(errno));
		return -1;
	}
	const char *why = unsafe_file(fd, path);
	if (why) {
		close(fd);
		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s (history not used)", path, why);
		return -1;
	}
	return fd;
}

/* lineedit.history_load(path) -> { lines } | nil, err (nil, nil: none) */
int lt_l_history_load(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd >= 0)
		close(fd);
	fd = open_checked(L, path, O_RDONLY);
	if (fd < 0)
		return 2;
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return luaL_error(L, "history %s: %s", path, strerror(errno));
	}
	lua_newtable(L);
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int i = 0;
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			len--;
		lua_pushlstring(L, line, (size_t)len);
		lua_rawseti(L, -2, ++i);
	}
	free(line);
	fclose(f);
	return 1;
}

/* lineedit.history_write(path, text, append) -> true | nil, err */
int lt_l_history_write(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	size_t len;
	const char *text = luaL_checklstring(L, 2, &len);
	int flags = O_WRONLY | O_CREAT | (lua_toboolean(L, 3) ? O_APPEND : O_TRUNC);
	int fd = open_checked(L, path, flags);
	if (fd < 0)
		return 2;
	ssize_t w = write(fd, text, len);
	int err = errno;
	close(fd);
	if (w != (ssize_t)len) {
		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s", path, w < 0 ? strerror(err) : "short write");
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

