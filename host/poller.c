/* poller.c: one epoll over event channels, plain fds and the signal pipe,
 * and the waits built on it (poller:wait, core.sleep). SIGINT/SIGTERM end
 * a wait cleanly: it returns false (sig.c decides when a later wait raises
 * "interrupted" instead). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include "lt.h"

/* The poller: one epoll over channels and the signal pipe. */
struct lt_poller {
	int epfd;
	int n;
};

static struct lt_poller *poller_check(lua_State *L, int idx)
{
	struct lt_poller *p = luaL_checkudata(L, idx, LT_POLLER_MT);
	if (p->epfd < 0)
		lt_failf(L, "use poller: it is closed");
	return p;
}

/* core.poller() -> poller */
static int l_poller(lua_State *L)
{
	struct lt_poller *p = lua_newuserdata(L, sizeof(*p));
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	p->n = 0;
	if (p->epfd < 0)
		return lt_fail(L, "create", "poller", errno, NULL);
	luaL_getmetatable(L, LT_POLLER_MT);
	lua_setmetatable(L, -2);
	lua_newtable(L); /* channels, kept alive */
	lua_setfenv(L, -2);
	lt_sig_will_wait();
	int sfd = lt_sig_pipe_fd();
	if (sfd >= 0) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 0};
		epoll_ctl(p->epfd, EPOLL_CTL_ADD, sfd, &ev);
	}
	return 1;
}

/* poller:add(chan) -> index (what wait() reports when it is ready) */
static int l_poller_add(lua_State *L)
{
	struct lt_poller *p = poller_check(L, 1);
	const char *name;
	int fd = lt_chan_epoll_fd(L, 2, &name);
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = p->n + 1};
	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev))
		return lt_fail(L, "add to poller", name, errno, NULL);
	lua_getfenv(L, 1);
	lua_pushvalue(L, 2);
	lua_rawseti(L, -2, ++p->n);
	lua_pushinteger(L, p->n);
	return 1;
}

/* poller:add_fd(fd) -> index: any readable fd (a socket, a timerfd, a
 * pipe) joins the same epoll; wait() reports it by this index. The caller
 * owns the fd and removes it before closing it. */
static int l_poller_add_fd(lua_State *L)
{
	struct lt_poller *p = poller_check(L, 1);
	int fd = (int)luaL_checkinteger(L, 2);
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = ++p->n};
	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		p->n--;
		return lt_failf(L, "add fd %d to poller: %s", fd, strerror(errno));
	}
	lua_pushinteger(L, p->n);
	return 1;
}

/* poller:remove_fd(fd): stop watching fd (also a channel's epoll_fd()). */
static int l_poller_remove_fd(lua_State *L)
{
	struct lt_poller *p = poller_check(L, 1);
	int fd = (int)luaL_checkinteger(L, 2);
	if (epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, NULL) && errno != ENOENT &&
	    errno != EBADF)
		return lt_failf(L, "remove fd %d from poller: %s", fd, strerror(errno));
	return 0;
}

/* Wait on epfd (or just the signal pipe when epfd < 0). Returns the number
 * of ready channels, or -1 when a signal asked us to stop. */
static int wait_ready(int epfd, int timeout_ms, int *ready)
{
	if (lt_sig_pending())
		return -1;
	struct epoll_event evs[64];
	lt_sig_set_polling(1);
	int n;
	if (epfd >= 0) {
		n = epoll_wait(epfd, evs, 64, timeout_ms);
	} else {
		struct pollfd pfd = {.fd = lt_sig_pipe_fd(), .events = POLLIN};
		n = poll(&pfd, pfd.fd >= 0 ? 1 : 0, timeout_ms);
		n = n > 0 ? 0 : n;
	}
	int err = errno;
	lt_sig_set_polling(0);
	if (lt_sig_pending())
		return -1;
	if (n < 0)
		return err == EINTR ? 0 : -err - 1;
	int k = 0;
	for (int i = 0; i < n; i++)
		if (evs[i].data.u32)
			ready[k++] = evs[i].data.u32;
	return k;
}

/* poller:wait(timeout_ms) -> {ready channel indexes}, or false when
 * SIGINT/SIGTERM arrived (the loop should end and clean up). */
static int l_poller_wait(lua_State *L)
{
	struct lt_poller *p = poller_check(L, 1);
	int timeout = (int)luaL_optinteger(L, 2, -1);
	int ready[64];
	lt_gc_normal(L); /* started: the GC's normal pause (sys.c) */
	int k = wait_ready(p->epfd, timeout, ready);
	if (k == -1) {
		lt_sig_report(L);
		lua_pushboolean(L, 0);
		return 1;
	}
	if (k < -1)
		return lt_fail(L, "wait for", "events", -(k + 1), NULL);
	lua_createtable(L, k, 0);
	for (int i = 0; i < k; i++) {
		lua_pushinteger(L, ready[i]);
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

static int l_poller_close(lua_State *L)
{
	struct lt_poller *p = luaL_checkudata(L, 1, LT_POLLER_MT);
	if (p->epfd >= 0)
		close(p->epfd);
	p->epfd = -1;
	return 0;
}

/* core.sleep(ms) -> true, or false when interrupted by SIGINT/SIGTERM. */
static int l_sleep(lua_State *L)
{
	int ready[1];
	lt_gc_normal(L);
	int stopped = wait_ready(-1, (int)luaL_checknumber(L, 1), ready) == -1;
	if (stopped)
		lt_sig_report(L);
	lua_pushboolean(L, !stopped);
	return 1;
}

static int l_interrupted(lua_State *L)
{
	lua_pushboolean(L, lt_sig_pending() != 0);
	return 1;
}

static int l_reset_interrupt(lua_State *L)
{
	(void)L;
	lt_sig_reset();
	return 0;
}

void lt_open_poller(lua_State *L)
{
	static const luaL_Reg poller_methods[] = {
		{"add", l_poller_add},
		{"add_fd", l_poller_add_fd},
		{"remove_fd", l_poller_remove_fd},
		{"wait", l_poller_wait},
		{"close", l_poller_close},
		{"__gc", l_poller_close},
		{NULL, NULL},
	};
	static const luaL_Reg fns[] = {
		{"poller", l_poller},
		{"sleep", l_sleep},
		{"interrupted", l_interrupted},
		{"reset_interrupt", l_reset_interrupt},
		{NULL, NULL},
	};
	lt_new_metatable(L, LT_POLLER_MT, poller_methods);
	lt_setfuncs(L, fns);
}
