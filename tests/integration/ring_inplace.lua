-- Ring buffers read in place, on the code users write: records of several
-- sizes and discarded ones going many times round a one-page ring arrive
-- exactly once and in order; wakeups are batched by default (the poll's
-- latency tick delivers what is below the threshold); the per-event path
-- is one compiled trace with no per-event allocation.
local lt = require "luatrace"
local BPF = lt.BPF
local core = lt.core
local ffi = require "ffi"

-- Every getppid of ours: seq n. Every third is reserved then discarded;
-- the others carry 8 + (n % 7) * 8 bytes: seq, then filler.
local SRC = [[
const volatile u32 target_pid;
BPF_RINGBUF_OUTPUT(ring, 1);
BPF_ARRAY(counter, u32, 1);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
	if (lt_pid() != target_pid) return 0;
	int zero = 0;
	u32 *c = counter.lookup(&zero);
	if (!c) return 0;
	u32 n = (*c)++;
	if (n % 3 == 2) {
		u32 *d = ring.ringbuf_reserve(sizeof(u32));
		if (d) ring.ringbuf_discard(d, 0);
		return 0;
	}
	u32 buf[16] = {};
	buf[0] = n;
	u32 len = 8 + (n % 7) * 8;
	ring.ringbuf_output(buf, len & 63, 0);
	return 0;
}
]]

test("records of many sizes and discards go round a 4 KiB ring 50 times, exactly once, in order", function()
  local b = BPF{text = SRC, globals = { target_pid = core.getpid() }}
  local got, lens, lost = {}, {}, 0
  b.ring:open_ring_buffer(function(p, len)
    got[#got + 1] = ffi.cast("const uint32_t *", p)[0]
    lens[#lens + 1] = len
  end, { lost_cb = function(n) lost = lost + n end })
  local N = 3000 -- ~ 2000 records of 16..64 bytes with headers: ~50 laps of 4 KiB
  for _ = 1, N / 30 do
    getppid_calls(30) -- 20 records, at most 20 * 64 bytes: fits one page
    b:ring_buffer_poll(0)
  end
  b:cleanup()
  eq(lost, 0, "nothing lost")
  local k = 0
  for n = 0, N - 1 do
    if n % 3 ~= 2 then
      k = k + 1
      if got[k] ~= n then error(("record %d: expected seq %d, got %s"):format(k, n, tostring(got[k]))) end
      eq(lens[k], 8 + (n % 7) * 8, "length of seq " .. n)
    end
  end
  eq(#got, k, "no extra records")
end)

test("one event with batched wakeups arrives on the poll's latency tick", function()
  local b = BPF{text = SRC, globals = { target_pid = core.getpid() }}
  local n = 0
  raises(function() b.ring:open_ring_buffer(function() end, { latency_ms = 0 }) end,
    "open_ring_buffer ring: latency_ms must be a positive number")
  b.ring:open_ring_buffer(function() n = n + 1 end, { latency_ms = 20 })
  getppid_calls(1) -- below the wakeup threshold: no wakeup is sent
  eq(b:ring_buffer_poll(1000), 1, "poll returned with the one record")
  eq(n, 1)
  eq(b:ring_buffer_poll(30), 0, "nothing more: the poll times out with 0")
  b:cleanup()
end)

test("the per-event path is one compiled trace, no aborts, no allocation per event", function()
  local b = BPF{text = SRC, globals = { target_pid = core.getpid() }}
  local n, sum = 0, 0
  b.ring:open_ring_buffer(function(p, len) n = n + 1; sum = sum + len end)
  -- Trace events of the JIT: which traces start in events.lua, which of
  -- them complete, and every abort there except LuaJIT's normal "inner
  -- loop in root trace" (the walk's loop then gets a root trace of its own).
  local aborts, starts, completed = {}, {}, 0
  local jutil = require "jit.util"
  local vmdef = require "jit.vmdef"
  local function where(func, pc)
    local fi = jutil.funcinfo(func, pc)
    return (fi.source or "?") .. ":" .. tostring(fi.currentline)
  end
  jit.attach(function(what, tr, func, pc, otr, oex)
    if what == "start" then
      starts[tr] = where(func, pc):find("events.lua", 1, true) ~= nil
    elseif what == "stop" then
      if starts[tr] then completed = completed + 1 end
    elseif what == "abort" and starts[tr] then
      local msg = vmdef.traceerr[otr] or tostring(otr)
      if type(msg) == "string" and oex then msg = msg:format(oex) end
      if otr ~= 9 then aborts[#aborts + 1] = where(func, pc) .. ": " .. msg end
    end
  end, "trace")
  jit.flush() -- earlier tests may have compiled the walk already: record it anew
  collectgarbage("collect")
  collectgarbage("stop")
  local before = collectgarbage("count")
  for _ = 1, 40 do
    getppid_calls(120) -- 80 records per round, up to 5 KiB: the ring is 4 KiB
    b:ring_buffer_poll(0)
  end
  local grown = collectgarbage("count") - before
  collectgarbage("restart")
  jit.attach(function() end)
  b:cleanup()
  eq(#aborts, 0, "trace aborts in the event path: " .. table.concat(aborts, ", "))
  ok(completed > 0, "a trace of the event walk was compiled")
  ok(n > 2000, "records seen: " .. n)
  ok(grown < 64, ("no per-event allocation: %.1f KiB grew for %d events"):format(grown, n))
end)

-- The ring's mappings in /proc/self/maps: {size in bytes, offset} each.
local function ring_mappings()
  local t = {}
  for l in io.lines("/proc/self/maps") do
    local a, b, off = l:match("^(%x+)-(%x+) %S+ (%x+) .*anon_inode:bpf%-map$")
    if a then t[#t + 1] = { size = tonumber(b, 16) - tonumber(a, 16), off = tonumber(off, 16) } end
  end
  table.sort(t, function(x, y) return x.off < y.off end)
  return t
end

test("a ring channel maps its ring once: the consumer page and the data area twice, gone at close", function()
  local b = BPF{text = SRC, globals = { target_pid = core.getpid() }}
  eq(#ring_mappings(), 0, "no ring mapped before the channel opens")
  b.ring:open_ring_buffer(function() end)
  local m = ring_mappings()
  local page = 4096
  eq(#m, 2, "two mappings (libbpf's ring_buffer would add two more)")
  eq(m[1].off, 0); eq(m[1].size, page, "consumer page")
  eq(m[2].off, page); eq(m[2].size, page + 2 * page, "producer page, then the one-page data area twice")
  b:cleanup()
  eq(#ring_mappings(), 0, "unmapped at close")
end)

test("chan:drain() walks the same single mapping: discards skipped, in order over many laps", function()
  local b = BPF{text = SRC, globals = { target_pid = core.getpid() }}
  local ring = core.ring_buffer(b._obj:map("ring"))
  local p = core.poller()
  p:add(ring)
  local seen = 0
  for _ = 1, 100 do
    getppid_calls(30) -- 20 records (10 discarded), at most 20 * 72 bytes
    local base, n = ring:drain()
    eq(n, 20, "records in the batch")
    local rec = ffi.cast("const uint8_t *", base)
    for _ = 1, n do
      local r = ffi.cast("const struct lt_record *", rec)
      local nseq = ffi.cast("const uint32_t *", rec + ffi.sizeof("struct lt_record"))[0]
      while seen % 3 == 2 do seen = seen + 1 end
      if nseq ~= seen then error(("expected seq %d, got %d"):format(seen, nseq)) end
      eq(r.len, 8 + (seen % 7) * 8, "length of seq " .. seen)
      seen = seen + 1
      rec = rec + r.next
    end
  end
  eq(#p:wait(0), 0, "nothing left to wake the poller")
  eq(seen, 2999, "every record of 100 rounds (seq 2999 was discarded)")
  p:close(); ring:close(); b:cleanup()
end)
