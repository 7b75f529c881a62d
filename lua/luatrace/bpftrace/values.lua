-- luatrace.bpftrace.values: small constructors of compiled values shared
-- by the expression files (expr, idents, members, calls). A compiled value
-- is { ty = type, c = "C expression" } for scalars, or { ty, write =
-- function(dest, destT) -> C statements } for strings, tuples, stacks...
local T = require "luatrace.bpftrace.types"

local V = {}

-- A C string literal (octal escapes: safe for any byte).
function V.cstr(s)
  return '"' .. s:gsub('[%c"\\\128-\255]', function(c)
    return ("\\%03o"):format(c:byte())
  end) .. '"'
end

function V.int(c, signed) return { ty = signed == false and T.UINT or T.INT, c = c } end

function V.lit_int(v)
  if v >= 2 ^ 63 then return ("%.0fULL"):format(v) end
  return ("%.0fLL"):format(v)
end

-- A string constant as a value.
function V.const_str(s)
  return { ty = T.str(#s + 1), lit = s, write = function(dest, destT)
    local n = math.min(#s + 1, destT and destT.size or #s + 1)
    return ("__builtin_memcpy(&%s, %s, %d); ((char *)&%s)[%d] = 0;"):format(dest, V.cstr(s), n, dest, n - 1)
  end }
end

-- A writer copying the aggregate lvalue src_c into dest (the smaller size).
function V.copy_writer(src_c)
  return function(dest)
    return ("__builtin_memcpy(&%s, &%s, sizeof(%s) < sizeof(%s) ? sizeof(%s) : sizeof(%s));"):format(
      dest, src_c, dest, src_c, dest, src_c)
  end
end

-- Integer type names of casts: { size, signed }.
V.int_types = {
  int8 = { 1, true }, int16 = { 2, true }, int32 = { 4, true }, int64 = { 8, true },
  uint8 = { 1, false }, uint16 = { 2, false }, uint32 = { 4, false }, uint64 = { 8, false },
  s8 = { 1, true }, s16 = { 2, true }, s32 = { 4, true }, s64 = { 8, true },
  u8 = { 1, false }, u16 = { 2, false }, u32 = { 4, false }, u64 = { 8, false },
  char = { 1, true }, short = { 2, true }, int = { 4, true }, long = { 8, true },
  ["unsigned int"] = { 4, false }, ["unsigned long"] = { 8, false }, ["unsigned char"] = { 1, false },
  ["unsigned short"] = { 2, false }, ["long long"] = { 8, true }, ["unsigned long long"] = { 8, false },
  bool = { 1, false }, size_t = { 8, false }, pid_t = { 4, true },
}
V.cint = { [1] = "8", [2] = "16", [4] = "32", [8] = "64" }

return V
