-- profile: sample stack traces at a timed interval and count them, as
-- BCC's profile does (same flags and output; -f folded lines for flame
-- graphs, through luatrace.folded).
--
-- Kernel side: bpf/profile.bpf.c on a software cpu-clock perf event per
-- CPU (hardware events are not needed). JSON: one object per stack at the
-- end: {"comm", "pid", "user_stack": [...], "kernel_stack": [...],
-- "count"} (frames innermost first).
local toolkit = require "luatrace.toolkit"
local sym = require "luatrace.sym"
local json = require "luatrace.json"
local folded = require "luatrace.folded"

local PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK = 1, 0
local EFAULT, EEXIST = 14, 17

local function stack_err(id) return id < 0 and id ~= -EFAULT end

local T = {
  name = "profile",
  description = "Profile CPU usage by sampling stack traces at a timed interval",
  options = {
    toolkit.opt.pid,
    { "-L", "--tid", type = "pid", help = "profile this thread only" },
    { "-U", "--user-stacks-only", type = "flag", key = "user_only", help = "show stacks from user space only" },
    { "-K", "--kernel-stacks-only", type = "flag", key = "kernel_only", help = "show stacks from kernel space only" },
    { "-F", "--frequency", type = "positive", help = "sample frequency, Hertz (default 49)" },
    { "-c", "--count", type = "positive", key = "period", metavar = "COUNT", help = "sample period, number of events" },
    { "-d", "--delimited", type = "flag", help = "insert delimiter between kernel/user stacks" },
    { "-a", "--annotations", type = "flag", help = "add _[k] annotations to kernel frames" },
    { "-I", "--include-idle", type = "flag", key = "idle", help = "include CPU idle stacks" },
    { "-f", "--folded", type = "flag", help = "output folded format, one line per stack (for flame graphs)" },
    { "-C", "--cpu", type = "uint", help = "cpu number to run profile on" },
    { "--cgroup", type = "string", key = "cgroup", metavar = "PATH", help = "trace this cgroup (v2 path) only" },
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
    })
    local freq = not opts.period and (opts.frequency or 49) or nil
    local ok, err = pcall(b.attach_perf_event, b, { ev_type = PERF_TYPE_SOFTWARE,
      ev_config = PERF_COUNT_SW_CPU_CLOCK, fn_name = "do_perf_event",
      sample_freq = freq, sample_period = opts.period, cpu = opts.cpu })
    if not ok then b:cleanup(); error(err, 0) end
    return { b = b, tables = { counts = b.counts, stack_traces = b.stack_traces } }
  end,
}

-- Symbolized frames of a stack id, innermost first.
local function frames(b, id, pid, kernel, annotate)
  local out = {}
  if id < 0 then return out end
  for i, addr in ipairs(b.stack_traces:walk(id)) do
    local name
    if kernel then
      name = sym.format(sym.ksym(addr)) .. (annotate and "_[k]" or "")
    else
      -- a process gone by the time we print has no symbols left
      local ok, n, off, mod = pcall(sym.usym, addr, pid)
      name = ok and sym.format(n, off, mod) or "[unknown]"
    end
    out[i] = name
  end
  return out
end

function T.main(opts, running)
  local b = running.b
  if not opts.folded and not opts.json then
    local what = opts.pid and ("PID " .. opts.pid) or opts.tid and ("TID " .. opts.tid) or "all threads"
    local rate = opts.period and ("%d events"):format(opts.period) or ("%d Hertz"):format(opts.frequency or 49)
    local stacks = opts.user_only and "user" or opts.kernel_only and "kernel" or "user + kernel"
    io.stdout:write(("Sampling at %s of %s by %s stack"):format(rate, what, stacks))
    if opts.cpu then io.stdout:write((" on CPU#%d"):format(opts.cpu)) end
    io.stdout:write(opts.duration and (" for %d secs.\n"):format(opts.duration) or "... Hit Ctrl-C to end.\n")
    io.stdout:flush()
  elseif opts.json or opts.folded then
    io.stderr:write("Tracing profile... Ctrl-C to end.\n")
  end
  toolkit.intervals(opts, running, function() end)
  local entries = b.counts:entries()
  table.sort(entries, function(x, y) return x[2] < y[2] end)
  local missing, collision = 0, false
  local folded_list = {}
  for _, e in ipairs(entries) do
    local k, count = e[1], e[2]
    local uid, kid, pid = tonumber(k.user_stack_id), tonumber(k.kernel_stack_id), tonumber(k.pid)
    if not opts.user_only and stack_err(kid) then missing = missing + 1; collision = collision or kid == -EEXIST end
    if not opts.kernel_only and stack_err(uid) then missing = missing + 1; collision = collision or uid == -EEXIST end
    local kf = frames(b, kid, nil, true, opts.annotations)
    local uf = frames(b, uid, pid, false)
    if opts.folded then
      -- root first: comm; user frames; [-;] kernel frames
      local f = { k.name }
      if not opts.kernel_only then
        if stack_err(uid) then f[#f + 1] = "[Missed User Stack]" end
        for i = #uf, 1, -1 do f[#f + 1] = uf[i] end
      end
      if not opts.user_only then
        if opts.delimited and uid >= 0 and kid >= 0 then f[#f + 1] = "-" end
        if stack_err(kid) then f[#f + 1] = "[Missed Kernel Stack]" end
        for i = #kf, 1, -1 do f[#f + 1] = kf[i] end
      end
      folded_list[#folded_list + 1] = { frames = f, count = count }
    elseif opts.json then
      json.line({ comm = k.name, pid = pid, user_stack = json.array(uf), kernel_stack = json.array(kf), count = count },
        { "comm", "pid", "user_stack", "kernel_stack", "count" })
    else
      if not opts.user_only then
        if stack_err(kid) then print("    [Missed Kernel Stack]") end
        for _, f in ipairs(kf) do print("    " .. f) end
      end
      if not opts.kernel_only then
        if opts.delimited and uid >= 0 and kid >= 0 then print("    --") end
        if stack_err(uid) then print("    [Missed User Stack]") end
        for _, f in ipairs(uf) do print("    " .. f) end
      end
      print(("    %-16s %s (%d)"):format("-", k.name, pid))
      print(("        %d\n"):format(count))
    end
  end
  if opts.folded then io.stdout:write(folded.text(folded_list)) end
  if missing > 0 then
    io.stderr:write(("WARNING: %d stack traces could not be displayed.%s\n"):format(missing,
      collision and " Consider increasing --stack-storage-size." or ""))
  end
  return 0
end

return toolkit.define(T)
