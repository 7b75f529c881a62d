-- luatrace.types: FFI ctypes for a BPF object's own types, generated from
-- its BTF by the host (core.btf_decl), never declared by hand.
local ffi = require "ffi"
local core = require "luatrace.core"

local M = {}

-- Cache per object, weak in the object so closed objects go away.
local cache = setmetatable({}, { __mode = "k" })

-- ctype of a BTF type (name like "struct event"/"event", or a type id),
-- checked against the size BTF gives.
function M.ctype(obj, what)
  local per = cache[obj]
  if not per then per = {}; cache[obj] = per end
  local ct = per[what]
  if ct then return ct end
  local decl, size = core.btf_decl(obj, what)
  local ok, res = pcall(ffi.typeof, decl)
  if not ok then
    error(("generate FFI type for %s: %s"):format(tostring(what), res), 2)
  end
  ct = res
  if ffi.sizeof(ct) ~= size then
    error(("generate FFI type for %s: size %d differs from BTF size %d"):format(
      tostring(what), ffi.sizeof(ct), size), 2)
  end
  -- Every named, non-bitfield member must sit where BTF says.
  for _, m in ipairs(core.btf_layout(obj, what).members) do
    if m.name ~= "" and m.bitfield_size == 0 then
      local off = ffi.offsetof(ct, m.name)
      if off ~= m.bit_offset / 8 then
        error(("generate FFI type for %s: member %s at %s, BTF says %d"):format(
          tostring(what), m.name, tostring(off), m.bit_offset / 8), 2)
      end
    end
  end
  per[what] = ct
  return ct
end

-- Pointer ctype for casting raw event/map bytes.
function M.ptr(obj, what)
  local per = cache[obj]
  local key = "*" .. tostring(what)
  if per and per[key] then return per[key] end
  local p = ffi.typeof("$ *", M.ctype(obj, what))
  cache[obj][key] = p
  return p
end

return M
