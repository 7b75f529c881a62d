-- capable: trace security capability checks (cap_capable) and their
-- verdicts, with libbpf-tools' flags and columns (TIME UID PID COMM CAP
-- NAME AUDIT VERDICT; -x adds TID and INSETID).
--
-- Kernel side: bpf/capable.bpf.c: fentry/fexit where the kernel allows
-- them, else kprobe/kretprobe. Records (callback, --json): time, uid, pid,
-- tid, comm, cap, name, audit, verdict, insetid.
local toolkit = require "luatrace.toolkit"
local lt = require "luatrace"

local CAPS = { [0] = "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
  "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
  "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
  "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
  "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE" }

return toolkit.define{
  name = "capable",
  description = "Trace security capability checks (cap_capable) and their verdicts",
  options = {
    toolkit.opt.pid,
    toolkit.opt.cgroup,
    { "-x", "--extra-fields", type = "flag", key = "extra", help = "extra fields: show TID and INSETID columns" },
    { "-u", "--unique", type = "flag", help = "print each (pid, cap) only once" },
    toolkit.opt.duration,
  },
  fields = { "time", "uid", "pid", "tid", "comm", "cap", "name", "audit", "verdict", "insetid" },

  start = function(opts, emit)
    local pre
    if lt.has_fentry() then pre = { "fentry_cap_capable", "fexit_cap_capable" }
    elseif lt.has_kprobes() then pre = { "kprobe_cap_capable", "kretprobe_cap_capable" }
    else
      error("capable: needs fentry or kprobes on cap_capable, which this kernel lacks "
        .. "(no tracepoint reports capability checks; run it on a kernel with kprobes)", 0)
    end
    local b = toolkit.open("capable", opts, {}, pre)
    local seen = {}
    toolkit.ring(b, "events", function(ev)
      if opts.unique then
        local k = ev.pid .. ":" .. ev.cap
        if seen[k] then return end
        seen[k] = true
      end
      emit({ time = os.date("%H:%M:%S"), uid = ev.uid, pid = ev.pid, tid = ev.tid, comm = ev.comm,
        cap = ev.cap, name = CAPS[ev.cap] or "?", audit = ev.audit,
        verdict = ev.ret == 0 and "allow" or "deny", insetid = ev.insetid })
    end)
    return { b = b }
  end,

  header = function(opts)
    if opts.extra then
      return ("%-8s %-5s %-7s %-7s %-16s %-7s %-20s %-7s %-7s %-7s"):format("TIME", "UID", "PID", "TID",
        "COMM", "CAP", "NAME", "AUDIT", "VERDICT", "INSETID")
    end
    return ("%-8s %-5s %-7s %-16s %-7s %-20s %-7s %-7s"):format("TIME", "UID", "PID", "COMM", "CAP", "NAME",
      "AUDIT", "VERDICT")
  end,

  text = function(r, opts)
    if opts.extra then
      return ("%-8s %-5d %-7d %-7d %-16s %-7d %-20s %-7d %-7s %-7d"):format(r.time, r.uid, r.pid, r.tid,
        r.comm, r.cap, r.name, r.audit, r.verdict, r.insetid)
    end
    return ("%-8s %-5d %-7d %-16s %-7d %-20s %-7d %-7s"):format(r.time, r.uid, r.pid, r.comm, r.cap, r.name,
      r.audit, r.verdict)
  end,
}
