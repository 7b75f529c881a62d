-- The syscount tool (luatrace -m syscount), end to end: it counts exactly
-- the getppid calls this process makes while it traces this pid.
local core = require "luatrace.core"

test("syscount -p PID counts our 37 getppid calls", function()
  -- a 3 s window: the calls below must land inside it even on a busy machine
  local p = io.popen(("exec %s -m syscount 3 -p %d -n 50"):format(q(luatrace()), core.getpid()))
  local first = p:read("*l")
  eq(first, ("Tracing system calls of pid %d for 3 s... Ctrl-C to end."):format(core.getpid()))
  getppid_calls(37)
  local rest = p:read("*a")
  p:close()
  local header = rest:match("^[^\n]+")
  eq(header, ("%-22s %10s"):format("SYSCALL", "COUNT"))
  eq(tonumber(rest:match("\ngetppid%s+(%d+)\n")), 37, "getppid count in:\n" .. rest)
end)

test("syscount rejects a bad argument", function()
  local _, err, code = sh(q(luatrace()) .. " -m syscount -p abc")
  eq(code, 1, "exit code")
  eq(err, "luatrace: syscount: -p needs a whole number "
    .. "(usage: luatrace -m syscount [SECONDS] [-p PID] [-n TOP])\n")
end)
