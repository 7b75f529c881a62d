-- examples/execopens.lua: two tools on one loop; the opens of the
-- processes we start while it traces, and none of ours.
local core = require "luatrace.core"
local T = require "tool_helpers"
local me = core.getpid()

test("examples/execopens.lua: files opened by processes started while tracing", function()
  local file = unique_path("execopens")
  io.open(file, "w"):close()
  local missing = unique_path("execopens-missing")
  local pid
  local r = T.around({ ("exec %s %s 20 %d"):format(q(luatrace()), q(root .. "/examples/execopens.lua"), me) }, function()
    io.open(missing) -- ours: not started while tracing, never shown
    local code, out = core.exec({ "/bin/sh", "-c", 'echo $$; exec cat "$0" "$1"', file, missing })
    eq(code, 1, "cat fails on the missing file")
    pid = tonumber(out:match("^(%d+)\n"))
  end, 400)[1]
  os.remove(file)
  local lines = T.lines_with(r.out, "-execopens")
  eq(r.out:match("^[^\n]*"), ("%-6s %-16s %3s %3s %s"):format("PID", "COMM", "FD", "ERR", "PATH"))
  eq(lines[1], ("# %d sh: /bin/sh -c echo $$; exec cat \"$0\" \"$1\" %s %s"):format(pid, file, missing))
  eq(lines[2], ("# %d cat: /usr/bin/cat %s %s"):format(pid, file, missing))
  eq(lines[3], ("%-6d %-16s %3d %3d %s"):format(pid, "cat", 3, 0, file))
  eq(lines[4], ("%-6d %-16s %3d %3d %s"):format(pid, "cat", -1, 2, missing))
  eq(#lines, 4, r.out)
end)
