-- oomkill: trace the OOM killer's kills, with libbpf-tools' line:
--   HH:MM:SS Triggered by PID 123 ("sh"), OOM kill of PID 123 ("sh"), 16384 pages, loadavg: 0.05 0.02 0.00 1/80 124
--
-- Kernel side: bpf/oomkill.bpf.c on oom_kill_process, through fentry where
-- the kernel allows it, else a kprobe (feature probing at run time).
-- Records (callback, --json): time, fpid, fcomm (the triggering process),
-- tpid, tcomm (the killed one), pages (the memory, or the memory cgroup's
-- limit, the kill worked with), loadavg (/proc/loadavg at the kill).
local toolkit = require "luatrace.toolkit"
local lt = require "luatrace"

local function loadavg()
  local f = io.open("/proc/loadavg")
  if not f then return "" end
  local s = f:read("*l") or ""
  f:close()
  return s
end

return toolkit.define{
  name = "oomkill",
  description = "Trace OOM kills: who triggered them, who was killed",
  options = { toolkit.opt.duration },
  fields = { "time", "fpid", "fcomm", "tpid", "tcomm", "pages", "loadavg" },

  start = function(opts, emit)
    local prog
    if not lt.core.ksym_addr("oom_kill_process") then
      error("oomkill: this kernel has no oom_kill_process function to trace (inlined or renamed)", 0)
    elseif lt.has_fentry() and lt.core.btf_func(nil, "oom_kill_process") then
      prog = "fentry_oom_kill_process"
    elseif lt.has_kprobes() then
      prog = "kprobe_oom_kill_process"
    else
      error("oomkill: needs fentry or kprobes on oom_kill_process, which this kernel lacks "
        .. "(the oom:mark_victim tracepoint names the victim only: luatrace -e 'tracepoint:oom:mark_victim "
        .. "{ printf(\"OOM kill of PID %d (%s)\\n\", args->pid, str(args->comm)); }')", 0)
    end
    local b = toolkit.open("oomkill", {}, {}, { prog })
    toolkit.ring(b, "events", function(e)
      emit({ time = os.date("%H:%M:%S"), fpid = e.fpid, fcomm = e.fcomm, tpid = e.tpid, tcomm = e.tcomm,
        pages = e.pages, loadavg = loadavg() })
    end)
    return { b = b }
  end,

  header = function() return "Tracing OOM kills... Ctrl-C to stop." end,
  text = function(r)
    return ('%s Triggered by PID %d ("%s"), OOM kill of PID %d ("%s"), %d pages, loadavg: %s'):format(
      r.time, r.fpid, r.fcomm, r.tpid, r.tcomm, r.pages, r.loadavg)
  end,
}
