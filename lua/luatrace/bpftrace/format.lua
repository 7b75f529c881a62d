-- luatrace.bpftrace.format: values as bpftrace prints them (text and the
-- pieces of its JSON), and printf applied in Lua.
local ffi = require "ffi"
local sym = require "luatrace.sym"

local M = {}

local LIMIT = 2 ^ 53

-- An integer (Lua number or 64-bit cdata) as decimal text.
function M.int_text(v, signed)
  -- a C bool member (the FFI gives a boolean): bpftrace 0.17 prints 0/1
  if type(v) == "boolean" then return v and "1" or "0" end
  if type(v) == "cdata" then
    if signed == false then v = ffi.cast("uint64_t", v) end
    return (tostring(v):gsub("U?LL$", ""))
  end
  if signed == false and v < 0 then
    return (tostring(ffi.cast("uint64_t", ffi.cast("int64_t", v))):gsub("U?LL$", ""))
  end
  if v == math.floor(v) and math.abs(v) < LIMIT then return ("%d"):format(v) end
  return tostring(v)
end

local function cstring(v, size)
  if type(v) == "string" then return (v:match("^[^%z]*")) end
  if type(v) == "cdata" then
    local p = ffi.cast("const char *", v)
    local n = 0
    size = size or ffi.sizeof(v)
    while n < size and p[n] ~= 0 do n = n + 1 end
    return ffi.string(p, n)
  end
  return tostring(v)
end
M.cstring = cstring

-- 64-bit cdata as a Lua number when exact (maps.lua's rule).
local scalar = require("luatrace.maps").scalar
local function num(v)
  if type(v) == "cdata" then return scalar(v) end
  return v
end
M.num = num

function M.inet(v)
  local af = tonumber(v.af)
  local a = v.a
  if af == 2 then
    return ("%d.%d.%d.%d"):format(a[0], a[1], a[2], a[3])
  end
  local groups = {}
  for i = 0, 7 do groups[i + 1] = a[2 * i] * 256 + a[2 * i + 1] end
  -- compress the longest run of zero groups (RFC 5952)
  local best, bestlen, cur, curlen = nil, 0, nil, 0
  for i = 1, 8 do
    if groups[i] == 0 then
      if not cur then cur, curlen = i, 0 end
      curlen = curlen + 1
      if curlen > bestlen then best, bestlen = cur, curlen end
    else cur = nil end
  end
  local parts = {}
  for i = 1, 8 do parts[i] = ("%x"):format(groups[i]) end
  if bestlen >= 2 then
    local left = table.concat(parts, ":", 1, best - 1)
    local right = table.concat(parts, ":", best + bestlen, 8)
    return left .. "::" .. right
  end
  return table.concat(parts, ":")
end

function M.buf(v)
  local n = tonumber(v.len)
  local out = {}
  for i = 0, n - 1 do
    local b = v.d[i]
    if b >= 32 and b <= 126 then out[#out + 1] = string.char(b)
    else out[#out + 1] = ("\\x%02x"):format(b) end
  end
  return table.concat(out)
end

-- Symbol lookups never fail the output: an exited process or an unknown
-- address prints as hex, as bpftrace prints it.
local function usym(addr, pid)
  local ok, name, off = pcall(sym.usym, addr, pid)
  if ok then return name, off end
end
local function ksym(addr)
  local ok, name, off = pcall(sym.ksym, addr)
  if ok then return name, off end
end

function M.ksym(addr)
  local name = ksym(addr)
  if name then return name end
  return ("0x%x"):format(tonumber(addr) or 0)
end

function M.usym(addr, pid)
  local name = usym(addr, pid)
  if name then return name end
  return ("0x%x"):format(tonumber(addr) or 0)
end

-- Frames of a stack id (innermost first), symbolized as bpftrace does:
-- name+offset, or the hex address when unknown.
function M.stack_frames(rt, T, v)
  local id, pid
  if T.t == "ustack" then id, pid = tonumber(v.id), tonumber(v.pid) else id = tonumber(v) end
  local frames = {}
  if not id or id < 0 then return frames end
  local addrs = rt:stack_addrs(id)
  local depth = T.depth or #addrs
  for i = 1, math.min(depth, #addrs) do
    local a = addrs[i]
    local name, off
    if pid then name, off = usym(a, pid) else name, off = ksym(a) end
    if T.mode == "perf" then
      frames[i] = ("\t%x %s"):format(tonumber(a), name and (name .. "+" .. (off or 0)) or "[unknown]")
    elseif name then
      frames[i] = name .. "+" .. tostring(off or 0)
    else
      frames[i] = ("0x%x"):format(tonumber(a))
    end
  end
  return frames
end

-- A stack as bpftrace prints it: a newline, then one frame per line,
-- indented 4 spaces in map keys and 8 in printf.
function M.stack_text(rt, T, v, indent)
  local frames = M.stack_frames(rt, T, v)
  local out = { "\n" }
  local pad = T.mode == "perf" and "" or (indent or "    ")
  for _, f in ipairs(frames) do
    out[#out + 1] = pad .. f .. "\n"
  end
  return table.concat(out)
end

-- A value of type T (decoded from a record or map) as bpftrace prints it.
function M.value(rt, T, v)
  local t = T.t
  local u = require("luatrace.bpftrace.uvalues").format[t] -- strftime, username, ...
  if u then return u(T, v) end
  if t == "int" then return M.int_text(v, T.signed) end
  if t == "str" then return cstring(v, T.size) end
  if t == "ptr" then return M.int_text(v, false) end
  if t == "ksym" then return M.ksym(v) end
  if t == "usym" then return M.usym(v.id, tonumber(v.pid)) end
  if t == "inet" then return M.inet(v) end
  if t == "buf" then return M.buf(v) end
  if t == "kstack" or t == "ustack" then return M.stack_text(rt, T, v) end
  if t == "tuple" then
    local parts = {}
    for i, et in ipairs(T.elems) do parts[i] = M.value(rt, et, v["e" .. (i - 1)]) end
    return "(" .. table.concat(parts, ", ") .. ")"
  end
  if t == "struct" or t == "arr" then return M.member_text(rt, T, v) end
  if t == "join" then
    local parts = {}
    for i = 0, 15 do
      local s = cstring(v.s[i], 64)
      if s == "" then break end
      parts[#parts + 1] = s
    end
    return parts
  end
  return tostring(v)
end

-- A whole struct (records.lua) as bpftrace prints it: `{ .a = 1, .s =
-- text, .in = { .z = 0 }, .arr = [1,2], .p = 0xffff8880... }`.
function M.member_text(rt, T, v)
  if T.t == "struct" then
    local parts = {}
    for i, m in ipairs(T.members) do
      parts[i] = "." .. m.name .. " = " .. M.member_text(rt, m.ty, v[m.name])
    end
    return "{ " .. table.concat(parts, ", ") .. " }"
  end
  if T.t == "arr" then
    local parts = {}
    for i = 0, T.n - 1 do parts[i + 1] = M.member_text(rt, T.elem, v[i]) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  if T.t == "ptr" then
    return "0x" .. bit.tohex(ffi.cast("uint64_t", ffi.cast("uintptr_t", v)), 16):gsub("^0+(.)", "%1")
  end
  return M.value(rt, T, v)
end

-- A whole struct in -f json: an object of its members.
function M.member_json(rt, T, v)
  if T.t == "struct" then
    local parts = {}
    for i, m in ipairs(T.members) do
      parts[i] = M.jstr(m.name) .. ": " .. M.member_json(rt, m.ty, v[m.name])
    end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  if T.t == "arr" then
    local parts = {}
    for i = 0, T.n - 1 do parts[i + 1] = M.member_json(rt, T.elem, v[i]) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  if T.t == "ptr" then return M.int_text(ffi.cast("uint64_t", ffi.cast("uintptr_t", v)), false) end
  return M.json_value(rt, T, v)
end

-- Bits a printf length modifier gives an integer conversion.
function M.len_bits(len)
  if len == "l" or len == "ll" or len == "j" or len == "z" or len == "t" then return 64 end
  if len == "h" then return 16 end
  if len == "hh" then return 8 end
  return 32
end

-- v (number or 64-bit cdata) cut to `bits`, signed or not: a Lua number
-- when exact, else int64/uint64 cdata.
function M.truncate(v, bits, signed)
  local u = ffi.cast("uint64_t", type(v) == "number" and ffi.cast("int64_t", v) or v)
  if bits < 64 then
    local m = ffi.cast("uint64_t", 2) ^ bits
    u = u % m
    if signed and u >= m / 2 then return tonumber(ffi.cast("int64_t", u) - ffi.cast("int64_t", m)) end
    return tonumber(u)
  end
  if signed then
    local s = ffi.cast("int64_t", u)
    if s < LIMIT and s > -LIMIT then return tonumber(s) end
    return s
  end
  if u < LIMIT then return tonumber(u) end
  return u
end

-- printf in Lua: bpftrace's format with the record's values.
function M.printf(rt, fmt, specs, fields, rec)
  local out, last = {}, 1
  for i, sp in ipairs(specs) do
    out[#out + 1] = fmt:sub(last, sp.from - 1):gsub("%%%%", "%%")
    last = sp.to
    local T = fields[i]
    local v = rec["a" .. (i - 1)]
    local conv = sp.conv
    local spec = "%" .. sp.flags .. sp.width .. sp.prec
    if conv == "s" or conv == "r" then
      local s = (T.t == "kstack" or T.t == "ustack") and M.stack_text(rt, T, v, "        ")
        or M.value(rt, T, v)
      if type(s) == "table" then s = table.concat(s, " ") end
      out[#out + 1] = (spec .. "s"):format(s)
    elseif conv == "c" then
      out[#out + 1] = (spec .. "s"):format(string.char(tonumber(M.truncate(v, 8, false)) % 256))
    elseif conv == "d" or conv == "i" or conv == "u" then
      -- bpftrace 0.17 hands the 64-bit value to C's printf with the
      -- user's conversion: without l/ll, %d and %u see 32 bits.
      local bits = M.len_bits(sp.len)
      local n = M.truncate(v, bits, conv ~= "u")
      if type(n) == "number" then
        out[#out + 1] = (spec .. "d"):format(n)
      else
        out[#out + 1] = (spec .. "s"):format((tostring(n):gsub("U?LL$", "")))
      end
    else -- x X o p
      local u = ffi.cast("uint64_t", M.truncate(v, conv == "p" and 64 or M.len_bits(sp.len), false))
      local hex
      if conv == "o" then
        local digits, n = {}, u
        repeat
          digits[#digits + 1] = tostring(tonumber(n % 8))
          n = n / 8
        until n == 0
        hex = table.concat(digits):reverse()
      else
        hex = bit.tohex(tonumber(bit.rshift(u, 32) % 2 ^ 32), 8) .. bit.tohex(tonumber(u % 2 ^ 32), 8)
        hex = hex:gsub("^0+(.)", "%1")
        if conv == "X" then hex = hex:upper() end
        if conv == "p" then hex = "0x" .. hex end
      end
      if sp.flags:find("#", 1, true) and conv ~= "p" then hex = (conv == "o" and "0" or "0" .. conv) .. hex end
      local flags = sp.flags:gsub("#", "")
      if flags:find("0", 1, true) and sp.width ~= "" then
        out[#out + 1] = ("%" .. flags:gsub("0", "") .. sp.width .. "s"):format(hex):gsub(" ", "0")
      else
        out[#out + 1] = ("%" .. flags .. sp.width .. "s"):format(hex)
      end
    end
  end
  out[#out + 1] = fmt:sub(last):gsub("%%%%", "%%")
  return table.concat(out)
end

-- ---- JSON pieces, spaced as bpftrace spaces them ----

-- Strings go through the one JSON encoder (any byte gives valid JSON).
function M.jstr(s) return require("luatrace.json").quote(s) end -- -f json only

function M.json_value(rt, T, v)
  local t = T.t
  if t == "struct" or t == "arr" then return M.member_json(rt, T, v) end
  if t == "int" or t == "ptr" then return M.int_text(v, T.signed) end
  if t == "tuple" then
    local parts = {}
    for i, et in ipairs(T.elems) do parts[i] = M.json_value(rt, et, v["e" .. (i - 1)]) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  if t == "kstack" or t == "ustack" then
    local parts = {}
    for i, f in ipairs(M.stack_frames(rt, T, v)) do parts[i] = M.jstr(f) end
    return "[" .. table.concat(parts, ", ") .. "]"
  end
  local s = M.value(rt, T, v)
  if type(s) == "table" then s = table.concat(s, " ") end
  return M.jstr(s)
end

return M
