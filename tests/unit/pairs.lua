-- Requiring the library changes no global; the luatrace command gives its
-- scripts Lua 5.2's pairs (honouring __pairs), also reachable as lt.pairs.
test("require 'luatrace' leaves the global pairs alone", function()
  local before = pairs
  local saved = package.loaded["luatrace"]
  package.loaded["luatrace"] = nil
  local lt = require "luatrace"
  package.loaded["luatrace"] = saved
  eq(pairs, before, "the global pairs")
  local seen = {}
  local proxy = setmetatable({}, { __pairs = function() return next, { a = 1 }, nil end })
  for k, v in lt.pairs(proxy) do seen[#seen + 1] = k .. "=" .. v end
  eq(table.concat(seen), "a=1", "lt.pairs honours __pairs")
  for k in lt.pairs({ x = true }) do seen[#seen + 1] = k end
  eq(seen[2], "x", "and iterates plain tables")
end)

test("scripts run by luatrace get 5.2's pairs", function()
  local out = sh(("%s -e %s"):format(q(luatrace()),
    q("local p = setmetatable({}, { __pairs = function() return next, { k = 2 }, nil end }) "
      .. "for k, v in pairs(p) do print(k, v) end")))
  eq(out, "k\t2\n")
end)
