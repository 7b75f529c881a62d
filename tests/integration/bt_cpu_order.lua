-- Records of one probe's run stay together: a probe's printf()s (or
-- time() and printf()) are records of their own in the one ring buffer,
-- and another CPU's records can come between them; the runtime writes
-- each CPU's text of a batch together (the CPU is in each record's id),
-- as bpftrace's per-CPU buffers keep them. (A pair can still split where
-- a drain of the ring falls between its two records, as in bpftrace.)
local core = require "luatrace.core"
local bt = require "luatrace.bpftrace"
local LT = luatrace()

test("two CPUs' probe runs in one batch: each run's two lines stay together", function()
  if #core.online_cpus() < 2 then skip("one CPU") end
  local u = ("lt%dpr"):format(core.getpid())
  local N = 4000 -- 16000 records, 400 KB: the 1 MB ring holds them all
  local printed = {}
  local p = bt.load(('t:syscalls:sys_enter_getppid /comm == "%s"/ { printf("a %%d\\n", tid); printf("b %%d\\n", tid); }')
    :format(u), { out = function(s) printed[#printed + 1] = s end, print_maps = false })
  -- both processes run to their end before the ring is read: one batch
  local worker = ("%s -e 'local ffi = require [[ffi]]; "
    .. "ffi.cdef [[int prctl(int, const char *, long, long, long); int getppid(void);]]; "
    .. "ffi.C.prctl(15, [[%s]], 0, 0, 0); for _ = 1, %d do ffi.C.getppid() end'"):format(q(LT), u, N)
  os.execute(("taskset -c 0 %s & taskset -c 1 %s; wait"):format(worker, worker))
  p:run { duration_ms = 300 }
  local lines = {}
  for l in table.concat(printed):gmatch("[^\n]+") do if l:match("^[ab] %d+$") then lines[#lines + 1] = l end end
  eq(#lines, 4 * N, "every call's two lines")
  local split, tids, i = 0, {}, 1
  while i <= #lines do
    local tid = lines[i]:match("^a (%d+)$")
    if tid and lines[i + 1] == "b " .. tid then
      tids[tid] = true
      i = i + 2
    else
      split, i = split + 1, i + 1
    end
  end
  local n = 0
  for _ in pairs(tids) do n = n + 1 end
  eq(n, 2, "two processes")
  eq(split, 0, "pairs split") -- (a few hundred to thousands before)
end)
