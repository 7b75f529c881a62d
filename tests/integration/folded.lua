-- Folded stacks (t:folded()) from stack-keyed tables filled by a program:
-- BCC profile's key shape and a bare stack id key.
local lt = require "luatrace"
local folded = require "luatrace.folded"
local BPF = lt.BPF
local core = lt.core

test("folded.text sums equal stacks, sorts, and cleans separators", function()
  eq(folded.text{
    { frames = { "main", "b" }, count = 2 },
    { frames = { "main", "a;x" }, count = 1 },
    { frames = { "main", "b" }, count = 3 },
    { frames = {}, count = 9 },
  }, "main;a_x 1\nmain;b 5\n")
  eq(folded.text{}, "")
end)

local SRC = [[
struct key_t { u32 pid; int user_stack_id; int kernel_stack_id; char name[16]; };
BPF_HASH(counts, struct key_t, u64, 64);
BPF_HASH(kcounts, int, u64, 64);
BPF_STACK_TRACE(stack_traces, 256);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
	if (lt_pid() != TARGET) return 0;
	struct key_t k = { .pid = lt_pid() };
	k.user_stack_id = stack_traces.get_stackid(args, BPF_F_USER_STACK);
	k.kernel_stack_id = stack_traces.get_stackid(args, 0);
	bpf_get_current_comm(&k.name, sizeof(k.name));
	counts.increment(k);
	int kid = k.kernel_stack_id;
	kcounts.increment(kid);
	return 0;
}
]]

local function parse(text)
  local lines = {}
  for stack, n in text:gmatch("([^\n]+) (%d+)\n") do
    local frames = {}
    for f in (stack .. ";"):gmatch("([^;]*);") do frames[#frames + 1] = f end
    lines[#lines + 1] = { frames = frames, count = tonumber(n) }
  end
  return lines
end

test("t:folded() of a {pid, user_stack_id, kernel_stack_id, name} table", function()
  local b = BPF{text = SRC, cflags = { "-DTARGET=" .. core.getpid() }}
  getppid_calls(7)
  local text = b.counts:folded()
  local total, kernel_seen, user_seen = 0, false, false
  for _, l in ipairs(parse(text)) do
    total = total + l.count
    eq(l.frames[1], "luatrace", "the first frame is the comm")
    local in_kernel = false
    for i = 2, #l.frames do
      local f = l.frames[i]
      if f:match("_%[k%]$") then in_kernel = true; kernel_seen = true
      else
        ok(not in_kernel, "user frames come before kernel frames: " .. text)
        user_seen = true
      end
    end
  end
  eq(total, 7, "counts add up: " .. text)
  ok(kernel_seen, "kernel frames carry _[k]: " .. text)
  ok(user_seen, "user frames present: " .. text)
  ok(text:find("do_syscall_64_[k]", 1, true), "the syscall entry is on the kernel stack: " .. text)
  -- a delimiter between user and kernel stacks, no annotation
  local plain = b.counts:folded{ delimiter = true, annotate = false }
  ok(plain:find(";-;", 1, true), "delimiter frame: " .. plain)
  ok(not plain:find("_[k]", 1, true), "no annotation")
  b:cleanup()
end)

test("t:folded() of a table keyed by a kernel stack id", function()
  local b = BPF{text = SRC, cflags = { "-DTARGET=" .. core.getpid() }}
  getppid_calls(5)
  local total = 0
  for _, l in ipairs(parse(b.kcounts:folded())) do
    total = total + l.count
    eq(l.frames[#l.frames]:match("_%[k%]$") ~= nil, true, "kernel frames only")
  end
  eq(total, 5)
  raises(function() b.kcounts:folded{ fields = {} , stacks = b.counts } end, "walk table counts")
  b:cleanup()
end)

test("t:folded{value=, comm=, missing=false}: offcputime's shape (name and count in the value)", function()
  local b = BPF{text = [[
struct key_t { u32 tgid; int user_stack_id; int kern_stack_id; };
struct val_t { u64 delta; char comm[16]; };
BPF_HASH(info, struct key_t, struct val_t, 16);
BPF_STACK_TRACE(stackmap, 64);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
	if (lt_pid() != TARGET) return 0;
	struct key_t k = { .tgid = lt_pid(), .user_stack_id = -1 };
	k.kern_stack_id = stackmap.get_stackid(args, 0);
	struct val_t zero = {}, *v = info.lookup_or_try_init(&k, &zero);
	if (!v) return 0;
	v->delta += 5;
	bpf_get_current_comm(&v->comm, sizeof(v->comm));
	return 0;
}
]], cflags = { "-DTARGET=" .. core.getpid() }}
  getppid_calls(3)
  local text = b.info:folded{ missing = false, value = function(v) return tonumber(v.delta) end,
    comm = function(_, v) return v.comm end }
  local lines = parse(text)
  eq(#lines, 1, text)
  eq(lines[1].count, 15)
  eq(lines[1].frames[1], "luatrace")
  ok(lines[1].frames[2]:match("_%[k%]$"), "kernel frames follow the comm directly: " .. text)
  ok(not text:find("Missed", 1, true), "no placeholder for a stack not collected")
  b:cleanup()
end)
