-- The lite kernel header (BPF{vmlinux="lite"}, host/vmlinux_h.c): a
-- bpftrace program that reads no kernel struct compiles against
-- vmlinux-lite.h (never writing the full vmlinux.h); one with a struct
-- read uses vmlinux.h; a text the lite header is not enough for is
-- compiled again with vmlinux.h, and a warm run goes straight to that
-- object. Each through a private cache and a clang wrapper that counts.
local H = require "helpers"
local C = dofile(root .. "/tests/cache_helpers.lua")
local runs, run = C.runs, C.run

-- luatrace -c CMD prog.bt with the cache in dir and clang through wrapper
local function run_bt(dir, wrapper, prog, cmd)
  return H.sh(("LUATRACE_CACHE_DIR=%s LUATRACE_CLANG=%s %s -c %s %s"):format(
    q(dir .. "/cache"), q(wrapper), q(H.luatrace()), q(cmd), q(prog)))
end

local function exists(path) return io.open(path) ~= nil end

-- the kernel-<id> directory of the private cache
local function kernel_dir(dir)
  local p = io.popen("ls -d " .. q(dir .. "/cache") .. "/kernel-* 2>/dev/null")
  local k = p:read("*l")
  p:close()
  return k
end

-- a bpftrace program as a file in dir
local function bt_file(dir, text)
  local path = dir .. "/prog.bt"
  local fh = io.open(path, "w"); fh:write(text); fh:close()
  return path
end

test("a tracepoint program without struct reads compiles against vmlinux-lite.h only", function()
  local dir, log, wrapper = C.setup("")
  -- mode is a umode_t: a typedef the lite header has
  local missing = H.unique_path("lite")
  local prog = bt_file(dir, ([[
tracepoint:syscalls:sys_enter_openat /pid == cpid && str(args->filename) == "%s"/
{ printf("%%s mode=%%d\n", str(args->filename), args->mode); }
]]):format(missing))
  local out, err, code = run_bt(dir, wrapper, prog, "cat " .. missing)
  eq(code, 0, "run: " .. err)
  eq(out, ("Attaching 1 probe...\n%s mode=0\n\n\n"):format(missing), "the cat's open, its mode read")
  local k = kernel_dir(dir)
  ok(k and exists(k .. "/vmlinux-lite.h"), "vmlinux-lite.h written")
  ok(not exists(k .. "/vmlinux.h"), "the full vmlinux.h never written")
  -- warm: no clang
  local before = runs(log)
  out, err, code = run_bt(dir, wrapper, prog, "cat " .. missing)
  eq(code, 0, "warm run: " .. err)
  eq(out, ("Attaching 1 probe...\n%s mode=0\n\n\n"):format(missing), "warm: the same line")
  eq(runs(log), before, "no clang on the warm run")
  os.execute("rm -rf " .. q(dir))
end)

test("a program that reads a kernel struct (curtask) compiles against vmlinux.h", function()
  local dir, log, wrapper = C.setup("")
  local prog = bt_file(dir, [[
tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { printf("tgid=%d\n", curtask->tgid == pid); }
]])
  local out, err, code = run_bt(dir, wrapper, prog, "perl -e 'getppid()'")
  eq(code, 0, "run: " .. err)
  eq(out, "Attaching 1 probe...\ntgid=1\n\n\n", "curtask->tgid is the pid")
  local k = kernel_dir(dir)
  ok(k and exists(k .. "/vmlinux.h"), "vmlinux.h written")
  ok(not exists(k .. "/vmlinux-lite.h"), "the lite header not used")
  eq(runs(log) >= 1, true, "clang ran")
  os.execute("rm -rf " .. q(dir))
end)

-- a Lua script's text that reads task_struct: too much for the lite header
local FALLBACK = [[
local lt = require "luatrace"
local b = lt.BPF{ vmlinux = "lite", text = [=[
const volatile u32 target = 0;
BPF_ARRAY(seen, u32, 1);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
	struct task_struct *t = (void *)bpf_get_current_task();
	u32 tgid = BPF_CORE_READ(t, tgid);
	if (tgid != target) return 0;
	int k = 0;
	seen.update(&k, &tgid);
	return 0;
}
]=], globals = { target = lt.core.getpid() } }
require("ffi").cdef("int getppid(void);")
require("ffi").C.getppid()
print(b:cached(), b.seen[0] == lt.core.getpid())
]]

test("a lite text that needs more types is compiled again with vmlinux.h, once", function()
  local dir, log, wrapper, script = C.setup(FALLBACK)
  local out, err, code = run(dir, wrapper, script)
  eq(code, 0, "run: " .. err)
  eq(out, "false\ttrue\n", "compiled; the tgid read through task_struct")
  local k = kernel_dir(dir)
  ok(exists(k .. "/vmlinux-lite.h") and exists(k .. "/vmlinux.h"), "both headers written")
  local before = runs(log)
  out, err, code = run(dir, wrapper, script)
  eq(code, 0, "warm run: " .. err)
  eq(out, "true\ttrue\n", "warm: from the cache")
  eq(runs(log), before, "no clang on the warm run (not even the lite attempt)")
  os.execute("rm -rf " .. q(dir))
end)

test("BPF{vmlinux=} takes only full or lite", function()
  local lt = require "luatrace"
  H.raises(function() lt.BPF{ text = "", vmlinux = "small" } end,
    'BPF: vmlinux must be "full" or "lite", got "small"')
end)
