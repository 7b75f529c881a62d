-- bench/common.lua: what the benchmark drivers share (run.lua, tools.lua):
-- shell quoting, running a command for its output, the median.
--   local C = dofile(ROOT .. "/bench/common.lua")
local M = {}

function M.q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- A shell command's stdout and stderr together (BENCH_DEBUG=1 echoes it).
local DEBUG = os.getenv("BENCH_DEBUG")
function M.sh(cmd)
  if DEBUG then io.stderr:write("sh: ", cmd, "\n") end
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("*a")
  p:close()
  return out
end

function M.median(xs)
  local t = {}
  for _, x in ipairs(xs) do t[#t + 1] = x end
  table.sort(t)
  if #t == 0 then return nil end
  if #t % 2 == 1 then return t[(#t + 1) / 2] end
  return (t[#t / 2] + t[#t / 2 + 1]) / 2
end

return M
