-- --metrics of histogram tools: runqlat's run queue latency as a
-- Prometheus histogram (cumulative buckets in seconds, +Inf = _count),
-- scraped while it prints its own interval reports; promtool agrees.
local core = require "luatrace.core"

local GET = [[
import sys, time, urllib.request
time.sleep(1.5)
print(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode(), end="")
]]

test("runqlat --metrics: a histogram with le buckets, _sum and _count", function()
  local s, _, port = core.listen("127.0.0.1", 0)
  s:close()
  local log = unique_path("runqlat.log")
  local pid = tonumber((sh(("%s -m runqlat --metrics :%d 1 3 > %s 2>&1 & echo $!"):format(q(luatrace()), port, q(log)))))
  local script = unique_path("get.py")
  local f = io.open(script, "w"); f:write(GET); f:close()
  local text, err, code = sh(("python3 %s %d"):format(q(script), port))
  os.remove(script)
  sh(("wait %d 2>/dev/null; while kill -0 %d 2>/dev/null; do sleep 0.1; done"):format(pid, pid))
  local fh = io.open(log); local out = fh:read("*a"); fh:close(); os.remove(log)
  eq(code, 0, err)
  ok(text:find("# HELP luatrace_runq_latency_seconds ", 1, true), text)
  ok(text:find("# TYPE luatrace_runq_latency_seconds histogram\n", 1, true), text)
  local prev, n = -1, 0
  for le, c in text:gmatch('luatrace_runq_latency_seconds_bucket{le="([^"]+)"} (%d+)') do
    n = n + 1
    ok(tonumber(c) >= prev, "buckets are cumulative")
    prev = tonumber(c)
    if n == 1 then eq(le, "0"); eq(c, "0", "nothing takes 0 s exactly") end
    if n == 2 then eq(le, "1e-06", "libbpf-tools' slot 0 (0..1 us)") end
    if n == 5 then eq(le, "1.5e-05", "libbpf-tools' slot 3 (8..15 us)") end
  end
  ok(n > 2, "buckets: " .. text)
  local count = tonumber(text:match("luatrace_runq_latency_seconds_count (%d+)"))
  ok(count and count > 0, "events counted")
  eq(tonumber(text:match('le="%+Inf"} (%d+)')), count, "+Inf bucket is the count")
  ok(out:find("usecs", 1, true) and out:find("distribution", 1, true), "the reports still print: " .. out)
  if core.stat("/usr/bin/promtool") then
    local path = unique_path("m.txt")
    f = io.open(path, "w"); f:write(text); f:close()
    local o2, e2, c2 = sh("promtool check metrics < " .. q(path))
    os.remove(path)
    eq(c2, 0, o2 .. e2)
  end
end)
