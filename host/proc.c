/* proc.c: the command of `luatrace -c CMD`: started held, released once
 * the probes are attached, and its exit ends the trace.
 *
 * spawn_held forks a child that blocks reading a pipe, then execs the
 * command: its pid exists (and can be filtered on, `cpid`) before it runs
 * a single instruction of the command. release() writes the pipe; closing
 * it unreleased makes the child exit without running the command (an
 * error before attaching leaves nothing behind). The first wait of the
 * process (poller, sleep, trace_pipe: lt_sig_set_polling) releases a held
 * command that the script did not release itself.
 *
 * The child's exit is a stop request (sig.c), as SIGTERM is: every wait
 * returns "interrupted" and the script goes on to print and clean up. A
 * SIGCHLD handler reaps only this pid (core.exec reaps its own children).
 * pidfd() gives a descriptor that becomes readable at exit, for event
 * loops that watch fds. Tracing ending first kills the command (SIGTERM),
 * as bpftrace does; the child also gets SIGTERM if luatrace dies
 * (PR_SET_PDEATHSIG). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lt.h"

#define LT_TARGET_MT "luatrace.target"

struct lt_target {
	pid_t pid;
	int go_fd;     /* write end of the hold pipe; -1 once released */
	int pidfd;
	int exited;    /* reaped: status is valid */
	int status;
};

/* The one command of this process (there is one -c). */
static struct lt_target *volatile current;

static void sigchld(int signo)
{
	(void)signo;
	int saved = errno;
	struct lt_target *t = current;
	int st;
	if (t && !t->exited && waitpid(t->pid, &st, WNOHANG) == t->pid) {
		t->status = st;
		t->exited = 1;
		lt_sig_request_stop();
	}
	errno = saved;
}

static void release(struct lt_target *t)
{
	if (t->go_fd < 0)
		return;
	char c = 'g';
	ssize_t r = write(t->go_fd, &c, 1);
	(void)r;
	close(t->go_fd);
	t->go_fd = -1;
}

void lt_proc_release_held(void)
{
	if (current && current->go_fd >= 0)
		release(current);
}

static struct lt_target *check(lua_State *L)
{
	return luaL_checkudata(L, 1, LT_TARGET_MT);
}

/* Child side: wait for the go byte, then exec. Never returns. */
static void child(int rd, char **argv)
{
	struct sigaction sa = {.sa_handler = SIG_DFL};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	char c;
	ssize_t r;
	do
		r = read(rd, &c, 1);
	while (r < 0 && errno == EINTR);
	if (r != 1)
		_exit(0); /* never released: the trace did not start */
	close(rd);
	execv(argv[0], argv);
	_exit(127);
}

/* core.spawn_held({path, arg1, ...}) -> target (target.pid, :release(),
 * :pidfd(), :status(), :close()). path must be the executable's path. */
static int l_spawn_held(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	int n = (int)lua_objlen(L, 1);
	if (n < 1)
		return luaL_argerror(L, 1, "empty command");
	if (current)
		return lt_failf(L, "start command: one command per process");
	char **argv = lua_newuserdata(L, (n + 1) * sizeof(char *));
	for (int i = 0; i < n; i++) {
		lua_rawgeti(L, 1, i + 1);
		argv[i] = (char *)luaL_checkstring(L, -1);
		lua_pop(L, 1); /* the table keeps the string alive */
	}
	argv[n] = NULL;
	struct lt_target *t = lua_newuserdata(L, sizeof(*t));
	memset(t, 0, sizeof(*t));
	t->go_fd = t->pidfd = -1;
	luaL_getmetatable(L, LT_TARGET_MT);
	lua_setmetatable(L, -2);
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return lt_fail(L, "start command", argv[0], errno, NULL);
	struct sigaction sa = {.sa_handler = sigchld, .sa_flags = SA_RESTART | SA_NOCLDSTOP};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	pid_t pid = fork();
	if (pid < 0) {
		int err = errno;
		close(p[0]);
		close(p[1]);
		return lt_fail(L, "start command", argv[0], err, NULL);
	}
	if (pid == 0) {
		close(p[1]);
		child(p[0], argv);
	}
	close(p[0]);
	t->pid = pid;
	t->go_fd = p[1];
	t->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	current = t;
	return 1;
}

static int l_pid(lua_State *L)
{
	lua_pushinteger(L, check(L)->pid);
	return 1;
}

static int l_release(lua_State *L)
{
	release(check(L));
	return 0;
}

static int l_released(lua_State *L)
{
	lua_pushboolean(L, check(L)->go_fd < 0);
	return 1;
}

/* target:pidfd() -> fd readable once the command exits (nil if the kernel
 * has no pidfd_open) */
static int l_pidfd(lua_State *L)
{
	struct lt_target *t = check(L);
	if (t->pidfd < 0)
		return 0;
	lua_pushinteger(L, t->pidfd);
	return 1;
}

/* target:status() -> nil while running; "exit", code | "signal", signo */
static int l_status(lua_State *L)
{
	struct lt_target *t = check(L);
	if (!t->exited)
		return 0;
	if (WIFSIGNALED(t->status)) {
		lua_pushstring(L, "signal");
		lua_pushinteger(L, WTERMSIG(t->status));
	} else {
		lua_pushstring(L, "exit");
		lua_pushinteger(L, WEXITSTATUS(t->status));
	}
	return 2;
}

/* target:close(): a command never released exits without running; one
 * still running is sent SIGTERM and reaped. Idempotent. */
static int l_close(lua_State *L)
{
	struct lt_target *t = check(L);
	if (!t->pid)
		return 0;
	int was_held = t->go_fd >= 0;
	if (was_held) {
		close(t->go_fd);
		t->go_fd = -1;
	}
	if (!t->exited) {
		if (!was_held)
			kill(t->pid, SIGTERM);
		/* up to 1 s for SIGTERM, then SIGKILL */
		for (int i = 0; i < 200 && !t->exited; i++) {
			int st;
			pid_t r = waitpid(t->pid, &st, i < 100 ? WNOHANG : 0);
			if (r == t->pid) {
				t->status = st;
				t->exited = 1;
			} else if (r < 0 && errno != EINTR) {
				break;
			} else if (i == 99) {
				kill(t->pid, SIGKILL);
			} else if (i < 100) {
				usleep(10000);
			}
		}
	}
	if (t->pidfd >= 0)
		close(t->pidfd);
	t->pidfd = -1;
	if (current == t) {
		current = NULL;
		struct sigaction sa = {.sa_handler = SIG_DFL};
		sigaction(SIGCHLD, &sa, NULL);
	}
	t->pid = 0;
	return 0;
}

void lt_open_proc(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"pid", l_pid},
		{"release", l_release},
		{"released", l_released},
		{"pidfd", l_pidfd},
		{"status", l_status},
		{"close", l_close},
		{"__gc", l_close},
		{NULL, NULL},
	};
	lt_new_metatable(L, LT_TARGET_MT, methods);
	lua_pushcfunction(L, l_spawn_held);
	lua_setfield(L, -2, "spawn_held");
}
