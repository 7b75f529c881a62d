-- The bpftrace plan cache (luatrace.bpftrace.plancache): a program run
-- again with the same options prints the same, without the parser or the
-- code generator; other options make another plan; a program whose code
-- generation read more than its text and the kernel (here a tracepoint
-- wildcard) is not kept; a plan file that is not plain data is ignored.
local C = dofile(root .. "/tests/cache_helpers.lua")
local core = require "luatrace.core"

local SCRIPT = [[
local bt = require "luatrace.bpftrace"
local out = {}
local p = bt.load(arg[1], { out = function(s) out[#out + 1] = s end, args = { arg[2], arg[3] } })
p:run { duration_ms = 100 }
io.write(table.concat(out))
print(package.loaded["luatrace.bpftrace.parser"] and "parsed" or "from plan")
]]

local PROG = 'BEGIN { @c[comm] = count(); @h = hist(5); printf("v=%d %s\\n", $1, str($2)); exit(); } '
  .. 'END { printf("end\\n"); }'
local WILD = 'tracepoint:syscalls:sys_enter_getppi* { @n = count(); } BEGIN { printf("w\\n"); exit(); }'

local function plans(dir)
  return tonumber(sh(("ls %s/cache/obj | grep -c '^b-.*\\.plan$' || true"):format(q(dir))):match("%d+"))
end

test("a plan: same output without parsing; options key it; wildcards are not kept; tampered plans ignored", function()
  local dir, log, wrapper, script = C.setup(SCRIPT)
  local function run(src, a)
    -- $2 is a string argument: str($2)
    return C.run(dir, wrapper, script, q(src) .. " " .. q(a) .. " " .. q("s" .. a))
  end
  local want7 = 'v=7 s7\nend\n\n\n@c[luatrace]: 1\n@h: \n[4, 8)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n\n'
  local out, err, code = run(PROG, "7")
  eq(code, 0, err)
  eq(out, "Attaching 2 probes...\n" .. want7 .. "parsed\n")
  eq(plans(dir), 1, "the plan is kept")
  out, err, code = run(PROG, "7")
  eq(code, 0, err)
  eq(out, "Attaching 2 probes...\n" .. want7 .. "from plan\n", "the same lines from the plan")
  out, err, code = run(PROG, "8")
  eq(code, 0, err)
  ok(out:find("v=8 s8\n", 1, true) and out:find("parsed\n", 1, true), out)
  eq(plans(dir), 2, "other arguments: another plan")
  -- a wildcard's matches may change (a module loaded): never kept, but
  -- remembered as such, so its second run starts no clang early (its
  -- object comes from the text's index)
  for i = 1, 2 do
    local before = C.runs(log)
    out, err, code = run(WILD, "1")
    eq(code, 0, err)
    ok(out:find("w\n", 1, true) and out:find("parsed\n", 1, true), out)
    if i == 2 then eq(C.runs(log), before, "no clang on the wildcard program's second run") end
  end
  eq(plans(dir), 3, "a volatile mark for the wildcard program, no plan")
  -- a plan that is not plain data runs nothing and is replaced
  for name in sh("ls " .. q(dir .. "/cache/obj")):gmatch("[^\n]+") do
    if name:match("^b%-.*%.plan$") then
      local fh = io.open(dir .. "/cache/obj/" .. name, "w")
      fh:write(('return os.execute("touch %s/pwned") or {}'):format(dir))
      fh:close()
    end
  end
  out, err, code = run(PROG, "7")
  eq(code, 0, err)
  eq(out, "Attaching 2 probes...\n" .. want7 .. "parsed\n")
  eq(core.stat(dir .. "/pwned"), nil, "the tampered plan ran nothing")
  out, err, code = run(PROG, "7")
  eq(out, "Attaching 2 probes...\n" .. want7 .. "from plan\n", "rewritten")
  os.execute("rm -rf " .. q(dir))
end)

-- -p's pid is a global set at load, not part of the code: one plan for
-- every pid; a plan is counted in the cache's size (the usage file).
test("a plan serves every -p pid; plans count in the cache's usage", function()
  local dir, _, wrapper, script = C.setup([[
local bt = require "luatrace.bpftrace"
local out = {}
local p = bt.load('BEGIN { printf("pid plan\\n"); exit(); }',
  { out = function(s) out[#out + 1] = s end, pid = tonumber(arg[1]), print_maps = false })
p:run { duration_ms = 100 }
io.write(table.concat(out))
print(package.loaded["luatrace.bpftrace.parser"] and "parsed" or "from plan")
]])
  local function usage()
    local fh = io.open(dir .. "/cache/usage"); if not fh then return 0 end
    local n = tonumber(fh:read("*a"):match("%d+")); fh:close(); return n
  end
  local out, err, code = C.run(dir, wrapper, script, "1")
  eq(code, 0, err); eq(out, "Attaching 1 probe...\npid plan\nparsed\n")
  local u1 = usage()
  out, err, code = C.run(dir, wrapper, script, "2")
  eq(code, 0, err); eq(out, "Attaching 1 probe...\npid plan\nfrom plan\n", "another pid, the same plan")
  eq(plans(dir), 1)
  local plan = sh(("ls %s/cache/obj | grep '^b-'"):format(q(dir))):match("%S+")
  local size = tonumber(sh(("stat -c %%s %s/cache/obj/%s"):format(q(dir), plan)):match("%d+"))
  ok(u1 and size and u1 >= size, ("usage %s counts the plan's %s bytes"):format(tostring(u1), tostring(size)))
  os.execute("rm -rf " .. q(dir))
end)
