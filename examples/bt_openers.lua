-- examples/bt_openers.lua: a bpftrace program inside a Lua script. The
-- kernel side is bpftrace (one line); Lua takes its printf lines as they
-- come and its map as a table at the end, and decides what to show: here
-- the processes that opened the most files, with the share of each.
--
--   luatrace examples/bt_openers.lua [seconds]
local bt = require "luatrace.bpftrace"

local seconds = tonumber(arg and arg[1]) or 5
local p = bt.load([[
tracepoint:syscalls:sys_enter_openat { @opens[comm] = count(); }
tracepoint:syscalls:sys_enter_openat /str(args->filename) == "/etc/passwd"/ {
  printf("%s (%d) read the user database\n", comm, pid);
}]], { out = function() end, print_maps = false })

local alerts = 0
p:on_printf(function(line)
  alerts = alerts + 1
  io.write("alert: ", line)
end)
p:run { duration_ms = seconds * 1000 }

local rows, total = {}, 0
for comm, n in pairs(p.maps["@opens"] or {}) do
  rows[#rows + 1] = { comm, n }
  total = total + n
end
table.sort(rows, function(a, b) return a[2] > b[2] end)
print(("%d opens in %d s, %d alerts"):format(total, seconds, alerts))
for i = 1, math.min(5, #rows) do
  print(("%-16s %6d %5.1f%%"):format(rows[i][1], rows[i][2], 100 * rows[i][2] / total))
end
