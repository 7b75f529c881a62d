-- Errors of the public API: compile errors at the right line of this file,
-- verifier errors with the source line and a hint, a Lua error in a
-- callback detaching everything, unknown maps.
local lt = require "luatrace"
local BPF = lt.BPF
local core = lt.core

test("a compile error names this file and the line inside the text", function()
  local line = debug.getinfo(1, "l").currentline
  local err = raises(function()
    BPF{text = [[
BPF_HASH(counts, u32);
int kprobe__vfs_read(struct pt_regs *ctx)
{
	counts.increment(no_such_variable);
	return 0;
}
]]}
  end, "compile BPF program: ")
  local file = debug.getinfo(1, "S").source:sub(2)
  eq(err, ("%s:%d: compile BPF program: use of undeclared identifier 'no_such_variable'")
    :format(file, line + 6))
end)

test("src_file= compiles a file, errors point into it", function()
  local f = os.tmpname() .. ".bpf.c"
  local fh = io.open(f, "w")
  fh:write("BPF_ARRAY(a, u64, 1);\n\nint oops(struct pt_regs *ctx) { return nope; }\n")
  fh:close()
  raises(function() BPF{src_file = f} end,
    ("%s:3: compile BPF program: use of undeclared identifier 'nope'"):format(f))
  fh = io.open(f, "w")
  fh:write("BPF_ARRAY(a, u64, 1);\nTRACEPOINT_PROBE(syscalls, sys_enter_getppid) { a.increment(0); return 0; }\n")
  fh:close()
  local b = BPF{src_file = f}
  getppid_calls(3)
  ok(b.a[0] >= 3, "counted")
  b:cleanup()
  os.remove(f)
end)

test("a verifier rejection shows the reason, the source line and a hint", function()
  local line = debug.getinfo(1, "l").currentline
  local err = raises(function()
    BPF{text = [[
TRACEPOINT_PROBE(syscalls, sys_enter_openat) {
	const char *p = args->filename;
	return p[0];
}
]]}
  end, "verifier: R")
  -- the user's file and line first; a syscall's pointer is user memory
  local file = debug.getinfo(1, "S").source:sub(2)
  eq(err, ("%s:%d: load BPF program tracepoint__syscalls__sys_enter_openat: Permission "
    .. "denied: verifier: R1 invalid mem access 'scalar' (return p[0];) (this is a user-space "
    .. "pointer: read it with bpf_probe_read_user() or bpf_probe_read_user_str())"):format(file, line + 5))
  -- a kernel pointer (a raw tracepoint's task) gets the kernel hint
  err = raises(function()
    BPF{text = [[
RAW_TRACEPOINT_PROBE(sched_switch) {
	struct task_struct *t = (struct task_struct *)ctx->args[1];
	return t->pid;
}
]]}
  end, "verifier: R")
  ok(err:find("(read kernel memory with bpf_probe_read_kernel() or BPF_CORE_READ())", 1, true), err)
end)

test("a Lua error in a callback stops the poll and detaches everything", function()
  local fds = 0
  for _ in pairs(core.open_fds()) do fds = fds + 1 end
  local b = BPF{text = [[
struct ev_t { u32 pid; };
BPF_RINGBUF_OUTPUT(evs, 4);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
	if (lt_pid() != TARGET) return 0;
	struct ev_t e = { .pid = lt_pid() };
	evs.ringbuf_output(&e, sizeof(e), 0);
	return 0;
}
]], cflags = { "-DTARGET=" .. core.getpid() }}
  local calls = 0
  b.evs:open_ring_buffer(function(e)
    calls = calls + 1
    error("callback failed on pid " .. e.pid)
  end)
  getppid_calls(3)
  local err = raises(function() b:ring_buffer_poll(1000) end,
    "callback failed on pid " .. core.getpid())
  eq(calls, 1, "the first error stopped the loop")
  eq(b:num_open_tracepoints(), 0, "detached")
  collectgarbage(); collectgarbage()
  local after = 0
  for _ in pairs(core.open_fds()) do after = after + 1 end
  eq(after, fds, "no fd left open")
  ok(not err:find("\n"), "one line")
end)

test("an unknown map and a bad argument are clear errors", function()
  local b = BPF{text = "BPF_ARRAY(a, u64, 1);\nBPF_HASH(h, u32);\n"
    .. "TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { a.increment(0); return 0; }\n"}
  raises(function() return b.nope end, "get_table nope: no such map (maps: a, h)")
  raises(function() b:attach_tracepoint("syscalls:sys_enter_getppid") end,
    "attach_tracepoint: expected a table of named arguments, got string")
  raises(function() b:attach_tracepoint{ tp = "nocolon", fn_name = "x" } end,
    'attach_tracepoint: tp must be "category:event", got "nocolon"')
  raises(function() b:attach_kprobe{ event = "vfs_read" } end, "attach_kprobe: missing argument fn_name=")
  raises(function() b.h[1] = "str" end, "value of table h: cannot convert str")
  b:cleanup()
end)

test("BPF{} needs exactly one source", function()
  raises(function() BPF{} end, "BPF: give exactly one of text=, src_file=, obj=")
  raises(function() BPF{text = "", obj = "x"} end, "BPF: give exactly one of text=, src_file=, obj=")
end)

test("verifier hints: unbounded loop, helper not allowed; clang: stack limit", function()
  raises(function()
    BPF{text = [[
TRACEPOINT_PROBE(syscalls, sys_enter_openat) {
	volatile int i = 0;
	while (args->dfd != i) { i++; }
	return 0;
}
]]}
  end, "verifier: infinite loop detected at insn", "(bound every loop with a constant or use bpf_loop())")
  raises(function()
    BPF{text = [[
TRACEPOINT_PROBE(syscalls, sys_enter_openat) {
	bpf_override_return(0, 0);
	return 0;
}
]]}
  end, "verifier: program of this type cannot use helper bpf_override_return#58",
    "(this helper is not allowed for this program type)")
  raises(function()
    BPF{text = [[
TRACEPOINT_PROBE(syscalls, sys_enter_openat) {
	char buf[600];
	bpf_probe_read_user(buf, sizeof(buf), args->filename);
	return buf[5];
}
]]}
  end, "compile BPF program: Looks like the BPF stack limit of 512 bytes is exceeded")
end)

test("debug = true shows the generated source and clang's output", function()
  local script = os.tmpname()
  local fh = io.open(script, "w")
  fh:write('require("luatrace").BPF{debug = true, text = "BPF_ARRAY(dbg, u64, 1); /* '
    .. core.getpid() .. ' */"}\n')
  fh:close()
  local out, err, code = sh(q(luatrace()) .. " " .. q(script))
  os.remove(script)
  eq(code, 0, err)
  eq(out, "")
  ok(err:find('#line 1 "' .. script .. '"\nBPF_ARRAY(dbg, u64, 1);', 1, true), err)
  ok(err:find('char _license[] SEC("license") = "GPL";', 1, true), "license shown")
end)
