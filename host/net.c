/* net.c: non-blocking TCP sockets for the metrics endpoint. Lua parses
 * addresses and HTTP; C only creates, accepts, reads, writes and closes,
 * never blocking, so a slow or silent client cannot stall the event loop
 * that also drains BPF buffers (the sockets join it by fd).
 *
 *   core.listen(host, port[, backlog]) -> sock, bound_host, bound_port
 *   sock:accept() -> sock, peer | nil (nothing pending)
 *   sock:read(max) -> bytes | "" (peer closed) | nil (nothing yet)
 *   sock:write(bytes) -> how many were written (0 when the buffer is full)
 *   sock:fd(), sock:close()
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "lt.h"

#define LT_SOCK_MT "luatrace.socket"

struct lt_sock {
	int fd;
};

static struct lt_sock *sock_check(lua_State *L, int idx)
{
	struct lt_sock *s = luaL_checkudata(L, idx, LT_SOCK_MT);
	if (s->fd < 0)
		lt_failf(L, "use socket: it is closed");
	return s;
}

static struct lt_sock *sock_new(lua_State *L, int fd)
{
	struct lt_sock *s = lua_newuserdata(L, sizeof(*s));
	s->fd = fd;
	luaL_getmetatable(L, LT_SOCK_MT);
	lua_setmetatable(L, -2);
	return s;
}

/* "host", port of a socket address. */
static void push_addr(lua_State *L, const struct sockaddr *sa, socklen_t len)
{
	char host[NI_MAXHOST], port[NI_MAXSERV];
	if (getnameinfo(sa, len, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV)) {
		lua_pushnil(L);
		lua_pushnil(L);
		return;
	}
	lua_pushstring(L, host);
	lua_pushinteger(L, atoi(port));
}

static int l_listen(lua_State *L)
{
	const char *host = luaL_checkstring(L, 1);
	int port = (int)luaL_checkinteger(L, 2);
	int backlog = (int)luaL_optinteger(L, 3, 64);
	char target[300], service[16];
	snprintf(target, sizeof(target), "%s:%d", host, port);
	snprintf(service, sizeof(service), "%d", port);
	if (port < 0 || port > 65535)
		return lt_fail(L, "listen on", target, EINVAL,
			       "a port is 0..65535");
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res;
	int rc = getaddrinfo(host, service, &hints, &res);
	if (rc)
		return lt_failf(L, "listen on %s: %s", target, gai_strerror(rc));
	int fd = -1, err = 0;
	for (struct addrinfo *a = res; a; a = a->ai_next) {
		fd = socket(a->ai_family,
			    a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			err = errno;
			continue;
		}
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!bind(fd, a->ai_addr, a->ai_addrlen) && !listen(fd, backlog))
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return lt_fail(L, "listen on", target, err,
			       err == EADDRINUSE ? "another process has the port; pick another"
			       : err == EADDRNOTAVAIL ? "the address is not one of this host's"
			       : NULL);
	sock_new(L, fd);
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	push_addr(L, (struct sockaddr *)&ss, len);
	return 3;
}

static int l_accept(lua_State *L)
{
	struct lt_sock *s = sock_check(L, 1);
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = accept4(s->fd, (struct sockaddr *)&ss, &len,
			 SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		/* Nothing pending, or a connection that died before we got it. */
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED ||
		    errno == EINTR || errno == EPROTO)
			return 0;
		return lt_fail(L, "accept on", "metrics socket", errno,
			       errno == EMFILE ? "too many open files" : NULL);
	}
	sock_new(L, fd);
	push_addr(L, (struct sockaddr *)&ss, len);
	lua_pop(L, 1);	/* the peer's port */
	return 2;
}

static int l_read(lua_State *L)
{
	struct lt_sock *s = sock_check(L, 1);
	lua_Integer max = luaL_optinteger(L, 2, 4096);
	if (max <= 0 || max > 65536)
		max = 4096;
	char buf[max];
	ssize_t n = read(s->fd, buf, max);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		/* A reset peer reads as closed: the caller drops it. */
		lua_pushliteral(L, "");
		return 1;
	}
	lua_pushlstring(L, buf, n);
	return 1;
}

static int l_write(lua_State *L)
{
	struct lt_sock *s = sock_check(L, 1);
	size_t len;
	const char *data = luaL_checklstring(L, 2, &len);
	ssize_t n = send(s->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			n = 0;
		else
			n = -1;	/* the peer is gone */
	}
	lua_pushinteger(L, n);
	return 1;
}

static int l_fd(lua_State *L)
{
	lua_pushinteger(L, sock_check(L, 1)->fd);
	return 1;
}

static int l_close(lua_State *L)
{
	struct lt_sock *s = luaL_checkudata(L, 1, LT_SOCK_MT);
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	return 0;
}

void lt_open_net(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"accept", l_accept}, {"read", l_read}, {"write", l_write},
		{"fd", l_fd},	      {"close", l_close}, {"__gc", l_close},
		{NULL, NULL},
	};
	lt_new_metatable(L, LT_SOCK_MT, methods);
	static const luaL_Reg fns[] = {
		{"listen", l_listen},
		{NULL, NULL},
	};
	lt_setfuncs(L, fns);
}
