-- The syscount tool (luatrace -m syscount), end to end: it counts exactly
-- the getppid calls this process makes while it traces this pid.
local core = require "luatrace.core"
local json = require "luatrace.json"

test("syscount -p PID counts our 37 getppid calls", function()
  -- a 3 s window: the calls below must land inside it even on a busy machine
  local p = io.popen(("exec %s -m syscount -d 3 -p %d -T 50"):format(q(luatrace()), core.getpid()))
  local first = p:read("*l")
  eq(first, ("Tracing system calls of pid %d for 3 s... Ctrl-C to end."):format(core.getpid()))
  getppid_calls(37)
  local rest = p:read("*a")
  p:close()
  local header = rest:match("^[^\n]+")
  eq(header, ("%-22s %10s"):format("SYSCALL", "COUNT"))
  eq(tonumber(rest:match("\ngetppid%s+(%d+)\n")), 37, "getppid count in:\n" .. rest)
end)

test("syscount -x -e EBADF counts only our failed close(-1) calls, --json", function()
  local ffi = require "ffi"
  pcall(ffi.cdef, "int close(int fd);")
  local p = io.popen(("exec %s -m syscount -d 3 -p %d -x -e EBADF --json"):format(q(luatrace()), core.getpid()))
  core.sleep(1500) -- no header in JSON mode: give it time to attach
  getppid_calls(5) -- succeed: not counted
  for _ = 1, 9 do ffi.C.close(-1) end
  local out = p:read("*a")
  p:close()
  local obj = out:match("^(%b{})\n$")
  ok(obj, "one JSON line: " .. out)
  local rows = obj:match('"rows":(%b[])')
  eq(rows, '[{"count":9,"syscall":"close"}]', "rows")
end)

test("syscount -L -P: per-process counts with total time", function()
  local p = io.popen(("exec %s -m syscount -d 2 -p %d -L -P"):format(q(luatrace()), core.getpid()))
  p:read("*l")
  getppid_calls(10)
  local rest = p:read("*a")
  p:close()
  eq(rest:match("^[^\n]+"), ("%-22s %10s %16s"):format("PID    COMM", "COUNT", "TIME (us)"))
  local row = rest:match("\n(" .. core.getpid() .. " [^\n]+)")
  ok(row, "a row for our pid in:\n" .. rest)
  ok(tonumber(row:match("%s(%d+)%s+[%d%.]+$")) >= 10, row)
end)

test("syscount rejects a bad argument (usage error, exit 2)", function()
  local _, err, code = sh(q(luatrace()) .. " -m syscount -p abc")
  eq(code, 2, "exit code")
  ok(err:find("^luatrace: syscount: %-p abc: expected a process id %(1%.%.%d+%)\nusage: luatrace %-m syscount"), err)
end)
