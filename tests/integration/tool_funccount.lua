-- funccount on tracepoints: a named one is checked directly (no listing
-- of every tracepoint), a pattern through luatrace.listing; both count our
-- own getppid calls exactly, an unknown name is one clear line.
local core = require "luatrace.core"
local tool = require "luatrace.tool"
local me = core.getpid()

local function count(pattern, n)
  local fc = tool.load("funccount")
  local running = fc.start(fc.parse{ "-p", tostring(me), pattern })
  getppid_calls(n)
  local rows = running.take()
  local targets = #running.targets
  running:stop()
  return rows, targets
end

test("funccount t:syscalls:sys_enter_getppid and t:syscalls:sys_enter_getppi*: the same one tracepoint, exact counts", function()
  local rows, n = count("t:syscalls:sys_enter_getppid", 17)
  eq(n, 1, "one target")
  eq(#rows, 1); eq(rows[1].func, "syscalls:sys_enter_getppid"); eq(rows[1].count, 17)
  rows, n = count("t:syscalls:sys_enter_getppi*", 5)
  eq(n, 1, "the pattern matches the one tracepoint")
  eq(#rows, 1); eq(rows[1].func, "syscalls:sys_enter_getppid"); eq(rows[1].count, 5)
end)

test("funccount on an unknown tracepoint: one clear line, exit 1", function()
  local _, err, code = sh(q(luatrace()) .. " -m funccount t:syscalls:sys_enter_no_such_call")
  eq(code, 1)
  eq(err, 'luatrace: funccount: no functions match "t:syscalls:sys_enter_no_such_call"\n')
end)
