-- require never runs code from the working directory or from a directory
-- others can write (issue 8, item 2): Lua's default ./?.lua and ./?.so are
-- gone from package.path/cpath; a script's own directory is searched only
-- when it is safe.
local core = require "luatrace.core"

-- A directory with a planted module that prints PWNED when loaded.
local function planted(mode)
  local dir = os.tmpname(); os.remove(dir)
  os.execute(("mkdir -p -m %s %s/luatrace/modules && chmod %s %s"):format(mode, q(dir), mode, q(dir)))
  for _, p in ipairs({ "/nosuch.lua", "/luatrace/modules/nosuch.lua" }) do
    local fh = io.open(dir .. p, "w"); fh:write('print("PWNED")\n'); fh:close()
  end
  local fh = io.open(dir .. "/nosuch.so", "w"); fh:write("not ELF\n"); fh:close()
  return dir
end

test("luatrace -m typo and require of a missing module do not run ./NAME.lua or ./NAME.so", function()
  local dir = planted("755")
  local out, err, code = sh(("cd %s && %s -m nosuch"):format(q(dir), q(luatrace())))
  eq(out, "", "nothing ran")
  eq(code, 2, "a usage error: the tools are listed")
  ok(err:find("luatrace: run tool nosuch: no such tool", 1, true), err)
  out, err, code = sh(("cd %s && %s -e 'require \"nosuch\"'"):format(q(dir), q(luatrace())))
  eq(out, "", "nothing ran")
  eq(code, 1)
  ok(not err:find("'./nosuch", 1, true), "./ not searched: " .. err)
  out = sh(("cd %s && %s -e 'print(package.path..\";\"..package.cpath)'"):format(q(dir), q(luatrace())))
  for tpl in out:gsub("\n", ""):gmatch("[^;]+") do
    ok(tpl:sub(1, 1) == "/", "only absolute templates: " .. tpl)
  end
  os.execute("rm -rf " .. q(dir))
end)

test("a script may require its neighbours, unless its directory is open to others", function()
  local dir = planted("755")
  local fh = io.open(dir .. "/main.lua", "w"); fh:write('require "nosuch"\nprint("after")\n'); fh:close()
  local out, err, code = sh(("cd / && %s %s"):format(q(luatrace()), q(dir .. "/main.lua")))
  eq(code, 0, err)
  eq(out, "PWNED\nafter\n", "the neighbour (a safe directory) loads")
  -- the same, relative to the working directory
  out = sh(("cd %s && %s main.lua"):format(q(dir), q(luatrace())))
  eq(out, "PWNED\nafter\n", "a relative script path finds its neighbour")
  os.execute("chmod 777 " .. q(dir))
  out, err, code = sh(("cd / && %s %s"):format(q(luatrace()), q(dir .. "/main.lua")))
  eq(out, "", "a world-writable directory is not searched")
  eq(code, 1)
  ok(err:find("module 'nosuch' not found", 1, true), err)
  os.execute("rm -rf " .. q(dir))
end)

test("a package.path entry below a directory others can write is dropped", function()
  local dir = planted("777")
  local out = sh(("LUA_PATH=%s %s -e 'print(package.path)'"):format(
    q(dir .. "/?.lua;;"), q(luatrace())))
  ok(not out:find(dir, 1, true), "dropped: " .. out)
  os.execute("chmod 755 " .. q(dir))
  out = sh(("LUA_PATH=%s %s -e 'print(package.path)'"):format(q(dir .. "/?.lua;;"), q(luatrace())))
  ok(out:find(dir, 1, true), "kept when safe: " .. out)
  os.execute("rm -rf " .. q(dir))
end)
