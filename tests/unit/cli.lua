-- The command line: exit codes, error lines, arg, -e, -v, signals, and the
-- embedded library versus LUATRACE_PATH.
local core = require "luatrace.core"
local LT = luatrace()

-- Run luatrace without LUATRACE_PATH (the embedded library) unless asked.
-- Run luatrace with `script` in the background, send `sig` once it has
-- printed "ready" (not after a fixed delay: a loaded machine starts slowly),
-- and return its stdout (without the ready line), stderr and exit code.
local function signal_after_ready(script, sig)
  local out = os.tmpname()
  local _, err, code = sh(("%s -e %s > %s & pid=$!; for i in $(seq 400); do "
    .. "grep -q ready %s && break; sleep 0.025; done; kill -%s $pid; wait $pid")
    :format(q(LT), q(script), q(out), q(out), sig))
  local fh = io.open(out); local text = fh:read("*a"); fh:close(); os.remove(out)
  return (text:gsub("^ready\n", "")), err, code
end

local function run(args, env)
  return sh(("env -u LUATRACE_PATH %s %s %s"):format(env or "", q(LT), args))
end

test("--version prints the version", function()
  local out, _, code = run("--version")
  eq(code, 0, "exit code")
  ok(out:match("^luatrace " .. core.version:gsub("%.", "%%.") .. " %(LuaJIT"), out)
end)

test("-e runs a chunk with arg set", function()
  local out, err, code = run("-e 'print(arg[1], arg[2], #arg)' one two")
  eq(code, 0, "exit code")
  eq(err, "", "stderr")
  eq(out, "one\ttwo\t2\n")
end)

test("a script gets arg as in lua", function()
  local f = os.tmpname()
  local fh = io.open(f, "w")
  fh:write("print(arg[0] == ... or arg[0], arg[1], select('#', ...))\n")
  fh:close()
  local out, _, code = run(q(f) .. " x")
  os.remove(f)
  eq(code, 0, "exit code")
  eq(out, f .. "\tx\t1\n")
end)

test("a script error is one line and exit 1", function()
  local out, err, code = run("-e 'local function f() error(\"boom\") end f()'")
  eq(code, 1, "exit code")
  eq(out, "")
  eq(err, "luatrace: (command line):1: boom\n")
end)

test("-v adds a traceback", function()
  local _, err, code = run("-v -e 'error(\"boom\")'")
  eq(code, 1, "exit code")
  ok(err:find("luatrace: (command line):1: boom\nstack traceback:", 1, true), err)
end)

test("usage errors exit 2", function()
  local _, err, code = run("--bogus")
  eq(code, 2, "exit code")
  ok(err:find("luatrace: unknown option --bogus", 1, true), err)
  local _, err2, code2 = run("-e")
  eq(code2, 2, "exit code for -e without code")
  ok(err2:find("option -e needs an argument", 1, true), err2)
end)

test("a missing script is a clear error", function()
  local _, err, code = run("/nonexistent/script.lua")
  eq(code, 1, "exit code")
  ok(err:find("^luatrace: cannot open /nonexistent/script.lua"), err)
end)

test("the embedded library works without a source tree", function()
  local out, _, code = sh(("cd / && env -u LUATRACE_PATH %s -e %s"):format(q(LT),
    q("local lt = require 'luatrace'; print(lt.version, package.preload['luatrace.events'] ~= nil)")))
  eq(code, 0, "exit code")
  eq(out, core.version .. "\ttrue\n")
end)

test("LUATRACE_PATH loads the library from a tree", function()
  local dir = os.tmpname(); os.remove(dir)
  os.execute("mkdir -p " .. q(dir .. "/luatrace"))
  local fh = io.open(dir .. "/luatrace/init.lua", "w")
  fh:write("return { version = 'from-tree' }\n")
  fh:close()
  local out, _, code = run("-e 'print(require(\"luatrace\").version)'",
    "LUATRACE_PATH=" .. q(dir))
  os.execute("rm -rf " .. q(dir))
  eq(code, 0, "exit code")
  eq(out, "from-tree\n")
end)

test("-m runs a tool module, and an unknown one is a clear error", function()
  local _, err, code = run("-m no_such_tool")
  eq(code, 2, "exit code")
  eq(err:match("^[^\n]*\n"), "luatrace: run tool no_such_tool: no such tool\n")
end)

local READY = 'io.stdout:write("ready\\n"); io.stdout:flush(); '

test("SIGINT ends a poll cleanly: cleanup runs, exit 0", function()
  local out, err, code = signal_after_ready([[
    local core = require "luatrace.core"
    io.stdout:write("ready\n"); io.stdout:flush()
    local p = core.poller()
    local r = p:wait(20000)
    print("wait returned", tostring(r), core.interrupted())
  ]], "INT")
  eq(code, 0, "exit code")
  eq(err, "")
  eq(out, "wait returned\tfalse\ttrue\n")
end)

test("SIGTERM ends a sleep cleanly", function()
  local out, _, code = signal_after_ready([[
    local core = require "luatrace.core"
    io.stdout:write("ready\n"); io.stdout:flush()
    print(core.sleep(20000))
    print("after")
  ]], "TERM")
  eq(code, 0, "exit code")
  eq(out, "false\nafter\n")
end)

test("SIGINT interrupts a CPU-bound interpreted loop", function()
  -- os.time is not compiled by LuaJIT, so this loop stays interpreted.
  local t0 = os.time()
  local _, err, code = signal_after_ready(READY .. "local n = 0 while true do n = n + os.time() end", "INT")
  eq(code, 0, "exit code")
  eq(err, "")
  ok(os.time() - t0 < 5, "stopped promptly")
end)

test("SIGINT stops even a JIT-compiled loop (hard stop after a grace period)", function()
  local t0 = os.time()
  local _, err, code = signal_after_ready(READY .. "local n = 0 while true do n = n + 1 end", "INT")
  eq(code, 130, "exit code")
  ok(err:find("luatrace: interrupted", 1, true), err)
  ok(os.time() - t0 < 8, "stopped within the grace period")
end)

test("loading BPF without privileges is one clear line, exit 1", function()
  local out = sh("id -u nobody")
  if out == "" then skip("no user 'nobody' to drop privileges to") end
  local _, err, code = sh(("setpriv --reuid=nobody --regid=nogroup --clear-groups %s -e %s")
    :format(q(LT), q(("require('luatrace.core').open_file(%q):load()"):format(test_obj("events")))))
  if code == 127 or err:find("setpriv: ", 1, true) then skip("setpriv unavailable: " .. err) end
  eq(code, 1, "exit code")
  eq(err, "luatrace: load BPF object " .. test_obj("events")
    .. ": permission denied (luatrace needs root, or CAP_BPF with CAP_PERFMON)\n")
end)

test("a bytecode file given as a script is refused (text only)", function()
  local src, bc = os.tmpname(), os.tmpname()
  local fh = io.open(src, "w"); fh:write("print('ran')\n"); fh:close()
  local fn = assert(loadfile(src))
  fh = io.open(bc, "wb"); fh:write(string.dump(fn)); fh:close()
  local out, err, code = run(q(bc))
  os.remove(src); os.remove(bc)
  eq(code, 1, "exit code")
  eq(out, "", "stdout")
  eq(err, ("luatrace: load %s: a bytecode file is refused (give Lua source)\n"):format(bc))
end)
