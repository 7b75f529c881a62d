-- luatrace.bpftrace.btf: the running kernel's BTF (/sys/kernel/btf/vmlinux)
-- read in Lua, for the compiler's questions: what type is struct path's
-- member dentry, what are vfs_read's parameters. Loaded on first use only
-- (programs without casts or kfuncs never read it).
local ffi = require "ffi"

local M = {}

local KIND = { "int", "ptr", "array", "struct", "union", "enum", "fwd", "typedef",
  "volatile", "const", "restrict", "func", "func_proto", "var", "datasec", "float",
  "decl_tag", "type_tag", "enum64" }

local B -- { data, p, offs = {id -> offset}, names = {kind:name -> id found}, str }

pcall(ffi.cdef, "int strcmp(const char *a, const char *b);")

-- How many questions the compiler asked (codegen.lua: a program that
-- asked none compiles against the lite vmlinux header).
M.questions = 0

local function load()
  M.questions = M.questions + 1
  if B then return B end
  local fh = io.open("/sys/kernel/btf/vmlinux", "rb")
  if not fh then error("read /sys/kernel/btf/vmlinux: the kernel has no BTF", 0) end
  local data = fh:read("*a")
  fh:close()
  local p = ffi.cast("const uint8_t *", data)
  local u32 = ffi.cast("const uint32_t *", p)
  local hdr_len = u32[1]
  local type_off, type_len, str_off = u32[2], u32[3], u32[4]
  local tbase = hdr_len + type_off -- sections after the header
  local sbase = hdr_len + str_off
  -- only where each type starts: names are compared in place when asked
  -- for (find), since making a Lua string of every name cost ~60 ms
  local offs = { [0] = -1 }
  local pos, stop, id = tbase, tbase + type_len, 1
  while pos < stop do
    local w = ffi.cast("const uint32_t *", p + pos)
    local info = w[1]
    local kind, vlen = bit.band(bit.rshift(info, 24), 0x1f), bit.band(info, 0xffff)
    offs[id] = pos
    local extra = 0
    if kind == 1 or kind == 14 or kind == 17 then extra = 4 -- int, var, decl_tag
    elseif kind == 3 then extra = 12 -- array
    elseif kind == 4 or kind == 5 or kind == 15 or kind == 19 then extra = 12 * vlen
    elseif kind == 6 or kind == 13 then extra = 8 * vlen end -- enum, func_proto
    pos = pos + 12 + extra
    id = id + 1
  end
  local function str(o)
    return ffi.string(p + sbase + o)
  end
  B = { p = p, data = data, offs = offs, names = {}, str = str, sbase = sbase }
  return B
end

-- The raw type record of id: { kind, name, vlen, size_or_type, kflag, off }.
function M.type(id)
  local b = load()
  if id == 0 then return { kind = "void", name = "void", size = 0 } end
  local off = b.offs[id]
  if not off then return nil end
  local w = ffi.cast("const uint32_t *", b.p + off)
  local info = w[1]
  local t = {
    id = id, kind = KIND[bit.band(bit.rshift(info, 24), 0x1f)],
    name = b.str(w[0]), vlen = bit.band(info, 0xffff), kflag = bit.rshift(info, 31) == 1,
    size = w[2], type = w[2], w = w,
  }
  if t.kind == "int" then
    local enc = w[3]
    t.signed = bit.band(bit.rshift(enc, 24), 1) == 1
    t.bits = bit.band(enc, 0xff)
  elseif t.kind == "array" then
    t.elem, t.nelems = w[3], w[5]
  end
  return t
end

-- Skip typedefs and qualifiers.
function M.resolve(id)
  local t = M.type(id)
  while t and (t.kind == "typedef" or t.kind == "const" or t.kind == "volatile"
      or t.kind == "restrict" or t.kind == "type_tag") do
    t = M.type(t.type)
  end
  return t
end

-- The first type of kind (an enum64 counts as an enum) named name: a
-- scan of the types, comparing names in place; answers are kept.
local KIND_CODE = {}
for code, k in ipairs(KIND) do KIND_CODE[k] = code end

function M.find(kind, name)
  local b = load()
  local key = kind .. " " .. name
  local found = b.names[key]
  if found ~= nil then return found or nil end
  local want, also = KIND_CODE[kind], kind == "enum" and 19 or -1
  local p, sbase, offs = b.p, b.sbase, b.offs
  found = false
  for id = 1, #offs do
    local w = ffi.cast("const uint32_t *", p + offs[id])
    local k = bit.band(bit.rshift(w[1], 24), 0x1f)
    if (k == want or k == also) and w[0] ~= 0 and ffi.C.strcmp(p + sbase + w[0], name) == 0 then
      found = id
      break
    end
  end
  b.names[key] = found
  return found or nil
end

-- Members of a struct/union: { name, type, bit_offset }.
function M.members(t)
  local out = {}
  local b = load()
  for i = 0, t.vlen - 1 do
    local w = t.w + 3 + i * 3
    local off = w[2]
    if t.kflag then off = bit.band(off, 0xffffff) end
    out[#out + 1] = { name = b.str(w[0]), type = w[1], bit_offset = off,
      bitfield = t.kflag and bit.rshift(w[2], 24) or 0 }
  end
  return out
end

-- Find member name in struct/union t, looking through anonymous members;
-- also its offset in bits from the start of t (base: t's own offset).
function M.member(t, name, base)
  base = base or 0
  for _, m in ipairs(M.members(t)) do
    if m.name == name then return m, base + m.bit_offset end
    if m.name == "" then
      local inner = M.resolve(m.type)
      if inner and (inner.kind == "struct" or inner.kind == "union") then
        local found, bits = M.member(inner, name, base + m.bit_offset)
        if found then return found, bits end
      end
    end
  end
end

-- The value of an enumerator (TCP_FIN_WAIT1, SKB_DROP_REASON_...): the
-- first enum in BTF that has it, found by comparing names in place (a
-- program names a few; indexing all ~50k enumerators took ~40 ms);
-- answers are kept.
local enumvals = {}
function M.enum_value(name)
  local v = enumvals[name]
  if v ~= nil then return v or nil end
  local b = load()
  local p, sbase, offs, strcmp = b.p, b.sbase, b.offs, ffi.C.strcmp
  v = false
  for id = 1, #offs do
    local w = ffi.cast("const uint32_t *", p + offs[id])
    local kind, vlen = bit.band(bit.rshift(w[1], 24), 0x1f), bit.band(w[1], 0xffff)
    if kind == 6 or kind == 19 then
      local step = kind == 6 and 2 or 3
      for i = 0, vlen - 1 do
        local e = w + 3 + i * step
        if strcmp(p + sbase + e[0], name) == 0 then
          if kind == 6 then v = tonumber(ffi.cast("int32_t", e[1]))
          else v = tonumber(e[1]) + tonumber(e[2]) * 2 ^ 32 end
          break
        end
      end
      if v then break end
    end
  end
  enumvals[name] = v
  return v or nil
end

-- Parameters of a kernel function: { name, type } and its return type id.
function M.func_params(fname)
  local id = M.find("func", fname)
  if not id then return nil end
  local proto = M.type(M.type(id).type)
  local b = load()
  local out = {}
  for i = 0, proto.vlen - 1 do
    local w = proto.w + 3 + i * 2
    out[#out + 1] = { name = b.str(w[0]), type = w[1] }
  end
  return out, proto.type
end

-- C spelling of a type id (for casts and declarations in generated C).
function M.cname(id)
  local t = M.type(id)
  if not t then return "void" end
  local k = t.kind
  if k == "void" then return "void" end
  if k == "int" or k == "typedef" or k == "float" then return t.name end
  if k == "ptr" then
    local inner = M.type(t.type)
    if inner and inner.kind == "func_proto" then return "void *" end
    return M.cname(t.type) .. " *"
  end
  if k == "struct" or k == "union" or k == "enum" or k == "fwd" then
    if t.name == "" then return nil end
    local kw = k == "fwd" and (t.kflag and "union" or "struct") or k
    return kw .. " " .. t.name
  end
  if k == "enum64" then return "enum " .. t.name end
  if k == "const" or k == "volatile" or k == "restrict" or k == "type_tag" then
    return M.cname(t.type)
  end
  return nil
end

-- Size in bytes of a type id.
function M.size(id)
  local t = M.resolve(id)
  if not t then return 0 end
  if t.kind == "int" or t.kind == "struct" or t.kind == "union" or t.kind == "enum"
      or t.kind == "enum64" or t.kind == "float" then return t.size end
  if t.kind == "ptr" then return 8 end
  if t.kind == "array" then return t.nelems * M.size(t.elem) end
  return 0
end

return M
