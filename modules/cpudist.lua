-- cpudist: how long tasks run on a CPU before switching out (or, with -O,
-- stay off it), as log2 histograms, with libbpf-tools' flags and output.
-- Every switch-out counts (as BCC's cpudist), preempted or not.
--
-- Kernel side: bpf/cpudist.bpf.c (raw_tp sched_switch; not tp_btf:
-- docs/TOOLS.md). JSON: as runqlat (docs/TOOLS.md).
local toolkit = require "luatrace.toolkit"

return toolkit.define{
  name = "cpudist",
  description = "Summarize on-CPU (or off-CPU) time per task as a histogram",
  options = {
    { "-O", "--offcpu", type = "flag", help = "measure off-CPU time" },
    { "-T", "--timestamp", type = "flag", help = "include a timestamp on output" },
    { "-m", "--milliseconds", type = "flag", help = "millisecond histogram" },
    { "-P", "--pids", type = "flag", help = "print a histogram per process ID" },
    { "-L", "--tids", type = "flag", help = "print a histogram per thread ID" },
    toolkit.opt.pid,
    toolkit.opt.cgroup,
    toolkit.opt.interval, toolkit.opt.count,
  },
  validate = function(o)
    if o.pids and o.tids then return false, "-P and -L cannot be used together" end
    return true
  end,

  start = function(opts)
    local b = toolkit.open("cpudist", opts, {
      targ_per_process = opts.pids and true or false,
      targ_per_thread = opts.tids and true or false,
      targ_offcpu = opts.offcpu and true or false,
      targ_ms = opts.milliseconds and true or false,
    })
    local running = { b = b, tables = { hists = b.hists } }
    local src = toolkit.hist_source(b.hists, 26)
    running.take, running.totals, running.opts = src.take, src.totals, opts
    return running
  end,

  main = function(opts, running)
    toolkit.hist_main(opts, running, {
      title = ("Tracing %s-CPU time... Hit Ctrl-C to end."):format(opts.offcpu and "off" or "on"),
      unit = opts.milliseconds and "msecs" or "usecs",
      label = opts.pids and "pid" or opts.tids and "tid" or nil,
    })
    return 0
  end,

  metrics = function(running)
    local o = running.opts
    local label = o.pids and "pid" or o.tids and "tid" or nil
    return toolkit.hist_metrics(o.offcpu and "offcpu_seconds" or "oncpu_seconds",
      o.offcpu and "Time off CPU per switch" or "Time on CPU per switch", running.totals(),
      o.milliseconds and 1e-3 or 1e-6, label and function(h) return { [label] = h.key, comm = h.comm } end)
  end,
}
