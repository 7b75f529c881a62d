-- Ring and perf buffers: N in, N out, nothing lost; a deliberate overflow
-- reports exactly what was lost; a poller waits on several channels.
local core = require "luatrace.core"
local types = require "luatrace.types"
local ffi = require "ffi"

local N = 200

local function names_from(chan, pt)
  local got = {}
  drain(chan, pt, function(e)
    local s = ffi.string(e.fname)
    if s:find("/tmp/luatrace-test-", 1, true) then got[#got + 1] = s end
  end)
  return got
end

test("ring buffer and perf buffer: 200 in, 200 out, lost 0", function()
  local o = load("events")
  local link = core.attach_tracepoint(o, "on_openat", "syscalls", "sys_enter_openat")
  local ring = core.ring_buffer(o:map("events"), { lost_map = o:map("events_lost") })
  local perf = core.perf_buffer(o:map("pevents"), 64)
  local want = {}
  for i = 1, N do want[i] = unique_path("n" .. i); touch_open(want[i]) end
  link:close()
  local pt = types.ptr(o, "struct lt_test_open")
  local r, p = names_from(ring, pt), names_from(perf, pt)
  eq(#r, N, "ring records"); eq(#p, N, "perf records")
  -- the ring is one ordered stream; perf is per CPU, so compare as sets
  for i = 1, N do eq(r[i], want[i], "ring order " .. i) end
  table.sort(p); local sorted = { unpack(want) }; table.sort(sorted)
  for i = 1, N do eq(p[i], sorted[i], "perf record " .. i) end
  eq(ring:lost(), 0, "ring lost"); eq(perf:lost(), 0, "perf lost")
  ring:close(); perf:close(); o:close()
end)

test("overflow: received + lost == sent, lost > 0, for both buffers", function()
  local o = load("overflow")
  local ring = core.ring_buffer(o:map("small_ring"), { lost_map = o:map("small_lost") })
  local perf = core.perf_buffer(o:map("small_perf"), 1)
  local link = core.attach_tracepoint(o, "on_openat", "syscalls", "sys_enter_openat")
  eq(ring:lost(), 0, "nothing lost before the opens")
  local sent = 50
  for i = 1, sent do touch_open(unique_path("of" .. i)) end
  -- lost(true) is the lost map's last read: no syscall, not yet updated
  eq(ring:lost(true), 0, "cached: the read before the opens")
  local rn, pn = drain(ring), drain(perf)
  -- The kernel writes a perf LOST record only once there is room again:
  -- after the drain, one more event brings it.
  touch_open(unique_path("of-last"))
  sent = sent + 1
  link:close()
  rn, pn = rn + drain(ring), pn + drain(perf)
  local rl, pl = ring:lost(), perf:lost()
  eq(ring:lost(true), rl, "cached: the read just made")
  ok(rl > 0, "ring lost > 0 (got " .. rl .. ")")
  ok(pl > 0, "perf lost > 0 (got " .. pl .. ")")
  eq(rn + rl, sent, "ring received + lost")
  eq(pn + pl, sent, "perf received + lost")
  ring:close(); perf:close(); o:close()
end)

test("a poller waits on two channels and reports the ready ones", function()
  local o = load("events")
  local ring = core.ring_buffer(o:map("events"))
  local perf = core.perf_buffer(o:map("pevents"), 8, 0) -- a wakeup per event
  local p = core.poller()
  p:add(ring); p:add(perf)
  eq(#p:wait(0), 0, "nothing ready before any event")
  local link = core.attach_tracepoint(o, "on_openat", "syscalls", "sys_enter_openat")
  touch_open(unique_path("poll"))
  link:close()
  local ready = p:wait(1000)
  table.sort(ready)
  -- ring wakes at once; perf wakes per event (wakeup_events = 1)
  eq(table.concat(ready, ","), "1,2", "both channels ready")
  eq(drain(ring), 1, "ring record"); eq(drain(perf), 1, "perf record")
  eq(#p:wait(0), 0, "nothing ready after draining")
  p:close(); ring:close(); perf:close(); o:close()
end)

test("perf buffer wakeups are batched by default: one event wakes nobody", function()
  local o = load("events")
  local perf = core.perf_buffer(o:map("pevents"), 8) -- wakeup at 8 KiB per CPU
  local p = core.poller()
  p:add(perf)
  local link = core.attach_tracepoint(o, "on_openat", "syscalls", "sys_enter_openat")
  touch_open(unique_path("quiet"))
  link:close()
  eq(#p:wait(50), 0, "no wakeup for one small record")
  eq(drain(perf), 1, "the record is there for the next drain")
  raises(function() core.perf_buffer(o:map("pevents"), 8, 8 * 4096) end,
    "wakeup_bytes 32768 is not below the buffer size (8 pages)")
  p:close(); perf:close(); o:close()
end)

test("a ring buffer drains in bounded batches", function()
  local o = load("events")
  local ring = core.ring_buffer(o:map("events"))
  local link = core.attach_tracepoint(o, "on_openat", "syscalls", "sys_enter_openat")
  for i = 1, 1000 do touch_open(unique_path("b" .. i)) end
  link:close()
  local _, n, bytes, more = ring:drain()
  eq(n, 1000, "all records in one batch below the soft limit")
  eq(bytes, 1000 * (16 + 160), "record header + data, 8-byte aligned")
  eq(more, false, "nothing left")
  ring:close(); o:close()
end)

test("a map of the wrong type is refused as a channel", function()
  local o = load("events")
  raises(function() core.ring_buffer(o:map("counts")) end,
    "open ring buffer counts: the map is a hash, not a ringbuf")
  raises(function() core.perf_buffer(o:map("pevents"), 3) end, "page_cnt 3 is not a power of two")
  o:close()
end)
