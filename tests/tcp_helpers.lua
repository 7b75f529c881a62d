-- tests/tcp_helpers.lua: TCP over loopback from this process, for the
-- TCP tool tests: a listener, a connection that sends bytes both ways and
-- closes, and a connect to a closed port.
local ffi = require "ffi"

pcall(ffi.cdef, [[
struct lt_sockaddr_in { uint16_t family; uint16_t port; uint32_t addr; uint8_t zero[8]; };
int socket(int domain, int type, int protocol);
int bind(int fd, const void *addr, unsigned int len);
int listen(int fd, int backlog);
int accept(int fd, void *addr, unsigned int *len);
int connect(int fd, const void *addr, unsigned int len);
int getsockname(int fd, void *addr, unsigned int *len);
long send(int fd, const void *buf, size_t n, int flags);
long recv(int fd, void *buf, size_t n, int flags);
int close(int fd);
int setsockopt(int fd, int level, int name, const void *val, unsigned int len);
int fcntl(int fd, int cmd, ...);
]])

local M = {}
local AF_INET, SOCK_STREAM = 2, 1
local LOOPBACK = 0x0100007f -- 127.0.0.1 in network order on little-endian

local function htons(p) return bit.rshift(bit.bswap(p), 16) end
M.htons = htons

local function addr(port)
  local a = ffi.new("struct lt_sockaddr_in")
  a.family, a.port, a.addr = AF_INET, htons(port), LOOPBACK
  return a
end

local function port_of(fd)
  local a = ffi.new("struct lt_sockaddr_in")
  local len = ffi.new("unsigned int[1]", ffi.sizeof(a))
  assert(ffi.C.getsockname(fd, a, len) == 0)
  return htons(a.port)
end

-- A listener on 127.0.0.1 (ephemeral port): fd, port.
function M.listen()
  local fd = ffi.C.socket(AF_INET, SOCK_STREAM, 0)
  assert(fd >= 0, "socket")
  assert(ffi.C.bind(fd, addr(0), ffi.sizeof("struct lt_sockaddr_in")) == 0, "bind")
  assert(ffi.C.listen(fd, 8) == 0, "listen")
  return fd, port_of(fd)
end

local function send_all(fd, n)
  local buf = ffi.new("char[?]", n)
  local sent = 0
  while sent < n do
    local k = ffi.C.send(fd, buf + sent, n - sent, 0)
    assert(k > 0, "send")
    sent = sent + k
  end
end

local function recv_n(fd, n)
  local buf = ffi.new("char[65536]")
  local got = 0
  while got < n do
    local k = ffi.C.recv(fd, buf, math.min(65536, n - got), 0)
    assert(k > 0, "recv")
    got = got + k
  end
end

-- One session to the listener: the client sends `up` bytes, the server
-- `down`; the client closes first, then the server. Returns the client's
-- local port.
function M.session(lfd, port, up, down)
  local c = ffi.C.socket(AF_INET, SOCK_STREAM, 0)
  assert(ffi.C.connect(c, addr(port), ffi.sizeof("struct lt_sockaddr_in")) == 0, "connect")
  local s = ffi.C.accept(lfd, nil, nil)
  assert(s >= 0, "accept")
  if up > 0 then send_all(c, up); recv_n(s, up) end
  if down > 0 then send_all(s, down); recv_n(c, down) end
  local cport = port_of(c)
  ffi.C.close(c)
  ffi.C.close(s)
  return cport
end

-- connect() to a port nobody listens on: returns that port.
function M.refused()
  local fd = ffi.C.socket(AF_INET, SOCK_STREAM, 0)
  assert(ffi.C.bind(fd, addr(0), ffi.sizeof("struct lt_sockaddr_in")) == 0)
  local port = port_of(fd)
  ffi.C.close(fd)
  local c = ffi.C.socket(AF_INET, SOCK_STREAM, 0)
  assert(ffi.C.connect(c, addr(port), ffi.sizeof("struct lt_sockaddr_in")) ~= 0, "refused")
  ffi.C.close(c)
  return port
end

-- SYNs the listener drops: a listener with a backlog of 0 and two
-- non-blocking connects to it; the one that finds the accept queue full
-- has its SYN retransmitted (after 1 s). Returns the listener's port, the
-- two connecting ports and a function that closes everything.
function M.dropped_syn()
  local lfd = ffi.C.socket(AF_INET, SOCK_STREAM, 0)
  assert(ffi.C.bind(lfd, addr(0), ffi.sizeof("struct lt_sockaddr_in")) == 0)
  assert(ffi.C.listen(lfd, 0) == 0)
  local port = port_of(lfd)
  local fds, ports = {}, {}
  for i = 1, 2 do
    local c = ffi.C.socket(AF_INET, SOCK_STREAM, 0)
    ffi.C.fcntl(c, 4, ffi.cast("int", 0x800)) -- F_SETFL, O_NONBLOCK (an int through the varargs)
    ffi.C.connect(c, addr(port), ffi.sizeof("struct lt_sockaddr_in"))
    fds[i], ports[i] = c, port_of(c)
  end
  return port, ports, function() for _, c in ipairs(fds) do ffi.C.close(c) end ffi.C.close(lfd) end
end

M.close = function(fd) ffi.C.close(fd) end

return M
