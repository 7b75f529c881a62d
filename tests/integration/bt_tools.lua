-- The .bt tools Debian's bpftrace package installs (/usr/sbin/*.bt) that
-- this kernel supports, run unchanged, each against the event it reports,
-- made by this test. (The kprobe-based ones need tests/vm.)
local B = dofile(root .. "/tests/bt_helpers.lua")
local ffi = require "ffi"
local core = require "luatrace.core"
local mypid = core.getpid()

pcall(ffi.cdef, [[
int kill(int pid, int sig);
void sync(void);
int statfs(const char *path, void *buf);
]])

local function tool(name)
  local path = "/usr/sbin/" .. name .. ".bt"
  local fh = io.open(path)
  if not fh then skip(path .. " is not installed (Debian's bpftrace)") end
  local src = fh:read("*a")
  fh:close()
  return src, path
end

local function run_tool(name, trigger, ms)
  local src, path = tool(name)
  return B.run(src, trigger, { pid = false, name = path, duration_ms = ms or 300 })
end

test("opensnoop.bt: our open of a unique path", function()
  local p = unique_path("opensnoop")
  local out = run_tool("opensnoop", function() B.C.close(B.C.open(p, 0)) end)
  ok(out:find(("\n%-6d %-16s %4d %3d %s\n"):format(mypid, "luatrace", -1, 2, p), 1, true), out)
end)

test("execsnoop.bt: a command with its arguments", function()
  local out = run_tool("execsnoop", function() sh("/bin/true bt-execsnoop-arg") end)
  ok(out:find("\n%d+ +%d+ +/bin/true bt%-execsnoop%-arg\n"), out)
end)

test("statsnoop.bt: our statfs of a missing path", function()
  local p = unique_path("statsnoop")
  local buf = ffi.new("char[256]")
  local out = run_tool("statsnoop", function() ffi.C.statfs(p, buf) end)
  ok(out:find(("\n%-6d %-16s %3d %s\n"):format(mypid, "luatrace", 2, p), 1, true), out)
end)

test("killsnoop.bt: signal 0 to ourselves", function()
  local out = run_tool("killsnoop", function() ffi.C.kill(mypid, 0) end)
  ok(out:find(("%%d%%d:%%d%%d:%%d%%d  %-6d %-16s %-4d %-6d %d\n"):format(mypid, "luatrace", 0, mypid, 0)), out)
end)

test("syncsnoop.bt: our sync()", function()
  local out = run_tool("syncsnoop", function() ffi.C.sync() end)
  ok(out:find(("%-6d %-16s %s\n"):format(mypid, "luatrace", "tracepoint:syscalls:sys_enter_sync"), 1, true), out)
end)

test("gethostlatency.bt: getaddrinfo of localhost (uprobes on libc)", function()
  local out = run_tool("gethostlatency", function() sh("getent hosts localhost") end)
  ok(out:find("\n%d%d:%d%d:%d%d  %d+ +getent +%d+ localhost\n"), out)
end)

test("syscount.bt: our syscalls by process at the end", function()
  local out = run_tool("syscount", function() for _ = 1, 20 do ffi.C.kill(mypid, 0) end end)
  ok(out:find("Counting syscalls... Hit Ctrl-C to end.\n", 1, true), out)
  local n = tonumber(out:match("\n@process%[luatrace%]: (%d+)\n"))
  ok(n and n >= 20, out)
end)

test("runqlat.bt: run queue latency histogram", function()
  local out = run_tool("runqlat", function() for _ = 1, 5 do core.sleep(2) end end)
  ok(out:find("\n@usecs: \n%[", 1, false), out)
end)
