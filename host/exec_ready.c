/* exec_ready.c: when a program run by exec.c is done as far as its
 * caller cares. Given ready = {fd = directory, name = file}, a program
 * that renames its finished output to that name (clang writes a
 * temporary and renames it once the compile succeeded) and printed
 * nothing is done then. It only has to exit still, which for clang
 * (static destructors, then ~100 MB of mappings to undo) takes 3-5 ms
 * more; a thread reaps it meanwhile. A program that printed (warnings:
 * clang adds "N warnings generated." after the rename) is read to its
 * end, so its output is whole. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include "exec_ready.h"

/* One inotify instance for the whole process, never closed: closing one
 * waits for an SRCU grace period (~10 ms here), removing a watch does not. */
static int notify_fd = -1;

/* The watch for ready = {fd = dir, name = file} at idx (none: -1). Set
 * before the program starts, so its rename cannot come first; what was
 * queued before is dropped, so only this program's rename can match. The
 * directory is the caller's checked fd, reached as /proc/self/fd/N (the
 * open directory itself, not a path looked up again). Two programs
 * watched at once in one directory share its watch, and this drain or
 * the first unwatch can take the other's rename: that one is then read
 * to its end, slower but whole (compile.lua kills an early clang before
 * it runs another). */
int lt_exec_watch(lua_State *L, int idx, const char **name)
{
	*name = NULL;
	if (lua_isnoneornil(L, idx))
		return -1;
	luaL_checktype(L, idx, LUA_TTABLE);
	lua_getfield(L, idx, "fd");
	int dfd = (int)luaL_checkinteger(L, -1);
	lua_getfield(L, idx, "name");
	*name = luaL_checkstring(L, -1); /* anchored by the table */
	lua_pop(L, 2);
	if (notify_fd < 0)
		notify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	char path[32];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", dfd);
	int wd = notify_fd < 0 ? -1 :
		 inotify_add_watch(notify_fd, path, IN_MOVED_TO | IN_ONLYDIR);
	if (wd < 0) {
		*name = NULL; /* no early end: the program is read to its end */
		return -1;
	}
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	while (read(notify_fd, buf, sizeof(buf)) > 0)
		;
	return wd;
}

void lt_exec_unwatch(int wd)
{
	if (wd >= 0)
		inotify_rm_watch(notify_fd, wd);
}

/* Whether watch wd saw something renamed to name. */
static bool renamed_to(int wd, const char *name)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool hit = false;
	ssize_t n;
	while ((n = read(notify_fd, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)p;
			if (e->wd == wd && e->len && !strcmp(e->name, name))
				hit = true;
			p += sizeof(*e) + e->len;
		}
	return hit;
}

static void *reap(void *arg)
{
	while (waitpid((pid_t)(intptr_t)arg, NULL, 0) < 0 && errno == EINTR)
		;
	return NULL;
}

/* A program done but still exiting: reaped by a thread of its own, which
 * takes no signals (they stay with the thread that waits for events). */
void lt_exec_reap_later(pid_t pid)
{
	pthread_attr_t a;
	pthread_t t;
	sigset_t all, old;
	sigfillset(&all);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, 64 * 1024);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int err = pthread_create(&t, &a, reap, (void *)(intptr_t)pid);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&a);
	if (err)
		reap((void *)(intptr_t)pid);
}

/* Read a program's output (fd out) into b to its end; true when it ended
 * early instead: `name` renamed into place (watch wd) with nothing
 * printed. A rename is seen after every write before it, so an empty pipe
 * then means a quiet program. */
bool lt_exec_read_output(int out, int wd, const char *name, luaL_Buffer *b)
{
	char buf[8192];
	bool quiet = true;
	for (;;) {
		if (wd >= 0 && quiet) {
			struct pollfd p[2] = {{.fd = out, .events = POLLIN},
					      {.fd = notify_fd, .events = POLLIN}};
			if (poll(p, 2, -1) < 0 && errno == EINTR)
				continue;
			if (!p[0].revents && (p[1].revents & POLLIN)) {
				struct pollfd o = {.fd = out, .events = POLLIN};
				if (renamed_to(wd, name) && poll(&o, 1, 0) == 0)
					return true;
				continue;
			}
		}
		ssize_t n = read(out, buf, sizeof(buf));
		if (n == 0)
			return false;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		quiet = false;
		luaL_addlstring(b, buf, n);
	}
}

