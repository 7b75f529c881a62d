/* tracepipe.c: lines of tracefs trace_pipe (bpf_trace_printk output) with a
 * timeout, interruptible by SIGINT/SIGTERM like every other wait. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lt.h"
#include "kfeatures.h"

#define LT_TRACEPIPE_MT "luatrace.tracepipe"

struct lt_tracepipe {
	int fd;
	char buf[65536];
	size_t len;
};

static struct lt_tracepipe *tp_check(lua_State *L)
{
	struct lt_tracepipe *t = luaL_checkudata(L, 1, LT_TRACEPIPE_MT);
	if (t->fd < 0)
		lt_failf(L, "read trace_pipe: it is closed");
	return t;
}

/* core.trace_pipe() -> reader */
static int l_trace_pipe(lua_State *L)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/trace_pipe", lt_tracefs());
	struct lt_tracepipe *t = lua_newuserdata(L, sizeof(*t));
	lt_sig_will_wait();
	t->len = 0;
	t->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0)
		return lt_fail(L, "open", path, errno, NULL);
	luaL_getmetatable(L, LT_TRACEPIPE_MT);
	lua_setmetatable(L, -2);
	return 1;
}

/* Push the first complete line of the buffer, if any. */
static int pop_line(lua_State *L, struct lt_tracepipe *t)
{
	char *nl = memchr(t->buf, '\n', t->len);
	if (!nl)
		return 0;
	size_t n = nl - t->buf;
	lua_pushlstring(L, t->buf, n);
	memmove(t->buf, nl + 1, t->len - n - 1);
	t->len -= n + 1;
	return 1;
}

/* reader:read(timeout_ms) -> line | nil (timeout) | false (interrupted) */
static int l_read(lua_State *L)
{
	struct lt_tracepipe *t = tp_check(L);
	int timeout = (int)luaL_optinteger(L, 2, -1);
	lt_gc_normal(L); /* started: the GC's normal pause (sys.c) */
	for (;;) {
		if (pop_line(L, t))
			return 1;
		if (lt_sig_pending()) {
			lt_sig_report(L);
			lua_pushboolean(L, 0);
			return 1;
		}
		if (t->len == sizeof(t->buf)) { /* a line longer than the buffer */
			lua_pushlstring(L, t->buf, t->len);
			t->len = 0;
			return 1;
		}
		ssize_t n = read(t->fd, t->buf + t->len, sizeof(t->buf) - t->len);
		if (n > 0) {
			t->len += n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return lt_fail(L, "read", "trace_pipe", errno, NULL);
		struct pollfd p[2] = {{.fd = t->fd, .events = POLLIN},
				      {.fd = lt_sig_pipe_fd(), .events = POLLIN}};
		lt_sig_set_polling(1);
		int r = poll(p, p[1].fd >= 0 ? 2 : 1, timeout);
		lt_sig_set_polling(0);
		if (lt_sig_pending()) {
			lt_sig_report(L);
			lua_pushboolean(L, 0);
			return 1;
		}
		if (r == 0) {
			lua_pushnil(L);
			return 1;
		}
	}
}

static int l_close(lua_State *L)
{
	struct lt_tracepipe *t = luaL_checkudata(L, 1, LT_TRACEPIPE_MT);
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	return 0;
}

void lt_open_tracepipe(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"read", l_read},
		{"close", l_close},
		{"__gc", l_close},
		{NULL, NULL},
	};
	lt_new_metatable(L, LT_TRACEPIPE_MT, methods);
	lua_pushcfunction(L, l_trace_pipe);
	lua_setfield(L, -2, "trace_pipe");
}
