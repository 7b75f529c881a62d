-- USDT: the SDT probe luatrace_test:tick(i, i*1000, "tick") in lt_target,
-- arguments decoded by libbpf's USDT support.
local core = require "luatrace.core"
local types = require "luatrace.types"
local ffi = require "ffi"

test("USDT probe arguments arrive exactly", function()
  local o = load("probes")
  local path = test_prog("lt_target")
  local l = core.attach_usdt(o, "on_tick", path, "luatrace_test", "tick")
  eq(tostring(l), "link usdt " .. path .. ":luatrace_test:tick")
  local ring = core.ring_buffer(o:map("probe_events"))
  local out = sh(q(path) .. " calls 4")
  local pid = tonumber(out:match("^(%d+)"))
  local got = {}
  drain(ring, types.ptr(o, "struct lt_test_probe"), function(e)
    if e.pid == pid and e.kind == 3 then
      got[#got + 1] = { tonumber(e.a), tonumber(e.b), ffi.string(e.str) }
    end
  end)
  eq(#got, 4, "probe hits")
  for i = 1, 4 do
    eq(got[i][1], i, "arg1"); eq(got[i][2], i * 1000, "arg2"); eq(got[i][3], "tick", "arg3")
  end
  l:close(); ring:close(); o:close()
end)

test("an unknown USDT probe is a clear error", function()
  local o = load("probes")
  raises(function()
    core.attach_usdt(o, "on_tick", test_prog("lt_target"), "luatrace_test", "nope")
  end, "attach usdt " .. test_prog("lt_target") .. ":luatrace_test:nope: no such USDT probe")
  o:close()
end)
