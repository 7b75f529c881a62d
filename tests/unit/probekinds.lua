-- The probe kinds table: the one place that knows BCC names, sections,
-- context types, bpftrace names and count classes.
local pk = require "luatrace.probekinds"

test("sections map to kinds and named arguments", function()
  local cases = {
    { "tracepoint/syscalls/sys_enter_openat", "tracepoint", "tp", "syscalls:sys_enter_openat" },
    { "tp/sched/sched_switch", "tracepoint", "tp", "sched:sched_switch" },
    { "raw_tp/sys_enter", "raw_tracepoint", "tp", "sys_enter" },
    { "raw_tracepoint/sys_exit", "raw_tracepoint", "tp", "sys_exit" },
    { "tp_btf/sched_switch", "tp_btf", "func", "sched_switch" },
    { "kprobe/vfs_read", "kprobe", "event", "vfs_read" },
    { "kretprobe/vfs_read", "kretprobe", "event", "vfs_read" },
    { "fentry/vfs_read", "kfunc", "func", "vfs_read" },
    { "fexit/vfs_read", "kretfunc", "func", "vfs_read" },
    { "uprobe/libc.so.6:malloc", "uprobe", "sym", "malloc" },
    { "uretprobe//bin/bash:readline", "uretprobe", "name", "/bin/bash" },
    { "usdt/x:prov:probe", "usdt", "probe", "probe" },
  }
  for _, c in ipairs(cases) do
    local kind, o = pk.from_section(c[1])
    eq(kind and kind.name, c[2], c[1])
    eq(o[c[3]], c[4], c[1] .. " " .. c[3])
  end
  local k, o = pk.from_section("kprobe/vfs_read+16")
  eq(k.name, "kprobe"); eq(o.event, "vfs_read"); eq(o.event_off, 16)
  eq(pk.from_section("kprobe"), nil, "no target: nothing to attach")
  eq(pk.from_section("perf_event"), nil)
  eq(pk.from_section("socket"), nil)
end)

test("BCC names and context types give sections", function()
  local k, sec = pk.from_bcc_name("kretprobe__vfs_read")
  eq(k.name, "kretprobe"); eq(sec, "kretprobe/vfs_read")
  k, sec = pk.from_bcc_name("tracepoint__syscalls__sys_enter_openat")
  eq(k.name, "tracepoint"); eq(sec, "tracepoint/syscalls/sys_enter_openat")
  k, sec = pk.from_bcc_name("kfunc__tcp_connect")
  eq(sec, "fentry/tcp_connect"); eq(k.typed, "BPF_PROG")
  eq(pk.from_bcc_name("on_read"), nil)
  eq(pk.from_ctx("struct pt_regs *ctx").name, "kprobe")
  eq(pk.from_ctx("struct  pt_regs* ctx").name, "kprobe")
  eq(pk.from_ctx("struct bpf_perf_event_data *ctx").name, "perf_event")
  eq(pk.from_ctx("struct tracepoint__syscalls__sys_enter_openat *args").name, "tracepoint")
  eq(pk.from_ctx("struct pt_regs_x *ctx"), nil)
  eq(pk.from_ctx("void *ctx"), nil)
end)

test("bpftrace names, methods and count classes", function()
  local names = {
    tracepoint = "tracepoint", t = "tracepoint", rawtracepoint = "raw_tracepoint", rt = "raw_tracepoint",
    kprobe = "kprobe", k = "kprobe", kretprobe = "kretprobe", kr = "kretprobe",
    kfunc = "kfunc", fentry = "kfunc", f = "kfunc", kretfunc = "kretfunc", fexit = "kretfunc", fr = "kretfunc",
    uprobe = "uprobe", u = "uprobe", uretprobe = "uretprobe", ur = "uretprobe", usdt = "usdt", U = "usdt",
    profile = "profile", p = "profile", interval = "interval", i = "interval",
    software = "software", s = "software", hardware = "hardware", h = "hardware",
  }
  for n, kind in pairs(names) do eq(pk.by_bpftrace[n] and pk.by_bpftrace[n].name, kind, n) end
  for _, k in ipairs(pk.list) do
    if k.method then
      ok(k.attach and k.target and k.args, k.name .. " has what its methods need")
    end
    if k.via then ok(pk.by_name[k.via], k.name .. " attaches via " .. k.via) end
  end
  local classes = pk.count_classes()
  ok(classes.kprobes.kprobe and classes.kprobes.kretprobe, "kprobes")
  ok(classes.uprobes.uprobe and classes.uprobes.uretprobe and classes.uprobes.usdt, "uprobes")
  ok(classes.tracepoints.tracepoint and classes.tracepoints.raw_tracepoint and classes.tracepoints.tp_btf, "tracepoints")
end)
