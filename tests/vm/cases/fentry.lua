-- fentry/fexit with BTF-typed arguments, and FUNC_PROBE's automatic choice
-- between fentry and kprobe.
local lt = require "luatrace"
local BPF = lt.BPF
local core = lt.core
-- reads(n): n reads of 123 bytes (tests/vm/lib.lua)

local FENTRY = program [[
struct hit_t { u32 kind; u64 count; long ret; char name[16]; };
BPF_RINGBUF_OUTPUT(hits, 16);
const volatile int target_pid = 0;
KFUNC_PROBE(vfs_read, struct file *file, char *buf, size_t count) {
	if (lt_pid() != target_pid || count != 123) return 0;
	struct hit_t h = { .kind = 1, .count = count };
	/* BTF-typed pointers: read through directly, no probe_read */
	bpf_probe_read_kernel_str(h.name, sizeof(h.name), file->f_path.dentry->d_name.name);
	hits.ringbuf_output(&h, sizeof(h), 0);
	return 0;
}
KRETFUNC_PROBE(vfs_read, struct file *file, char *buf, size_t count, loff_t *pos, ssize_t ret) {
	if (lt_pid() != target_pid || count != 123) return 0;
	struct hit_t h = { .kind = 2, .count = count, .ret = ret };
	hits.ringbuf_output(&h, sizeof(h), 0);
	return 0;
}
]]

test("fentry and fexit on vfs_read: typed arguments and the return value", function()
  if not core.has_fentry() then skip("no fentry in this kernel") end
  local b = BPF(vm_opts(FENTRY, { globals = { target_pid = core.getpid() } }))
  local got = {}
  b.hits:open_ring_buffer(function(h)
    got[#got + 1] = h.kind == 1 and (h.name .. ":" .. h.count) or ("ret=" .. h.ret)
  end)
  reads(4)
  b:ring_buffer_poll(1000)
  eq(table.concat(got, " "), ("zero:123 ret=123 "):rep(4):sub(1, -2))
  b:detach_kfunc{ fn_name = "kfunc__vfs_read" }
  reads(1)
  got = {}
  b:ring_buffer_poll(100)
  eq(table.concat(got, " "), "ret=123", "fentry detached, fexit still there")
  b:cleanup()
end)

local AUTO = program [[
BPF_ARRAY(n, u64, 1);
const volatile int target_pid = 0;
FUNC_PROBE(vfs_read, struct file *file, char *buf, size_t count) {
	if (lt_pid() == target_pid && count == 123) n.increment(0);
	return 0;
}
]]

test("FUNC_PROBE picks fentry where the kernel allows it, else a kprobe", function()
  local b = BPF(vm_opts(AUTO, { globals = { target_pid = core.getpid() } }))
  local sec = b:object():programs()[1].section
  eq(sec, core.has_fentry() and "fentry/vfs_read" or "kprobe/vfs_read")
  reads(6)
  eq(b.n[0], 6)
  b:cleanup()
end)
