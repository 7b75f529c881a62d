-- tests/run.lua: the luatrace test runner; runs inside luatrace itself.
--
--   luatrace tests/run.lua [FILTER...]
--
-- Runs every tests/unit/*.lua and tests/integration/*.lua (or those whose
-- path contains a FILTER). A test file is a chunk that calls
-- test(name, fn); fn may call skip(reason). After each test the runner
-- checks that nothing leaked: no new file descriptors (every BPF object,
-- link, map and perf event is an fd) and no new uprobe/kprobe entries in
-- tracefs. The run ends with one line "N passed, N failed, N skipped".
local core = require "luatrace.core"

local root = (arg[0]:match("^(.*)/tests/run%.lua$") or ".")
do -- absolute, so paths in messages and /proc agree
  local p = io.popen("cd '" .. root .. "' && pwd")
  root = p:read("*l")
  p:close()
end
package.path = root .. "/tests/?.lua;" .. package.path
local H = require "helpers"
H.root = root

-- --vm: the cases of tests/vm/cases (run inside a VM guest by
-- tests/vm/run.sh); otherwise unit and integration tests. A FILTER that
-- names a test file under tests/ runs that file (tests/fixtures/).
local filters, dirs, files = {}, { "unit", "integration" }, {}
for i = 1, #arg do
  local fh = arg[i]:match("^tests/.+%.lua$") and io.open(root .. "/" .. arg[i])
  if fh then fh:close(); files[#files + 1] = root .. "/" .. arg[i]
  elseif arg[i] == "--vm" then dirs = { "vm/cases" }
  else filters[#filters + 1] = arg[i] end
end
if #files > 0 and #filters == 0 then dirs = {} end
local vm = require "vm.lib"

local function list(dir)
  local out = {}
  local p = io.popen("ls " .. root .. "/tests/" .. dir .. "/*.lua 2>/dev/null")
  for line in p:lines() do out[#out + 1] = line end
  p:close()
  table.sort(out)
  return out
end

local function wanted(path)
  if #filters == 0 then return true end
  for _, f in ipairs(filters) do
    if path:find(f, 1, true) then return true end
  end
  return false
end

local SKIP = setmetatable({}, { __tostring = function() return "skip" end })

local function tracefs_entries()
  local out = {}
  for _, f in ipairs({ "uprobe_events", "kprobe_events" }) do
    local fh = io.open(core.tracefs() .. "/" .. f)
    if fh then out[f] = fh:read("*a"); fh:close() end
  end
  return out
end

local function leaks(fds_before, tracefs_before)
  collectgarbage("collect")
  collectgarbage("collect")
  local msgs = {}
  for fd, target in pairs(core.open_fds()) do
    if not fds_before[fd] then
      msgs[#msgs + 1] = ("fd %d (%s)"):format(fd, target)
    end
  end
  for f, text in pairs(tracefs_entries()) do
    if text ~= tracefs_before[f] then msgs[#msgs + 1] = "new entries in " .. f end
  end
  table.sort(msgs)
  return msgs
end

local passed, failed, skipped = 0, 0, 0
local failures = {}

-- Per-test timeout (LUATRACE_TEST_TIMEOUT seconds, default 120): a
-- watchdog process marks the timeout in a file and sends the runner
-- SIGTERM, which ends the test's waits and interrupts its Lua code (the
-- test fails as timed out, the run goes on); if the runner is stuck where
-- no signal reaches, the watchdog kills it 30 s later.
local TIMEOUT = tonumber(os.getenv("LUATRACE_TEST_TIMEOUT")) or 120
local timeout_mark = ("/tmp/luatrace-test-timeout-%d"):format(core.getpid())

-- One watchdog process for the whole run (started before the first test,
-- so no test sees its execs or counts its pipe as a leak) reads a line
-- from the runner as each test starts and waits TIMEOUT s for the line
-- that says it ended; a runner that dies closes the pipe and ends it.
-- (bash, or busybox's sh in the VM guest: both have read -t; dash has not.)
local dog_shell = os.execute("command -v bash >/dev/null 2>&1") == 0 and "bash" or "sh"
local dog = io.popen("exec " .. dog_shell .. " -c " .. H.q(([[
while read -r c; do
  read -r -t %d c; rc=$?; [ $rc -eq 0 ] && continue; [ $rc -le 128 ] && exit 0
  touch %s; kill -TERM %d
  read -r -t 30 c; rc=$?; [ $rc -eq 0 ] && continue; [ $rc -le 128 ] && exit 0
  echo 'FAIL  a test timed out and the runner is stuck: killed' >&2; kill -KILL %d
done]]):format(TIMEOUT, timeout_mark, core.getpid(), core.getpid())), "w")

-- A compile's wait for clang's object (core.exec's ready, host/exec.c)
-- makes the process's one inotify instance the first time and keeps it:
-- made here, before the first test, it is no test's leak.
do
  local path = H.unique_path("runner-watch")
  assert(os.execute("mkdir -m 0700 " .. H.q(path)) == 0)
  local dir = assert(core.safe_dir(path))
  core.exec({ "true" }, nil, { fd = dir:fd(), name = "none" })
  dir:close()
  os.remove(path)
end

local function watchdog_start()
  os.remove(timeout_mark)
  dog:write("start\n")
  dog:flush()
end

local function watchdog_stop()
  dog:write("stop\n")
  dog:flush()
  local timed_out = io.open(timeout_mark) ~= nil
  os.remove(timeout_mark)
  if timed_out then core.reset_interrupt() end
  return timed_out
end

local function run_test(file, name, fn)
  local fds = core.open_fds()
  local tfs = tracefs_entries()
  local label = file:match("tests/(.*)%.lua$"):gsub("^vm/cases/", "vm/") .. ": " .. name
  watchdog_start()
  local ok, err = xpcall(fn, function(e)
    if type(e) == "table" and e[1] == SKIP then return e end
    return debug.traceback(tostring(e), 2)
  end)
  if watchdog_stop() then
    ok, err = false, ("timed out after %d s (LUATRACE_TEST_TIMEOUT)"):format(TIMEOUT)
  end
  local leaked = leaks(fds, tfs)
  if not ok and type(err) == "table" and err[1] == SKIP then
    skipped = skipped + 1
    print(("skip  %s: %s"):format(label, err[2]))
  elseif not ok then
    failed = failed + 1
    failures[#failures + 1] = label
    print(("FAIL  %s\n      %s"):format(label, tostring(err):gsub("\n", "\n      ")))
  elseif #leaked > 0 then
    failed = failed + 1
    failures[#failures + 1] = label
    print(("FAIL  %s: leaked %s"):format(label, table.concat(leaked, ", ")))
  else
    passed = passed + 1
    print(("ok    %s"):format(label))
  end
  io.stdout:flush()
end

local function run_file(file)
  local tests = {}
  local env = setmetatable({}, { __index = _G })
  env.test = function(name, fn) tests[#tests + 1] = { name, fn } end
  env.skip = function(reason) error({ SKIP, reason }, 0) end
  for k, v in pairs(H) do env[k] = v end
  env.root = root
  env.program = vm.program
  env.vm_opts = vm.opts
  env.reads = vm.reads
  local chunk, err = loadfile(file)
  if not chunk then
    failed = failed + 1
    print("FAIL  " .. file .. ": " .. err)
    return
  end
  setfenv(chunk, env)
  local ok, lerr = pcall(chunk)
  if not ok then
    failed = failed + 1
    print("FAIL  " .. file .. ": " .. tostring(lerr))
    return
  end
  for _, t in ipairs(tests) do run_test(file, t[1], t[2]) end
end

for _, dir in ipairs(dirs) do
  for _, file in ipairs(list(dir)) do
    if wanted(file) then run_file(file) end
  end
end
for _, file in ipairs(files) do run_file(file) end

if #failures > 0 then
  print("\nfailed:")
  for _, f in ipairs(failures) do print("  " .. f) end
end
print(("%d passed, %d failed, %d skipped"):format(passed, failed, skipped))
io.stdout:flush()
if failed > 0 then os.exit(1) end
