-- Misuse of the BPF class: every mistake is one clear error at the
-- script's line (this file), names what was wrong, and leaves nothing
-- open. Also the BCC idioms that must work: untyped `int f(void *ctx)`
-- typed by its attach call, and typed records from AOT objects.
local core = require "luatrace.core"
local BPF = require("luatrace").BPF

local THIS = debug.getinfo(1, "S").source:sub(2)
local function line() return debug.getinfo(2, "l").currentline end

-- The error is raised at `at` in this file.
local function at(err, ln)
  ok(err:find(THIS .. ":" .. ln .. ": ", 1, true) == 1, "raised at line " .. ln .. ": " .. err)
end

local function fd_count()
  local n = 0
  for _ in pairs(core.open_fds()) do n = n + 1 end
  return n
end

local COUNTER = [[
BPF_ARRAY(counts, u64, 4);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
	if (lt_pid() != TARGET) return 0;
	counts.increment(0);
	return 0;
}
]]
local function counter() return BPF{text = COUNTER, cflags = { "-DTARGET=" .. core.getpid() }} end

test("a failing BPF{} closes what it opened: no fd, no link left (no GC needed)", function()
  collectgarbage(); collectgarbage()
  collectgarbage("stop") -- what is left must be closed, not collected
  local before = fd_count()
  -- loads, attaches its tracepoint, then fails on the second program
  local err = raises(function() BPF{text = [[
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { return 0; }
int raw_tracepoint__no_such_raw_tp_xyz(struct bpf_raw_tracepoint_args *ctx) { return 0; }
]]} end, "no_such_raw_tp_xyz")
  local after_attach = fd_count()
  -- fails in the verifier, after its maps were created
  raises(function() BPF{text = [[
BPF_HASH(h, u32, u64);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { int *p = 0; return *p; }
]]} end, "load BPF program ", "verifier: ")
  local after_load = fd_count()
  collectgarbage("restart")
  eq(after_attach, before, "fds after a failed auto-attach (" .. err .. ")")
  eq(after_load, before, "fds after a failed load")
end)

test("misspelt methods name the method and the nearest one", function()
  local b = counter()
  local ln = line() + 1
  local err = raises(function() b:attach_tracepont{ tp = "syscalls:sys_enter_getppid", fn_name = "x" } end,
    "no method attach_tracepont (did you mean attach_tracepoint?)")
  at(err, ln)
  raises(function() b:atach_uprobe{} end, "no method atach_uprobe (did you mean attach_uprobe?)")
  -- a map name still resolves, and an unknown name lists the maps
  eq(tostring(b.counts), "BPF table counts (array)")
  raises(function() return b.nope end, "get_table nope: no such map (maps: counts)")
  ln = line() + 1
  err = raises(function() return b.counts:itmes() end, "no method itmes in table counts (did you mean items?)")
  at(err, ln)
  b:cleanup()
end)

test("fn_name: missing or unknown lists the programs", function()
  local b = counter()
  raises(function() b:attach_tracepoint{ tp = "syscalls:sys_enter_getppid" } end,
    "attach_tracepoint: missing argument fn_name= (programs: tracepoint__syscalls__sys_enter_getppid)")
  local ln = line() + 1
  local err = raises(function() b:attach_tracepoint{ tp = "syscalls:sys_enter_getppid", fn_name = "on_x" } end,
    "attach_tracepoint: no program on_x in ", "(programs: tracepoint__syscalls__sys_enter_getppid)")
  at(err, ln)
  b:cleanup()
end)

test("array indexes out of range say so, for reads and writes", function()
  local b = counter()
  raises(function() b.counts[4] = 1 end, "index 4 is out of range for array counts (0..3)")
  raises(function() return b.counts[-1] end, "index -1 is out of range for array counts (0..3)")
  b.counts[3] = 7
  eq(b.counts[3], 7)
  b:cleanup()
end)

test("wrong argument types are errors at the caller's line", function()
  local cases = {
    { function() BPF{text = 42} end, "BPF: text= must be a string, got number 42" },
    { function() BPF{text = COUNTER, cflags = "-DTARGET=1"} end, "BPF: cflags= must be a list, got string" },
    { function() BPF{text = COUNTER, cflags = { 1 }} end, "BPF: cflags[1] must be a string, got number" },
    { function() BPF{text = COUNTER, globals = { TARGET = {} }} end,
      "BPF: globals.TARGET must be a number, boolean or string, got table" },
    { function() BPF{obj = test_obj("events"), programs = "on_openat"} end, "BPF: programs= must be a list, got string" },
    { function() BPF("x") end, "BPF: expected a table of named arguments, got string" },
  }
  for _, c in ipairs(cases) do
    local err = raises(c[1], c[2])
    ok(err:find(THIS, 1, true) == 1, "at the caller: " .. err)
  end
  local b = counter()
  local more = {
    { function() b:ring_buffer_poll("100") end, "ring_buffer_poll: the timeout must be a number of milliseconds, got string" },
    { function() b:attach_tracepoint{ tp = 5, fn_name = "x" } end, "attach_tracepoint: tp= must be a string, got number 5" },
    { function() b:attach_uprobe{ name = "c", sym = "malloc", fn_name = "x", pid = "12" } end,
      "attach_uprobe: pid= must be a process id (-1: any), got string" },
    { function() b:attach_uprobe{ name = "c", sym = "malloc", fn_name = "x", pid = 2^40 } end,
      "attach_uprobe: pid= must be a process id (-1: any), got number 1099511627776" },
    { function() b:attach_perf_event{ ev_type = 1, ev_config = 0, fn_name = "x", cpu = -2 } end,
      "attach_perf_event: cpu= must be a CPU number (-1: any), got number -2" },
    { function() b:attach_perf_event{ ev_type = 1, ev_config = 0.5, fn_name = "x" } end,
      "attach_perf_event: ev_config= must be an integer, got number 0.5" },
    { function() b.counts:open_ring_buffer(function() end, { page_cnt = "8" }) end,
      "open_ring_buffer counts: page_cnt= must be an integer, got string" },
    { function() b:trace_fields{ timeout = "1" } end, "trace_fields: timeout= must be a number, got string" },
    { function() b:get_table(7) end, "get_table: the map name must be a string, got number" },
    { function() return b.counts[{}] end, "key of table counts: cannot convert a table to ctype<int>" },
    { function() b.counts[1] = "x" end, "value of table counts: cannot convert x (cannot convert 'string' to 'uint64_t')" },
    { function() b.counts[1] = true end, "value of table counts: cannot convert a boolean to ctype<uint64_t>" },
    { function() return b.counts.zzz end, "no method zzz in table counts (and its keys are not strings)" },
    { function() b.counts:print_log2_hist("x", nil, nil, 5) end,
      "print hist of table counts: options must be a table, got number" },
  }
  for _, c in ipairs(more) do
    local err = raises(c[1], c[2])
    ok(err:find(THIS, 1, true) == 1, "at the caller: " .. err)
  end
  b:cleanup()
end)

test("a program of the wrong type names the program and both types", function()
  local b = counter()
  raises(function() b:attach_kprobe{ event = "vfs_read", fn_name = "tracepoint__syscalls__sys_enter_getppid" } end,
    "attach_kprobe: program tracepoint__syscalls__sys_enter_getppid is a tracepoint program "
    .. "(section tracepoint/syscalls/sys_enter_getppid); attach_kprobe needs a kprobe program")
  b:cleanup()
end)

test("attaching the same tracepoint twice with one program says so", function()
  local b = counter()
  raises(function() b:attach_tracepoint{ tp = "syscalls:sys_enter_getppid",
      fn_name = "tracepoint__syscalls__sys_enter_getppid" } end,
    "attach_tracepoint syscalls:sys_enter_getppid: program tracepoint__syscalls__sys_enter_getppid "
    .. "is already attached there (detach_tracepoint first)")
  getppid_calls(2)
  eq(b.counts[0], 2, "counted once per call")
  b:cleanup()
end)

test("BCC's int f(void *ctx): typed by its attach call, sharing the maps", function()
  -- the global filter and the map are the first instance's
  local b = BPF{text = [[
BPF_ARRAY(counts, u64, 1);
const volatile int target_pid = 0;
int do_count(void *ctx) {
	if (lt_pid() != target_pid) return 0;
	counts.increment(0);
	return 0;
}
]], globals = { target_pid = core.getpid() }}
  eq(b:num_open_tracepoints(), 0, "nothing attached by itself")
  b:attach_tracepoint{ tp = "syscalls:sys_enter_getppid", fn_name = "do_count" }
  getppid_calls(3)
  eq(b.counts[0], 3, "the lazily loaded program counts into the object's map")
  b:attach_raw_tracepoint{ tp = "sys_enter", fn_name = "do_count" }
  getppid_calls(1)
  ok(b.counts[0] >= 5, "the raw tracepoint instance shares the map too")
  eq(b:num_open_tracepoints(), 2)
  b:detach_tracepoint{ tp = "syscalls:sys_enter_getppid" }
  if not core.has_kprobes() then
    raises(function() b:attach_kprobe{ event = "vfs_read", fn_name = "do_count" } end,
      "kprobes are not available in this kernel")
  end
  b:cleanup()
end)

test("AOT objects give typed records to buffer callbacks (LT_EXPORT_TYPE)", function()
  local b = BPF{obj = test_obj("events"), globals = { target_pid = core.getpid() }}
  local path = unique_path("aot")
  local ring, perf = {}, {}
  b.events:open_ring_buffer(function(e) if e.fname == path then ring[#ring + 1] = e.comm end end)
  b.pevents:open_perf_buffer(function(e) if e.fname == path then perf[#perf + 1] = e.comm end end)
  touch_open(path)
  b:ring_buffer_poll(1000)
  b:perf_buffer_poll(1000)
  eq(table.concat(ring, ","), "luatrace", "ring record typed")
  eq(table.concat(perf, ","), "luatrace", "perf record typed")
  b:cleanup()
end)

test("a callback's error keeps the callback's frames under -v", function()
  local script = unique_path("cb") .. ".lua"
  local fh = io.open(script, "w")
  fh:write([[
local lt = require "luatrace"
local b = lt.BPF{text = "BPF_RINGBUF_OUTPUT(evs, 8);\n"
  .. "TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { u32 x = 1; evs.ringbuf_output(&x, 4, 0); return 0; }\n"}
local function on_event(e)
  error("bad record")
end
b.evs:open_ring_buffer(on_event)
require("ffi").cdef "int getppid(void);"
require("ffi").C.getppid()
b:ring_buffer_poll(1000)
]])
  fh:close()
  local _, err, code = sh(("%s -v %s"):format(q(luatrace()), q(script)))
  os.remove(script)
  eq(code, 1)
  ok(err:find("luatrace: " .. script .. ":5: bad record", 1, true), err)
  ok(err:find(script .. ":5: in function", 1, true), "the callback's frame: " .. err)
end)
