-- BPF{..., max_entries = {map = n}, value_size = {map = bytes}}: map sizes
-- chosen at run time, between open and load (libbpf's
-- bpf_map__set_max_entries / set_value_size), for AOT objects and text=
-- programs; read back through b[map]:info(). Unknown maps and bad sizes
-- are refused before load, naming the map. map_flags = {map = flags}
-- sets creation flags the same way (bpf_map__set_map_flags).
local lt = require "luatrace"
local BPF = lt.BPF

test("map sizes: an AOT object's stack map resized before load", function()
  local b = BPF{ obj = "profile", max_entries = { stack_traces = 1000 }, value_size = { stack_traces = 16 * 8 } }
  local info = b.stack_traces:info()
  b:cleanup()
  eq(info.max_entries, 1000)
  eq(info.value_size, 128)
  local d = BPF{ obj = "profile" }
  local dinfo = d.stack_traces:info()
  d:cleanup()
  eq(dinfo.max_entries, 1024, "libbpf-tools' default --stack-storage-size")
  eq(dinfo.value_size, 127 * 8)
end)

-- A text= program counting this process's getppid calls in hash `counts`.
local COUNTS = [[
BPF_HASH(counts, u32, u64, 10240);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
  u32 pid = bpf_get_current_pid_tgid() >> 32;
  if (pid != TARGET) return 0;
  counts.increment(pid);
  return 0;
}
]]

test("map sizes: a text= program's hash map resized; it still counts", function()
  local b = BPF{ text = COUNTS, cflags = { "-DTARGET=" .. lt.core.getpid() }, max_entries = { counts = 7 } }
  getppid_calls(3)
  local n = b.counts[lt.core.getpid()]
  local info = b.counts:info()
  b:cleanup()
  eq(info.max_entries, 7)
  eq(tonumber(n), 3)
end)

test("map sizes: an unknown map is named with the object's maps", function()
  raises(function() BPF{ obj = "profile", max_entries = { stack_trace = 10 } } end,
    "set max_entries of map stack_trace in ", "profile.bpf.o: no such map (maps: ", "stack_traces")
  raises(function() BPF{ obj = "profile", value_size = { nope = 8 } } end,
    "set value_size of map nope in ")
end)

test("map sizes: sizes must be positive 32-bit integers given by map name", function()
  raises(function() BPF{ obj = "profile", max_entries = { stack_traces = 0 } } end,
    "set max_entries of map stack_traces: 0 is not a positive 32-bit integer")
  raises(function() BPF{ obj = "profile", max_entries = { stack_traces = 1.5 } } end,
    "set max_entries of map stack_traces: 1.5 is not a positive 32-bit integer")
  raises(function() BPF{ obj = "profile", max_entries = { stack_traces = "10" } } end,
    "BPF: max_entries maps map names to sizes, got string = string")
end)

-- map_flags as the kernel reports them for the map's fd
local function fdinfo_flags(map)
  local fh = assert(io.open("/proc/self/fdinfo/" .. map:info().fd))
  local s = fh:read("*a")
  fh:close()
  return s:match("map_flags:%s+(0x%x+)")
end

test("map flags: BPF{map_flags=} sets a hash's creation flags before load; it still counts", function()
  local src = COUNTS
  local cflags = { "-DTARGET=" .. lt.core.getpid() }
  local b = BPF{ text = src, cflags = cflags, map_flags = { counts = 1 } } -- BPF_F_NO_PREALLOC
  getppid_calls(2)
  local n, flags = b.counts[lt.core.getpid()], fdinfo_flags(b.counts)
  b:cleanup()
  eq(flags, "0x1")
  eq(tonumber(n), 2)
  local d = BPF{ text = src, cflags = cflags }
  flags = fdinfo_flags(d.counts)
  d:cleanup()
  eq(flags, "0x0", "preallocated without map_flags")
  raises(function() BPF{ obj = "profile", map_flags = { nope = 1 } } end, "set map_flags of map nope in ")
  raises(function() BPF{ obj = "profile", map_flags = { stack_traces = -1 } } end,
    "set map_flags of map stack_traces: -1 is not a 32-bit flags word")
  raises(function() BPF{ obj = "profile", map_flags = { stack_traces = "1" } } end,
    "BPF: map_flags maps map names to flags, got string = string")
end)
