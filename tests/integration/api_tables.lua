-- Tables of the public API: get/set/delete, items/keys/values, len, pairs,
-- clear, per-CPU helpers, struct keys, and BCC-format histograms from real
-- maps (filled by the program and from Lua).
local lt = require "luatrace"
local BPF = lt.BPF
local core = lt.core

local SRC = [[
struct key_t { u32 pid; char comm[16]; };
struct hist_key { char name[8]; u64 slot; };
BPF_HASH(h, struct key_t, u64, 128);
BPF_ARRAY(arr, u64, 4);
BPF_PERCPU_ARRAY(pc, u64, 2);
BPF_HISTOGRAM(dist);
BPF_HISTOGRAM(sdist, struct hist_key);
BPF_HASH(big, u32, u64, 8);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
	if (lt_pid() != TARGET) return 0;
	struct key_t k = { .pid = lt_pid() };
	bpf_get_current_comm(&k.comm, sizeof(k.comm));
	h.increment(k);
	arr.increment(1);
	pc.increment(0, 2);
	dist.increment(bpf_log2l(100));
	return 0;
}
]]

local function load()
  return BPF{text = SRC, cflags = { "-DTARGET=" .. core.getpid() }}
end

test("a hash with struct keys: get, items, keys, values, len, pairs, delete", function()
  local b = load()
  getppid_calls(4)
  local t = b.h
  local key = { pid = core.getpid(), comm = "luatrace" }
  eq(t:get(key), 4)
  eq(t[t:Key(key)], 4, "indexing with a key cdata")
  eq(#t, 1, "#t")
  eq(t:len(), 1)
  for k, v in t:items() do eq(k.pid, core.getpid()); eq(k.comm, "luatrace"); eq(v, 4) end
  for k in t:keys() do eq(k.comm, "luatrace") end
  for v in t:values() do eq(v, 4) end
  local n = 0
  for k, v in pairs(t) do n = n + 1; eq(v, 4); eq(k.pid, core.getpid()) end
  eq(n, 1, "pairs(t)")
  t:set({ pid = 1, comm = "init" }, 99)
  eq(t[t:Key{ pid = 1, comm = "init" }], 99)
  eq(#t, 2)
  eq(t:delete{ pid = 1, comm = "init" }, true)
  eq(t:delete{ pid = 1, comm = "init" }, false)
  t:clear()
  eq(#t, 0, "cleared")
  eq(tostring(t), "BPF table h (hash)")
  b:cleanup()
end)

test("arrays: t[i], clear zeroes; per-CPU: values per CPU, sum/max/avg", function()
  local b = load()
  getppid_calls(3)
  eq(b.arr[1], 3)
  eq(b.arr[0], 0)
  b.arr[2] = 42
  eq(b.arr[2], 42)
  b.arr:clear()
  eq(b.arr[1], 0, "array cleared to zero")
  eq(#b.arr, 4, "arrays always hold max_entries")
  local per = b.pc[0]
  eq(#per, core.possible_cpus(), "one value per possible CPU")
  eq(b.pc:sum(0), 6, "sum over CPUs")
  eq(b.pc:max(0) >= 2, true, "max")
  eq(b.pc:average(0), 6 / core.possible_cpus(), "average")
  raises(function() b.arr:sum(0) end, "table arr is not per-CPU")
  b:cleanup()
end)

test("print_log2_hist of a program-filled histogram", function()
  local b = load()
  getppid_calls(5)
  local lines = b.dist:print_log2_hist("usecs", nil, nil, { write = function() end })
  -- bpf_log2l(100) == 7: slot 7 holds 64..127
  eq(lines[1], "     usecs               : count     distribution")
  eq(#lines, 8, "header + slots 1..7")
  eq(lines[8], "        64 -> 127        : 5        |" .. ("*"):rep(40) .. "|")
  eq(lines[2], "         0 -> 1          : 0        |" .. (" "):rep(40) .. "|")
  local data = b.dist:buckets()
  eq(data[7], 5, "bucket data")
  b:cleanup()
end)

test("sectioned log2 and linear histograms (BCC's secondary keys)", function()
  local b = load()
  local s = b.sdist
  s[s:Key{ name = "read", slot = 1 }] = 2
  s[s:Key{ name = "read", slot = 3 }] = 4
  s[s:Key{ name = "write", slot = 2 }] = 1
  local lines = s:print_log2_hist("bytes", "op", nil, { write = function() end })
  local bar = function(n) return "|" .. ("*"):rep(n) .. (" "):rep(40 - n) .. "|" end
  eq(table.concat(lines, "\n"), table.concat({
    "",
    "op = read",
    "     bytes               : count     distribution",
    "         0 -> 1          : 2        " .. bar(20),
    "         2 -> 3          : 0        " .. bar(0),
    "         4 -> 7          : 4        " .. bar(40),
    "",
    "op = write",
    "     bytes               : count     distribution",
    "         0 -> 1          : 0        " .. bar(0),
    "         2 -> 3          : 1        " .. bar(40),
  }, "\n"))
  local printed = s:print_linear_hist("n", "op", function(name) return name:upper() end,
    { write = function() end })
  eq(printed[2], "op = READ")
  eq(printed[3], "     n             : count     distribution")
  eq(printed[4], "        0          : 0        " .. bar(0))
  eq(printed[5], "        1          : 2        " .. bar(20))
  b:cleanup()
end)

test("a full hash reports it; 64-bit values beyond 2^53 stay exact", function()
  local b = load()
  for i = 1, 8 do b.big[i] = i end
  raises(function() b.big[9] = 9 end, "update map big: Argument list too long (the map is full)")
  b.big[1] = 0xfffffffffffffff0ULL
  eq(b.big[1], 0xfffffffffffffff0ULL, "uint64 kept")
  eq(type(b.big[2]), "number")
  b:cleanup()
end)
