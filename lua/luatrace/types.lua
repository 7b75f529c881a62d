-- luatrace.types: FFI ctypes for a BPF object's own types, generated from
-- its BTF by the host (core.btf_decl), never declared by hand.
--
-- A struct comes as a "view": its top-level char arrays read and write as
-- Lua strings (ev.comm == "bash") and its 64-bit integers and pointers read
-- as Lua numbers when they fit in 2^53 exactly, else as uint64_t/int64_t
-- cdata; the same rule maps.lua applies to scalar keys and values. The raw
-- bytes stay reachable as ev.__lt_comm. Other members are plain FFI fields.
local ffi = require "ffi"
local core = require "luatrace.core"

local M = {}

-- Cache per object, weak in the object so closed objects go away.
local cache = setmetatable({}, { __mode = "k" })

-- The two layout rules every decoder follows (maps.lua, table.lua and
-- the struct views below), written once:
--
-- 64-bit integers become Lua numbers when they fit in 2^53 exactly, and
-- stay uint64_t/int64_t cdata otherwise; anything else is returned as is.
local u64, i64 = ffi.typeof("uint64_t"), ffi.typeof("int64_t")
local LIMIT = 2 ^ 53
function M.scalar(v)
  if type(v) == "cdata" then
    if ffi.istype(u64, v) then
      if v < LIMIT then return tonumber(v) end
    elseif ffi.istype(i64, v) then
      if v < LIMIT and v > -LIMIT then return tonumber(v) end
    end
  end
  return v
end

-- A char array of size bytes at p is a Lua string up to its first NUL.
local cchar_p = ffi.typeof("const char *")
function M.cstring(p, size)
  local cp = ffi.cast(cchar_p, p)
  local n = 0
  while n < size and cp[n] ~= 0 do n = n + 1 end
  return ffi.string(cp, n)
end

local getters = {
  string = function(raw, size)
    return function(self) return M.cstring(self[raw], size) end
  end,
  uint64 = function(raw)
    return function(self) return M.scalar(self[raw]) end
  end,
  int64 = function(raw)
    return function(self) return M.scalar(self[raw]) end
  end,
}

local setters = {
  string = function(raw, size)
    return function(self, s)
      s = tostring(s)
      if #s >= size then
        error(("string of %d bytes does not fit %s (%d bytes with its NUL)"):format(
          #s, raw:sub(6), size), 3)
      end
      ffi.fill(self[raw], size)
      ffi.copy(self[raw], s, #s)
    end
  end,
  uint64 = function(raw) return function(self, v) self[raw] = v end end,
  int64 = function(raw) return function(self, v) self[raw] = v end end,
}

local function make_view(ct, fields)
  if #fields == 0 then return ct end
  local get, set = {}, {}
  for _, f in ipairs(fields) do
    local raw = "__lt_" .. f.name
    get[f.name] = getters[f.kind](raw, f.size)
    set[f.name] = setters[f.kind](raw, f.size)
  end
  return ffi.metatype(ct, {
    __index = function(self, k)
      local g = get[k]
      if g then return g(self) end
      error(("no member %s in this struct"):format(tostring(k)), 2)
    end,
    __newindex = function(self, k, v)
      local s = set[k]
      if s then return s(self, v) end
      error(("no member %s in this struct"):format(tostring(k)), 2)
    end,
  })
end

-- ctype of a BTF type (name like "struct event"/"event", or a type id),
-- checked against the size and member offsets BTF gives.
function M.ctype(obj, what)
  local per = cache[obj]
  if not per then per = {}; cache[obj] = per end
  local ct = per[what]
  if ct then return ct end
  local decl, size, fields = core.btf_decl(obj, what, true)
  local ok, res = pcall(ffi.typeof, decl)
  if not ok then
    error(("generate FFI type for %s: %s"):format(tostring(what), res), 2)
  end
  ct = res
  if ffi.sizeof(ct) ~= size then
    error(("generate FFI type for %s: size %d differs from BTF size %d"):format(
      tostring(what), ffi.sizeof(ct), size), 2)
  end
  local renamed = {}
  for _, f in ipairs(fields) do renamed[f.name] = true end
  -- Every named, non-bitfield member must sit where BTF says.
  for _, m in ipairs(core.btf_layout(obj, what).members) do
    if m.name ~= "" and m.bitfield_size == 0 then
      local field = renamed[m.name] and ("__lt_" .. m.name) or m.name
      local off = ffi.offsetof(ct, field)
      if off ~= m.bit_offset / 8 then
        error(("generate FFI type for %s: member %s at %s, BTF says %d"):format(
          tostring(what), m.name, tostring(off), m.bit_offset / 8), 2)
      end
    end
  end
  ct = make_view(ct, fields)
  per[what] = ct
  return ct
end

-- Pointer ctype for casting raw event/map bytes.
function M.ptr(obj, what)
  local key = "*" .. tostring(what)
  local per = cache[obj]
  if per and per[key] then return per[key] end
  local p = ffi.typeof("$ *", M.ctype(obj, what))
  cache[obj][key] = p
  return p
end

-- A new zeroed value of the type, fields set from a table (strings and
-- numbers go through the view's setters).
function M.new(obj, what, init)
  local v = ffi.new(M.ctype(obj, what))
  for k, x in pairs(init or {}) do v[k] = x end
  return v
end

return M
