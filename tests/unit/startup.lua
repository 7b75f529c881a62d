-- What every run of luatrace loads before it does anything: the fixed cost
-- of starting (docs/STARTUP.md, issue 10). The console's line editor
-- is loaded when the console opens (the console tests prove it still
-- works), and the library's parts when a script first uses them.
local LT = luatrace()

local function loaded_after(chunk)
  local out, err, code = sh(("env -u LUATRACE_PATH %s -e %s"):format(q(LT), q(chunk .. [[
    local t = {}
    for k in pairs(package.loaded) do if k:match("^luatrace") then t[#t + 1] = k end end
    table.sort(t)
    io.stdout:write(table.concat(t, " "), "\n")]])))
  eq(code, 0, "exit code: " .. err)
  local set = {}
  for name in out:gmatch("%S+") do set[name] = true end
  return set, out
end

test("the binary needs neither libedit (dlopened by the console) nor the static libraries", function()
  local out, err, code = sh("readelf -d " .. q(LT))
  eq(code, 0, "readelf: " .. err)
  ok(out:find("(NEEDED)", 1, true), "readelf lists the NEEDED libraries: " .. out)
  ok(out:find("libc.so", 1, true), "libc is NEEDED: " .. out)
  for _, lib in ipairs{ "libedit", "libbpf", "libluajit", "libelf", "libz" } do
    ok(not out:find(lib, 1, true), lib .. " is not NEEDED (linked in, or dlopened): " .. out)
  end
end)

-- The GC's startup pause (host/sys.c): Lua code of the user's runs with
-- the normal one, and so does a script once it waits for events.
test("user Lua code runs with the GC's normal pause", function()
  local out, err, code = sh(("%s -e %s"):format(q(LT), q("print(collectgarbage('setpause', 200))")))
  eq(code, 0, err)
  eq(out, "200\n")
end)

test("a Lua chunk loads neither the library's parts nor the front ends", function()
  local set, out = loaded_after("")
  for _, name in ipairs{ "luatrace.bpf", "luatrace.types", "luatrace.events", "luatrace.maps",
      "luatrace.usdt", "luatrace.metrics", "luatrace.console", "luatrace.bpftrace",
      "luatrace.toolkit", "luatrace.tool", "luatrace.compile", "luatrace.bpftrace.probes",
      "luatrace.probekinds", "luatrace.perf_events", "luatrace.sym" } do
    ok(not set[name], name .. " is not loaded: " .. out)
  end
  ok(set["luatrace"] and set["luatrace.cli"], "the CLI and the library's root are: " .. out)
end)

test("the library's parts load on first use, once", function()
  local set, out = loaded_after([[
    local lt = require "luatrace"
    assert(lt.BPF == require("luatrace.bpf"))
    assert(lt.metrics == require("luatrace.metrics"))
    assert(rawget(lt, "BPF") == lt.BPF)
    assert(lt.no_such_part == nil)
  ]])
  ok(set["luatrace.bpf"] and set["luatrace.metrics"], "used parts are loaded: " .. out)
  ok(not set["luatrace.usdt"], "an unused part is not: " .. out)
end)
