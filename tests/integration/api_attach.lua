-- Attaching through the public API: BCC's attach_*/detach_* with named
-- arguments, auto-attach by name and section, USDT contexts, and the static
-- helpers (ksym, sym, find_library, get_syscall_fnname, feature probes).
local lt = require "luatrace"
local BPF, USDT = lt.BPF, lt.USDT
local core = lt.core
local ffi = require "ffi"

local PID = core.getpid()

test("uprobe with typed arguments and uretprobe with PT_REGS_RC", function()
  local b = BPF{text = [[
struct call_t { u32 pid; int kind; long a; long b; };
BPF_RINGBUF_OUTPUT(calls, 8);
int on_add(struct pt_regs *ctx, int a, int b) {
	struct call_t c = { .pid = lt_pid(), .kind = 1, .a = a, .b = b };
	calls.ringbuf_output(&c, sizeof(c), 0);
	return 0;
}
int on_add_ret(struct pt_regs *ctx) {
	struct call_t c = { .pid = lt_pid(), .kind = 2, .a = PT_REGS_RC(ctx) };
	calls.ringbuf_output(&c, sizeof(c), 0);
	return 0;
}
]]}
  local prog = test_prog("lt_target")
  b:attach_uprobe{ name = prog, sym = "lt_target_add", fn_name = "on_add" }
  b:attach_uretprobe{ name = prog, sym = "lt_target_add", fn_name = "on_add_ret" }
  eq(b:num_open_uprobes(), 2)
  local out = sh(q(prog) .. " calls 3")
  local pid = tonumber(out:match("^(%d+)"))
  local got = {}
  b.calls:open_ring_buffer(function(c)
    if c.pid == pid then got[#got + 1] = ("%d:%d:%d"):format(c.kind, c.a, c.b) end
  end)
  b:ring_buffer_poll(0)
  eq(table.concat(got, " "), "1:1:100 2:101:0 1:2:100 2:102:0 1:3:100 2:103:0")
  b:detach_uretprobe{ name = prog, sym = "lt_target_add" }
  eq(b:num_open_uprobes(), 1)
  raises(function() b:detach_uretprobe{ name = prog, sym = "lt_target_add" } end,
    "detach_uretprobe: uretprobe:" .. prog .. ":lt_target_add:-1 is not attached")
  b:cleanup()
  eq(b:num_open_uprobes(), 0)
end)

test("USDT contexts: enable_probe by name, bpf_usdt_readarg", function()
  local prog = test_prog("lt_target")
  local u = USDT{ path = prog }
  u:enable_probe{ probe = "tick", fn_name = "on_tick" }
  raises(function() u:enable_probe{ probe = "nope", fn_name = "x" } end,
    "enable_probe nope: no such USDT probe in " .. prog)
  local b = BPF{text = [[
struct tick_t { u32 pid; long i; long v; char s[8]; };
BPF_PERF_OUTPUT(ticks);
int on_tick(struct pt_regs *ctx) {
	struct tick_t t = { .pid = lt_pid() };
	u64 s = 0;
	bpf_usdt_readarg(1, ctx, &t.i);
	bpf_usdt_readarg(2, ctx, &t.v);
	bpf_usdt_readarg(3, ctx, &s);
	bpf_probe_read_user_str(t.s, sizeof(t.s), (void *)s);
	ticks.perf_submit(ctx, &t, sizeof(t));
	return 0;
}
]], usdt_contexts = { u }}
  eq(b:num_open_uprobes(), 1, "the USDT probe")
  local got = {}
  b.ticks:open_perf_buffer(function(t) got[#got + 1] = t.i .. "/" .. t.v .. "/" .. t.s end)
  local out = sh(q(prog) .. " calls 2")
  ok(out:match("^%d+"), "target ran")
  b:perf_buffer_poll(1000)
  eq(table.concat(got, " "), "1/1000/tick 2/2000/tick")
  b:cleanup()
end)

test("raw tracepoints: RAW_TRACEPOINT_PROBE auto-attaches, attach_raw_tracepoint by name", function()
  local b = BPF{text = [[
BPF_ARRAY(n, u64, 2);
RAW_TRACEPOINT_PROBE(sys_enter) {
	if (lt_pid() == TARGET && ctx->args[1] == NR) n.increment(0);
	return 0;
}
int later(struct bpf_raw_tracepoint_args *ctx) {
	if (lt_pid() == TARGET && ctx->args[1] == NR) n.increment(1);
	return 0;
}
]], cflags = { "-DTARGET=" .. PID, "-DNR=110" }}
  b:attach_raw_tracepoint{ tp = "sys_enter", fn_name = "later" }
  eq(b:num_open_tracepoints(), 2, "two programs on one raw tracepoint")
  getppid_calls(4) -- getppid is syscall 110 on x86_64
  b:detach_raw_tracepoint{ tp = "sys_enter", fn_name = "later" }
  eq(b:num_open_tracepoints(), 1)
  getppid_calls(1)
  eq(b.n[0], 5, "auto-attached RAW_TRACEPOINT_PROBE")
  eq(b.n[1], 4, "the program detached by name saw only the first 4")
  b:detach_raw_tracepoint{ tp = "sys_enter" }
  eq(b:num_open_tracepoints(), 0)
  raises(function() b:detach_raw_tracepoint{ tp = "sys_enter" } end,
    "detach_raw_tracepoint: raw_tracepoint:sys_enter is not attached")
  b:cleanup()
end)

test("tracepoints by name: attach_tracepoint/detach_tracepoint with a typed args struct", function()
  local b = BPF{text = [[
BPF_ARRAY(n, u64, 1);
int count_open(struct tracepoint__syscalls__sys_enter_openat *args) {
	if (lt_pid() == TARGET && args->dfd == -100) n.increment(0);
	return 0;
}
]], cflags = { "-DTARGET=" .. PID }}
  eq(b:num_open_tracepoints(), 0, "not auto-attached: the name does not say where")
  b:attach_tracepoint{ tp = "syscalls:sys_enter_openat", fn_name = "count_open" }
  for i = 1, 3 do touch_open(unique_path("tp" .. i)) end
  b:detach_tracepoint{ tp = "syscalls:sys_enter_openat" }
  touch_open(unique_path("after"))
  eq(b.n[0], 3)
  raises(function() b:attach_tracepoint{ tp = "syscalls:sys_enter_nope", fn_name = "count_open" } end,
    "attach tracepoint syscalls:sys_enter_nope: No such file or directory")
  b:cleanup()
end)

test("perf events through the API (cpu-clock), detach_perf_event", function()
  local b = BPF{text = [[
BPF_ARRAY(samples, u64, 1);
int on_cpu(struct bpf_perf_event_data *ctx) {
	if (lt_pid() == TARGET) samples.increment(0);
	return 0;
}
]], cflags = { "-DTARGET=" .. PID }}
  b:attach_perf_event{ ev_type = 1, ev_config = 0, fn_name = "on_cpu", sample_freq = 1000, pid = PID }
  local t0 = os.clock()
  while os.clock() - t0 < 0.3 do end
  b:detach_perf_event{ ev_type = 1, ev_config = 0 }
  ok(b.samples[0] >= 50, "samples while burning CPU: " .. b.samples[0])
  b:cleanup()
end)

test("kprobes and kfuncs: real where the kernel has them, clear errors here", function()
  if core.has_kprobes() then skip("this kernel has kprobes: covered by the VM matrix") end
  local b = BPF{text = [[
BPF_ARRAY(n, u64, 1);
int on_read(struct pt_regs *ctx) { n.increment(0); return 0; }
]]}
  raises(function() b:attach_kprobe{ event = "vfs_read", fn_name = "on_read" } end,
    "attach kprobe vfs_read: kprobes are not available in this kernel")
  raises(function() b:attach_kretprobe{ event = "vfs_read", fn_name = "on_read" } end,
    "attach kretprobe vfs_read: kprobes are not available in this kernel")
  eq(b:num_open_kprobes(), 0)
  b:cleanup()
  -- BCC-style auto-attach by name fails the same way, leaving nothing
  raises(function()
    BPF{text = "int kprobe__vfs_read(struct pt_regs *ctx) { return 0; }"}
  end, "attach kprobe vfs_read: kprobes are not available in this kernel")
  if not core.has_fentry() then
    raises(function()
      BPF{text = "KFUNC_PROBE(vfs_read, struct file *file) { return 0; }"}
    end, "fentry/fexit programs are refused by this kernel (has_fentry() is false)")
    eq(BPF.support_kfunc(), false)
  end
end)

test("FUNC_PROBE follows has_fentry(): a kprobe here, with kprobes' error", function()
  if core.has_fentry() then skip("this kernel has fentry: covered by the VM matrix") end
  raises(function()
    BPF{text = "FUNC_PROBE(vfs_read, struct file *file) { return 0; }"}
  end, "FUNC_PROBE(vfs_read): this kernel refuses fentry programs and has no kprobes "
    .. "(tried both); use a tracepoint or a raw tracepoint")
end)

test("AOT objects: BPF{obj=} with globals, auto-attached from SEC names", function()
  local b = BPF{obj = test_obj("events"), globals = { target_pid = PID }}
  eq(b:num_open_tracepoints(), 1)
  for i = 1, 4 do touch_open(unique_path("aot" .. i)) end
  local n = 0
  for _, v in b.counts:items() do n = n + v end
  eq(n, 4)
  local names = {}
  b.events:open_ring_buffer(function(e) if e.fname:find("luatrace-test", 1, true) then names[#names + 1] = e.fname end end,
    { type = "struct lt_test_open" })
  b:ring_buffer_consume()
  eq(#names, 4, "typed by the explicit record type")
  b:cleanup()
end)

test("static helpers: ksym, ksymname, sym, find_library, get_syscall_fnname, tracepoint_exists", function()
  local a = BPF.ksymname("vfs_read")
  eq(BPF.ksym(a), "vfs_read")
  eq(BPF.ksym(a + 4, true, true), "vfs_read+0x4 [kernel]")
  eq(BPF.ksymname("no_such_symbol_xyz"), -1)
  eq(BPF.ksym(1), "[unknown]")
  ok(BPF.find_library("c"):match("libc%.so"), "libc")
  local fn = BPF.get_syscall_fnname("openat")
  ok(fn == "__x64_sys_openat" or fn == "sys_openat", fn)
  ok(core.ksym_addr(fn), "the syscall function exists in kallsyms")
  eq(BPF.tracepoint_exists("syscalls", "sys_enter_openat"), true)
  eq(BPF.tracepoint_exists("syscalls", "sys_enter_nope"), false)
  pcall(ffi.cdef, "int getppid(void);")
  local addr = ffi.cast("uint64_t", ffi.cast("void *", ffi.C.getppid))
  local name = BPF.sym(addr, PID)
  lt.sym.forget(PID)
  ok(name == "getppid" or name == "__getppid", name)
end)

test("BPF{obj=, programs=}: only the named programs load and attach", function()
  local b = BPF{obj = test_obj("probes"), programs = { "on_raw_sys_enter" },
                globals = { target_pid = PID }}
  eq(b:num_open_tracepoints(), 1, "one raw tracepoint; the kprobes were left out")
  eq(b:num_open_kprobes(), 0)
  getppid_calls(1)
  for i = 1, 3 do touch_open(unique_path("only" .. i)) end
  eq(b.hits[0], 3, "the loaded program counts our openat calls")
  b:cleanup()
  raises(function() BPF{obj = test_obj("probes"), programs = { "nope" }} end,
    "BPF: no program nope in " .. test_obj("probes"))
end)
