-- The lite kernel header (BPF{vmlinux="lite"}, host/vmlinux_h.c): a
-- bpftrace program that reads no kernel struct compiles against
-- vmlinux-lite.h (never writing the full vmlinux.h); one with a struct
-- read uses vmlinux.h; a text the lite header is not enough for is
-- compiled again with vmlinux.h, and a warm run goes straight to that
-- object. Each through a private cache and a clang wrapper that counts.
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

local H = require "helpers"
local C = dofile(root .. "/tests/cache_helpers.lua")
local runs, run = C.runs, C.run

-- C.setup, with a wrapper that logs each run's input: "stdin" (a clang
-- started before its source was known: compile.prestart) or "file", and
-- whether it compiled against the lite header
local function setup()
  local dir, log, wrapper, script = C.setup(FALLBACK)
  local fh = io.open(wrapper, "w")
  fh:write(([[#!/bin/sh
echo run >> %s
case " $* " in *" -x c-header "*) what=pch ;; *" -x c - "*) what=stdin ;; *) what=file ;; esac
case " $* " in *" -DLT_VMLINUX_LITE "*) what="$what lite" ;; esac
echo "$what" >> %s.args
echo "$what $$" >> %s.pids
exec clang "$@"
]]):format(q(log), q(log), q(log)))
  fh:close()
  return dir, log, wrapper, script
end

-- the runs the wrapper logged (setup's), as one string
local function runs_logged(log)
  return require("luatrace.files").read(log .. ".args") or ""
end

-- nothing of a prestarted clang left in the cache
local function no_prestart_left(dir)
  local p = io.popen("ls " .. q(dir .. "/cache/obj"))
  local names = p:read("*a")
  p:close()
  ok(not names:find("prestart", 1, true), "no prestarted clang's output left: " .. names)
end

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

test("a tracepoint program without struct reads: clang started early, vmlinux-lite.h only", function()
  local dir, log, wrapper = setup()
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
  -- the lite PCH built, then the program, fed to a clang started before
  eq(runs_logged(log), "pch lite\nstdin lite\n", "clang's runs")
  no_prestart_left(dir)
  -- warm: no clang
  local before = runs(log)
  out, err, code = run_bt(dir, wrapper, prog, "cat " .. missing)
  eq(code, 0, "warm run: " .. err)
  eq(out, ("Attaching 1 probe...\n%s mode=0\n\n\n"):format(missing), "warm: the same line")
  eq(runs(log), before, "no clang on the warm run")
  os.execute("rm -rf " .. q(dir))
end)

test("a program that reads a kernel struct (curtask): the early clang killed, vmlinux.h", function()
  local dir, log, wrapper = setup()
  local prog = bt_file(dir, [[
tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { printf("tgid=%d\n", curtask->tgid == pid); }
]])
  local out, err, code = run_bt(dir, wrapper, prog, "perl -e 'getppid()'")
  eq(code, 0, "run: " .. err)
  eq(out, "Attaching 1 probe...\ntgid=1\n\n\n", "curtask->tgid is the pid")
  local k = kernel_dir(dir)
  ok(k and exists(k .. "/vmlinux.h"), "vmlinux.h written")
  -- the early (lite) clang was started, then killed: the program's C
  -- asks for the full header
  eq(runs_logged(log), "pch lite\nstdin lite\npch\nfile\n", "clang's runs")
  no_prestart_left(dir)
  os.execute("rm -rf " .. q(dir))
end)

test("a lite text that needs more types is compiled again with vmlinux.h, once", function()
  local dir, log, wrapper, script = setup()
  local out, err, code = run(dir, wrapper, script)
  eq(code, 0, "run: " .. err)
  eq(out, "false\ttrue\n", "compiled; the tgid read through task_struct")
  local k = kernel_dir(dir)
  ok(exists(k .. "/vmlinux-lite.h") and exists(k .. "/vmlinux.h"), "both headers written")
  eq(runs_logged(log), "pch lite\nfile lite\npch\nfile\n", "lite, then full")
  local before = runs(log)
  out, err, code = run(dir, wrapper, script)
  eq(code, 0, "warm run: " .. err)
  eq(out, "true\ttrue\n", "warm: from the cache")
  eq(runs(log), before, "no clang on the warm run (not even the lite attempt)")
  os.execute("rm -rf " .. q(dir))
end)

-- lt.bpftrace of a program that needs vmlinux.h: the early clang (lite,
-- reading stdin) is gone before lt.bpftrace returns, not at exit
local KILLED = [[
local lt = require "luatrace"
local p = lt.bpftrace("tracepoint:syscalls:sys_enter_getppid { @ = curtask->tgid; }")
local f = io.open(arg[1] .. ".pids")
local pid = f:read("*a"):match("stdin lite (%d+)")
f:close()
local st = io.open("/proc/" .. pid .. "/stat")
local state = st and st:read("*a"):match("^%d+ %b() (%u)")
if st then st:close() end
print(pid ~= nil, state or "gone")
p:stop()
]]

test("in a script: the early clang a program did not use is killed at once", function()
  local dir, log, wrapper, script = setup()
  local fh = io.open(script, "w"); fh:write(KILLED); fh:close()
  local out, err, code = run(dir, wrapper, script, q(log))
  eq(code, 0, "run: " .. err)
  eq(out, "Attaching 1 probe...\ntrue\tgone\n", "the early clang's pid is gone")
  no_prestart_left(dir)
  os.execute("rm -rf " .. q(dir))
end)

test("BPF{vmlinux=} takes only full or lite", function()
  local lt = require "luatrace"
  H.raises(function() lt.BPF{ text = "", vmlinux = "small" } end,
    'BPF: vmlinux must be "full" or "lite", got "small"')
end)
