-- Bulk map writes: update_batch / set_many put every entry in with one
-- BPF_MAP_UPDATE_BATCH, for scalar, struct and per-CPU values, and read
-- back exactly.
local lt = require "luatrace"
local BPF = lt.BPF

local SRC = [[
struct lt_pair { u32 a; u64 b; };
BPF_HASH(h, u32, u64, 200000);
BPF_HASH(s, u32, struct lt_pair, 16);
BPF_ARRAY(arr, u64, 8);
BPF_PERCPU_ARRAY(pc, u64, 4);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { return 0; }
]]

test("update_batch fills 100k hash entries that read back exactly", function()
  local b = BPF{text = SRC}
  local keys, values = {}, {}
  for i = 1, 100000 do keys[i] = i; values[i] = i * 3 end
  eq(b.h:update_batch(keys, values), 100000, "entries written")
  eq(#b.h, 100000, "entries in the map")
  eq(b.h[1], 3); eq(b.h[77777], 233331); eq(b.h[100000], 300000)
  local sum = 0
  for _, v in b.h:items() do sum = sum + v end
  eq(sum, 3 * 100000 * 100001 / 2, "every value")
  b:cleanup()
end)

test("set_many with struct values, arrays and per-CPU values", function()
  local b = BPF{text = SRC}
  b.s:set_many{ [1] = { a = 10, b = 2 ^ 40 }, [2] = { a = 20, b = 5 } }
  eq(b.s[1].a, 10); eq(b.s[1].b, 2 ^ 40); eq(b.s[2].a, 20)
  b.arr:update_batch({ 0, 7 }, { 11, 77 })
  eq(b.arr[0], 11); eq(b.arr[7], 77); eq(b.arr[3], 0)
  local ncpu = #b.pc[0]
  b.pc:update_batch({ 1 }, { 5 })
  eq(b.pc:sum(1), 5 * ncpu, "a number goes to every CPU")
  raises(function() b.h:update_batch({ 1, 2 }, { 1 }) end, "update_batch h: 2 keys but 1 values")
  raises(function() b.arr:update_batch({ 8 }, { 1 }) end, "update map in a batch arr: Argument list too long (an index is out of range")
  b:cleanup()
end)
