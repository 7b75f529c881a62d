-- tcpstates: trace TCP state changes with the time spent in the previous
-- state, with libbpf-tools' flags and columns (SKADDR PID COMM LADDR
-- LPORT RADDR RPORT OLDSTATE -> NEWSTATE MS).
--
-- Kernel side: bpf/tcpstates.bpf.c (tracepoint sock:inet_sock_set_state).
-- Records (callback, --json): time (-T), skaddr (hex), pid, comm, family
-- (4/6), laddr, lport, raddr, rport, oldstate, newstate, ms.
local toolkit = require "luatrace.toolkit"
local net = require "luatrace.toolkit.net"

return toolkit.define{
  name = "tcpstates",
  description = "Trace TCP session state changes and durations",
  options = {
    { "-T", "--timestamp", type = "flag", help = "include a timestamp (HH:MM:SS)" },
    { "-4", "--ipv4", type = "flag", help = "trace IPv4 family only" },
    { "-6", "--ipv6", type = "flag", help = "trace IPv6 family only" },
    { "-w", "--wide", type = "flag", help = "wide column output (fits IPv6 addresses)" },
    { "-L", "--localport", type = "string", metavar = "LPORT", check = net.check_ports, help = "comma-separated list of local ports to trace" },
    { "-D", "--remoteport", type = "string", metavar = "DPORT", check = net.check_ports, help = "comma-separated list of remote ports to trace" },
    toolkit.opt.pid,
    toolkit.opt.duration,
  },
  fields = { "time", "skaddr", "pid", "comm", "family", "laddr", "lport", "raddr", "rport", "oldstate", "newstate", "ms" },

  start = function(opts, emit)
    local b = toolkit.open("tcpstates", opts, {
      target_family = net.family(opts),
      target_sports = net.ports_global(opts.localport and net.parse_ports(opts.localport)),
      target_dports = net.ports_global(opts.remoteport and net.parse_ports(opts.remoteport)),
    })
    toolkit.ring(b, "events", function(ev)
      local a = ev.addr
      emit({
        time = opts.timestamp and os.date("%H:%M:%S") or nil,
        skaddr = ("%x"):format(ev.skaddr), pid = ev.pid, comm = ev.comm,
        family = a.family == net.AF_INET and 4 or 6,
        laddr = net.ntop(a.family, a.saddr), lport = a.sport,
        raddr = net.ntop(a.family, a.daddr), rport = a.dport,
        oldstate = net.state(ev.oldstate), newstate = net.state(ev.newstate),
        ms = ev.delta_us / 1000,
      })
    end)
    return { b = b }
  end,

  header = function(opts)
    local h = opts.timestamp and ("%-8s "):format("TIME(s)") or ""
    if opts.wide then
      return h .. ("%-16s %-7s %-16s %-2s %-26s %-5s %-26s %-5s %-11s -> %-11s %s"):format(
        "SKADDR", "PID", "COMM", "IP", "LADDR", "LPORT", "RADDR", "RPORT", "OLDSTATE", "NEWSTATE", "MS")
    end
    return h .. ("%-16s %-7s %-10s %-15s %-5s %-15s %-5s %-11s -> %-11s %s"):format(
      "SKADDR", "PID", "COMM", "LADDR", "LPORT", "RADDR", "RPORT", "OLDSTATE", "NEWSTATE", "MS")
  end,

  text = function(r, opts)
    local s = opts.timestamp and ("%8s "):format(r.time) or ""
    if opts.wide then
      return s .. ("%-16s %-7d %-16s %-2d %-26s %-5d %-26s %-5d %-11s -> %-11s %.3f"):format(r.skaddr, r.pid,
        r.comm, r.family, r.laddr, r.lport, r.raddr, r.rport, r.oldstate, r.newstate, r.ms)
    end
    return s .. ("%-16s %-7d %-10.10s %-15s %-5d %-15s %-5d %-11s -> %-11s %.3f"):format(r.skaddr, r.pid,
      r.comm, r.laddr, r.lport, r.raddr, r.rport, r.oldstate, r.newstate, r.ms)
  end,
}
