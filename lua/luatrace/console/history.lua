-- luatrace.console.history: the console's history file.
--
-- One line per entry, appended as each line is entered (a killed session
-- keeps what was typed), the last M.keep kept. The file is
-- $LUATRACE_HISTORY, else ~/.luatrace_history in the home of the user
-- luatrace runs as; a HOME owned by someone else (sudo keeping HOME) gets
-- no history rather than a root-owned file. host/lineedit.c checks the
-- file itself (owner, mode, no symlink, a private directory).
local core = require "luatrace.core"

local le = core.lineedit

local M = {}
M.keep = 1000

function M.path()
  local p = os.getenv("LUATRACE_HISTORY")
  if p and p ~= "" then return p end
  local home = os.getenv("HOME")
  if not home or home == "" then return nil end
  local st = core.stat(home)
  if not st or not st.dir or st.uid ~= core.geteuid() then return nil end
  return (home:gsub("/+$", "")) .. "/.luatrace_history"
end

local function warn(msg)
  io.stderr:write("luatrace: history ", msg, "\n")
end

-- Load the file into the line editor; returns the history object.
function M.open()
  local self = { path = M.path(), last = nil }
  if self.path then
    local lines, err = le.history_load(self.path)
    if err then
      warn(err)
      self.path = nil
    elseif lines then
      local first = math.max(1, #lines - M.keep + 1)
      for i = first, #lines do le.add_history(lines[i]) end
      self.last = lines[#lines]
      if first > 1 then -- trim the file to what is kept
        le.history_write(self.path, table.concat(lines, "\n", first) .. "\n", false)
      end
    end
  end
  function self.add(h, line)
    if not h.path or line == h.last or line:find("\n", 1, true) then return end
    h.last = line
    local ok, e = le.history_write(h.path, line .. "\n", true)
    if not ok then warn(e); h.path = nil end
  end
  return self
end

return M
