-- luatrace.console.show: how the console prints a value.
--
--   show.text(v) -> string
--
-- Tables print as Lua constructors (sorted keys, nested, cycles and depth
-- bounded); a BPF map (luatrace.table) prints as rows "key  value" sorted
-- by value, or as a log2 histogram when it holds one (an array of 64
-- slots, or a map named *hist* / *dist* with small integer keys); a BPF
-- object as its name, attachments and maps; a value
-- whose metatable has __show(v) -> string prints that (histogram and map
-- objects of other modules); anything else through tostring.
local Table = require "luatrace.table"
local hist = require "luatrace.hist"
local BPF = require "luatrace.bpf"
local session = require "luatrace.console.session"

local M = {}

M.max_items = 100  -- entries shown per table (the rest counted)
M.max_depth = 4

local function is_ident(k)
  return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil
end

local ffi = require "ffi"

local function scalar(v)
  if type(v) == "string" then return ("%q"):format(v):gsub("\\\n", "\\n") end
  -- 64-bit integers (map values beyond 2^53) as their digits, not 1ULL
  if type(v) == "cdata" and (ffi.istype("uint64_t", v) or ffi.istype("int64_t", v)) then
    return (tostring(v):gsub("U?LL$", ""))
  end
  return tostring(v)
end

local function key_order(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return ta < tb end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end

local function is_map(v)
  return type(v) == "userdata" and pcall(Table.info, v)
end

-- A map that holds a log2 histogram: BPF_HISTOGRAM's array of 64 slots,
-- or a hash named like one whose keys are all slots.
local function is_hist(t, entries)
  local info = Table.info(t)
  local name = info.name or ""
  local named = name:find("hist") or name:find("dist")
  if not (named or (info.type == "array" and info.max_entries == 64)) then return false end
  for _, e in ipairs(entries) do
    if type(e[1]) ~= "number" or e[1] < 0 or e[1] >= 64 or type(e[2]) ~= "number" then
      return false
    end
  end
  return true
end

local function map_text(t)
  local entries = Table.entries(t)
  local out = { tostring(t) }
  if is_hist(t, entries) then
    local vals = {}
    for _, e in ipairs(entries) do vals[e[1]] = e[2] end
    for _, l in ipairs(hist.log2_lines(vals, "value")) do out[#out + 1] = l end
    return table.concat(out, "\n")
  end
  local function num(v) return type(v) == "number" and v or tonumber(tostring(v):match("^%-?%d+")) end
  table.sort(entries, function(a, b)
    local x, y = num(a[2]), num(b[2])
    if x and y and x ~= y then return x > y end
    return key_order(a[1], b[1])
  end)
  local rows, width = {}, 0
  for i, e in ipairs(entries) do
    if i > M.max_items then break end
    local k = type(e[1]) == "string" and e[1] or M.text(e[1], 1)
    rows[#rows + 1] = { k, M.text(e[2], 1) }
    if #k > width then width = #k end
  end
  for _, r in ipairs(rows) do
    out[#out + 1] = ("  %-" .. width .. "s  %s"):format(r[1], r[2])
  end
  if #entries > M.max_items then
    out[#out + 1] = ("  ... %d more"):format(#entries - M.max_items)
  end
  if #entries == 0 then out[#out + 1] = "  (empty)" end
  return table.concat(out, "\n")
end

-- A BPF object: its name, what is attached, its maps (not its fields).
local function bpf_text(b)
  local obj = rawget(b, "_obj")
  if not obj or tostring(obj):find("(closed)", 1, true) then
    return ("BPF object %s (closed)"):format(tostring(rawget(b, "_name")))
  end
  local maps = {}
  for _, m in ipairs(obj:maps()) do
    if not m.internal then maps[#maps + 1] = m.name end
  end
  local links = session.links(b)
  local out = { ("BPF object %s: %d attached, maps: %s"):format(tostring(rawget(b, "_name")),
    #links, #maps > 0 and table.concat(maps, ", ") or "none") }
  for _, l in ipairs(links) do out[#out + 1] = "  " .. l end
  return table.concat(out, "\n")
end

local function table_text(t, depth, seen, indent)
  if seen[t] then return "<cycle>" end
  if depth > M.max_depth then return "{...}" end
  seen[t] = true
  local keys, n = {}, #t
  for k in next, t do
    if not (type(k) == "number" and k >= 1 and k <= n and k % 1 == 0) then keys[#keys + 1] = k end
  end
  table.sort(keys, key_order)
  local parts, total = {}, n + #keys
  local inner = indent .. "  "
  for i = 1, math.min(n, M.max_items) do
    parts[#parts + 1] = M.text(t[i], depth + 1, seen, inner)
  end
  for i, k in ipairs(keys) do
    if n + i > M.max_items then break end
    local ks = is_ident(k) and k or ("[" .. M.text(k, depth + 1, seen, inner) .. "]")
    parts[#parts + 1] = ks .. " = " .. M.text(t[k], depth + 1, seen, inner)
  end
  if total > M.max_items then parts[#parts + 1] = ("... %d more"):format(total - M.max_items) end
  seen[t] = nil
  if #parts == 0 then return "{}" end
  local one = "{ " .. table.concat(parts, ", ") .. " }"
  if #one + #indent <= 78 and not one:find("\n") then return one end
  return "{\n" .. inner .. table.concat(parts, ",\n" .. inner) .. "\n" .. indent .. "}"
end

-- The text of one value; depth > 0 inside a table.
function M.text(v, depth, seen, indent)
  depth = depth or 0
  local mt = getmetatable(v)
  if type(mt) == "table" and type(mt.__show) == "function" then return mt.__show(v) end
  if mt == BPF then return bpf_text(v) end
  if type(v) == "table" and not (mt and mt.__tostring) then
    return table_text(v, depth, seen or {}, indent or "")
  end
  if is_map(v) then return map_text(v) end
  if type(v) == "string" and depth == 0 then return v end
  return (scalar(v))
end

return M
