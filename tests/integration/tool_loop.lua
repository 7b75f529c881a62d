-- luatrace.loop: one epoll for several BPF objects, plain fds, timers and
-- signals.
local core = require "luatrace.core"
local lt = require "luatrace"
local loop = require "luatrace.loop"
local ffi = require "ffi"
pcall(ffi.cdef, [[
int pipe(int fds[2]);
long write(int fd, const void *buf, size_t n);
long read(int fd, void *buf, size_t n);
int close(int fd);
int kill(int pid, int sig);
]])

local function events_obj()
  return lt.BPF{ obj = test_obj("events"), globals = { target_pid = core.getpid() } }
end

test("two BPF objects on one loop: each gets every record, in order", function()
  local a, b = events_obj(), events_obj()
  local got = { a = {}, b = {} }
  local function keep(t) return function(ev)
    if ev.fname:find("-loop", 1, true) then table.insert(t, ev.fname) end
  end end
  a.events:open_ring_buffer(keep(got.a), { type = "struct lt_test_open" })
  local L = loop.new()
  L:add(a)
  L:add(b)
  -- a channel opened after add() is picked up too
  b.events:open_ring_buffer(keep(got.b), { type = "struct lt_test_open" })
  local paths = {}
  for i = 1, 3 do paths[i] = unique_path("loop" .. i); touch_open(paths[i]) end
  local ok = L:run{ until_fn = function() return #got.a == 3 and #got.b == 3 end, duration_ms = 5000 }
  eq(ok, true, "run result")
  for i = 1, 3 do
    eq(got.a[i], paths[i], "object a record " .. i)
    eq(got.b[i], paths[i], "object b record " .. i)
  end
  a:cleanup(); b:cleanup()
  L:close()
end)

test("add_fd, remove_fd, every, after and stop", function()
  local L = loop.new()
  local fds = ffi.new("int[2]")
  eq(ffi.C.pipe(fds), 0, "pipe")
  local got = {}
  L:add_fd(fds[0], function(fd)
    local buf = ffi.new("char[16]")
    local n = ffi.C.read(fd, buf, 16)
    got[#got + 1] = ffi.string(buf, n)
  end)
  local ticks = 0
  local t = L:every(20, function() ticks = ticks + 1 end)
  L:after(30, function() ffi.C.write(fds[1], "hi", 2) end)
  L:after(150, function() L:stop() end)
  eq(L:run(), true, "stopped")
  eq(table.concat(got, ","), "hi", "pipe data")
  ok(ticks >= 3, "every fired " .. ticks .. " times")
  t:cancel()
  local before = ticks
  L:remove_fd(fds[0])
  ffi.C.write(fds[1], "no", 2)
  eq(L:run{ duration_ms = 60 }, true, "duration")
  eq(ticks, before, "a cancelled timer stays quiet")
  eq(#got, 1, "a removed fd is not watched")
  ffi.C.close(fds[0]); ffi.C.close(fds[1])
  L:close()
end)

test("SIGTERM ends run() with false, in a wait or in a callback", function()
  local L = loop.new()
  -- in the wait: from another process
  local p = io.popen(("sleep 0.2; kill -TERM %d"):format(core.getpid()))
  local res = L:run{ duration_ms = 5000 }
  p:close()
  core.reset_interrupt()
  eq(res, false, "run after SIGTERM in the wait")
  L:after(10, function() ffi.C.kill(core.getpid(), 15) end)
  res = L:run{ duration_ms = 3000 }
  core.reset_interrupt()
  eq(res, false, "run after SIGTERM in a timer")
  L:close()
end)
