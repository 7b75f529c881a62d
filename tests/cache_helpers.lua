-- tests/cache_helpers.lua: a private compile cache and a clang wrapper
-- that logs every run, for the cache tests (loaded with dofile).
local H = require "helpers"
local q, sh = H.q, H.sh
local C = {}

-- A new 0700 directory with the wrapper and `script` (Lua text) as
-- prog.lua: returns dir, the wrapper's log, the wrapper, the script path.
function C.setup(script_text)
  local dir = os.tmpname(); os.remove(dir)
  os.execute("mkdir -m 700 " .. q(dir))
  local log = dir .. "/clang.log"
  local wrapper = dir .. "/clang-wrapper"
  local fh = io.open(wrapper, "w")
  fh:write(("#!/bin/sh\necho run >> %s\nexec clang \"$@\"\n"):format(q(log)))
  fh:close()
  os.execute("chmod 755 " .. q(wrapper))
  local script = dir .. "/prog.lua"
  fh = io.open(script, "w"); fh:write(script_text); fh:close()
  return dir, log, wrapper, script
end

-- How many times the wrapper ran clang.
function C.runs(log)
  local fh = io.open(log)
  if not fh then return 0 end
  local n = select(2, fh:read("*a"):gsub("run\n", ""))
  fh:close()
  return n
end

-- Run the script with the cache in dir and clang through wrapper; extra
-- is appended to the command line (arguments), env put before it.
function C.run(dir, wrapper, script, extra, env)
  return sh(("LUATRACE_CACHE_DIR=%s LUATRACE_CLANG=%s %s %s %s %s"):format(
    q(dir .. "/cache"), q(wrapper), env or "", q(H.luatrace()), q(script), extra or ""))
end

return C
