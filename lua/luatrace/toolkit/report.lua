-- luatrace.toolkit.report: how tools print: the default event printer,
-- timestamps, interval reports, log2 histograms (text as libbpf-tools, JSON,
-- metrics).
local json = require "luatrace.json"
local loop = require "luatrace.loop"

local M = {}
-- Timestamps as BCC prints them: -T wall clock HH:MM:SS, -t seconds since
-- the tool started (from the event's monotonic ns when it has one).
function M.clock()
  local core = require "luatrace.core"
  local start = core.monotonic_ns()
  return {
    time = function() return os.date("%H:%M:%S") end,
    elapsed = function(ns) return ((ns or core.monotonic_ns()) - start) / 1e9 end,
  }
end

-- The printer of the default main: header once, then a line (text) or a
-- JSON object (--json) per record. def.header(opts) and def.text(rec,
-- opts) give the text; def.fields orders the JSON keys.
function M.printer(def, opts, out)
  out = out or io.stdout
  local p = {}
  function p.header()
    if opts.json then
      -- stdout carries only JSON; say on stderr that tracing has begun
      io.stderr:write(("Tracing %s... Ctrl-C to end.\n"):format(def.name))
      io.stderr:flush()
      return
    end
    if not def.header then return end
    local h = def.header(opts)
    if h then out:write(h, "\n"); out:flush() end
  end
  function p.event(rec)
    if opts.json then
      json.line(rec, def.fields, out)
    else
      local line = def.text(rec, opts)
      if line then out:write(line, "\n") end
    end
    out:flush()
  end
  return p
end


-- Read and clear a map of log2 histograms (key -> struct with `slots`
-- [and `comm`]): an array of {key=, slots={[0]=count...}, total=, comm=},
-- sorted by key. nslots: the slots array's length.
-- keyfn(k) -> a sortable key (for struct keys; default: k itself) and a
-- table of fields the JSON object gets (h.extra).
local function read_hists(t, nslots, keyfn)
  local out = {}
  for k, v in t:items() do
    local extra
    if keyfn then k, extra = keyfn(k) end
    local slots, total = {}, 0
    for i = 0, nslots - 1 do
      local c = tonumber(v.slots[i])
      slots[i] = c
      total = total + c
    end
    local ok, comm = pcall(function() return v.comm end)
    out[#out + 1] = { key = k, slots = slots, total = total, comm = ok and comm or nil, extra = extra }
  end
  table.sort(out, function(a, b) return a.key < b.key end)
  return out
end

function M.take_hists(t, nslots, keyfn)
  local out = read_hists(t, nslots, keyfn)
  t:clear()
  return out
end

-- A histogram map read two ways: take() for reports (clears the map) and
-- totals() for --metrics (everything since start, taken or not, so a
-- scrape never steals counts from a report).
function M.hist_source(t, nslots, keyfn)
  local acc = {} -- key -> histogram summed over what take() returned
  local src = {}
  local function add(into, h)
    local a = into[h.key]
    if not a then
      a = { key = h.key, comm = h.comm, extra = h.extra, slots = {}, total = 0 }
      for i = 0, nslots - 1 do a.slots[i] = 0 end
      into[h.key] = a
    end
    for i = 0, nslots - 1 do a.slots[i] = a.slots[i] + h.slots[i] end
    a.total = a.total + h.total
  end
  function src.take()
    local hs = M.take_hists(t, nslots, keyfn)
    for _, h in ipairs(hs) do add(acc, h) end
    return hs
  end
  function src.totals()
    local sum = {}
    for _, h in pairs(acc) do add(sum, h) end
    for _, h in ipairs(read_hists(t, nslots, keyfn)) do add(sum, h) end
    local out = {}
    for _, h in pairs(sum) do out[#out + 1] = h end
    table.sort(out, function(a, b) return a.key < b.key end)
    return out
  end
  return src
end

-- One histogram as JSON: {[label]=key, comm=, unit=, total=, buckets=[{low,
-- high, count}...]} up to the last non-empty slot (libbpf-tools' buckets).
function M.hist_json(h, unit, label)
  local last = -1
  for i = 0, #h.slots do if (h.slots[i] or 0) > 0 then last = i end end
  local buckets = {}
  for i = 0, last do
    local low, high = 2 ^ i, 2 ^ (i + 1) - 1
    if low == high then low = 0 end
    buckets[#buckets + 1] = { low = low, high = high, count = h.slots[i] }
  end
  local o = { unit = unit, total = h.total, buckets = json.array(buckets) }
  if label then o[label] = h.key end
  if h.comm and h.comm ~= "" then o.comm = h.comm end
  for k, v in pairs(h.extra or {}) do o[k] = v end
  return o
end

M.HIST_ORDER = { "time", "hists", "pid", "tid", "pidns", "comm", "disk", "flags", "unit", "total", "buckets",
  "low", "high", "count" }

-- The main of a histogram tool, as libbpf-tools' runqlat/cpudist/
-- biolatency print: a title, then every interval (or at the end) an empty
-- line, the time with -T, and each histogram (under "LABEL = KEY COMM"
-- when keyed); running.take() reads and clears them. JSON: one object per
-- report: {"time", "hists": [toolkit.hist_json(...)...]}.
--   o: title, unit, label (nil: one histogram), key_line(h) (optional)
function M.hist_main(opts, running, o)
  local hist = require "luatrace.hist"
  if opts.json then
    io.stderr:write(o.title, "\n")
  else
    print(o.title)
  end
  io.stdout:flush()
  return M.intervals(opts, running, function()
    local hs = running.take()
    if opts.json then
      local list = {}
      for i, h in ipairs(hs) do list[i] = M.hist_json(h, o.unit, o.label) end
      json.line({ time = os.date("%H:%M:%S"), hists = json.array(list) }, M.HIST_ORDER)
    else
      print("")
      if opts.timestamp then print(("%-8s"):format(os.date("%H:%M:%S"))) end
      for _, h in ipairs(hs) do
        if o.key_line then print(o.key_line(h))
        elseif o.label then print(("\n%s = %d %s"):format(o.label, h.key, h.comm or "")) end
        for _, l in ipairs(hist.libbpf_log2_lines(h.slots, o.unit)) do print(l) end
      end
    end
    io.stdout:flush()
  end)
end

-- metrics() of a histogram tool: one Prometheus histogram per key, from
-- hist_source totals. libbpf-tools' slot i ([2^i, 2^(i+1) - 1]) is
-- luatrace.metrics' log2 slot i + 1; scale turns the unit into the
-- metric's (1e-6: microseconds to seconds). labelfn(h) -> labels.
function M.hist_metrics(name, help, hs, scale, labelfn)
  local out = {}
  for _, h in ipairs(hs) do
    local slots = {}
    for i, c in pairs(h.slots) do slots[i + 1] = c end
    out[#out + 1] = { name = name, type = "histogram", help = help, kind = "log2",
      scale = scale, slots = slots, labels = labelfn and labelfn(h) or {} }
  end
  return out
end

-- Interval reports, as libbpf-tools do them: report() every `interval`
-- seconds, `count` times (nil or 0: no limit); the run also ends at
-- -d/--duration or Ctrl-C, and then reports once more (without an
-- interval, that is the only report); how.final == false leaves that
-- last report out (vfsstat, cachestat: libbpf-tools' just exit). Returns
-- false after a signal.
function M.intervals(opts, running, report, how)
  local l = loop.new()
  l:add(running)
  if opts.metrics then require("luatrace.metrics").serve_running(running, opts.metrics, l) end
  local n, done = 0, false
  if opts.interval then
    l:every(opts.interval * 1000, function()
      report()
      n = n + 1
      if opts.count and opts.count > 0 and n >= opts.count then done = true; l:stop() end
    end)
  end
  local ok = l:run{ duration_ms = opts.duration and opts.duration * 1000 }
  if not done and not (how and how.final == false) then report() end
  l:close()
  return ok
end

return M
