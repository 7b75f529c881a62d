-- luatrace.tablehist: the data of BCC's table histograms: slot counts of
-- a table keyed by slot, or by a struct {bucket, slot} (BCC's "secondary
-- keys": one histogram per bucket), and their printing through
-- luatrace.hist's line formats.
local core = require "luatrace.core"
local args = require "luatrace.bpf.args"

local M = {}

local function val(v)
  if type(v) == "table" then local sum = 0 for _, x in ipairs(v) do sum = sum + x end return sum end
  return v
end

-- entries: {key, value} pairs of a table (obj, info, name: the map's).
-- Returns { [slot] = count }, false; or { [bucket] = { [slot] = count } },
-- true, the buckets in order. opts: bucket_fn, bucket_sort_fn.
function M.buckets(entries, obj, info, name, opts)
  opts = opts or {}
  local sectioned = false
  for _, e in ipairs(entries) do
    if type(e[1]) == "cdata" then sectioned = true end
    break
  end
  if not sectioned then
    local vals = {}
    for _, e in ipairs(entries) do vals[e[1]] = val(e[2]) end
    return vals, false
  end
  local layout = core.btf_layout(obj, info.key_type_id).members
  local f1, f2 = layout[1].name, layout[2] and layout[2].name
  if not f2 then
    args.raisef("histogram of table %s: a sectioned key needs two fields (bucket, slot)", name)
  end
  local secs, order = {}, {}
  for _, e in ipairs(entries) do
    local bucket = e[1][f1]
    if opts.bucket_fn then bucket = opts.bucket_fn(bucket) end
    if type(bucket) == "cdata" then bucket = tostring(bucket) end
    if not secs[bucket] then secs[bucket] = {}; order[#order + 1] = bucket end
    secs[bucket][tonumber(e[1][f2])] = val(e[2])
  end
  if opts.bucket_sort_fn then order = opts.bucket_sort_fn(order)
  else table.sort(order, function(a, b)
    if type(a) == type(b) then return a < b end
    return tostring(a) < tostring(b)
  end) end
  return secs, true, order
end

-- Print what buckets() returned with lines_fn (hist.log2_lines or
-- hist.linear_lines); returns the lines. opts: strip_leading_zero, write.
function M.print(data, sectioned, order, lines_fn, val_type, section_header, section_print_fn, opts)
  local out = {}
  if sectioned then
    for _, bucket in ipairs(order) do
      out[#out + 1] = ""
      out[#out + 1] = ("%s = %s"):format(section_header or "Bucket ptr",
        section_print_fn and section_print_fn(bucket) or tostring(bucket))
      for _, l in ipairs(lines_fn(data[bucket], val_type, opts.strip_leading_zero)) do out[#out + 1] = l end
    end
  else
    for _, l in ipairs(lines_fn(data, val_type, opts.strip_leading_zero)) do out[#out + 1] = l end
  end
  local write = opts.write or function(s) io.stdout:write(s, "\n") end
  for _, l in ipairs(out) do write(l) end
  return out
end

return M
