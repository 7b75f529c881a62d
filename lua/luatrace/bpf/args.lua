-- luatrace.bpf.args: checks of what a script passes to BPF{} and its
-- methods. A wrong argument is the script's error, so it is raised at the
-- script's line (the nearest frame outside lua/luatrace/), never as a Lua
-- error from inside the library.
local M = {}

local function library(source)
  return source:find("lua/luatrace/", 1, true) ~= nil
end

-- Raise msg at the nearest caller outside the library.
function M.raise(msg)
  for level = 2, 40 do
    local info = debug.getinfo(level, "S")
    if not info then break end
    if info.what ~= "C" and not library(info.source) then error(msg, level) end
  end
  error(msg, 0)
end

function M.raisef(fmt, ...) M.raise(fmt:format(...)) end

-- The kernel's PID_MAX_LIMIT: a larger number is no process id (and
-- would be truncated on the way to the kernel).
local PID_MAX = 4194304

local function is(v, ty)
  if ty == "integer" then return type(v) == "number" and v == math.floor(v) end
  if ty == "pid" or ty == "cpu" then
    return type(v) == "number" and v == math.floor(v) and v >= -1 and v <= PID_MAX
  end
  if ty == "list" then return type(v) == "table" end
  return type(v) == ty
end

local want = {
  string = "a string", number = "a number", integer = "an integer",
  boolean = "a boolean", table = "a table", list = "a list",
  ["function"] = "a function", pid = "a process id (-1: any)",
  cpu = "a CPU number (-1: any)",
}

-- Check one value: raise "<what>: <name>= must be <type>, got <type>".
function M.check_value(what, name, v, ty)
  if v ~= nil and not is(v, ty) then
    M.raisef("%s: %s= must be %s, got %s%s", what, name, want[ty], type(v),
      type(v) == "number" and (" " .. tostring(v)) or "")
  end
end

-- Check a table of named arguments against spec {{name, type, required}}.
-- extra(name) may say more about a missing required argument.
function M.check(what, o, spec, extra)
  if type(o) ~= "table" then
    M.raisef("%s: expected a table of named arguments, got %s", what, type(o))
  end
  for _, a in ipairs(spec) do
    local name, ty, required = a[1], a[2], a[3]
    if o[name] == nil then
      if required then
        M.raisef("%s: missing argument %s=%s", what, name, extra and extra(name) or "")
      end
    else
      M.check_value(what, name, o[name], ty)
    end
  end
  return o
end

-- A timeout in milliseconds (nil: wait forever).
function M.timeout(what, t)
  if t ~= nil and type(t) ~= "number" then
    M.raisef("%s: the timeout must be a number of milliseconds, got %s", what, type(t))
  end
  return t or -1
end

return M
