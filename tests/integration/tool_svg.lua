-- The toolkit's --svg for tools with stacks: a tool that defines
-- folded(running) gets the option and a flame graph file when it ends
-- (what profile and offcputime use).
local lt = require "luatrace"
local toolkit = require "luatrace.toolkit"
local core = lt.core

local SRC = [[
struct key_t { u32 pid; int user_stack_id; int kernel_stack_id; char name[16]; };
BPF_HASH(counts, struct key_t, u64, 64);
BPF_STACK_TRACE(stack_traces, 256);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
	if (lt_pid() != TARGET) return 0;
	struct key_t k = { .pid = lt_pid() };
	k.user_stack_id = stack_traces.get_stackid(args, BPF_F_USER_STACK);
	k.kernel_stack_id = stack_traces.get_stackid(args, 0);
	bpf_get_current_comm(&k.name, sizeof(k.name));
	counts.increment(k);
	return 0;
}
]]

local T = toolkit.define{
  name = "stackdemo",
  description = "getppid stacks (a test tool)",
  options = {},
  start = function()
    local b = lt.BPF{text = SRC, cflags = { "-DTARGET=" .. core.getpid() }}
    return { b = b, tables = { counts = b.counts } }
  end,
  main = function() getppid_calls(6); return 0 end,
  folded = function(running) return running.tables.counts:folded() end,
}

test("a tool with folded() takes --svg FILE and writes its flame graph", function()
  ok(T.usage():find("--svg FILE", 1, true), "the option is listed")
  local path = unique_path("tool.svg")
  local saved = io.stderr
  local errfile = unique_path("stderr")
  io.stderr = io.open(errfile, "w") -- luacheck: ignore
  local ok_run, st = pcall(T.main, "--svg", path)
  io.stderr:close()
  io.stderr = saved -- luacheck: ignore
  local fh = io.open(errfile); local err = fh:read("*a"); fh:close(); os.remove(errfile)
  ok(ok_run, tostring(st))
  eq(st, 0)
  eq(err, ("stackdemo: flame graph of 6 samples written to %s\n"):format(path))
  fh = io.open(path); local svg = fh:read("*a"); fh:close(); os.remove(path)
  ok(svg:find("<title>all (6 samples, 100%)</title>", 1, true), "6 samples")
  ok(svg:find("<title>luatrace (6 samples", 1, true), "the comm frame")
  ok(svg:find(">stackdemo flame graph</text>", 1, true), "titled by the tool")
  local bad, msg = pcall(T.main, "--svg", "/nonexistent/dir/x.svg")
  eq(bad, false, "an unwritable path is an error")
  eq(msg, "write flame graph /nonexistent/dir/x.svg: /nonexistent/dir/x.svg: No such file or directory")
end)
