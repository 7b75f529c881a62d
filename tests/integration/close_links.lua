-- Closing many links at once (core.close_links, used by b:cleanup() and
-- the bpftrace runtime): the kernel's detaches overlap, and when the call
-- returns every link is gone: its perf event and bpf_link fds closed, and
-- the probed function and tracepoints no longer run the program.
-- bench/detach.lua measures the time.
local lt = require "luatrace"
local core = lt.core
local BPF = lt.BPF

local SRC = [[
BPF_ARRAY(hits, u64, 1);
int on_hit(void *ctx) {
	if (lt_pid() != TARGET) return 0;
	hits.increment(0);
	return 0;
}
]]

local TPS = { "sys_enter_getppid", "sys_enter_getuid", "sys_enter_getgid", "sys_enter_geteuid",
  "sys_enter_getegid", "sys_enter_getpgrp" }

local function hits(b) return tonumber(b.hits[0]) end

test("close_links: 6 uprobes + 6 uretprobes + 6 tracepoints, all gone after cleanup", function()
  local before = probe_fds()
  local b = BPF{ text = SRC, cflags = { "-DTARGET=" .. core.getpid() } }
  local FUNCS = { "getppid", "getuid", "getgid", "geteuid", "getegid", "getpgrp" }
  for _, f in ipairs(FUNCS) do
    b:attach_uprobe{ name = "c", sym = f, fn_name = "on_hit", pid = core.getpid() }
    b:attach_uretprobe{ name = "c", sym = f, fn_name = "on_hit", pid = core.getpid() }
  end
  for _, tp in ipairs(TPS) do b:attach_tracepoint{ tp = "syscalls:" .. tp, fn_name = "on_hit" } end
  eq(b:num_open_uprobes(), 12)
  eq(b:num_open_tracepoints(), 6)
  local held = probe_fds() - before
  ok(held >= 18, ("at least one fd per link: %d"):format(held))
  b.hits[0] = 0
  getppid_calls(1) -- uprobe + uretprobe + tracepoint
  eq(hits(b), 3)
  local links = {}
  for _, l in pairs(b._links) do links[#links + 1] = l.link end
  b:cleanup()
  eq(probe_fds(), before, "every perf event and link fd closed")
  for _, l in ipairs(links) do
    eq(l:count(), 0)
    ok(tostring(l):match(" %(closed%)$"), tostring(l))
  end
  eq(b:num_open_uprobes(), 0)
  eq(b:num_open_tracepoints(), 0)
end)

test("close_links: closed links are skipped, a non-link closes nothing", function()
  local b = BPF{ text = SRC, cflags = { "-DTARGET=" .. core.getpid() } }
  local l1 = b:attach_tracepoint{ tp = "syscalls:sys_enter_getppid", fn_name = "on_hit" }
  local l2 = b:attach_tracepoint{ tp = "syscalls:sys_enter_getuid", fn_name = "on_hit" }
  l1:close()
  raises(function() core.close_links({ l1, l2, "x" }) end, "close_links: element 3 is not a link")
  eq(l2:count(), 1)
  b.hits[0] = 0
  getppid_calls(2)
  eq(hits(b), 0, "l1 closed alone")
  core.close_links({ l1, l2 })
  eq(l2:count(), 0)
  core.close_links({})
  b:cleanup()
end)

test("close_links: USDT links (closed one after another) among uprobes, none left", function()
  local before = probe_fds()
  local o = load("probes")
  local path = test_prog("lt_target")
  local list = {}
  for _ = 1, 3 do list[#list + 1] = core.attach_usdt(o, "on_tick", path, "luatrace_test", "tick") end
  for _, f in ipairs({ "getppid", "getuid", "getgid", "geteuid" }) do
    list[#list + 1] = core.attach_uprobe(o, "on_libc_call", "c", { sym = f, pid = core.getpid() })
  end
  ok(probe_fds() - before >= 7, "at least one fd per link")
  core.close_links(list)
  eq(probe_fds(), before, "every perf event and link fd closed")
  for _, l in ipairs(list) do eq(l:count(), 0) end
  local ring = core.ring_buffer(o:map("probe_events"))
  sh(q(path) .. " calls 2")
  local n = 0
  drain(ring, require("luatrace.types").ptr(o, "struct lt_test_probe"), function() n = n + 1 end)
  eq(n, 0, "no USDT event after close")
  -- the object still attaches USDT after its links gave their spec ids back
  local l = core.attach_usdt(o, "on_tick", path, "luatrace_test", "tick")
  core.close_links({ l })
  ring:close(); o:close()
end)
