-- tcpretrans: trace TCP retransmissions, with BCC's flags and columns
-- (TIME PID IP LADDR:LPORT T> RADDR:RPORT STATE [SEQ]), or counts per
-- connection (-c).
--
-- Kernel side: bpf/tcpretrans.bpf.c (tracepoint tcp:tcp_retransmit_skb,
-- as BCC's tcpretrans on kernels that have it; tail loss probes (-l) need
-- a kprobe and are not traced). Records (callback, --json): time, pid,
-- family, laddr, lport, raddr, rport, type ("R"), state, seq.
local toolkit = require "luatrace.toolkit"
local net = require "luatrace.toolkit.net"
local json = require "luatrace.json"

local T = {
  name = "tcpretrans",
  description = "Trace TCP retransmits",
  options = {
    { "-s", "--sequence", type = "flag", help = "display TCP sequence numbers" },
    { "-c", "--count", type = "flag", help = "count occurred retransmits per flow" },
    { "-4", "--ipv4", type = "flag", help = "trace IPv4 family only" },
    { "-6", "--ipv6", type = "flag", help = "trace IPv6 family only" },
    toolkit.opt.duration,
  },
  fields = { "time", "pid", "family", "laddr", "lport", "type", "raddr", "rport", "state", "seq" },

  start = function(opts, emit)
    local b = toolkit.open("tcpretrans", opts, { target_family = net.family(opts) })
    local counts = {}
    toolkit.ring(b, "events", function(ev)
      local a = ev.addr
      local r = { time = os.date("%H:%M:%S"), pid = ev.pid, family = a.family == net.AF_INET and 4 or 6,
        laddr = net.ntop(a.family, a.saddr), lport = a.sport, type = "R",
        raddr = net.ntop(a.family, a.daddr), rport = a.dport, state = net.state(ev.state), seq = ev.seq }
      if opts.count then
        local k = ("%s:%d|%s:%d"):format(r.laddr, r.lport, r.raddr, r.rport)
        counts[k] = counts[k] or { laddr = r.laddr .. ":" .. r.lport, raddr = r.raddr .. ":" .. r.rport, n = 0 }
        counts[k].n = counts[k].n + 1
      else
        emit(r)
      end
    end)
    return { b = b, counts = counts }
  end,

  header = function(opts)
    return ("%-8s %-7s %-2s %-20s %1s> %-20s"):format("TIME", "PID", "IP", "LADDR:LPORT", "T", "RADDR:RPORT")
      .. (opts.sequence and (" %-12s %-10s"):format("STATE", "SEQ") or (" %-4s"):format("STATE"))
  end,

  text = function(r, opts)
    return ("%-8s %-7d %-2d %-20s %1s> %-20s"):format(r.time, r.pid, r.family, r.laddr .. ":" .. r.lport, r.type,
      r.raddr .. ":" .. r.rport) .. (opts.sequence and (" %-12s %s"):format(r.state, r.seq) or (" %s"):format(r.state))
  end,

  use_main = function(opts) return opts.count end,
  main = function(opts, running)
    if opts.json then io.stderr:write("Tracing retransmits ... Hit Ctrl-C to end\n")
    else print("Tracing retransmits ... Hit Ctrl-C to end") end
    io.stdout:flush()
    toolkit.intervals(opts, running, function() end)
    local rows = {}
    for _, c in pairs(running.counts) do rows[#rows + 1] = c end
    table.sort(rows, function(a, b) return a.n > b.n end)
    if opts.json then
      for _, c in ipairs(rows) do json.line({ laddr = c.laddr, raddr = c.raddr, retransmits = c.n }, { "laddr", "raddr", "retransmits" }) end
    else
      print(("\n%-25s %-25s %-10s"):format("LADDR:LPORT", "RADDR:RPORT", "RETRANSMITS"))
      for _, c in ipairs(rows) do print(("%-25s %-25s %10d"):format(c.laddr, c.raddr, c.n)) end
    end
    return 0
  end,
}

return toolkit.define(T)
