-- perf_event: software cpu-clock sampling while this process burns CPU.
local core = require "luatrace.core"

local PERF_TYPE_HARDWARE, PERF_TYPE_SOFTWARE = 0, 1
local PERF_COUNT_HW_CPU_CYCLES, PERF_COUNT_SW_CPU_CLOCK = 0, 0

local function burn(ms)
  local t0 = os.clock()
  local x = 0
  while (os.clock() - t0) * 1000 < ms do x = x + 1 end
  return x
end

test("cpu-clock for our pid: every sample is ours", function()
  local o = load("probes")
  local l = core.attach_perf_event(o, "on_sample", {
    type = PERF_TYPE_SOFTWARE, config = PERF_COUNT_SW_CPU_CLOCK,
    freq = 1000, pid = core.getpid() })
  eq(l:count(), 1, "one event for the pid")
  burn(300)
  l:close()
  local ours, any = array_value(o, "hits", 2), array_value(o, "hits", 3)
  -- 300 ms at 1000 Hz: about 300 samples; a loaded machine gives fewer.
  ok(ours >= 50, ("samples while burning 300 ms: %d"):format(ours))
  eq(any, ours, "samples of other processes in per-pid mode")
  o:close()
end)

test("cpu-clock on every online CPU: one attachment per CPU", function()
  local o = load("probes")
  local l = core.attach_perf_event(o, "on_sample", { freq = 1000 })
  eq(l:count(), #core.online_cpus(), "attachments")
  burn(300)
  l:close()
  ok(array_value(o, "hits", 2) >= 50, "our samples")
  ok(array_value(o, "hits", 3) >= array_value(o, "hits", 2), "all >= ours")
  o:close()
end)

test("hardware events fail clearly where the PMU is missing", function()
  local o = load("probes")
  local okk, err = pcall(core.attach_perf_event, o, "on_sample",
    { type = PERF_TYPE_HARDWARE, config = PERF_COUNT_HW_CPU_CYCLES, period = 1000000,
      pid = core.getpid() })
  if okk then
    err:close(); o:close()
    skip("this machine has hardware perf events; the missing-PMU message cannot be checked")
  end
  ok(tostring(err):find("attach perf_event type 0 config 0 for a pid: ", 1, true), err)
  ok(tostring(err):find("hardware perf events are not available here", 1, true), err)
  o:close()
end)
