-- luatrace.suggest: "did you mean" for misspelt names (methods, maps,
-- programs). The kernel-function suggestions of attach_kprobe use the same
-- rule in C (host/ksym.c), over kallsyms.
local M = {}

-- Edit distance of a and b (insert, delete, substitute, and swapping two
-- neighbours: "itmes" -> "items" is one step).
function M.distance(a, b)
  local la, lb = #a, #b
  local d = {}
  for i = 0, la do d[i] = { [0] = i } end
  for j = 0, lb do d[0][j] = j end
  for i = 1, la do
    for j = 1, lb do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      local v = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if i > 1 and j > 1 and a:byte(i) == b:byte(j - 1) and a:byte(i - 1) == b:byte(j) then
        v = math.min(v, d[i - 2][j - 2] + 1)
      end
      d[i][j] = v
    end
  end
  return d[la][lb]
end

-- The candidate nearest to word, when near enough to be a misspelling
-- (at most a third of the word's length, and at most 3), and its distance.
function M.nearest(word, candidates)
  local best, bestd
  local limit = math.min(3, math.max(1, math.floor(#word / 3)))
  for _, c in ipairs(candidates) do
    local d = M.distance(word, c)
    if d <= limit and (not bestd or d < bestd or (d == bestd and c < best)) then
      best, bestd = c, d
    end
  end
  return best, bestd
end

-- " (did you mean X?)" or "".
function M.hint(word, candidates)
  local n = M.nearest(word, candidates)
  return n and (" (did you mean %s?)"):format(n) or ""
end

return M
