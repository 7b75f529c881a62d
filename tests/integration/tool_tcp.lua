-- tcpconnect, tcplife, tcpstates: TCP sessions over loopback made by this
-- process (a listener, a session with known byte counts, a refused
-- connect); exact lines, JSON, and the same events as Debian's
-- libbpf-tools tcplife and tcpstates.
local core = require "luatrace.core"
local T = require "tool_helpers"
local tcp = require "tcp_helpers"
local me = core.getpid()

local function fmt_connect(dport, sport)
  return ("%-6d %-12.12s %-2d %-16s %-16s"):format(me, "luatrace", 4, "127.0.0.1", "127.0.0.1")
    .. (sport and (" %-5d"):format(sport) or "") .. (" %-5d"):format(dport)
end

test("tcpconnect -p PID: our connects, established and refused", function()
  local lfd, port = tcp.listen()
  local refused
  local r = T.tool(("tcpconnect -p %d"):format(me), function()
    tcp.session(lfd, port, 100, 0)
    refused = tcp.refused()
  end)
  tcp.close(lfd)
  eq(r.out:match("^[^\n]*"), ("%-6s %-12s %-2s %-16s %-16s %-5s"):format("PID", "COMM", "IP", "SADDR", "DADDR", "DPORT"))
  local lines = T.lines_with(r.out, ("%-6d luatrace"):format(me))
  eq(#lines, 2, r.out)
  eq(lines[1], fmt_connect(port))
  eq(lines[2], fmt_connect(refused))
end)

test("tcpconnect -s --json and -c counts", function()
  local lfd, port = tcp.listen()
  local cport
  local r = T.tool(("tcpconnect -s --json -P %d -p %d"):format(port, me), function()
    cport = tcp.session(lfd, port, 10, 0)
    tcp.refused() -- another port: filtered out by -P
  end)
  eq(r.out, ('{"uid":0,"pid":%d,"comm":"luatrace","family":4,"saddr":"127.0.0.1","sport":%d,"daddr":"127.0.0.1","dport":%d,"established":true}\n')
    :format(me, cport, port))
  r = T.tool(("tcpconnect -c -p %d"):format(me), function()
    for _ = 1, 3 do tcp.session(lfd, port, 1, 0) end
  end)
  tcp.close(lfd)
  eq(r.out, table.concat({ "Tracing connect ... Hit Ctrl-C to end", "",
    ("%-25s %-25s %-20s %-10s"):format("LADDR", "RADDR", "RPORT", "CONNECTS"),
    ("%-25s %-25s %-20d %-10d"):format("127.0.0.1", "127.0.0.1", port, 3), "" }, "\n"))
end)

local function life(lport, rport, tx, rx)
  return ("%-7d %-16s %-15s %-5d %-15s %-5d %-6.2f %-6.2f "):format(me, "luatrace", "127.0.0.1", lport,
    "127.0.0.1", rport, tx / 1024, rx / 1024)
end

test("tcplife -p PID: both ends of our session, bytes each way", function()
  local lfd, port = tcp.listen()
  local cport
  local r = T.tool(("tcplife -p %d -L %d"):format(me, port), function()
    cport = tcp.session(lfd, port, 4096, 2048)
  end)
  tcp.close(lfd)
  eq(r.out:match("^[^\n]*"), ("%-7s %-16s %-15s %-5s %-15s %-5s %-6s %-6s %-s"):format(
    "PID", "COMM", "LADDR", "LPORT", "RADDR", "RPORT", "TX_KB", "RX_KB", "MS"))
  local lines = T.lines_with(r.out, ("%-7d luatrace"):format(me))
  eq(#lines, 1, "-L: only the server end:\n" .. r.out)
  eq(lines[1]:gsub("[%d%.]+$", ""), life(port, cport, 2048, 4096))
end)

test("tcplife and tcpstates: the same events as Debian's libbpf-tools", function()
  local plife, pstates = T.peer("tcplife"), T.peer("tcpstates")
  if not plife or not pstates then return skip("libbpf-tools is not installed (tools/deps.sh installs it)") end
  local lfd, port = tcp.listen()
  local cport
  local res = T.around({
    ("exec %s -m tcplife -p %d"):format(q(luatrace()), me), ("exec %s -p %d"):format(plife, me),
    ("exec %s -m tcpstates -D %d"):format(q(luatrace()), port), ("exec %s -D %d"):format(pstates, port),
  }, function()
    cport = tcp.session(lfd, port, 3000, 1000)
  end, 500)
  tcp.close(lfd)
  local function cut(text, needle)
    local t = {}
    for _, l in ipairs(T.lines_with(text, needle)) do t[#t + 1] = (l:gsub("%s*[%d%.]+$", "")) end
    return t
  end
  local a, b = cut(res[1].out, "luatrace"), cut(res[2].out, "luatrace")
  eq(#a, 2, "two ends:\n" .. res[1].out)
  eq(table.concat(a, "\n"), table.concat(b, "\n"), "tcplife")
  a, b = cut(res[3].out, " 127.0.0.1 "), cut(res[4].out, " 127.0.0.1 ")
  eq(#a, 5, "the client's five transitions:\n" .. res[3].out)
  eq(table.concat(a, "\n"), table.concat(b, "\n"), "tcpstates")
  local states = {}
  for i, l in ipairs(a) do
    local o, n = l:match("(%u[%u_%d]*) +%-> (%u[%u_%d]*)%s*$")
    states[#states + 1] = (o or "?") .. ">" .. (n or "?")
    -- the source port is bound after the SYN_SENT transition
    ok(l:find((" 127.0.0.1       %-5d 127.0.0.1       %-5d "):format(i == 1 and 0 or cport, port), 1, true), l)
  end
  eq(table.concat(states, " "), "CLOSE>SYN_SENT SYN_SENT>ESTABLISHED ESTABLISHED>FIN_WAIT1 FIN_WAIT1>FIN_WAIT2 FIN_WAIT2>CLOSE")
end)

test("tcpstates --json -D: the client's transitions as objects", function()
  local lfd, port = tcp.listen()
  local r = T.tool(("tcpstates --json -D %d"):format(port), function() tcp.session(lfd, port, 1, 0) end)
  tcp.close(lfd)
  local n = 0
  for line in r.out:gmatch("[^\n]+") do
    n = n + 1
    ok(line:match('^{"skaddr":"%x+","pid":%d+,"comm":"[^"]*","family":4,"laddr":"127%.0%.0%.1","lport":%d+,"raddr":"127%.0%.0%.1","rport":'
      .. port .. ',"oldstate":"%u[%u_%d]*","newstate":"%u[%u_%d]*","ms":[%d%.e%-]+}$'), line)
  end
  eq(n, 5, r.out)
end)

test("tcpretrans -s: the retransmitted SYN of a connect to a full listener", function()
  local port, cports, close
  local r = T.tool("tcpretrans -s", function()
    port, cports, close = tcp.dropped_syn()
    core.sleep(1600) -- a dropped SYN is retransmitted after 1 s
  end)
  close()
  eq(r.out:match("^[^\n]*"), ("%-8s %-7s %-2s %-20s %1s> %-20s %-12s %-10s"):format("TIME", "PID", "IP",
    "LADDR:LPORT", "T", "RADDR:RPORT", "STATE", "SEQ"))
  local line, cport
  for _, p in ipairs(cports) do
    local l = T.lines_with(r.out, (" 127.0.0.1:%d "):format(p))[1]
    if l then line, cport = l, p end
  end
  ok(line, "a retransmit of one of our SYNs:\n" .. r.out)
  local rest = line:match("^%d%d:%d%d:%d%d %d+ +(.*)$")
  eq(rest:gsub("%d+$", "SEQ"), ("%-2d %-20s %1s> %-20s %-12s %s"):format(4, "127.0.0.1:" .. cport, "R",
    "127.0.0.1:" .. port, "SYN_SENT", "SEQ"))
end)
