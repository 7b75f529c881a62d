-- The Lua side of the bpftrace front end: printf lines as a callback, maps
-- as Lua tables (during and after the run), stop(), and the example
-- script that combines both (examples/bt_openers.lua).
local B = dofile(root .. "/tests/bt_helpers.lua")
local bt = require "luatrace.bpftrace"
local core = require "luatrace.core"

test("bt.load: on_printf lines, maps as tables, stop() from a callback", function()
  local printed = {}
  local p = bt.load([[
tracepoint:syscalls:sys_enter_getppid { @calls[comm] = count(); @n = count(); @h = hist(5); printf("call %d\n", pid); }
]], { pid = core.getpid(), out = function(s) printed[#printed + 1] = s end, print_maps = false })
  local lines = {}
  p:on_printf(function(line)
    lines[#lines + 1] = line
    if #lines == 3 then p:stop() end
  end)
  getppid_calls(4)
  eq(p.maps["@n"], 4, "a scalar map while running")
  p:run { duration_ms = 5000 }
  eq(#lines, 3, "stopped after the third line")
  eq(lines[1], ("call %d\n"):format(core.getpid()))
  eq(p.maps["@calls"].luatrace, 4, "a keyed map after the run")
  eq(p.maps["@h"][4], 4, "hist buckets by index ([4, 8) is bucket 4)")
  eq(p.maps["@nosuch"], nil)
  -- print_maps = false: the text has the header and printf lines only
  eq(table.concat(printed), "Attaching 1 probe...\n" .. ("call %d\n"):format(core.getpid()):rep(3))
end)

test("bt.compile: C text, probes and maps of a program", function()
  local c = bt.compile("t:syscalls:sys_enter_read,t:syscalls:sys_enter_write { @[probe] = count(); }")
  eq(#c.probes, 2)
  eq(c.probes[1].name, "tracepoint:syscalls:sys_enter_read")
  eq(c.maps["@"].kind, "count")
  ok(c.c:find('SEC("tracepoint") int lt_bt_p2(struct tracepoint__syscalls__sys_enter_write *args)', 1, true), c.c)
end)

test("-d prints the generated C and runs nothing", function()
  local out, err, code = sh(q(luatrace()) .. " -d -e 'BEGIN { printf(\"x\\n\"); }'")
  eq(code, 0, err)
  ok(out:find('SEC("raw_tracepoint") int lt_bt_p1(struct bpf_raw_tracepoint_args *ctx)', 1, true), out)
  ok(not out:find("Attaching", 1, true), "nothing attached")
end)

test("examples/bt_openers.lua: alerts from printf and a table from the map", function()
  local ph = io.popen(("%s %s 2 2>&1"):format(q(luatrace()), q(root .. "/examples/bt_openers.lua")))
  core.sleep(1000)
  local _, _, code = sh("cat /etc/passwd > /dev/null")
  eq(code, 0)
  local out = ph:read("*a")
  ph:close()
  ok(out:find("alert: cat %(%d+%) read the user database\n"), out)
  ok(out:find("\n%d+ opens in 2 s, %d+ alerts\n"), out)
  ok(out:find("\n[^\n]- +%d+ +[%d.]+%%\n"), "a table row: " .. out)
end)

test("CLI: -e and prog.bt take $1.. from the words after them", function()
  local out, err, code = sh(q(luatrace()) .. [[ -e 'BEGIN { printf("%d %s %d\n", $1, str($2), $#); exit(); }' 42 hello]])
  eq(code, 0, err)
  eq(out, "Attaching 1 probe...\n42 hello 2\n\n\n")
  local path = unique_path("args") .. ".bt"
  local fh = io.open(path, "w")
  fh:write('#!/usr/bin/env bpftrace\n// a comment\nBEGIN { printf("%d\\n", $1 * 2); exit(); }\n')
  fh:close()
  out, err, code = sh(q(luatrace()) .. " " .. q(path) .. " 21")
  os.remove(path)
  eq(code, 0, err)
  eq(out, "Attaching 1 probe...\n42\n\n\n")
end)

test("CLI -p PID: only that process's events; the trace ends when it exits", function()
  local ph = io.popen(q(test_prog("lt_target")) .. " wait 2")
  local pid = tonumber(ph:read("*l"):match("^(%d+)"))
  local out, err, code = sh(q(luatrace()) .. " -p " .. pid .. [[ -e 't:syscalls:sys_enter_exit_group { printf("exit_group %d %d\n", args->error_code, pid == ]] .. pid .. [[); } t:syscalls:sys_enter_getppid { @others = count(); }' & sleep 0.5; ]] .. q(luatrace()) .. [[ -e 'local ffi = require "ffi"; ffi.cdef "int getppid(void);"; for i = 1, 10 do ffi.C.getppid() end'; wait]])
  ph:close()
  eq(code, 0, err)
  eq(out, "Attaching 2 probes...\nexit_group 0 1\n\n\n\n")
end)

-- BEGIN and END are run in this process (obj:run), not attached: no
-- uprobe (each registration waits for an RCU grace period) and no perf
-- event fd; the programs still see this process as current.
test("BEGIN/END run in this process with no perf event or uprobe", function()
  local before = probe_fds()
  local printed = {}
  local p = bt.load([[
BEGIN { printf("begin %d %s\n", pid, comm); @b = count(); }
END { printf("end %d\n", tid); @e = count(); }
]], { out = function(s) printed[#printed + 1] = s end, print_maps = false })
  eq(probe_fds(), before, "no perf event or link opened for BEGIN/END")
  p:stop()
  p:run { duration_ms = 1000 }
  local me = core.getpid()
  eq(table.concat(printed), ("Attaching 2 probes...\nbegin %d luatrace\nend %d\n"):format(me, me))
  eq(p.maps["@b"], 1)
  eq(p.maps["@e"], 1)
end)

-- BEGIN runs before the probes attach (its records printed once they
-- are), and while END runs only END's records print: the bpf() calls that
-- run them are not traced by the program's own probes (bpftrace's uprobe
-- triggers are not either), here a tracepoint on bpf(2) itself.
test("BEGIN/END's own bpf() calls are not traced by the program", function()
  local printed = {}
  local p = bt.load([[
tracepoint:syscalls:sys_enter_bpf { printf("bpf %d\n", args->cmd); }
BEGIN { printf("begin\n"); }
END { printf("end\n"); }
]], { pid = core.getpid(), out = function(s) printed[#printed + 1] = s end, print_maps = false })
  p:stop()
  p:run { duration_ms = 1000 }
  eq(table.concat(printed), "Attaching 3 probes...\nbegin\nend\n")
end)
