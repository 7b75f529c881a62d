-- offcputime: time threads spend blocked (off CPU), summed by the stacks
-- they blocked in, with BCC's flags and output (-f folded for off-CPU
-- flame graphs); libbpf-tools' -m/-M/--state too.
--
-- Kernel side: bpf/offcputime.bpf.c (raw_tp sched_switch with CO-RE reads:
-- docs/TOOLS.md says why not tp_btf). JSON: one object per stack at the end: {"comm",
-- "pid", "tgid", "user_stack", "kernel_stack", "total_us"}.
local toolkit = require "luatrace.toolkit"
local stacks = require "luatrace.toolkit.stacks"
local json = require "luatrace.json"

local T = {
  name = "offcputime",
  description = "Summarize off-CPU time by stack trace",
  options = {
    toolkit.opt.pid,
    { "-t", "--tid", type = "pid", help = "trace this thread only" },
    { "-u", "--user-threads-only", type = "flag", key = "user_threads", help = "user threads only (no kernel threads)" },
    { "-k", "--kernel-threads-only", type = "flag", key = "kernel_threads", help = "kernel threads only (no user threads)" },
    toolkit.opt.user_stacks,
    toolkit.opt.kernel_stacks,
    toolkit.opt.delimited,
    toolkit.opt.folded,
    { "-m", "--min-block-time", type = "uint", key = "min_us", default = 1, metavar = "US", help = "only stacks blocked at least US microseconds" },
    { "-M", "--max-block-time", type = "uint", key = "max_us", metavar = "US", help = "only stacks blocked at most US microseconds" },
    { "--state", type = "uint", help = "filter on this thread state bitmask (2: TASK_UNINTERRUPTIBLE)" },
    { "--cgroup", type = "string", key = "cgroup", metavar = "PATH", help = "trace this cgroup (v2 path) only" },
    toolkit.stack_storage_opt(1024),
    toolkit.opt.stack_depth,
    { "duration", positional = true, type = "positive", help = "duration of trace, in seconds" },
  },
  validate = function(o)
    if o.user_threads and o.kernel_threads then return false, "-u and -k are exclusive" end
    if o.user_only and o.kernel_only then return false, "-U and -K are exclusive" end
    return true
  end,

  start = function(opts)
    local b = toolkit.open("offcputime", opts, {
      user_threads_only = opts.user_threads and true or false,
      kernel_threads_only = opts.kernel_threads and true or false,
      user_stacks_only = opts.user_only and true or false,
      kernel_stacks_only = opts.kernel_only and true or false,
      min_block_us = opts.min_us, max_block_us = opts.max_us or -1,
      targ_state = opts.state or -1,
    }, { "raw_switch" }, nil, toolkit.stack_map_sizes(opts, "stackmap"))
    return { b = b, tables = { info = b.info, stackmap = b.stackmap } }
  end,
}

function T.main(opts, running)
  local b = running.b
  if not opts.folded and not opts.json then
    local what = opts.pid and ("PID " .. opts.pid) or opts.tid and ("TID " .. opts.tid)
      or opts.user_threads and "user threads" or opts.kernel_threads and "kernel threads" or "all threads"
    local st = opts.user_only and "user" or opts.kernel_only and "kernel" or "user + kernel"
    io.stdout:write(("Tracing off-CPU time (us) of %s by %s stack"):format(what, st))
    io.stdout:write(opts.duration and (" for %d secs.\n"):format(opts.duration) or "... Hit Ctrl-C to end.\n")
    io.stdout:flush()
  else
    io.stderr:write("Tracing offcputime... Ctrl-C to end.\n")
  end
  toolkit.intervals(opts, running, function() end)
  local entries = b.info:entries()
  table.sort(entries, function(x, y) return x[2].delta < y[2].delta end)
  local c = stacks.collector(opts)
  for _, e in ipairs(entries) do
    local k, v = e[1], e[2]
    if v.delta > 0 then
      local uid, kid = tonumber(k.user_stack_id), tonumber(k.kern_stack_id)
      c.add{ name = v.comm, pid = tonumber(k.pid), tgid = tonumber(k.tgid), uid = uid, kid = kid,
        value = tonumber(v.delta),
        kf = stacks.frames(b.stackmap, kid, nil, true),
        uf = uid == -1 and {} or stacks.frames(b.stackmap, uid, tonumber(k.tgid), false) }
    end
  end
  if opts.folded then
    io.stdout:write(c.folded())
  elseif opts.json then
    for _, s in ipairs(c.list) do
      json.line({ comm = s.name, pid = s.pid, tgid = s.tgid, user_stack = json.array(s.uf),
        kernel_stack = json.array(s.kf), total_us = s.value },
        { "comm", "pid", "tgid", "user_stack", "kernel_stack", "total_us" })
    end
  else
    c.text(print)
  end
  c.warn()
  return 0
end

-- --svg FILE: off-CPU time as a flame graph (widths in microseconds).
T.svg_title, T.countname = "Off-CPU time flame graph", "us"
function T.folded(running)
  return running.tables.info:folded{ stacks = running.tables.stackmap, missing = false,
    value = function(v) return tonumber(v.delta) end, comm = function(_, v) return v.comm end }
end

return toolkit.define(T)
