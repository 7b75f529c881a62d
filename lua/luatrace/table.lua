-- luatrace.table: a BPF map as BCC's Table: t[k], t[k] = v, get/set/delete,
-- items/keys/values, clear, len (#t), pairs(t), per-CPU helpers, stack
-- walks, and BCC-format histograms.
--
-- Keys and values are decoded through FFI types from the program's BTF:
-- structs keep their field names (char arrays read as strings, 64-bit
-- integers as numbers when below 2^53); scalar integers become Lua numbers
-- when they fit 2^53, else uint64_t cdata; char arrays become strings.
-- A table is a userdata proxy so that #t and t[k] work; string keys that
-- name a method (t.items) are the method, use t:get(k) for such keys.
local ffi = require "ffi"
local maps = require "luatrace.maps"
local types = require "luatrace.types"
local sym = require "luatrace.sym"
local core = require "luatrace.core"
local args = require "luatrace.bpf.args"
local suggest = require "luatrace.suggest"

local Table = {}
local state = setmetatable({}, { __mode = "k" })

local u8p = ffi.typeof("const uint8_t *")

local function S(t)
  local s = state[t]
  if not s then error("not a luatrace table", 3) end
  return s
end

local is_char_array = maps.is_char_array

local names
local function method_names()
  if not names then
    names = {}
    for k, v in pairs(Table) do
      if type(v) == "function" and k ~= "new" then names[#names + 1] = k end
    end
    table.sort(names)
  end
  return names
end

-- Arrays have keys 0..max_entries-1: anything else is the caller's error
-- (the kernel would say "no such entry" or, for an update, E2BIG).
local function check_index(s, k)
  local ty = s.info.type
  if (ty == "array" or ty == "percpu_array") and type(k) == "number"
      and (k < 0 or k >= s.info.max_entries or k ~= math.floor(k)) then
    args.raisef("index %s is out of range for array %s (0..%d)", tostring(k), s.name,
      s.info.max_entries - 1)
  end
end

-- Bytes of a Lua value as ctype ct. A value that does not fit is the
-- caller's error, raised at the caller's line.
local function encode(ct, v, what, name)
  local size = ffi.sizeof(ct)
  if type(v) == "string" and is_char_array(ct) then
    if #v >= size then
      args.raisef("%s of table %s: %q does not fit %d bytes", what, name, v, size)
    end
    return v .. ("\0"):rep(size - #v)
  end
  local box = ffi.new(ffi.typeof("$[1]", ct))
  local scalar = type(box[0]) ~= "cdata" or ffi.istype("uint64_t", box[0])
    or ffi.istype("int64_t", box[0])
  if type(v) == "boolean" or type(v) == "nil" or (type(v) == "table" and scalar) then
    args.raisef("%s of table %s: cannot convert a %s to %s", what, name, type(v), tostring(ct))
  end
  local ok, err = pcall(function()
    if type(v) == "table" then
      for k, x in pairs(v) do box[0][k] = x end
    elseif type(v) == "cdata" and ffi.sizeof(v) == size and not ffi.istype("uint64_t", v)
        and not ffi.istype("int64_t", v) then
      ffi.copy(box, v, size)
    else
      box[0] = v
    end
  end)
  if not ok then
    args.raisef("%s of table %s: cannot convert %s (%s)", what, name, tostring(v),
      tostring(err):gsub("^[^:]*:%d+: ", ""))
  end
  return ffi.string(box, size)
end

-- chans: the BPF object's channels (luatrace.bpf.channels), for output
-- maps' open_ring_buffer / open_perf_buffer / event_type.
function Table.new(chans, obj, name, map)
  local t = newproxy(true)
  local mt = getmetatable(t)
  local info = map:info()
  local s = { chans = chans, obj = obj, name = name, map = map, info = info }
  if info.key_type_id ~= 0 then s.kt = types.ctype(obj, info.key_type_id) end
  if info.value_type_id ~= 0 then s.vt = types.ctype(obj, info.value_type_id) end
  state[t] = s
  mt.__index = function(self, k)
    local m = Table[k]
    if m ~= nil then return m end
    if type(k) == "string" and not (s.kt and is_char_array(s.kt)) then
      -- no string is a key of this table: a misspelt method
      local near = suggest.nearest(k, method_names())
      if near then args.raisef("no method %s in table %s (did you mean %s?)", k, name, near) end
      args.raisef("no method %s in table %s (and its keys are not strings)", k, name)
    end
    return Table.get(self, k)
  end
  mt.__newindex = function(self, k, v) Table.set(self, k, v) end
  mt.__len = function(self) return Table.len(self) end
  mt.__pairs = function(self) return Table.items(self) end
  mt.__tostring = function() return ("BPF table %s (%s)"):format(name, info.type) end
  return t
end

local function need_types(s)
  if not s.kt or not s.vt then maps.check_types(s.info, 3) end
end

function Table.info(t) return S(t).info end
function Table.Key(t, v) local s = S(t); need_types(s); return types.new(s.obj, s.info.key_type_id, v) end
function Table.Leaf(t, v) local s = S(t); need_types(s); return types.new(s.obj, s.info.value_type_id, v) end

local function decode_value(s, bytes)
  return maps.decode_value(s.info, s.vt, ffi.cast(u8p, bytes))
end

local function encode_value(s, v)
  if s.info.percpu then
    local ncpu, slot = maps.percpu_layout(s.info)
    local parts = {}
    for c = 1, ncpu do
      local x = type(v) == "table" and not getmetatable(v) and v[c] or v
      local b = encode(s.vt, x or 0, "value", s.name)
      parts[c] = b .. ("\0"):rep(slot - #b)
    end
    return table.concat(parts)
  end
  return encode(s.vt, v, "value", s.name)
end

function Table.get(t, k)
  local s = S(t)
  need_types(s)
  check_index(s, k)
  local v = s.map:lookup(encode(s.kt, k, "key", s.name))
  if v == nil then return nil end
  return decode_value(s, v)
end

function Table.set(t, k, v)
  local s = S(t)
  need_types(s)
  check_index(s, k)
  s.map:update(encode(s.kt, k, "key", s.name), encode_value(s, v))
end

function Table.delete(t, k)
  local s = S(t)
  need_types(s)
  return s.map:delete(encode(s.kt, k, "key", s.name))
end

-- All entries as an array of {key, value} (one batch read).
function Table.entries(t, opts)
  local s = S(t)
  need_types(s)
  return (maps.read(s.obj, s.map, opts))
end

-- One read each, decoded as the loop goes (maps.iter: no entries array).
function Table.items(t) local s = S(t); need_types(s); return maps.iter(s.obj, s.map) end
function Table.keys(t) local s = S(t); need_types(s); return maps.iter(s.obj, s.map, nil, 1) end
function Table.values(t) local s = S(t); need_types(s); return maps.iter(s.obj, s.map, nil, 2) end
function Table.len(t) return select(3, S(t).map:read_all()) end

-- Remove every entry (arrays: set to zero, as BCC does).
function Table.clear(t)
  S(t).map:take_all()
end

-- Read and clear in one pass (BCC's items_lookup_and_delete_batch).
function Table.take(t) return Table.entries(t, { take = true }) end

-- Per-CPU helpers.
local function percpu(t, k)
  local s = S(t)
  if not s.info.percpu then
    error(("table %s is not per-CPU"):format(s.name), 3)
  end
  return Table.get(t, k) or {}
end
function Table.sum(t, k)
  local total = 0
  for _, v in ipairs(percpu(t, k)) do total = total + v end
  return total
end
function Table.max(t, k)
  local m
  for _, v in ipairs(percpu(t, k)) do if not m or v > m then m = v end end
  return m
end
function Table.average(t, k)
  local vals = percpu(t, k)
  if #vals == 0 then return 0 end
  return Table.sum(t, k) / #vals
end
Table.avg = Table.average

-- Stack trace tables: the addresses of stack_id, innermost first.
function Table.walk(t, stack_id)
  local s = S(t)
  if s.info.type ~= "stack_trace" then
    error(("walk table %s: it is a %s, not a stack trace map"):format(s.name, s.info.type), 2)
  end
  if type(stack_id) ~= "number" or stack_id < 0 then return {} end
  local bytes = s.map:lookup(ffi.string(ffi.new("uint32_t[1]", stack_id), 4))
  if not bytes then return {} end
  local a = ffi.cast("const uint64_t *", bytes)
  local out = {}
  for i = 0, #bytes / 8 - 1 do
    if a[i] == 0 then break end
    out[#out + 1] = maps.scalar(a[i])
  end
  return out
end

-- The symbolized stack: kernel when pid is nil or negative, else user
-- frames of pid. opts: show_offset, show_module.
function Table.stack(t, stack_id, pid, opts)
  args.check_value("stack of table " .. S(t).name, "pid", pid, "pid")
  local out = {}
  for i, addr in ipairs(Table.walk(t, stack_id)) do
    local name, off, mod
    if pid and pid >= 0 then name, off, mod = sym.usym(addr, pid)
    else name, off, mod = sym.ksym(addr) end
    out[i] = sym.format(name, off, mod, opts)
  end
  return out
end

-- Histograms (BCC's print_log2_hist / print_linear_hist and the bucket
-- data behind them) are luatrace.tablehist's, loaded when first asked.
local function tablehist() return require "luatrace.tablehist" end
function Table.buckets(t, opts)
  local s = S(t)
  return tablehist().buckets(Table.entries(t), s.obj, s.info, s.name, opts)
end

-- print_log2_hist(val_type, section_header, section_print_fn[, opts]):
-- opts: bucket_fn, bucket_sort_fn, strip_leading_zero, write(line).
local function print_hist(t, lines_fn, val_type, section_header, section_print_fn, opts)
  if opts ~= nil and type(opts) ~= "table" then
    args.raisef("print hist of table %s: options must be a table, got %s", S(t).name, type(opts))
  end
  if section_print_fn ~= nil and type(section_print_fn) ~= "function" then
    args.raisef("print hist of table %s: section_print_fn must be a function, got %s",
      S(t).name, type(section_print_fn))
  end
  opts = opts or {}
  local data, sectioned, order = Table.buckets(t, opts)
  return tablehist().print(data, sectioned, order, lines_fn, val_type or "value",
    section_header, section_print_fn, opts)
end

function Table.print_log2_hist(t, ...) return print_hist(t, require("luatrace.hist").log2_lines, ...) end
function Table.print_linear_hist(t, ...) return print_hist(t, require("luatrace.hist").linear_lines, ...) end

-- JSON: t:json([opts]) and BCC's print_json_hist (see luatrace.tablejson).
function Table.json(t, opts) return require("luatrace.tablejson").json(t, S(t).obj, opts) end
function Table.print_json_hist(t, ...) return require("luatrace.tablejson").print_json_hist(t, Table.buckets, ...) end

-- Folded stacks of a stack-keyed table ("a;b;c count" lines, see luatrace.folded).
function Table.folded(t, opts) return require("luatrace.folded").of_table(t, S(t).obj, opts) end

-- Event channels on output maps (the BPF object polls them).
function Table.open_ring_buffer(t, cb, opts)
  local s = S(t)
  return s.chans:open(s.name, "ring", cb, opts)
end

function Table.open_perf_buffer(t, cb, opts)
  local s = S(t)
  return s.chans:open(s.name, "perf", cb, opts)
end

-- The record type the program submits to this output map, as a pointer
-- ctype (BCC's b["events"].event(data) is ffi.cast(t:event_type(), data)).
function Table.event_type(t)
  local s = S(t)
  return s.chans:event_ptr(s.name)
end

-- ---- bulk writes ----

-- Whether ctype ct is a scalar number (its FFI array fills from Lua
-- numbers in one compiled loop: no per-entry string).
local scalar = setmetatable({}, { __mode = "k" })
local function is_scalar(ct)
  if scalar[ct] == nil then
    scalar[ct] = pcall(function() return ffi.new(ct) + 0 end)
  end
  return scalar[ct]
end

-- The bytes of n Lua values as ctype ct, back to back.
local function pack(ct, list, n, one)
  if is_scalar(ct) then
    local arr = ffi.new(ffi.typeof("$[?]", ct), n)
    local ok = pcall(function() for i = 1, n do arr[i - 1] = list[i] end end)
    if ok then return ffi.string(arr, n * ffi.sizeof(ct)) end
  end
  local parts = {}
  for i = 1, n do parts[i] = one(list[i]) end
  return table.concat(parts)
end

-- t:update_batch(keys, values[, flags]): keys[i] -> values[i] for every i,
-- in one BPF_MAP_UPDATE_BATCH (BCC's items_update_batch). Per-CPU values
-- take a number (every CPU) or an array of one per CPU.
function Table.update_batch(t, keys, values, flags)
  local s = S(t)
  need_types(s)
  if type(keys) ~= "table" or type(values) ~= "table" then
    error(("update_batch %s: keys and values must be arrays"):format(s.name), 2)
  end
  local n = #keys
  if #values ~= n then
    error(("update_batch %s: %d keys but %d values"):format(s.name, n, #values), 2)
  end
  local kb = pack(s.kt, keys, n, function(k) return encode(s.kt, k, "key", s.name) end)
  local vb
  if s.info.percpu then
    local parts = {}
    for i = 1, n do parts[i] = encode_value(s, values[i]) end
    vb = table.concat(parts)
  else
    vb = pack(s.vt, values, n, function(v) return encode(s.vt, v, "value", s.name) end)
  end
  s.map:update_batch(kb, vb, n, flags)
  return n
end

-- t:set_many{[k] = v, ...}: every pair in one batch.
function Table.set_many(t, kv)
  if type(kv) ~= "table" then error("set_many: expected a table of key = value pairs", 2) end
  local keys, values = {}, {}
  for k, v in next, kv do keys[#keys + 1] = k; values[#values + 1] = v end
  return Table.update_batch(t, keys, values)
end

return Table
