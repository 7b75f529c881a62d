-- luatrace.hist: histograms in BCC's output format (print_log2_hist,
-- print_linear_hist), as text lines so callers can print or collect them.
local ffi = require "ffi"

local M = {}

local STARS_MAX = 40

-- BCC's _stars: width * val / val_max stars, "+" when val exceeds max.
function M.stars(val, val_max, width)
  local text = {}
  local i = 0
  while true do
    if i > (width * val / val_max) - 1 or i > width - 1 then break end
    text[#text + 1] = "*"
    i = i + 1
  end
  local s = table.concat(text)
  if val > val_max then s = s:sub(1, -2) .. "+" end
  return s
end

-- The last non-empty slot (-1 when none) and the largest count: over
-- slots 0..last (log2 histograms), or every slot there is (linear ones).
local function extent(vals, last)
  local idx_max, val_max = -1, 0
  local function see(i, v)
    if v > 0 and i > idx_max then idx_max = i end
    if v > val_max then val_max = v end
  end
  if last then
    for i = 0, last do see(i, vals[i] or 0) end
  else
    for i, v in pairs(vals) do see(i, v) end
  end
  return idx_max, val_max
end

local function pad_stars(s, width)
  return s .. (" "):rep(width - #s)
end

-- Lines of a log2 histogram. vals[slot] = count, slot 0..64 (slot i holds
-- values in [2^(i-1), 2^i - 1], as bpf_log2l() buckets them).
function M.log2_lines(vals, val_type, strip_leading_zero)
  local idx_max, val_max = extent(vals, 64)
  local header, body, stars
  if idx_max <= 32 then
    header = ("     %-19s : count     distribution"):format(val_type)
    body = "%10s -> %-10s : %-8d |%s|"
    stars = STARS_MAX
  else
    header = ("               %-29s : count     distribution"):format(val_type)
    body = "%20s -> %-20s : %-8d |%s|"
    stars = STARS_MAX / 2
  end
  local out = {}
  if idx_max > 0 then out[#out + 1] = header end
  for i = 1, idx_max do
    local low, high = M.log2_bounds(i)
    local val = vals[i] or 0
    if not strip_leading_zero or val > 0 then
      strip_leading_zero = false
      out[#out + 1] = body:format(low, high, val, pad_stars(M.stars(val, val_max, stars), stars))
    end
  end
  return out
end

-- Lines of a log2 histogram as libbpf-tools print it (trace_helpers.c):
-- slot i holds [2^i, 2^(i+1) - 1] (slot 0: 0..1), every slot from 0 up
-- to the last non-empty one, "count    distribution" in the header.
function M.libbpf_log2_lines(vals, val_type)
  local idx_max, val_max = extent(vals, 64)
  if idx_max < 0 then return {} end
  local small = idx_max <= 32
  local out = { ("%s%-" .. (small and 19 or 29) .. "s : count    distribution"):format(
    (" "):rep(small and 5 or 15), val_type) }
  local stars = small and STARS_MAX or STARS_MAX / 2
  local width = small and 10 or 20
  for i = 0, idx_max do
    local low, high = 2 ^ i, 2 ^ (i + 1) - 1
    if low == high then low = low - 1 end
    local val = vals[i] or 0
    out[#out + 1] = ("%" .. width .. "d -> %-" .. width .. "d : %-8d |%s|"):format(
      low, high, val, pad_stars(M.stars(val, val_max, stars), stars))
  end
  return out
end

-- Bounds of log2 slot i (1..64) as decimal text: [2^(i-1), 2^i - 1], slot
-- 1 being [0, 1]. Computed in 64-bit integers: doubles lose the low bits
-- above 2^53 (and 2^63 overflows a signed %d).
local u64 = ffi.typeof("uint64_t")
local function dec(v) return (tostring(v):gsub("ULL$", "")) end
function M.log2_bounds(i)
  local high = (u64(1) * 2 ^ (i - 1)) * 2 - 1 -- 2^i - 1, wrapping at i = 64
  local low = i == 1 and u64(0) or u64(1) * 2 ^ (i - 1)
  return dec(low), dec(high)
end

-- Lines of a linear histogram as libbpf-tools print it: only non-empty
-- rows, value = base + i * step.
function M.libbpf_linear_lines(vals, val_type, base, step)
  base, step = base or 0, step or 1
  local idx_max, val_max = extent(vals)
  if idx_max < 0 then return {} end
  local out = { ("     %-13s : count     distribution"):format(val_type) }
  for i = 0, idx_max do
    local val = vals[i] or 0
    if val > 0 then
      out[#out + 1] = ("        %-10d : %-8d |%s|"):format(base + i * step, val,
        pad_stars(M.stars(val, val_max, STARS_MAX), STARS_MAX))
    end
  end
  return out
end

-- Lines of a linear histogram: vals[i] = count for value i (0-based).
function M.linear_lines(vals, val_type, strip_leading_zero)
  local idx_max, val_max = extent(vals)
  local out = {}
  if idx_max >= 0 then
    out[#out + 1] = ("     %-13s : count     distribution"):format(val_type)
  end
  for i = 0, idx_max do
    local val = vals[i] or 0
    if not strip_leading_zero or val > 0 then
      strip_leading_zero = false
      out[#out + 1] = ("        %-10d : %-8d |%s|"):format(i, val,
        pad_stars(M.stars(val, val_max, STARS_MAX), STARS_MAX))
    end
  end
  return out
end

return M
