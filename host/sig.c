/* sig.c: SIGINT/SIGTERM/SIGHUP stop tracing, not the process.
 *
 * A signal sets a flag and writes a byte to a self-pipe that every poller
 * watches, so a script blocked in poll() sees the wait end and goes on to
 * its cleanup (END handlers, printing maps, detaching). When no poll is
 * running (a CPU-bound Lua loop) the handler also arms a Lua hook that
 * raises "interrupted" at the next instruction, as lua.c does. LuaJIT
 * never checks hooks inside a compiled trace, so a pure-Lua loop may not
 * see it: if the hook has not fired within STOP_GRACE_S seconds (or a
 * second signal comes first), the process exits at once. That is safe for
 * the kernel: every attachment is fd-owned and dies with the process.
 * The interactive console can reset the flag and keep its session; in
 * console mode (lt_sig_set_console) a running chunk gets the hook at once
 * and the alarm prints a note instead of exiting.
 *
 * A script that waits (it attached probes, or a poller, trace_pipe or
 * sleep exists or ran) gets
 * no hook on the first signal: its next wait returns false, so the code
 * after its poll loop runs with everything still open. The hook is only
 * the fallback if no wait comes within WAIT_GRACE_S. A wait that sees the
 * signal a second time raises "interrupted" (lt_sig_report), so a loop
 * that ignores the false ends instead of spinning. Signals within
 * REPEAT_MS of the first are one interrupt: timeout(1) signals the child
 * and then its process group. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "lt.h"

static lua_State *sig_L;
static int sig_pipe[2] = {-1, -1};
static volatile sig_atomic_t sig_pending;
static volatile sig_atomic_t sig_polling;
static volatile sig_atomic_t sig_hook_armed;
static volatile sig_atomic_t sig_console;  /* the console: see alarm_handler */
static volatile sig_atomic_t sig_waiter;   /* the script waits: no hook at first */
static volatile sig_atomic_t sig_reported; /* a wait returned false for it */
static long long sig_first_ms;

#define STOP_GRACE_S 2
#define WAIT_GRACE_S 5 /* a waiting script is busy in a callback, say */
#define REPEAT_MS 1000

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void arm_hook(void);

static void hard_stop(void)
{
	static const char msg[] = "luatrace: interrupted (the script did not "
				  "stop in time; its probes are released with the "
				  "process)\n";
	ssize_t r = write(2, msg, sizeof(msg) - 1);
	(void)r;
	_exit(130);
}

/* The console keeps its session: a loop that cannot be stopped gets a
 * note, and the second Ctrl-C (sig_handler) ends the process. */
static void alarm_handler(int signo)
{
	static const char note[] = "\nluatrace: the running code does not stop "
				   "(a JIT-compiled loop?); Ctrl-C again ends "
				   "luatrace\n";
	(void)signo;
	if (sig_hook_armed && sig_console) {
		ssize_t r = write(2, note, sizeof(note) - 1);
		(void)r;
	} else if (sig_hook_armed) {
		hard_stop();
	} else if (sig_pending && !sig_reported) {
		arm_hook(); /* a waiting script that did not wait again in time */
	}
}

static void sig_stop_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	sig_hook_armed = 0;
	alarm(0);
	lua_sethook(L, NULL, 0, 0);
	luaL_error(L, "interrupted");
}

static void arm_hook(void)
{
	if (!sig_L)
		return;
	sig_hook_armed = 1;
	alarm(STOP_GRACE_S);
	lua_sethook(sig_L, sig_stop_hook,
		    LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

static void sig_handler(int signo)
{
	int saved = errno;
	int again = sig_pending != 0;
	long long ms = now_ms();
	if (again && ms - sig_first_ms < REPEAT_MS) {
		errno = saved; /* the same interrupt, delivered twice */
		return;
	}
	if (!again)
		sig_first_ms = ms;
	sig_pending = signo;
	if (sig_pipe[1] >= 0) {
		char c = 1;
		ssize_t r = write(sig_pipe[1], &c, 1);
		(void)r;
	}
	if (again && sig_hook_armed)
		hard_stop();
	/* The console stops a running chunk at once (it keeps its session). */
	if (again || (!sig_polling && (!sig_waiter || sig_console)))
		arm_hook();
	else if (!sig_polling)
		alarm(WAIT_GRACE_S); /* the next wait reports it; else the hook */
	errno = saved;
}

void lt_sig_will_wait(void)
{
	sig_waiter = 1;
}

int lt_sig_report(lua_State *L)
{
	if (sig_reported)
		return luaL_error(L, "interrupted");
	/* From here the script runs its summary: no hook, no hard stop
	 * (a further signal starts them again). */
	sig_reported = 1;
	sig_hook_armed = 0;
	alarm(0);
	lua_sethook(L, NULL, 0, 0);
	return 0;
}

void lt_sig_install(lua_State *L)
{
	struct sigaction sa;
	sig_L = L;
	if (sig_pipe[0] < 0 && pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		sig_pipe[0] = sig_pipe[1] = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL); /* a closed terminal: stop, run the cleanup */
	sa.sa_handler = alarm_handler;
	sigaction(SIGALRM, &sa, NULL);
}

int lt_sig_pipe_fd(void)
{
	return sig_pipe[0];
}

int lt_sig_pending(void)
{
	return sig_pending;
}

void lt_sig_set_polling(int on)
{
	/* A wait begins: the probes are attached, so a command held for
	 * `-c` (proc.c) may run now. */
	if (on)
		lt_proc_release_held();
	sig_polling = on;
	if (on)
		sig_waiter = 1;
}

void lt_sig_set_console(int on)
{
	sig_console = on;
}

/* A stop that is no signal (the -c command exited): waits end as they do
 * for SIGTERM, running Lua code is not interrupted. Async-signal-safe. */
void lt_sig_request_stop(void)
{
	if (!sig_pending)
		sig_pending = SIGCHLD;
	if (sig_pipe[1] >= 0) {
		char c = 1;
		ssize_t r = write(sig_pipe[1], &c, 1);
		(void)r;
	}
}

void lt_sig_reset(void)
{
	char buf[64];
	while (sig_pipe[0] >= 0 && read(sig_pipe[0], buf, sizeof(buf)) > 0)
		;
	sig_pending = 0;
	sig_reported = 0;
	sig_hook_armed = 0;
	alarm(0);
	if (sig_L)
		lua_sethook(sig_L, NULL, 0, 0);
}
