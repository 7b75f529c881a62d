-- luatrace.maps: whole-map reads decoded through FFI ctypes. One C call
-- returns every key and value as two byte strings (batch syscall, or
-- iteration where the kernel lacks it); Lua slices them with casts.
local ffi = require "ffi"
local types = require "luatrace.types"
local core = require "luatrace.core"

local M = {}
local u8p = ffi.typeof("const uint8_t *")

-- A map without BTF key/value types cannot be decoded: say how to
-- declare it (level: the error level, as for error()).
function M.check_types(info, level)
  if info.key_type_id == 0 or info.value_type_id == 0 then
    error(("decode map %s: it has no BTF key/value types (declare it with the "
      .. "BPF_* macros, or __type(key, ...) and __type(value, ...))"):format(info.name),
      (level or 1) + 1)
  end
end

-- Types of a map's key and value from its BTF (BTF-defined maps carry them).
function M.key_value_types(obj, map)
  local info = map:info()
  M.check_types(info, 2)
  return types.ctype(obj, info.key_type_id), types.ctype(obj, info.value_type_id)
end

-- 64-bit integers as Lua numbers below 2^53 (the rule is types.lua's).
M.scalar = types.scalar
local u64, i64 = ffi.typeof("uint64_t"), ffi.typeof("int64_t")

-- Is ct an array of chars (a string)?
function M.is_char_array(ct)
  return tostring(ct):match("^ctype<char %[%d+%]>$") ~= nil
end

-- How to decode a ctype, worked out once per ctype: reading a 100k-entry
-- map calls the decoder 200k times, so nothing per call may build ctypes.
local decoders = setmetatable({}, { __mode = "k" })

local function decoder(ct)
  local d = decoders[ct]
  if d then return d end
  if M.is_char_array(ct) then
    d = types.cstring
  else
    local box_t = ffi.typeof("$[1]", ct)
    local sample = ffi.new(box_t)[0]
    if type(sample) ~= "cdata" or ffi.istype(u64, sample) or ffi.istype(i64, sample) then
      -- a scalar: read it in place, no copy
      local ptr_t = ffi.typeof("const $ *", ct)
      d = function(p) return M.scalar(ffi.cast(ptr_t, p)[0]) end
    else
      -- a struct or array: a copy the caller may keep. Not box[0] of a
      -- [1] array: that is a reference which does not keep the box alive,
      -- so after a garbage collection it reads freed memory.
      d = function(p, size)
        local v = ffi.new(ct)
        ffi.copy(v, p, size)
        return v
      end
    end
  end
  decoders[ct] = d
  return d
end

-- The value of ctype ct at p (size bytes): char arrays as Lua strings (up
-- to the first NUL), scalars as Lua values, structs as cdata copies.
local function decode(ct, p, size)
  return decoder(ct)(p, size)
end
M.decode = decode

-- Per-CPU values: one slot per possible CPU; the slot size is the host's
-- (map.c's value_bytes is slot * CPUs).
function M.percpu_layout(info)
  local ncpu = core.possible_cpus()
  return ncpu, info.value_bytes / ncpu
end

-- A value of a map: per-CPU maps give a Lua array (1-based, one value per
-- possible CPU), others one value.
function M.decode_value(info, vt, p)
  if info.percpu then
    local ncpu, slot = M.percpu_layout(info)
    local per = {}
    for c = 0, ncpu - 1 do per[c + 1] = decode(vt, p + c * slot, info.value_size) end
    return per
  end
  return decode(vt, p, info.value_size)
end

-- One whole-map read (batch syscall, or iteration): the raw key and value
-- bytes and how to decode entry i. opts.iterate forces the fallback path;
-- opts.take deletes what it reads.
local function snapshot(obj, map, opts)
  opts = opts or {}
  local kt, vt = M.key_value_types(obj, map)
  local info = map:info()
  local keys, vals, n, batched
  if opts.take then
    keys, vals, n, batched = map:take_all(opts)
  else
    keys, vals, n, batched = map:read_all(opts)
  end
  return { keys = keys, vals = vals, n = n, batched = batched, info = info, vt = vt,
    kp = ffi.cast(u8p, keys), vp = ffi.cast(u8p, vals), dk = decoder(kt),
    dv = not info.percpu and decoder(vt) or nil,
    ks = info.key_size, vs = info.value_size, vstride = info.value_bytes }
end

-- Decoders of entry j (0-based) of snapshot s: key(j), value(j).
local function entry_decoders(s)
  local kp, vp, ks, vs, vstride, dk, dv = s.kp, s.vp, s.ks, s.vs, s.vstride, s.dk, s.dv
  local info, vt = s.info, s.vt
  local function key(j) return dk(kp + j * ks, ks) end
  local function value(j)
    if dv then return dv(vp + j * vstride, vs) end
    return M.decode_value(info, vt, vp + j * vstride)
  end
  return key, value
end

-- Read the map: returns an array of {key, value} (values of per-CPU maps
-- are Lua arrays indexed by CPU, 1-based), the count, and whether the
-- batch syscall was used. opts as snapshot's.
function M.read(obj, map, opts)
  local s = snapshot(obj, map, opts)
  local key, value = entry_decoders(s)
  local out = {}
  for i = 0, s.n - 1 do out[i + 1] = { key(i), value(i) } end
  return out, s.n, s.batched
end

-- Iterate over one read of the map without building the entries: each
-- step decodes one key and value from the snapshot's bytes (a 100k-entry
-- read-out would otherwise allocate 100k {key, value} tables first).
-- which: nil for key, value; 1 keys only; 2 values only.
function M.iter(obj, map, opts, which)
  local s = snapshot(obj, map, opts)
  local keys, vals = s.keys, s.vals -- the bytes the decoders point into
  local key, value = entry_decoders(s)
  local n, i = s.n, -1
  return function()
    i = i + 1
    if i >= n then keys, vals = nil, nil; return nil end
    if which == 2 then return value(i) end
    local k = key(i)
    if which == 1 then return k end
    return k, value(i)
  end
end

-- Bytes of a cdata value (for lookup/update with typed keys).
function M.bytes(ct, value)
  local box = ffi.new(ffi.typeof("$[1]", ct))
  box[0] = value
  return ffi.string(box, ffi.sizeof(ct))
end

return M
