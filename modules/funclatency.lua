-- funclatency: time spent in a function as a log2 histogram, with
-- libbpf-tools' flags and output.
--
--   luatrace -m funclatency vfs_read             a kernel function (fentry/fexit, else kprobes)
--   luatrace -m funclatency -u c:getaddrinfo     a user function (uprobes)
--   luatrace -m funclatency /path/bin:func       a function of a binary
--
-- Kernel side: bpf/funclatency.bpf.c: fentry/fexit where the kernel
-- allows them (feature probe at run time, as libbpf-tools chooses; the
-- target set before load through BPF{attach_targets=}), else
-- kprobe/kretprobe. JSON: per report {"time", "func",
-- "unit", "total", "buckets": [{"low", "high", "count"}]}.
local toolkit = require "luatrace.toolkit"
local hist = require "luatrace.hist"
local json = require "luatrace.json"
local lt = require "luatrace"

local T = {
  name = "funclatency",
  description = "Time functions and print latency as a histogram",
  options = {
    { "-m", "--milliseconds", type = "flag", help = "output in milliseconds" },
    { "-u", "--microseconds", type = "flag", help = "output in microseconds" },
    toolkit.opt.pid,
    { "-i", "--interval", type = "positive", metavar = "SECONDS", help = "summary interval in seconds" },
    toolkit.opt.cgroup,
    toolkit.opt.duration,
    { "-T", "--timestamp", type = "flag", help = "print timestamp" },
    { "function", positional = true, required = true, type = "string", key = "func",
      help = "FUNC (kernel), LIB:FUNC or /path:FUNC (user)" },
  },
  validate = function(o)
    if o.milliseconds and o.microseconds then return false, "-m and -u are exclusive" end
    return true
  end,

  start = function(opts)
    local lib, fn = opts.func:match("^(.+):([^:]+)$")
    if lib and not lib:find("/") then
      lib = lt.core.find_library(lib) or error(("funclatency: no library %s found"):format(lib), 0)
    end
    local fentry = not lib and lt.has_fentry()
    if not lib and not fentry and not lt.has_kprobes() then
      error(("funclatency: timing kernel function %s needs fentry or kprobes, which this kernel refuses "
        .. "(tried both); time a user function (LIB:FUNC) or use a tracepoint pair with bpftrace (luatrace -e)"):format(opts.func), 0)
    end
    local unit = opts.milliseconds and 1e6 or opts.microseconds and 1e3 or 1
    local b
    if fentry then -- attached at load (auto-attach)
      b = toolkit.open("funclatency", opts, { units = unit }, { "fl_fentry", "fl_fexit" },
        { fl_fentry = opts.func, fl_fexit = opts.func })
    else
      b = toolkit.open("funclatency", opts, { units = unit }, { "fl_entry", "fl_return" })
    end
    local ok, err = pcall(function()
      if fentry then -- nothing left to attach
      elseif lib then
        b:attach_uprobes{ { name = lib, sym = fn, fn_name = "fl_entry", pid = opts.pid or -1 },
          { name = lib, sym = fn, fn_name = "fl_return", pid = opts.pid or -1, retprobe = true } }
      else
        b:attach_kprobe{ event = opts.func, fn_name = "fl_entry" }
        b:attach_kretprobe{ event = opts.func, fn_name = "fl_return" }
      end
    end)
    if not ok then b:cleanup(); error(err, 0) end
    local running = { b = b, tables = { hist = b.hist } }
    function running.take()
      local slots, total = {}, 0
      for k, v in b.hist:items() do
        local n = 0
        for _, c in ipairs(v) do n = n + c end
        slots[k] = n
        total = total + n
      end
      b.hist:clear()
      return { key = opts.func, slots = slots, total = total }
    end
    return running
  end,
}

function T.main(opts, running)
  local unit = opts.milliseconds and "msecs" or opts.microseconds and "usecs" or "nsecs"
  if opts.json then io.stderr:write(("Tracing %s.  Hit Ctrl-C to exit\n"):format(opts.func))
  else print(("Tracing %s.  Hit Ctrl-C to exit"):format(opts.func)) end
  io.stdout:flush()
  toolkit.intervals(opts, running, function()
    local h = running.take()
    if opts.json then
      local o = toolkit.hist_json(h, unit, "func")
      o.time = os.date("%H:%M:%S")
      json.line(o, { "time", "func", "unit", "total", "buckets", "low", "high", "count" })
    else
      print("")
      if opts.timestamp then print(("%-8s"):format(os.date("%H:%M:%S"))) end
      for _, l in ipairs(hist.libbpf_log2_lines(h.slots, unit)) do print(l) end
    end
    io.stdout:flush()
  end)
  if not opts.json then print(("Exiting trace of %s"):format(opts.func)) end
  return 0
end

return toolkit.define(T)
