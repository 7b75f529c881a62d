-- hardirqs and softirqs: interrupts of this machine, checked against
-- /proc/interrupts and /proc/softirqs read around the whole run (the
-- tool's counts must fit inside that window's, and be there at all).
local core = require "luatrace.core"
local T = require "tool_helpers"

-- name -> total over CPUs, from /proc/interrupts (by action name) or
-- /proc/softirqs (by vector, lower case as the tools print them).
local function proc_counts(file)
  local t = {}
  local f = io.open(file)
  for line in f:lines() do
    local label, rest = line:match("^%s*(%S+):(.*)$")
    if label then
      local sum, fields = 0, {}
      for w in rest:gmatch("%S+") do fields[#fields + 1] = w end
      local i = 1
      while fields[i] and fields[i]:match("^%d+$") do sum = sum + tonumber(fields[i]); i = i + 1 end
      if file:find("softirqs") then t[label:lower()] = sum
      else t[fields[#fields] or label] = (t[fields[#fields] or label] or 0) + sum end
    end
  end
  f:close()
  return t
end

local function io_workload()
  for _ = 1, 20 do
    core.exec({ "dd", "if=/dev/zero", "of=" .. unique_path("irq"), "bs=4096", "count=1",
      "oflag=direct", "status=none" })
  end
  os.execute("rm -f /tmp/luatrace-test-" .. core.getpid() .. "-irq-*")
end

test("hardirqs -C: counts per handler within /proc/interrupts' window", function()
  local before = proc_counts("/proc/interrupts")
  local r = T.tool("hardirqs -C", io_workload)
  local after = proc_counts("/proc/interrupts")
  local lines = {}
  for l in r.out:gmatch("[^\n]+") do lines[#lines + 1] = l end
  eq(lines[1], "Tracing hard irq events... Hit Ctrl-C to end.")
  eq(lines[2], ("%-26s %11s"):format("HARDIRQ", "TOTAL_count"))
  ok(#lines > 2, "some interrupts:\n" .. r.out)
  for i = 3, #lines do
    local name, n = lines[i]:match("^(%S+)%s+(%d+)$")
    ok(name, lines[i])
    eq(lines[i], ("%-26s %11d"):format(name, tonumber(n)))
    if before[name] and after[name] then
      ok(tonumber(n) <= after[name] - before[name], ("%s: %s <= %d"):format(name, n, after[name] - before[name]))
    end
  end
end)

test("softirqs -C and -d --json: vectors within /proc/softirqs' window", function()
  local before = proc_counts("/proc/softirqs")
  local r = T.tool("softirqs -C", io_workload)
  local after = proc_counts("/proc/softirqs")
  eq(r.out:match("^[^\n]*\n\n([^\n]*)"), ("%-16s %11s"):format("SOFTIRQ", "TOTAL_count"))
  local seen = 0
  for name, n in r.out:gmatch("\n(%l[%l_]*) +(%d+)") do
    seen = seen + 1
    ok(after[name], "a vector /proc/softirqs knows: " .. name)
    ok(tonumber(n) <= after[name] - before[name], ("%s: %s <= %d"):format(name, n, after[name] - before[name]))
  end
  ok(seen > 0, r.out)
  r = T.tool("softirqs -d --json", io_workload)
  local line = r.out:match("^([^\n]+)\n$")
  ok(line and line:match('^{"time":"[%d:]+","softirqs":%[{"softirq":"%l+","unit":"usecs","total":%d+,"buckets":%['), r.out)
end)
