-- -p PID and -c CMD: lt.target_pid / lt.target_cmd for scripts, the -c
-- command held until the probes are attached and counted exactly, the
-- target's exit ending the trace, and bad targets as clear errors that run
-- nothing.
local core = require "luatrace.core"
local LT = luatrace()

local function run(args)
  return sh(("env -u LUATRACE_PATH %s %s"):format(q(LT), args))
end

local function write(path, text)
  local fh = assert(io.open(path, "w")); fh:write(text); fh:close()
end

local function slurp(path)
  local fh = io.open(path); if not fh then return nil end
  local s = fh:read("*a"); fh:close(); return s
end

-- Counts uprobe hits of lt_target_add in the target, waits until the
-- target's exit ends the trace, prints what it saw.
local UPROBE_SCRIPT = [[
local lt = require "luatrace"
local b = lt.BPF{text = "BPF_ARRAY(hits, u64, 1); const volatile u32 target_pid = 0;\n"
  .. "int on_add(struct pt_regs *ctx) { if (lt_pid() == target_pid) hits.increment(0); return 0; }",
  globals = { target_pid = lt.target_pid }}
b:attach_uprobe{ name = arg[1], sym = "lt_target_add", fn_name = "on_add", pid = lt.target_pid }
if arg[2] == "release" then lt.release_target() end
local waited = lt.sleep(60000)
print(("cmd=%s waited=%s status=%s hits=%d"):format(lt.target_cmd, tostring(waited),
  table.concat({ tostring(select(1, lt.target_status())), tostring(select(2, lt.target_status())) }, ","),
  b.hits[0]))
]]

test("-c: the command runs once probes are attached; its exit ends the trace", function()
  local script = unique_path("c.lua")
  write(script, UPROBE_SCRIPT)
  local prog = test_prog("lt_target")
  for _, mode in ipairs({ "auto", "release" }) do
    local out, err, code = run(("-c %s %s %s %s"):format(q(prog .. " calls 7"), q(script), q(prog), mode))
    eq(code, 0, "exit code " .. err)
    -- lt_target prints its pid and the sum 7*100 + 28; then the script
    local pid, sum, line = out:match("^(%d+)\n(%d+)\n(.*)$")
    ok(pid, out)
    eq(sum, "728", "the command ran")
    eq(line, ("cmd=%s calls 7 waited=false status=exit,0 hits=7\n"):format(prog), mode)
  end
  os.remove(script)
end)

test("-c: lt.target_pid is the command's pid before it runs (cpid)", function()
  local out, err, code = run(("-c %s -e %s"):format(q("/bin/sh -c 'echo $$'"),
    q("local lt = require 'luatrace'; io.write(lt.target_pid, '\\n'); io.flush(); lt.sleep(60000)")))
  eq(code, 0, err)
  local a, b = out:match("^(%d+)\n(%d+)\n$")
  ok(a and a == b, out)
end)

test("-c: a script that fails before waiting never runs the command", function()
  local mark = unique_path("never")
  local _, err, code = run(("-c %s -e %s"):format(q("/usr/bin/touch " .. mark), q("error('setup failed', 0)")))
  eq(code, 1)
  eq(err, "luatrace: setup failed\n")
  core.sleep(100)
  eq(core.stat(mark), nil, "the command did not run")
end)

test("-c and -p errors: unknown command, no such process, bad pid, both", function()
  local out, err, code = run("-c 'no-such-command-xyz arg' -e 'print(1)'")
  eq(code, 1); eq(out, "")
  eq(err, "luatrace: -c: command no-such-command-xyz not found (no executable file of that name in PATH)\n")
  local plain = unique_path("plain")
  local fh = io.open(plain, "w"); fh:write("x"); fh:close()
  out, err, code = run(("-c %s -e 'print(1)'"):format(q(plain)))
  os.remove(plain)
  eq(code, 1); eq(out, "")
  eq(err, ("luatrace: -c: command %s not found (no executable file of that name)\n"):format(plain))
  out, err, code = run("-p 2147483000 -e 'print(1)'")
  eq(code, 1); eq(out, "")
  eq(err, "luatrace: -p 2147483000: no such process\n")
  out, err, code = run("-p abc -e 'print(1)'")
  eq(code, 2)
  ok(err:find("^luatrace: %-p abc: not a process id\n"), err)
  out, err, code = run("-p 1 -c true -e 'print(1)'")
  eq(code, 2)
  ok(err:find("^luatrace: %-p and %-c cannot be used together\n"), err)
end)

-- Two helpers do the same syscalls (getppid, 7 and 5 times) once they read
-- a line; the trace of -p A counts A's only, and ends when A exits.
local HELPER = [[
local ffi = require "ffi"; ffi.cdef "int getppid(void);"
local fh = io.open(arg[1], "w"); fh:write(require("luatrace.core").getpid()); fh:close()
io.read()
for _ = 1, tonumber(arg[2]) do ffi.C.getppid() end
]]
local COUNT = [[
local lt = require "luatrace"
local b = lt.BPF{text = "BPF_ARRAY(n, u64, 1); const volatile u32 target_pid = 0;\n"
  .. "TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { if (lt_pid() == target_pid) n.increment(0); return 0; }",
  globals = { target_pid = lt.target_pid }}
local fh = io.open(arg[1], "w"); fh:write("ready"); fh:close()
local waited = lt.sleep(60000)
print(waited, lt.target_status(), b.n[0])
]]

local function wait_file(path)
  for _ = 1, 400 do
    local s = slurp(path)
    if s and s ~= "" then return s end
    core.sleep(25)
  end
  error("timed out waiting for " .. path)
end

test("-p: the script sees the pid, counts its events only, ends at its exit", function()
  local pa, pb, ready, out = unique_path("a"), unique_path("b"), unique_path("ready"), unique_path("out")
  local script = unique_path("count.lua")
  write(script, COUNT)
  local a = io.popen(("%s -e %s %s 7"):format(q(LT), q(HELPER), q(pa)), "w")
  local b = io.popen(("%s -e %s %s 5"):format(q(LT), q(HELPER), q(pb)), "w")
  local pid_a = tonumber(wait_file(pa))
  wait_file(pb)
  local tracer = io.popen(("%s -p %d %s %s > %s 2>&1"):format(q(LT), pid_a, q(script), q(ready), q(out)), "w")
  wait_file(ready)
  b:write("go\n"); b:flush(); b:close()
  a:write("go\n"); a:flush(); a:close()
  tracer:close()
  eq(slurp(out), "false\texit\t7\n")
  for _, f in ipairs({ pa, pb, ready, out, script }) do os.remove(f) end
end)

test("-p with -l: uprobes and USDT probes of the process's executable", function()
  local prog = test_prog("lt_target")
  local out_file = unique_path("wait")
  local p = io.popen(("exec %s wait 5 > %s"):format(q(prog), q(out_file)), "r")
  local pid = tonumber(wait_file(out_file):match("^(%d+)"))
  local real = core.realpath(prog)
  -- the executable through the process's root, as bpftrace -p names it
  local exe = ("/proc/%d/root%s"):format(pid, real)
  eq(run(("-p %d -l 'uprobe::lt_target_*'"):format(pid)), ("uprobe:%s:lt_target_add\nuprobe:%s:lt_target_touch\n"):format(exe, exe))
  eq(run(("-p %d -l 'uprobe:*:lt_target_add'"):format(pid)), ("uprobe:%s:lt_target_add\n"):format(exe))
  -- USDT probes of every binary the process maps, by /proc/PID/root paths
  eq(run(("-p %d -l 'usdt:*'"):format(pid)), ("usdt:/proc/%d/root%s:luatrace_test:tick\n"):format(pid, real))
  -- no pattern: the process's uprobes and USDT probes only
  local all = run(("-p %d -l"):format(pid))
  ok(all:find(("uprobe:%s:main\n"):format(exe), 1, true), all)
  ok(all:find(("\nusdt:/proc/%d/root%s:luatrace_test:tick\n"):format(pid, real), 1, true), all)
  ok(not all:find("tracepoint:", 1, true), "no kernel probes")
  local _, _, have_bt = sh("command -v bpftrace")
  if have_bt == 0 then
    eq(all, (sh(("bpftrace -p %d -l"):format(pid))), "same as bpftrace -p PID -l")
  end
  local _, err, code = run("-l 'uprobe::*'")
  eq(code, 1)
  eq(err, "luatrace: list uprobe probes: name a binary ('uprobe:/path/or/lib:*') or a process (-p PID)\n")
  sh("kill " .. pid)
  p:close(); os.remove(out_file)
end)

test("-c with a bpftrace program: cpid, exact counts, the exit ends it as in bpftrace", function()
  local prog = test_prog("lt_target")
  local src = ("uprobe:%s:lt_target_add /pid == cpid/ { @n = count(); @s = sum(arg0); }"):format(prog)
  local out, err, code = run(("-c %s -e %s"):format(q(prog .. " calls 7"), q(src)))
  eq(code, 0, err)
  local pid = out:match("^Attaching 1 probe%.%.%.\n(%d+)\n")
  ok(pid, out)
  eq(out, ("Attaching 1 probe...\n%s\n728\n\n\n@n: 7\n@s: 28\n"):format(pid))
end)

test("-p with a bpftrace program: only the process's events, ends at its exit", function()
  local pa, pb, out = unique_path("a"), unique_path("b"), unique_path("out")
  local a = io.popen(("%s -e %s %s 7"):format(q(LT), q(HELPER), q(pa)), "w")
  local b = io.popen(("%s -e %s %s 5"):format(q(LT), q(HELPER), q(pb)), "w")
  local pid_a = tonumber(wait_file(pa))
  wait_file(pb)
  -- printf output comes once every probe is attached: "ready" says so
  local src = "t:syscalls:sys_enter_getppid { @[pid] = count(); }\n"
    .. "i:ms:20 { if (@ready == 0) { printf(\"ready\\n\"); } @ready = 1; }"
  local tracer = io.popen(("%s -p %d -e %s > %s 2>&1"):format(q(LT), pid_a, q(src), q(out)), "w")
  for _ = 1, 400 do
    if (slurp(out) or ""):find("ready\n", 1, true) then break end
    core.sleep(25)
  end
  b:write("go\n"); b:flush(); b:close()
  a:write("go\n"); a:flush(); a:close()
  tracer:close()
  eq(slurp(out), ("Attaching 2 probes...\nready\n\n\n@[%d]: 7\n@ready: 1\n"):format(pid_a))
  for _, f in ipairs({ pa, pb, out }) do os.remove(f) end
end)
