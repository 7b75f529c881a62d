-- luatrace.files: the one reader of a small file's whole text (/proc and
-- /sys facts, installed headers, program text named on the command line).
-- Code the process loads from the compile cache goes through checked
-- directory fds instead (cache.lua, host/safedir.c), never through here.
local M = {}

-- The file's bytes, or nil and the reason.
function M.read(path)
  local fh, err = io.open(path, "rb")
  if not fh then return nil, err end
  local s = fh:read("*a")
  fh:close()
  return s
end

return M
