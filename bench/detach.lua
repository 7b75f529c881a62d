-- bench/detach.lua: how long closing many probes takes (the exit time of
-- a tracer with many links). Attaches N uprobes + N uretprobes on libc
-- functions of this process and N tracepoints, then times b:cleanup().
--   build/luatrace bench/detach.lua [N]
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

local function timed(what, attach)
  local b = lt.BPF{ text = SRC }
  local n = attach(b)
  local t0 = core.monotonic_ns()
  b:cleanup()
  local ms = (core.monotonic_ns() - t0) / 1e6
  print(("%-28s %3d links  close %7.1f ms  (%.1f ms/link)"):format(what, n, ms, ms / n))
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
