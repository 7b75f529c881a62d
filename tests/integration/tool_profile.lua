-- profile: sample a process that spins in known functions (lt_spin) and
-- find its stack, folded (-f), multi-line and JSON.
local core = require "luatrace.core"
local T = require "tool_helpers"
local ffi = require "ffi"
pcall(ffi.cdef, "int kill(int pid, int sig);")

-- Start lt_spin stopped; returns its pid (it spins MS after SIGCONT, then
-- lingers so its symbols stay readable).
local function spinner(ms)
  local out = unique_path("spin")
  os.execute(("%s %d 6000 > %s &"):format(q(test_prog("lt_spin")), ms, q(out)))
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
  return T.tool(("profile -F 199 -p %d %s"):format(pid, args), function()
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
