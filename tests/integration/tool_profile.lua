-- profile and offcputime: a process that spins in known functions, then
-- sleeps (lt_spin); its stacks folded (-f), multi-line and JSON.
local core = require "luatrace.core"
local T = require "tool_helpers"
local ffi = require "ffi"

-- Stack maps as BCC sizes them: the default (libbpf-tools' 1024 buckets)
-- loses a stack whose hash collides (-EEXIST) about once in a hundred
-- runs of a handful of stacks; these tests assert exact stacks.
local STACKS = 16384
pcall(ffi.cdef, "int kill(int pid, int sig);")

-- Start lt_spin stopped; returns its pid (it spins MS after SIGCONT, then
-- lingers so its symbols stay readable).
local function spinner(ms, linger)
  local out = unique_path("spin")
  os.execute(("%s %d %d > %s &"):format(q(test_prog("lt_spin")), ms, linger or 6000, q(out)))
  for _ = 1, 200 do
    local f = io.open(out)
    local pid = f and tonumber(f:read("*l"))
    if f then f:close() end
    if pid then os.remove(out); return pid end
    core.sleep(25)
  end
  error("lt_spin did not start")
end

local function run(args, pid)
  return T.tool(("profile -F 199 --stack-storage-size %d -p %d %s"):format(STACKS, pid, args), function()
    ffi.C.kill(pid, 18) -- SIGCONT
    core.sleep(1200)
  end)
end

test("profile -f -p PID: folded stacks of lt_spin", function()
  local pid = spinner(800)
  local r = run("-f", pid)
  ffi.C.kill(pid, 9)
  local total, inner = 0, 0
  for stack, n in r.out:gmatch("([^\n]+) (%d+)\n") do
    ok(stack:match("^lt_spin;"), "only lt_spin: " .. stack)
    total = total + tonumber(n)
    if stack:match(";main;lt_spin_outer;lt_spin_inner$") then inner = inner + tonumber(n) end
  end
  ok(inner > 0 and inner >= total / 2, ("most samples in lt_spin_inner (%d of %d):\n%s"):format(inner, total, r.out))
end)

test("profile -U -p PID: BCC's multi-line stacks; --json", function()
  local pid = spinner(600)
  local r = run("-U", pid)
  ffi.C.kill(pid, 9)
  eq(r.out:match("^[^\n]*"), ("Sampling at 199 Hertz of PID %d by user stack... Hit Ctrl-C to end."):format(pid))
  ok(r.out:find("\n    lt_spin_inner\n    lt_spin_outer\n    main\n", 1, true), r.out)
  ok(r.out:find(("\n    %-16s lt_spin (%d)\n"):format("-", pid), 1, true), r.out)
  pid = spinner(600)
  r = run("--json -K", pid)
  ffi.C.kill(pid, 9)
  for line in r.out:gmatch("[^\n]+") do
    ok(line:match('^{"comm":"lt_spin","pid":' .. pid .. ',"user_stack":%[%],"kernel_stack":%[.*%],"count":%d+}$'), line)
  end
end)

test("offcputime -f -p PID: the sleep of lt_spin in its kernel stack, with its length", function()
  local pid = spinner(50, 400)
  local r = T.tool(("offcputime -f --stack-storage-size %d -p %d"):format(STACKS, pid), function()
    ffi.C.kill(pid, 18) -- SIGCONT: spin 50 ms, sleep 400 ms, exit
    core.sleep(1000)
  end)
  local slept = 0
  for stack, n in r.out:gmatch("([^\n]+) (%d+)\n") do
    ok(stack:match("^lt_spin;"), "only lt_spin: " .. stack)
    if stack:find(";do_nanosleep;", 1, true) then slept = slept + tonumber(n) end
  end
  -- the timer is armed before the switch out: the time off the CPU can
  -- be a little under the 400 ms asked (399.3 ms seen)
  ok(slept >= 395000 and slept < 2000000, ("400 ms in do_nanosleep, got %d us:\n%s"):format(slept, r.out))
end)

test("offcputime -K -m: kernel stacks only, BCC's multi-line form; --json", function()
  local pid = spinner(50, 300)
  local r = T.tool(("offcputime -K -m 100000 --stack-storage-size %d -p %d"):format(STACKS, pid), function()
    ffi.C.kill(pid, 18)
    core.sleep(800)
  end)
  eq(r.out:match("^[^\n]*"), ("Tracing off-CPU time (us) of PID %d by kernel stack... Hit Ctrl-C to end."):format(pid))
  local body = r.out:match("^[^\n]*\n(.*)$")
  ok(body:find("\n    do_nanosleep\n", 1, true), body)
  ok(body:find(("\n    %-16s lt_spin (%d)\n"):format("-", pid), 1, true), body)
  local n = 0
  for _ in body:gmatch("lt_spin %(") do n = n + 1 end
  eq(n, 1, "one stack blocked >= 100 ms:\n" .. body)
  pid = spinner(50, 300)
  r = T.tool(("offcputime --json -m 100000 --stack-storage-size %d -p %d"):format(STACKS, pid), function()
    ffi.C.kill(pid, 18)
    core.sleep(800)
  end)
  local line = r.out:match("^([^\n]+)\n$")
  ok(line and line:match('^{"comm":"lt_spin","pid":' .. pid .. ',"tgid":' .. pid .. ',"user_stack":%[.-%],"kernel_stack":%[.*"do_nanosleep".*%],"total_us":%d+}$'), r.out)
end)

test("profile --svg FILE: lt_spin's samples as a flame graph", function()
  local pid = spinner(800)
  local path = unique_path("profile.svg")
  local r = run("--svg " .. q(path), pid)
  ffi.C.kill(pid, 9)
  local total = tonumber(r.err:match("profile: flame graph of (%d+) samples written to "))
  ok(total and total > 0, "the tool says what it wrote: " .. r.err)
  ok(r.out:find("lt_spin_inner", 1, true), "the text report still prints")
  local f = io.open(path); local svg = f:read("*a"); f:close(); os.remove(path)
  ok(svg:find((">CPU flame graph</text>"), 1, true), "titled")
  ok(svg:find(("<title>all (%d samples, 100%%)</title>"):format(total), 1, true), "every sample drawn")
  local inner = tonumber(svg:match("<title>lt_spin_inner %((%d+) samples"))
  ok(inner and inner >= total / 2, ("lt_spin_inner holds most samples (%s of %d)"):format(tostring(inner), total))
end)

test("profile/offcputime --stack-storage-size --perf-max-stack-depth: the stack map resized; stacks cut at the depth", function()
  local tool = require "luatrace.tool"
  local oc = tool.load("offcputime")
  local r = oc.start(oc.parse{ "--stack-storage-size", "100", "--perf-max-stack-depth", "3" })
  local info = r.tables.stackmap:info()
  r:stop()
  eq(info.max_entries, 100)
  eq(info.value_size, 24)
  local pid = spinner(600)
  local out = run("-f -U --stack-storage-size 128 --perf-max-stack-depth 2", pid).out
  ffi.C.kill(pid, 9)
  local inner = 0
  for stack, n in out:gmatch("([^\n]+) (%d+)\n") do
    local frames = select(2, stack:gsub(";", ";"))
    ok(frames <= 2, "at most two frames: " .. stack)
    if stack == "lt_spin;lt_spin_outer;lt_spin_inner" then inner = inner + tonumber(n) end
  end
  ok(inner > 0, "lt_spin_inner under lt_spin_outer, and no deeper:\n" .. out)
end)

test("profile and offcputime size their maps as libbpf-tools: 1024 stacks unless --stack-storage-size", function()
  local lt = require "luatrace"
  local toolkit = require "luatrace.toolkit"
  local p = lt.BPF{ obj = "profile" }
  eq(p.stack_traces:info().max_entries, 1024)
  eq(p.counts:info().max_entries, 10240)
  p:cleanup()
  local o = lt.BPF{ obj = "offcputime", programs = { "raw_switch" } }
  eq(o.stackmap:info().max_entries, 1024)
  o:cleanup()
  local s = toolkit.stack_map_sizes({ stack_storage_size = 4096 }, "stackmap")
  local big = lt.BPF{ obj = "offcputime", programs = { "raw_switch" }, max_entries = s.max_entries }
  eq(big.stackmap:info().max_entries, 4096, "--stack-storage-size 4096")
  big:cleanup()
  local r = T.tool("offcputime -h", function() end)
  ok(r.out:find("stored and displayed (default 1024)", 1, true), "help says the default:\n" .. r.out)
end)
