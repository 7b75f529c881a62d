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
