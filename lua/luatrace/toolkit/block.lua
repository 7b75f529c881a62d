-- luatrace.toolkit.block: disks and request flags for the block I/O tools
-- (biosnoop, biolatency, bitesize). Disks come from /proc/partitions; a
-- device number is the kernel's dev_t (major << 20 | minor) as
-- bpf/lt_block.h reports it; flags are lt_block.h's normalized word
-- (REQ_OP_* in the low byte, then LT_BIO_* bits).
local M = {}

local partitions
local function load_partitions()
  partitions = { by_dev = {}, by_name = {} }
  local f = io.open("/proc/partitions")
  if not f then return end
  for line in f:lines() do
    local ma, mi, name = line:match("^%s*(%d+)%s+(%d+)%s+%d+%s+(%S+)")
    if ma then
      local dev = tonumber(ma) * 2 ^ 20 + tonumber(mi)
      partitions.by_dev[dev] = name
      partitions.by_name[name] = dev
    end
  end
  f:close()
end

-- The disk's name ("vda") of a device number, or nil.
function M.disk_name(dev)
  if not partitions then load_partitions() end
  return partitions.by_dev[dev]
end

-- The device number of a disk name (with or without /dev/), or nil.
function M.disk_dev(name)
  if not partitions then load_partitions() end
  return partitions.by_dev and partitions.by_name[(name:gsub("^/dev/", ""))]
end

-- Options: -d DISK -> the globals filter_dev/targ_dev of lt_block tools.
function M.disk_globals(opts, g)
  if opts.disk then
    g.filter_dev = true
    g.targ_dev = M.disk_dev(opts.disk)
  end
  return g
end

-- validate() helper: an unknown disk is a usage error.
function M.check_disk(o)
  if o.disk and not M.disk_dev(o.disk) then
    return false, ("no disk %s in /proc/partitions"):format(o.disk)
  end
  return true
end

local BIT = {
  SYNC = 2 ^ 8, META = 2 ^ 9, FUA = 2 ^ 10, RAHEAD = 2 ^ 11, PREFLUSH = 2 ^ 12,
  NOWAIT = 2 ^ 13, BACKGROUND = 2 ^ 14, INTEGRITY = 2 ^ 15, IDLE = 2 ^ 16,
  NOMERGE = 2 ^ 17, PRIO = 2 ^ 18,
}
local OP = { [0] = "Read", "Write", "Flush", "Discard", nil, "SecureErase", nil, nil, nil,
  "WriteZeroes", "ZoneOpen", "ZoneClose", "ZoneFinish", "ZoneAppend", nil, "ZoneReset",
  nil, "ZoneResetAll" }
OP[34], OP[35] = "DrvIn", "DrvOut"

local function has(flags, b) return bit.band(flags, b) ~= 0 end

-- The REQ_OP_* value of a flags word.
function M.op(flags) return bit.band(flags, 0xff) end

-- blktrace's RWBS string (R, W, F, D, DE, N; then F, A, S, M), as
-- biosnoop prints it.
function M.rwbs(flags)
  local op, s = M.op(flags), ""
  if has(flags, BIT.PREFLUSH) then s = "F" end
  if op == 1 or op == 9 then s = s .. "W"
  elseif op == 3 then s = s .. "D"
  elseif op == 5 then s = s .. "DE"
  elseif op == 2 then s = s .. "F"
  elseif op == 0 then s = s .. "R"
  else s = s .. "N" end
  if has(flags, BIT.FUA) then s = s .. "F" end
  if has(flags, BIT.RAHEAD) then s = s .. "A" end
  if has(flags, BIT.SYNC) then s = s .. "S" end
  if has(flags, BIT.META) then s = s .. "M" end
  return s
end

-- biolatency -F's label: "Sync-Read", "ReadAhead-Read", ...
local NAMES = { { "NOWAIT", "NoWait-" }, { "BACKGROUND", "Background-" }, { "RAHEAD", "ReadAhead-" },
  { "PREFLUSH", "PreFlush-" }, { "FUA", "FUA-" }, { "INTEGRITY", "Integrity-" }, { "IDLE", "Idle-" },
  { "NOMERGE", "NoMerge-" }, { "PRIO", "Priority-" }, { "META", "Metadata-" }, { "SYNC", "Sync-" } }
function M.flag_names(flags)
  local s = ""
  for _, n in ipairs(NAMES) do
    if has(flags, BIT[n[1]]) then s = s .. n[2] end
  end
  return s .. (OP[M.op(flags)] or "Unknown")
end

return M
