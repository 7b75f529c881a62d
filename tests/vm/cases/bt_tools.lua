-- Debian's bpftrace tools on kprobes (/usr/sbin/*.bt, copied into the
-- guest by run.sh), run unchanged in the kernel matrix, each with the
-- event it reports made by this process: capable (setuid), tcpconnect,
-- tcpaccept and tcpsynbl (a loopback connection), undump (a UNIX stream
-- read). The host compiles each tool's C (declared below); the guest
-- finds it in its cache because it generates the same text under the same
-- name. A tool that is not installed on the host is skipped.
local lt = require "luatrace"
local core = lt.core
local bt = require "luatrace.bpftrace"
local ffi = require "ffi"

-- Declare a tool: its generated C is precompiled for the guest.
local function tool(name)
  local path = "/usr/sbin/" .. name .. ".bt"
  local fh = io.open(path)
  if not fh then return { missing = path } end
  local src = fh:read("*a")
  fh:close()
  local p = program(bt.compile(src, { name = path }).c)
  p.origin = { file = "bpftrace:" .. path, line = 1 }
  p.bt = { name = path, src = src }
  return p
end

-- Run a tool (unfiltered, as a user runs it) around trigger(): its text.
local function run(p, trigger)
  if p.missing then skip(p.missing .. " is not installed on the host") end
  if not core.has_kprobes() then skip("no kprobes in this kernel") end
  local out = {}
  local prog = bt.load(p.bt.src, { name = p.bt.name, out = function(s) out[#out + 1] = s end })
  local r = trigger()
  prog:run { duration_ms = 300 }
  return table.concat(out), r
end

local function lines_of(text, pat)
  local t = {}
  for l in text:gmatch("([^\n]*)\n") do if l:find(pat) then t[#t + 1] = l end end
  return t
end

pcall(ffi.cdef, [[
struct lt_tools_sin { uint16_t family; uint16_t port; uint32_t addr; uint8_t zero[8]; };
int socket(int domain, int type, int protocol);
int socketpair(int domain, int type, int protocol, int sv[2]);
int bind(int fd, const void *addr, unsigned len);
int listen(int fd, int backlog);
int accept(int fd, void *addr, unsigned *len);
int connect(int fd, const void *addr, unsigned len);
int getsockname(int fd, void *addr, unsigned *len);
long write(int fd, const void *buf, size_t n);
long read(int fd, void *buf, size_t n);
int close(int fd);
int setuid(int uid);
]])

local function port_of(fd)
  local sa = ffi.new("struct lt_tools_sin")
  local len = ffi.new("unsigned[1]", ffi.sizeof(sa))
  assert(ffi.C.getsockname(fd, sa, len) == 0)
  return bit.bor(bit.rshift(sa.port, 8), bit.lshift(bit.band(sa.port, 0xff), 8))
end

-- A loopback connection accepted (listen backlog 1): server and client ports.
local function tcp_connection()
  local srv = ffi.C.socket(2, 1, 0)
  local sa = ffi.new("struct lt_tools_sin", { family = 2, addr = 0x0100007f })
  assert(ffi.C.bind(srv, sa, ffi.sizeof(sa)) == 0 and ffi.C.listen(srv, 1) == 0)
  local len = ffi.new("unsigned[1]", ffi.sizeof(sa))
  assert(ffi.C.getsockname(srv, sa, len) == 0)
  local cli = ffi.C.socket(2, 1, 0)
  assert(ffi.C.connect(cli, sa, ffi.sizeof(sa)) == 0, "connect")
  local conn = ffi.C.accept(srv, nil, nil)
  assert(conn >= 0, "accept")
  local ports = { server = port_of(srv), client = port_of(cli) }
  ffi.C.close(conn); ffi.C.close(cli); ffi.C.close(srv)
  return ports
end

local PID = core.getpid()
local CAPABLE, TCPCONNECT = tool("capable"), tool("tcpconnect")
local TCPACCEPT, TCPSYNBL, UNDUMP = tool("tcpaccept"), tool("tcpsynbl"), tool("undump")

test("capable.bt: setuid(0) checks CAP_SETUID", function()
  local out = run(CAPABLE, function() ffi.C.setuid(0) end)
  ok(out:find("^Attaching 3 probes%.%.%.\nTracing cap_capable syscalls%.%.%. Hit Ctrl%-C to end%.\n"), out)
  local want = ("%-6d %-6d %-16s %-4d %-20s"):format(0, PID, "luatrace", 7, "CAP_SETUID")
  ok(#lines_of(out, "^%d%d:%d%d:%d%d  " .. want:gsub("%p", "%%%0") .. " %d+$") >= 1, out)
end)

test("tcpconnect.bt: our loopback connect with its ports", function()
  local out, ports = run(TCPCONNECT, tcp_connection)
  local want = ("%-8d %-16s %-39s %-6d %-39s %-6d"):format(PID, "luatrace", "127.0.0.1", ports.client,
    "127.0.0.1", ports.server)
  eq(#lines_of(out, "^%d%d:%d%d:%d%d " .. want:gsub("%p", "%%%0") .. "$"), 1, out)
end)

test("tcpaccept.bt: our accept, remote and local ends", function()
  local out, ports = run(TCPACCEPT, tcp_connection)
  local want = ("%-6d %-14s %-39s %-5d %-39s %-5d "):format(PID, "luatrace", "127.0.0.1", ports.client,
    "127.0.0.1", ports.server)
  eq(#lines_of(out, "^%d%d:%d%d:%d%d " .. want:gsub("%p", "%%%0") .. "%d+/%d+$"), 1, out)
end)

test("tcpsynbl.bt: the SYN of a connection to a backlog-1 listener", function()
  local out = run(TCPSYNBL, tcp_connection)
  ok(out:find("\n@backlog[backlog limit]: histogram of backlog size\n", 1, true), out)
  ok(out:find("\n@backlog%[1%]: \n%[0%]%s+1 |@+|\n"), out)
end)

test("undump.bt: a UNIX stream read, with its bytes", function()
  local data = "lt-undump-data"
  local out = run(UNDUMP, function()
    local sv = ffi.new("int[2]")
    assert(ffi.C.socketpair(1, 1, 0, sv) == 0)
    ffi.C.write(sv[0], data, #data)
    local buf = ffi.new("char[64]")
    assert(ffi.C.read(sv[1], buf, 64) == #data)
    ffi.C.close(sv[0]); ffi.C.close(sv[1])
  end)
  local want = ("%-16s %-8d %-8d %s"):format("luatrace", PID, #data, data)
  eq(#lines_of(out, "^%d%d:%d%d:%d%d " .. want:gsub("%p", "%%%0") .. "$"), 1, out)
end)
