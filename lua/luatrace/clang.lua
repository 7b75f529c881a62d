-- luatrace.clang: which clang an on-demand compile runs: $LUATRACE_CLANG,
-- else "clang" in PATH, only when root may run it (the binary and the
-- directories of its name and of its real file owned by root or us and
-- writable by nobody else); identified by the path, size and mtime of
-- its binary, so a cache hit never runs it.
local core = require "luatrace.core"

local M = {}

local function fail(fmt, ...) error(fmt:format(...), 0) end

local clang_cache
-- Is the program at path one root may run: the binary, and the directory
-- of the name and of the file it resolves to, safe (host/safefs.c rules:
-- owned by root or us, nobody else can write them)? true | false, why
local function trusted_program(path)
  local real = core.realpath(path)
  if not real then return false, "cannot resolve it" end
  for _, p in ipairs({ path, real }) do
    local dir = core.realpath(p:match("^(.*)/[^/]*$") or ".")
    if not dir then return false, "its directory cannot be resolved" end
    local ok, why = core.safe_path_ok(dir == "" and "/" or dir)
    if not ok then return false, why end
  end
  local st = core.stat(real)
  if not st or (st.uid ~= 0 and st.uid ~= core.geteuid()) then
    return false, ("%s is owned by uid %s, not by root or you"):format(real, st and st.uid)
  end
  if bit.band(st.mode, 18) ~= 0 then
    return false, ("%s is writable by others (mode %o)"):format(real, st.mode)
  end
  return true
end

function M.find()
  if clang_cache then return clang_cache.path, clang_cache.id end
  local name = os.getenv("LUATRACE_CLANG")
  if not name or name == "" then name = "clang" end
  local path
  if name:find("/") then
    if core.stat(name) then
      local ok, why = trusted_program(name)
      if not ok then fail("compile BPF program: refusing to run %s: %s", name, why) end
      path = name
    end
  else
    -- PATH entries root should not run from (., a directory others can
    -- write, as sudo may keep a user's PATH) are passed over
    for dir in (os.getenv("PATH") or "/usr/bin:/bin"):gmatch("[^:]+") do
      local p = dir .. "/" .. name
      local st = core.stat(p)
      if st and not st.dir and dir:sub(1, 1) == "/" and trusted_program(p) then path = p; break end
    end
  end
  if not path then
    fail("compile BPF program: %s not found (install clang: apt-get install clang, or "
      .. "set LUATRACE_CLANG); AOT tools (luatrace -m ...) need no compiler", name)
  end
  -- follow a symlink chain to the real binary for its identity
  local real = core.realpath(path) or path
  local st = core.stat(real) or {}
  clang_cache = { path = path, id = ("%s:%s:%s"):format(real, st.size, st.mtime) }
  return path, clang_cache.id
end

return M
