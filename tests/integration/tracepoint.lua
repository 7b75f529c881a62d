-- Tracepoints: openat of unique file names by this process arrives in the
-- ring buffer with the exact names, in order, with the right comm and dfd.
local core = require "luatrace.core"
local types = require "luatrace.types"
local ffi = require "ffi"

test("syscalls:sys_enter_openat delivers our file names through a ring buffer", function()
  local o = load("events")
  local link = core.attach_tracepoint(o, "on_openat", "syscalls", "sys_enter_openat")
  eq(link:count(), 1, "one attachment")
  eq(tostring(link), "link tracepoint syscalls:sys_enter_openat")
  local ring = core.ring_buffer(o:map("events"), { lost_map = o:map("events_lost") })
  local want = {}
  for i = 1, 5 do
    want[i] = unique_path("tp" .. i)
    touch_open(want[i])
  end
  local got = {}
  local pt = types.ptr(o, "struct lt_test_open")
  drain(ring, pt, function(e)
    local name = ffi.string(e.fname)
    if name:find("/tmp/luatrace-test-", 1, true) then
      got[#got + 1] = { name = name, pid = e.pid, comm = ffi.string(e.comm), dfd = e.dfd, flag = e.flag }
    end
  end)
  eq(#got, 5, "events")
  for i = 1, 5 do
    eq(got[i].name, want[i], "file name " .. i)
    eq(got[i].pid, core.getpid(), "pid")
    eq(got[i].comm, "luatrace", "comm")
    eq(got[i].dfd, -100, "dfd is AT_FDCWD")
    eq(got[i].flag, 7, "flag")
  end
  eq(ring:lost(), 0, "lost")
  link:close()
  eq(link:count(), 0, "closed")
  link:close() -- idempotent
  ring:close(); o:close(); o:close()
end)

test("detached tracepoint delivers nothing more", function()
  local o = load("events")
  local link = core.attach_tracepoint(o, "on_openat", "syscalls", "sys_enter_openat")
  local ring = core.ring_buffer(o:map("events"))
  link:close()
  touch_open(unique_path("after-detach"))
  eq(drain(ring), 0, "events after detach")
  ring:close(); o:close()
end)
