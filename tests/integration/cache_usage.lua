-- The compile cache's running total (its root's "usage" file): a compile
-- adds what it wrote and walks every file (the LRU cut) only when the
-- total may pass the cap; the walk writes the exact total.
local core = require "luatrace.core"

local SCRIPT = [[
local b = require("luatrace").BPF{text = "BPF_ARRAY(a, u64, 1);\n"
  .. "TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { a.increment(0); return 0; }\n"
  .. "/* " .. (arg[1] or "") .. " */"}
print(b:cached())
]]

local function slurp(p)
  local fh = io.open(p); if not fh then return nil end
  local s = fh:read("*a"); fh:close(); return s
end

-- The bytes of every file under the cache's subdirectories (what the
-- walk counts; the usage file at the root is not among them).
local function exact(cache)
  return tonumber(sh(("find %s -mindepth 2 -type f -printf '%%s\\n' | awk '{s+=$1} END {print s+0}'")
    :format(q(cache))):match("%d+"))
end

test("the usage file: exact after a walk, added to without one, a walk when it may pass the cap", function()
  local dir = os.tmpname(); os.remove(dir)
  os.execute("mkdir -m 700 " .. q(dir))
  local cache = dir .. "/cache"
  local fh = io.open(dir .. "/prog.lua", "w"); fh:write(SCRIPT); fh:close()
  local function run(tag, env)
    return sh(("LUATRACE_CACHE_DIR=%s %s %s %s %s"):format(q(cache), env or "", q(luatrace()),
      q(dir .. "/prog.lua"), q(tag)))
  end
  local function usage() return tonumber((slurp(cache .. "/usage") or ""):match("^(%d+)\n$")) end
  local out, err, code = run("a")
  eq(code, 0, err); eq(out, "false\n")
  -- the first compile built the PCH: a full walk, so the total is exact
  eq(usage(), exact(cache), "exact after the walk")
  -- an old 1 MB file the walk would evict first, and a cap that the
  -- total with it passes, but the running total does not
  local planted = cache .. "/obj/0000000000000000.o"
  fh = io.open(planted, "wb"); fh:write(("x"):rep(1024 * 1024)); fh:close()
  os.execute("touch -d '2000-01-01' " .. q(planted))
  local cap_mb = (usage() + 512 * 1024) / (1024 * 1024)
  local u1 = usage()
  out, err, code = run("b", "LUATRACE_CACHE_MAX_MB=" .. cap_mb)
  eq(code, 0, err); eq(out, "false\n")
  ok(core.stat(planted), "no walk: the planted file stays")
  local added = usage() - u1
  local real = exact(cache) - 1024 * 1024 - u1
  ok(added > 0 and math.abs(added - real) < 1024,
    ("the compile added about what it wrote: %d counted, %d written"):format(added, real))
  -- a total at the cap: the next compile walks, evicts the oldest, and
  -- writes the exact total
  fh = io.open(cache .. "/usage", "w"); fh:write(math.floor(cap_mb * 1024 * 1024) .. "\n"); fh:close()
  out, err, code = run("c", "LUATRACE_CACHE_MAX_MB=" .. cap_mb)
  eq(code, 0, err); eq(out, "false\n")
  eq(core.stat(planted), nil, "the walk evicted the oldest file")
  eq(usage(), exact(cache), "exact after the walk")
  -- a missing usage file means a walk too
  os.remove(cache .. "/usage")
  eq(run("d"), "false\n")
  eq(usage(), exact(cache), "exact after a walk for a missing total")
  os.execute("rm -rf " .. q(dir))
end)

test("a cut goes down to 3/4 of the cap, so the next compiles do not walk again", function()
  local dir = os.tmpname(); os.remove(dir)
  os.execute("mkdir -m 700 " .. q(dir))
  local cache = dir .. "/cache"
  local fh = io.open(dir .. "/prog.lua", "w"); fh:write(SCRIPT); fh:close()
  local function run(tag, env)
    return sh(("LUATRACE_CACHE_DIR=%s %s %s %s %s"):format(q(cache), env or "", q(luatrace()),
      q(dir .. "/prog.lua"), q(tag)))
  end
  eq(run("a"), "false\n")
  local u = exact(cache)
  -- eight old 1 MB files, oldest first, and a cap they pass
  for i = 1, 8 do
    local p = ("%s/obj/%016d.o"):format(cache, i)
    fh = io.open(p, "wb"); fh:write(("x"):rep(1024 * 1024)); fh:close()
    os.execute(("touch -d '2000-01-01 00:00:%02d' %s"):format(i, q(p)))
  end
  local cap = u + 8 * 1024 * 1024
  fh = io.open(cache .. "/usage", "w"); fh:write(cap .. "\n"); fh:close()
  local env = "LUATRACE_CACHE_MAX_MB=" .. cap / (1024 * 1024)
  eq(run("b", env), "false\n")
  local after = exact(cache)
  ok(after <= math.floor(cap * 0.75), ("cut to 3/4 of the cap: %d <= %d"):format(after, math.floor(cap * 0.75)))
  eq(core.stat(cache .. "/obj/0000000000000001.o"), nil, "the oldest went first")
  ok(core.stat(cache .. "/obj/0000000000000008.o"), "the newest planted file stayed")
  os.execute("rm -rf " .. q(dir))
end)

-- Temp files of dead writers: a compile walks the cache's directories for
-- them only when a dead compile's mark ("writing.PID" at the root) says
-- one may be there (reading a directory of 20k objects takes ~15 ms);
-- the walk removes them and the mark. A finished compile leaves no mark.
test("stale temp files: walked for only when a dead compile left its mark", function()
  local dir = os.tmpname(); os.remove(dir)
  os.execute("mkdir -m 700 " .. q(dir))
  local cache = dir .. "/cache"
  local fh = io.open(dir .. "/prog.lua", "w"); fh:write(SCRIPT); fh:close()
  local function run(tag)
    return sh(("LUATRACE_CACHE_DIR=%s %s %s %s"):format(q(cache), q(luatrace()), q(dir .. "/prog.lua"), q(tag)))
  end
  local out, err, code = run("m1")
  eq(code, 0, err); eq(out, "false\n")
  eq(sh(("ls %s | grep -c '^writing' || true"):format(q(cache))), "0\n", "no mark after a compile")
  local dead = sh("sh -c 'echo $$'"):match("%d+")
  local stale = cache .. "/obj/0123456789abcdef.o.tmp." .. dead
  fh = assert(io.open(stale, "w")); fh:write("x"); fh:close()
  out, err, code = run("m2")
  eq(code, 0, err); eq(out, "false\n")
  ok(core.stat(stale), "no mark: the directories are not walked")
  fh = assert(io.open(cache .. "/writing." .. dead, "w")); fh:close()
  out, err, code = run("m3")
  eq(code, 0, err); eq(out, "false\n")
  eq(core.stat(stale), nil, "a dead compile's mark: its temp files go")
  eq(core.stat(cache .. "/writing." .. dead), nil, "and the mark")
  os.execute("rm -rf " .. q(dir))
end)
