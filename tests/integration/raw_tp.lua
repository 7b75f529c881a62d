-- raw_tp and tp_btf on sys_enter: exact counts of our openat calls.
local core = require "luatrace.core"

local function count_opens(attach, slot)
  local o = load("probes")
  local link = attach(o)
  for i = 1, 7 do touch_open(unique_path("raw" .. i)) end
  link:close()
  local n = array_value(o, "hits", slot)
  o:close()
  return n
end

test("raw tracepoint sys_enter counts exactly our 7 openat calls", function()
  eq(count_opens(function(o)
    return core.attach_raw_tracepoint(o, "on_raw_sys_enter", "sys_enter")
  end, 0), 7)
end)

test("tp_btf sys_enter (BTF-typed arguments) counts exactly 7", function()
  eq(count_opens(function(o) return core.attach_trace(o, "on_btf_sys_enter") end, 1), 7)
end)

test("an unknown raw tracepoint is a clear error", function()
  local o = load("probes")
  raises(function() core.attach_raw_tracepoint(o, "on_raw_sys_enter", "no_such_raw_tp") end,
    "attach raw tracepoint no_such_raw_tp: No such file or directory (no such raw tracepoint)")
  o:close()
end)
