-- luatrace.events: hand each record of a ring or perf buffer channel to Lua
-- as a typed pointer, with no C-to-Lua callback per event.
--
-- Ring buffers are read in place: the channel's view (host/ringview.c) maps
-- the ring, and this module walks its records with FFI and advances the
-- consumer position after each callback, exactly as the kernel defines
-- the layout (8-byte headers with busy and discard bits, records 8-byte
-- aligned, the data area mapped twice so a wrapping record is contiguous).
-- LuaJIT compiles the walk and an inlined callback into one trace.
-- Perf buffers (and a ring without a view) are drained by C into a batch of
-- struct lt_record headers that the second walker reads.
local ffi = require "ffi"
local abi = require "luatrace.abi"

local M = {}
local u8p = ffi.typeof("const uint8_t *")
local u64p = ffi.typeof("uint64_t *")
local record_ptr, hdr = abi.record_ptr, abi.record_size
local rhdr_ptr, BUSY, DISCARD = abi.ringbuf_hdr_ptr, abi.ringbuf_busy, abi.ringbuf_discard
local RHDR = abi.ringbuf_hdr_size
local tonumber = tonumber

-- Records handed out per call before returning "more", so one busy ring
-- cannot starve the others polled with it.
M.ring_batch = 65536

-- The in-place view of a ring channel. chan:view() is asked on every
-- drain (one C call per batch) so a closed channel, whose mapping is gone,
-- is never read; the FFI pointers are made once per mapping.
local views = setmetatable({}, { __mode = "k" })
local function view_of(chan)
  local cons, prod, data, size = chan:view()
  if not cons then return nil end
  local v = views[chan]
  if not v or v.raw ~= cons then
    v = { raw = cons, cons = ffi.cast(u64p, cons), prod = ffi.cast(u64p, prod),
          data = ffi.cast(u8p, data), size = size, pending = nil }
    views[chan] = v
  end
  return v
end

-- Walk the records of a view between the consumer and producer positions
-- (read once: libbpf does the same), calling fn(ptr, len, -1). The
-- consumer position moves past each record after its callback; if a
-- callback raises, `pending` says where the next walk resumes (the record
-- whose callback failed counts as consumed).
function M.ring_walk(v, ptrtype, fn, limit)
  local cons_p, data, size = v.cons, v.data, v.size
  if v.pending then cons_p[0] = v.pending; v.pending = nil end
  local cons = tonumber(cons_p[0])
  local prod = tonumber(v.prod[0])
  local n = 0
  while cons < prod do
    local off = cons % size
    local len = ffi.cast(rhdr_ptr, data + off).len
    if len >= BUSY then break end -- reserved, not yet committed
    local dlen = len % DISCARD
    local total = dlen + RHDR + 7
    local nxt = cons + total - total % 8
    if len < DISCARD then
      v.pending = nxt
      local p = data + off + RHDR
      fn(ptrtype and ffi.cast(ptrtype, p) or p, dlen, -1)
      n = n + 1
    end
    cons_p[0] = nxt
    cons = nxt
    if n >= limit then break end
  end
  v.pending = nil
  return n, n >= limit and cons < prod
end

-- Drain the C batch of chan once (perf buffers; rings without a view).
local function batch_walk(chan, ptrtype, fn)
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

-- Drain chan once; call fn(data_ptr, len, cpu) for each record, data_ptr
-- cast to ptrtype when given. Returns the record count and whether the
-- channel has more waiting.
function M.drain(chan, ptrtype, fn)
  local v = view_of(chan)
  if v then return M.ring_walk(v, ptrtype, fn, M.ring_batch) end
  return batch_walk(chan, ptrtype, fn)
end

-- Drain until empty (in bounded batches).
function M.drain_all(chan, ptrtype, fn)
  local total = 0
  repeat
    local n, more = M.drain(chan, ptrtype, fn)
    total = total + n
  until not more
  return total
end

return M
