-- biosnoop, biolatency, bitesize: O_DIRECT reads of a file this test wrote
-- (and synced), from this process: exact lines and counts where the I/O
-- is ours (-p), at-least counts where the whole disk is measured.
local core = require "luatrace.core"
local T = require "tool_helpers"
local ffi = require "ffi"
pcall(ffi.cdef, [[
int open(const char *path, int flags, ...);
int close(int fd);
long pread(int fd, void *buf, size_t n, long off);
int posix_memalign(void **p, size_t align, size_t size);
void free(void *p);
]])
local me = core.getpid()
local O_DIRECT = 0x4000

-- A 64 KiB file on disk (written with O_DIRECT and fsync'd, so reading it
-- back with O_DIRECT is one request per read), its first sector on the
-- disk and the disk's name, or nil when the filesystem is not on a whole
-- disk (then sectors are partition-relative and the test skips them).
-- The file must be one extent: on a busy disk 16 direct writes can land
-- apart, and a read across two extents is two requests at other sectors;
-- so its blocks are allocated at once (fallocate) before they are written.
local function setup()
  local path = unique_path("bio")
  local frag
  for _ = 1, 5 do
    eq(core.exec({ "fallocate", "-l", "65536", path }), 0, "fallocate")
    local code = core.exec({ "dd", "if=/dev/urandom", "of=" .. path, "bs=4096", "count=16",
      "oflag=direct", "conv=fsync,notrunc", "status=none" })
    eq(code, 0, "dd wrote the file")
    _, frag = core.exec({ "filefrag", "-v", path })
    if frag:match("\n[^\n]*: 1 extent found") then break end
    os.remove(path)
  end
  ok(frag:match("\n[^\n]*: 1 extent found"), "a file of one extent: " .. frag)
  local block = tonumber(frag:match("\n%s*0:%s+0%.%.%s*%d+:%s+(%d+)%.%."))
  local src = sh("df --output=source " .. q(path)):match("\n/dev/(%S+)")
  local whole = src and core.stat("/sys/block/" .. src)
  return path, block and whole and block * 8, whole and src
end

local function direct_reads(path, sizes)
  local fd = ffi.C.open(path, O_DIRECT)
  assert(fd >= 0, "open O_DIRECT")
  local pp = ffi.new("void *[1]")
  assert(ffi.C.posix_memalign(pp, 4096, 65536) == 0)
  local off = 0
  for _, n in ipairs(sizes) do
    assert(ffi.C.pread(fd, pp[0], n, off) == n, "pread")
    off = off + n
  end
  ffi.C.free(pp[0])
  ffi.C.close(fd)
end

test("biosnoop -p PID: one exact line per O_DIRECT read", function()
  local path, sector, disk = setup()
  local r = T.tool(("biosnoop -p %d"):format(me), function()
    direct_reads(path, { 4096, 4096, 8192, 16384 })
  end)
  os.remove(path)
  eq(r.out:match("^[^\n]*"), ("%-11s %-14s %-7s %-7s %-4s %-10s %-7s %7s"):format(
    "TIME(s)", "COMM", "PID", "DISK", "T", "SECTOR", "BYTES", "LAT(ms)"))
  local lines = T.lines_with(r.out, (" %-14.14s %-7d "):format("luatrace", me))
  eq(#lines, 4, r.out)
  if not sector then return skip("the file system is not on a whole disk: sectors not checked") end
  local offs, sizes = { 0, 8, 16, 32 }, { 4096, 4096, 8192, 16384 }
  for i, l in ipairs(lines) do
    local rest = l:sub(13):gsub("%s+[%d%.]+$", "")
    eq(rest, ("%-14.14s %-7d %-7s %-4s %-10d %d"):format("luatrace", me, disk, "RS", sector + offs[i], sizes[i]), "read " .. i)
  end
end)

test("biosnoop --json -Q: objects with queue and latency times", function()
  local path = setup()
  local r = T.tool(("biosnoop --json -Q -p %d"):format(me), function() direct_reads(path, { 4096 }) end)
  os.remove(path)
  local line = T.lines_with(r.out, '"pid":' .. me)[1]
  ok(line, r.out)
  ok(line:match('^{"time":[%d%.e%-]+,"comm":"luatrace","pid":' .. me
    .. ',"disk":"%w+","rwbs":"RS","op":0,"sector":%d+,"bytes":4096,"queue_ms":[%d%.e%-]+,"latency_ms":[%d%.e%-]+}$'), line)
end)

test("bitesize -c COMM: a child's reads by size, exactly", function()
  local path = setup()
  -- dd under a name of its own (a symlink: the comm is the name exec'd,
  -- cut at 15 bytes, so the unique part comes first), warmed up first so
  -- loading it reads nothing from disk
  local dir = unique_path("bitedir")
  os.execute("mkdir " .. q(dir))
  local dd = ("%s/ltbite%d"):format(dir, me % 100000000)
  os.execute(("ln -s \"$(command -v dd)\" %s"):format(q(dd)))
  core.exec({ dd, "if=" .. path, "of=/dev/null", "bs=4096", "count=1", "status=none" })
  local name = dd:match("[^/]+$"):sub(1, 15)
  local r = T.tool(("bitesize -c %s"):format(q(name)), function()
    core.exec({ dd, "if=" .. path, "of=/dev/null", "bs=4096", "count=3", "iflag=direct", "status=none" })
    core.exec({ dd, "if=" .. path, "of=/dev/null", "bs=16384", "count=2", "skip=1", "iflag=direct", "status=none" })
  end)
  os.remove(path); os.remove(dd); os.remove(dir)
  local want = table.concat({
    "Tracing block device I/O... Hit Ctrl-C to end.", "", "",
    "Process Name = " .. name,
    "     Kbytes              : count    distribution",
    "         0 -> 1          : 0        |                                        |",
    "         2 -> 3          : 0        |                                        |",
    "         4 -> 7          : 3        |****************************************|",
    "         8 -> 15         : 0        |                                        |",
    "        16 -> 31         : 2        |**************************              |", "" }, "\n")
  eq(r.out, want)
end)

test("biolatency -D -F: our reads in the disk's ...Sync-Read histogram", function()
  local path, _, disk = setup()
  if not disk then os.remove(path); return skip("the file system is not on a whole disk") end
  local r = T.tool(("biolatency -D -F -d %s --json"):format(disk), function()
    direct_reads(path, { 4096, 4096, 4096, 4096, 4096, 4096 })
  end)
  os.remove(path)
  local line = r.out:match("^([^\n]+)\n$")
  ok(line, r.out)
  -- O_DIRECT reads are Sync (and Idle on newer kernels)
  local total = tonumber(line:match('{"disk":"' .. disk .. '","flags":"[%a%-]-Sync%-Read","unit":"usecs","total":(%d+)'))
  ok(total and total >= 6, "6 reads in:\n" .. line)
end)
