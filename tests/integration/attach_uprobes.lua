-- b:attach_uprobes{...}: several uprobes and uretprobes attached together
-- (host/link_uprobes.c opens them from a pool of threads, so they share
-- one RCU grace period). Every one fires with its own cookie; a failure
-- anywhere in the list leaves nothing attached; optional entries that fail
-- are left out. bench/tools.lua measures the time (gethostlatency,
-- memleak).
local lt = require "luatrace"
local core = lt.core
local BPF = lt.BPF
local ffi = require "ffi"
pcall(ffi.cdef, "unsigned int getuid(void); unsigned int getgid(void); int getpgrp(void);")

-- hits[cookie]: calls seen from this process, per attachment
local SRC = [[
BPF_ARRAY(hits, u64, 8);
int on_hit(struct pt_regs *ctx) {
	if (lt_pid() != TARGET) return 0;
	u32 k = (u32)bpf_get_attach_cookie(ctx);
	hits.increment(k);
	return 0;
}
]]

local function open()
  return BPF{ text = SRC, cflags = { "-DTARGET=" .. core.getpid() } }
end

local function calls(f, n) for _ = 1, n do ffi.C[f]() end end

local function hits(b)
  local t = {}
  for k = 0, 7 do t[k] = tonumber(b.hits[k]) end
  return t
end

local function entry(sym, cookie, o)
  o = o or {}
  o.name, o.sym, o.fn_name, o.pid, o.cookie = o.name or "c", sym, "on_hit", core.getpid(), cookie
  return o
end

test("attach_uprobes: 3 uprobes + 3 uretprobes, all fire, exact counts per attachment", function()
  local b = open()
  local links = b:attach_uprobes{
    entry("getppid", 0), entry("getppid", 1, { retprobe = true }),
    entry("getuid", 2), entry("getuid", 3, { retprobe = true }),
    entry("getgid", 4), entry("getpgrp", 5, { retprobe = true }),
  }
  eq(#links, 6)
  ok(tostring(links[1]):find("^link uprobe /.*libc%.so%.6:getppid$"), tostring(links[1]))
  ok(tostring(links[2]):find("^link uretprobe /.*libc%.so%.6:getppid$"), tostring(links[2]))
  eq(b:num_open_uprobes(), 6)
  calls("getppid", 3); calls("getuid", 5); calls("getgid", 7); calls("getpgrp", 2)
  local h = hits(b)
  eq(h[0], 3, "getppid uprobe"); eq(h[1], 3, "getppid uretprobe")
  eq(h[2], 5, "getuid uprobe"); eq(h[3], 5, "getuid uretprobe")
  eq(h[4], 7, "getgid uprobe"); eq(h[5], 2, "getpgrp uretprobe")
  eq(h[6], 0); eq(h[7], 0)
  -- registered like single attaches: detach by target works
  b:detach_uprobe{ name = "c", sym = "getgid", pid = core.getpid() }
  eq(b:num_open_uprobes(), 5)
  calls("getgid", 4)
  eq(hits(b)[4], 7, "getgid detached")
  b:cleanup()
end)

test("attach_uprobes: a bad symbol in the middle fails with one line and leaves nothing attached", function()
  local before = probe_fds()
  local b = open()
  local libc = core.find_library("c", core.getpid())
  local ok_, err = pcall(b.attach_uprobes, b, {
    entry("getppid", 0), entry("getppid", 1, { retprobe = true }),
    entry("no_such_fn_xyz", 2),
    entry("getuid", 3),
  })
  eq(ok_, false)
  eq(err, ("attach uprobe %s:no_such_fn_xyz: no such function symbol no_such_fn_xyz in %s"):format(libc, libc))
  eq(b:num_open_uprobes(), 0)
  eq(probe_fds() - before, 0, "perf event and link fds left open")
  calls("getppid", 3); calls("getuid", 3)
  local h = hits(b)
  eq(h[0] + h[1] + h[3], 0, "nothing fires")
  -- the same list without the bad entry attaches
  b:attach_uprobes{ entry("getppid", 0), entry("getuid", 3) }
  calls("getppid", 2)
  eq(hits(b)[0], 2)
  b:cleanup()
  eq(probe_fds() - before, 0, "after cleanup")
end)

test("attach_uprobes: an optional entry that fails is left out", function()
  local b = open()
  local links = b:attach_uprobes{
    entry("getppid", 0), entry("no_such_fn_xyz", 1, { optional = true }), entry("getuid", 2),
  }
  eq(#links, 3)
  eq(links[2], false)
  eq(b:num_open_uprobes(), 2)
  calls("getppid", 4); calls("getuid", 1)
  local h = hits(b)
  eq(h[0], 4); eq(h[1], 0); eq(h[2], 1)
  b:cleanup()
end)

test("attach_uprobes: bad entries are refused before the kernel is asked", function()
  local b = open()
  raises(function() b:attach_uprobes("getppid") end,
    "attach_uprobes: expected a list of uprobes")
  raises(function() b:attach_uprobes{ entry("getppid", 0), { name = "c", sym = "getuid" } } end,
    "attach_uprobes: entry 2: missing argument fn_name= (programs: on_hit)")
  raises(function() b:attach_uprobes{ entry("getppid", 0), { name = "c", fn_name = "on_hit" } } end,
    "attach_uprobes: entry 2: give sym= or addr=")
  raises(function() b:attach_uprobes{ entry("getppid", 0), entry("getppid", 1) } end,
    "attach_uprobes: entry 2: uprobe c:getppid:" .. core.getpid() .. ": program on_hit is already attached there")
  raises(function() b:attach_uprobes{ entry("getppid", 0, { name = "/nonexistent/bin" }) } end,
    "attach uprobe /nonexistent/bin: No such file or directory (no such binary or library)")
  eq(b:num_open_uprobes(), 0)
  b:attach_uprobes{}
  eq(b:num_open_uprobes(), 0)
  b:cleanup()
end)

test("bpftrace: several uprobes of one program attach together, each counts exactly (BEGIN ran)", function()
  local bt = require "luatrace.bpftrace"
  local printed = {}
  local p = bt.load([[
BEGIN { @begin = 1; }
uprobe:libc:getppid { @a = count(); }
uretprobe:libc:getppid { @b = count(); }
uprobe:libc:getuid { @c = count(); }
uretprobe:libc:getgid { @d = count(); }
]], { pid = core.getpid(), out = function(s) printed[#printed + 1] = s end, print_maps = false })
  calls("getppid", 3); calls("getuid", 5); calls("getgid", 2)
  eq(p.maps["@a"], 3); eq(p.maps["@b"], 3); eq(p.maps["@c"], 5); eq(p.maps["@d"], 2)
  eq(p.maps["@begin"], 1, "BEGIN ran")
  p:stop()
  p:run { duration_ms = 1000 }
  eq(printed[1], "Attaching 5 probes...\n")
end)

test("bpftrace: a uprobe the kernel refuses, between good ones: one line, nothing left attached", function()
  local bt = require "luatrace.bpftrace"
  local before = probe_fds()
  local ok_, err = pcall(bt.load, [[
uprobe:libc:getppid { @a = count(); }
uprobe:/bin/true:0x7ffffff0 { @b = count(); }
uretprobe:libc:getuid { @c = count(); }
]], { pid = core.getpid(), out = function() end, print_maps = false })
  eq(ok_, false)
  eq(err, "attach uprobe /bin/true:0x7ffffff0: Invalid argument")
  eq(probe_fds() - before, 0, "perf event and link fds left open")
end)

test("core.uprobe_sym_offset: a function's file offset from the symbol tables (readelf agrees); nil when unsure", function()
  local path = test_prog("lt_target")
  local addr = tonumber(ffi.cast("uint64_t", core.elf_symbol(path, "lt_target_add")))
  local out = sh("readelf -lW " .. q(path) .. " | awk '$1==\"LOAD\" && / R E / {print $2, $3}'")
  local foff, vaddr = out:match("(0x%x+) (0x%x+)")
  if not foff then skip("readelf (binutils) is not installed") end
  eq(core.uprobe_sym_offset(path, "lt_target_add"), addr - tonumber(vaddr) + tonumber(foff))
  eq(core.uprobe_sym_offset(path, "no_such_fn_xyz"), nil)
  eq(core.uprobe_sym_offset(path, "lt_target"), nil, "a prefix of a name is no match")
  -- glibc's strlen is a GNU IFUNC: placed by core.uprobe_ifunc, never here
  eq(core.uprobe_sym_offset(core.find_library("c"), "strlen"), nil)
end)
