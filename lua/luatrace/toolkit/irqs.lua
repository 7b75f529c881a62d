-- luatrace.toolkit.irqs: what hardirqs and softirqs share: options, the
-- kernel side's mode globals, and their reports (a NAME TOTAL_x table, or
-- one log2 histogram per name with -d), as libbpf-tools print them.
-- Rows come from rows() -> { {name=, count=, slots={[0]=...}}, ... }
-- (and clear the counts).
local json = require "luatrace.json"
local hist = require "luatrace.hist"
local report = require "luatrace.toolkit.report"

local M = {}

function M.options(extra)
  local o = {
    { "-C", "--count", type = "flag", help = "show event counts instead of timing" },
    { "-d", "--distributed", type = "flag", help = "show distributions as histograms" },
    { "-T", "--timestamp", type = "flag", help = "include a timestamp on output" },
    { "-N", "--nanoseconds", type = "flag", help = "output in nanoseconds" },
  }
  for _, x in ipairs(extra or {}) do o[#o + 1] = x end
  o[#o + 1] = { "interval", positional = true, type = "positive", help = "output interval, in seconds" }
  o[#o + 1] = { "count", positional = true, type = "uint", key = "times", help = "number of outputs" }
  return o
end

function M.validate(o)
  if o.count and o.distributed then return false, "-C and -d are exclusive" end
  return true
end

function M.globals(opts)
  return { targ_count = opts.count and true or false, targ_dist = opts.distributed and true or false,
           targ_ns = opts.nanoseconds and true or false }
end

-- kind: "hard" or "soft"; width: the name column (26 or 16).
function M.main(opts, running, kind, width)
  local unit = opts.nanoseconds and "nsecs" or "usecs"
  local title = ("Tracing %s irq event%s... Hit Ctrl-C to end."):format(kind,
    opts.count and "s" or " time")
  if opts.json then io.stderr:write(title, "\n") else print(title) end
  io.stdout:flush()
  local label = kind .. "irq"
  -- intervals() counts reports in opts.count: give it the positional one
  local iopts = setmetatable({ count = opts.times }, { __index = opts })
  report.intervals(iopts, running, function()
    local rows = running.rows()
    if opts.json then
      local list = {}
      for _, r in ipairs(rows) do
        if opts.distributed then
          local h = report.hist_json({ key = r.name, slots = r.slots, total = r.count }, unit, label)
          list[#list + 1] = h
        else
          list[#list + 1] = { [label] = r.name, [opts.count and "count" or ("total_" .. unit)] = r.count }
        end
      end
      json.line({ time = os.date("%H:%M:%S"), [label .. "s"] = json.array(list) },
        { "time", label .. "s", label, "count", "total_usecs", "total_nsecs", "unit", "total", "buckets", "low", "high" })
    else
      print("")
      if opts.timestamp then print(("%-8s"):format(os.date("%H:%M:%S"))) end
      if not opts.distributed then
        if opts.count then print(("%-" .. width .. "s %11s"):format(label:upper(), "TOTAL_count"))
        else print(("%-" .. width .. "s %6s%5s"):format(label:upper(), "TOTAL_", unit)) end
        for _, r in ipairs(rows) do print(("%-" .. width .. "s %11d"):format(r.name, r.count)) end
      else
        for _, r in ipairs(rows) do
          print(("%s = %s"):format(label, r.name))
          for _, l in ipairs(hist.libbpf_log2_lines(r.slots, unit)) do print(l) end
          if kind == "soft" then print("") end
        end
      end
    end
    io.stdout:flush()
  end)
  return 0
end

-- Rows of an info map (key -> {count, slots}), names by name_of(key),
-- skipping empty ones; the map is cleared.
function M.read(t, name_of, nslots)
  local rows = {}
  for k, v in t:items() do
    local slots, any = {}, tonumber(v.count) > 0
    for i = 0, nslots - 1 do
      slots[i] = tonumber(v.slots[i])
      if slots[i] > 0 then any = true end
    end
    if any then rows[#rows + 1] = { name = name_of(k), count = tonumber(v.count), slots = slots, key = k } end
  end
  t:clear()
  return rows
end

return M
