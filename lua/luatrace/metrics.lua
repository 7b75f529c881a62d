-- luatrace.metrics (lt.metrics): tables as Prometheus/OpenMetrics metrics,
-- served over HTTP from the process's event loop (as ebpf_exporter does).
--
--   local reg = lt.metrics.new()
--   reg:counter{ name = "opens_total", help = "open() calls", table = b.counts,
--                labels = { "comm" } }                  -- key (or its fields) -> labels
--   reg:gauge{ name = "queue_depth", help = "...", table = b.depth, labels = { "cpu" } }
--   reg:histogram{ name = "read_latency_seconds", help = "...", table = b.dist,
--                  kind = "log2", scale = 1e-9 }     -- BCC log2 slots -> le buckets
--   reg:collect(function() return { {name=, type=, help=, labels=, value=}, ... } end)
--   local srv = reg:serve(":9100", L)               -- L: a luatrace.loop
--   reg:text("openmetrics" | "0.0.4")             -- the exposition text
--
-- Families are declared once (name, help, type, label names); samples come
-- from tables at each scrape. Table values are read as they are (BPF maps
-- count up: counters are cumulative); per-CPU values are summed.
-- Labels: `labels` names them; a scalar key gives the first label, a struct
-- key gives one label per name from the field of that name (or `fields`,
-- the struct fields in label order); `label_fn(key)` -> array of values
-- overrides both (e.g. syscall number -> name).
-- Histograms: kind "log2" (BCC's slots: slot i holds [2^(i-1), 2^i - 1],
-- slot 0 holds 0: le = (2^i - 1) * scale; libbpf-tools' slot i is slot
-- i + 1 here) or "linear" (slot i holds [i*step, (i+1)*step - 1]: le =
-- ((i+1)*step - 1) * scale); a struct key {bucket, slot} adds the
-- bucket as the first label. Buckets only grow (the highest slot seen
-- stays), _count is the total. _sum is exact with `sum` (a table whose
-- values add up to the sum, or a function returning it per label set) and
-- otherwise estimated from slot midpoints.
--
-- Collectors (tool --metrics hooks) return samples each scrape:
-- { name=, type = "counter" (default) | "gauge" | "histogram", help=,
--   labels = {name = value}, value= }; counters and gauges carry their
-- current value (a counter: the total since start, so several readers of
-- one tool never steal counts from each other; a sample not returned again
-- keeps its last value). Histograms: { type = "histogram", kind=, step=,
-- scale=, slots = {[slot] = count since start}, sum= }.
-- The text itself is written by luatrace.exposition.
local exposition = require "luatrace.exposition"

local M = {}

M.CONTENT_TYPE_004 = exposition.CONTENT_TYPE_004
M.CONTENT_TYPE_OM = exposition.CONTENT_TYPE_OM
M.negotiate = exposition.negotiate

local Registry = {}
Registry.__index = Registry

function M.new(opts)
  opts = opts or {}
  return setmetatable({ families = {}, order = {}, collectors = {},
                        prefix = opts.namespace and (opts.namespace .. "_") or "" }, Registry)
end

-- ---- declarations ----
-- (counter/gauge/histogram tail-call _add, so error levels count from it)

local function check_name(name, what)
  if type(name) ~= "string" or not name:match("^[%a_:][%w_:]*$") then
    error(("metrics: %s %s is not a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)"):format(what, tostring(name)), 4)
  end
end

local function check_labels(labels, name)
  for _, l in ipairs(labels or {}) do
    if type(l) ~= "string" or not l:match("^[%a_][%w_]*$") or l:match("^__") or l == "le" then
      error(("metrics: %s: label name %s is not valid ([a-zA-Z_][a-zA-Z0-9_]*, not le, not __*)")
        :format(name, tostring(l)), 4)
    end
  end
end

-- A family: name (a counter's without its _total suffix), type, help,
-- label names; `values` (counters, gauges) and `hist` (histograms) hold
-- what the last scrape found, by label set.
function Registry:_family(spec, mtype)
  local name = self.prefix .. tostring(spec.name)
  check_name(name, mtype)
  check_labels(spec.labels, name)
  local base = mtype == "counter" and name:gsub("_total$", "") or name
  local f = self.families[base]
  if f then
    if f.type ~= mtype then
      error(("metrics: %s declared as %s and %s"):format(base, f.type, mtype), 3)
    end
    return f
  end
  f = { name = base, type = mtype, help = spec.help or base:gsub("_", " "), labels = spec.labels or {},
        sources = {}, values = {}, hist = {} }
  self.families[base] = f
  self.order[#self.order + 1] = base
  return f
end

function Registry:_add(spec, mtype)
  if type(spec) ~= "table" then error("metrics: declare a metric with a table {name=, help=, ...}", 2) end
  local f = self:_family(spec, mtype)
  if spec.table or spec.value then f.sources[#f.sources + 1] = spec end
  return f
end

function Registry:counter(spec) return self:_add(spec, "counter") end
function Registry:gauge(spec) return self:_add(spec, "gauge") end
function Registry:histogram(spec)
  if spec.kind ~= nil and spec.kind ~= "log2" and spec.kind ~= "linear" then
    error(("metrics: histogram %s: kind is log2 or linear"):format(tostring(spec.name)), 2)
  end
  return self:_add(spec, "histogram")
end

-- Samples from a function each scrape (see the header for their shape).
function Registry:collect(fn)
  self.collectors[#self.collectors + 1] = fn
end

-- ---- reading ----

local function total_of(v)
  if type(v) ~= "table" then return v end
  local s = 0
  for _, x in ipairs(v) do s = s + x end
  return s
end

-- One string per label set (the key of values/hist).
local function label_id(values, n)
  local t = {}
  for i = 1, n do t[i] = tostring(values[i]) end
  return table.concat(t, "\0")
end

-- Label values of a table key.
local function key_labels(spec, key)
  if spec.label_fn then return spec.label_fn(key) end
  local names = spec.labels or {}
  if #names == 0 then return {} end
  if type(key) ~= "cdata" or tonumber(key) then return { key } end
  local out = {}
  for i, n in ipairs(names) do
    local field = spec.fields and spec.fields[i] or n
    local ok, v = pcall(function() return key[field] end)
    if not ok then
      error(("metrics: %s: the table's key has no field %s (name fields with fields = {...})")
        :format(spec.name, field), 0)
    end
    out[i] = v
  end
  return out
end

-- Slot i's values: [low, high] before scaling.
local function slot_range(kind, i, step)
  if kind == "linear" then return i * step, (i + 1) * step - 1 end
  if i == 0 then return 0, 0 end
  return 2 ^ (i - 1), 2 ^ i - 1
end

-- v in the scale's unit: 15 us is 1.5e-05 s, not 15 * 1e-6 (which prints
-- as 1.4999999999999999e-05), so a scale that is 1/N divides by N.
local function scaled(v, scale)
  scale = scale or 1
  local inv = 1 / scale
  local n = math.floor(inv + 0.5)
  if scale < 1 and math.abs(inv - n) < 1e-6 * n then return v / n end
  return v * scale
end

local function slot_le(kind, i, spec)
  local _, high = slot_range(kind, i, spec.step or 1)
  return scaled(high, spec.scale)
end

local function slot_mid(kind, i, spec)
  local low, high = slot_range(kind, i, spec.step or 1)
  return scaled((low + high) / 2, spec.scale)
end

-- A histogram's state for a label set: slots (counts since start), the
-- highest slot ever seen (buckets only grow), sum.
local function set_slots(f, labels, spec, slots, sum)
  local id = label_id(labels, #f.labels)
  local h = f.hist[id] or { labels = labels, max = -1, kind = spec.kind or "log2", spec = spec }
  f.hist[id] = h
  h.slots, h.sum = slots, 0
  for s, n in pairs(slots) do
    if s > h.max then h.max = s end
    h.sum = h.sum + n * slot_mid(h.kind, s, spec)
  end
  if type(sum) == "number" then h.sum = sum end
end

-- A histogram table: slots by label set (a struct key {bucket, slot} adds
-- the bucket as the first label).
local function read_histogram(f, spec)
  local by = {}
  for _, e in ipairs(spec.table:entries()) do
    local k, labels, slot = e[1], {}, nil
    if type(k) == "cdata" and not tonumber(k) then
      if #f.labels == 0 then
        error(("metrics: histogram %s: its key has a bucket: name its label (labels = {\"name\"})")
          :format(f.name), 0)
      end
      local names = spec.fields or { "bucket", "slot" }
      local ok, b, s = pcall(function() return k[names[1]], k[names[2]] end)
      if not ok then
        error(("metrics: histogram %s: a struct key needs fields bucket and slot "
          .. "(or fields = {bucket_field, slot_field})"):format(f.name), 0)
      end
      labels, slot = spec.label_fn and spec.label_fn(b) or { b }, tonumber(s)
    else
      labels, slot = spec.label_fn and spec.label_fn() or {}, tonumber(k)
    end
    local id = label_id(labels, #f.labels)
    by[id] = by[id] or { labels = labels, slots = {} }
    by[id].slots[slot] = tonumber(total_of(e[2])) or 0
  end
  local exact
  if spec.sum and type(spec.sum) ~= "function" then
    exact = 0
    for _, e in ipairs(spec.sum:entries()) do exact = exact + total_of(e[2]) end
    exact = exact * (spec.scale or 1)
  end
  for _, x in pairs(by) do
    set_slots(f, x.labels, spec, x.slots, type(spec.sum) == "function" and spec.sum(x.labels) or exact)
  end
end

-- A collector's sample into its family.
function Registry:_take_sample(s)
  local mtype = s.type or "counter"
  local names = s.label_names
  if not names then
    names = {}
    for n in pairs(s.labels or {}) do names[#names + 1] = n end
    table.sort(names)
  end
  local f = self:_family({ name = s.name, help = s.help, labels = names }, mtype)
  local values = {}
  for i, n in ipairs(f.labels) do values[i] = (s.labels or {})[n] end
  if mtype == "histogram" then
    set_slots(f, values, s, s.slots or {}, s.sum)
  else
    f.values[label_id(values, #f.labels)] = { labels = values, value = s.value }
  end
end

-- Read every source: tables, value functions, collectors.
function Registry:_scrape()
  for _, base in ipairs(self.order) do
    local f = self.families[base]
    for _, spec in ipairs(f.sources) do
      if f.type == "histogram" then
        read_histogram(f, spec)
      elseif spec.value then
        f.values[""] = { labels = {}, value = spec.value() }
      else
        for _, e in ipairs(spec.table:entries()) do
          local labels = key_labels(spec, e[1])
          f.values[label_id(labels, #f.labels)] = { labels = labels, value = total_of(e[2]) }
        end
      end
    end
  end
  for _, fn in ipairs(self.collectors) do
    for _, s in ipairs(fn() or {}) do self:_take_sample(s) end
  end
end

-- ---- output ----

-- Families as luatrace.exposition renders them.
function Registry:_families()
  self:_scrape()
  local out = {}
  for _, base in ipairs(self.order) do
    local f = self.families[base]
    local e = { name = f.name, type = f.type, help = f.help, labels = f.labels, samples = {}, hists = {} }
    for _, v in pairs(f.values) do e.samples[#e.samples + 1] = v end
    local ids = {}
    for id in pairs(f.hist) do ids[#ids + 1] = id end
    table.sort(ids)
    for _, id in ipairs(ids) do
      local h = f.hist[id]
      local buckets, cum = {}, 0
      for i = 0, h.max do
        cum = cum + (h.slots[i] or 0)
        buckets[#buckets + 1] = { slot_le(h.kind, i, h.spec), cum }
      end
      e.hists[#e.hists + 1] = { labels = h.labels, buckets = buckets, sum = h.sum, count = cum }
    end
    out[#out + 1] = e
  end
  return out
end

-- The exposition text: format "openmetrics" or "0.0.4" (the default).
function Registry:text(format)
  return exposition.render(self:_families(), format)
end

-- The HTTP handler: /metrics (also /), content negotiation by Accept.
function Registry:handler()
  return function(req)
    if req.path ~= "/metrics" and req.path ~= "/" then
      return 404, { ["Content-Type"] = "text/plain" }, "not found: try /metrics\n"
    end
    local format, ctype = M.negotiate(req.headers.accept)
    return 200, { ["Content-Type"] = ctype }, self:text(format)
  end
end

-- Serve on addr (":PORT" is loopback) from loop L (default: loop.default).
function Registry:serve(addr, L, opts)
  L = L or require("luatrace.loop").default
  return require("luatrace.http").serve(addr, self:handler(), L, opts)
end

-- ---- tools ----

-- `--metrics ADDR` of every tool that has a metrics hook (toolkit).
M.option = { "--metrics", type = "string", metavar = "ADDR",
  help = "serve Prometheus metrics on ADDR (:PORT is loopback; HOST:PORT to expose)",
  check = function(v)
    local ok, err = pcall(require("luatrace.http").parse_addr, v)
    if ok then return true end
    return false, (err:gsub("^listen address [^:]*: ", ""))
  end }

-- A running tool's metrics hook (toolkit contract: running.metrics(running)
-- -> samples) served on addr from loop L until L is closed. Names get the
-- prefix luatrace_.
function M.serve_running(running, addr, L)
  if type(running.metrics) ~= "function" then
    error(("%s: --metrics: this tool has no metrics hook"):format(running.name or "tool"), 0)
  end
  local reg = M.new{ namespace = "luatrace" }
  reg:collect(function() return running.metrics(running) end)
  local srv = reg:serve(addr, L)
  local close = L.close
  L.close = function(self, ...)
    srv:close()
    return close(self, ...)
  end
  return srv, reg
end

return M
