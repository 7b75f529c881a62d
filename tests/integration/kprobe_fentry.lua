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
  o:close()
end)
