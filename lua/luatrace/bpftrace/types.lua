-- luatrace.bpftrace.types: the types of bpftrace values and how each is
-- stored in C (map keys and values, printf records, scratch variables).
--
--   int {size, signed}   str {size}   ptr {btf, cty, charp, user}
--   rec {btf, lv, user} (a struct lvalue, read member by member)
--   kstack {depth} ustack {depth}  ksym  usym  inet  buf {size}
--   tuple {elems}  none
local M = {}

M.STRLEN = 64

function M.int(size, signed)
  return { t = "int", size = size or 8, signed = signed ~= false }
end
M.INT = M.int(8, true)
M.UINT = M.int(8, false)
function M.str(size) return { t = "str", size = size or M.STRLEN } end
M.NONE = { t = "none" }

-- bpftrace's own names, for error messages.
function M.name(T)
  if T.t == "int" then return (T.signed and "int" or "uint") .. (T.size * 8) end
  if T.t == "str" then return "string[" .. T.size .. "]" end
  if T.t == "ptr" then return (T.cty or "pointer") end
  if T.t == "rec" then return "struct" end
  if T.t == "struct" then return T.cty end
  if T.t == "tuple" then
    local e = {}
    for i, x in ipairs(T.elems) do e[i] = M.name(x) end
    return "(" .. table.concat(e, ",") .. ")"
  end
  return T.t
end

-- Does a value of type T fit a slot of type S (same kind; strings and
-- tuples may differ in sizes, which widen)?
function M.compatible(S, T)
  if S.t == "ptr" and T.t == "int" or S.t == "int" and T.t == "ptr" then return true end
  if S.t ~= T.t then return false end
  if S.t == "struct" then return S.cty == T.cty end
  if S.t == "tuple" then
    if #S.elems ~= #T.elems then return false end
    for i = 1, #S.elems do
      if not M.compatible(S.elems[i], T.elems[i]) then return false end
    end
  end
  return true
end

-- Widen S so T fits (string sizes, tuple members).
function M.widen(S, T)
  if S.t == "str" or S.t == "buf" then
    if T.size > S.size then S.size = T.size end
  elseif S.t == "tuple" then
    for i = 1, #S.elems do M.widen(S.elems[i], T.elems[i]) end
  end
end

function M.copy(T)
  local c = {}
  for k, v in pairs(T) do c[k] = v end
  if T.elems then
    c.elems = {}
    for i, e in ipairs(T.elems) do c.elems[i] = M.copy(e) end
  end
  return c
end

-- Is the type a plain scalar held in one C expression?
function M.scalar(T)
  return T.t == "int" or T.t == "ptr" or T.t == "kstack" or T.t == "ksym"
end

-- The C declaration of a storage slot named `name` of type T.
function M.decl(T, name)
  local t = T.t
  local u = require("luatrace.bpftrace.uvalues").decl[t] -- formatted in user space
  if u then return u:format(name) end
  if t == "int" then return (T.signed and "s64 " or "u64 ") .. name end
  if t == "ptr" or t == "ksym" then return "u64 " .. name end
  if t == "kstack" then return "s64 " .. name end
  if t == "ustack" or t == "usym" then return ("struct { s64 id; u64 pid; } %s"):format(name) end
  if t == "str" then return ("char %s[%d]"):format(name, T.size) end
  if t == "inet" then return ("struct { u64 af; u8 a[16]; } %s"):format(name) end
  if t == "buf" then return ("struct { u64 len; u8 d[%d]; } %s"):format(T.size, name) end
  if t == "join" then return ("struct { char s[16][%d]; } %s"):format(M.STRLEN, name) end
  if t == "struct" then return T.cty .. " " .. name end -- records.lua: the C struct itself
  if t == "tuple" then
    local f = {}
    for i, e in ipairs(T.elems) do f[i] = M.decl(e, "e" .. (i - 1)) .. ";" end
    return ("struct { %s } %s"):format(table.concat(f, " "), name)
  end
  error("cannot store a value of type " .. M.name(T), 0)
end

-- A tracepoint format field's type (from tpformat.parse).
function M.from_tpfield(f)
  local d = f.decl
  if f.name:match("^__data_loc_") then
    return { t = "ptr", charp = true, cty = "const char *", dataloc = true }
  end
  local arr = d:match("%[(%d*)%]%s*$")
  if arr then
    if d:match("^%s*[%w_ ]*char%s") or d:match("^%s*const%s+char") or d:match("u8 ") then
      return M.str(f.size)
    end
    return { t = "int", size = 8, signed = f.signed, array = true }
  end
  if d:find("*", 1, true) then
    local base = d:gsub("%*%s*[%w_]+%s*$", ""):gsub("^%s+", ""):gsub("%s+$", "")
    local charp = base:match("char$") ~= nil
    local T = { t = "ptr", charp = charp, cty = base:gsub("^const%s+", "") .. " *", user = true }
    local kind, name = base:gsub("^const%s+", ""):match("^(%a+)%s+([%w_]+)$")
    if (kind == "struct" or kind == "union") and not d:match("%*%s*%*") then
      T.btf = require("luatrace.bpftrace.btf").find(kind, name)
    end
    return T
  end
  return M.int(f.size, f.signed)
end

return M
