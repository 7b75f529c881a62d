-- luatrace.tablejson: tables and histograms as JSON (through luatrace.json).
--
--   t:json([opts])  -> '[{"key":K,"value":V},...]' in key order
--     K, V: numbers (u64 beyond 2^53 exact), strings (char arrays; any
--     bytes, escaped), objects for structs (their BTF field names), arrays
--     for per-CPU values (one per possible CPU; opts.sum = true adds them).
--   t:print_json_hist(val_type, section_header, section_print_fn[, opts])
--     BCC's print_json_hist: one line per histogram (per section), shaped
--     {"ts": "YYYY-mm-dd HH:MM:SS", "val_type": ..., "data": [
--       {"interval-start": a, "interval-end": b, "count": n}, ...],
--      [section_header]: section}
--     Like BCC, data covers slots 1 .. the highest non-zero slot (slot i is
--     [2^(i-1), 2^i - 1], slot 1 starts at 0) and slot 0 is not shown.
--     opts: bucket_fn, bucket_sort_fn, write(line), ts (fixed time stamp).
--     Returns the lines.
local ffi = require "ffi"
local core = require "luatrace.core"
local json = require "luatrace.json"

local M = {}

-- A struct cdata as a Lua table of its top-level fields; nested aggregates
-- as numbers when they convert, else the hex of their bytes.
local function plain(v, members)
  if type(v) ~= "cdata" then return v end
  if ffi.istype("uint64_t", v) or ffi.istype("int64_t", v) then return v end
  local n = tonumber(v)
  if n then return n end
  if members then
    local t = {}
    for _, m in ipairs(members) do
      if m.name ~= "" then t[m.name] = plain(v[m.name]) end
    end
    return t
  end
  local size = ffi.sizeof(v)
  local bytes = ffi.string(ffi.cast("const uint8_t *", ffi.new(ffi.typeof(v), v)), size)
  return "0x" .. bytes:gsub(".", function(c) return ("%02x"):format(c:byte()) end)
end

local function members_of(obj, type_id)
  if not type_id or type_id == 0 then return nil end
  local ok, layout = pcall(core.btf_layout, obj, type_id)
  return ok and layout.members or nil
end

function M.json(t, obj, opts)
  opts = opts or {}
  local info = t:info()
  local km, vm = members_of(obj, info.key_type_id), members_of(obj, info.value_type_id)
  local out = {}
  for _, e in ipairs(t:entries()) do
    local k, v = plain(e[1], km), e[2]
    if type(v) == "table" then
      local per = {}
      local sum = 0
      for i, x in ipairs(v) do per[i] = plain(x, vm); if type(per[i]) == "number" then sum = sum + per[i] end end
      v = opts.sum and sum or json.array(per)
    else
      v = plain(v, vm)
    end
    out[#out + 1] = { key = k, value = v, sort = json.encode(k) }
  end
  table.sort(out, function(a, b)
    if type(a.key) == "number" and type(b.key) == "number" then return a.key < b.key end
    return a.sort < b.sort
  end)
  for _, e in ipairs(out) do e.sort = nil end
  return json.encode(json.array(out), { "key", "value" })
end

local ORDER = { "ts", "val_type", "data", "interval-start", "interval-end", "count" }

-- BCC's _print_json_hist for one set of slots.
function M.json_hist(vals, val_type, section, ts)
  local max_nonzero = 0
  for i = 0, 64 do
    if (vals[i] or 0) ~= 0 then max_nonzero = i end
  end
  local data = {}
  for i = 1, max_nonzero do
    data[#data + 1] = { ["interval-start"] = i == 1 and 0 or 2 ^ (i - 1),
                        ["interval-end"] = 2 ^ i - 1, count = vals[i] or 0 }
  end
  local h = { ts = ts or os.date("%Y-%m-%d %H:%M:%S"), val_type = val_type, data = json.array(data) }
  if section then h[section[1]] = section[2] end
  return json.encode(h, ORDER)
end

function M.print_json_hist(t, buckets, val_type, section_header, section_print_fn, opts)
  opts = opts or {}
  val_type = val_type or "value"
  local data, sectioned, order = buckets(t, opts)
  local lines = {}
  if sectioned then
    for _, b in ipairs(order) do
      local shown = section_print_fn and section_print_fn(b) or b
      lines[#lines + 1] = M.json_hist(data[b], val_type, { section_header or "Bucket ptr", shown }, opts.ts)
    end
  else
    lines[1] = M.json_hist(data, val_type, nil, opts.ts)
  end
  local write = opts.write or function(s) io.stdout:write(s, "\n") end
  for _, l in ipairs(lines) do write(l) end
  return lines
end

return M
