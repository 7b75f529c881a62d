-- luatrace.events: pull batches from ring/perf buffer channels and hand each
-- record to Lua as a typed pointer. The walk is plain FFI arithmetic over
-- the batch (struct lt_record headers), which LuaJIT compiles into a trace:
-- no C-to-Lua callback per event.
local ffi = require "ffi"
local abi = require "luatrace.abi"

local M = {}
local u8p = ffi.typeof("const uint8_t *")
local record_ptr, hdr = abi.record_ptr, abi.record_size

-- Drain chan once; call fn(data_ptr, len, cpu) for each record, data_ptr
-- cast to ptrtype when given. Returns the record count and whether the
-- channel has more waiting.
function M.drain(chan, ptrtype, fn)
  local base, n, _, more = chan:drain()
  if n == 0 then return 0, more end
  local p = ffi.cast(u8p, base)
  for _ = 1, n do
    local r = ffi.cast(record_ptr, p)
    local data = p + hdr
    fn(ptrtype and ffi.cast(ptrtype, data) or data, r.len, r.cpu)
    p = p + r.next
  end
  return n, more
end

-- Drain until empty (a ring buffer drains in bounded batches).
function M.drain_all(chan, ptrtype, fn)
  local total = 0
  repeat
    local n, more = M.drain(chan, ptrtype, fn)
    total = total + n
  until not more
  return total
end

return M
