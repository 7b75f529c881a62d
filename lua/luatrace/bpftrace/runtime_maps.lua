-- luatrace.bpftrace.runtime_maps: what a running bpftrace program
-- (luatrace.bpftrace.runtime) does with its maps: print them as bpftrace
-- does (at exit, print(@m)), clear or zero them, and the Lua views of
-- p.maps. Loaded at first use, so a warm start does without it.
local fmt = require "luatrace.bpftrace.format"
local mapprint = require "luatrace.bpftrace.mapprint"

local M = {}

function M.print_map(rt, m, top, div)
  if rt.json then
    rt.write(mapprint.json(rt, m, top, div))
  else
    rt.write(mapprint.text(rt, m, top, div))
  end
end

function M.clear_map(rt, m, zero)
  local map = rt.bpf:object():map(m.cname)
  if not zero then map:take_all(); return end
  local keys, _, n = map:read_all()
  local info = map:info()
  local zv = ("\0"):rep(info.value_bytes or info.value_size)
  for i = 0, n - 1 do
    map:update(keys:sub(i * info.key_size + 1, (i + 1) * info.key_size), zv)
  end
end

-- Maps in name order (bpftrace's order at exit).
function M.map_names(rt)
  local names = {}
  for name in pairs(rt.mapdesc) do names[#names + 1] = name end
  table.sort(names)
  return names
end

function M.print_maps(rt)
  for _, name in ipairs(rt:map_names()) do rt:print_map(rt.mapdesc[name]) end
end

-- A Lua view of map @name: a number for a scalar map, else a table
-- keyed by the key (several keys: joined with ","); hist maps give
-- { [bucket label] = count }.
function M.map_view(rt, name)
  if rt.snapshot then return rt.snapshot[name] end
  local m = rt.mapdesc[name]
  if not m or not rt.bpf then return nil end
  local list = mapprint.entries(rt, m)
  local function keyof(e)
    local parts = {}
    for i, kt in ipairs(m.keys) do
      local v = fmt.value(rt, kt, e.keys[i])
      parts[i] = kt.t == "int" and tonumber(v) or v
    end
    if #parts == 1 then return parts[1] end
    return table.concat(parts, ",")
  end
  local function val(e)
    local kd = m.kind
    if kd == "count" or kd == "sum" or kd == "hist" or kd == "lhist" then return fmt.num(e.v) end
    if kd == "avg" then local c = fmt.num(e.v.count); return c > 0 and math.floor(fmt.num(e.v.total) / c) or 0 end
    if kd == "stats" then return { count = fmt.num(e.v.count), total = fmt.num(e.v.total) } end
    if kd == "min" or kd == "max" then return fmt.num(e.v.v) end
    if m.V.t == "int" then return fmt.num(e.v.v) end
    local s = fmt.value(rt, m.V, e.v.v)
    return s
  end
  if m.kind == "hist" or m.kind == "lhist" then
    local out = {}
    for _, e in ipairs(list) do
      if #m.keys == 0 then out[e.bucket] = fmt.num(e.v)
      else
        local k = keyof(e)
        out[k] = out[k] or {}
        out[k][e.bucket] = fmt.num(e.v)
      end
    end
    return out
  end
  if #m.keys == 0 then return list[1] and val(list[1]) end
  local out = {}
  for _, e in ipairs(list) do out[keyof(e)] = val(e) end
  return out
end

return M
