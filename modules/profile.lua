-- profile: sample stack traces at a timed interval and count them, as
-- BCC's profile does (same flags and output; -f folded lines for flame
-- graphs, through luatrace.folded).
--
-- Kernel side: bpf/profile.bpf.c on a software cpu-clock perf event per
-- CPU (hardware events are not needed). JSON: one object per stack at the
-- end: {"comm", "pid", "user_stack": [...], "kernel_stack": [...],
-- "count"} (frames innermost first).
local toolkit = require "luatrace.toolkit"
local json = require "luatrace.json"
local stacks = require "luatrace.toolkit.stacks"

local PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK = 1, 0
local T = {
  name = "profile",
  description = "Profile CPU usage by sampling stack traces at a timed interval",
  options = {
    toolkit.opt.pid,
    { "-L", "--tid", type = "pid", help = "profile this thread only" },
    toolkit.opt.user_stacks,
    toolkit.opt.kernel_stacks,
    { "-F", "--frequency", type = "positive", help = "sample frequency, Hertz (default 49)" },
    { "-c", "--count", type = "positive", key = "period", metavar = "COUNT", help = "sample period, number of events" },
    toolkit.opt.delimited,
    { "-a", "--annotations", type = "flag", help = "add _[k] annotations to kernel frames" },
    { "-I", "--include-idle", type = "flag", key = "idle", help = "include CPU idle stacks" },
    toolkit.opt.folded,
    { "-C", "--cpu", type = "uint", help = "cpu number to run profile on" },
    { "--cgroup", type = "string", key = "cgroup", metavar = "PATH", help = "trace this cgroup (v2 path) only" },
    toolkit.stack_storage_opt(1024),
    toolkit.opt.stack_depth,
    { "duration", positional = true, type = "positive", help = "duration of trace, in seconds" },
  },
  validate = function(o)
    if o.user_only and o.kernel_only then return false, "-U and -K are exclusive" end
    if o.frequency and o.period then return false, "-F and -c are exclusive" end
    return true
  end,

  start = function(opts)
    local b = toolkit.open("profile", opts, {
      user_stacks_only = opts.user_only and true or false,
      kernel_stacks_only = opts.kernel_only and true or false,
      include_idle = opts.idle and true or false,
    }, nil, nil, toolkit.stack_map_sizes(opts, "stack_traces"))
    local freq = not opts.period and (opts.frequency or 49) or nil
    local ok, err = pcall(b.attach_perf_event, b, { ev_type = PERF_TYPE_SOFTWARE,
      ev_config = PERF_COUNT_SW_CPU_CLOCK, fn_name = "do_perf_event",
      sample_freq = freq, sample_period = opts.period, cpu = opts.cpu })
    if not ok then b:cleanup(); error(err, 0) end
    return { b = b, tables = { counts = b.counts, stack_traces = b.stack_traces } }
  end,
}

function T.main(opts, running)
  local b = running.b
  if not opts.folded and not opts.json then
    local what = opts.pid and ("PID " .. opts.pid) or opts.tid and ("TID " .. opts.tid) or "all threads"
    local rate = opts.period and ("%d events"):format(opts.period) or ("%d Hertz"):format(opts.frequency or 49)
    local st = opts.user_only and "user" or opts.kernel_only and "kernel" or "user + kernel"
    io.stdout:write(("Sampling at %s of %s by %s stack"):format(rate, what, st))
    if opts.cpu then io.stdout:write((" on CPU#%d"):format(opts.cpu)) end
    io.stdout:write(opts.duration and (" for %d secs.\n"):format(opts.duration) or "... Hit Ctrl-C to end.\n")
    io.stdout:flush()
  else
    io.stderr:write("Tracing profile... Ctrl-C to end.\n")
  end
  toolkit.intervals(opts, running, function() end)
  local entries = b.counts:entries()
  table.sort(entries, function(x, y) return x[2] < y[2] end)
  local c = stacks.collector(opts)
  for _, e in ipairs(entries) do
    local k = e[1]
    local uid, kid, pid = tonumber(k.user_stack_id), tonumber(k.kernel_stack_id), tonumber(k.pid)
    c.add{ name = k.name, pid = pid, uid = uid, kid = kid, value = e[2],
      kf = stacks.frames(b.stack_traces, kid, nil, true, opts.annotations),
      uf = stacks.frames(b.stack_traces, uid, pid, false) }
  end
  if opts.folded then
    io.stdout:write(c.folded())
  elseif opts.json then
    for _, s in ipairs(c.list) do
      json.line({ comm = s.name, pid = s.pid, user_stack = json.array(s.uf), kernel_stack = json.array(s.kf),
        count = s.value }, { "comm", "pid", "user_stack", "kernel_stack", "count" })
    end
  else
    c.text(print)
  end
  c.warn()
  return 0
end

-- --svg FILE: the same samples as a flame graph (luatrace.folded's
-- BCC-shaped stacks, kernel frames marked _[k] so they colour apart).
T.svg_title = "CPU flame graph"
function T.folded(running) return running.tables.counts:folded() end

return toolkit.define(T)
