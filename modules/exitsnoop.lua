-- exitsnoop: trace process (or thread, -T) termination with its age and
-- how it ended, with libbpf-tools' flags and columns
-- (PCOMM PID PPID TID AGE(s) EXIT_CODE).
--
-- Kernel side: bpf/exitsnoop.bpf.c (tracepoint sched:sched_process_exit).
-- Records (callback, --json): time (with -t), comm, pid, ppid, tid,
-- age (seconds), exit_code, sig, signame, core_dumped.
local toolkit = require "luatrace.toolkit"
local ffi = require "ffi"
pcall(ffi.cdef, "char *strsignal(int sig);")

local function desc(r)
  if r.sig == 0 then
    return r.exit_code == 0 and "0" or ("code %d"):format(r.exit_code)
  end
  local s = ""
  if r.sig > 0 then s = ("signal %d (%s)"):format(r.sig, r.signame) end
  if r.core_dumped then s = s .. ", core dumped" end
  return s
end

return toolkit.define{
  name = "exitsnoop",
  description = "Trace process termination: age and exit code or signal",
  options = {
    { "-t", "--timestamp", type = "flag", help = "include a timestamp (HH:MM:SS)" },
    { "-x", "--failed", type = "flag", help = "trace error exits only" },
    toolkit.opt.pid,
    { "-T", "--threaded", type = "flag", help = "trace by thread" },
    toolkit.opt.cgroup,
    toolkit.opt.duration,
  },
  fields = { "time", "comm", "pid", "ppid", "tid", "age", "exit_code", "sig", "signame", "core_dumped" },

  start = function(opts, emit)
    local b = toolkit.open("exitsnoop", opts, {
      trace_failed_only = opts.failed and true or false,
      trace_by_process = not opts.threaded,
    })
    toolkit.ring(b, "events", function(ev)
      local sig = bit.band(ev.sig, 0x7f)
      emit({
        time = opts.timestamp and os.date("%H:%M:%S") or nil,
        comm = ev.comm, pid = ev.pid, ppid = ev.ppid, tid = ev.tid,
        age = (ev.exit_time - ev.start_time) / 1e9,
        exit_code = ev.exit_code, sig = sig,
        signame = sig > 0 and ffi.string(ffi.C.strsignal(sig)) or nil,
        core_dumped = bit.band(ev.sig, 0x80) ~= 0,
      })
    end)
    return { b = b }
  end,

  header = function(opts)
    return (opts.timestamp and ("%-8s "):format("TIME(s)") or "")
      .. ("%-16s %-7s %-7s %-7s %-7s %-s"):format("PCOMM", "PID", "PPID", "TID", "AGE(s)", "EXIT_CODE")
  end,

  text = function(r, opts)
    return (opts.timestamp and ("%8s "):format(r.time) or "")
      .. ("%-16s %-7d %-7d %-7d %-7.2f %s"):format(r.comm, r.pid, r.ppid, r.tid, r.age, desc(r))
  end,
}
