-- Wildcard probes compile to one BPF program per probe block, attached at
-- run time to every match with a BPF cookie naming the match (func,
-- probe): the C does not depend on the host's function list, so a guest
-- kernel finds it in the compile cache. uprobes run here; the kprobe
-- wildcards (vfscount, vfsstat) run in tests/vm/cases/bt_wildcards.lua.
local B = dofile(root .. "/tests/bt_helpers.lua")
local bt = require "luatrace.bpftrace"

local function count(s, pat)
  return select(2, s:gsub(pat, ""))
end

test("uprobe wildcard: one program, func and probe per match, bpftrace's probe count", function()
  local bin = test_prog("lt_target")
  local src = ([[uprobe:%s:lt_target_* { @[func, probe] = count(); printf("%%s %%s\n", func, probe); }]]):format(bin)
  local c = bt.compile(src)
  eq(#c.probes, 1)
  eq(#c.probes[1].targets, 2, "lt_target_add and lt_target_touch")
  eq(count(c.c, 'SEC%("uprobe"%)'), 1)
  ok(not c.c:find("lt_target_add", 1, true), "no matched name in the C")
  local out = B.run(src, function() os.execute(q(bin) .. " calls 2 > /dev/null") end, { pid = false })
  local name = ("uprobe:%s:lt_target_add"):format(bin)
  eq(out, ("Attaching 2 probes...\nlt_target_add %s\nlt_target_add %s\n\n\n@[lt_target_add, %s]: 2\n"):format(name, name, name))
end)

test("kprobe wildcards: the C of vfscount/vfsstat does not list the matches", function()
  local a = bt.compile("kprobe:vfs_* { @[func] = count(); }")
  eq(#a.probes, 1)
  ok(#a.probes[1].targets > 5, "vfs_* matches many functions")
  eq(count(a.c, 'SEC%("kprobe"%)'), 1)
  ok(not a.c:find("vfs_read", 1, true), "no function name in the C")
  -- the same text whatever the list: a narrower glob gives the same C
  local b = bt.compile("kprobe:vfs_r* { @[func] = count(); }")
  eq(b.c:gsub("/%*[^\n]*%*/", ""), a.c:gsub("/%*[^\n]*%*/", ""))
  local s = bt.compile(io.open("/usr/sbin/vfsstat.bt") and io.open("/usr/sbin/vfsstat.bt"):read("*a")
    or "kprobe:vfs_read*, kprobe:vfs_open { @[func] = count(); }")
  ok(not s.c:find("vfs_readv", 1, true), "vfsstat's C names no matched function")
end)

test("kprobe wildcard on this kernel: one clear error when kprobes are missing", function()
  if require("luatrace.core").has_kprobes() then skip("kprobes work here: tests/vm covers them") end
  local out, err, code = sh(q(luatrace()) .. " -e 'kprobe:vfs_rea* { @[func] = count(); }'")
  eq(code, 1)
  ok(out:match("^Attaching %d+ probes%.%.%.\n$"), out)
  eq(err, "luatrace: attach kprobe vfs_read: kprobes are not available in this kernel (no kprobe PMU and no kprobe_events); use a tracepoint\n")
end)

pcall(require("ffi").cdef, "int getppid(void); int getpgid(int pid);")

test("tracepoint wildcard without args: one program, probe per match from the cookie", function()
  local ffi = require "ffi"
  local src = "t:syscalls:sys_enter_getp?id { @[probe] = count(); }"
  local c = bt.compile(src)
  eq(#c.probes, 1)
  eq(#c.probes[1].targets, 2, "getpgid and getppid")
  eq(count(c.c, 'SEC%("tracepoint"%)'), 1)
  ok(not c.c:find("getppid", 1, true), "no tracepoint name in the C")
  local out = B.run(src, function()
    for _ = 1, 3 do ffi.C.getppid() end
    for _ = 1, 2 do ffi.C.getpgid(0) end
  end)
  eq(out, "Attaching 2 probes...\n\n\n@[tracepoint:syscalls:sys_enter_getpgid]: 2\n@[tracepoint:syscalls:sys_enter_getppid]: 3\n")
  -- a block that reads args keeps one program per tracepoint (their types differ)
  local a = bt.compile("t:syscalls:sys_enter_getp?id { @[args->__syscall_nr] = count(); }")
  eq(#a.probes, 2)
end)
