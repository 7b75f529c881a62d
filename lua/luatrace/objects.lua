-- luatrace.objects: find and open AOT BPF objects (built by `make` from
-- bpf/*.bpf.c) wherever this luatrace runs from.
local core = require "luatrace.core"

local M = {}

local function exists(p)
  local f = io.open(p, "rb")
  if f then f:close() return true end
  return false
end

-- Directories searched, in order: $LUATRACE_BPF_DIR, next to the binary
-- (build/bpf in a source tree), and PREFIX/lib/luatrace/bpf relative to
-- PREFIX/bin/luatrace (installed, wherever PREFIX and DESTDIR put it).
function M.dirs()
  local dirs = {}
  local env = os.getenv("LUATRACE_BPF_DIR")
  if env and env ~= "" then dirs[#dirs + 1] = env end
  local exe = core.exe_path()
  local bindir = exe and exe:match("^(.*)/[^/]*$")
  if bindir then
    dirs[#dirs + 1] = bindir .. "/bpf"
    dirs[#dirs + 1] = bindir .. "/../lib/luatrace/bpf"
  end
  return dirs
end

-- Path of NAME.bpf.o, or an error naming where it looked.
function M.find(name)
  if name:find("/") then return name end
  local file = name:match("%.o$") and name or (name .. ".bpf.o")
  local tried = {}
  for _, d in ipairs(M.dirs()) do
    local p = d .. "/" .. file
    if exists(p) then
      -- root loads it: nobody else may be able to replace it
      local real = core.realpath(d)
      local safe, why = core.safe_path_ok(real or d)
      if not safe then
        error(("find BPF object %s: refusing %s: %s"):format(file, d, why), 0)
      end
      return p
    end
    tried[#tried + 1] = d
  end
  error(("find BPF object %s: not in %s (run make?)"):format(file,
    table.concat(tried, ", ")), 2)
end

-- Open (not load) an AOT object by name or path.
function M.open(name)
  return core.open_file(M.find(name))
end

return M
