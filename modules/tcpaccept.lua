-- tcpaccept: trace TCP connections accepted by processes, with BCC's
-- flags and columns (PID COMM IP RADDR RPORT LADDR LPORT).
--
-- Kernel side: bpf/tcpaccept.bpf.c: fexit on inet_csk_accept where the
-- kernel allows it, else a kretprobe (no tracepoint reports an accept).
-- Records (callback, --json): time (-T) or timestamp (-t), pid, comm,
-- family, raddr, rport, laddr, lport.
local toolkit = require "luatrace.toolkit"
local net = require "luatrace.toolkit.net"
local lt = require "luatrace"

return toolkit.define{
  name = "tcpaccept",
  description = "Trace TCP accepts",
  options = {
    { "-T", "--time", type = "flag", help = "include a time column (HH:MM:SS)" },
    { "-t", "--timestamp", type = "flag", help = "include a timestamp (seconds since the first)" },
    toolkit.opt.pid,
    { "-P", "--port", type = "string", metavar = "PORTS", check = net.check_ports, help = "comma-separated list of local ports to trace" },
    { "-4", "--ipv4", type = "flag", help = "trace IPv4 family only" },
    { "-6", "--ipv6", type = "flag", help = "trace IPv6 family only" },
    toolkit.opt.cgroup,
    toolkit.opt.duration,
  },
  fields = { "time", "timestamp", "pid", "comm", "family", "raddr", "rport", "laddr", "lport" },

  start = function(opts, emit)
    local globals = { target_family = net.family(opts),
      target_ports = net.ports_global(opts.port and net.parse_ports(opts.port)) }
    local b
    if lt.has_fentry() then
      -- bpf_get_func_ret needs 5.17+: older kernels with fentry use the kretprobe
      local ok, res = pcall(toolkit.open, "tcpaccept", opts, globals, { "fexit_accept" })
      if ok then b = res end
    end
    if not b then
      if not lt.has_kprobes() then
        error("tcpaccept: needs fexit or a kretprobe on inet_csk_accept, which this kernel lacks "
          .. "(no tracepoint reports accepts; `luatrace -m tcpstates` shows SYN_RECV -> ESTABLISHED)", 0)
      end
      b = toolkit.open("tcpaccept", opts, globals, { "kretprobe_accept" })
    end
    local first
    toolkit.ring(b, "events", function(ev)
      local a = ev.addr
      first = first or ev.ts_us
      emit({ time = opts.time and os.date("%H:%M:%S") or nil,
        timestamp = opts.timestamp and (ev.ts_us - first) / 1e6 or nil,
        pid = ev.pid, comm = ev.comm, family = a.family == net.AF_INET and 4 or 6,
        raddr = net.ntop(a.family, a.daddr), rport = a.dport, laddr = net.ntop(a.family, a.saddr), lport = a.sport })
    end)
    return { b = b }
  end,

  header = function(opts)
    return (opts.time and ("%-9s"):format("TIME") or "") .. (opts.timestamp and ("%-9s"):format("TIME(s)") or "")
      .. ("%-7s %-12s %-2s %-16s %-5s %-16s %-5s"):format("PID", "COMM", "IP", "RADDR", "RPORT", "LADDR", "LPORT")
  end,

  text = function(r, opts)
    return (opts.time and ("%-9s"):format(r.time) or "") .. (opts.timestamp and ("%-9.3f"):format(r.timestamp) or "")
      .. ("%-7d %-12.12s %-2d %-16s %-5d %-16s %-5d"):format(r.pid, r.comm, r.family, r.raddr, r.rport, r.laddr, r.lport)
  end,
}
