-- tcplife: trace TCP sessions when they close: who, where, bytes and how
-- long, with libbpf-tools' flags and columns (PID COMM LADDR LPORT RADDR
-- RPORT TX_KB RX_KB MS).
--
-- Kernel side: bpf/tcplife.bpf.c (tracepoint sock:inet_sock_set_state).
-- Records (callback, --json): time (-T), pid, comm, family, laddr, lport,
-- raddr, rport, tx_kb, rx_kb, ms.
local toolkit = require "luatrace.toolkit"
local net = require "luatrace.toolkit.net"

return toolkit.define{
  name = "tcplife",
  description = "Trace TCP sessions and summarize lifespan, bytes and who",
  options = {
    toolkit.opt.pid,
    { "-4", "--ipv4", type = "flag", help = "trace IPv4 only" },
    { "-6", "--ipv6", type = "flag", help = "trace IPv6 only" },
    { "-w", "--wide", type = "flag", help = "wide column output (fits IPv6 addresses)" },
    { "-T", "--time", type = "flag", help = "include a timestamp (HH:MM:SS)" },
    { "-L", "--localport", type = "string", metavar = "LOCALPORT", check = net.check_ports, help = "comma-separated list of local ports to trace" },
    { "-D", "--remoteport", type = "string", metavar = "REMOTEPORT", check = net.check_ports, help = "comma-separated list of remote ports to trace" },
    toolkit.opt.duration,
  },
  fields = { "time", "pid", "comm", "family", "laddr", "lport", "raddr", "rport", "tx_kb", "rx_kb", "ms" },

  start = function(opts, emit)
    -- the pid filter is applied at close, on the session's owner, not by
    -- lt_tool.h's current-task check
    local b = toolkit.open("tcplife", opts, {
      target_family = net.family(opts),
      target_sports = net.ports_global(opts.localport and net.parse_ports(opts.localport)),
      target_dports = net.ports_global(opts.remoteport and net.parse_ports(opts.remoteport)),
    })
    toolkit.ring(b, "events", function(ev)
      local a = ev.addr
      emit({
        time = opts.time and os.date("%H:%M:%S") or nil,
        pid = ev.pid, comm = ev.comm, family = a.family == net.AF_INET and 4 or 6,
        laddr = net.ntop(a.family, a.saddr), lport = a.sport,
        raddr = net.ntop(a.family, a.daddr), rport = a.dport,
        tx_kb = ev.tx_b / 1024, rx_kb = ev.rx_b / 1024, ms = ev.span_us / 1000,
      })
    end)
    return { b = b }
  end,

  header = function(opts)
    local w = opts.wide and 39 or 15
    return (opts.time and ("%-8s "):format("TIME(s)") or "")
      .. ("%-7s %-16s %-" .. w .. "s %-5s %-" .. w .. "s %-5s %-6s %-6s %-s"):format(
        "PID", "COMM", "LADDR", "LPORT", "RADDR", "RPORT", "TX_KB", "RX_KB", "MS")
  end,

  text = function(r, opts)
    local w = opts.wide and 39 or 15
    return (opts.time and ("%8s "):format(r.time) or "")
      .. ("%-7d %-16s %-" .. w .. "s %-5d %-" .. w .. "s %-5d %-6.2f %-6.2f %-.2f"):format(
        r.pid, r.comm, r.laddr, r.lport, r.raddr, r.rport, r.tx_kb, r.rx_kb, r.ms)
  end,
}
