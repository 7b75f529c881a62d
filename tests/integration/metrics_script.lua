-- The documented way for any script: lt.metrics over a program's tables,
-- served from the same loop that drains its events; a client scrapes while
-- the loop runs, and ring buffer events keep flowing meanwhile.
local lt = require "luatrace"
local loop = require "luatrace.loop"
local core = lt.core

local SRC = [[
struct key_t { u32 pid; char comm[16]; };
BPF_HASH(calls, struct key_t, u64, 16);
BPF_HISTOGRAM(sizes);
BPF_RINGBUF_OUTPUT(events, 8);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
	if (lt_pid() != TARGET) return 0;
	struct key_t k = { .pid = lt_pid() };
	bpf_get_current_comm(&k.comm, sizeof(k.comm));
	calls.increment(k);
	sizes.increment(bpf_log2l(6));
	u32 one = 1;
	events.ringbuf_output(&one, sizeof(one), 0);
	return 0;
}
]]

local CLIENT = [[
import sys, time, urllib.request
time.sleep(0.3)
req = urllib.request.Request("http://127.0.0.1:%s/metrics" % sys.argv[1])
print(urllib.request.urlopen(req, timeout=5).read().decode(), end="")
]]

test("a script's tables as metrics on its event loop", function()
  local b = lt.BPF{text = SRC, cflags = { "-DTARGET=" .. core.getpid() }}
  local events = 0
  b.events:open_ring_buffer(function() events = events + 1 end)
  local reg = lt.metrics.new()
  reg:counter{ name = "getppid_calls_total", help = "getppid() calls", table = b.calls,
               labels = { "pid", "comm" } }
  reg:histogram{ name = "sizes", help = "sizes", table = b.sizes, kind = "log2" }
  local L = loop.new()
  L:add(b)
  local srv = reg:serve(":0", L)
  getppid_calls(4)
  local script, out = unique_path("client.py"), unique_path("client.out")
  local f = io.open(script, "w"); f:write(CLIENT); f:close()
  os.execute(("python3 %s %d > %s 2>&1 &"):format(script, srv.port, out))
  local text = ""
  L:every(50, function()
    getppid_calls(1)
    local fh = io.open(out); text = fh and fh:read("*a") or ""; if fh then fh:close() end
    if text:find("sizes_count") then L:stop() end
  end)
  L:run{ duration_ms = 10000 }
  srv:close()
  L:close()
  os.remove(script); os.remove(out)
  local n = tonumber(text:match('getppid_calls_total{pid="' .. core.getpid() .. '",comm="luatrace"} (%d+)'))
  ok(n and n >= 4, "counted calls: " .. text)
  ok(text:find("# TYPE sizes histogram\nsizes_bucket{le=\"0\"} 0\nsizes_bucket{le=\"1\"} 0\n"
    .. "sizes_bucket{le=\"3\"} 0\nsizes_bucket{le=\"7\"} " .. n .. "\n", 1, true), text)
  ok(events >= n, ("events drained meanwhile (%d events, %d counted)"):format(events, n))
  b:cleanup()
end)
