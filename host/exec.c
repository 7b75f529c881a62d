/* exec.c: running a program (clang) with its output captured and no shell
 * in between: core.exec runs it to the end; core.exec_start starts it
 * with its input still to come (a pipe), so its start-up (clang loads
 * ~100 MB of libraries before it reads a byte) overlaps the caller's work
 * until core.exec_finish gives the input, or core.exec_cancel kills it.
 * Both may be told where the program's result appears (ready = {fd =
 * directory, name = file}): a quiet program is done once it is there
 * (exec_ready.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include "exec_ready.h"
#include "lt.h"

/* The child side: input from `in` (or /dev/null), output to the pipe, the
 * given directory fds at 3, 4, ... (so the child can name them as
 * /proc/self/fd/3...), killed when luatrace dies (a SIGKILLed luatrace
 * must not leave a compiler running). Only async-signal-safe calls. */
static void exec_child(const char **argv, int in, int out, int errfd,
		       const int *fds, int nfds, pid_t parent)
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
	if (in < 0)
		in = open("/dev/null", O_RDONLY);
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

/* A started program: its pid, the write end of its input (-1: none), the
 * read ends of its output and of its exec error, and the watch for its
 * result `ready` (-1: none; exec_ready.c). */
struct child {
	pid_t pid;
	int in, out, err, watch;
	const char *ready;
};

/* Start argv (table at index 1) with fds (optional table at index 2) and
 * ready (optional, index 3: exec_ready.c); with want_in, its stdin is a
 * pipe. 0, or an errno. */
static int start(lua_State *L, bool want_in, struct child *c)
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
		return ENOMEM;
	for (int i = 0; i < argc; i++) {
		lua_rawgeti(L, 1, i + 1);
		argv[i] = lua_tostring(L, -1); /* anchored by the table */
		lua_pop(L, 1);
		if (!argv[i]) {
			free(argv);
			return luaL_argerror(L, 1, "argv items must be strings");
		}
	}
	const char *ready;
	int watch = lt_exec_watch(L, 3, &ready);
	/* an exec failure is reported through a pipe that exec closes */
	int pfd[2] = {-1, -1}, efd[2] = {-1, -1}, ifd[2] = {-1, -1};
	int err = 0;
	if (pipe2(pfd, O_CLOEXEC) || pipe2(efd, O_CLOEXEC) ||
	    (want_in && pipe2(ifd, O_CLOEXEC)))
		err = errno;
	pid_t parent = getpid(), pid = -1;
	if (!err) {
		pid = fork();
		if (pid == 0)
			exec_child(argv, ifd[0], pfd[1], efd[1], fds, nfds, parent);
		if (pid < 0)
			err = errno;
	}
	free(argv);
	int child_ends[] = {pfd[1], efd[1], ifd[0]};
	for (int i = 0; i < 3; i++)
		if (child_ends[i] >= 0)
			close(child_ends[i]);
	if (err) {
		int ours[] = {pfd[0], efd[0], ifd[1]};
		for (int i = 0; i < 3; i++)
			if (ours[i] >= 0)
				close(ours[i]);
		lt_exec_unwatch(watch);
		return err;
	}
	*c = (struct child){.pid = pid, .in = ifd[1], .out = pfd[0], .err = efd[0],
			    .watch = watch, .ready = ready};
	return 0;
}

/* Write all of data to fd; a reader gone (the program died) is not a
 * signal that kills us: the program's own output says why. */
static void write_all(int fd, const char *p, size_t n)
{
	sigset_t pipe_set, old;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	bool broken = false;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			broken = errno == EPIPE;
			break;
		}
		p += w;
		n -= w;
	}
	if (broken) {
		struct timespec zero = {0, 0};
		sigtimedwait(&pipe_set, NULL, &zero); /* the pending SIGPIPE */
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Read the program's output to its end (or its early end), reap it, push
 * exit code (or 128+signal) and output, or nil, err when it could not be
 * started. */
static int finish(lua_State *L, struct child *c)
{
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	bool early = lt_exec_read_output(c->out, c->watch, c->ready, &b);
	/* the output first: a long one is in pieces on the stack until then */
	luaL_pushresult(&b);
	close(c->out);
	lt_exec_unwatch(c->watch);
	if (early) {
		close(c->err); /* it ran: only a failed exec writes there */
		lt_exec_reap_later(c->pid);
		lua_pushinteger(L, 0);
		lua_insert(L, -2);
		return 2;
	}
	int exec_err = 0;
	if (read(c->err, &exec_err, sizeof(exec_err)) != sizeof(exec_err))
		exec_err = 0;
	close(c->err);
	int status;
	while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
		;
	if (exec_err) {
		lua_pushnil(L);
		lua_pushstring(L, strerror(exec_err));
		return 2;
	}
	lua_pushinteger(L, WIFEXITED(status) ? WEXITSTATUS(status) :
					       128 + WTERMSIG(status));
	lua_insert(L, -2);
	return 2;
}

/* core.exec(argv [, fds [, ready]]) -> exit code (or 128+signal), output
 * (stdout and stderr together) | nil, err when the program cannot be
 * started. fds: up to 16 open fds the program gets as 3, 4, ...; stdin is
 * /dev/null. ready: {fd = dir, name = file}, see exec_ready.c. */
static int l_exec(lua_State *L)
{
	struct child c;
	int err = start(L, false, &c);
	if (err) {
		lua_pushnil(L);
		lua_pushstring(L, strerror(err));
		return 2;
	}
	return finish(L, &c);
}

/* The handle of a started program: {pid, in, out, err, watch, ready} as
 * a table (which keeps the ready string). */
static void push_child(lua_State *L, const struct child *c)
{
	lua_createtable(L, 0, 6);
	lua_pushinteger(L, c->watch);
	lua_setfield(L, -2, "watch");
	if (c->ready) {
		lua_pushstring(L, c->ready);
		lua_setfield(L, -2, "ready");
	}
	lua_pushinteger(L, c->pid);
	lua_setfield(L, -2, "pid");
	lua_pushinteger(L, c->in);
	lua_setfield(L, -2, "stdin");
	lua_pushinteger(L, c->out);
	lua_setfield(L, -2, "out");
	lua_pushinteger(L, c->err);
	lua_setfield(L, -2, "err");
}

static struct child check_child(lua_State *L, int idx)
{
	luaL_checktype(L, idx, LUA_TTABLE);
	struct child c;
	lua_getfield(L, idx, "pid");
	c.pid = (pid_t)luaL_checkinteger(L, -1);
	lua_getfield(L, idx, "stdin");
	c.in = (int)luaL_checkinteger(L, -1);
	lua_getfield(L, idx, "out");
	c.out = (int)luaL_checkinteger(L, -1);
	lua_getfield(L, idx, "err");
	c.err = (int)luaL_checkinteger(L, -1);
	lua_getfield(L, idx, "watch");
	c.watch = (int)luaL_checkinteger(L, -1);
	lua_getfield(L, idx, "ready");
	c.ready = lua_tostring(L, -1); /* anchored by the handle */
	lua_pop(L, 6);
	/* used once: a second finish or cancel would touch reused fds */
	lua_pushinteger(L, -1);
	lua_setfield(L, idx, "pid");
	return c;
}

/* core.exec_start(argv [, fds [, ready]]) -> handle | nil, err: as
 * core.exec, but its stdin is a pipe fed by core.exec_finish. */
static int l_exec_start(lua_State *L)
{
	struct child c;
	int err = start(L, true, &c);
	if (err) {
		lua_pushnil(L);
		lua_pushstring(L, strerror(err));
		return 2;
	}
	push_child(L, &c);
	return 1;
}

/* core.exec_finish(handle, input) -> as core.exec: input written to the
 * program's stdin (then closed), its output read, the program reaped. */
static int l_exec_finish(lua_State *L)
{
	size_t n;
	const char *input = luaL_checklstring(L, 2, &n);
	struct child c = check_child(L, 1);
	if (c.pid < 0)
		return luaL_argerror(L, 1, "finished or cancelled already");
	write_all(c.in, input, n);
	close(c.in);
	return finish(L, &c);
}

/* core.exec_cancel(handle): the program killed and reaped (no-op when it
 * was finished or cancelled already). */
static int l_exec_cancel(lua_State *L)
{
	struct child c = check_child(L, 1);
	if (c.pid < 0)
		return 0;
	kill(c.pid, SIGKILL);
	close(c.in);
	close(c.out);
	close(c.err);
	lt_exec_unwatch(c.watch);
	while (waitpid(c.pid, NULL, 0) < 0 && errno == EINTR)
		;
	return 0;
}

void lt_open_exec(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{"exec", l_exec},
		{"exec_start", l_exec_start},
		{"exec_finish", l_exec_finish},
		{"exec_cancel", l_exec_cancel},
		{NULL, NULL},
	};
	lt_setfuncs(L, fns);
}
