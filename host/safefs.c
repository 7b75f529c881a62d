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
 * The result is an O_PATH fd of the directory; safedir.c makes it a Lua
 * object whose files are opened with openat(O_NOFOLLOW) and checked by
 * fstat on the open fd, and which other processes (clang) reach as
 * /proc/self/fd/N, the fd itself. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "lt.h"

#define MAX_LINKS 16

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
bool lt_dir_private(const struct stat *st, char *why, size_t n)
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
				snprintf(why, n, "%s/%s is not a directory", sofar, comp);
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
	if (fstat(dfd, &st) || !lt_dir_private(&st, why, n))
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

int lt_safe_open_dir(const char *path, char *why, size_t n)
{
	why[0] = 0;
	return walk(path, 1, why, n);
}

