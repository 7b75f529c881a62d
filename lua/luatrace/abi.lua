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
  ringbuf_hdr_ptr = ffi.typeof("const struct lt_ringbuf_hdr *"),
  ringbuf_busy = ffi.C.LT_RINGBUF_BUSY_BIT,
  ringbuf_discard = ffi.C.LT_RINGBUF_DISCARD_BIT,
  ringbuf_hdr_size = ffi.C.LT_RINGBUF_HDR_SZ,
}
