-- execsnoop: the execs of our own children, exact lines and JSON objects,
-- and the same events as Debian's libbpf-tools execsnoop.
local core = require "luatrace.core"
local T = require "tool_helpers"
local me = core.getpid()

-- A child that prints its pid, then exits: its exec line is fully known.
local function spawn_sh(tag)
  local code, out = core.exec({ "/bin/sh", "-c", "echo $$", tag })
  eq(code, 0, "sh ran")
  return tonumber(out)
end

test("execsnoop -P PID: exact lines of our children's execs, -x shows a failed one", function()
  local pid1, pid2
  local r = T.tool(("execsnoop -x -P %d"):format(me), function()
    pid1 = spawn_sh("luatrace-exec-1")
    pid2 = spawn_sh("luatrace exec 2")
    core.exec({ "/nonexistent/luatrace-exec-missing" })
  end)
  local lines = {}
  for l in r.out:gmatch("[^\n]+") do lines[#lines + 1] = l end
  eq(lines[1], ("%-16s %-6s %-6s %3s %s"):format("PCOMM", "PID", "PPID", "RET", "ARGS"), "header")
  eq(lines[2], ("%-16s %-6d %-6d %3d %s"):format("sh", pid1, me, 0, "/bin/sh -c echo $$ luatrace-exec-1 "))
  eq(lines[3], ("%-16s %-6d %-6d %3d %s"):format("sh", pid2, me, 0, "/bin/sh -c echo $$ luatrace exec 2 "))
  ok(lines[4] and lines[4]:match("^luatrace +%d+ +" .. me .. "  +%-2 /nonexistent/luatrace%-exec%-missing $"),
    "failed exec line: " .. tostring(lines[4]))
  eq(#lines, 4, "no other lines:\n" .. r.out)
end)

test("execsnoop --json --max-args 2: one object per exec, args cut", function()
  local pid1
  local r = T.tool(("execsnoop --json --max-args 2 -P %d"):format(me), function()
    pid1 = spawn_sh("luatrace-json")
  end)
  eq(r.err, "Tracing execsnoop... Ctrl-C to end.\n")
  local line = r.out:gsub(',"ts_ns":%d+', "")
  eq(line, ('{"uid":0,"comm":"sh","pid":%d,"ppid":%d,"ret":0,"args":["/bin/sh","-c"],"truncated":true}\n')
    :format(pid1, me))
end)

test("execsnoop -q -T -U: quoted args, time and UID columns", function()
  local pid1
  local r = T.tool(("execsnoop -q -T -U -P %d"):format(me), function()
    pid1 = spawn_sh('say "hi"')
  end)
  local header, line = r.out:match("^([^\n]*)\n([^\n]*)\n$")
  eq(header, "TIME     UID    PCOMM            PID    PPID   RET ARGS")
  local want = ('%-6d%-16s %-6d %-6d %3d %s'):format(0, "sh", pid1, me, 0,
    '"/bin/sh" "-c" "echo $$" "say \\"hi\\"" ')
  eq(line:sub(10), want)
  ok(line:match("^%d%d:%d%d:%d%d "), line)
end)

test("execsnoop and Debian's libbpf-tools execsnoop see the same execs", function()
  local peer = T.peer("execsnoop")
  if not peer then return skip("libbpf-tools is not installed (tools/deps.sh installs it)") end
  local pids = {}
  local res = T.around({ ("exec %s -m execsnoop"):format(q(luatrace())), "exec " .. peer }, function()
    for i = 1, 3 do pids[i] = spawn_sh("luatrace-peer-" .. i) end
  end, 500)
  local ours = T.lines_with(res[1].out, "luatrace-peer-")
  local theirs = T.lines_with(res[2].out, "luatrace-peer-")
  eq(#ours, 3, "our lines:\n" .. res[1].out)
  eq(table.concat(ours, "\n"), table.concat(theirs, "\n"))
end)

test("execsnoop's per-exec records are allocated per exec, not 10240 x 7.7 KB at load", function()
  local b = require("luatrace").BPF{ obj = "execsnoop" }
  local k = T.map_kernel_info(b.execs)
  local v = b.execs:info().value_size
  b:cleanup()
  ok(v > 7000, "a record holds the arguments: " .. v)
  eq(k.flags, 1, "BPF_F_NO_PREALLOC")
  ok(k.memlock < 2^20, "kernel memory charged at load below 1 MB: " .. k.memlock)
end)
