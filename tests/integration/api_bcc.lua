-- BCC's C dialect and Python API details that BCC scripts rely on: each
-- program counts its own getppid calls and checks the exact numbers.
local lt = require "luatrace"
local BPF = lt.BPF
local core = lt.core

local PID = core.getpid()
local CFLAGS = { "-DTARGET=" .. PID }

test("BPF_HISTOGRAM with an int key is an array: lookup + increment counts", function()
  local b = BPF{text = [[
BPF_HISTOGRAM(dist, int, 64);
BPF_HISTOGRAM(plain);
BPF_HISTOGRAM(keyed, u32);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
	if (lt_pid() != TARGET) return 0;
	int slot = 5;
	u64 *v = dist.lookup(&slot);
	if (v) (*v)++;
	v = plain.lookup(&slot);
	if (v) __sync_fetch_and_add(v, 2);
	u32 k = 7;
	v = keyed.lookup(&k);
	if (v) (*v)++; /* a hash: no slot until one is inserted */
	return 0;
}
]], cflags = CFLAGS }
  getppid_calls(3)
  eq(b.dist[5], 3, "slot 5 of the int-keyed histogram")
  eq(b.plain[5], 6, "slot 5 of the default histogram")
  eq(b.dist:info().type, "array")
  eq(b.dist:info().max_entries, 64)
  eq(b.keyed:info().type, "hash", "a u32 key is not int: a hash, as in BCC")
  eq(b.keyed:info().max_entries, 64, "BCC's default size")
  eq(b.keyed[7], nil, "nothing inserted")
  b:cleanup()
end)

test("libbpf's bpf_printk works beside BCC's bpf_trace_printk", function()
  local nonce = math.floor(core.monotonic_ns() % 1000000007)
  local b = BPF{text = [[
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
	if (lt_pid() != TARGET) return 0;
	bpf_printk("lt-printk %d %d %d\n", 1, 2, NONCE);
	bpf_trace_printk("lt-trace-printk %d %d\n", 3, NONCE);
	return 0;
}
]], cflags = { "-DTARGET=" .. PID, "-DNONCE=" .. nonce } }
  open_trace_pipe(b)
  local got = {}
  for _ = 1, 10 do
    getppid_calls(1)
    local deadline = core.monotonic_ns() + 2e9
    repeat
      local task, pid, _, _, _, msg = b:trace_fields{ timeout = 500 }
      if pid == PID and msg:match(" " .. nonce .. "$") then got[#got + 1] = msg end
    until #got == 2 or not task or core.monotonic_ns() > deadline
    if #got == 2 then break end
    got = {}
  end
  eq(got[1], "lt-printk 1 2 " .. nonce)
  eq(got[2], "lt-trace-printk 3 " .. nonce)
  b:cleanup()
end)

test("a call of an undeclared function names it at the user's line", function()
  local line = debug.getinfo(1, "l").currentline
  local err = raises(function() BPF{text = [[
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
	no_such_function(3);
	return 0;
}
]]} end, "no_such_function")
  ok(err:find(("api_bcc.lua:%d:"):format(line + 3), 1, true), "user's line in: " .. err)
  ok(not err:find("No such file", 1, true), "not the misleading open error: " .. err)
end)

test("an unresolved extern is named", function()
  local err = raises(function() BPF{text = [[
extern int no_such_extern(int);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
	return no_such_extern(3);
}
]]} end, "unresolved symbol 'no_such_extern'")
  ok(not err:find("No such file", 1, true), err)
end)

test("map methods on libbpf-style SEC(\".maps\") maps", function()
  local b = BPF{text = [[
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, u32);
	__type(value, u64);
} counts SEC(".maps");
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
	if (lt_pid() != TARGET) return 0;
	counts.increment(4);
	counts.increment(9, 10);
	return 0;
}
]], cflags = CFLAGS }
  getppid_calls(2)
  eq(b.counts[4], 2)
  eq(b.counts[9], 20)
  b:cleanup()
end)

test("BCC's kernel includes are accepted, with the constants they define", function()
  local b = BPF{text = [[
#include <uapi/linux/ptrace.h>
#include <linux/sched.h>
#include <net/sock.h>
#include <linux/fs.h>
#include <bcc/proto.h>
#include <linux/blkdev.h>
#include <linux/version.h>
BPF_ARRAY(vals, u64, 8);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
	if (lt_pid() != TARGET) return 0;
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	vals.update(&(int){0}, &(u64){AF_INET6});
	vals.update(&(int){1}, &(u64){TASK_UNINTERRUPTIBLE});
	vals.update(&(int){2}, &(u64){S_ISREG(S_IFREG | 0644)});
	vals.update(&(int){3}, &(u64){ENOENT});
	vals.update(&(int){4}, &(u64){ETH_P_IP});
	vals.update(&(int){5}, &(u64){LINUX_VERSION_CODE});
	vals.update(&(int){6}, &(u64){BPF_CORE_READ(t, tgid)});
	return 0;
}
]], cflags = CFLAGS }
  getppid_calls(1)
  eq(b.vals[0], 10); eq(b.vals[1], 2); eq(b.vals[2], 1); eq(b.vals[3], 2)
  eq(b.vals[4], 0x0800)
  local fh = io.open("/proc/sys/kernel/osrelease"); local rel = fh:read("*l"); fh:close()
  local x, y, z = rel:match("^(%d+)%.(%d+)%.(%d+)")
  eq(b.vals[5], x * 65536 + y * 256 + math.min(tonumber(z), 255))
  eq(b.vals[6], PID)
  b:cleanup()
end)

test("ksym and sym print as BCC does: +0x0, [kernel], the module's base name", function()
  local a = BPF.ksymname("vfs_read")
  eq(BPF.ksym(a), "vfs_read")
  eq(BPF.ksym(a, true, true), "vfs_read+0x0 [kernel]")
  eq(BPF.ksym(a + 5, false, true), "vfs_read+0x5")
  eq(BPF.ksym(a, true), "vfs_read [kernel]")
  eq(BPF.sym(a + 5, -1, true), "vfs_read [kernel]", "a pid below 0 is the kernel")
  getppid_calls(0) -- declares getppid (tests/helpers.lua)
  local ffi = require "ffi"
  local f = ffi.cast("uint64_t", ffi.cast("void *", ffi.C.getppid))
  local name = lt.sym.usym(f, PID)
  ok(name == "getppid" or name == "__getppid", tostring(name))
  eq(BPF.sym(f, PID), name)
  eq(BPF.sym(f, PID, true), name .. " [libc.so.6]")
  eq(BPF.sym(f + 2, PID, { show_module = true, show_offset = true }), name .. "+0x2 [libc.so.6]")
  lt.sym.forget(PID)
end)

test("ksym refuses an address that lost its low bits in a Lua number", function()
  local a = BPF.ksymname("vfs_read")
  local line = debug.getinfo(1, "l").currentline
  local err = raises(function() local s = BPF.ksym(tonumber(a + 1)); return s end,
    "ksym: address", "lost its low bits")
  ok(err:find(("api_bcc.lua:%d:"):format(line + 1), 1, true), "the caller's line: " .. err)
  raises(function() local s = BPF.sym(tonumber(a), -1); return s end, "sym: address", "lost its low bits")
  eq(BPF.ksym((tostring(a):gsub("ULL$", ""))), "vfs_read", "a decimal string is exact")
end)

test("BCC's perf event constants", function()
  eq(BPF.PerfType.HARDWARE, 0); eq(BPF.PerfType.SOFTWARE, 1); eq(BPF.PerfType.TRACEPOINT, 2)
  eq(BPF.PerfSWConfig.CPU_CLOCK, 0); eq(BPF.PerfSWConfig.TASK_CLOCK, 1)
  eq(BPF.PerfSWConfig.CONTEXT_SWITCHES, 3); eq(BPF.PerfSWConfig.BPF_OUTPUT, 10)
  eq(BPF.PerfHWConfig.CPU_CYCLES, 0); eq(BPF.PerfHWConfig.INSTRUCTIONS, 1)
  eq(BPF.PerfHWConfig.REF_CPU_CYCLES, 9)
end)

test("tracepoint formats with address-space qualifiers and flexible arrays compile", function()
  if not core.tracepoint_exists("percpu", "percpu_alloc_percpu") then
    skip("no percpu:percpu_alloc_percpu tracepoint on this kernel")
  end
  local tps = { "percpu:percpu_alloc_percpu", "percpu:percpu_free_percpu" }
  local p = io.popen("ls " .. core.tracefs() .. "/events/ftrace")
  for ev in p:lines() do
    if core.stat(("%s/events/ftrace/%s/format"):format(core.tracefs(), ev)) then
      tps[#tps + 1] = "ftrace:" .. ev
    end
  end
  p:close()
  ok(#tps > 10, "ftrace events found: " .. #tps)
  local text = {}
  for i, tp in ipairs(tps) do
    local cat, ev = tp:match("^(.-):(.*)$")
    text[i] = ("int f%d(struct tracepoint__%s__%s *args) { return 0; }"):format(i, cat, ev)
  end
  text[#text + 1] = "TRACEPOINT_PROBE(percpu, percpu_alloc_percpu) { return args->ptr != 0; }"
  text[#text + 1] = "TRACEPOINT_PROBE(ftrace, print) { return args->buf[0]; }"
  local path = BPF.build(table.concat(text, "\n"), { file = "tp.lua", line = 1 })
  ok(path, "compiled")
end)

test("errors in generated code (tracepoint structs, exported record types) point at the user's line", function()
  local line = debug.getinfo(1, "l").currentline
  local err = raises(function() BPF{text = [[
BPF_ARRAY(a, u64, 1);

TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { return 0; }
]], cflags = { "-D__lt_size___syscall_nr=1" } } end, "compile BPF program:")
  ok(err:find(("api_bcc.lua:%d: compile BPF program: "):format(line + 4), 1, true), err)
  err = raises(function() BPF{text = [[
int f(struct tracepoint__nocat__noev *args) { return 0; }
]]} end, "read tracepoint format nocat:noev: no such tracepoint")
  ok(err:find(("api_bcc.lua:%d: "):format(line + 8), 1, true), err)
  -- the record type exported for a perf buffer: a local typedef cannot be
  err = raises(function() BPF{text = [[
BPF_PERF_OUTPUT(events);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
	typedef struct { int x; } rec_t;
	rec_t r = {};
	events.perf_submit(args, &r, sizeof(r));
	return 0;
}
]]} end, "unknown type name 'rec_t'")
  ok(err:find(("api_bcc.lua:%d: "):format(line + 17), 1, true), err)
end)

test("attach_uprobe on libc's strlen (a GNU IFUNC) counts a program's calls", function()
  local fifo = os.tmpname(); os.remove(fifo)
  os.execute("mkfifo " .. q(fifo))
  local p = io.popen(("exec %s 13 < %s"):format(q(test_prog("lt_strlen")), q(fifo)))
  local w = io.open(fifo, "w")
  local pid = tonumber(p:read("*l"))
  local b = BPF{text = [[
BPF_ARRAY(calls, u64, 3);
int count(struct pt_regs *ctx) {
	if (lt_pid() != TARGET) return 0;
	calls.increment(0);
	return 0;
}
int count_ret(struct pt_regs *ctx) {
	if (lt_pid() != TARGET) return 0;
	calls.increment(1);
	return 0;
}
SEC("uprobe/libc.so.6:strlen") int count_sec(struct pt_regs *ctx) {
	if (lt_pid() != TARGET) return 0;
	calls.increment(2);
	return 0;
}
]], cflags = { "-DTARGET=" .. pid } }
  local ok1, err = pcall(function()
    b:attach_uprobe{ name = "c", sym = "strlen", fn_name = "count", pid = pid }
    b:attach_uretprobe{ name = "c", sym = "strlen", fn_name = "count_ret" }
  end)
  if ok1 then
    w:write("go\n"); w:flush()
    eq(p:read("*l"), "done")
  end
  w:close(); p:close(); os.remove(fifo)
  ok(ok1, tostring(err))
  eq(b.calls[0], 13, "strlen calls of lt_strlen")
  eq(b.calls[1], 13, "strlen returns (uretprobe)")
  eq(b.calls[2], 13, "SEC(\"uprobe/libc.so.6:strlen\"), attached by section")
  b:cleanup()
end)

test("an IFUNC luatrace cannot resolve is a clear error", function()
  local lib = core.find_library("mvec")
  if not lib then skip("no libmvec (glibc's vector math library) here") end
  local b = BPF{text = [[
int count(struct pt_regs *ctx) { return 0; }
]]}
  raises(function() b:attach_uprobe{ name = lib, sym = "_ZGVbN2v_cos", fn_name = "count" } end,
    "attach uprobe " .. lib .. ":_ZGVbN2v_cos: _ZGVbN2v_cos is a GNU IFUNC",
    "give addr= its file offset")
  b:cleanup()
end)
