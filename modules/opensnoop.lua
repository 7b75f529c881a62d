-- opensnoop: trace open(), openat() and openat2(), one line per call, with
-- libbpf-tools' flags and columns (PID COMM FD ERR PATH).
--
-- Kernel side: bpf/opensnoop.bpf.c; the programs of the tracepoints this
-- kernel has are loaded (sys_enter_open is absent on arm64, openat2 came
-- in 5.6). Records (callback, --json): time (with -T), uid, pid, tid,
-- comm, fd, err, flags, mode, path, ts_ns.
local toolkit = require "luatrace.toolkit"
local lt = require "luatrace"

local CALLS = { "open", "openat", "openat2" }

return toolkit.define{
  name = "opensnoop",
  description = "Trace open() family syscalls: who opens which file, with the result",
  options = {
    toolkit.opt.duration,
    { "-e", "--extended-fields", type = "flag", key = "extended", help = "print extended fields (flags)" },
    { "-n", "--name", type = "string", help = "trace process names containing NAME" },
    toolkit.opt.pid,
    { "-t", "--tid", type = "pid", help = "thread ID to trace" },
    { "-T", "--timestamp", type = "flag", help = "print a timestamp (HH:MM:SS)" },
    { "-u", "--uid", type = "uint", help = "user ID to trace" },
    { "-U", "--print-uid", type = "flag", help = "print a UID column" },
    { "-x", "--failed", type = "flag", help = "failed opens only" },
    { "--cgroup", type = "string", metavar = "PATH", help = "trace this cgroup (v2 path) only" },
  },
  fields = { "time", "uid", "pid", "tid", "comm", "fd", "err", "flags", "mode", "path" },
  examples = {
    "luatrace -m opensnoop             # trace all open() syscalls",
    "luatrace -m opensnoop -T -U -x    # timestamps, UIDs, failed opens only",
    "luatrace -m opensnoop -p 181      # only process 181",
    "luatrace -m opensnoop --json      # JSON lines",
  },

  start = function(opts, emit)
    local programs = {}
    for _, c in ipairs(CALLS) do
      if lt.tracepoint_exists("syscalls", "sys_enter_" .. c) then
        programs[#programs + 1] = c .. "_enter"
        programs[#programs + 1] = c .. "_exit"
      end
    end
    if #programs == 0 then
      error("opensnoop: no syscalls:sys_enter_open* tracepoints here (kernel without CONFIG_FTRACE_SYSCALLS?)", 0)
    end
    local b = toolkit.open("opensnoop", opts, {
      targ_uid = opts.uid or 0xffffffff,
      targ_failed = opts.failed and true or false,
    }, programs)
    toolkit.ring(b, "events", function(ev)
      local comm = ev.comm
      if opts.name and not comm:find(opts.name, 1, true) then return end
      local ret = ev.ret
      emit({
        time = opts.timestamp and os.date("%H:%M:%S") or nil,
        uid = ev.uid, pid = ev.pid, tid = ev.tid, comm = comm,
        fd = ret >= 0 and ret or -1, err = ret >= 0 and 0 or -ret,
        flags = ev.flags, mode = ev.mode, path = ev.fname, ts_ns = ev.ts_ns,
      })
    end)
    return { b = b }
  end,

  header = function(opts)
    local h = ""
    if opts.timestamp then h = h .. ("%-8s "):format("TIME") end
    if opts.print_uid then h = h .. ("%-7s "):format("UID") end
    h = h .. ("%-6s %-16s %3s %3s "):format("PID", "COMM", "FD", "ERR")
    if opts.extended then h = h .. ("%-8s "):format("FLAGS") end
    return h .. "PATH"
  end,

  text = function(r, opts)
    local s = ""
    if opts.timestamp then s = s .. ("%-8s "):format(r.time) end
    if opts.print_uid then s = s .. ("%-7d "):format(r.uid) end
    s = s .. ("%-6d %-16s %3d %3d "):format(r.pid, r.comm, r.fd, r.err)
    if opts.extended then s = s .. ("%08o "):format(r.flags) end
    return s .. r.path
  end,
}
