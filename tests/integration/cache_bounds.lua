-- The compile cache stays bounded and repairs itself (issue 8, item 7):
-- one precompiled prelude serves every value of a -D the prelude does not
-- test, the cache is cut to its cap least recently used first, and a
-- truncated PCH or vmlinux.h is rebuilt instead of failing forever.
local core = require "luatrace.core"

-- A script compiling a text with cflags from arg[1] (comma separated) and
-- a comment from arg[2] (a new object each time).
local SCRIPT = [[
local cflags = {}
for f in (arg[1] or ""):gmatch("[^,]+") do cflags[#cflags + 1] = f end
local b = require("luatrace").BPF{text = "BPF_ARRAY(a, u64, 1);\n"
  .. "TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { a.increment(0); return PID; }\n"
  .. "/* " .. (arg[2] or "") .. " */", cflags = cflags}
print(b:cached())
]]

local C = dofile(root .. "/tests/cache_helpers.lua")

local function setup()
  local dir, log, wrapper, script = C.setup(SCRIPT)
  local function run(cflags, tag, env)
    return C.run(dir, wrapper, script, q(cflags) .. " " .. q(tag or ""), env)
  end
  return dir, run, function() return C.runs(log) end
end

local function pchs(dir)
  local out = sh("ls " .. q(dir .. "/cache") .. "/kernel-*/ | grep '\\.pch$' || true")
  local list = {}
  for l in out:gmatch("[^\n]+") do list[#list + 1] = l end
  return list
end

test("one PCH for every value of a -D the prelude does not test", function()
  local dir, run, runs = setup()
  local out, err, code = run("-DPID=1")
  eq(code, 0, err); eq(out, "false\n")
  eq(runs(), 2, "the PCH and the program")
  out, err, code = run("-DPID=2")
  eq(code, 0, err); eq(out, "false\n")
  eq(runs(), 3, "only the program: the PCH is shared")
  eq(#pchs(dir), 1, "one PCH")
  -- a macro the prelude's headers test changes the PCH: a second one
  out, err, code = run("-DPID=3,-DBPF_NO_PRESERVE_ACCESS_INDEX")
  eq(code, 0, err)
  eq(#pchs(dir), 2, "a -D the headers test gets its own PCH")
  os.execute("rm -rf " .. q(dir))
end)

test("the cache is cut to LUATRACE_CACHE_MAX_MB, least recently used first", function()
  local dir, run, runs = setup()
  eq(run("-DPID=1", "a"), "false\n")
  eq(run("-DPID=1", "b"), "false\n")
  eq(run("-DPID=1", "a"), "true\n", "a used again: now newer than b")
  core.sleep(20)
  -- a tiny cap: everything but what this compile uses goes, oldest first
  local out, err, code = run("-DPID=1", "c", "LUATRACE_CACHE_MAX_MB=1")
  eq(code, 0, err); eq(out, "false\n")
  local du = tonumber(sh("du -sk --apparent-size " .. q(dir .. "/cache")):match("%d+"))
  ok(du < 25 * 1024, "cache holds only c's object, vmlinux.h and the PCH: " .. du .. " KB")
  eq(run("-DPID=1", "c"), "true\n", "the newest object stays")
  local before = runs()
  eq(run("-DPID=1", "d"), "false\n")
  eq(runs(), before + 1, "what the compile uses stayed: the PCH (and its prelude) is not rebuilt")
  eq(run("-DPID=1", "b"), "false\n", "an evicted one compiles again")
  -- the default cap is documented and applies without the variable
  eq(require("luatrace.cache").DEFAULT_MAX_MB, 256)
  os.execute("rm -rf " .. q(dir))
end)

test("a truncated PCH or vmlinux.h is rebuilt, not an error forever", function()
  local dir, run, runs = setup()
  eq(run("-DPID=1", "x"), "false\n")
  local pch = dir .. "/cache/kernel-*/" .. pchs(dir)[1]
  os.execute("truncate -s 100000 " .. pch)
  local out, err, code = run("-DPID=1", "y")
  eq(code, 0, "truncated PCH: " .. err); eq(out, "false\n")
  ok(tonumber((sh("stat -c %s " .. pch))) > 1000000, "the PCH was rebuilt")
  local before = runs()
  os.execute("truncate -s 5000 " .. q(dir .. "/cache") .. "/kernel-*/vmlinux.h")
  out, err, code = run("-DPID=1", "z")
  eq(code, 0, "truncated vmlinux.h: " .. err); eq(out, "false\n")
  ok(tonumber((sh("stat -c %s " .. q(dir .. "/cache") .. "/kernel-*/vmlinux.h"))) > 1000000,
    "vmlinux.h was rebuilt")
  ok(runs() > before, "compiled")
  eq(run("-DPID=1", "w"), "false\n", "and compiles go on working")
  -- a macro list cut short is rebuilt, not trusted: a -D the headers test
  -- would otherwise share the PCH built without it
  os.execute("truncate -s 20 " .. q(dir .. "/cache") .. "/kernel-*/*.macros")
  local pch_before = #pchs(dir)
  eq(run("-DPID=1,-DBPF_NO_PRESERVE_ACCESS_INDEX", "v"), "false\n")
  eq(#pchs(dir), pch_before + 1, "its own PCH")
  os.execute("rm -rf " .. q(dir))
end)
