-- luatrace.abi: the host's batch layout (host/lt_abi.h), declared once.
-- The text comes from the header itself (embedded by the build), so C and
-- Lua cannot disagree about it.
local ffi = require "ffi"
local core = require "luatrace.core"

local text = core.abi_cdef:gsub("#[^\n]*", "")
ffi.cdef(text)

return {
  record_ptr = ffi.typeof("const struct lt_record *"),
  record_size = ffi.sizeof("struct lt_record"),
}
