-- bt_opens.lua: a bpftrace program driven from Lua. bpftrace counts
-- openat() calls by file name and reports each failed one with printf;
-- Lua receives those lines as a callback, reads the count map as a Lua
-- table every interval, ranks what changed, and decides when to stop.
--
--   luatrace examples/bt_opens.lua [INTERVAL_S [COUNT [TOP]]]
--   luatrace -p PID examples/bt_opens.lua 1 5     one process, 5 intervals
--   luatrace -c 'make -j2' examples/bt_opens.lua  a command, until it exits
--
-- COUNT 0 (the default) runs until Ctrl-C or the target's exit.
local lt = require "luatrace"

local interval = tonumber(arg[1] or 1)
local count = tonumber(arg[2] or 0)
local top = tonumber(arg[3] or 10)

-- $1: the process to watch (0: every process)
local p = lt.bpftrace([[
tracepoint:syscalls:sys_enter_openat /$1 == 0 || pid == $1/
{
  @opens[str(args->filename)] = count();
  @fname[tid] = args->filename;
}
tracepoint:syscalls:sys_exit_openat /@fname[tid] != 0/
{
  if (args->ret < 0) { printf("%d %s\n", - args->ret, str(@fname[tid])); }
  delete(@fname[tid]);
}
]], { args = { lt.target_pid or 0 }, out = function() end })

local failed = {}
p:on_printf(function(line)
  local errno, name = line:match("^(%d+) (.*)\n$")
  failed[#failed + 1] = { name = name, errno = tonumber(errno) }
end)

print(("Tracing openat() of %s with a bpftrace program; Ctrl-C to end.")
  :format(lt.target_pid and ("PID " .. lt.target_pid) or "all processes"))
io.stdout:flush()

local errnames = { [2] = "ENOENT", [13] = "EACCES", [20] = "ENOTDIR", [21] = "EISDIR", [24] = "EMFILE" }
local seen, n_intervals = {}, 0

-- What changed since the last report, from the map as a Lua table.
local function report()
  local rows, total = {}, 0
  for name, n in pairs(p.maps["@opens"] or {}) do
    local d = n - (seen[name] or 0)
    seen[name] = n
    if d > 0 then rows[#rows + 1] = { name = name, n = d }; total = total + d end
  end
  table.sort(rows, function(a, b) return a.n > b.n or (a.n == b.n and a.name < b.name) end)
  n_intervals = n_intervals + 1
  print(("-- interval %d: %d opens of %d files, %d failed"):format(n_intervals, total, #rows, #failed))
  for i = 1, math.min(top, #rows) do print(("%6d  %s"):format(rows[i].n, rows[i].name)) end
  for _, f in ipairs(failed) do
    print(("failed  %s  %s"):format(errnames[f.errno] or ("errno " .. f.errno), f.name))
  end
  failed = {}
  io.stdout:flush()
end

local next_ns = lt.core.monotonic_ns() + interval * 1e9
p:run{ until_fn = function()
  if lt.core.monotonic_ns() < next_ns then return false end
  next_ns = next_ns + interval * 1e9
  report()
  return count > 0 and n_intervals >= count
end }
