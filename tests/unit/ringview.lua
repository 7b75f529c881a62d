-- The in-place ring buffer reader on a synthetic ring laid out as the
-- kernel lays it out: 8-byte headers (busy and discard bits), 8-byte
-- aligned records, the data area mapped twice (mirrored here by hand).
local ffi = require "ffi"
local events = require "luatrace.events"

local SIZE = 64
local BUSY, DISCARD = 2 ^ 31, 2 ^ 30

-- A fake view plus a producer that writes records at the producer
-- position, mirroring every byte into the second copy of the data area.
local function ring()
  local cons = ffi.new("uint64_t[1]")
  local prod = ffi.new("uint64_t[1]")
  local data = ffi.new("uint8_t[?]", 2 * SIZE)
  local v = { cons = cons, prod = prod, data = ffi.cast("const uint8_t *", data), size = SIZE }
  local function poke32(pos, x)
    for k = 0, 3 do
      local b = math.floor(x / 2 ^ (8 * k)) % 256
      local o = (pos + k) % SIZE
      data[o] = b; data[o + SIZE] = b
    end
  end
  local pos = 0
  -- put(len, flags, byte): a record of len data bytes filled with byte
  function v.put(len, bits, byte)
    poke32(pos, len + (bits or 0))
    poke32(pos + 4, 0)
    for k = 0, len - 1 do
      local o = (pos + 8 + k) % SIZE
      data[o] = byte; data[o + SIZE] = byte
    end
    local at = pos
    pos = pos + math.ceil((len + 8) / 8) * 8
    prod[0] = pos
    return at
  end
  function v.commit(at, len) poke32(at, len) end
  return v
end

local function collect(v, limit)
  local got = {}
  local n, more = events.ring_walk(v, nil, function(p, len, cpu)
    got[#got + 1] = ("%d:%s:%d"):format(len, ffi.string(p, len), cpu)
  end, limit or 100)
  return got, n, more
end

test("records, a discarded one skipped, the consumer position advanced", function()
  local v = ring()
  v.put(3, 0, 65)          -- "AAA", 16 bytes with its header
  v.put(5, DISCARD, 66)    -- discarded: skipped but consumed
  v.put(1, 0, 67)
  local got, n = collect(v)
  eq(n, 2, "records handed out")
  eq(table.concat(got, " "), "3:AAA:-1 1:C:-1")
  eq(tonumber(v.cons[0]), 48, "consumer moved past all three")
end)

test("a busy (uncommitted) record stops the walk until it is committed", function()
  local v = ring()
  v.put(4, 0, 68)
  local at = v.put(4, BUSY, 69)
  v.put(4, 0, 70)
  local got = collect(v)
  eq(table.concat(got, " "), "4:DDDD:-1", "stops at the busy record")
  eq(tonumber(v.cons[0]), 16, "consumer stops before it")
  v.commit(at, 4)
  got = collect(v)
  eq(table.concat(got, " "), "4:EEEE:-1 4:FFFF:-1", "the rest after commit")
end)

test("a record that wraps the end of the data area reads contiguously", function()
  local v = ring()
  v.put(40, 0, 71) -- 48 bytes: next record starts at 48
  collect(v)
  v.put(20, 0, 72) -- 28 -> 32 bytes from 48: wraps past 64
  local got = collect(v)
  eq(got[1], "20:" .. ("H"):rep(20) .. ":-1", "whole record across the wrap")
  eq(tonumber(v.cons[0]), 80, "positions grow past the size")
end)

test("limit bounds one walk and reports more", function()
  local v = ring()
  for i = 1, 3 do v.put(1, 0, 48 + i) end
  local got, n, more = collect(v, 2)
  eq(n, 2); eq(more, true, "more waiting")
  got, n, more = collect(v, 2)
  eq(table.concat(got), "1:3:-1"); eq(more, false)
end)

test("a callback that raises leaves its record consumed, the rest for the next walk", function()
  local v = ring()
  v.put(1, 0, 49); v.put(1, 0, 50); v.put(1, 0, 51)
  local seen = {}
  local ok = pcall(events.ring_walk, v, nil, function(p)
    local s = ffi.string(p, 1)
    seen[#seen + 1] = s
    if s == "2" then error("boom") end
  end, 100)
  eq(ok, false, "the error reached the caller")
  eq(table.concat(seen), "12")
  local got = collect(v)
  eq(table.concat(got, " "), "1:3:-1", "resumes after the failed record")
end)
