-- bench/detach.lua: how long closing many probes takes (the exit time of
-- a tracer with many links). Attaches N uprobes + N uretprobes on libc
-- functions of this process, or N tracepoints, and times closing them one
-- by one against b:cleanup() (core.close_links: together, from threads).
--   build/luatrace bench/detach.lua [N [ROUNDS]]
local lt = require "luatrace"
local core = lt.core
local N = tonumber(arg and arg[1]) or 10

local SRC = [[
int on_any(void *ctx) { return 0; }
]]
local FUNCS = { "malloc", "free", "calloc", "realloc", "memalign", "posix_memalign", "valloc",
  "pvalloc", "aligned_alloc", "mmap", "munmap", "mremap", "getpid", "getppid", "getuid", "geteuid" }
-- the first N syscall entry tracepoints of this kernel
local TPS = {}
for name in io.popen("ls /sys/kernel/tracing/events/syscalls"):lines() do
  if name:match("^sys_enter_") then TPS[#TPS + 1] = name end
end

local C = dofile((os.getenv("LUATRACE_ROOT") or ".") .. "/bench/common.lua")
local ROUNDS = tonumber(arg and arg[2]) or 3

-- Close b's links one after another (link:close() each: the old way) or
-- together (b:cleanup(): core.close_links); the close time in ms.
local function close_ms(b, together)
  local t0 = core.monotonic_ns()
  if not together then
    for _, l in pairs(b._links) do l.link:close() end
  end
  b:cleanup()
  return (core.monotonic_ns() - t0) / 1e6
end

local function timed(what, attach)
  local res = { [false] = {}, [true] = {} }
  local n
  for _ = 1, ROUNDS do
    for _, together in ipairs({ false, true }) do
      local b = lt.BPF{ text = SRC }
      n = attach(b)
      table.insert(res[together], close_ms(b, together))
    end
  end
  local one, all = C.median(res[false]), C.median(res[true])
  print(("%-26s %3d links  one by one %7.1f ms  together %7.1f ms  (%.2fx; medians of %d)")
    :format(what, n, one, all, one / all, ROUNDS))
end

timed("uprobe + uretprobe (libc)", function(b)
  local n = 0
  for i = 1, math.min(N, #FUNCS) do
    b:attach_uprobe{ name = "c", sym = FUNCS[i], fn_name = "on_any", pid = core.getpid() }
    b:attach_uretprobe{ name = "c", sym = FUNCS[i], fn_name = "on_any", pid = core.getpid() }
    n = n + 2
  end
  return n
end)
timed("tracepoint", function(b)
  local n = 0
  for i = 1, math.min(N, #TPS) do
    b:attach_tracepoint{ tp = "syscalls:" .. TPS[i], fn_name = "on_any" }
    n = n + 1
  end
  return n
end)

-- The exit of `memleak -p PID` (user mode: 21 uprobes and uretprobes on
-- the C library), started through the module API on a sleeping child.
local tool = require "luatrace.tool"
local ml = tool.load("memleak")
local child = io.popen("exec sleep 600 & echo $!")
local cpid = child:read("*l")
child:close()
local res = { [false] = {}, [true] = {} }
local n
for _ = 1, ROUNDS do
  for _, together in ipairs({ false, true }) do
    local running = ml.start(ml.parse{ "-p", cpid })
    n = running.b:num_open_uprobes()
    local t0 = core.monotonic_ns()
    if not together then
      for _, l in pairs(running.b._links) do l.link:close() end
    end
    running:stop()
    table.insert(res[together], (core.monotonic_ns() - t0) / 1e6)
  end
end
os.execute("kill " .. cpid)
local one, all = C.median(res[false]), C.median(res[true])
print(("%-26s %3d links  one by one %7.1f ms  together %7.1f ms  (%.2fx; medians of %d)")
  :format("memleak -p PID (stop)", n, one, all, one / all, ROUNDS))
