-- bench/bt_startup.lua: a bpftrace one-liner's time to its first event and
-- peak RSS, luatrace (warm cache, then cold) next to bpftrace 0.17.
--   build/luatrace bench/bt_startup.lua [rounds]
-- The one-liner prints on the first getppid(2) of a trigger process that
-- calls it every millisecond, then exits: first_ms is exec -> that line
-- (bench/progs/runner.c; maxrss from wait4). Not a test: numbers vary.
--
-- The AOT row is the same program without the front end and the cache:
-- the object the one-liner compiles to, written to build/bench once, then
-- loaded with BPF{obj=} and attached by this file itself
-- (`bt_startup.lua --aot OBJ`), as a hand-written tool would do it.
local core = require "luatrace.core"

if arg[1] == "--aot" then
  local lt = require "luatrace"
  local b = lt.BPF{ obj = arg[2] }
  b:attach_tracepoint{ tp = "syscalls:sys_enter_getppid", fn_name = "lt_bt_p1" }
  local seen = false
  b.lt_bt_out:open_ring_buffer(function() seen = true end)
  while not seen do
    if b:ring_buffer_poll(100) == false then break end
  end
  io.stdout:write("hit\n")
  io.stdout:flush()
  return
end

local ROOT = core.exe_path():match("^(.*)/build/[^/]*$") or "."
local LT = core.exe_path()
local RUNNER = ROOT .. "/build/bench/runner"
local rounds = tonumber(arg[1] or "5")

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("*a")
  p:close()
  return out
end

if not core.stat(RUNNER) then
  sh(("make -C %s build/bench/runner"):format(q(ROOT)))
end

-- the trigger: a shell loop of getppid is not possible; python calls it
-- and says its own pid ($! would be a wrapper's, such as pyenv's shim)
local trig = io.popen([[python3 -c 'import os,time
print(os.getpid(), flush=True)
while True:
  os.getppid(); time.sleep(0.001)' </dev/null 2>/dev/null & ]])
local tpid = tonumber(trig:read("*l"))
trig:close()
-- stop the trigger however this script ends
local guard = newproxy(true)
getmetatable(guard).__gc = function() os.execute("kill " .. tpid .. " 2>/dev/null") end

local prog = ('t:syscalls:sys_enter_getppid /pid == %d/ { printf("hit\\n"); exit(); }'):format(tpid)
local function measure(cmd)
  local out = sh(("timeout 60 %s -m hit -- %s"):format(q(RUNNER), cmd))
  local first, rss = out:match("first_ms=([%d.]+).-maxrss_kb=(%d+)")
  return tonumber(first), tonumber(rss)
end

local function median(t)
  table.sort(t)
  return t[math.ceil(#t / 2)]
end

-- Each round runs every tracer once, one after another, so a machine that
-- speeds up or slows down over the run (it does, by 20% here) moves all
-- of them alike; the ratio of each round is kept besides the medians.
-- Each run starts 200 ms after the last one ended, on a quiet machine.
local tracers, samples = {}, {}
local function add(name, cmd)
  tracers[#tracers + 1] = { name = name, cmd = cmd }
  samples[name] = { f = {}, r = {} }
end

-- the AOT object: the one-liner's own C, compiled once (BPF.build)
local AOT = ROOT .. "/build/bench/bt_oneliner.bpf.o"
do
  local lt = require "luatrace"
  local c = require("luatrace.bpftrace").compile(prog, { name = "stdin" }).c
  local _, _, _, bytes = lt.BPF.build(c, { file = "bpftrace:stdin", line = 1 })
  local fh = assert(io.open(AOT, "wb"))
  fh:write(bytes)
  fh:close()
end
local AOT_ROW, WARM, COLD, BT = "luatrace AOT (same object, BPF{obj=})", "luatrace (warm cache)",
  "luatrace (cold: new program, clang)", "bpftrace 0.17"
add(AOT_ROW, ("%s %s --aot %s"):format(q(LT), q(ROOT .. "/bench/bt_startup.lua"), q(AOT)))
local ltcmd = ("%s -e %s"):format(q(LT), q(prog))
sh(ltcmd) -- warm the cache
add(WARM, ltcmd)
-- cold: a program text the cache has never seen (clang runs; the
-- prelude's precompiled header is already built, as after a first use)
add(COLD, function()
  local v = tonumber(core.monotonic_ns()) % 1e9
  local cold = prog:gsub("/pid == ", ("/%d == %d && pid == "):format(v, v), 1)
  return ("%s -e %s"):format(q(LT), q(cold))
end)
local have_bt = core.stat("/usr/bin/bpftrace") ~= nil
if have_bt then add(BT, ("/usr/bin/bpftrace -e %s"):format(q(prog))) end

local ratios = { warm = {}, cold = {} }
for _ = 1, rounds do
  local got = {}
  for _, t in ipairs(tracers) do
    local cmd = type(t.cmd) == "function" and t.cmd() or t.cmd
    core.sleep(200) -- the previous run's deferred kernel work (RCU frees) done
    local a, b = measure(cmd)
    if a then
      got[t.name] = a
      local s = samples[t.name]
      s.f[#s.f + 1] = a; s.r[#s.r + 1] = b
    end
  end
  if got[BT] and got[WARM] then ratios.warm[#ratios.warm + 1] = got[BT] / got[WARM] end
  if got[BT] and got[COLD] then ratios.cold[#ratios.cold + 1] = got[BT] / got[COLD] end
end
os.execute("kill " .. tpid)

print(("| tracer | first event (ms, median of %d) | peak RSS (MB) |"):format(rounds))
print("|---|---|---|")
for _, t in ipairs(tracers) do
  local s = samples[t.name]
  print(("| %s | %.1f | %.1f |"):format(t.name, median(s.f) or -1, (median(s.r) or 0) / 1024))
end
if have_bt and #ratios.warm > 0 then
  print(("\nbpftrace's time / luatrace's, median of the rounds' ratios: warm %.1fx, cold %.2fx")
    :format(median(ratios.warm), median(ratios.cold)))
end
