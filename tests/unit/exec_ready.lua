-- core.exec / exec_start with ready = {fd = dir, name = file}: a quiet
-- program is done once its result is renamed into place (it may still
-- be exiting; a thread reaps it); one that printed is read to its end;
-- a rename queued before it started never counts.
local core = require "luatrace.core"

local function with_dir(fn)
  local path = unique_path("exec-ready")
  assert(os.execute("mkdir -m 0700 " .. path) == 0)
  local d = assert(core.safe_dir(path))
  local ok, err = pcall(fn, d, path)
  d:close()
  os.execute("rm -rf " .. path)
  if not ok then error(err, 0) end
end

local function read(p)
  local f = io.open(p)
  if not f then return nil end
  local s = f:read("*a"); f:close()
  return s
end

local function alive(pid)
  local st = read("/proc/" .. pid .. "/stat")
  return st and not st:match("^%d+ %b() Z") and true or false
end

local function wait_gone(pid)
  for _ = 1, 500 do
    if not read("/proc/" .. pid .. "/stat") then return true end
    core.sleep(10)
  end
  return false
end

test("exec ready: a quiet program is done at its rename, still running, then reaped", function()
  with_dir(function(d, path)
    local script = ('echo $$ > %s/pid; : > %s/out.tmp; mv %s/out.tmp %s/out; exec sleep 30')
      :format(path, path, path, path)
    local code, out = core.exec({ "/bin/sh", "-c", script }, nil, { fd = d:fd(), name = "out" })
    eq(code, 0, "exit code")
    eq(out, "", "output")
    local pid = tonumber(read(path .. "/pid"))
    ok(pid and alive(pid), "the program still runs (sleep 30)")
    os.execute("kill " .. pid)
    ok(wait_gone(pid), "killed, it is reaped: no zombie left")
  end)
end)

test("exec ready: a program that printed is read to its end, exit code kept", function()
  with_dir(function(d, path)
    local script = ('echo warning; : > %s/out.tmp; mv %s/out.tmp %s/out; sleep 0.2; echo tail; exit 3')
      :format(path, path, path)
    local code, out = core.exec({ "/bin/sh", "-c", script }, nil, { fd = d:fd(), name = "out" })
    eq(code, 3, "exit code")
    eq(out, "warning\ntail\n", "whole output")
  end)
end)

test("exec ready: another name, or none, waits for the exit", function()
  with_dir(function(d, path)
    local script = (': > %s/x.tmp; mv %s/x.tmp %s/other; sleep 0.1; exit 5'):format(path, path, path)
    local code, out = core.exec({ "/bin/sh", "-c", script }, nil, { fd = d:fd(), name = "out" })
    eq(code, 5, "exit code")
    eq(out, "", "output")
  end)
end)

test("exec ready: a rename before the program started does not count", function()
  with_dir(function(d, path)
    -- the first run's rename is not consumed (it printed: read to its end)
    local first = ('echo noisy; : > %s/out.tmp; mv %s/out.tmp %s/out'):format(path, path, path)
    local code = core.exec({ "/bin/sh", "-c", first }, nil, { fd = d:fd(), name = "out" })
    eq(code, 0, "first exit code")
    os.execute(("touch %s/y; mv %s/y %s/out"):format(path, path, path)) -- between runs
    local code2, out2 = core.exec({ "/bin/sh", "-c", "sleep 0.2; exit 7" }, nil,
      { fd = d:fd(), name = "out" })
    eq(code2, 7, "second program's own exit code")
    eq(out2, "")
  end)
end)

test("exec_start/exec_finish ready: input fed, done at the rename", function()
  with_dir(function(d, path)
    local script = ('cat > %s/out.tmp; echo $$ > %s/pid; mv %s/out.tmp %s/out; exec sleep 30')
      :format(path, path, path, path)
    local h = assert(core.exec_start({ "/bin/sh", "-c", script }, nil, { fd = d:fd(), name = "out" }))
    local code, out = core.exec_finish(h, "object bytes")
    eq(code, 0, "exit code")
    eq(out, "")
    eq(read(path .. "/out"), "object bytes", "the result in place")
    local pid = tonumber(read(path .. "/pid"))
    ok(pid and alive(pid), "the program still runs")
    os.execute("kill " .. pid)
    ok(wait_gone(pid), "reaped")
  end)
end)

test("exec: output longer than a buffer comes whole, with the exit code", function()
  local code, out = core.exec({ "/bin/sh", "-c", "head -c 20000 /dev/zero | tr '\\0' a; exit 3" })
  eq(code, 3, "exit code")
  eq(#out, 20000, "output length")
  ok(not out:find("[^a]"), "only the program's bytes")
end)
