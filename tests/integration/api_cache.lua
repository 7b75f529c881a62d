-- The compile cache: a hit runs no clang, a corrupted entry is rebuilt, a
-- cache owned by someone else (or open to others) is refused, a missing
-- clang is a clear error while AOT objects still work.
local core = require "luatrace.core"

local SCRIPT = [[
local b = require("luatrace").BPF{text = "BPF_ARRAY(a, u64, 1);\n"
  .. "TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { a.increment(0); return 0; }\n"
  .. "/* " .. (arg[1] or "") .. " */"}
print(b:cached())
]]

local C = dofile(root .. "/tests/cache_helpers.lua")
local function setup() return C.setup(SCRIPT) end
local runs, run = C.runs, C.run

test("a cache hit runs no clang; a new text compiles once, the prelude PCH is reused", function()
  local dir, log, wrapper, script = setup()
  local out, err, code = run(dir, wrapper, script)
  eq(code, 0, "first run: " .. err)
  eq(out, "false\n", "first run compiled")
  local first = runs(log)
  eq(first, 2, "clang ran twice: the prelude PCH and the program")
  out, err, code = run(dir, wrapper, script)
  eq(code, 0, "second run: " .. err)
  eq(out, "true\n", "second run came from the cache")
  eq(runs(log), first, "no clang on a hit")
  out = run(dir, wrapper, script, "other")
  eq(out, "false\n", "a different text compiles")
  eq(runs(log), first + 1, "one more clang run, the PCH reused")
  os.execute("rm -rf " .. q(dir))
end)

test("a corrupted cache entry is rebuilt", function()
  local dir, log, wrapper, script = setup()
  run(dir, wrapper, script)
  local before = runs(log)
  local p = io.popen("ls " .. q(dir .. "/cache/obj") .. "/*.o")
  local obj = p:read("*l"); p:close()
  local fh = io.open(obj, "r+b"); fh:seek("set", 100); fh:write("garbage!"); fh:close()
  local out, err, code = run(dir, wrapper, script)
  eq(code, 0, "rebuilt run: " .. err)
  eq(out, "false\n", "not taken from the cache")
  eq(runs(log), before + 1, "clang ran once to rebuild")
  eq(run(dir, wrapper, script), "true\n", "then cached again")
  os.execute("rm -rf " .. q(dir))
end)

test("a cache dir owned by another user is refused", function()
  local dir, _, wrapper, script = setup()
  os.execute(("mkdir -m 700 %s && chown nobody %s"):format(q(dir .. "/cache"), q(dir .. "/cache")))
  local _, err, code = run(dir, wrapper, script)
  eq(code, 1, "exit code")
  local st = core.stat(dir .. "/cache")
  eq(err, ("luatrace: use compile cache %s/cache: owned by uid %d, not by you (uid 0); "
    .. "remove it or set LUATRACE_CACHE_DIR\n"):format(dir, st.uid))
  os.execute(("chown root %s && chmod 755 %s"):format(q(dir .. "/cache"), q(dir .. "/cache")))
  _, err, code = run(dir, wrapper, script)
  eq(code, 1, "exit code for an open mode")
  eq(err, ("luatrace: use compile cache %s/cache: mode 755 lets others in; chmod 700 it\n"):format(dir))
  os.execute("rm -rf " .. q(dir))
end)

test("a missing clang is a clear error; AOT objects need none", function()
  local dir, _, _, script = setup()
  local _, err, code = run(dir, "/nonexistent/clang", script)
  eq(code, 1)
  eq(err, "luatrace: compile BPF program: /nonexistent/clang not found (install clang: "
    .. "apt-get install clang, or set LUATRACE_CLANG); AOT tools (luatrace -m ...) need no compiler\n")
  local out, err2, code2 = sh(("LUATRACE_CACHE_DIR=%s LUATRACE_CLANG=/nonexistent/clang %s -e %s"):format(
    q(dir .. "/cache"), q(luatrace()),
    q("local b = require('luatrace').BPF{obj = 'syscount', globals = {filter_errno = 1}}; print(b:num_open_tracepoints())")))
  eq(code2, 0, "AOT object: " .. err2)
  eq(out, "2\n", "syscount's sys_enter and sys_exit tracepoints")
  os.execute("rm -rf " .. q(dir))
end)
