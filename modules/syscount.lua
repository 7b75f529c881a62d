-- syscount: count system calls by name, for every process or one, and
-- print the busiest after an interval (or at Ctrl-C).
--
--   luatrace -m syscount [SECONDS] [-p PID] [-n TOP]
--
-- Kernel side: bpf/syscount.bpf.c (a per-CPU array indexed by syscall
-- number on raw_tracepoint sys_enter), compiled ahead of time.
local lt = require "luatrace"
local syscalls = require "luatrace.syscalls"

local M = {}

local USAGE = "usage: luatrace -m syscount [SECONDS] [-p PID] [-n TOP]"

function M.parse(args)
  local o = { seconds = nil, pid = 0, top = 20 }
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "-p" or a == "-n" then
      local v = tonumber(args[i + 1])
      if not v or v < 0 or v % 1 ~= 0 then
        error(("syscount: %s needs a whole number (%s)"):format(a, USAGE), 0)
      end
      if a == "-p" then o.pid = v else o.top = v end
      i = i + 2
    elseif a == "-h" or a == "--help" then
      o.help = true
      i = i + 1
    elseif tonumber(a) and tonumber(a) > 0 and not o.seconds then
      o.seconds = tonumber(a)
      i = i + 1
    else
      error(("syscount: unexpected argument %s (%s)"):format(a, USAGE), 0)
    end
  end
  return o
end

-- Counts by syscall number, summed over CPUs: { {nr, name, count}, ... }
-- sorted by count, then name.
function M.collect(obj)
  local rows = {}
  for _, kv in ipairs(lt.maps.read(obj, obj:map("syscall_counts"))) do
    local total = 0
    for _, c in ipairs(kv[2]) do total = total + c end
    if total > 0 then rows[#rows + 1] = { kv[1], syscalls.name(kv[1]), total } end
  end
  table.sort(rows, function(a, b)
    if a[3] ~= b[3] then return a[3] > b[3] end
    return a[2] < b[2]
  end)
  return rows
end

function M.main(...)
  local opt = M.parse({ ... })
  if opt.help then print(USAGE) return end
  local obj = lt.objects.open("syscount")
  obj:set_global("target_pid", opt.pid)
  obj:load()
  local link = lt.core.attach_raw_tracepoint(obj, "count_sys_enter", "sys_enter")
  io.stdout:write(("Tracing system calls%s%s... Ctrl-C to end.\n"):format(
    opt.pid > 0 and (" of pid " .. opt.pid) or "",
    opt.seconds and (" for " .. opt.seconds .. " s") or ""))
  io.stdout:flush()
  lt.sleep(opt.seconds and opt.seconds * 1000 or -1)
  link:close()
  local rows = M.collect(obj)
  print(("%-22s %10s"):format("SYSCALL", "COUNT"))
  for i = 1, math.min(opt.top, #rows) do
    print(("%-22s %10d"):format(rows[i][2], rows[i][3]))
  end
  obj:close()
end

return M
