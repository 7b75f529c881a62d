-- luatrace.tool: `luatrace -m NAME args...` runs the tool module NAME;
-- `luatrace -m` alone lists the tools. A tool module returns
-- toolkit.define{...} (luatrace.toolkit): name, description, options,
-- start(opts), main(...). Built-in tools are compiled in as
-- luatrace.modules.NAME; with LUATRACE_PATH set (a source tree) they load
-- from its modules/.
local core = require "luatrace.core"

local M = {}

local function dev_dir()
  local dev = os.getenv("LUATRACE_PATH")
  if not dev or dev == "" then return nil end
  return (dev:gsub("/+$", "")) .. "/../modules"
end

local function no_such(name, extra)
  return ("run tool %s: no such tool%s (`luatrace -m` lists them: %s)"):format(
    name, extra or "", table.concat(M.names(), ", "))
end

function M.load(name)
  if not name:match("^[%w_]+$") then
    error(("run tool %s: not a tool name (letters, digits, _)"):format(name), 0)
  end
  local dir = dev_dir()
  if dir then
    local p = dir .. "/" .. name .. ".lua"
    local chunk, err = loadfile(p, "t")
    if not chunk then
      if err:find("No such file") then error(no_such(name, " (looked for " .. p .. ")"), 0) end
      error(err, 0)
    end
    return chunk(name)
  end
  local ok, mod = pcall(require, "luatrace.modules." .. name)
  if not ok then
    if tostring(mod):find("module 'luatrace.modules." .. name .. "' not found", 1, true) then
      error(no_such(name), 0)
    end
    error(mod, 0)
  end
  return mod
end

-- Names of the available tools, sorted: modules/ of the source tree under
-- LUATRACE_PATH, else the modules built into the binary.
function M.names()
  local names = {}
  local dir = dev_dir()
  if dir then
    local code, out = core.exec({ "ls", "-1", dir })
    if code == 0 then
      for f in out:gmatch("([%w_]+)%.lua\n") do names[#names + 1] = f end
    end
  else
    for k in pairs(package.preload) do
      local n = k:match("^luatrace%.modules%.([%w_]+)$")
      if n then names[#names + 1] = n end
    end
  end
  table.sort(names)
  return names
end

-- `luatrace -m`: every tool with its one-line description.
function M.list(out)
  out = out or io.stdout
  out:write("Tools (luatrace -m NAME [options], -h for a tool's options):\n")
  for _, n in ipairs(M.names()) do
    local ok, t = pcall(M.load, n)
    local desc = ok and type(t) == "table" and t.description or "(failed to load)"
    out:write(("  %-16s %s\n"):format(n, desc))
  end
end

function M.list_main()
  M.list()
  return 0
end

function M.run(name, ...)
  local ok, tool = pcall(M.load, name)
  if not ok then
    if tostring(tool):find("no such tool", 1, true) then
      io.stderr:write(("luatrace: run tool %s: no such tool\n"):format(name))
      M.list(io.stderr)
      return 2
    end
    error(tool, 0)
  end
  if type(tool) ~= "table" or type(tool.main) ~= "function" then
    error(("run tool %s: the module has no main function"):format(name), 0)
  end
  return tool.main(...)
end

return M
