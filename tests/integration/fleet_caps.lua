-- docs/FLEET.md's capability sets, measured: a tracepoint tool with its
-- metrics endpoint runs with CAP_BPF + CAP_PERFMON alone (uid 0, every
-- other capability dropped, as the systemd unit and DaemonSet run it);
-- kernel symbols add CAP_SYSLOG; without CAP_PERFMON the load fails with
-- one clear line.
local core = require "luatrace.core"

local function setpriv(caps, cmd)
  return ("setpriv --inh-caps=-all,%s --ambient-caps=-all,%s --bounding-set=-all,%s %s")
    :format(caps, caps, caps, cmd)
end

local SYMS = [[
local lt = require "luatrace"
local b = lt.BPF{text = "BPF_HASH(c, int, u64, 8); BPF_STACK_TRACE(st, 64);\n"
  .. "TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { int id = st.get_stackid(args, 0); c.increment(id); return 0; }"}
local ffi = require "ffi"; ffi.cdef "int getppid(void);"
ffi.C.getppid()
io.write(b.c:folded())
]]

test("syscount --metrics with CAP_BPF and CAP_PERFMON only; CAP_SYSLOG for kernel symbols", function()
  if not core.stat("/usr/bin/setpriv") then skip("setpriv (util-linux) is not installed") end
  -- a child that makes 9 getppid calls once syscount traces it
  local log = unique_path("caps.log")
  local script = unique_path("caps.sh")
  local f = io.open(script, "w")
  f:write(("%s -m syscount -p $$ -d 2 --metrics :0 > %s 2>&1 &\n"):format(
    setpriv("+bpf,+perfmon", q(luatrace())), q(log)))
  f:write(("while ! grep -q Tracing %s; do sleep 0.1; done\n"):format(q(log)))
  f:write("for i in 1 2 3 4 5 6 7 8 9; do cat /proc/self/status > /dev/null; done\nwait\n")
  f:close()
  local _, err, code = sh("exec sh " .. q(script))
  eq(code, 0, err)
  local fh = io.open(log); local out = fh:read("*a"); fh:close()
  os.remove(log); os.remove(script)
  ok(out:find("Tracing system calls of pid", 1, true), out)
  ok(out:find("\nwait4 ", 1, true), "the shell's wait4 was counted: " .. out)
  local text
  text, err, code = sh(setpriv("+bpf", ("%s -m syscount -d 1"):format(q(luatrace()))))
  eq(code, 1)
  ok(err:find("^luatrace: load BPF object [^\n]*permission denied %(luatrace needs root, or CAP_BPF with CAP_PERFMON%)\n$"), err)
  local path = unique_path("syms.lua")
  f = io.open(path, "w"); f:write(SYMS); f:close()
  text, err, code = sh(setpriv("+bpf,+perfmon", ("%s %s"):format(q(luatrace()), q(path))))
  eq(code, 1)
  ok(err:find("read /proc/kallsyms: Operation not permitted", 1, true), err)
  text, err, code = sh(setpriv("+bpf,+perfmon,+syslog", ("%s %s"):format(q(luatrace()), q(path))))
  os.remove(path)
  eq(code, 0, err)
  ok(text:find("do_syscall_64_[k]", 1, true), "kernel symbols with CAP_SYSLOG: " .. text)
end)
