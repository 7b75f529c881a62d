-- SIGINT/SIGTERM never lose a script's summary: the code after a poll loop
-- runs once with the objects still open, a poll after the interrupt
-- raises "interrupted" (exit 0, catchable), timeout(1)'s pair of signals
-- is one interrupt, and a second Ctrl-C later still ends a stuck script.
-- Each test runs a child luatrace script and signals it.

-- The child's preamble: a ring buffer of getppid calls of its own pid, and
-- a counter map for the summary. READY is a file the child creates when
-- the test may signal it.
local PRELUDE = [[
local lt = require "luatrace"
local ffi = require "ffi"
ffi.cdef "int getppid(void);"
local READY = arg[1]
local function ready() local f = io.open(READY, "w"); f:close() end
local b = lt.BPF{text = [==[
BPF_RINGBUF_OUTPUT(evs, 8);
BPF_ARRAY(counts, u64, 1);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
	if (lt_pid() != TARGET) return 0;
	u32 pid = lt_pid();
	evs.ringbuf_output(&pid, sizeof(pid), 0);
	counts.increment(0);
	return 0;
}
]==], globals = {}, cflags = { "-DTARGET=" .. require("luatrace.core").getpid() }}
for _ = 1, 3 do ffi.C.getppid() end
]]

-- Run body as a child script; signal(pid) runs once READY exists.
-- Returns stdout, stderr, exit code.
local function child(body, signal_cmd)
  local script, ready = unique_path("sig") .. ".lua", unique_path("ready")
  local fh = io.open(script, "w")
  fh:write(PRELUDE, body)
  fh:close()
  local cmd = ([[
%s %s %s & pid=$!
for i in $(seq 400); do [ -e %s ] && break; sleep 0.025; done
%s
wait $pid; echo "exit=$?"]]):format(q(luatrace()), q(script), q(ready), q(ready),
    signal_cmd)
  local out, err = sh(cmd)
  os.remove(script); os.remove(ready)
  return out, err, tonumber(out:match("exit=(%d+)"))
end

test("SIGINT inside a callback: the loop ends, the summary reads the open maps", function()
  local out, err, code = child([[
local n = 0
b.evs:open_ring_buffer(function()
  n = n + 1
  if n == 1 then
    ready()
    local t = os.clock() + 0.3
    while os.clock() < t do end -- the signal arrives here, outside any wait
  end
end)
while b:ring_buffer_poll(100) do end
print("events", n)
print("count", b.counts[0])
]], "kill -INT $pid")
  eq(err, "")
  eq(out, "events\t3\ncount\t3\nexit=0\n")
  eq(code, 0)
end)

test("SIGTERM between polls: the code after the loop runs once", function()
  local out, err = child([[
b.evs:open_ring_buffer(function() end)
ready()
local polls = 0
while b:ring_buffer_poll(50) do
  polls = polls + 1
  local t = os.clock() + 0.05
  while os.clock() < t do end
end
print("after the loop", b.counts[0])
]], "sleep 0.3; kill -TERM $pid")
  eq(err, "")
  eq(out, "after the loop\t3\nexit=0\n")
end)

test("SIGINT after attaching, before the first wait: the loop ends at once, the summary prints", function()
  local out, err = child([[
ready()
local t = os.clock() + 0.3
while os.clock() < t do end -- still setting up when the signal comes
local n = 0
while lt.sleep(1000) do n = n + 1 end
print("summary", n, b.counts[0])
]], "kill -INT $pid")
  eq(err, "")
  eq(out, "summary\t0\t3\nexit=0\n")
end)

test("BCC's while-true poll: false once, then 'interrupted' ends the script with exit 0", function()
  local out, err = child([[
b.evs:open_ring_buffer(function() end)
ready()
local ok, e = pcall(function()
  while true do io.write("poll ", tostring(b:ring_buffer_poll(1000)), "\n") end
end)
print("caught", ok, e)
print("count", b.counts[0])
while true do b:ring_buffer_poll(1000) end
print("not reached")
]], "sleep 0.2; kill -INT $pid")
  eq(err, "")
  local polls = {}
  for r in out:gmatch("poll (%S+)\n") do polls[#polls + 1] = r end
  eq(polls[#polls], "false", "the last poll before the error returned false")
  eq(#polls, 2, "one poll handled the 3 events, the next returned false: " .. out)
  ok(out:find("caught\tfalse\t[^\n]*interrupted\ncount\t3\nexit=0\n$"), out)
end)

test("sleep and trace_fields follow the same rule", function()
  local out, err = child([[
lt.sleep(1) -- a script that has waited: the signal is left to its next wait
ready()
while lt.sleep(1000) do end
print("sleep ended")
print(pcall(b.trace_fields, b, {timeout = 1000}))
print(pcall(lt.sleep, 1000))
]], "sleep 0.2; kill -INT $pid")
  eq(err, "")
  ok(out:find("^sleep ended\nfalse\t[^\n]*interrupted\nfalse\t[^\n]*interrupted\nexit=0\n$"), out)
end)

test("timeout -s INT (the child and its group, two signals) is one interrupt", function()
  local script = unique_path("sig") .. ".lua"
  local fh = io.open(script, "w")
  fh:write(PRELUDE, "ready()\nwhile lt.sleep(50) do end\nprint('summary', b.counts[0])\n")
  fh:close()
  for _ = 1, 2 do
    local ready = unique_path("ready")
    local o, e, c = sh(("timeout --preserve-status -s INT 5 %s %s %s")
      :format(q(luatrace()), q(script), q(ready)))
    os.remove(ready)
    eq(e, "")
    eq(o, "summary\t3\n")
    eq(c, 0)
  end
  os.remove(script)
end)

test("a second SIGINT a while later still ends a script stuck after the first", function()
  local out, err, code = child([[
lt.sleep(1)
ready()
while lt.sleep(1000) do end
print("summary")
io.stdout:flush()
local x = 0
while true do x = x + 1 end -- a compiled loop: no hook runs here
]], "kill -INT $pid; sleep 1.3; kill -INT $pid")
  eq(out, "summary\nexit=130\n")
  ok(err:find("luatrace: interrupted", 1, true), err)
  eq(code, 130)
end)
