-- kprobes and kretprobes on a stock kernel: arguments and return values
-- exactly, BCC-style auto-attach, syscall functions, symbolized kernel
-- stacks, and the error for a function that does not exist.
local lt = require "luatrace"
local BPF = lt.BPF
local core = lt.core
-- reads(n): n reads of 123 bytes (tests/vm/lib.lua)

local ARGS = program [[
struct call_t { u32 kind; u64 count; long ret; };
BPF_RINGBUF_OUTPUT(calls, 16);
const volatile int target_pid = 0;
int on_read(struct pt_regs *ctx, struct file *file, char *buf, size_t count) {
	if (lt_pid() != target_pid || count != 123) return 0;
	struct call_t c = { .kind = 1, .count = count };
	calls.ringbuf_output(&c, sizeof(c), 0);
	return 0;
}
int on_read_ret(struct pt_regs *ctx) {
	if (lt_pid() != target_pid) return 0;
	long ret = PT_REGS_RC(ctx);
	if (ret != 123) return 0;
	struct call_t c = { .kind = 2, .ret = ret };
	calls.ringbuf_output(&c, sizeof(c), 0);
	return 0;
}
]]

test("kprobe and kretprobe on vfs_read: arguments and return values", function()
  if not core.has_kprobes() then skip("no kprobes in this kernel") end
  local b = BPF(vm_opts(ARGS, { globals = { target_pid = core.getpid() } }))
  b:attach_kprobe{ event = "vfs_read", fn_name = "on_read" }
  b:attach_kretprobe{ event = "vfs_read", fn_name = "on_read_ret" }
  eq(b:num_open_kprobes(), 2)
  local got = {}
  b.calls:open_ring_buffer(function(c)
    got[#got + 1] = c.kind == 1 and ("count=" .. c.count) or ("ret=" .. c.ret)
  end)
  reads(5)
  b:ring_buffer_poll(1000)
  eq(table.concat(got, " "), ("count=123 ret=123 "):rep(5):sub(1, -2))
  b:detach_kprobe{ event = "vfs_read" }
  b:detach_kretprobe{ event = "vfs_read" }
  eq(b:num_open_kprobes(), 0)
  b:cleanup()
end)

local AUTO = program [[
BPF_ARRAY(n, u64, 2);
const volatile int target_pid = 0;
int kprobe__vfs_read(struct pt_regs *ctx, struct file *file, char *buf, size_t count) {
	if (lt_pid() == target_pid && count == 123) n.increment(0);
	return 0;
}
int kretprobe__vfs_read(struct pt_regs *ctx) {
	if (lt_pid() == target_pid && PT_REGS_RC(ctx) == 123) n.increment(1);
	return 0;
}
]]

test("BCC-style kprobe__/kretprobe__ attach by name", function()
  if not core.has_kprobes() then skip("no kprobes in this kernel") end
  local b = BPF(vm_opts(AUTO, { globals = { target_pid = core.getpid() } }))
  eq(b:num_open_kprobes(), 2, "auto-attached")
  reads(7)
  eq(b.n[0], 7, "entries"); eq(b.n[1], 7, "returns")
  b:cleanup()
end)

local SYSCALL = program [[
BPF_ARRAY(n, u64, 1);
const volatile int target_pid = 0;
int on_getppid(struct pt_regs *ctx) {
	if (lt_pid() == target_pid) n.increment(0);
	return 0;
}
]]

test("get_syscall_fnname and a kprobe on a syscall", function()
  if not core.has_kprobes() then skip("no kprobes in this kernel") end
  local fn = BPF.get_syscall_fnname("getppid")
  eq(fn, "__x64_sys_getppid")
  local b = BPF(vm_opts(SYSCALL, { globals = { target_pid = core.getpid() } }))
  b:attach_kprobe{ event = fn, fn_name = "on_getppid" }
  getppid_calls(11)
  eq(b.n[0], 11)
  b:cleanup()
end)

local STACK = program [[
BPF_HASH(stacks_seen, int);
BPF_STACK_TRACE(stacks, 256);
const volatile int target_pid = 0;
int kprobe__vfs_read(struct pt_regs *ctx, struct file *file, char *buf, size_t count) {
	if (lt_pid() != target_pid || count != 123) return 0;
	int id = stacks.get_stackid(ctx, 0);
	if (id >= 0) stacks_seen.increment(id);
	return 0;
}
]]

test("kernel stacks symbolized to real function names", function()
  if not core.has_kprobes() then skip("no kprobes in this kernel") end
  local b = BPF(vm_opts(STACK, { globals = { target_pid = core.getpid() } }))
  reads(3)
  local total, frames = 0, nil
  for id, n in b.stacks_seen:items() do
    total = total + n
    frames = b.stacks:stack(id)
  end
  eq(total, 3)
  eq(frames[1], "vfs_read", "innermost frame")
  eq(frames[2], "ksys_read", "its caller")
  local joined = table.concat(frames, " ")
  -- the syscall wrapper may be a tail call (absent); the entry is not
  ok(joined:find("do_syscall_64", 1, true), "do_syscall_64 in " .. joined)
  b:cleanup()
end)

test("a kernel function that does not exist: the error suggests one that does", function()
  if not core.has_kprobes() then skip("no kprobes in this kernel") end
  local b = BPF(vm_opts(SYSCALL))
  raises(function() b:attach_kprobe{ event = "vfs_reed", fn_name = "on_getppid" } end,
    "attach kprobe vfs_reed: no such kernel function; did you mean vfs_read")
  eq(b:num_open_kprobes(), 0)
  b:cleanup()
end)

-- BCC's untyped `int f(void *ctx)`: its type comes from attach_kprobe
-- (a lazily loaded instance sharing the object's maps).
local UNTYPED = program [[
BPF_ARRAY(n, u64, 1);
const volatile int target_pid = 0;
int do_count(void *ctx) {
	struct pt_regs *regs = ctx;
	/* our reads of 123 bytes: count on entry, 123 returned on exit */
	if (lt_pid() == target_pid && (PT_REGS_PARM3(regs) == 123 || PT_REGS_RC(regs) == 123))
		n.increment(0);
	return 0;
}
]]

test("int f(void *ctx) attached with attach_kprobe and attach_kretprobe", function()
  if not core.has_kprobes() then skip("no kprobes in this kernel") end
  local b = BPF(vm_opts(UNTYPED, { globals = { target_pid = core.getpid() } }))
  b:attach_kprobe{ event = "vfs_read", fn_name = "do_count" }
  b:attach_kretprobe{ event = "vfs_read", fn_name = "do_count" }
  eq(b:num_open_kprobes(), 2)
  reads(5)
  eq(b.n[0], 10, "entries and returns in one shared map")
  b:detach_kprobe{ event = "vfs_read" }
  reads(1)
  eq(b.n[0], 11, "only the return probe left")
  b:cleanup()
end)

local MANY = program [[
BPF_ARRAY(hits, u64, 1);
const volatile int target_pid = 0;
int on_any(struct pt_regs *ctx) {
	if (lt_pid() != target_pid) return 0;
	hits.increment(0);
	return 0;
}
]]

test("kprobes and kretprobes on 6 functions closed together (core.close_links): none left", function()
  if not core.has_kprobes() then skip("no kprobes in this kernel") end
  local before = probe_fds()
  local b = BPF(vm_opts(MANY, { globals = { target_pid = core.getpid() } }))
  for _, fn in ipairs({ "vfs_read", "vfs_write", "vfs_open", "do_sys_openat2", "fd_install", "do_filp_open" }) do
    b:attach_kprobe{ event = fn, fn_name = "on_any" }
    b:attach_kretprobe{ event = fn, fn_name = "on_any" }
  end
  eq(b:num_open_kprobes(), 12)
  reads(3)
  ok(tonumber(b.hits[0]) >= 6, "vfs_read entries and returns seen: " .. tostring(b.hits[0]))
  ok(probe_fds() - before >= 12, "at least one fd per link")
  b:cleanup()
  eq(b:num_open_kprobes(), 0)
  eq(probe_fds(), before, "every perf event and link fd closed")
end)
