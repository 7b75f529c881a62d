-- kprobe/kretprobe/fentry/fexit: where the kernel lacks them (this VM), the
-- error says so and names an alternative; where it has them (the VM matrix
-- of another issue), they run for real.
local core = require "luatrace.core"

local function read_file(n)
  for _ = 1, n do
    local f = io.open("/proc/self/stat"); f:read("*a"); f:close()
  end
end

test("kprobe: attach, or the clear missing-feature error", function()
  local o = load("probes")
  if not core.has_kprobes() then
    raises(function() core.attach_kprobe(o, "on_vfs_read", "vfs_read") end,
      "attach kprobe vfs_read: kprobes are not available in this kernel "
      .. "(no kprobe PMU and no kprobe_events); use a tracepoint")
    raises(function() core.attach_kprobe(o, "on_vfs_read_ret", "vfs_read", { retprobe = true }) end,
      "attach kretprobe vfs_read: kprobes are not available in this kernel")
    o:close()
    return
  end
  local l1 = core.attach_kprobe(o, "on_vfs_read", "vfs_read")
  local l2 = core.attach_kprobe(o, "on_vfs_read_ret", "vfs_read", { retprobe = true })
  read_file(10)
  l1:close(); l2:close()
  ok(array_value(o, "hits", 4) >= 10, "kprobe hits")
  ok(array_value(o, "hits", 5) >= 10, "kretprobe hits")
  raises(function() core.attach_kprobe(o, "on_vfs_read", "no_such_function_xyz") end,
    "attach kprobe no_such_function_xyz: no such kernel function")
  o:close()
end)

test("fentry/fexit: load, or the clear refusal", function()
  local o = core.open_file(test_obj("fentry"))
  o:set_global("target_pid", core.getpid())
  if not core.has_fentry() then
    raises(function() o:load() end,
      "load BPF object " .. test_obj("fentry") .. " program on_fentry_read: ",
      core.has_kprobes() and "fentry/fexit programs are refused by this kernel "
        .. "(has_fentry() is false); use a kprobe or a tracepoint"
      or "fentry/fexit programs are refused by this kernel (has_fentry() is false), "
        .. "and it has no kprobes either; use a tracepoint or a raw tracepoint")
    o:close()
    return
  end
  o:load()
  local l1, l2 = core.attach_trace(o, "on_fentry_read"), core.attach_trace(o, "on_fexit_read")
  read_file(3)
  l1:close(); l2:close()
  -- entries, exits and last_count are the .bss's three u64s: the two
  -- counters saw our 3 reads (and last_count is a buffer size)
  local bss
  for _, m in ipairs(o:maps()) do
    if m.name:find("%.bss$") then bss = o:map(m.name) end
  end
  local bytes = bss:lookup(string.rep("\0", 4))
  local ffi = require "ffi"
  local v = ffi.cast("const uint64_t *", bytes)
  local counted = 0
  for i = 0, #bytes / 8 - 1 do
    if v[i] >= 3 then counted = counted + 1 end
  end
  ok(counted >= 3, "fentry and fexit counted our reads")
  o:close()
end)
