-- syscount: count system calls by name (or by process with -P), for every
-- process or one, optionally only failed ones and with their total time;
-- print the busiest every interval, at the end of -d, or at Ctrl-C.
-- Flags and columns follow libbpf-tools' syscount.
--
--   luatrace -m syscount [-p PID] [-i SECONDS] [-d SECONDS] [-T TOP] [-x] [-e ERRNO] [-L] [-m] [-P]
--
-- Kernel side: bpf/syscount.bpf.c (tracepoints raw_syscalls:sys_enter/exit).
-- JSON: one object per report: {"time": "HH:MM:SS", "rows": [{"syscall"
-- (or "pid" and "comm" with -P), "count", "total_us" or "total_ms" with -L}]}.
local toolkit = require "luatrace.toolkit"
local syscalls = require "luatrace.syscalls"
local json = require "luatrace.json"

local function list_syscalls()
  local nr = 0
  local out = {}
  for i = 0, 1023 do
    local n = syscalls.name(i)
    if n and not n:match("^syscall_") then out[#out + 1] = ("%3d: %s"):format(i, n); nr = i end
  end
  io.stdout:write(table.concat(out, "\n"), "\n")
  return nr
end

local T
T = toolkit.define{
  name = "syscount",
  description = "Count system calls by name or process, with failures and latency",
  options = {
    toolkit.opt.pid,
    toolkit.opt.cgroup,
    { "-i", "--interval", type = "positive", metavar = "SECONDS", help = "print a summary every SECONDS" },
    toolkit.opt.duration,
    { "-T", "--top", type = "uint", default = 10, help = "print only the top N rows (0: all)" },
    { "-x", "--failures", type = "flag", help = "trace only failed syscalls" },
    { "-e", "--errno", type = "string", metavar = "ERRNO", help = "trace only syscalls failing with ERRNO (a number or a name like ENOENT)" },
    { "-L", "--latency", type = "flag", help = "collect syscall latency" },
    { "-m", "--milliseconds", type = "flag", help = "latency in milliseconds (default microseconds)" },
    { "-P", "--process", type = "flag", help = "count by process, not by syscall" },
    { "-l", "--list", type = "flag", help = "print the syscall list and exit" },
    toolkit.opt.comm,
  },
  validate = function(o)
    if o.errno and not toolkit.errno(o.errno) then return false, "unknown errno " .. o.errno end
    if o.name and #o.name > 15 then return false, "-n NAME: at most 15 characters (a task's comm)" end
    return true
  end,
  examples = {
    "luatrace -m syscount                 # count until Ctrl-C",
    "luatrace -m syscount -p 181 -d 5     # process 181, for 5 s",
    "luatrace -m syscount -x -i 1         # failed syscalls, every second",
    "luatrace -m syscount -L -P           # by process, with total time",
  },

  before_start = function(opts)
    if opts.list then list_syscalls(); return 0 end
  end,

  start = function(opts)
    local programs = opts.latency and { "sys_enter", "sys_exit" } or { "sys_exit" }
    local b = toolkit.open("syscount", opts, {
      measure_latency = opts.latency and true or false,
      filter_failed = opts.failures and true or false,
      filter_errno = opts.errno and toolkit.errno(opts.errno) or 0,
      by_process = opts.process and true or false,
      filter_comm = opts.name or "",
    }, programs)
    local running = { b = b }
    running.tables = { data = b.data }
    -- Rows since the last take, busiest first: {key, name, count,
    -- total_ns, comm}; take() clears the counts.
    local taken = {}  -- rows taken so far, by key: the base of totals()
    local function row(k, v)
      return { key = k, count = tonumber(v.count), total_ns = tonumber(v.total_ns),
        name = opts.process and ("%-6d %-15s"):format(k, v.comm) or syscalls.name(k), comm = v.comm }
    end
    function running.take()
      local rows = {}
      local t = b.data
      for k, v in t:items() do
        local r = row(k, v)
        rows[#rows + 1] = r
        local sum = taken[k] or { key = k, name = r.name, comm = r.comm, count = 0, total_ns = 0 }
        sum.count, sum.total_ns = sum.count + r.count, sum.total_ns + r.total_ns
        taken[k] = sum
      end
      t:clear()
      table.sort(rows, function(a, c)
        local ka, kc = opts.latency and a.total_ns or a.count, opts.latency and c.total_ns or c.count
        if ka ~= kc then return ka > kc end
        return a.name < c.name
      end)
      return rows
    end
    -- Totals since start, for --metrics: taken rows plus the map now.
    function running.totals()
      local sums = {}
      for k, r in pairs(taken) do sums[k] = { key = k, name = r.name, comm = r.comm, count = r.count, total_ns = r.total_ns } end
      for k, v in b.data:items() do
        local r = row(k, v)
        local sum = sums[k] or { key = k, name = r.name, comm = r.comm, count = 0, total_ns = 0 }
        sum.count, sum.total_ns = sum.count + r.count, sum.total_ns + r.total_ns
        sums[k] = sum
      end
      local list = {}
      for _, r in pairs(sums) do list[#list + 1] = r end
      return list
    end
    running.opts = opts
    return running
  end,

  main = function(opts, running)
    if not opts.json then
      io.stdout:write(("Tracing system calls%s%s... Ctrl-C to end.\n"):format(
        opts.pid and (" of pid " .. opts.pid) or "",
        opts.duration and (" for " .. opts.duration .. " s") or ""))
      io.stdout:flush()
    end
    local unit = opts.milliseconds and "ms" or "us"
    local div = opts.milliseconds and 1e6 or 1e3
    local col = opts.process and "PID    COMM" or "SYSCALL"
    local function report()
      local rows = running.take()
      local n = opts.top > 0 and math.min(opts.top, #rows) or #rows
      if opts.json then
        local out = {}
        for i = 1, n do
          local r = rows[i]
          local o = { count = r.count }
          if opts.process then o.pid, o.comm = r.key, r.comm else o.syscall = r.name end
          if opts.latency then o["total_" .. unit] = r.total_ns / div end
          out[i] = o
        end
        json.line({ time = os.date("%H:%M:%S"), rows = json.array(out) }, { "time", "rows" })
        io.stdout:flush()
        return
      end
      if opts.interval then print(("[%s]"):format(os.date("%H:%M:%S"))) end
      if opts.latency then
        print(("%-22s %10s %16s"):format(col, "COUNT", ("TIME (%s)"):format(unit)))
      else
        print(("%-22s %10s"):format(col, "COUNT"))
      end
      for i = 1, n do
        local r = rows[i]
        if opts.latency then
          print(("%-22s %10d %16.3f"):format(r.name, r.count, r.total_ns / div))
        else
          print(("%-22s %10d"):format(r.name, r.count))
        end
      end
      if opts.interval then print("") end
      io.stdout:flush()
    end
    toolkit.intervals(opts, running, report)
    return 0
  end,

  -- --metrics: totals since start (what was taken plus what the map holds).
  metrics = function(running)
    local out = {}
    for _, r in ipairs(running.totals()) do
      local labels = running.opts.process and { pid = r.key, comm = r.comm } or { syscall = r.name }
      out[#out + 1] = { name = "syscalls_total", help = "System calls", labels = labels, value = r.count }
      if running.opts.latency then
        out[#out + 1] = { name = "syscall_seconds_total", help = "Time spent in system calls",
          labels = labels, value = r.total_ns / 1e9 }
      end
    end
    return out
  end,
}

return T
