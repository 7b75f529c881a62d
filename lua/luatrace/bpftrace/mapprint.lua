-- luatrace.bpftrace.mapprint: maps printed as bpftrace 0.17 prints them
-- (text and JSON): `@name[k1, k2]: value`, sorted by value for numbers and
-- by key otherwise, hist()/lhist() in bpftrace's ASCII bars, stats/avg.
local fmt = require "luatrace.bpftrace.format"

local M = {}

local ffi = require "ffi"
local types = require "luatrace.types"
local u8p = ffi.typeof("const uint8_t *")

-- Entries of map m: { keys = {values...}, v = value, bucket = n }. One
-- batch read; keys and values are copied into their FFI types from the
-- object's BTF (structs as views: char arrays read as strings).
function M.entries(rt, m)
  local obj = rt.bpf:object()
  local map = obj:map(m.cname)
  local info = map:info()
  local kt, vt = types.ctype(obj, info.key_type_id), types.ctype(obj, info.value_type_id)
  local vscalar = not tostring(vt):match("^ctype<struct")
  local vptr = ffi.typeof("$ *", vt)
  local keys, vals, n = map:read_all()
  local kp, vp = ffi.cast(u8p, keys), ffi.cast(u8p, vals)
  local ks, vs, vstride = info.key_size, info.value_size, info.value_bytes or info.value_size
  local keyed = not (#m.keys == 0 and m.kind ~= "hist" and m.kind ~= "lhist")
  local out = {}
  for i = 0, n - 1 do
    local e = { keys = {} }
    if keyed then
      local k = ffi.new(kt)
      ffi.copy(k, kp + i * ks, ks)
      for j = 1, #m.keys do e.keys[j] = k["k" .. (j - 1)] end
      if m.kind == "hist" or m.kind == "lhist" then e.bucket = fmt.num(k.bucket) end
    end
    if vscalar then
      e.v = fmt.num(ffi.cast(vptr, vp + i * vstride)[0])
    else
      local v = ffi.new(vt)
      ffi.copy(v, vp + i * vstride, vs)
      e.v = v
    end
    out[#out + 1] = e
  end
  return out
end

local function key_text(rt, m, keys)
  if #m.keys == 0 then return "" end
  local parts = {}
  for i, kt in ipairs(m.keys) do parts[i] = fmt.value(rt, kt, keys[i]) end
  return "[" .. table.concat(parts, ", ") .. "]"
end

local function key_json(rt, m, keys)
  local parts = {}
  for i, kt in ipairs(m.keys) do
    local s = fmt.value(rt, kt, keys[i])
    if kt.t == "kstack" or kt.t == "ustack" then s = s:gsub("^\n", "") end
    parts[i] = s
  end
  return fmt.jstr(table.concat(parts, ","))
end

-- Comparable form of a key component.
local function sortable(kt, v)
  if kt.t == "int" or kt.t == "kstack" or kt.t == "ksym" or kt.t == "ptr" then return fmt.num(v) end
  if kt.t == "str" then return fmt.cstring(v, kt.size) end
  local u = require("luatrace.bpftrace.uvalues").format[kt.t] -- username, strftime, ...
  if u then return u(kt, v) end
  return tostring(v)
end

local function key_less(m)
  return function(a, b)
    for i, kt in ipairs(m.keys) do
      local x, y = sortable(kt, a.keys[i]), sortable(kt, b.keys[i])
      if type(x) ~= type(y) then x, y = tostring(x), tostring(y) end
      if x ~= y then return x < y end
    end
    return false
  end
end

-- The number a value sorts by and prints (per kind).
local function reduce(m, v)
  local k = m.kind
  if k == "count" or k == "sum" then return fmt.num(v) end
  if k == "avg" or k == "stats" then -- stats sort by their average too
    local c = fmt.num(v.count)
    if c == 0 then return 0 end
    local tot = fmt.num(v.total)
    local q = tot / c
    return q >= 0 and math.floor(q) or -math.floor(-q)
  end
  if k == "min" or k == "max" then return fmt.num(v.v) end
  if m.V and (m.V.t == "int") then return fmt.num(v.v) end
  return nil
end

local function label_pow(p)
  local suffix = ""
  for _, s in ipairs({ { 40, "T" }, { 30, "G" }, { 20, "M" }, { 10, "K" } }) do
    if p >= s[1] then p, suffix = p - s[1], s[2]; break end
  end
  return ("%d%s"):format(2 ^ p, suffix)
end

local function lhist_label(n)
  if n == 0 then return "0" end
  if n % 1048576 == 0 then return ("%dM"):format(n / 1048576) end
  if n % 1024 == 0 then return ("%dK"):format(n / 1024) end
  return ("%d"):format(n)
end

-- Bucket index -> label, and JSON min/max.
local function bucket_info(m, i)
  if m.kind == "hist" then
    if i == 0 then return "(..., 0)", nil, -1 end
    if i == 1 then return "[0]", 0, 0 end
    if i == 2 then return "[1]", 1, 1 end
    return ("[%s, %s)"):format(label_pow(i - 2), label_pow(i - 1)), 2 ^ (i - 2), 2 ^ (i - 1) - 1
  end
  local e = m.extra
  local nb = (e.max - e.min) / e.step
  if i == 0 then return ("(..., %s)"):format(lhist_label(e.min)), nil, e.min - 1 end
  if i > nb then return ("[%s, ...)"):format(lhist_label(e.max)), e.max, nil end
  local lo = e.min + (i - 1) * e.step
  return ("[%s, %s)"):format(lhist_label(lo), lhist_label(lo + e.step)), lo, lo + e.step - 1
end

local function hist_text(m, buckets, div)
  local lo, hi, max = nil, nil, 0
  for i, c in pairs(buckets) do
    if c > 0 then
      lo = (not lo or i < lo) and i or lo
      hi = (not hi or i > hi) and i or hi
      if c > max then max = c end
    end
  end
  if not lo then return "" end
  local out = {}
  for i = lo, hi do
    local c = buckets[i] or 0
    if div and div > 0 then c = math.floor(c / div) end
    local n = max > 0 and math.floor(c * 52 / max) or 0
    out[#out + 1] = ("%-16s%8d |%s%s|\n"):format((bucket_info(m, i)), c, ("@"):rep(n), (" "):rep(52 - n))
  end
  return table.concat(out)
end

local function hist_json(m, buckets)
  local lo, hi = nil, nil
  for i, c in pairs(buckets) do
    if c > 0 then
      lo = (not lo or i < lo) and i or lo
      hi = (not hi or i > hi) and i or hi
    end
  end
  local parts = {}
  for i = lo or 1, hi or 0 do
    local _, mn, mx = bucket_info(m, i)
    local f = {}
    if mn then f[#f + 1] = ('"min": %d'):format(mn) end
    if mx then f[#f + 1] = ('"max": %d'):format(mx) end
    f[#f + 1] = ('"count": %d'):format(buckets[i] or 0)
    parts[#parts + 1] = "{" .. table.concat(f, ", ") .. "}"
  end
  return "[" .. table.concat(parts, ", ") .. "]"
end

-- Group hist entries by user key: { {keys, buckets} } sorted by key.
local function hist_groups(m, list)
  local groups, order = {}, {}
  for _, e in ipairs(list) do
    local id = {}
    for i = 1, #m.keys do id[i] = tostring(sortable(m.keys[i], e.keys[i])) end
    local key = table.concat(id, "\0")
    local g = groups[key]
    if not g then
      g = { keys = e.keys, buckets = {} }
      groups[key] = g
      order[#order + 1] = g
    end
    g.buckets[e.bucket] = (g.buckets[e.bucket] or 0) + fmt.num(e.v)
    g.total = (g.total or 0) + fmt.num(e.v)
  end
  -- bpftrace orders the histograms of a keyed map by their total count
  local less = key_less(m)
  table.sort(order, function(a, b)
    if a.total ~= b.total then return a.total < b.total end
    return less(a, b)
  end)
  return order
end

-- The text of map m (top: keep the last N entries; div: divide values).
-- Sort a non-empty entry list as bpftrace prints it: by the value's number
-- when it has one, then by key. Returns whether values are numeric.
local function sort_entries(m, list)
  local less = key_less(m)
  local numeric = reduce(m, list[1].v) ~= nil
  table.sort(list, function(a, b)
    if numeric then
      local x, y = reduce(m, a.v), reduce(m, b.v)
      if x ~= y then return x < y end
    end
    return less(a, b)
  end)
  return numeric
end

function M.text(rt, m, top, div)
  local list = M.entries(rt, m)
  if #list == 0 then return "\n" end
  local out = {}
  if m.kind == "hist" or m.kind == "lhist" then
    local groups = hist_groups(m, list)
    local first = (top and top > 0 and #groups > top) and (#groups - top + 1) or 1
    for i = first, #groups do
      local g = groups[i]
      out[#out + 1] = m.name .. key_text(rt, m, g.keys) .. ": \n" .. hist_text(m, g.buckets, div) .. "\n"
    end
    return table.concat(out)
  end
  local numeric = sort_entries(m, list)
  local first = (top and top > 0 and #list > top) and (#list - top + 1) or 1
  for i = first, #list do
    local e = list[i]
    local vtext
    if m.kind == "stats" then
      local c, tot = fmt.num(e.v.count), fmt.num(e.v.total)
      local avg = c > 0 and reduce({ kind = "avg" }, e.v) or 0
      if div and div > 0 then c, avg, tot = math.floor(c / div), math.floor(avg / div), math.floor(tot / div) end
      vtext = ("count %d, average %d, total %d"):format(c, avg, tot)
    elseif numeric then
      local n = reduce(m, e.v)
      if div and div > 0 then n = math.floor(n / div) end
      vtext = fmt.int_text(n, m.kind ~= "count")
    else
      vtext = fmt.value(rt, m.V, e.v.v)
    end
    out[#out + 1] = m.name .. key_text(rt, m, e.keys) .. ": " .. vtext .. "\n"
  end
  if m.kind == "stats" or m.kind == "avg" then out[#out + 1] = "\n" end
  return table.concat(out)
end

-- One JSON line for map m, in bpftrace's shape.
function M.json(rt, m, top, div)
  local list = M.entries(rt, m)
  if #list == 0 then return "" end -- bpftrace prints nothing for an empty map
  local typ = (m.kind == "hist" or m.kind == "lhist") and "hist"
    or ((m.kind == "stats" or m.kind == "avg") and "stats" or "map")
  local data
  if typ == "hist" then
    local groups = hist_groups(m, list)
    if #m.keys == 0 then
      data = groups[1] and hist_json(m, groups[1].buckets) or "[]"
    else
      local parts = {}
      for _, g in ipairs(groups) do parts[#parts + 1] = key_json(rt, m, g.keys) .. ": " .. hist_json(m, g.buckets) end
      data = "{" .. table.concat(parts, ", ") .. "}"
    end
  else
    local numeric = sort_entries(m, list)
    local function val(e)
      if m.kind == "stats" then
        local c, tot = fmt.num(e.v.count), fmt.num(e.v.total)
        return ('{"count": %d, "average": %d, "total": %d}'):format(c, c > 0 and reduce({ kind = "avg" }, e.v) or 0, tot)
      end
      if numeric then
        local n = reduce(m, e.v)
        if div and div > 0 then n = math.floor(n / div) end
        return fmt.int_text(n, true)
      end
      return fmt.json_value(rt, m.V, e.v.v)
    end
    local first = (top and top > 0 and #list > top) and (#list - top + 1) or 1
    if #m.keys == 0 then
      data = list[1] and val(list[1]) or "null"
    else
      local parts = {}
      for i = first, #list do parts[#parts + 1] = key_json(rt, m, list[i].keys) .. ": " .. val(list[i]) end
      data = "{" .. table.concat(parts, ", ") .. "}"
    end
  end
  return ('{"type": "%s", "data": {%s: %s}}\n'):format(typ, fmt.jstr(m.name), data)
end

return M
