-- exitsnoop, sigsnoop and killsnoop: exits of our children, signals we
-- send; exact lines, JSON, and the same events as Debian's libbpf-tools.
local core = require "luatrace.core"
local T = require "tool_helpers"
local ffi = require "ffi"
pcall(ffi.cdef, "int kill(int pid, int sig);")
local me = core.getpid()

-- Lines of signals we sent to ourselves or to the missing pid (not the
-- helper's SIGINTs to the tools), time column cut.
local function ours(text)
  local t = {}
  for _, l in ipairs(T.lines_with(text, (" %-7d luatrace "):format(me))) do
    local tpid = tonumber(l:sub(9):match("^%s*%d+%s+%S+%s+%S+%s+(%d+)"))
    if tpid == me or tpid == 4194303 then t[#t + 1] = l:sub(9) end
  end
  return t
end

-- Children that report their pid and end as told.
local function child(script)
  local code, out = core.exec({ "/bin/sh", "-c", "echo $$; " .. script })
  return tonumber(out:match("^(%d+)")), code
end

local function exit_line_pattern(pid, how)
  local function esc(x) return (x:gsub("%p", "%%%0")) end
  return "^" .. esc(("%-16s %-7d %-7d %-7d "):format("sh", pid, me, pid))
    .. "%d+%.%d%d +" .. esc(how) .. "$"
end

test("exitsnoop: exit codes and signals of our children", function()
  local p1, p2, p3
  local r = T.tool("exitsnoop", function()
    p1 = child("exit 0")
    p2 = child("exit 3")
    p3 = child("kill -TERM $$")
  end)
  eq(r.out:match("^[^\n]*"), ("%-16s %-7s %-7s %-7s %-7s %-s"):format("PCOMM", "PID", "PPID", "TID", "AGE(s)", "EXIT_CODE"))
  local function line(pid) return T.lines_with(r.out, (" %-7d %-7d "):format(pid, me))[1] end
  ok(line(p1) and line(p1):match(exit_line_pattern(p1, "0")), tostring(line(p1)))
  ok(line(p2) and line(p2):match(exit_line_pattern(p2, "code 3")), tostring(line(p2)))
  ok(line(p3) and line(p3):match(exit_line_pattern(p3, "signal 15 (Terminated)")), tostring(line(p3)))
end)

test("exitsnoop -x --json: failed exits only, as objects", function()
  local p1, p2
  local r = T.tool("exitsnoop -x --json", function()
    p1 = child("exit 0")
    p2 = child("exit 7")
  end)
  eq(#T.lines_with(r.out, ('"pid":%d,'):format(p1)), 0, "a clean exit is not shown")
  local got = T.lines_with(r.out, ('"pid":%d,'):format(p2))[1]
  ok(got, r.out)
  eq(got:gsub('"age":[%d%.e%-]+,', ""), ('{"comm":"sh","pid":%d,"ppid":%d,"tid":%d,"exit_code":7,"sig":0,"core_dumped":false}')
    :format(p2, me, p2))
end)

test("exitsnoop and Debian's libbpf-tools exitsnoop: the same exits", function()
  local peer = T.peer("exitsnoop")
  if not peer then return skip("libbpf-tools is not installed (tools/deps.sh installs it)") end
  local pids = {}
  local res = T.around({ ("exec %s -m exitsnoop"):format(q(luatrace())), "exec " .. peer }, function()
    for i = 1, 3 do pids[i] = child("exit " .. i) end
  end, 500)
  for i = 1, 3 do
    local needle = (" %-7d %-7d "):format(pids[i], me)
    local a, b = T.lines_with(res[1].out, needle), T.lines_with(res[2].out, needle)
    eq(#a, 1, res[1].out)
    -- AGE is exit time minus start time, each tool reading the clock in
    -- its own program a few microseconds apart: it may round to the next
    -- hundredth in one of them
    local function age(l) return tonumber(l:match("^%S+%s+%d+%s+%d+%s+%d+%s+([%d%.]+)")) end
    local function rest(l) return (l:gsub("^(%S+%s+%d+%s+%d+%s+%d+%s+)[%d%.]+", "%1")) end
    eq(rest(a[1]), rest(b[1] or ""), "the line but AGE")
    ok(math.abs(age(a[1]) - age(b[1])) <= 0.011, "AGE within a hundredth: " .. a[1] .. " / " .. b[1])
  end
end)

test("sigsnoop -p PID: the signals we send, -n names them", function()
  local r = T.tool(("sigsnoop -n -p %d"):format(me), function()
    ffi.C.kill(me, 23) -- SIGURG: ignored by default
    ffi.C.kill(me, 28) -- SIGWINCH: ignored by default
  end)
  eq(r.out:match("^[^\n]*"), ("%-8s %-7s %-16s %-9s %-7s %-6s"):format("TIME", "PID", "COMM", "SIG", "TPID", "RESULT"))
  local lines = ours(r.out)
  eq(#lines, 2, r.out)
  eq(lines[1], (" %-7d %-16s %-9s %-7d %-6d"):format(me, "luatrace", "SIGURG", me, 0))
  eq(lines[2], (" %-7d %-16s %-9s %-7d %-6d"):format(me, "luatrace", "SIGWINCH", me, 0))
  ok(r.out:match("\n%d%d:%d%d:%d%d " .. me), r.out)
end)

test("killsnoop -x -s: failed kill()s of one signal, with their errors", function()
  local r = T.tool(("killsnoop -x -s USR1 -p %d --json"):format(me), function()
    ffi.C.kill(me, 23)          -- another signal: not shown
    ffi.C.kill(4194303, 10)     -- no such process: ESRCH
    ffi.C.kill(me, 0)           -- signal 0: not this signal
  end)
  local lines = T.lines_with(r.out, '"pid":' .. me)
  eq(#lines, 1, r.out)
  eq(lines[1]:gsub('"time":"[%d:]+",', ""), ('{"pid":%d,"comm":"luatrace","sig":10,"signame":"SIGUSR1","tpid":4194303,"ret":-3}'):format(me))
end)

test("sigsnoop and killsnoop match Debian's libbpf-tools sigsnoop", function()
  local peer = T.peer("sigsnoop")
  if not peer then return skip("libbpf-tools is not installed (tools/deps.sh installs it)") end
  local res = T.around({
    ("exec %s -m sigsnoop -p %d"):format(q(luatrace()), me), ("exec %s -p %d"):format(peer, me),
    ("exec %s -m killsnoop -p %d"):format(q(luatrace()), me), ("exec %s -k -p %d"):format(peer, me),
  }, function()
    for _, s in ipairs({ 23, 28, 23 }) do ffi.C.kill(me, s) end
    ffi.C.kill(4194303, 10)
  end, 500)
  local function strip(text) return table.concat(ours(text), "\n") end
  eq(#ours(res[1].out), 3, res[1].out)
  eq(strip(res[1].out), strip(res[2].out), "sigsnoop")
  eq(#ours(res[3].out), 4, res[3].out)
  eq(strip(res[3].out), strip(res[4].out), "killsnoop")
end)
