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
-- Histograms: kind "log2" (slot i holds [2^(i-1), 2^i - 1], slot 0 holds 0:
-- le = (2^i - 1) * scale) or "linear" (slot i holds [i*step, (i+1)*step - 1]:
-- le = ((i+1)*step - 1) * scale); a struct key {bucket, slot} adds the
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
local json = require "luatrace.json"

local M = {}

M.CONTENT_TYPE_004 = "text/plain; version=0.0.4; charset=utf-8"
M.CONTENT_TYPE_OM = "application/openmetrics-text; version=1.0.0; charset=utf-8"

local Registry = {}
Registry.__index = Registry

function M.new(opts)
  opts = opts or {}
  return setmetatable({ families = {}, order = {}, collectors = {},
                        prefix = opts.namespace and (opts.namespace .. "_") or "" }, Registry)
end

local function check_name(name, what)
  if type(name) ~= "string" or not name:match("^[%a_:][%w_:]*$") then
    error(("metrics: %s %s is not a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)"):format(what, tostring(name)), 3)
  end
end

local function check_labels(labels, name)
  for _, l in ipairs(labels or {}) do
    if type(l) ~= "string" or not l:match("^[%a_][%w_]*$") or l:match("^__") or l == "le" then
      error(("metrics: %s: label name %s is not valid ([a-zA-Z_][a-zA-Z0-9_]*, not le, not __*)")
        :format(name, tostring(l)), 3)
    end
  end
end

-- A family: name (for counters without the _total suffix), type, help.
function Registry:_family(spec, mtype)
  local name = self.prefix .. tostring(spec.name)
  check_name(name, mtype)
  check_labels(spec.labels, name)
  local base = name
  if mtype == "counter" then base = name:gsub("_total$", "") end
  local f = self.families[base]
  if f then
    if f.type ~= mtype then
      error(("metrics: %s declared as %s and %s"):format(base, f.type, mtype), 3)
    end
    return f
  end
  f = { name = base, type = mtype, help = spec.help or base:gsub("_", " "), labels = spec.labels or {},
        sources = {}, totals = {}, hist = {} }
  self.families[base] = f
  self.order[#self.order + 1] = base
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

function Registry:_add(spec, mtype)
  if type(spec) ~= "table" then error("metrics: declare a metric with a table {name=, help=, ...}", 3) end
  local f = self:_family(spec, mtype)
  if spec.table or spec.value then f.sources[#f.sources + 1] = spec end
  return f
end

-- Samples from a function each scrape (see the header for their shape).
function Registry:collect(fn)
  self.collectors[#self.collectors + 1] = fn
end

local function total_of(v)
  if type(v) == "table" then
    local s = 0
    for _, x in ipairs(v) do s = s + x end
    return s
  end
  return v
end

local function fmt_value(v)
  if type(v) == "cdata" then return (tostring(v):gsub("U?LL$", "")) end
  if type(v) == "boolean" then return v and "1" or "0" end
  v = tonumber(v) or 0
  if v ~= v then return "NaN" end
  if v == math.huge then return "+Inf" end
  if v == -math.huge then return "-Inf" end
  if v == math.floor(v) and math.abs(v) < 2 ^ 63 then return ("%d"):format(v) end
  for _, digits in ipairs({ "%.15g", "%.16g" }) do
    local t = digits:format(v)
    if tonumber(t) == v then return t end
  end
  return ("%.17g"):format(v)
end

-- Label values are UTF-8 text: invalid bytes become U+FFFD; backslash,
-- quote and newline are escaped.
local function label_value(v)
  local s = type(v) == "cdata" and (tostring(v):gsub("U?LL$", "")) or tostring(v)
  if s:find("[\128-\255]") then
    local out, i = {}, 1
    while i <= #s do
      local len = s:byte(i) >= 0x80 and json.utf8_len(s, i)
      if len then out[#out + 1] = s:sub(i, i + len - 1); i = i + len
      elseif s:byte(i) >= 0x80 then out[#out + 1] = "\239\191\189"; i = i + 1
      else out[#out + 1] = s:sub(i, i); i = i + 1 end
    end
    s = table.concat(out)
  end
  return (s:gsub("\\", "\\\\"):gsub('"', '\\"'):gsub("\n", "\\n"))
end

local function labels_text(names, values, extra_name, extra_value)
  local parts = {}
  for i, n in ipairs(names) do
    parts[#parts + 1] = ('%s="%s"'):format(n, label_value(values[i] == nil and "" or values[i]))
  end
  if extra_name then parts[#parts + 1] = ('%s="%s"'):format(extra_name, extra_value) end
  if #parts == 0 then return "" end
  return "{" .. table.concat(parts, ",") .. "}"
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

local function slot_le(kind, i, spec)
  local step, scale = spec.step or 1, spec.scale or 1
  if kind == "linear" then return ((i + 1) * step - 1) * scale end
  return (2 ^ i - 1) * scale
end

local function slot_mid(kind, i, spec)
  local step, scale = spec.step or 1, spec.scale or 1
  if kind == "linear" then return (i * step + ((i + 1) * step - 1)) / 2 * scale end
  if i == 0 then return 0 end
  return (2 ^ (i - 1) + 2 ^ i - 1) / 2 * scale
end

-- Histogram state per label set: slots (cumulative counts per slot), sum.
local function hist_entry(f, labels, kind, spec)
  local id = table.concat((function()
    local t = {}
    for i = 1, #f.labels do t[i] = tostring(labels[i]) end
    return t
  end)(), "\0")
  local h = f.hist[id]
  if not h then
    h = { labels = labels, slots = {}, sum = 0, max = -1, kind = kind, spec = spec }
    f.hist[id] = h
  end
  return h
end

-- Read every source into the family's current samples.
function Registry:_scrape()
  local current = {}
  for _, base in ipairs(self.order) do
    local f = self.families[base]
    local samples = {}
    current[base] = samples
    for _, spec in ipairs(f.sources) do
      if f.type == "histogram" then
        local kind = spec.kind or "log2"
        local fresh = {}
        for _, e in ipairs(spec.table:entries()) do
          local k, v = e[1], total_of(e[2])
          local labels, slot
          if type(k) == "cdata" and not tonumber(k) then
            local names = spec.fields or { "bucket", "slot" }
            local ok, b, s = pcall(function() return k[names[1]], k[names[2]] end)
            if not ok then
              error(("metrics: histogram %s: a struct key needs fields bucket and slot "
                .. "(or fields = {bucket_field, slot_field})"):format(f.name), 0)
            end
            labels = spec.label_fn and spec.label_fn(b) or { b }
            slot = tonumber(s)
          else
            labels, slot = spec.label_fn and spec.label_fn() or {}, tonumber(k)
          end
          local h = hist_entry(f, labels, kind, spec)
          fresh[h] = fresh[h] or {}
          fresh[h][slot] = tonumber(v) or 0
        end
        -- table values are cumulative: replace the slots seen now
        for h, slots in pairs(fresh) do
          h.slots = slots
          local sum = 0
          for s, n in pairs(slots) do
            if s > h.max then h.max = s end
            sum = sum + n * slot_mid(kind, s, spec)
          end
          h.sum = sum
        end
        if type(spec.sum) == "function" then
          for _, h in pairs(f.hist) do if h.spec == spec then h.sum = spec.sum(h.labels) end end
        elseif spec.sum then
          local s = 0
          for _, e in ipairs(spec.sum:entries()) do s = s + total_of(e[2]) end
          for _, h in pairs(f.hist) do if h.spec == spec then h.sum = s * (spec.scale or 1) end end
        end
      elseif spec.value then
        samples[#samples + 1] = { labels = {}, value = spec.value() }
      else
        for _, e in ipairs(spec.table:entries()) do
          samples[#samples + 1] = { labels = key_labels(spec, e[1]), value = total_of(e[2]) }
        end
      end
    end
  end
  for _, fn in ipairs(self.collectors) do
    for _, s in ipairs(fn() or {}) do
      local mtype = s.type or "counter"
      local f = self:_family({ name = s.name, help = s.help, labels = s.label_names or (function()
        local names = {}
        for n in pairs(s.labels or {}) do names[#names + 1] = n end
        table.sort(names)
        return names
      end)() }, mtype)
      local values = {}
      for i, n in ipairs(f.labels) do values[i] = (s.labels or {})[n] end
      local id = table.concat((function()
        local t = {}
        for i = 1, #f.labels do t[i] = tostring(values[i]) end
        return t
      end)(), "\0")
      if mtype == "counter" or mtype == "gauge" then
        f.totals[id] = { labels = values, value = s.value }
      else
        local h = hist_entry(f, values, s.kind or "log2", s)
        h.slots, h.sum = {}, 0
        for slot, n in pairs(s.slots or {}) do
          h.slots[slot] = n
          if slot > h.max then h.max = slot end
          h.sum = h.sum + n * slot_mid(h.kind, slot, s)
        end
        if s.sum then h.sum = s.sum end
      end
    end
  end
  for _, base in ipairs(self.order) do
    local f = self.families[base]
    current[base] = current[base] or {}
    for _, t in pairs(f.totals) do current[base][#current[base] + 1] = t end
  end
  return current
end

local function help_text(s, om)
  s = s:gsub("\\", "\\\\"):gsub("\n", "\\n")
  if om then s = s:gsub('"', '\\"') end
  return s
end

-- The exposition text: format "openmetrics" or "0.0.4" (the default).
function Registry:text(format)
  local om = format == "openmetrics"
  local current = self:_scrape()
  local out = {}
  for _, base in ipairs(self.order) do
    local f = self.families[base]
    local name = base
    local sample_name = (f.type == "counter") and (base .. "_total") or base
    if not om and f.type == "counter" then name = sample_name end
    out[#out + 1] = ("# HELP %s %s"):format(name, help_text(f.help, om))
    out[#out + 1] = ("# TYPE %s %s"):format(name, f.type)
    if f.type == "histogram" then
      local ids = {}
      for id in pairs(f.hist) do ids[#ids + 1] = id end
      table.sort(ids)
      for _, id in ipairs(ids) do
        local h = f.hist[id]
        local cum = 0
        for i = 0, h.max do
          cum = cum + (h.slots[i] or 0)
          out[#out + 1] = ("%s_bucket%s %s"):format(base,
            labels_text(f.labels, h.labels, "le", fmt_value(slot_le(h.kind, i, h.spec))), fmt_value(cum))
        end
        out[#out + 1] = ("%s_bucket%s %s"):format(base, labels_text(f.labels, h.labels, "le", "+Inf"), fmt_value(cum))
        out[#out + 1] = ("%s_sum%s %s"):format(base, labels_text(f.labels, h.labels), fmt_value(h.sum))
        out[#out + 1] = ("%s_count%s %s"):format(base, labels_text(f.labels, h.labels), fmt_value(cum))
      end
    else
      local lines = {}
      for _, s in ipairs(current[base]) do
        lines[#lines + 1] = ("%s%s %s"):format(sample_name, labels_text(f.labels, s.labels), fmt_value(s.value))
      end
      table.sort(lines)
      for _, l in ipairs(lines) do out[#out + 1] = l end
    end
  end
  if om then out[#out + 1] = "# EOF" end
  return table.concat(out, "\n") .. "\n"
end

-- OpenMetrics when the client accepts it (Prometheus asks for it first).
function M.negotiate(accept)
  if accept and accept:find("application/openmetrics-text", 1, true) then
    return "openmetrics", M.CONTENT_TYPE_OM
  end
  return "0.0.4", M.CONTENT_TYPE_004
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

-- `--metrics ADDR` of every tool that has a metrics hook (toolkit).
M.option = { "--metrics", type = "string", metavar = "ADDR",
  help = "serve Prometheus metrics on ADDR (:PORT is loopback; HOST:PORT to expose)",
  check = function(v)
    local ok, err = pcall(require("luatrace.http").parse_addr, v)
    if ok then return true end
    return false, (err:gsub("^listen address [^:]*: ", ""))
  end }

-- A running tool's metrics hook (toolkit contract: running.metrics(running)
-- -> samples) served on addr from loop L, until L is closed. Names get the
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
