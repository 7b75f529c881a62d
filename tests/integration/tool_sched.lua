-- runqlat and cpudist: histograms of our own process's scheduling. The
-- scheduler decides how often we are switched, so the tests assert what
-- must hold: every one of our sleeps is a wakeup and a run (at least N
-- samples, all under our pid), nothing from other processes with -p.
local core = require "luatrace.core"
local T = require "tool_helpers"
local me = core.getpid()
local N = 20

local function sleeps() for _ = 1, N do core.sleep(5) end end

-- Sum the counts of a libbpf-tools-style histogram text; returns the
-- total and the "pid = ..." lines.
local function parse(text)
  local total, keys = 0, {}
  for line in text:gmatch("[^\n]+") do
    local c = line:match("^%s+%d+ %-> %d+%s+: (%d+)")
    if c then total = total + tonumber(c) end
    if line:match("^pid = ") then keys[#keys + 1] = line end
  end
  return total, keys
end

test("runqlat -P -p PID: our wakeups in one histogram under our pid", function()
  local r = T.tool(("runqlat -P -p %d"):format(me), sleeps)
  eq(r.out:match("^[^\n]*"), "Tracing run queue latency... Hit Ctrl-C to end.")
  local total, keys = parse(r.out)
  eq(table.concat(keys, ","), ("pid = %d luatrace"):format(me), "histogram keys")
  ok(total >= N, ("at least %d samples, got %d:\n%s"):format(N, total, r.out))
  ok(r.out:find("\n     usecs               : count    distribution\n", 1, true), r.out)
end)

test("runqlat --json -m: an object per report with buckets", function()
  local r = T.tool(("runqlat --json -m -p %d"):format(me), sleeps)
  local line = r.out:match("^([^\n]+)\n$")
  ok(line, r.out)
  ok(line:match('^{"time":"%d%d:%d%d:%d%d","hists":%[{"unit":"msecs","total":%d+,"buckets":%[{"low":0,"high":1,"count":%d+}'), line)
  ok(tonumber(line:match('"total":(%d+)')) >= N, line)
end)

test("cpudist -P -p PID: our runs between sleeps; -O our time off CPU", function()
  local r = T.tool(("cpudist -P -p %d"):format(me), sleeps)
  eq(r.out:match("^[^\n]*"), "Tracing on-CPU time... Hit Ctrl-C to end.")
  local total, keys = parse(r.out)
  eq(table.concat(keys, ","), ("pid = %d luatrace"):format(me))
  ok(total >= N, ("at least %d samples, got %d"):format(N, total))
  r = T.tool(("cpudist -O -m -p %d"):format(me), sleeps)
  eq(r.out:match("^[^\n]*"), "Tracing off-CPU time... Hit Ctrl-C to end.")
  total = parse(r.out)
  ok(total >= N, ("at least %d samples off CPU, got %d"):format(N, total))
  -- 5 ms sleeps: in the 4 -> 7 ms bucket (or later on a loaded machine)
  local late = 0
  for low, c in r.out:gmatch("\n%s+(%d+) %-> %d+%s+: (%d+)") do
    if tonumber(low) >= 4 then late = late + tonumber(c) end
  end
  ok(late >= N, ("%d sleeps of 5 ms at >= 4 ms:\n%s"):format(N, r.out))
end)

test("histogram tools: interval and count end the run by themselves", function()
  local t0 = core.monotonic_ns()
  local out, _, code = sh(("%s -m runqlat -T -p %d 0.3 2"):format(q(luatrace()), me))
  eq(code, 0)
  local stamps = 0
  for _ in out:gmatch("\n%d%d:%d%d:%d%d *\n") do stamps = stamps + 1 end
  eq(stamps, 2, "two timestamped reports:\n" .. out)
  ok((core.monotonic_ns() - t0) / 1e9 < 10, "finished")
end)

test("runqlat as a module: start(), take() for reports, metrics() totals that reports do not steal", function()
  local runqlat = require("luatrace.tool").load("runqlat")
  local running = runqlat.start(runqlat.parse{ "-P", "-p", tostring(me) })
  sleeps()
  local first = running.take()
  eq(#first, 1, "one histogram (ours)")
  eq(first[1].key, me); eq(first[1].comm, "luatrace")
  -- each sleep is a wakeup and a switch-in; allow two the scheduler folds
  -- (a wakeup while still on the CPU)
  ok(first[1].total >= N - 2, "samples: " .. first[1].total)
  sleeps()
  local m = running.metrics(running)
  eq(#m, 1)
  eq(m[1].name, "runq_latency_seconds"); eq(m[1].type, "histogram")
  eq(m[1].labels.pid, me); eq(m[1].labels.comm, "luatrace")
  local total = 0
  for _, c in pairs(m[1].slots) do total = total + c end
  ok(total >= first[1].total + N - 2, ("totals since start: %d >= %d + %d"):format(total, first[1].total, N - 2))
  running:stop()
end)

-- Spinners (tests/progs/lt_spin) for a loaded run queue: started
-- stopped, then SIGCONT; they spin ms and exit.
local function spinners(n, ms)
  local ffi = require "ffi"
  pcall(ffi.cdef, "int kill(int pid, int sig);")
  local pids = {}
  for i = 1, n do
    local out = unique_path("spinner")
    os.execute(("%s %d 0 > %s &"):format(q(test_prog("lt_spin")), ms, q(out)))
    for _ = 1, 200 do
      local f = io.open(out)
      pids[i] = f and tonumber(f:read("*l"))
      if f then f:close() end
      if pids[i] then break end
      core.sleep(25)
    end
    os.remove(out)
  end
  return function() for _, p in ipairs(pids) do ffi.C.kill(p, 18) end end
end

test("runqlen -C: per-CPU histograms that see our queued spinners", function()
  local go = spinners(6, 1500)
  local ncpu = #core.online_cpus()
  local r = T.tool("runqlen -C", function() go(); core.sleep(1200) end)
  eq(r.out:match("^[^\n]*"), "Sampling run queue length... Hit Ctrl-C to end.")
  local cpus, queued, headers = 0, 0, 0
  for line in r.out:gmatch("[^\n]+") do
    if line:match("^cpu = %d+$") then cpus = cpus + 1 end
    if line == "     runqlen       : count     distribution" then headers = headers + 1 end
    local len, n = line:match("^        (%d+) +: (%d+)")
    if len and tonumber(len) >= 1 then queued = queued + tonumber(n) end
  end
  eq(headers, cpus, "a histogram under each cpu line")
  eq(cpus, ncpu, "one histogram per CPU:\n" .. r.out)
  ok(queued > 0, "6 spinners on " .. ncpu .. " CPUs queue:\n" .. r.out)
end)

test("runqlen -O --json: occupancy per report", function()
  local go = spinners(6, 1500)
  local r = T.tool("runqlen -O --json", function() go(); core.sleep(1000) end)
  local occ = tonumber(r.out:match('^{"time":"[%d:]+","cpus":%[{"runqocc":([%d%.e%-]+)}%]}\n$'))
  ok(occ and occ > 0 and occ <= 100, r.out)
end)
