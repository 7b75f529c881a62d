-- execopens: the files opened by processes started while tracing. Two
-- tools (execsnoop and opensnoop) run in one process, on one loop, and
-- their records meet in Lua.
--
--   luatrace examples/execopens.lua [SECONDS] [PPID]
--
-- SECONDS: stop after this long (default: at Ctrl-C); PPID: only
-- processes started by this parent.
local tool = require "luatrace.tool"
local loop = require "luatrace.loop"

local seconds, ppid = tonumber(arg[1]), tonumber(arg[2])
local execsnoop, opensnoop = tool.load("execsnoop"), tool.load("opensnoop")

local started = {}   -- pid -> comm, for processes exec'd while tracing
local pending = {}   -- opens not yet matched against the execs

-- Opens are queued and matched on a timer: the loop consumes objects in
-- the order they were added, so adding opensnoop first means every queued
-- open was read before the execs that preceded it (a process execs before
-- it opens), and so its exec is known when the timer looks.
local opens = opensnoop.start(opensnoop.parse{}, function(r) pending[#pending + 1] = r end)
local execs = execsnoop.start(execsnoop.parse(ppid and { "-P", tostring(ppid) } or {}), function(r)
  started[r.pid] = r.comm
  print(("# %d %s: %s"):format(r.pid, r.comm, table.concat(r.args, " ")))
end)

local function flush()
  for _, r in ipairs(pending) do
    if started[r.pid] then
      print(("%-6d %-16s %3d %3d %s"):format(r.pid, r.comm, r.fd, r.err, r.path))
    end
  end
  pending = {}
  io.stdout:flush()
end

local L = loop.new()
L:add(opens)
L:add(execs)
L:every(100, flush)
print(("%-6s %-16s %3s %3s %s"):format("PID", "COMM", "FD", "ERR", "PATH"))
io.stdout:flush()
L:run{ duration_ms = seconds and seconds * 1000 }
flush()
opens:stop()
execs:stop()
