-- runqlat: run queue (scheduler) latency as log2 histograms, with
-- libbpf-tools' flags and output: time from a task's wakeup (or
-- preemption) to its running on a CPU.
--
-- Kernel side: bpf/runqlat.bpf.c: raw_tp sched_wakeup, sched_wakeup_new,
-- sched_switch (raw_tp, not tp_btf: a third of the memory, docs/TOOLS.md).
-- JSON: one object per interval: {"time", "hists": [{"unit", "total",
-- "buckets": [{"low", "high", "count"}], and "pid"/"tid"/"pidns" and
-- "comm" with -P/-L/--pidnss}]}.
local toolkit = require "luatrace.toolkit"

local SLOTS = 26

return toolkit.define{
  name = "runqlat",
  description = "Summarize run queue (scheduler) latency as a histogram",
  options = {
    { "-T", "--timestamp", type = "flag", help = "include a timestamp on output" },
    { "-m", "--milliseconds", type = "flag", help = "millisecond histogram" },
    { "--pidnss", type = "flag", help = "print a histogram per PID namespace" },
    { "-L", "--tids", type = "flag", help = "print a histogram per thread ID" },
    { "-P", "--pids", type = "flag", help = "print a histogram per process ID" },
    toolkit.opt.pid,
    toolkit.opt.cgroup,
    toolkit.opt.interval, toolkit.opt.count,
  },
  validate = function(o)
    local n = (o.pidnss and 1 or 0) + (o.tids and 1 or 0) + (o.pids and 1 or 0)
    if n > 1 then return false, "--pidnss, -P and -L cannot be used together" end
    return true
  end,
  examples = {
    "luatrace -m runqlat         # summarize run queue latency as a histogram",
    "luatrace -m runqlat 1 10    # print 1 second summaries, 10 times",
    "luatrace -m runqlat -mT 1   # 1s summaries, milliseconds, and timestamps",
    "luatrace -m runqlat -P      # show each PID separately",
  },

  start = function(opts)
    local b = toolkit.open("runqlat", opts, {
      targ_per_process = opts.pids and true or false,
      targ_per_thread = opts.tids and true or false,
      targ_per_pidns = opts.pidnss and true or false,
      targ_ms = opts.milliseconds and true or false,
    })
    local running = { b = b, tables = { hists = b.hists } }
    local src = toolkit.hist_source(b.hists, SLOTS)
    running.take, running.totals, running.opts = src.take, src.totals, opts
    return running
  end,

  main = function(opts, running)
    toolkit.hist_main(opts, running, {
      title = "Tracing run queue latency... Hit Ctrl-C to end.",
      unit = opts.milliseconds and "msecs" or "usecs",
      label = opts.pids and "pid" or opts.tids and "tid" or opts.pidnss and "pidns" or nil,
    })
    return 0
  end,

  metrics = function(running)
    local o = running.opts
    local label = o.pids and "pid" or o.tids and "tid" or o.pidnss and "pidns" or nil
    return toolkit.hist_metrics("runq_latency_seconds", "Run queue latency", running.totals(),
      o.milliseconds and 1e-3 or 1e-6, label and function(h) return { [label] = h.key, comm = h.comm } end)
  end,
}
