-- uprobe and uretprobe on lt_target_add(a, b) in tests/progs/lt_target.c:
-- the arguments and return values of every call, from the target's pid.
local core = require "luatrace.core"
local types = require "luatrace.types"
local ffi = require "ffi"

local function run_target(n)
  local out, err, code = sh(q(test_prog("lt_target")) .. " calls " .. n)
  eq(code, 0, "target exit code: " .. err)
  local pid, sum = out:match("^(%d+)\n(%d+)\n$")
  return tonumber(pid), tonumber(sum)
end

test("uprobe reads arguments and uretprobe the return value", function()
  local o = load("probes")
  local path = test_prog("lt_target")
  local l1 = core.attach_uprobe(o, "on_add", path, { sym = "lt_target_add" })
  local l2 = core.attach_uprobe(o, "on_add_ret", path, { sym = "lt_target_add", retprobe = true })
  eq(tostring(l1), "link uprobe " .. path .. ":lt_target_add")
  local ring = core.ring_buffer(o:map("probe_events"))
  local pid, sum = run_target(5)
  eq(sum, 515, "target's own sum")
  local calls, rets = {}, {}
  drain(ring, types.ptr(o, "struct lt_test_probe"), function(e)
    if e.pid == pid then
      if e.kind == 1 then calls[#calls + 1] = { tonumber(e.a), tonumber(e.b) } end
      if e.kind == 2 then rets[#rets + 1] = tonumber(e.a) end
    end
  end)
  eq(#calls, 5, "calls"); eq(#rets, 5, "returns")
  for i = 1, 5 do
    eq(calls[i][1], i, "a of call " .. i); eq(calls[i][2], 100, "b of call " .. i)
    eq(rets[i], i + 100, "return of call " .. i)
  end
  l1:close(); l2:close(); ring:close(); o:close()
end)

test("uprobe with a pid filter sees only that process", function()
  local o = load("probes")
  -- pid 1 never runs lt_target: nothing may arrive from our run.
  local l = core.attach_uprobe(o, "on_add", test_prog("lt_target"),
    { sym = "lt_target_add", pid = 1 })
  local ring = core.ring_buffer(o:map("probe_events"))
  run_target(3)
  eq(drain(ring), 0, "events from another pid")
  l:close(); ring:close(); o:close()
end)

test("uprobe by offset from the ELF symbol", function()
  local o = load("probes")
  local path = test_prog("lt_target")
  local addr = core.elf_symbol(path, "lt_target_add")
  -- Non-PIE or PIE, the ELF vaddr of a function in the first text segment
  -- minus the segment's vaddr-offset delta is its file offset; for these
  -- binaries text is mapped at vaddr == file offset.
  local off = tonumber(ffi.cast("uint64_t", addr))
  local out = sh("readelf -lW " .. q(path) .. " | awk '$1==\"LOAD\" && / R E / {print $2, $3}'")
  local foff, vaddr = out:match("(0x%x+) (0x%x+)")
  if not foff then skip("readelf (binutils) is not installed") end
  off = off - tonumber(vaddr) + tonumber(foff)
  local l = core.attach_uprobe(o, "on_add", path, { offset = off })
  local ring = core.ring_buffer(o:map("probe_events"))
  local pid = run_target(2)
  local n = 0
  drain(ring, types.ptr(o, "struct lt_test_probe"), function(e)
    if e.pid == pid and e.kind == 1 then n = n + 1; eq(tonumber(e.a), n) end
  end)
  eq(n, 2, "calls seen through the offset probe")
  l:close(); ring:close(); o:close()
end)

test("uprobe on a library by short name (\"c\" is libc), filtered to our pid", function()
  local o = load("probes")
  local l = core.attach_uprobe(o, "on_libc_call", "c", { sym = "getppid", pid = core.getpid() })
  ok(tostring(l):find("^link uprobe /proc/%d+/root/.*libc%.so%.6:getppid$"), tostring(l))
  getppid_calls(23)
  l:close()
  eq(array_value(o, "hits", 6), 23, "getppid calls seen")
  eq(core.find_library("c"):match("libc%.so%.6$"), "libc.so.6", "find_library without pid")
  eq(core.find_library("no_such_library_xyz"), nil)
  o:close()
end)
