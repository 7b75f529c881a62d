-- runqlen: sample the CPU run queue length as a histogram (or its
-- occupancy, -O), with libbpf-tools' flags and output.
--
-- Kernel side: bpf/runqlen.bpf.c on a software cpu-clock perf event per
-- CPU at -f Hz (default 99). JSON: per report {"time", "cpus": [{"cpu"
-- (with -C), "runqlen": [{"len", "count"}...] or "runqocc" (percent, -O)}]}.
local toolkit = require "luatrace.toolkit"
local hist = require "luatrace.hist"
local json = require "luatrace.json"
local core = require "luatrace.core"

local SLOTS = 32

local T = {
  name = "runqlen",
  description = "Summarize scheduler run queue length as a histogram",
  options = {
    { "-C", "--cpus", type = "flag", help = "print output for each CPU separately" },
    { "-f", "--frequency", type = "positive", default = 99, help = "sample with a certain frequency" },
    { "-O", "--runqocc", type = "flag", help = "report run queue occupancy" },
    { "-T", "--timestamp", type = "flag", help = "include a timestamp on output" },
    toolkit.opt.interval, toolkit.opt.count,
  },

  start = function(opts)
    local b = toolkit.open("runqlen", opts, { targ_per_cpu = opts.cpus and true or false })
    local ok, err = pcall(b.attach_perf_event, b, { ev_type = 1, ev_config = 0,
      fn_name = "do_sample", sample_freq = opts.frequency })
    if not ok then b:cleanup(); error(err, 0) end
    local running = { b = b, tables = { hists = b.hists } }
    local ncpu = opts.cpus and core.online_cpus and #core.online_cpus() or 1
    -- {cpu=, slots={[0]=...}} per CPU (or one), and zero them
    function running.take()
      local out = {}
      for cpu = 0, (opts.cpus and ncpu or 1) - 1 do
        local v = b.hists[cpu]
        local slots = {}
        for i = 0, SLOTS - 1 do slots[i] = tonumber(v.slots[i]) end
        out[#out + 1] = { cpu = cpu, slots = slots }
      end
      b.hists:clear()
      return out
    end
    return running
  end,
}

local function occupancy(slots)
  local idle, queued = slots[0], 0
  for i = 1, SLOTS - 1 do queued = queued + slots[i] end
  return 100 * queued / math.max(1, idle + queued)
end

function T.main(opts, running)
  if opts.json then io.stderr:write("Sampling run queue length... Hit Ctrl-C to end.\n")
  else print("Sampling run queue length... Hit Ctrl-C to end.") end
  io.stdout:flush()
  toolkit.intervals(opts, running, function()
    local hs = running.take()
    if opts.json then
      local list = {}
      for i, h in ipairs(hs) do
        local o = { cpu = opts.cpus and h.cpu or nil }
        if opts.runqocc then
          o.runqocc = occupancy(h.slots)
        else
          local rows = {}
          for s = 0, SLOTS - 1 do
            if h.slots[s] > 0 then rows[#rows + 1] = { len = s, count = h.slots[s] } end
          end
          o.runqlen = json.array(rows)
        end
        list[i] = o
      end
      json.line({ time = os.date("%H:%M:%S"), cpus = json.array(list) },
        { "time", "cpus", "cpu", "runqlen", "runqocc", "len", "count" })
    else
      print("")
      if opts.timestamp then print(("%-8s"):format(os.date("%H:%M:%S"))) end
      for _, h in ipairs(hs) do
        if opts.runqocc then
          if opts.cpus then print(("runqocc, CPU %-3d %6.2f%%"):format(h.cpu, occupancy(h.slots)))
          else print(("runqocc: %0.2f%%"):format(occupancy(h.slots))) end
        else
          if opts.cpus then print(("cpu = %d"):format(h.cpu)) end
          for _, l in ipairs(hist.libbpf_linear_lines(h.slots, "runqlen")) do print(l) end
        end
      end
    end
    io.stdout:flush()
  end)
  return 0
end

return toolkit.define(T)
