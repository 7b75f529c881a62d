-- luatrace -l / -lv: exact names and argument lines for known probes, the
-- uprobes and USDT probes of tests/progs/lt_target, the error hints that
-- name `luatrace -l ...`, completion, and Debian's bpftrace as the oracle
-- where both print the same thing.
local core = require "luatrace.core"
local listing = require "luatrace.listing"
local LT = luatrace()

local function run(args)
  return sh(("env -u LUATRACE_PATH %s %s"):format(q(LT), args))
end

local function lines(...)
  return table.concat({ ... }, "\n") .. "\n"
end

local function bpftrace()
  local _, _, code = sh("command -v bpftrace")
  return code == 0
end

test("-l lists tracepoints by glob, with short provider names", function()
  local want = lines("tracepoint:syscalls:sys_enter_openat", "tracepoint:syscalls:sys_enter_openat2")
  for _, pat in ipairs({ "tracepoint:syscalls:sys_enter_openat*", "t:syscalls:sys_enter_openat*",
    "syscalls:sys_enter_openat*", "sys_enter_openat*", "t*:syscalls:sys_enter_openat?" }) do
    local out, err, code = run("-l " .. q(pat))
    eq(code, 0, pat .. " exit code")
    eq(err, "", pat .. " stderr")
    if pat:sub(-1) == "?" then
      eq(out, "tracepoint:syscalls:sys_enter_openat2\n", pat)
    else
      eq(out, want, pat)
    end
  end
end)

test("-l of kernel functions, kfuncs, raw tracepoints, perf events", function()
  eq(run("-l 'kprobe:vfs_read'"), "kprobe:vfs_read\n")
  eq(run("-l 'kr:vfs_read'"), "kretprobe:vfs_read\n")
  eq(run("-l 'kfunc:vmlinux:vfs_read'"), "kfunc:vmlinux:vfs_read\n")
  eq(run("-l 'f:vfs_read'"), "kfunc:vmlinux:vfs_read\n")
  eq(run("-l 'vfs_read'"), "kfunc:vmlinux:vfs_read\nkprobe:vfs_read\n")
  eq(run("-l 'rt:sched_switch'"), "rawtracepoint:sched_switch\n")
  eq(run("-l 's:cpu-*'"), "software:cpu-clock:\nsoftware:cpu-migrations:\n")
  eq(run("-l 'hardware:cache-*'"), "hardware:cache-misses:\nhardware:cache-references:\n")
  local out = run("-l 'software:*'")
  local n = select(2, out:gsub("\n", ""))
  eq(n, 11, "software events")
end)

test("-l with no pattern lists every kernel provider, sorted", function()
  local out, err, code = run("-l")
  eq(code, 0, "exit code")
  eq(err, "")
  local count, last = {}, {}
  for line in out:gmatch("[^\n]+") do
    local p = line:match("^[^:]+")
    count[p] = (count[p] or 0) + 1
    ok(not last[p] or last[p] < line, "sorted: " .. line)
    last[p] = line
  end
  for _, p in ipairs({ "hardware", "kfunc", "kprobe", "rawtracepoint", "software", "tracepoint" }) do
    ok((count[p] or 0) > 0, p .. " listed")
  end
  ok(out:find("\ntracepoint:syscalls:sys_enter_openat\n", 1, true), "openat listed")
  eq(count.software, 11)
  eq(count.hardware, 10)
end)

test("-lv prints tracepoint fields and kfunc arguments", function()
  eq(run("-lv 'tracepoint:syscalls:sys_enter_openat'"), lines(
    "tracepoint:syscalls:sys_enter_openat",
    "    int __syscall_nr", "    int dfd", "    const char * filename",
    "    int flags", "    umode_t mode"))
  eq(run("-l -v 'kfunc:vmlinux:vfs_read'"), lines(
    "kfunc:vmlinux:vfs_read",
    "    struct file * file", "    char * buf", "    size_t count",
    "    loff_t * pos", "    ssize_t retval"))
end)

test("-lv of a raw tracepoint: its typed arguments", function()
  eq(run("-lv 'rawtracepoint:sched_switch'"), lines("rawtracepoint:sched_switch",
    "    bool preempt", "    struct task_struct * prev", "    struct task_struct * next",
    "    unsigned int prev_state"))
end)

test("-l / -lv of BTF types", function()
  eq(run("-l 'struct path'"), "struct path\n")
  eq(run("-lv 'struct path'"), lines("struct path {", "\tstruct vfsmount *mnt;",
    "\tstruct dentry *dentry;", "};", ""))
  local out = run("-l 'enum bpf_map_typ?'")
  eq(out, "enum bpf_map_type\n")
end)

test("-l lists a binary's uprobes and USDT probes", function()
  local prog = test_prog("lt_target")
  local real = core.realpath(prog)
  eq(run("-l " .. q("uprobe:" .. prog .. ":lt_target_*")), lines(
    "uprobe:" .. real .. ":lt_target_add", "uprobe:" .. real .. ":lt_target_touch"))
  eq(run("-l " .. q("u:" .. prog .. ":main")), "uprobe:" .. real .. ":main\n")
  eq(run("-l " .. q("usdt:" .. prog .. ":*")), "usdt:" .. real .. ":luatrace_test:tick\n")
  eq(run("-l " .. q("usdt:" .. prog)), "usdt:" .. real .. ":luatrace_test:tick\n")
  eq(run("-l " .. q("usdt:" .. prog .. ":tick")), "usdt:" .. real .. ":luatrace_test:tick\n", "any provider")
  local libc = run("-l 'uprobe:libc:malloc'")
  eq(libc, ("uprobe:%s:malloc\n"):format(core.find_library("c")), "a library as the loader's cache names it")
  if core.stat("/bin/bash") then
    eq(run("-l 'uprobe:/bin/bash:readline'"), "uprobe:/bin/bash:readline\n", "a path as given")
    eq(run("-l 'uprobe:bash:readline'"), ("uprobe:%s:readline\n"):format(require("luatrace.target").which("bash")),
      "a program as found in PATH")
  end
end)

test("-l: nothing matched is empty; a bad binary or extra words are errors", function()
  local out, err, code = run("-l 'tracepoint:nosuchcat:*'")
  eq(code, 0); eq(out, ""); eq(err, "")
  out, err, code = run("-l 'uprobe:/nonexistent/bin:*'")
  eq(code, 1); eq(out, "")
  eq(err, "luatrace: list probes of /nonexistent/bin: no such file, library or program\n")
  out, err, code = run("-l a b")
  eq(code, 2)
  ok(err:find("^luatrace: %-l takes one pattern\n"), err)
end)

test("the `luatrace -l ...` hints of errors work as written", function()
  -- tpformat's hint for an unknown syscalls tracepoint
  local err = raises(function() require("luatrace.tpformat").read("syscalls", "nosuch") end,
    "luatrace -l 'syscalls:*'")
  local cmd = err:match("luatrace (%-l '[^']+')")
  local out, _, code = run(cmd)
  eq(code, 0)
  ok(out:find("\ntracepoint:syscalls:sys_enter_openat\n", 1, true), cmd)
  -- attach's hint for an unknown tracepoint of a known category
  local o = load("events")
  err = raises(function() core.attach_tracepoint(o, "on_openat", "sched", "nosuch") end,
    "luatrace -l 'sched:*'")
  o:close()
  cmd = err:match("luatrace (%-l '[^']+')")
  out = run(cmd)
  ok(out:find("tracepoint:sched:sched_switch\n", 1, true), cmd)
  -- the bpftrace front end's hint for an unknown tracepoint
  local _, bterr = run("-e 't:sched:nosuch { @ = count(); }'")
  cmd = bterr:match("luatrace (%-l '[^']+')")
  ok(cmd, bterr)
  ok(run(cmd):find("tracepoint:sched:sched_switch\n", 1, true), cmd)
  -- the USDT hint names the binary
  local prog = test_prog("lt_target")
  o = load("probes")
  err = raises(function()
    core.attach_usdt(o, "on_tick", prog, "luatrace_test", "nope")
  end, "luatrace -l 'usdt:")
  o:close()
  cmd = err:match("luatrace (%-l '[^']+')")
  eq(run(cmd), "usdt:" .. core.realpath(prog) .. ":luatrace_test:tick\n", cmd)
end)

test("complete() gives bpftrace and category:event forms", function()
  eq(table.concat(listing.complete("t:syscalls:sys_enter_openat"), " "),
    "t:syscalls:sys_enter_openat t:syscalls:sys_enter_openat2")
  eq(table.concat(listing.complete("syscalls:sys_enter_openat"), " "),
    "syscalls:sys_enter_openat syscalls:sys_enter_openat2")
  eq(table.concat(listing.complete("kfunc:vmlinux:vfs_readv"), " "), "kfunc:vmlinux:vfs_readv")
  eq(table.concat(listing.complete("rawtr"), " "), "rawtracepoint:")
  eq(table.concat(listing.complete("softw"), " "), "software:")
  eq(table.concat(listing.complete("BEG"), " "), "BEGIN")
  eq(table.concat(listing.complete("s:cpu-c"), " "), "s:cpu-clock:")
  eq(table.concat(listing.describe("kfunc:vmlinux:vfs_read"), "|"),
    "kfunc:vmlinux:vfs_read|    struct file * file|    char * buf|    size_t count|"
    .. "    loff_t * pos|    ssize_t retval")
  local names = {}
  for n in listing.list("t:sched:sched_switch") do names[#names + 1] = n end
  eq(table.concat(names, " "), "tracepoint:sched:sched_switch")
end)

test("same output as Debian's bpftrace -l/-lv (tracepoints, types, USDT)", function()
  if not bpftrace() then skip("bpftrace is not installed (tools/deps.sh bench)") end
  for _, args in ipairs({ "-l 'tracepoint:sched:*'", "-l 'tracepoint:*'",
    "-lv 'tracepoint:syscalls:sys_enter_openat'", "-lv 'tracepoint:sched:sched_switch'",
    "-lv 'struct path'", "-lv 'struct dentry'", "-lv 'struct task_struct'",
    "-lv 'union bpf_attr'", "-lv 'enum bpf_map_type'", "-l 'struct path'", "-lv 'struct dma_*'",
    "-l 'usdt:" .. test_prog("lt_target") .. ":*'", "-l 'uprobe:libc:malloc'", "-l 'uprobe:/bin/bash:readline'",
    "-l 'uprobe:" .. test_prog("lt_target") .. ":lt_*'" }) do
    local want = sh("bpftrace " .. args)
    eq(run(args), want, args)
  end
end)
