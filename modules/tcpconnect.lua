-- tcpconnect: trace active TCP connects, with libbpf-tools' flags and
-- columns (PID COMM IP SADDR DADDR [SPORT] DPORT), or counts per
-- destination (-c).
--
-- Kernel side: bpf/tcpconnect.bpf.c: the sock:inet_sock_set_state
-- tracepoint (SYN_SENT and the state after it), so no kprobes are needed
-- (libbpf-tools' tcpconnect uses kprobes on tcp_v4_connect/tcp_v6_connect).
-- Records (callback, --json): timestamp (-t), uid, pid, comm, family,
-- saddr, sport, daddr, dport, established (false: refused or reset).
local toolkit = require "luatrace.toolkit"
local net = require "luatrace.toolkit.net"
local json = require "luatrace.json"

local T = {
  name = "tcpconnect",
  description = "Trace active TCP connections (connect())",
  options = {
    { "-t", "--timestamp", type = "flag", help = "include a timestamp (seconds since the first)" },
    { "-c", "--count", type = "flag", help = "count connects per source ip and destination ip/port" },
    { "-U", "--print-uid", type = "flag", help = "include UID on output" },
    toolkit.opt.pid,
    { "-u", "--uid", type = "uint", help = "process UID to trace" },
    { "-s", "--source-port", type = "flag", help = "show (and with -c, count by) the source port" },
    { "-P", "--port", type = "string", metavar = "PORTS", check = net.check_ports, help = "comma-separated list of destination ports to trace" },
    { "-4", "--ipv4", type = "flag", help = "trace IPv4 only" },
    { "-6", "--ipv6", type = "flag", help = "trace IPv6 only" },
    { "--cgroup", type = "string", key = "cgroup", metavar = "PATH", help = "trace this cgroup (v2 path) only" },
    toolkit.opt.duration,
  },
  fields = { "timestamp", "uid", "pid", "comm", "family", "saddr", "sport", "daddr", "dport", "established" },

  start = function(opts, emit)
    local b = toolkit.open("tcpconnect", opts, {
      target_family = net.family(opts),
      target_dports = net.ports_global(opts.port and net.parse_ports(opts.port)),
      targ_uid = opts.uid or 0xffffffff,
    })
    local first
    local counts = {}
    if opts.count then
      -- -c: count per destination instead of handing records out
      emit = function(r)
        local key = table.concat({ r.saddr, r.daddr, opts.source_port and r.sport or "", r.dport }, "|")
        local c = counts[key] or { saddr = r.saddr, daddr = r.daddr, sport = r.sport, dport = r.dport, n = 0 }
        c.n = c.n + 1
        counts[key] = c
      end
    end
    toolkit.ring(b, "events", function(ev)
      local a = ev.addr
      first = first or ev.ts_us
      emit({
        timestamp = opts.timestamp and (ev.ts_us - first) / 1e6 or nil,
        uid = ev.uid, pid = ev.pid, comm = ev.comm, family = a.family == net.AF_INET and 4 or 6,
        saddr = net.ntop(a.family, a.saddr), sport = a.sport,
        daddr = net.ntop(a.family, a.daddr), dport = a.dport,
        established = ev.newstate == 1,
      })
    end)
    return { b = b, counts = counts }
  end,

  header = function(opts)
    return (opts.timestamp and ("%-9s"):format("TIME(s)") or "") .. (opts.print_uid and ("%-6s"):format("UID") or "")
      .. ("%-6s %-12s %-2s %-16s %-16s"):format("PID", "COMM", "IP", "SADDR", "DADDR")
      .. (opts.source_port and (" %-5s"):format("SPORT") or "") .. (" %-5s"):format("DPORT")
  end,

  text = function(r, opts)
    return (opts.timestamp and ("%-9.3f"):format(r.timestamp) or "") .. (opts.print_uid and ("%-6d"):format(r.uid) or "")
      .. ("%-6d %-12.12s %-2d %-16s %-16s"):format(r.pid, r.comm, r.family, r.saddr, r.daddr)
      .. (opts.source_port and (" %-5d"):format(r.sport) or "") .. (" %-5d"):format(r.dport)
  end,
}

-- -c: count in Lua, print the table at the end, as libbpf-tools does.
local function count_main(opts, running, counts)
  local toolkit_report = require "luatrace.toolkit.report"
  if opts.json then io.stderr:write("Tracing connect ... Hit Ctrl-C to end\n")
  else print("Tracing connect ... Hit Ctrl-C to end") end
  io.stdout:flush()
  toolkit_report.intervals(opts, running, function() end)
  local rows = {}
  for _, c in pairs(counts) do rows[#rows + 1] = c end
  table.sort(rows, function(a, b) return a.n > b.n end)
  if opts.json then
    for _, c in ipairs(rows) do
      json.line({ saddr = c.saddr, daddr = c.daddr, sport = opts.source_port and c.sport or nil, dport = c.dport,
        connects = c.n }, { "saddr", "daddr", "sport", "dport", "connects" })
    end
    return 0
  end
  io.stdout:write(("\n%-25s %-25s"):format("LADDR", "RADDR"))
  if opts.source_port then io.stdout:write((" %-20s"):format("LPORT")) end
  io.stdout:write((" %-20s %-10s\n"):format("RPORT", "CONNECTS"))
  for _, c in ipairs(rows) do
    io.stdout:write(("%-25s %-25s"):format(c.saddr, c.daddr))
    if opts.source_port then io.stdout:write((" %-20d"):format(c.sport)) end
    io.stdout:write((" %-20d %-10d\n"):format(c.dport, c.n))
  end
  return 0
end

T.use_main = function(opts) return opts.count end
T.main = function(opts, running) return count_main(opts, running, running.counts) end

return toolkit.define(T)
