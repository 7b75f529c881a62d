-- SIGHUP ends a trace like SIGTERM (the script's code after its wait
-- runs); a luatrace killed during a compile leaves no clang running, and
-- the temp files of dead processes are cleaned by the next compile
-- (issue 8, item 6).
local core = require "luatrace.core"

local function wait_for(fn, ms)
  for _ = 1, (ms or 5000) / 20 do
    local v = fn()
    if v then return v end
    core.sleep(20)
  end
end

local function slurp(p)
  local fh = io.open(p); if not fh then return nil end
  local s = fh:read("*a"); fh:close(); return s
end

-- Is this pid a live (not zombie) process?
local function running(pid)
  local stat = slurp("/proc/" .. pid .. "/stat")
  return stat ~= nil and not stat:match("^%d+ %b() Z")
end

test("SIGHUP runs the script's code after its wait, exit 0", function()
  local dir = os.tmpname(); os.remove(dir); os.execute("mkdir -m 700 " .. q(dir))
  local script, out = dir .. "/s.lua", dir .. "/out"
  local fh = io.open(script, "w")
  fh:write('local lt = require "luatrace"\nprint("ready"); io.stdout:flush()\n'
    .. 'lt.sleep(-1)\nprint("cleanup ran")\n')
  fh:close()
  local pid = sh(("%s %s > %s 2>&1 & echo $!"):format(q(luatrace()), q(script), q(out))):match("%d+")
  ok(wait_for(function() return (slurp(out) or ""):find("ready") end), "started")
  os.execute("kill -HUP " .. pid)
  ok(wait_for(function() return not running(pid) end), "it ended")
  eq(slurp(out), "ready\ncleanup ran\n")
  os.execute("rm -rf " .. q(dir))
end)

test("SIGKILL during a compile leaves no compiler running; stale temp files go", function()
  local dir = os.tmpname(); os.remove(dir); os.execute("mkdir -m 700 " .. q(dir))
  local wrapper = dir .. "/clang-slow"
  local fh = io.open(wrapper, "w")
  fh:write(("#!/bin/sh\necho $$ > %s/clang.pid\nexec sleep 30\n"):format(q(dir)))
  fh:close()
  os.execute("chmod 755 " .. q(wrapper))
  local prog = dir .. "/p.lua"
  fh = io.open(prog, "w")
  fh:write('require("luatrace").BPF{text = "TRACEPOINT_PROBE(syscalls, sys_enter_getppid) '
    .. '{ return 0; }\\n/* " .. (arg[1] or "") .. " */"}\nprint("compiled")\n')
  fh:close()
  local cache = dir .. "/cache"
  local pid = sh(("LUATRACE_CACHE_DIR=%s LUATRACE_CLANG=%s %s %s >/dev/null 2>&1 & echo $!"):format(
    q(cache), q(wrapper), q(luatrace()), q(prog))):match("%d+")
  local cpid = wait_for(function() return (slurp(dir .. "/clang.pid") or ""):match("%d+") end)
  ok(cpid, "the compiler started")
  os.execute("kill -KILL " .. pid)
  ok(wait_for(function() return not running(cpid) end, 2000), "the compiler died with luatrace")
  -- temp files of dead writers (luatrace's and clang's names) are removed
  -- by the next compile; one of a live process stays
  local dead = sh("sh -c 'echo $$'"):match("%d+")
  local planted = { "obj/0123456789abcdef.o.tmp." .. dead,
    "obj/0123456789abcdef.o.tmp." .. dead .. "-1a2b3c4d", "obj/live.o.tmp." .. core.getpid() }
  for _, p in ipairs(planted) do
    fh = assert(io.open(cache .. "/" .. p, "w")); fh:write("x"); fh:close()
  end
  local out, err, code = sh(("LUATRACE_CACHE_DIR=%s %s %s again"):format(q(cache), q(luatrace()), q(prog)))
  eq(code, 0, err)
  eq(out, "compiled\n")
  eq(core.stat(cache .. "/" .. planted[1]), nil, "a dead writer's temp file is gone")
  eq(core.stat(cache .. "/" .. planted[2]), nil, "and clang's")
  ok(core.stat(cache .. "/" .. planted[3]), "a live writer's stays")
  local left = sh(("ls %s/obj %s/kernel-* | grep -c '\\.tmp\\.' || true"):format(q(cache), q(cache)))
  eq(left, "1\n", "no other temp files")
  os.execute("rm -rf " .. q(dir))
end)

test("Ctrl-C during a compile (the whole process group) is a clean stop, not a compile error", function()
  local dir = os.tmpname(); os.remove(dir); os.execute("mkdir -m 700 " .. q(dir))
  local wrapper = dir .. "/clang-slow"
  local fh = io.open(wrapper, "w")
  fh:write(("#!/bin/sh\necho $$ > %s/clang.pid\nexec sleep 30\n"):format(q(dir)))
  fh:close()
  os.execute("chmod 755 " .. q(wrapper))
  local prog = dir .. "/p.lua"
  fh = io.open(prog, "w")
  fh:write('require("luatrace").BPF{text = "TRACEPOINT_PROBE(syscalls, sys_enter_getppid) '
    .. '{ return 0; }"}\nprint("compiled")\n')
  fh:close()
  sh(("setsid sh -c 'trap : INT; echo $$ > %s/lt.pid; LUATRACE_CACHE_DIR=%s LUATRACE_CLANG=%s %s %s "
    .. "> %s/out 2> %s/err; echo $? > %s/rc' >/dev/null 2>&1 &"):format(
    q(dir), q(dir .. "/cache"), q(wrapper), q(luatrace()), q(prog), q(dir), q(dir), q(dir)))
  ok(wait_for(function() return slurp(dir .. "/clang.pid") end), "the compiler started")
  local pgid = slurp(dir .. "/lt.pid"):match("%d+")
  os.execute("/bin/kill -s INT -- -" .. pgid)
  ok(wait_for(function() return slurp(dir .. "/rc") end, 5000), "luatrace ended")
  eq(slurp(dir .. "/err"), "", "no error line")
  eq(slurp(dir .. "/out"), "", "the script stopped")
  eq(slurp(dir .. "/rc"), "0\n", "exit 0, as for any Ctrl-C")
  os.execute("rm -rf " .. q(dir))
end)
