-- The .bt tools of Debian's bpftrace package, run unchanged
-- (`luatrace /usr/sbin/TOOL.bt`), each with a workload that makes the
-- event it reports: the workload runs as the -c command (so it starts
-- once every probe is attached and its exit ends the trace), and the test
-- checks the tool's lines for it. The tools trace the whole system: lines
-- are picked by the workload's unique names or pid.
local core = require "luatrace.core"
local LT = luatrace()
local TOOLS = "/usr/sbin"

local function tool(name, cmd)
  local path = ("%s/%s.bt"):format(TOOLS, name)
  if not core.stat(path) then skip(path .. " is not installed (bpftrace: tools/deps.sh bench)") end
  local out, err, code = sh(("env -u LUATRACE_PATH %s -c %s %s"):format(q(LT), q(cmd), q(path)))
  eq(code, 0, name .. " exit code: " .. err)
  return out, err
end

-- The lines of text matching a Lua pattern.
local function grep(text, pat)
  local t = {}
  for line in text:gmatch("[^\n]*") do
    if line:find(pat) then t[#t + 1] = line end
  end
  return t
end

local function uniq(tag) return ("lt%d%s"):format(core.getpid(), tag) end

test("execsnoop.bt: the command's execs with their arguments", function()
  local u = uniq("exec")
  local out = tool("execsnoop", ("/bin/sh -c 'exec /bin/echo %s a b'"):format(u))
  ok(out:find("^Attaching 3 probes%.%.%.\nTIME%(ms%)   PID   ARGS\n"), out)
  -- echo's own output may come anywhere: it shares the terminal
  eq(#grep(out, u), 3, "sh, echo, and echo's output\n" .. out)
  local sh_line = grep(out, "^%d+%s+%d+%s+/bin/sh %-c exec /bin/echo " .. u .. " a b$")
  eq(#sh_line, 1, out)
  local pid = sh_line[1]:match("^%d+%s+(%d+)")
  eq(#grep(out, "^%d+%s+" .. pid .. "%s+/bin/echo " .. u .. " a b$"), 1, out)
  eq(#grep(out, "^" .. u .. " a b$"), 1, out)
end)

test("opensnoop.bt: a failed open with its errno", function()
  local f = "/tmp/" .. uniq("open")
  local out = tool("opensnoop", "cat " .. f)
  ok(out:find("\nPID    COMM               FD ERR PATH\n", 1, true), out)
  local lines = grep(out, f .. "$")
  eq(#lines, 1, out)
  ok(lines[1]:match("^%d+%s+cat%s+%-1   2 " .. f:gsub("%p", "%%%0") .. "$"), lines[1])
end)

test("statsnoop.bt: a failed statx", function()
  local f = "/tmp/" .. uniq("stat")
  local out = tool("statsnoop", "stat " .. f)
  local lines = grep(out, f .. "$")
  eq(#lines, 1, out)
  ok(lines[1]:match("^%d+%s+stat%s+2 " .. f:gsub("%p", "%%%0") .. "$"), lines[1])
end)

test("killsnoop.bt: kill(pid, 0) of a shell to itself", function()
  local out = tool("killsnoop", "/bin/sh -c 'kill -0 $$'")
  -- (other shells on the machine may signal too: pick signal 0 lines)
  local lines = grep(out, "^%d%d:%d%d:%d%d  %d+%s+sh%s+0%s+")
  eq(#lines, 1, out)
  local pid, tpid = lines[1]:match("^%S+  (%d+)%s+sh%s+0%s+(%d+)%s+0$")
  ok(pid and pid == tpid, lines[1])
end)

test("setuids.bt: setuid(0)", function()
  local out = tool("setuids",
    LT .. " -e 'local ffi = require [[ffi]]; ffi.cdef [[int setuid(int);]]; ffi.C.setuid(0)'")
  local lines = grep(out, " setuid ")
  ok(#lines >= 1, out)
  local found
  for _, l in ipairs(lines) do
    if l:match("^%S+ %d+%s+luatrace%s+0%s+setuid%s+uid=0 %(0%)$") then found = true end
  end
  ok(found, table.concat(lines, "\n"))
end)

test("syncsnoop.bt: sync(2)", function()
  local out = tool("syncsnoop", "sync")
  local lines = grep(out, "^%S+%s+%d+%s+sync%s+tracepoint:syscalls:sys_enter_sync$")
  eq(#lines, 1, out)
end)

test("syscount.bt: 100000 getppid calls of a named process", function()
  -- a name of this run's own: the same test running at once elsewhere
  -- (another checkout's suite) counted under one shared name made 200001
  local u = uniq("sc")
  local out = tool("syscount", LT .. " -e 'local ffi = require [[ffi]]; "
    .. "ffi.cdef [[int prctl(int, const char *, long, long, long); int getppid(void);]]; "
    .. "ffi.C.prctl(15, [[" .. u .. "]], 0, 0, 0); for _ = 1, 100000 do ffi.C.getppid() end'")
  ok(out:find("\nTop 10 syscalls IDs:\n", 1, true), out)
  ok(out:find("\nTop 10 processes:\n", 1, true), out)
  local nr = tonumber(out:match("\n@syscall%[110%]: (%d+)\n"))
  ok(nr and nr >= 100000, "getppid (110) counted: " .. out)
  local n = tonumber(out:match("\n@process%[" .. u .. "%]: (%d+)\n"))
  ok(n and n >= 100000 and n < 100100, "the process's syscalls: " .. out)
end)

test("bitesize.bt: 4 KiB direct writes of dd", function()
  local f = "/tmp/" .. uniq("bs")
  local out = tool("bitesize", ("dd if=/dev/zero of=%s bs=4k count=8 oflag=direct"):format(f))
  os.remove(f)
  local n = tonumber(out:match("\n@%[dd%]: \n%[4K, 8K%)%s+(%d+) |"))
  ok(n and n >= 8, out)
end)

test("writeback.bt: a sync writes dirty pages back", function()
  local f = "/tmp/" .. uniq("wb")
  local out = tool("writeback", ("/bin/sh -c 'dd if=/dev/zero of=%s bs=1M count=4 2>/dev/null && sync'"):format(f))
  os.remove(f)
  ok(out:find("\nTIME      DEVICE   PAGES    REASON           ms\n", 1, true), out)
  ok(#grep(out, "^%d%d:%d%d:%d%d  %d+:%d+%s+%d+%s+sync%s+%d+%.%d+$") >= 1, out)
end)

test("pidpersec.bt: 30 forks are counted", function()
  local out = tool("pidpersec", "/bin/sh -c 'for i in $(seq 30); do /bin/true; done; sleep 1.2'")
  local total = 0
  for n in out:gmatch("PIDs/sec: @: (%d+)\n") do total = total + tonumber(n) end
  ok(total >= 30, out)
end)

test("cpuwalk.bt: a busy loop on CPU 1", function()
  if #core.online_cpus() < 2 then skip("one CPU") end
  local out = tool("cpuwalk", "taskset -c 1 " .. LT .. " -e 'local t = os.clock(); while os.clock() - t < 0.5 do end'")
  local n = tonumber(out:match("\n%[1, 2%)%s+(%d+) |"))
  ok(n and n >= 20, out)
end)

test("gethostlatency.bt: getaddrinfo of localhost", function()
  -- getent's own lines go elsewhere: on the tool's stdout they could land
  -- between the time() and printf() of its line (seen once in 30 runs)
  local out = tool("gethostlatency", "/bin/sh -c 'exec getent ahosts localhost >/dev/null'")
  local lines = grep(out, "^%S+%s+%d+%s+getent%s+%d+ localhost$")
  eq(#lines, 1, out)
end)

test("bashreadline.bt: lines an interactive bash reads", function()
  local u = uniq("rl")
  local input = unique_path("rl-in")
  local fh = io.open(input, "w"); fh:write("echo " .. u .. "\nexit\n"); fh:close()
  local path = TOOLS .. "/bashreadline.bt"
  if not core.stat(path) then skip(path .. " is not installed") end
  -- the terminal's output (prompts, echo) goes elsewhere: on the tool's
  -- stdout a prompt could come before a line's time()
  local out, err, code = sh(("env -u LUATRACE_PATH %s -c %s %s < %s"):format(q(LT),
    q([[/bin/sh -c "exec script -q -c 'bash --norc --noprofile -i' /dev/null >/dev/null"]]), q(path), q(input)))
  os.remove(input)
  eq(code, 0, err)
  local lines = grep(out, "^%d%d:%d%d:%d%d  %d+%s+echo " .. u .. "$")
  eq(#lines, 1, out)
end)

test("naptime.bt: a nanosleep(2) of 50 ms, with the parent", function()
  local out = tool("naptime", LT .. " -e 'local ffi = require [[ffi]]; "
    .. "ffi.cdef [[struct lt_ts { long s, ns; }; long syscall(long, ...);]]; "
    .. "ffi.C.syscall(35, ffi.new([[struct lt_ts]], {0, 50000000}), nil)'")
  local lines = grep(out, "^%d%d:%d%d:%d%d %d+%s+luatrace%s+%d+%s+luatrace%s+0%.050$")
  eq(#lines, 1, out)
  local ppid, pid = lines[1]:match("^%S+ (%d+)%s+luatrace%s+(%d+)")
  ok(tonumber(ppid) ~= tonumber(pid), lines[1])
end)

test("runqlat.bt: run queue latency of 20 wakeups", function()
  local out = tool("runqlat", "/bin/sh -c 'for i in $(seq 20); do sleep 0.01; done'")
  ok(out:find("\n@usecs: \n", 1, true), out)
  local total = 0
  for n in out:gmatch("\n[%[%(][^%]%)\n]+[%]%)]%s+(%d+) |") do total = total + tonumber(n) end
  ok(total >= 20, out)
end)
