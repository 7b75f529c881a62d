-- examples/: each runs end to end against its own trigger, output checked.
local core = require "luatrace.core"
local ffi = require "ffi"

pcall(ffi.cdef, [[
struct lt_timespec { long sec; long nsec; };
int clock_nanosleep(int clock, int flags, const struct lt_timespec *req, struct lt_timespec *rem);
]])

test("examples/sleeplat.lua: a histogram of our 6 sleeps of 2 ms", function()
  local out = os.tmpname()
  local p = io.popen(("exec %s %s %d > %s"):format(q(luatrace()),
    q(root .. "/examples/sleeplat.lua"), core.getpid(), q(out)), "w")
  -- wait for the tracer to be attached
  local ready = false
  for _ = 1, 200 do
    local fh = io.open(out); local s = fh:read("*a"); fh:close()
    if s:find("Tracing", 1, true) then ready = true; break end
    core.sleep(50)
  end
  ok(ready, "the example started")
  local ts = ffi.new("struct lt_timespec", 0, 2000000)
  for _ = 1, 6 do ffi.C.clock_nanosleep(1, 0, ts, nil) end
  -- SIGINT: the example prints its histogram and exits 0
  local pidof = sh("pgrep -f 'examples/sleeplat.lua " .. core.getpid() .. "'")
  os.execute("kill -INT " .. pidof:match("%d+"))
  local ok_close = p:close()
  local fh = io.open(out); local text = fh:read("*a"); fh:close(); os.remove(out)
  ok(ok_close ~= false, "exit status")
  eq(text:match("^[^\n]+"), "Tracing clock_nanosleep... Ctrl-C to end.")
  ok(text:find("     usecs               : count     distribution", 1, true), text)
  local total = 0
  for low, high, n in text:gmatch("\n%s+(%d+) %-> (%d+)%s+: (%d+)") do
    total = total + tonumber(n)
    if tonumber(n) > 0 then
      -- a 2 ms sleep lasts at least 2000 us; how much longer is the
      -- scheduler's business (a loaded machine wakes us late)
      ok(tonumber(high) >= 2000, "a 2 ms sleep in a bucket below 2000 us: " .. low .. " -> " .. high)
    end
  end
  eq(total, 6, "six sleeps counted")
end)
