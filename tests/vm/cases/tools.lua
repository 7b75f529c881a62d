-- Tool modules on kernel functions (kprobes/kretprobes), which the host
-- kernel lacks: funccount and funclatency through their module API, on
-- this process's reads (tests/vm/lib.lua's reads(n): read(2) of 123 bytes
-- from /dev/zero). The AOT objects and the embedded modules need no
-- compiler in the guest.
local core = require "luatrace.core"
local tool = require "luatrace.tool"
local me = core.getpid()

-- The program kind a running funccount/funclatency chose: "fentry" (its
-- fentry/fexit programs, targets set at run time) or "kprobe".
local function kinds(running)
  local seen = {}
  for _, p in ipairs(running.b:object():programs()) do seen[#seen + 1] = p.type end
  return table.concat(seen, ",")
end

test("funccount -p PID vfs_read: our reads, counted by fentry where allowed, else a kprobe", function()
  if not core.has_kprobes() and not core.has_fentry() then skip("no kprobes or fentry in this kernel") end
  local fc = tool.load("funccount")
  local running = fc.start(fc.parse{ "-p", tostring(me), "vfs_read" })
  reads(9)
  local rows = running.take()
  local b = running.b
  local attached = b:num_open_kprobes()
  running:stop()
  eq(#rows, 1)
  eq(rows[1].func, "vfs_read")
  eq(rows[1].count, 9)
  -- fentry programs are attached at load (auto-attach), kprobes by the tool
  eq(attached, core.has_fentry() and 0 or 1, "kprobes attached")
end)

test("funccount on fentry: programs fe_k with targets chosen at run time", function()
  if not core.has_fentry() then skip("no fentry in this kernel") end
  local fc = tool.load("funccount")
  local running = fc.start(fc.parse{ "-p", tostring(me), "vfs_read" })
  local secs = {}
  for _, p in ipairs(running.b:object():programs()) do
    if p.name == "fe_0" then secs[#secs + 1] = p.type end
  end
  reads(5)
  local rows = running.take()
  running:stop()
  eq(table.concat(secs, ","), "tracing")
  eq(rows[1].count, 5)
end)

test("funclatency -p PID vfs_read: every read in the histogram (fentry/fexit where allowed)", function()
  if not core.has_kprobes() and not core.has_fentry() then skip("no kprobes or fentry in this kernel") end
  local fl = tool.load("funclatency")
  local running = fl.start(fl.parse{ "-u", "-p", tostring(me), "vfs_read" })
  local k = kinds(running)
  reads(11)
  local h = running.take()
  running:stop()
  eq(h.total, 11)
  ok(k:find(core.has_fentry() and "tracing" or "kprobe", 1, true), k)
end)

test("vfsstat: our reads in the READ column, fentry or kprobes chosen at run time", function()
  if not core.has_kprobes() and not core.has_fentry() then skip("no kprobes or fentry in this kernel") end
  local vs = tool.load("vfsstat")
  local running = vs.start(vs.parse{ "-p", tostring(me) })
  reads(13)
  local v = running.take()
  running:stop()
  eq(v[1], 13, "reads")
end)

local ffi = require "ffi"
pcall(ffi.cdef, "int setuid(int uid);")

test("capable -p PID: our setuid(0) checks CAP_SETUID and is allowed", function()
  if not core.has_kprobes() and not core.has_fentry() then skip("no kprobes or fentry in this kernel") end
  local cp = tool.load("capable")
  local got = {}
  local running = cp.start(cp.parse{ "-p", tostring(me) }, function(r) got[#got + 1] = r end)
  eq(ffi.C.setuid(0), 0, "setuid")
  local L = require("luatrace.loop").new()
  L:add(running):run{ duration_ms = 300 }
  L:close()
  running:stop()
  local found
  for _, r in ipairs(got) do
    if r.name == "CAP_SETUID" then found = r end
  end
  ok(found, "a CAP_SETUID check among " .. #got)
  eq(found.pid, me); eq(found.cap, 7); eq(found.verdict, "allow"); eq(found.comm, "luatrace")
end)

pcall(ffi.cdef, [[
struct lt_vmtools_sin { uint16_t family; uint16_t port; uint32_t addr; uint8_t zero[8]; };
int socket(int domain, int type, int protocol);
int bind(int fd, const void *addr, unsigned len);
int listen(int fd, int backlog);
int accept(int fd, void *addr, unsigned *len);
int connect(int fd, const void *addr, unsigned len);
int getsockname(int fd, void *addr, unsigned *len);
int close(int fd);
]])

test("tcpaccept -p PID: our accept of a loopback connection, both ends", function()
  if not core.has_kprobes() and not core.has_fentry() then skip("no kprobes or fentry in this kernel") end
  local ta = tool.load("tcpaccept")
  local got = {}
  local running = ta.start(ta.parse{ "-p", tostring(me) }, function(r) got[#got + 1] = r end)
  local function port_of(fd)
    local sa = ffi.new("struct lt_vmtools_sin")
    local len = ffi.new("unsigned[1]", ffi.sizeof(sa))
    ffi.C.getsockname(fd, sa, len)
    return bit.rshift(bit.bswap(sa.port), 16)
  end
  local sa = ffi.new("struct lt_vmtools_sin", { family = 2, addr = 0x0100007f })
  local l = ffi.C.socket(2, 1, 0)
  assert(ffi.C.bind(l, sa, ffi.sizeof(sa)) == 0 and ffi.C.listen(l, 4) == 0)
  local port = port_of(l)
  sa.port = bit.rshift(bit.bswap(port), 16)
  local c = ffi.C.socket(2, 1, 0)
  assert(ffi.C.connect(c, sa, ffi.sizeof(sa)) == 0)
  local s = ffi.C.accept(l, nil, nil)
  assert(s >= 0)
  local cport = port_of(c)
  local L = require("luatrace.loop").new()
  L:add(running):run{ duration_ms = 300 }
  L:close()
  running:stop()
  ffi.C.close(s); ffi.C.close(c); ffi.C.close(l)
  eq(#got, 1, "one accept")
  local r = got[1]
  eq(r.pid, me); eq(r.comm, "luatrace"); eq(r.family, 4)
  eq(r.laddr, "127.0.0.1"); eq(r.lport, port); eq(r.raddr, "127.0.0.1"); eq(r.rport, cport)
end)

test("execsnoop: its bounded argument loop loads; our exec's arguments, exactly", function()
  local es = tool.load("execsnoop")
  local got = {}
  local running = es.start(es.parse{ "-P", tostring(me) }, function(r) got[#got + 1] = r end)
  local code = core.exec({ "/bin/sh", "-c", "exit 0", "lt-vm-exec", "a b", "c" })
  running.b:ring_buffer_poll(200)
  running:stop()
  eq(code, 0, "sh ran")
  eq(#got, 1, "one exec")
  eq(got[1].comm, "sh")
  eq(table.concat(got[1].args, "|"), "/bin/sh|-c|exit 0|lt-vm-exec|a b|c")
  eq(got[1].ppid, me)
end)
