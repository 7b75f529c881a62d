-- luatrace.tool: `luatrace -m NAME args...` runs the tool module NAME.
-- A tool module returns a table with main(...) so it is both runnable and
-- require-able. Built-in tools are compiled in as luatrace.modules.NAME;
-- with LUATRACE_PATH set (a source tree) they load from its modules/.
local M = {}

local function dev_path(name)
  local dev = os.getenv("LUATRACE_PATH")
  if not dev or dev == "" then return nil end
  return (dev:gsub("/+$", "")) .. "/../modules/" .. name .. ".lua"
end

function M.load(name)
  if not name:match("^[%w_]+$") then
    error(("run tool %s: not a tool name (letters, digits, _)"):format(name), 0)
  end
  local p = dev_path(name)
  if p then
    local chunk, err = loadfile(p)
    if not chunk then
      if err:find("No such file") then
        error(("run tool %s: no such tool (looked for %s)"):format(name, p), 0)
      end
      error(err, 0)
    end
    return chunk(name)
  end
  local ok, mod = pcall(require, "luatrace.modules." .. name)
  if not ok then
    if tostring(mod):find("module 'luatrace.modules." .. name .. "' not found", 1, true) then
      error(("run tool %s: no such tool"):format(name), 0)
    end
    error(mod, 0)
  end
  return mod
end

function M.run(name, ...)
  local tool = M.load(name)
  if type(tool) ~= "table" or type(tool.main) ~= "function" then
    error(("run tool %s: the module has no main function"):format(name), 0)
  end
  return tool.main(...)
end

return M
