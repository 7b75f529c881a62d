-- Metrics exposition (Prometheus text 0.0.4 and OpenMetrics) and the HTTP
-- endpoint (addresses, request parsing, malformed and slow clients), on a
-- stand-in loop that the test pumps itself.
local metrics = require "luatrace.metrics"
local http = require "luatrace.http"
local core = require "luatrace.core"

local function tbl(entries) return { entries = function() return entries end } end

test("addresses: :PORT is loopback, HOST:PORT, [v6]:PORT, bad ones", function()
  eq(select(1, http.parse_addr(":9100")), "127.0.0.1")
  eq(select(2, http.parse_addr(":9100")), 9100)
  eq(select(1, http.parse_addr("0.0.0.0:80")), "0.0.0.0")
  eq(select(1, http.parse_addr("[::1]:80")), "::1")
  eq(select(1, http.parse_addr("9100")), "127.0.0.1")
  raises(function() http.parse_addr("nope") end, "listen address nope: expected :PORT")
  raises(function() http.parse_addr(":70000") end, "port beyond 65535")
end)

test("request heads: request line, headers folded to lower case, bad ones", function()
  local r = http.parse_request("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept: text/plain\r\n\r\n")
  eq(r.method, "GET"); eq(r.path, "/metrics"); eq(r.query, "x=1"); eq(r.headers.accept, "text/plain")
  eq(select(2, http.parse_request("garbage\r\n\r\n")), 400)
  eq(select(2, http.parse_request("GET / HTTP/1.1\r\nno colon here\r\n\r\n")), 400)
end)

test("exposition: counters, gauges, histograms in 0.0.4 and OpenMetrics", function()
  local r = metrics.new()
  r:counter{ name = "opens_total", help = "open calls\nby comm", labels = { "comm" },
             table = tbl{ { "bash", 3 }, { 'a"b\255', { 1, 2 } } } }
  r:gauge{ name = "depth", help = "queue depth", labels = { "cpu" }, table = tbl{ { 0, 5 } } }
  r:histogram{ name = "lat_seconds", help = "latency", kind = "log2", scale = 1e-3,
               table = tbl{ { 1, 2 }, { 3, 1 }, { 0, 4 } } }
  r:histogram{ name = "size_bytes", help = "sizes", kind = "linear", step = 10,
               table = tbl{ { 1, 2 } }, sum = tbl{ { 0, 33 } } }
  eq(r:text(), table.concat({
    "# HELP opens_total open calls\\nby comm",
    "# TYPE opens_total counter",
    'opens_total{comm="a\\"b\239\191\189"} 3',
    'opens_total{comm="bash"} 3',
    "# HELP depth queue depth",
    "# TYPE depth gauge",
    'depth{cpu="0"} 5',
    "# HELP lat_seconds latency",
    "# TYPE lat_seconds histogram",
    'lat_seconds_bucket{le="0"} 4',
    'lat_seconds_bucket{le="0.001"} 6',
    'lat_seconds_bucket{le="0.003"} 6',
    'lat_seconds_bucket{le="0.007"} 7',
    'lat_seconds_bucket{le="+Inf"} 7',
    "lat_seconds_sum 0.0075",
    "lat_seconds_count 7",
    "# HELP size_bytes sizes",
    "# TYPE size_bytes histogram",
    'size_bytes_bucket{le="9"} 0',
    'size_bytes_bucket{le="19"} 2',
    'size_bytes_bucket{le="+Inf"} 2',
    "size_bytes_sum 33",
    "size_bytes_count 2",
  }, "\n") .. "\n")
  if core.stat("/usr/bin/promtool") then -- Prometheus's own linter agrees
    local path = unique_path("metrics.txt")
    local f = io.open(path, "w"); f:write(r:text()); f:close()
    local out, err, code = sh("promtool check metrics < " .. q(path))
    os.remove(path)
    eq(code, 0, "promtool check metrics: " .. out .. err)
  end
  local om = r:text("openmetrics")
  ok(om:find("# TYPE opens counter\nopens_total{", 1, true), "OpenMetrics counter family without _total")
  ok(om:find("\n# EOF\n$"), "OpenMetrics ends with # EOF")
  eq(metrics.negotiate("application/openmetrics-text;version=1.0.0,text/plain;q=0.5"), "openmetrics")
  eq(metrics.negotiate("*/*"), "0.0.4")
  eq(select(2, metrics.negotiate(nil)), "text/plain; version=0.0.4; charset=utf-8")
end)

test("collectors: totals, label names from samples, histograms", function()
  local r = metrics.new{ namespace = "luatrace" }
  local n = 0
  r:collect(function()
    n = n + 1
    local out = { { name = "syscalls_total", labels = { syscall = "read" }, value = 2 * n },
                  { name = "lat", type = "histogram", slots = { [1] = n, [2] = 1 } } }
    if n == 1 then out[3] = { name = "syscalls_total", labels = { syscall = "write" }, value = 1 } end
    return out
  end)
  r:text()
  local text = r:text()
  ok(text:find('luatrace_syscalls_total{syscall="read"} 4\n', 1, true), "the latest total: " .. text)
  ok(text:find('luatrace_syscalls_total{syscall="write"} 1\n', 1, true), "a label set keeps its last value")
  ok(text:find('luatrace_lat_bucket{le="3"} 3\nluatrace_lat_bucket{le="+Inf"} 3\nluatrace_lat_sum 4.5\n', 1, true),
    "histogram from slots: " .. text)
  raises(function() r:counter{ name = "bad name" } end, "is not a valid metric name")
  raises(function() r:gauge{ name = "g", labels = { "le" } } end, "label name le is not valid")
end)

-- A stand-in for luatrace.loop: fds and timers, pumped by the test.
local function fake_loop()
  local L = { fds = {}, timers = {} }
  function L:add_fd(fd, fn) self.fds[fd] = fn end
  function L:remove_fd(fd) self.fds[fd] = nil end
  function L:every(ms, fn)
    local t = { fn = fn, cancel = function(t) t.cancelled = true end }
    self.timers[#self.timers + 1] = t
    return t
  end
  function L:pump()
    local fns = {}
    for _, fn in pairs(self.fds) do fns[#fns + 1] = fn end
    for _, fn in ipairs(fns) do fn() end
    for _, t in ipairs(self.timers) do if not t.cancelled then t.fn() end end
  end
  return L
end

local CLIENT = [[
import socket, sys, time
port = int(sys.argv[1])
def req(data, wait=True):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(data)
    out = b""
    while True:
        b = s.recv(65536)
        if not b: break
        out += b
    s.close()
    return out.decode("utf-8", "replace")
slow = socket.create_connection(("127.0.0.1", port))
slow.sendall(b"GET /metr")                       # never finishes
print(req(b"GET /metrics HTTP/1.1\r\nAccept: application/openmetrics-text\r\n\r\n").split("\r\n")[0])
print(req(b"NONSENSE\r\n\r\n").split("\r\n")[0])
print(req(b"POST /metrics HTTP/1.1\r\n\r\n").split("\r\n")[0])
print(req(b"GET /nope HTTP/1.1\r\n\r\n").split("\r\n")[0])
print(req(b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 10000 + b"\r\n\r\n").split("\r\n")[0])
r = req(b"GET /metrics HTTP/1.0\r\n\r\n")
print([l for l in r.split("\r\n") if l.startswith("Content-Type")][0])
print(r.split("\r\n\r\n", 1)[1].splitlines()[-1])
t0 = time.time()
print("slow closed" if slow.recv(10) == b"" else "slow answered")
print("DONE")
]]

test("the endpoint answers, refuses bad requests, and drops a slow client", function()
  local L = fake_loop()
  local r = metrics.new()
  r:gauge{ name = "up_gauge", help = "one", value = function() return 1 end }
  local srv = r:serve(":0", L, { timeout_ms = 1500 })
  eq(srv.host, "127.0.0.1", "loopback by default")
  local script, out = unique_path("client.py"), unique_path("client.out")
  local f = io.open(script, "w"); f:write(CLIENT); f:close()
  os.execute(("python3 %s %d > %s 2>&1 &"):format(script, srv.port, out))
  local text = ""
  local deadline = core.monotonic_ns() + 10e9
  while core.monotonic_ns() < deadline do
    L:pump()
    core.sleep(5)
    local fh = io.open(out)
    if fh then text = fh:read("*a"); fh:close() end
    if text:find("DONE") then break end
  end
  srv:close()
  os.remove(script); os.remove(out)
  eq(text, table.concat({
    "HTTP/1.1 200 OK",
    "HTTP/1.1 400 Bad Request",
    "HTTP/1.1 405 Method Not Allowed",
    "HTTP/1.1 404 Not Found",
    "HTTP/1.1 431 Request Header Fields Too Large",
    "Content-Type: text/plain; version=0.0.4; charset=utf-8",
    "up_gauge 1",
    "slow closed",
    "DONE" }, "\n") .. "\n")
end)

test("--metrics: tools with a metrics hook take it; a bad address is a usage error", function()
  local out, err, code = sh(("%s -m syscount --metrics nope"):format(q(luatrace())))
  eq(code, 2)
  eq(err:match("^[^\n]*"), "luatrace: syscount: --metrics nope: expected :PORT, HOST:PORT or [IPV6]:PORT")
  ok(require("luatrace").metrics == metrics, "lt.metrics")
end)
