-- Event delivery through the public API: typed records, lost events to
-- lost_cb or a warning, never silence; poll() over both buffer kinds.
local lt = require "luatrace"
local BPF = lt.BPF
local core = lt.core

local SRC = [[
struct big_t { u32 pid; u32 seq; char pad[1000]; };
BPF_RINGBUF_OUTPUT(ring, 1);
BPF_PERF_OUTPUT(perf);
BPF_PERCPU_ARRAY(scratch, struct big_t, 1);
BPF_ARRAY(seq, u64, 1);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
	if (lt_pid() != TARGET) return 0;
	int zero = 0;
	struct big_t *e = scratch.lookup(&zero);
	if (!e) return 0;
	e->pid = lt_pid();
	e->seq = seq.lookup(&zero) ? (*(u64 *)seq.lookup(&zero))++ : 0;
	ring.ringbuf_output(e, sizeof(*e), 0);
	perf.perf_submit(args, e, sizeof(*e));
	return 0;
}
]]

test("lost events reach lost_cb: received + lost == sent, for ring and perf", function()
  local b = BPF{text = SRC, cflags = { "-DTARGET=" .. core.getpid() }}
  local got = { ring = 0, perf = 0 }
  local lost = { ring = 0, perf = 0 }
  b.ring:open_ring_buffer(function(e) got.ring = got.ring + 1; eq(e.pid, core.getpid()) end,
    { type = "struct big_t", lost_cb = function(n) lost.ring = lost.ring + n end })
  b.perf:open_perf_buffer(function(e) got.perf = got.perf + 1 end,
    { type = "struct big_t", page_cnt = 1, lost_cb = function(n) lost.perf = lost.perf + n end })
  getppid_calls(30)
  b:poll(0)
  getppid_calls(1) -- the kernel reports perf losses once there is room again
  b:poll(100)
  ok(lost.ring > 0, "ring lost some"); ok(lost.perf > 0, "perf lost some")
  eq(got.ring + lost.ring, 31, "ring: received + lost")
  eq(got.perf + lost.perf, 31, "perf: received + lost")
  b:cleanup()
end)

test("a poll loop reads the lost map on its latency tick; consume reports the rest", function()
  local b = BPF{text = SRC, cflags = { "-DTARGET=" .. core.getpid() }}
  local got, lost = 0, 0
  b.ring:open_ring_buffer(function() got = got + 1 end,
    { type = "struct big_t", latency_ms = 60000, lost_cb = function(n) lost = lost + n end })
  eq(b:ring_buffer_poll(0), 0, "empty at first") -- reads the lost map: 0
  getppid_calls(30) -- a 4 KiB ring holds 3 of these 1 KiB records
  local n = b:ring_buffer_poll(0)
  ok(n > 0 and n < 30, "some records (" .. n .. ")")
  eq(lost, 0, "not read again within the latency")
  b:ring_buffer_consume()
  ok(lost > 0, "consume reads the lost map")
  eq(got + lost, 30, "received + lost")
  b:cleanup()
end)

test("without lost_cb, losses are a warning on stderr", function()
  local script = os.tmpname()
  local fh = io.open(script, "w")
  fh:write(([[
local b = require("luatrace").BPF{text = %q, cflags = {"-DTARGET=" .. require("luatrace.core").getpid()}}
b.ring:open_ring_buffer(function() end, { type = "struct big_t" })
local ffi = require "ffi"
ffi.cdef "int getppid(void);"
for _ = 1, 10 do ffi.C.getppid() end
b:ring_buffer_poll(0)
print("done")
]]):format(SRC))
  fh:close()
  local out, err, code = sh(q(luatrace()) .. " " .. q(script))
  os.remove(script)
  eq(code, 0, err)
  eq(out, "done\n")
  local n = tonumber(err:match("^luatrace: lost (%d+) events on ring buffer ring\n$"))
  ok(n and n > 0, "warning: " .. err)
end)

test("records are typed from the program's own BTF without saying the type", function()
  local b = BPF{text = [[
struct rec_t { u32 pid; char comm[16]; u64 big; };
BPF_RINGBUF_OUTPUT(out, 4);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
	if (lt_pid() != TARGET) return 0;
	struct rec_t r = { .pid = lt_pid(), .big = 0xfffffffffffffff0ULL };
	bpf_get_current_comm(r.comm, sizeof(r.comm));
	out.ringbuf_output(&r, sizeof(r), 0);
	return 0;
}
]], cflags = { "-DTARGET=" .. core.getpid() }}
  local seen
  b.out:open_ring_buffer(function(r) seen = { r.pid, r.comm, r.big } end)
  getppid_calls(1)
  eq(b:ring_buffer_poll(1000), 1, "one record")
  eq(seen[1], core.getpid()); eq(seen[2], "luatrace")
  eq(seen[3], 0xfffffffffffffff0ULL, "u64 beyond 2^53 stays exact")
  b:cleanup()
end)
