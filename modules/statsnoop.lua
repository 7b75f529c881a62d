-- statsnoop: trace stat-family syscalls (statfs, stat, statx, fstatat,
-- lstat) with their paths and results, with libbpf-tools' flags and
-- columns (PID COMM RET ERR PATH).
--
-- Kernel side: bpf/statsnoop.bpf.c; the programs of the tracepoints this
-- kernel has are loaded. Records (callback, --json): timestamp (with -t,
-- seconds since the first event), pid, comm, ret, err, syscall, path.
local toolkit = require "luatrace.toolkit"
local lt = require "luatrace"

-- Index = the call number the kernel side reports.
local CALLS = { "statfs", "newstat", "statx", "newfstatat", "newlstat" }

return toolkit.define{
  name = "statsnoop",
  description = "Trace stat() family syscalls: who looks at which path, with the result",
  options = {
    toolkit.opt.pid,
    { "-x", "--failed", type = "flag", help = "only show failed stats" },
    { "-t", "--timestamp", type = "flag", help = "include a timestamp (seconds since the first event)" },
    toolkit.opt.cgroup,
    toolkit.opt.duration,
  },
  fields = { "timestamp", "pid", "comm", "ret", "err", "syscall", "path" },

  start = function(opts, emit)
    local programs = {}
    for _, c in ipairs(CALLS) do
      if lt.tracepoint_exists("syscalls", "sys_enter_" .. c) then
        programs[#programs + 1] = c .. "_enter"
        programs[#programs + 1] = c .. "_exit"
      end
    end
    if #programs == 0 then
      error("statsnoop: no syscalls:sys_enter_*stat* tracepoints here (kernel without CONFIG_FTRACE_SYSCALLS?)", 0)
    end
    local b = toolkit.open("statsnoop", opts, { trace_failed_only = opts.failed and true or false }, programs)
    local first
    toolkit.ring(b, "events", function(ev)
      local ts = ev.ts_ns
      first = first or ts
      local ret = ev.ret
      emit({
        timestamp = opts.timestamp and (ts - first) / 1e9 or nil,
        pid = ev.pid, comm = ev.comm, ret = ret >= 0 and ret or -1, err = ret >= 0 and 0 or -ret,
        syscall = CALLS[ev.call], path = ev.pathname,
      })
    end)
    return { b = b }
  end,

  header = function(opts)
    return (opts.timestamp and ("%-14s "):format("TIME(s)") or "")
      .. ("%-7s %-20s %-4s %-4s %-s"):format("PID", "COMM", "RET", "ERR", "PATH")
  end,

  text = function(r, opts)
    return (opts.timestamp and ("%-14.9f "):format(r.timestamp) or "")
      .. ("%-7d %-20s %-4d %-4d %-s"):format(r.pid, r.comm, r.ret, r.err, r.path)
  end,
}
