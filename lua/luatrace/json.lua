-- luatrace.json: the one JSON encoder of luatrace (tables, histograms,
-- tool --json lines, bpftrace -f json, metrics).
--
--   json.encode(v [, order])   -> text (one line, no trailing newline)
--   json.line(v [, order])     -> io.stdout gets the text and "\n"
--   json.array(t)              -> t marked as an array (also when empty)
--   json.null                  -> a JSON null inside tables
--
-- Why our own and not lua-cjson: event paths hold uint64 cdata (u64 counts
-- and addresses beyond 2^53 must print exactly) and arbitrary bytes (comm,
-- file names), and lua-cjson knows neither; the encoder is small.
--
-- Rules: strings are JSON strings; valid UTF-8 passes through, any other
-- byte becomes \u00XX (so the output is always valid JSON and UTF-8);
-- integers print without exponent; int64/uint64 cdata print exactly; NaN
-- and infinities become null. Object keys are sorted (stable output),
-- except that the keys listed in `order` come first, in that order (in
-- nested objects too).
local ffi = require "ffi"

local M = {}

M.null = setmetatable({}, { __tostring = function() return "null" end })
local array_mt = { __jsonarray = true }
function M.array(t) return setmetatable(t or {}, array_mt) end

local escapes = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}

-- Length of the valid UTF-8 sequence starting at byte i, or nil.
local function utf8_len(s, i)
  local c = s:byte(i)
  local n, min
  if c >= 0xC2 and c <= 0xDF then n, min = 2, 0x80
  elseif c >= 0xE0 and c <= 0xEF then n, min = 3, 0x800
  elseif c >= 0xF0 and c <= 0xF4 then n, min = 4, 0x10000
  else return nil end
  local cp = c % (2 ^ (7 - n))
  for k = 1, n - 1 do
    local b = s:byte(i + k)
    if not b or b < 0x80 or b > 0xBF then return nil end
    cp = cp * 64 + (b - 0x80)
  end
  if cp < min or cp > 0x10FFFF or (cp >= 0xD800 and cp <= 0xDFFF) then return nil end
  return n
end

M.utf8_len = utf8_len

local function quote(s)
  if not s:find('[%c"\\\128-\255]') then return '"' .. s .. '"' end
  local out, i, n = { '"' }, 1, #s
  while i <= n do
    local c = s:sub(i, i)
    local b = c:byte()
    if escapes[c] then
      out[#out + 1] = escapes[c]; i = i + 1
    elseif b < 0x20 or b == 0x7F then
      out[#out + 1] = ("\\u%04x"):format(b); i = i + 1
    elseif b < 0x80 then
      out[#out + 1] = c; i = i + 1
    else
      local len = utf8_len(s, i)
      if len then
        out[#out + 1] = s:sub(i, i + len - 1); i = i + len
      else
        out[#out + 1] = ("\\u%04x"):format(b); i = i + 1
      end
    end
  end
  out[#out + 1] = '"'
  return table.concat(out)
end
M.quote = quote

local function number(v)
  if v ~= v or v == math.huge or v == -math.huge then return "null" end
  if v == math.floor(v) and v > -2 ^ 63 and v < 2 ^ 63 then
    return ("%d"):format(v)
  end
  return ("%.17g"):format(v)
end

local int64 = ffi.typeof("int64_t")
local uint64 = ffi.typeof("uint64_t")

local function cdata(v)
  if ffi.istype(uint64, v) or ffi.istype(int64, v) then
    return (tostring(v):gsub("U?LL$", ""))
  end
  local ok, n = pcall(tonumber, v)
  if ok and type(n) == "number" then return number(n) end
  error(("json: cannot encode cdata %s"):format(tostring(ffi.typeof(v))), 0)
end

local function is_array(t)
  local mt = getmetatable(t)
  if mt and mt.__jsonarray then return true, #t end
  local n = #t
  if n == 0 then return false, 0 end
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  return count == n, n
end

local encode

local function object(t, order, seen)
  local keys, first = {}, {}
  for _, k in ipairs(order or {}) do
    if t[k] ~= nil then keys[#keys + 1] = k; first[k] = true end
  end
  local rest = {}
  for k in pairs(t) do
    if not first[k] then rest[#rest + 1] = k end
  end
  table.sort(rest, function(a, b)
    if type(a) == type(b) then return a < b end
    return type(a) == "number"
  end)
  for _, k in ipairs(rest) do keys[#keys + 1] = k end
  local out = {}
  for i, k in ipairs(keys) do
    out[i] = quote(tostring(k)) .. ":" .. encode(t[k], order, seen)
  end
  return "{" .. table.concat(out, ",") .. "}"
end

encode = function(v, order, seen)
  local tv = type(v)
  if tv == "string" then return quote(v)
  elseif tv == "number" then return number(v)
  elseif tv == "boolean" then return v and "true" or "false"
  elseif tv == "nil" or v == M.null then return "null"
  elseif tv == "cdata" then return cdata(v)
  elseif tv == "table" then
    seen = seen or {}
    if seen[v] then error("json: cannot encode a table that contains itself", 0) end
    seen[v] = true
    local s
    local arr, n = is_array(v)
    if arr then
      local out = {}
      for i = 1, n do out[i] = encode(v[i], order, seen) end
      s = "[" .. table.concat(out, ",") .. "]"
    else
      s = object(v, order, seen)
    end
    seen[v] = nil
    return s
  end
  error(("json: cannot encode a %s"):format(tv), 0)
end

function M.encode(v, order) return encode(v, order) end

function M.line(v, order, fh)
  fh = fh or io.stdout
  fh:write(encode(v, order), "\n")
end

return M
