-- luatrace.target: the process a trace is about, from the command line:
--
--   luatrace -p PID script.lua     lt.target_pid = PID
--   luatrace -c 'CMD ARGS' ...     CMD starts held (forked, waiting before
--                                  exec); lt.target_pid is its pid (bpftrace's
--                                  cpid), lt.target_cmd the command line
--
-- A held command runs once the script releases it (lt.release_target(),
-- after attaching) or, failing that, when the script first waits (poll,
-- sleep, trace_pipe read): by then its probes are attached. The target's
-- exit (-c or -p) ends the trace as Ctrl-C does (waits return false), so
-- the script prints and cleans up; a trace that ends first terminates its
-- -c command (SIGTERM).
-- The command is split into words (no shell); '...' and "..." quote, and
-- the program is looked up in PATH, as bpftrace does.
local core = require "luatrace.core"

local M = {}

-- An executable regular file at path (symbolic links followed)?
local function executable(path)
  local st = core.stat(core.realpath(path) or path)
  return st and not st.dir and bit.band(st.mode or 0, 73) ~= 0 -- 0111
end

-- The path of an executable: name itself when it holds a '/', else the
-- first executable file of that name in PATH (as a shell looks).
function M.which(name)
  if name:find("/", 1, true) then return executable(name) and name or nil end
  for dir in (os.getenv("PATH") or "/usr/bin:/bin"):gmatch("[^:]+") do
    local p = dir .. "/" .. name
    if executable(p) then return p end
  end
end

-- Split a command line into words: blanks separate, quotes group.
function M.split(cmd)
  local words, cur, i, q = {}, nil, 1, nil
  while i <= #cmd do
    local c = cmd:sub(i, i)
    if q then
      if c == q then q = nil else cur = cur .. c end
    elseif c == "'" or c == '"' then
      q, cur = c, cur or ""
    elseif c:match("%s") then
      if cur then words[#words + 1] = cur; cur = nil end
    else
      cur = (cur or "") .. c
    end
    i = i + 1
  end
  if q then return nil, "unterminated quote" end
  if cur then words[#words + 1] = cur end
  return words
end

-- Start cmd held. Errors are the user's: one clear line.
function M.start(cmd)
  local words, err = M.split(cmd)
  if not words then error(("-c %s: %s"):format(cmd, err), 0) end
  if #words == 0 then error("-c: empty command", 0) end
  local path = M.which(words[1])
  if not path then
    error(("-c: command %s not found (no executable file of that name%s)")
      :format(words[1], words[1]:find("/", 1, true) and "" or " in PATH"), 0)
  end
  -- exec the path as found (a multi-call binary such as busybox looks at
  -- argv[0]); uprobe listings use the resolved file
  words[1] = path
  M.handle = core.spawn_held(words)
  M.pid, M.cmd, M.path = M.handle:pid(), cmd, core.realpath(path) or path
  return M.pid
end

-- Trace an existing process.
function M.set_pid(s)
  local pid = tonumber(s)
  if not pid or pid < 1 or pid ~= math.floor(pid) then
    return nil, ("-p %s: not a process id"):format(s)
  end
  local ok, h = pcall(core.watch_pid, pid)
  if not ok then error(("-p %d: %s"):format(pid, h:match("no such process") or h), 0) end
  M.handle, M.pid = h, pid
  return pid
end

-- Let a held command run (no-op for -p, or once released).
function M.release()
  if M.handle then M.handle:release() end
end

-- nil while the target runs; then "exit", code or "signal", n (a -p
-- process, not our child: "exit" alone).
function M.status()
  if M.handle then return M.handle:status() end
end

-- A descriptor readable once the target exits (for an event loop).
function M.pidfd()
  if M.handle then return M.handle:pidfd() end
end

-- The command line's part: -p and -c, set up before any mode runs.
function M.register(cli)
  table.insert(cli.options, #cli.options - 2,
    { "-p", value = "PID", key = "pid", help = "trace process PID (lt.target_pid; bpftrace's -p)" })
  table.insert(cli.options, #cli.options - 2,
    { "-c", value = "CMD", key = "cmd",
      help = "run CMD once probes are attached; its exit ends the trace" })
  cli.setup[#cli.setup + 1] = function(o)
    if o.pid and o.cmd then return cli.usage_error("-p and -c cannot be used together") end
    if o.pid then
      local _, err = M.set_pid(o.pid)
      if err then return cli.usage_error(err) end
    elseif o.cmd then
      o.cmd_pid = M.start(o.cmd) -- bpftrace's cpid
    end
  end
end

return M
