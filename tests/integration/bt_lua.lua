-- Lua and bpftrace together: lt.bpftrace compiles a program, the script
-- reads its maps as Lua tables, gets its printf lines through a callback
-- and stops it; examples/bt_opens.lua end to end on our own opens.
local core = require "luatrace.core"
local lt = require "luatrace"
local ffi = require "ffi"
pcall(ffi.cdef, "int getppid(void);")
local LT = luatrace()

test("lt.bpftrace: maps as Lua tables, printf callback, stop from Lua", function()
  local p = lt.bpftrace([[
tracepoint:syscalls:sys_enter_getppid /pid == $1/ { @calls = count(); @by[comm, 7] = sum(3); }
tracepoint:syscalls:sys_exit_getppid /pid == $1/ { printf("ret %d\n", args->ret); }
]], { args = { core.getpid() }, out = function() end })
  local lines = {}
  p:on_printf(function(line)
    lines[#lines + 1] = line
    if #lines == 4 then p:stop() end
  end)
  for _ = 1, 4 do ffi.C.getppid() end
  local calls, by
  p:run{ until_fn = function() calls, by = p.maps["@calls"], p.maps["@by"]; return false end }
  eq(calls, 4, "@calls")
  eq(by["luatrace,7"], 12, "@by[comm, 7]")
  eq(#lines, 4)
  eq(lines[1], ("ret %d\n"):format(ffi.C.getppid()))
end)

test("lt.bpftrace: a program error is one clear error", function()
  local err = raises(function() lt.bpftrace("tracepoint:syscalls:sys_enter_getppid { @x = nosuchfn(); }") end)
  ok(err:find("nosuchfn", 1, true), err)
  ok(not err:find("table: 0x", 1, true), err)
end)

local function slurp(path)
  local fh = io.open(path); if not fh then return "" end
  local s = fh:read("*a"); fh:close(); return s
end

test("examples/bt_opens.lua ranks our opens and names our failed ones", function()
  local a, b = unique_path("missing"), unique_path("present")
  local fh = io.open(b, "w"); fh:write("x"); fh:close()
  local out = unique_path("out")
  local ex = root .. "/examples/bt_opens.lua"
  local p = io.popen(("exec %s -p %d %s 1 3 > %s 2>&1"):format(q(LT), core.getpid(), q(ex), q(out)), "w")
  local head
  for _ = 1, 400 do
    head = slurp(out)
    if head:find("\n", 1, true) then break end
    core.sleep(25)
  end
  eq(head, ("Tracing openat() of PID %d with a bpftrace program; Ctrl-C to end.\n"):format(core.getpid()))
  for _ = 1, 3 do touch_open(a) end
  touch_open(b)
  p:close()
  local text = slurp(out)
  local n_a, n_b, failed, order = 0, 0, 0, {}
  for line in text:gmatch("[^\n]+") do
    local n, name = line:match("^%s+(%d+)  (.*)$")
    if name == a then n_a = n_a + tonumber(n); order[#order + 1] = "a" end
    if name == b then n_b = n_b + tonumber(n); order[#order + 1] = "b" end
    if line == "failed  ENOENT  " .. a then failed = failed + 1 end
    ok(line ~= "failed  ENOENT  " .. b, "the present file did not fail")
  end
  eq(n_a, 3, "opens of the missing file\n" .. text)
  eq(n_b, 1, "opens of the present file")
  eq(failed, 3, "failed opens")
  eq(select(2, text:gsub("%-%- interval %d+:", "")), 3, "three intervals")
  if #order == 2 then eq(table.concat(order), "ab", "ranked by count") end
  os.remove(b); os.remove(out)
end)
