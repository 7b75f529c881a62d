-- The luatrace side of every benchmark workload (bench/run.lua drives it):
--
--   startup aot|warm|cold [TAG]   count openat by comm, exit at the first
--                                 event: AOT object, C text (warm cache),
--                                 C text never compiled before (cold)
--   events-ring PID [CAT:EVENT | raw:EVENT] | events-perf PID [...]
--                                 PID's hits of a tracepoint (default
--                                 syscalls:sys_enter_getppid) or raw
--                                 tracepoint into Lua, from
--                                 C text written as docs/BPF_C.md shows it
--                                 (ringbuf_reserve + ringbuf_submit(e, 0);
--                                 perf_submit), warm cache
--   mapfill                       100k entries with update_batch
--   count-percpu PID | count-comm PID   in-kernel counting only
--   mapread PID                   fill a hash from PID's close(fd), read it
--                                 back into Lua as key/value pairs
--   uprobe BINARY                 count calls of bench_target in BINARY
-- All but startup print READY once attached and report at SIGINT.
local lt = require "luatrace"
local BPF, core = lt.BPF, lt.core

local DIR = core.exe_path():match("^(.*)/[^/]*$") .. "/bench/"
local OBJ = DIR .. "bench.bpf.o"
local mode, arg2 = arg[1], arg[2]
local pid = tonumber(arg2)

local function now_ns()
  return core.monotonic_ns()
end

local function aot(prog, globals)
  return BPF{obj = OBJ, programs = { prog }, globals = globals or { target_pid = pid or 0 }}
end

local function ready() io.stdout:write("READY\n"); io.stdout:flush() end

if mode == "startup" then
  local b
  if arg2 == "aot" then
    b = BPF{obj = DIR .. "startup.bpf.o"}
  else
    b = BPF{text = [[
struct key_t { char comm[16]; };
struct ev_t { u32 pid; };
BPF_HASH(by_comm, struct key_t, u64, 1024);
BPF_RINGBUF_OUTPUT(ring, 16);
TRACEPOINT_PROBE(syscalls, sys_enter_openat) {
	struct key_t k = {};
	bpf_get_current_comm(&k.comm, sizeof(k.comm));
	by_comm.increment(k);
	struct ev_t e = { .pid = lt_pid() };
	ring.ringbuf_output(&e, sizeof(e), 0);
	return 0;
}
]] .. (arg2 == "cold" and ("/* " .. (arg[3] or tostring(now_ns())) .. " */\n") or "")}
  end
  local seen = false
  b.ring:open_ring_buffer(function() seen = true end)
  while not seen do
    if b:ring_buffer_poll(100) == false then break end
  end
  io.stdout:write("FIRST\n")
  io.stdout:flush()
  return
end

if mode == "events-ring" or mode == "events-perf" then
  local ring = mode == "events-ring"
  local cat, event = (arg[3] or "syscalls:sys_enter_getppid"):match("^([%w_]+):([%w_]+)$")
  local probe = cat == "raw" and ("#define CTX ctx\nRAW_TRACEPOINT_PROBE(%s)"):format(event)
    or ("#define CTX args\nTRACEPOINT_PROBE(%s, %s)"):format(cat, event)
  -- the user code of docs/BPF_C.md: nothing tuned for the benchmark
  local b = BPF{text = ([[
const volatile u32 target_pid;
struct lt_bench_ev { u32 pid; u32 seq; u64 ts; };
BPF_RINGBUF_OUTPUT(ring, 128);
BPF_PERF_OUTPUT(perf);
PROBE {
	if (lt_pid() != target_pid) return 0;
#ifdef USE_RING
	struct lt_bench_ev *e = ring.ringbuf_reserve(sizeof(*e));
	if (!e) return 0;
	e->pid = target_pid;
	e->ts = bpf_ktime_get_ns();
	ring.ringbuf_submit(e, 0);
#else
	struct lt_bench_ev e = { .pid = target_pid, .ts = bpf_ktime_get_ns() };
	perf.perf_submit(CTX, &e, sizeof(e));
#endif
	return 0;
}
]]):gsub("PROBE {", function() return probe .. " {" end), cflags = ring and { "-DUSE_RING" } or nil,
    globals = { target_pid = pid }}
  local n, t_first, t_last = 0, 0, 0
  local cb = function()
    if n == 0 then t_first = now_ns() end
    n = n + 1
  end
  local lost = 0
  if ring then
    b.ring:open_ring_buffer(cb, { lost_cb = function(k) lost = lost + k end })
  else
    b.perf:open_perf_buffer(cb, { page_cnt = 256, lost_cb = function(k) lost = lost + k end })
  end
  ready()
  local poll = ring and b.ring_buffer_poll or b.perf_buffer_poll
  while true do
    local got = poll(b, 100)
    if got == false then break end
    if got and got > 0 then t_last = now_ns() end
  end
  local before = n
  if ring then b:ring_buffer_consume() else b:perf_buffer_consume() end
  if n > before then t_last = now_ns() end
  io.stdout:write(("received=%d span_ns=%.0f lost=%d\n"):format(n, t_last - t_first, lost))
  return
end

if mode == "mapfill" then
  local b = aot("fill_big")
  ready()
  local t0 = now_ns()
  local keys, values = {}, {}
  for i = 1, 100000 do keys[i] = i; values[i] = 3 * i end
  local n = b.big:update_batch(keys, values)
  local dt = now_ns() - t0
  io.stdout:write(("entries=%d fill_ms=%.3f\n"):format(n, dt / 1e6))
  return
end

if mode == "count-percpu" or mode == "count-comm" then
  local b = aot(mode == "count-percpu" and "cnt_percpu" or "cnt_comm")
  ready()
  lt.sleep(-1)
  if mode == "count-percpu" then
    io.stdout:write(("count=%d\n"):format(b.counter:sum(0)))
  else
    io.stdout:write("counted\n")
  end
  return
end

if mode == "mapread" then
  local b = aot("fill_big")
  ready()
  lt.sleep(-1)
  b:detach_tracepoint{ tp = "syscalls:sys_enter_close" }
  local t0 = now_ns()
  local n, check = 0, 0
  for k, v in b.big:items() do
    n = n + 1
    check = check + v
  end
  local dt = now_ns() - t0
  io.stdout:write(("entries=%d read_ms=%.3f check=%d\n"):format(n, dt / 1e6, check))
  return
end

if mode == "uprobe" then
  local b = BPF{obj = OBJ, programs = { "count_uprobe" }}
  b:attach_uprobe{ name = arg2, sym = "bench_target", fn_name = "count_uprobe" }
  ready()
  lt.sleep(-1)
  io.stdout:write(("count=%d\n"):format(b.counter:sum(0)))
  return
end

error("tracer.lua: unknown mode " .. tostring(mode), 0)
