-- The metrics endpoint against the real thing: Debian's prometheus scrapes
-- `luatrace -m syscount --metrics` every second; the test makes a known
-- number of getppid calls and reads the value back through Prometheus's
-- query API, also while a malformed and a slow client hold connections.
local core = require "luatrace.core"

local function free_port()
  local s, _, port = core.listen("127.0.0.1", 0)
  s:close()
  return port
end

local function python(script, ...)
  local path = unique_path("py")
  local f = io.open(path, "w"); f:write(script); f:close()
  local args = {}
  for i, a in ipairs({ ... }) do args[i] = q(a) end
  local out, err, code = sh(("python3 %s %s"):format(q(path), table.concat(args, " ")))
  os.remove(path)
  return out, err, code
end

local GET = [[
import sys, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())
except Exception as e:
    print("ERR", e)
]]

-- The value of a query, or nil while Prometheus has none.
local function query(pport, expr)
  local url = ("http://127.0.0.1:%d/api/v1/query?query=%s"):format(pport,
    expr:gsub("[^%w_]", function(c) return ("%%%02X"):format(c:byte()) end))
  local out = python(GET, url)
  return out:match('"value":%[[%d.]+,"([^"]+)"%]'), out
end

local function wait_for(what, fn, seconds)
  local deadline = core.monotonic_ns() + seconds * 1e9
  local last
  while core.monotonic_ns() < deadline do
    local v, info = fn()
    if v then return v end
    last = info
    core.sleep(250)
  end
  error(("timed out waiting for %s (%s)"):format(what, tostring(last)), 2)
end

local function spawn(cmd, log)
  local out = sh(("%s > %s 2>&1 & echo $!"):format(cmd, q(log)))
  return tonumber(out)
end

local function slurp(path)
  local f = io.open(path); if not f then return "" end
  local s = f:read("*a"); f:close(); return s
end

-- Hold a slow client (sends half a request line) and a malformed one.
local BAD_CLIENTS = [[
import socket, sys, time
port = int(sys.argv[1])
slow = socket.create_connection(("127.0.0.1", port))
slow.sendall(b"GET /metr")
bad = socket.create_connection(("127.0.0.1", port))
bad.sendall(b"\x00\xff garbage \r\n\r\n")
print(bad.recv(100).split(b"\r\n")[0].decode())
time.sleep(float(sys.argv[2]))
]]

test("Prometheus scrapes luatrace -m syscount --metrics: exact counts", function()
  if not core.stat("/usr/bin/prometheus") then skip("prometheus is not installed (tools/deps.sh installs it)") end
  local dir = unique_path("prom")
  core.mkdir(dir)
  local lport, pport = free_port(), free_port()
  local cfg = io.open(dir .. "/prometheus.yml", "w")
  cfg:write(([[
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: luatrace
    static_configs:
      - targets: ["127.0.0.1:%d"]
]]):format(lport))
  cfg:close()
  local tracer = spawn(("%s -m syscount -p %d --metrics :%d"):format(q(luatrace()), core.getpid(), lport),
    dir .. "/luatrace.log")
  local prom = spawn(("prometheus --config.file=%s --storage.tsdb.path=%s --web.listen-address=127.0.0.1:%d")
    :format(q(dir .. "/prometheus.yml"), q(dir .. "/data"), pport), dir .. "/prometheus.log")
  local ok_run, err = pcall(function()
    wait_for("luatrace to trace", function()
      local log = slurp(dir .. "/luatrace.log")
      return log:find("Tracing", 1, true), log
    end, 20)
    getppid_calls(37)
    local v = wait_for("Prometheus to see 37 getppid calls", function()
      local val, raw = query(pport, 'luatrace_syscalls_total{syscall="getppid"}')
      return val == "37" and val, raw
    end, 30)
    eq(v, "37")
    -- bad clients hold connections; scraping and tracing go on
    local out = sh(("python3 -c %s %d 6 > %s 2>&1 & echo started"):format(q(BAD_CLIENTS), lport, q(dir .. "/bad.log")))
    eq(out, "started\n")
    core.sleep(500)
    getppid_calls(5)
    v = wait_for("Prometheus to see 42 getppid calls", function()
      local val, raw = query(pport, 'luatrace_syscalls_total{syscall="getppid"}')
      return val == "42" and val, raw
    end, 30)
    eq(v, "42")
    eq(slurp(dir .. "/bad.log"), "HTTP/1.1 400 Bad Request\n", "the malformed client got 400")
    eq(query(pport, 'up{job="luatrace"}'), "1", "the target is up")
    -- the exposition carries HELP and TYPE (OpenMetrics, as Prometheus asked)
    local meta = python(GET, ("http://127.0.0.1:%d/api/v1/metadata?metric=luatrace_syscalls"):format(pport))
    ok(meta:find('"type":"counter"', 1, true) and meta:find('"help":"System calls"', 1, true), meta)
  end)
  sh(("kill %d %d; sleep 0.5; kill -9 %d %d 2>/dev/null"):format(tracer, prom, tracer, prom))
  local log = slurp(dir .. "/luatrace.log")
  sh("rm -rf " .. q(dir))
  if not ok_run then error(tostring(err) .. "\nluatrace log:\n" .. log, 0) end
  ok(log:find("getppid", 1, true), "syscount printed its table at the end: " .. log)
end)
