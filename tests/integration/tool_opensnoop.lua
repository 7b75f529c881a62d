-- opensnoop: our own opens (a file that exists, one that does not), exact
-- lines and JSON, and the same events as Debian's libbpf-tools opensnoop.
local core = require "luatrace.core"
local T = require "tool_helpers"
local ffi = require "ffi"
pcall(ffi.cdef, [[
int open(const char *path, int flags, ...);
int close(int fd);
]])
local me = core.getpid()
local comm = "luatrace"

-- open(2) a path read-only (libc's open is openat(AT_FDCWD, ...)); returns
-- the fd it got (closed again) or -1.
local function try_open(path, flags)
  local fd = ffi.C.open(path, flags or 0)
  if fd >= 0 then ffi.C.close(fd) end
  return fd
end

test("opensnoop -p PID: exact lines for an existing and a missing file", function()
  local good = unique_path("open-good")
  io.open(good, "w"):close()
  local missing = unique_path("open-missing")
  local fd1
  local r = T.tool(("opensnoop -p %d"):format(me), function()
    fd1 = try_open(good)
    try_open(missing)
  end)
  os.remove(good)
  local got = T.lines_with(r.out, "luatrace-test-" .. me .. "-open-")
  eq(r.out:match("^[^\n]*"), ("%-6s %-16s %3s %3s PATH"):format("PID", "COMM", "FD", "ERR"), "header")
  eq(got[1], ("%-6d %-16s %3d %3d %s"):format(me, comm, fd1, 0, good))
  eq(got[2], ("%-6d %-16s %3d %3d %s"):format(me, comm, -1, 2, missing))
  eq(#got, 2)
end)

test("opensnoop -x -e -U: failed opens only, with flags and UID", function()
  local good = unique_path("open-x-good")
  io.open(good, "w"):close()
  local missing = unique_path("open-x-missing")
  local r = T.tool(("opensnoop -x -e -U -p %d"):format(me), function()
    try_open(good)
    try_open(missing, 0x80000 + 0x800) -- O_CLOEXEC | O_NONBLOCK
  end)
  os.remove(good)
  local got = T.lines_with(r.out, "luatrace-test-" .. me .. "-open-x")
  eq(r.out:match("^[^\n]*"), ("%-7s %-6s %-16s %3s %3s %-8s PATH"):format("UID", "PID", "COMM", "FD", "ERR", "FLAGS"))
  eq(got[1], ("%-7d %-6d %-16s %3d %3d %08o %s"):format(0, me, comm, -1, 2, 0x80800, missing))
  eq(#got, 1)
end)

test("opensnoop --json: one object per open", function()
  local missing = unique_path("open-json")
  local r = T.tool(("opensnoop --json -p %d"):format(me), function() try_open(missing) end)
  local got = T.lines_with(r.out, missing)
  eq(#got, 1, r.out)
  eq(got[1]:gsub(',"ts_ns":%d+', ""), ('{"uid":0,"pid":%d,"tid":%d,"comm":"%s","fd":-1,"err":2,"flags":0,"mode":0,"path":"%s"}')
    :format(me, me, comm, missing))
end)

test("opensnoop and Debian's libbpf-tools opensnoop see the same opens", function()
  local peer = T.peer("opensnoop")
  if not peer then return skip("libbpf-tools is not installed (tools/deps.sh installs it)") end
  local paths = {}
  local res = T.around({ ("exec %s -m opensnoop -p %d"):format(q(luatrace()), me),
    ("exec %s -p %d"):format(peer, me) }, function()
    for i = 1, 4 do
      paths[i] = unique_path("open-peer")
      if i % 2 == 0 then io.open(paths[i], "w"):close() end
      try_open(paths[i])
    end
  end, 500)
  for i = 1, 4 do os.remove(paths[i]) end
  local ours = T.lines_with(res[1].out, "-open-peer-")
  local theirs = T.lines_with(res[2].out, "-open-peer-")
  eq(#ours, 6, "our lines (creating a file opens it too):\n" .. res[1].out)
  eq(table.concat(ours, "\n"), table.concat(theirs, "\n"))
end)

test("opensnoop as a module: start() without a callback, records from running:events()", function()
  local opensnoop = require("luatrace.tool").load("opensnoop")
  local running = opensnoop.start(opensnoop.parse{ "-p", tostring(me) })
  local paths = { unique_path("events1"), unique_path("events2") }
  for _, p in ipairs(paths) do try_open(p) end
  local got = {}
  for rec in running:events(500) do
    if rec.path:find("-events", 1, true) then got[#got + 1] = ("%s %d %d %d"):format(rec.path, rec.pid, rec.fd, rec.err) end
  end
  running:stop()
  eq(table.concat(got, "\n"), ("%s %d -1 2\n%s %d -1 2"):format(paths[1], me, paths[2], me))
end)
