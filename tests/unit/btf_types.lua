-- FFI types generated from a BPF object's BTF (no load, no root needed):
-- sizes and member offsets must match what clang laid out, bitfields must
-- land on the bits BTF names.
local core = require "luatrace.core"
local types = require "luatrace.types"
local ffi = require "ffi"

local function open_types()
  return core.open_file(test_obj("types"))
end

test("a plain event struct decodes field by field", function()
  local o = core.open_file(test_obj("events"))
  local ct = types.ctype(o, "struct lt_test_open")
  eq(ffi.sizeof(ct), 160, "size")
  eq(ffi.offsetof(ct, "pid"), 0); eq(ffi.offsetof(ct, "seq"), 4)
  eq(ffi.offsetof(ct, "dfd"), 8); eq(ffi.offsetof(ct, "flag"), 12)
  eq(ffi.offsetof(ct, "__lt_comm"), 13); eq(ffi.offsetof(ct, "__lt_fname"), 29)
  -- the same name without "struct " finds the same type
  eq(core.btf_decl(o, "lt_test_open"), core.btf_decl(o, "struct lt_test_open"))
  o:close()
end)

test("packed, nested, over-aligned structs keep BTF's layout", function()
  local o = open_types()
  for _, name in ipairs({ "struct lt_test_packed", "struct lt_test_nested",
                          "struct lt_test_aligned" }) do
    local ct = types.ctype(o, name) -- checks size and every member offset
    eq(ffi.sizeof(ct), core.btf_layout(o, name).size, name .. " size")
  end
  eq(ffi.sizeof(types.ctype(o, "struct lt_test_packed")), 7)
  local n = types.ctype(o, "struct lt_test_nested")
  eq(ffi.offsetof(n, "word"), 16, "anonymous union member after 14 packed bytes")
  eq(ffi.offsetof(n, "__lt_ptr"), 24, "pointer after padding")
  local v = ffi.new(n)
  v.neg = -5
  eq(v.neg, -5, "signed member")
  v.bytes[0] = 0x11; v.bytes[3] = 0x44
  eq(v.word, 0x44000011, "union view")
  v.name = "abcd"
  eq(v.name, "abcd", "char array as a Lua string")
  eq(v.__lt_name[4], 0, "NUL-terminated")
  raises(function() v.name = "abcde" end, "string of 5 bytes does not fit name (5 bytes with its NUL)")
  eq(v.ptr, 0, "pointer as a number")
  v.ptr = 0xffffffff81000000ULL
  eq(v.ptr, 0xffffffff81000000ULL, "kernel address stays uint64")
  eq(type(v.ptr), "cdata")
  v.grid[1][2] = 7
  eq(tonumber(v.grid[1][2]), 7)
  eq(ffi.sizeof(types.ctype(o, "struct lt_test_aligned")), 32)
  o:close()
end)

test("a cache-line aligned member pads the struct's tail, nested too (task_struct's shape)", function()
  local o = open_types()
  -- z's type is 64-aligned, so 64 bytes long: x, z at 64, w at 128, size 192
  eq(ffi.sizeof(types.ctype(o, "struct lt_test_cacheline")), 192)
  local ct = types.ctype(o, "struct lt_test_cacheline_outer") -- checks every member offset
  eq(ffi.sizeof(ct), 256)
  eq(ffi.offsetof(ct, "t"), 192)
  o:close()
end)

test("bitfields occupy exactly the bits BTF says", function()
  local o = open_types()
  local name = "struct lt_test_bits"
  local ct = types.ctype(o, name)
  eq(ffi.sizeof(ct), 24, "size")
  for _, m in ipairs(core.btf_layout(o, name).members) do
    if m.bitfield_size > 0 then
      local v = ffi.new(ct)
      v[m.name] = -1 -- all ones in the field's width
      local bytes = ffi.cast("const uint8_t *", v)
      local set = {}
      for bit = 0, ffi.sizeof(ct) * 8 - 1 do
        local b = bytes[math.floor(bit / 8)]
        if math.floor(b / 2 ^ (bit % 8)) % 2 == 1 then set[#set + 1] = bit end
      end
      eq(#set, m.bitfield_size, m.name .. " width")
      eq(set[1], m.bit_offset, m.name .. " first bit")
      eq(set[#set], m.bit_offset + m.bitfield_size - 1, m.name .. " last bit")
    end
  end
  o:close()
end)

test("an unknown type is a clear error", function()
  local o = open_types()
  raises(function() types.ctype(o, "struct no_such_type") end,
    "find BTF type struct no_such_type: not in the object's BTF")
  o:close()
end)

test("types are cached per object", function()
  local o = open_types()
  eq(types.ctype(o, "struct lt_test_packed"), types.ctype(o, "struct lt_test_packed"))
  o:close()
end)
