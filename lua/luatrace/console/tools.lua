-- luatrace.console.tools: tool modules at the prompt (the `tools` global).
--
--   tools.opensnoop{ pid = 42, failed = true }   start in the background:
--        its lines print while the prompt waits; returns the running tool
--        (running:stop(), running.tables); `.probes` lists it, `.close N`
--        or running:stop() ends it
--   tools.opensnoop("-x", "-p", "42")             run it in the foreground as
--        `luatrace -m opensnoop -x -p 42` does, until Ctrl-C
--   tools()                                        list the tools
--
-- Options in the table form are the tool's option keys (as its parse
-- returns them: pid, failed, name, json...); the toolkit fills defaults.
local tool = require "luatrace.tool"
local toolkit = require "luatrace.toolkit"
local session = require "luatrace.console.session"

local M = {}

local function start(name, t, opts)
  local p = toolkit.printer(t.def, opts)
  p.header()
  local running = t.start(opts, p.event)
  for i, b in ipairs(running.objects or { running.b }) do
    session.track("tool", i == 1 and name or (name .. "#" .. i), b, i == 1 and running or nil)
  end
  return running
end

-- The tool NAME as a callable: a table starts it, words run its CLI.
local function entry(name)
  local t = tool.load(name)
  if type(t) ~= "table" or type(t.start) ~= "function" then
    error(("tool %s: not a toolkit tool (no start)"):format(name), 2)
  end
  return function(first, ...)
    if type(first) == "table" then return start(name, t, first) end
    local argv = { first, ... }
    for i = 1, select("#", ...) + 1 do argv[i] = tostring(argv[i]) end
    if first == nil then argv = {} end
    return t.main(unpack(argv))
  end
end

M.tools = setmetatable({}, {
  __index = function(self, name)
    if type(name) ~= "string" then return nil end
    local ok, f = pcall(entry, name)
    if not ok then error(f, 2) end
    rawset(self, name, f)
    return f
  end,
  __call = function() tool.list() end,
})

-- Names for Tab (tools.<Tab>) without loading every module.
function M.names() return tool.names() end

return M
