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
  local dir, _, wrapper, script = C.setup(SCRIPT)
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
  -- a wildcard's matches may change (a module loaded): never kept
  for _ = 1, 2 do
    out, err, code = run(WILD, "1")
    eq(code, 0, err)
    ok(out:find("w\n", 1, true) and out:find("parsed\n", 1, true), out)
  end
  eq(plans(dir), 2, "no plan for the wildcard program")
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
