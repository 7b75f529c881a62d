-- luatrace.exposition: the text formats Prometheus scrapes: the text
-- format 0.0.4 and OpenMetrics 1.0, chosen by the client's Accept header.
-- luatrace.metrics gathers the samples; this file only writes them.
--
--   exposition.render(families, format) -> text
--     families: array of { name, type = "counter"|"gauge"|"histogram",
--       help, labels = {names}, samples = { {labels = {values}, value} },
--       hists = { {labels = {values}, buckets = { {le, cumulative} }, sum, count} } }
--   exposition.negotiate(accept) -> "openmetrics" | "0.0.4", content type
--
-- Counters: 0.0.4 names the family with its _total suffix; OpenMetrics
-- names it without and its samples with it, and ends with "# EOF".
-- Label values are valid UTF-8 (invalid bytes become U+FFFD, as comm may
-- hold anything) with backslash, quote and newline escaped.
local json = require "luatrace.json"

local M = {}

M.CONTENT_TYPE_004 = "text/plain; version=0.0.4; charset=utf-8"
M.CONTENT_TYPE_OM = "application/openmetrics-text; version=1.0.0; charset=utf-8"

-- OpenMetrics when the client accepts it (Prometheus asks for it first).
function M.negotiate(accept)
  if accept and accept:find("application/openmetrics-text", 1, true) then
    return "openmetrics", M.CONTENT_TYPE_OM
  end
  return "0.0.4", M.CONTENT_TYPE_004
end

-- Numbers: integers without exponent, u64 cdata exact, other floats in the
-- shortest form that reads back the same.
function M.value(v)
  if type(v) == "cdata" then return (tostring(v):gsub("U?LL$", "")) end
  if type(v) == "boolean" then return v and "1" or "0" end
  v = tonumber(v) or 0
  if v ~= v then return "NaN" end
  if v == math.huge then return "+Inf" end
  if v == -math.huge then return "-Inf" end
  if v == math.floor(v) and math.abs(v) < 2 ^ 63 then return ("%d"):format(v) end
  for _, digits in ipairs({ "%.15g", "%.16g" }) do
    local t = digits:format(v)
    if tonumber(t) == v then return t end
  end
  return ("%.17g"):format(v)
end

local function label_value(v)
  local s = type(v) == "cdata" and (tostring(v):gsub("U?LL$", "")) or tostring(v)
  if s:find("[\128-\255]") then
    local out, i = {}, 1
    while i <= #s do
      local len = s:byte(i) >= 0x80 and json.utf8_len(s, i)
      if len then out[#out + 1] = s:sub(i, i + len - 1); i = i + len
      elseif s:byte(i) >= 0x80 then out[#out + 1] = "\239\191\189"; i = i + 1
      else out[#out + 1] = s:sub(i, i); i = i + 1 end
    end
    s = table.concat(out)
  end
  return (s:gsub("\\", "\\\\"):gsub('"', '\\"'):gsub("\n", "\\n"))
end

local function labels_text(names, values, extra_name, extra_value)
  local parts = {}
  for i, n in ipairs(names) do
    parts[#parts + 1] = ('%s="%s"'):format(n, label_value(values[i] == nil and "" or values[i]))
  end
  if extra_name then parts[#parts + 1] = ('%s="%s"'):format(extra_name, extra_value) end
  if #parts == 0 then return "" end
  return "{" .. table.concat(parts, ",") .. "}"
end

local function help_text(s, om)
  s = s:gsub("\\", "\\\\"):gsub("\n", "\\n")
  if om then s = s:gsub('"', '\\"') end
  return s
end

function M.render(families, format)
  local om = format == "openmetrics"
  local out = {}
  for _, f in ipairs(families) do
    local sample_name = f.type == "counter" and (f.name .. "_total") or f.name
    local name = (f.type == "counter" and not om) and sample_name or f.name
    out[#out + 1] = ("# HELP %s %s"):format(name, help_text(f.help, om))
    out[#out + 1] = ("# TYPE %s %s"):format(name, f.type)
    local lines = {}
    for _, s in ipairs(f.samples or {}) do
      lines[#lines + 1] = sample_name .. labels_text(f.labels, s.labels) .. " " .. M.value(s.value)
    end
    table.sort(lines)
    for _, l in ipairs(lines) do out[#out + 1] = l end
    for _, h in ipairs(f.hists or {}) do
      for _, b in ipairs(h.buckets) do
        out[#out + 1] = ("%s_bucket%s %s"):format(f.name,
          labels_text(f.labels, h.labels, "le", M.value(b[1])), M.value(b[2]))
      end
      out[#out + 1] = ("%s_bucket%s %s"):format(f.name, labels_text(f.labels, h.labels, "le", "+Inf"),
        M.value(h.count))
      out[#out + 1] = ("%s_sum%s %s"):format(f.name, labels_text(f.labels, h.labels), M.value(h.sum))
      out[#out + 1] = ("%s_count%s %s"):format(f.name, labels_text(f.labels, h.labels), M.value(h.count))
    end
  end
  if om then out[#out + 1] = "# EOF" end
  return table.concat(out, "\n") .. "\n"
end

return M
