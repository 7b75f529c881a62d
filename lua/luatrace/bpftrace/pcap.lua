-- luatrace.bpftrace.pcap: the files of skboutput(): one pcap file per path
-- (RAW IP link type, as bpftrace writes them), fed from the perf buffer
-- lt_bt_skb whose records are { u64 id; u64 ns; u64 len; u64 off; } then
-- the skb's first len bytes. Timestamps are boot-time nanoseconds made
-- wall-clock (uvalues' strftime offset).
local ffi = require "ffi"

local M = {}

local LINKTYPE_RAW = 101
local META = 32

local function u32(n) return string.char(n % 256, math.floor(n / 256) % 256, math.floor(n / 65536) % 256, math.floor(n / 16777216) % 256) end
local function u16(n) return string.char(n % 256, math.floor(n / 256) % 256) end

-- Open every file of paths (truncated, with the global header); returns a
-- writer with :record(ptr, size) and :close(). Errors name the file.
function M.open(paths)
  local files = {}
  for i, path in ipairs(paths) do
    local fh, err = io.open(path, "wb")
    if not fh then
      for _, f in ipairs(files) do f:close() end
      error(("skboutput(): cannot write %s: %s"):format(path, err), 0)
    end
    fh:write(u32(0xa1b2c3d4), u16(2), u16(4), u32(0), u32(0), u32(65535), u32(LINKTYPE_RAW))
    fh:flush()
    files[i] = fh
  end
  local w = { files = files }
  local uvalues = require "luatrace.bpftrace.uvalues"
  function w:record(p, size)
    if size < META then return end
    local m = ffi.cast("const uint64_t *", p)
    local id, ns, len, off = tonumber(m[0]), tonumber(m[1]), tonumber(m[2]), tonumber(m[3])
    local fh = files[id]
    if not fh then return end
    len = math.min(len, size - META)
    if off > len then off = len end
    local wall = uvalues.wall_ns(ns)
    local sec = math.floor(wall / 1e9)
    local usec = math.floor((wall - sec * 1e9) / 1e3)
    local n = len - off
    fh:write(u32(sec), u32(usec), u32(n), u32(n), ffi.string(ffi.cast("const char *", p) + META + off, n))
    fh:flush()
  end
  function w:close()
    for _, f in ipairs(files) do f:close() end
    files = {}
  end
  return w
end

return M
