-- Tools on uprobes (and tracepoints): gethostlatency (our getaddrinfo and
-- gethostbyname calls, beside Debian's libbpf-tools gethostlatency),
-- funccount and funclatency on tests/progs/lt_target's functions.
local core = require "luatrace.core"
local T = require "tool_helpers"
local ffi = require "ffi"
pcall(ffi.cdef, [[
int getaddrinfo(const char *node, const char *service, const void *hints, void **res);
void freeaddrinfo(void *res);
void *gethostbyname(const char *name);
]])
local me = core.getpid()

local function lookups(names)
  for _, n in ipairs(names) do
    local res = ffi.new("void *[1]")
    if ffi.C.getaddrinfo(n, nil, nil, res) == 0 then ffi.C.freeaddrinfo(res[0]) end
  end
  ffi.C.gethostbyname("localhost")
end

test("gethostlatency -p PID: our lookups, one line each", function()
  local r = T.tool(("gethostlatency -p %d"):format(me), function() lookups({ "localhost", "127.0.0.1" }) end)
  eq(r.out:match("^[^\n]*"), ("%-8s %-7s %-16s %-10s %-s"):format("TIME", "PID", "COMM", "LATms", "HOST"))
  local hosts = {}
  for line in r.out:gmatch("\n([^\n]+)") do
    local t, pid, comm, lat, host = line:match("^(%d%d:%d%d:%d%d) (%d+) +(%S+) +([%d%.]+) +(%S+)$")
    ok(t, line)
    eq(tonumber(pid), me); eq(comm, "luatrace")
    eq(line, ("%-8s %-7d %-16s %-10.3f %-s"):format(t, me, "luatrace", tonumber(lat), host))
    hosts[#hosts + 1] = host
  end
  eq(table.concat(hosts, ","), "localhost,127.0.0.1,localhost")
end)

test("gethostlatency --json, and Debian's libbpf-tools gethostlatency sees the same calls", function()
  local r = T.tool(("gethostlatency --json -p %d"):format(me), function() lookups({ "localhost" }) end)
  local n = 0
  for line in r.out:gmatch("[^\n]+") do
    n = n + 1
    ok(line:match('^{"time":"[%d:]+","pid":' .. me .. ',"comm":"luatrace","lat_ms":[%d%.e%-]+,"host":"localhost"}$'), line)
  end
  eq(n, 2)
  local peer = T.peer("gethostlatency")
  if not peer then return skip("libbpf-tools is not installed (tools/deps.sh installs it)") end
  local res = T.around({ ("exec %s -m gethostlatency -p %d"):format(q(luatrace()), me),
    ("exec %s -p %d"):format(peer, me) }, function() lookups({ "localhost", "127.0.0.1", "localhost" }) end, 500)
  local function cut(text)
    local t = {}
    for _, l in ipairs(T.lines_with(text, " luatrace ")) do
      t[#t + 1] = l:sub(10):gsub(" [%d%.]+ +", " LAT ")
    end
    return table.concat(t, "\n")
  end
  eq(#T.lines_with(res[1].out, " luatrace "), 4, res[1].out)
  eq(cut(res[1].out), cut(res[2].out))
end)

-- lt_target calls N: N calls of lt_target_add (tests/progs/lt_target.c).
local function target_calls(n)
  local code = core.exec({ test_prog("lt_target"), "calls", tostring(n) })
  eq(code, 0, "lt_target ran")
end

test("funccount LIB:PATTERN: exact counts of a binary's functions", function()
  local path = test_prog("lt_target")
  local r = T.tool(("funccount %s"):format(q(path .. ":lt_target_*")), function() target_calls(17) end)
  eq(r.out, table.concat({ ('Tracing 2 functions for "%s:lt_target_*"... Hit Ctrl-C to end.'):format(path), "",
    ("%-36s %8s"):format("FUNC", "COUNT"), ("%-36s %8d"):format("lt_target_add", 17), "Detaching...", "" }, "\n"))
end)

test("funccount t:CAT:EVENT -p PID --json: our getppid calls", function()
  local r = T.tool(("funccount --json -p %d t:syscalls:sys_enter_getppid"):format(me), function() getppid_calls(37) end)
  eq(r.out, '{"time":"' .. r.out:match('"time":"([%d:]+)"') .. '","counts":[{"func":"syscalls:sys_enter_getppid","count":37}]}\n')
end)

test("funclatency LIB:FUNC: one histogram with every call", function()
  local path = test_prog("lt_target")
  local r = T.tool(("funclatency -u --json %s"):format(q(path .. ":lt_target_add")), function() target_calls(23) end)
  local line = r.out:match("^([^\n]+)\n$")
  ok(line and line:match('^{"time":"[%d:]+","func":"[^"]+:lt_target_add","unit":"usecs","total":23,"buckets":%[{"low":0,"high":1,"count":%d+}'), r.out)
end)

test("kernel functions without fentry or kprobes: one clear line, exit 1", function()
  local lt = require "luatrace"
  if lt.has_kprobes() or lt.has_fentry() then return skip("this kernel has kprobes or fentry (tests/vm/cases/tools.lua runs them)") end
  local _, err, code = sh(q(luatrace()) .. " -m funccount 'vfs_rea*'")
  eq(code, 1); eq(err, "luatrace: funccount: kernel functions need fentry or kprobes, which this kernel refuses "
    .. "(tried both); count tracepoints (t:CAT:EVENT) or user functions (LIB:FUNC) instead\n")
  _, err, code = sh(q(luatrace()) .. " -m funclatency vfs_read")
  eq(code, 1); eq(err, "luatrace: funclatency: timing kernel function vfs_read needs fentry or kprobes, which this "
    .. "kernel refuses (tried both); time a user function (LIB:FUNC) or use a tracepoint pair with bpftrace (luatrace -e)\n")
end)

test("vfsstat and capable without fentry or kprobes: one clear line, exit 1", function()
  local lt = require "luatrace"
  if lt.has_kprobes() or lt.has_fentry() then return skip("this kernel has kprobes or fentry (tests/vm/cases/tools.lua runs them)") end
  local _, err, code = sh(q(luatrace()) .. " -m vfsstat 1 1")
  eq(code, 1); eq(err, "luatrace: vfsstat: needs fentry or kprobes on vfs_* functions, which this kernel lacks; "
    .. "count the VFS syscalls with `luatrace -m syscount -i 1` instead\n")
  _, err, code = sh(q(luatrace()) .. " -m capable")
  eq(code, 1); eq(err, "luatrace: capable: needs fentry or kprobes on cap_capable, which this kernel lacks "
    .. "(no tracepoint reports capability checks; run it on a kernel with kprobes)\n")
end)

-- An interactive bash (script(1) gives it a terminal) that reads two
-- lines: "echo $$ MARKER" (it prints its pid) and "exit". Returns its pid.
local function interactive_bash(marker)
  local code, out = core.exec({ "sh", "-c", ("printf 'echo $$ %s\\nexit\\n' | script -qfc 'bash --norc --noprofile -i' /dev/null"):format(marker) })
  eq(code, 0, "script ran bash")
  return tonumber(out:match("(%d+) " .. marker:gsub("%-", "%%-")))
end

test("bashreadline: the lines an interactive bash reads, beside Debian's libbpf-tools bashreadline", function()
  local marker = "lt-bash-" .. me
  local pid
  local cmds = { ("exec %s -m bashreadline"):format(q(luatrace())) }
  local peer = T.peer("bashreadline")
  if peer then cmds[2] = "exec " .. peer end
  local res = T.around(cmds, function() pid = interactive_bash(marker) end, 500)
  ok(pid, "bash printed its pid")
  eq(res[1].out:match("^[^\n]*"), ("%-9s %-7s %s"):format("TIME", "PID", "COMMAND"))
  local function ours(text)
    local t = {}
    for line in text:gmatch("[^\n]+") do
      local p, cmd = line:match("^%S+ +(%d+) +(.*)$")
      if tonumber(p) == pid then t[#t + 1] = ("%-7d %s"):format(pid, cmd) end
    end
    return table.concat(t, "\n")
  end
  eq(ours(res[1].out), ("%-7d echo $$ %s\n%-7d exit"):format(pid, marker, pid))
  if not peer then return skip("libbpf-tools is not installed (tools/deps.sh installs it)") end
  eq(ours(res[1].out), ours(res[2].out), "same lines as libbpf-tools")
end)

test("tcpaccept without fexit or kprobes: one clear line, exit 1", function()
  local lt = require "luatrace"
  if lt.has_kprobes() or lt.has_fentry() then return skip("this kernel has kprobes or fentry (tests/vm/cases/tools.lua runs it)") end
  local _, err, code = sh(q(luatrace()) .. " -m tcpaccept")
  eq(code, 1); eq(err, "luatrace: tcpaccept: needs fexit or a kretprobe on inet_csk_accept, which this kernel lacks "
    .. "(no tracepoint reports accepts; `luatrace -m tcpstates` shows SYN_RECV -> ESTABLISHED)\n")
end)
