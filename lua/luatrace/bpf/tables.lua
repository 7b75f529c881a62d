-- luatrace.bpf.tables: a BPF object's maps as BCC Tables (b["counts"],
-- b:get_table("counts")). Only real map names resolve; anything else is an
-- error that lists the maps (and names the nearest method when the name
-- looks like a misspelt one).
local Table = require "luatrace.table"
local args = require "luatrace.bpf.args"
local suggest = require "luatrace.suggest"

local M = {}
local methods = {}
M.methods = methods

-- The user-visible map names of the object (not .rodata/.bss/...).
function M.map_names(self)
  if not self._map_names then
    local names = {}
    for _, m in ipairs(self._obj:maps()) do
      if not m.internal then names[#names + 1] = m.name end
    end
    self._map_names = names
  end
  return self._map_names
end

local function has_map(self, name)
  for _, n in ipairs(M.map_names(self)) do
    if n == name then return true end
  end
  return false
end

function methods:get_table(name)
  if type(name) ~= "string" then
    args.raisef("get_table: the map name must be a string, got %s", type(name))
  end
  local t = self._tables[name]
  if t then return t end
  if not has_map(self, name) then
    args.raisef("get_table %s: no such map (maps: %s)%s", name,
      table.concat(M.map_names(self), ", "), suggest.hint(name, M.map_names(self)))
  end
  t = Table.new(self._chans, self._obj, name, self._obj:map(name))
  self._tables[name] = t
  return t
end

-- b[k] for a k that is not a method: a map, or an error naming the
-- nearest method when k is closer to one than to any map.
function M.index(self, k, method_names)
  if has_map(self, k) then return methods.get_table(self, k) end
  local m, md = suggest.nearest(k, method_names)
  local _, td = suggest.nearest(k, M.map_names(self))
  if m and (not td or md < td) then
    args.raisef("no method %s (did you mean %s?)", k, m)
  end
  return methods.get_table(self, k)
end

return M
