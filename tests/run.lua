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
-- tests/vm/run.sh); otherwise unit and integration tests.
local filters, dirs = {}, { "unit", "integration" }
for i = 1, #arg do
  if arg[i] == "--vm" then dirs = { "vm/cases" } else filters[#filters + 1] = arg[i] end
end
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

local function run_test(file, name, fn)
  local fds = core.open_fds()
  local tfs = tracefs_entries()
  local ok, err = xpcall(fn, function(e)
    if type(e) == "table" and e[1] == SKIP then return e end
    return debug.traceback(tostring(e), 2)
  end)
  local leaked = leaks(fds, tfs)
  local label = file:match("tests/(.*)%.lua$"):gsub("^vm/cases/", "vm/") .. ": " .. name
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

if #failures > 0 then
  print("\nfailed:")
  for _, f in ipairs(failures) do print("  " .. f) end
end
print(("%d passed, %d failed, %d skipped"):format(passed, failed, skipped))
io.stdout:flush()
if failed > 0 then os.exit(1) end
