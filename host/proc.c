/* proc.c: the process a trace is about: `luatrace -c CMD` (started held,
 * released once the probes are attached) or `-p PID` (already running).
 * Either one's exit ends the trace.
 *
 * spawn_held forks a child that blocks reading a pipe, then execs the
 * command: its pid exists (and can be filtered on, `cpid`) before it runs
 * a single instruction of the command. release() writes the pipe; closing
 * it unreleased makes the child exit without running the command (an
 * error before attaching leaves nothing behind). The first wait of the
 * process (poller, sleep, trace_pipe: lt_sig_set_polling) releases a held
 * command that the script did not release itself.
 *
 * A watcher thread polls the process's pidfd and, at exit, makes a stop
 * request (sig.c), as SIGTERM does: every wait returns "interrupted" and
 * the script goes on to print and clean up. (A thread, not SIGCHLD: it
 * works for -p processes that are not our children, and no signal cuts
 * other waits short.) pidfd() gives the descriptor to event loops. A trace
 * that ends first terminates its command (SIGTERM, then SIGKILL after 1 s),
 * as bpftrace does; the child also gets SIGTERM if luatrace dies
 * (PR_SET_PDEATHSIG). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
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
	int child;     /* ours (-c): reaped at close */
	int go_fd;     /* write end of the hold pipe; -1 once released */
	int pidfd;
	int stop_pipe[2]; /* wakes the watcher at close */
	pthread_t watcher;
	int watching;
	volatile int gone; /* the process has exited */
	int exited;    /* reaped: status is valid */
	int status;
};

/* The one target of this process (one -p or -c). */
static struct lt_target *volatile current;

static void *watch(void *arg)
{
	struct lt_target *t = arg;
	struct pollfd p[2] = {{.fd = t->pidfd, .events = POLLIN},
			      {.fd = t->stop_pipe[0], .events = POLLIN}};
	for (;;) {
		int n = poll(p, 2, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0 && (p[0].revents & (POLLIN | POLLHUP))) {
			t->gone = 1;
			lt_sig_request_stop();
		}
		return NULL;
	}
}

/* Start the watcher over t->pidfd. 0 or errno. */
static int start_watch(struct lt_target *t)
{
	if (t->pidfd < 0)
		return errno;
	if (pipe2(t->stop_pipe, O_CLOEXEC))
		return errno;
	/* the watcher must not take SIGINT/SIGTERM meant for the Lua thread */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int err = pthread_create(&t->watcher, NULL, watch, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return err;
	t->watching = 1;
	return 0;
}

static struct lt_target *new_target(lua_State *L)
{
	struct lt_target *t = lua_newuserdata(L, sizeof(*t));
	memset(t, 0, sizeof(*t));
	t->go_fd = t->pidfd = -1;
	t->stop_pipe[0] = t->stop_pipe[1] = -1;
	luaL_getmetatable(L, LT_TARGET_MT);
	lua_setmetatable(L, -2);
	return t;
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
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "luatrace: -c: exec %s: %s\n", argv[0],
			 strerror(errno));
	ssize_t w = write(2, msg, n > 0 && n < (int)sizeof(msg) ? (size_t)n : 0);
	(void)w;
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
		return lt_failf(L, "start command: one target process per luatrace");
	char **argv = lua_newuserdata(L, (n + 1) * sizeof(char *));
	for (int i = 0; i < n; i++) {
		lua_rawgeti(L, 1, i + 1);
		argv[i] = (char *)luaL_checkstring(L, -1);
		lua_pop(L, 1); /* the table keeps the string alive */
	}
	argv[n] = NULL;
	struct lt_target *t = new_target(L);
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return lt_fail(L, "start command", argv[0], errno, NULL);
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
	t->child = 1;
	t->go_fd = p[1];
	t->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	current = t;
	int err = start_watch(t);
	if (err)
		return lt_fail(L, "watch command", argv[0], err, NULL);
	return 1;
}

/* core.watch_pid(pid) -> target: a running process, whose exit will end
 * the trace. */
static int l_watch_pid(lua_State *L)
{
	pid_t pid = (pid_t)luaL_checkinteger(L, 1);
	char what[32];
	snprintf(what, sizeof(what), "process %d", (int)pid);
	if (current)
		return lt_failf(L, "watch %s: one target process per luatrace", what);
	struct lt_target *t = new_target(L);
	t->pid = pid;
	t->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (t->pidfd < 0)
		return lt_fail(L, "watch", what, errno,
			       errno == ESRCH ? "no such process" : NULL);
	current = t;
	int err = start_watch(t);
	if (err)
		return lt_fail(L, "watch", what, err, NULL);
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

/* target:status() -> nil while running; "exit", code | "signal", signo
 * ("exit" alone for a -p process: not our child, its status is not ours) */
static int l_status(lua_State *L)
{
	struct lt_target *t = check(L);
	if (t->child && !t->exited && t->pid) {
		int st;
		if (waitpid(t->pid, &st, WNOHANG) == t->pid) {
			t->status = st;
			t->exited = 1;
		}
	}
	if (!t->child && t->gone) {
		lua_pushstring(L, "exit");
		return 1; /* not our child: no status to read */
	}
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
	if (t->child && !t->exited) {
		if (!was_held && !t->gone)
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
	if (t->watching) {
		char c = 1;
		ssize_t r = write(t->stop_pipe[1], &c, 1);
		(void)r;
		pthread_join(t->watcher, NULL);
		t->watching = 0;
	}
	for (int i = 0; i < 2; i++)
		if (t->stop_pipe[i] >= 0)
			close(t->stop_pipe[i]);
	t->stop_pipe[0] = t->stop_pipe[1] = -1;
	if (t->pidfd >= 0)
		close(t->pidfd);
	t->pidfd = -1;
	if (current == t)
		current = NULL;
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
	lua_pushcfunction(L, l_watch_pid);
	lua_setfield(L, -2, "watch_pid");
}
