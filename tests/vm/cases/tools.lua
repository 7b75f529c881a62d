-- Tool modules on kernel functions (kprobes/kretprobes), which the host
-- kernel lacks: funccount and funclatency through their module API, on
-- this process's reads (tests/vm/lib.lua's reads(n): read(2) of 123 bytes
-- from /dev/zero). The AOT objects and the embedded modules need no
-- compiler in the guest.
local core = require "luatrace.core"
local tool = require "luatrace.tool"
local me = core.getpid()

test("funccount -p PID vfs_read: our reads, counted by a kprobe", function()
  if not core.has_kprobes() then skip("no kprobes in this kernel") end
  local fc = tool.load("funccount")
  local running = fc.start(fc.parse{ "-p", tostring(me), "vfs_read" })
  reads(9)
  local rows = running.take()
  running:stop()
  eq(#rows, 1)
  eq(rows[1].func, "vfs_read")
  eq(rows[1].count, 9)
end)

test("funclatency -p PID vfs_read: every read in the histogram", function()
  if not core.has_kprobes() then skip("no kprobes in this kernel") end
  local fl = tool.load("funclatency")
  local running = fl.start(fl.parse{ "-u", "-p", tostring(me), "vfs_read" })
  reads(11)
  local h = running.take()
  running:stop()
  eq(h.total, 11)
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
