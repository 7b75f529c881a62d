-- statsnoop and mountsnoop: stats and mounts of our own process, exact
-- lines and JSON, and the same events as Debian's libbpf-tools.
local core = require "luatrace.core"
local T = require "tool_helpers"
local ffi = require "ffi"
pcall(ffi.cdef, [[
int mount(const char *src, const char *target, const char *fs, unsigned long flags, const void *data);
int umount2(const char *target, int flags);
]])
local me = core.getpid()

local function mnt_ns()
  local out = sh("readlink /proc/" .. me .. "/ns/mnt")
  return tonumber(out:match("%[(%d+)%]"))
end

test("statsnoop -p PID: our stats, found and missing", function()
  local missing = unique_path("stat-missing")
  local r = T.tool(("statsnoop -p %d"):format(me), function()
    core.stat("/")
    core.stat(missing)
  end)
  eq(r.out:match("^[^\n]*"), ("%-7s %-20s %-4s %-4s %-s"):format("PID", "COMM", "RET", "ERR", "PATH"))
  local lines = T.lines_with(r.out, missing)
  eq(#lines, 1, r.out)
  eq(lines[1], ("%-7d %-20s %-4d %-4d %-s"):format(me, "luatrace", -1, 2, missing))
  local root = {}
  for l in r.out:gmatch("[^\n]+") do if l:match(" /$") then root[#root + 1] = l end end
  eq(root[1], ("%-7d %-20s %-4d %-4d %-s"):format(me, "luatrace", 0, 0, "/"))
end)

test("statsnoop -x -t --json: failed stats only, with the syscall", function()
  local missing = unique_path("stat-json")
  local r = T.tool(("statsnoop -x -t --json -p %d"):format(me), function()
    core.stat("/")
    core.stat(missing)
  end)
  local lines = T.lines_with(r.out, '"pid":' .. me)
  eq(#lines, 1, r.out)
  local sys = lines[1]:match('"syscall":"(%w+)"')
  ok(sys == "newstat" or sys == "newfstatat" or sys == "statx", lines[1])
  eq(lines[1]:gsub('"timestamp":[%d%.e%-]+,', ""):gsub('"syscall":"%w+",', ""),
    ('{"pid":%d,"comm":"luatrace","ret":-1,"err":2,"path":"%s"}'):format(me, missing))
end)

-- No side-by-side for statsnoop: Debian's libbpf-tools statsnoop (0.26)
-- reports no event at all on this kernel (stat, statx, fstatat alike).

local function with_mountpoint(fn)
  local dir = unique_path("mnt")
  os.execute("mkdir " .. q(dir))
  local ok_, err = pcall(fn, dir)
  ffi.C.umount2(dir, 2)
  os.execute("rmdir " .. q(dir))
  if not ok_ then error(err, 0) end
end

test("mountsnoop -p PID: our mount, umount and a failing umount", function()
  with_mountpoint(function(dir)
    local r = T.tool(("mountsnoop -p %d"):format(me), function()
      eq(ffi.C.mount("ltsrc", dir, "tmpfs", 1 + 2 + 4, "size=1m,mode=700"), 0, "mount")
      eq(ffi.C.umount2(dir, 0), 0, "umount")
      ffi.C.umount2(dir, 0)
    end)
    local ns = mnt_ns()
    eq(r.out:match("^[^\n]*"), ("%-16s %-7s %-7s %-11s %s"):format("COMM", "PID", "TID", "MNT_NS", "CALL"))
    local lines = T.lines_with(r.out, dir)
    local head = ("%-16s %-7d %-7d %-11d "):format("luatrace", me, me, ns)
    eq(lines[1], head .. ('mount("ltsrc", "%s", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=1m,mode=700") = 0'):format(dir))
    eq(lines[2], head .. ('umount("%s", 0x0) = 0'):format(dir))
    eq(lines[3], head .. ('umount("%s", 0x0) = -EINVAL'):format(dir))
    eq(#lines, 3, r.out)
  end)
end)

test("mountsnoop --json and -d", function()
  with_mountpoint(function(dir)
    local r = T.tool(("mountsnoop --json -p %d"):format(me), function()
      eq(ffi.C.mount("ltsrc", dir, "tmpfs", 0, "size=1m"), 0, "mount")
    end)
    local line = T.lines_with(r.out, dir)[1]
    ok(line, r.out)
    eq(line:gsub(',"latency_us":%d+', ""), ('{"comm":"luatrace","pid":%d,"tid":%d,"mnt_ns":%d,"op":"mount","src":"ltsrc","dest":"%s","fs":"tmpfs","data":"size=1m","flags":0,"flag_names":"0x0","ret":0}')
      :format(me, me, mnt_ns(), dir))
    r = T.tool(("mountsnoop -d -p %d"):format(me), function() ffi.C.umount2(dir, 0) end)
    local body = r.out:gsub("LAT:    %d+us\n", "LAT:    Nus\n")
    eq(body, table.concat({ "PID:    " .. me, "TID:    " .. me, "COMM:   luatrace", "OP:     UMOUNT",
      "RET:    0", "LAT:    Nus", "MNT_NS: " .. mnt_ns(), "FS:     ", "SOURCE: ", "TARGET: " .. dir,
      "DATA:   ", "FLAGS:  0x0", "", "" }, "\n"))
  end)
end)

test("mountsnoop and Debian's libbpf-tools mountsnoop: the same calls", function()
  local peer = T.peer("mountsnoop")
  if not peer then return skip("libbpf-tools is not installed (tools/deps.sh installs it)") end
  with_mountpoint(function(dir)
    local res = T.around({ ("exec %s -m mountsnoop -p %d"):format(q(luatrace()), me),
      ("exec %s -p %d"):format(peer, me) }, function()
      ffi.C.mount("ltsrc", dir, "tmpfs", 0, "size=1m")
      ffi.C.umount2(dir, 0)
      ffi.C.umount2(dir, 0)
    end, 500)
    local a, b = T.lines_with(res[1].out, dir), T.lines_with(res[2].out, dir)
    eq(#a, 3, res[1].out)
    eq(table.concat(a, "\n"), table.concat(b, "\n"))
  end)
end)
