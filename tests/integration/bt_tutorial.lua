-- The lessons of bpftrace's one-liner tutorial that this kernel supports
-- (kprobe lessons 5, 6 and 11 run in tests/vm/cases/bt_kprobes.lua), and
-- the language features around them, on events this test makes itself.
local B = dofile(root .. "/tests/bt_helpers.lua")
local ffi = require "ffi"
local core = require "luatrace.core"
local C = B.C
local mypid = core.getpid()

test("lesson 1: hello world", function()
  eq(B.run('BEGIN { printf("hello world\\n"); }'), "Attaching 1 probe...\nhello world\n\n\n")
end)

test("lesson 2: openat with comm and filename", function()
  local path = unique_path("lesson2")
  local out = B.run('tracepoint:syscalls:sys_enter_openat { printf("%s %s\\n", comm, str(args->filename)); }',
    function() C.close(C.open(path, 0)) end)
  eq(out, "Attaching 1 probe...\nluatrace " .. path .. "\n\n\n")
end)

test("lesson 3: syscall counts by process", function()
  local fd = C.open("/dev/null", 0)
  local buf = ffi.new("char[4]")
  local out = B.run("tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }", function()
    for _ = 1, 50 do C.read(fd, buf, 4) end
  end)
  C.close(fd)
  local n = tonumber(out:match("\n@%[luatrace%]: (%d+)\n$"))
  ok(n and n >= 50, "at least our 50 reads: " .. out)
end)

test("lesson 4: distribution of read() bytes, filtered by pid", function()
  local path = unique_path("lesson4")
  local fh = io.open(path, "w"); fh:write(("x"):rep(5000)); fh:close()
  local fd = C.open(path, 0)
  local buf = ffi.new("char[4096]")
  local out = B.run(("tracepoint:syscalls:sys_exit_read /pid == %d/ { @bytes = hist(args->ret); }"):format(mypid),
    function()
      C.read(fd, buf, 1)     -- 1
      C.read(fd, buf, 3)     -- 3
      C.read(fd, buf, 3)     -- 3
      C.read(fd, buf, 100)   -- 100
      C.read(fd, buf, 4096)  -- 4096 - 107... reads the rest: 4893 > 4096 -> 4096
      C.read(fd, buf, 4096)  -- 797
      C.read(fd, buf, 4096)  -- 0
    end)
  C.close(fd)
  os.remove(path)
  eq(out, [[
Attaching 1 probe...


@bytes: 
[0]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |
[1]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |
[2, 4)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[4, 8)                 0 |                                                    |
[8, 16)                0 |                                                    |
[16, 32)               0 |                                                    |
[32, 64)               0 |                                                    |
[64, 128)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |
[128, 256)             0 |                                                    |
[256, 512)             0 |                                                    |
[512, 1K)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |
[1K, 2K)               0 |                                                    |
[2K, 4K)               0 |                                                    |
[4K, 8K)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |

]])
end)

test("lesson 7: tracepoint wildcards (sched:sched*) and interval exit", function()
  local out = B.run("tracepoint:sched:sched*  { @[probe] = count(); } interval:s:5 { exit(); }", function()
    for _ = 1, 5 do core.sleep(2) end
  end, { duration_ms = 200 })
  local n = tonumber(B.lines(out)[1]:match("^Attaching (%d+) probes%.%.%.$"))
  ok(n and n > 10, "every sched:sched* tracepoint and the interval: " .. B.lines(out)[1])
  local switches = tonumber(out:match("@%[tracepoint:sched:sched_switch%]: (%d+)"))
  ok(switches and switches >= 5, "our sleeps switched out: " .. out)
end)

test("lesson 7 as written ends by itself after 5 s", function()
  local t0 = core.monotonic_ns()
  local out, p = B.run("tracepoint:sched:sched_switch { @[probe] = count(); } interval:s:5 { exit(); }", nil,
    { duration_ms = 20000 })
  local s = (core.monotonic_ns() - t0) / 1e9
  ok(s > 4.5 and s < 15, "ended by interval:s:5 after " .. s .. " s")
end)

test("lesson 8: profile:hz:99 kernel stacks", function()
  local out = B.run("profile:hz:99 { @[kstack] = count(); }", function()
    local t0 = core.monotonic_ns()
    local x = 0
    while core.monotonic_ns() - t0 < 400e6 do x = x + 1 end
  end)
  local total = 0
  for n in out:gmatch("%]: (%d+)\n") do total = total + tonumber(n) end
  ok(total >= 10, "samples of our busy loop: " .. out)
end)

test("lesson 9: scheduler switches with kernel stacks", function()
  local out = B.run("tracepoint:sched:sched_switch { @[kstack] = count(); }", function()
    for _ = 1, 3 do core.sleep(2) end
  end)
  ok(out:find("\n    __schedule%+%d+\n") or out:find("\n    schedule%+%d+\n"), "a schedule frame:\n" .. out)
end)

test("lesson 10: block I/O sizes (when the root disk is a block device)", function()
  if not core.tracepoint_exists("block", "block_rq_issue") then skip("no block:block_rq_issue tracepoint") end
  local path = root .. "/build/bt-lesson10.dat"
  local out = B.run("tracepoint:block:block_rq_issue { @ = hist(args->bytes); }", function()
    os.execute(("dd if=/dev/zero of=%s bs=4096 count=4 oflag=direct,sync 2>/dev/null"):format(path))
  end, { pid = false, duration_ms = 300 })
  os.remove(path)
  if not out:find("@: ") then skip("no block request was issued (no block device under " .. root .. ")") end
  ok(out:find("%[4K, 8K%)%s+%d+ |"), "our 4 KiB direct writes:\n" .. out)
end)

test("struct members through BTF: curtask->comm, ->real_parent->tgid", function()
  local ppid = tonumber(io.open("/proc/self/stat"):read("*l"):match("^%d+ %b() %S (%d+)"))
  local out = B.run([[
#include <linux/sched.h>
tracepoint:syscalls:sys_enter_getppid {
  $t = (struct task_struct *)curtask;
  printf("%s %d %d\n", curtask->comm, $t->real_parent->tgid, curtask->pid == tid);
}]], function() getppid_calls(1) end)
  eq(out, ("Attaching 1 probe...\nluatrace %d 1\n\n\n"):format(ppid))
end)

test("uprobe/uretprobe on a program, ustack, usdt arguments", function()
  local bin = test_prog("lt_target")
  local out = B.run(([[
uprobe:%s:lt_target_add { @calls = count(); @args[arg0] = sum(arg1); }
uretprobe:%s:lt_target_add { @ret = hist(retval); }
usdt:%s:luatrace_test:tick { printf("tick %%d %%d %%s\n", arg0, arg1, str(arg2)); }
]]):format(bin, bin, bin), function()
    local _, _, code = sh(q(bin) .. " calls 3")
    eq(code, 0)
  end, { pid = false })
  eq(out, [[
Attaching 3 probes...
tick 1 1000 tick
tick 2 2000 tick
tick 3 3000 tick


@args[1]: 100
@args[2]: 100
@args[3]: 100
@calls: 3
@ret: 
[64, 128)              3 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|

]])
end)

test("language: if/else, ternary, while, unroll, $args, strncmp, lhist, print, clear, zero, delete", function()
  local out = B.run([[
BEGIN {
  $i = 0; $s = 0;
  while ($i < 10) { $s += $i; $i++; }
  unroll(3) { @u++; }
  if ($s > 40) { printf("big %d\n", $s); } else { printf("small\n"); }
  printf("%s %s\n", str($1), $2 == 7 ? "seven" : "other");
  printf("%d %d\n", strncmp("hello", "help", 3), strncmp("hello", "help", 4));
  @l = lhist(15, 0, 100, 10); @l = lhist(150, 0, 100, 10);
  @d[1] = 1; @d[2] = 2; delete(@d[1]);
  @z[1] = 5; zero(@z);
  @c[1] = 3; print(@c); clear(@c);
  @str = "x"; print(@str); print("plain");
  printf("%5d|%-5d|%05d|%x|%X|%o|%c|%%|%u\n", 42, 42, 42, 255, 255, 8, 65, -1);
  printf("%lu %ld %d %lx\n", -1, 0x100000001, 0x100000001, 0x1234567890);
  exit();
  printf("after exit\n");
}
END { printf("end %d\n", @u); }
]], nil, { args = { "word", "7" } })
  eq(out, [[
Attaching 2 probes...
big 45
word seven
0 1
@c[1]: 3
@str: x
plain
   42|42   |00042|ff|FF|10|A|%|4294967295
18446744073709551615 4294967297 1 1234567890
end 3



@d[2]: 2
@l: 
[10, 20)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[20, 30)               0 |                                                    |
[30, 40)               0 |                                                    |
[40, 50)               0 |                                                    |
[50, 60)               0 |                                                    |
[60, 70)               0 |                                                    |
[70, 80)               0 |                                                    |
[80, 90)               0 |                                                    |
[90, 100)              0 |                                                    |
[100, ...)             1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|

@str: x
@u: 3
@z[1]: 0
]])
end)

test("functions: ntop, ksym, kaddr, buf, join, time, sizeof, $# and cat", function()
  local path = unique_path("cat")
  local fh = io.open(path, "w"); fh:write("file text\n"); fh:close()
  local out = B.run(([[
BEGIN {
  printf("%%s %%s\n", ntop(0x0100007f), ntop(2, 0x0101a8c0));
  printf("%%s\n", ksym(kaddr("vfs_read")));
  printf("%%d %%d %%d\n", sizeof(struct path), sizeof(uint32), $#);
  cat("%s");
  time("%%Y\n");
  exit();
}]]):format(path), nil, { args = { "a" } })
  os.remove(path)
  eq(out, ("Attaching 1 probe...\n127.0.0.1 192.168.1.1\nvfs_read\n16 4 1\nfile text\n%s\n\n\n"):format(os.date("%Y")))
  -- exec runs in a child (no pid filter): an echo under a name of our own,
  -- so other processes' echos cannot join in
  local echo = unique_path("echo")
  os.execute(("ln -s /bin/echo %s"):format(q(echo)))
  local out2 = B.run(([[
tracepoint:syscalls:sys_enter_execve /str(args->filename) == "%s"/ { join(args->argv); printf("%%r\n", buf(args->filename, 5)); }
]]):format(echo), function() sh(q(echo) .. " one two three") end, { pid = false })
  os.remove(echo)
  eq(out2, ("Attaching 1 probe...\n%s one two three\n/tmp/\n\n\n"):format(echo))
end)

test("-f json: printf, maps, hist, stats in bpftrace's JSON lines", function()
  local out = B.run('BEGIN { printf("hi\\n"); @m["a"] = 2; @h = hist(3); @s = stats(4); @t = (1, "x"); exit(); }',
    nil, { format = "json" })
  eq(out, [[
{"type": "attached_probes", "data": {"probes": 1}}
{"type": "printf", "data": "hi\n"}


{"type": "hist", "data": {"@h": [{"min": 2, "max": 3, "count": 1}]}}
{"type": "map", "data": {"@m": {"a": 2}}}
{"type": "stats", "data": {"@s": {"count": 1, "average": 4, "total": 4}}}
{"type": "map", "data": {"@t": [1,"x"]}}
]])
end)

test("kprobe, kretprobe, kfunc and hardware probes here: one clear error each, exit 1", function()
  local cases = {}
  if not core.has_kprobes() then
    cases[#cases + 1] = { "kprobe:vfs_read { @ = count(); }",
      "luatrace: attach kprobe vfs_read: kprobes are not available in this kernel (no kprobe PMU and no kprobe_events); use a tracepoint" }
    cases[#cases + 1] = { "kretprobe:vfs_read { @ = count(); }",
      "luatrace: attach kretprobe vfs_read: kprobes are not available in this kernel (no kprobe PMU and no kprobe_events); use a tracepoint" }
  end
  if not core.has_fentry() then
    cases[#cases + 1] = { "kfunc:vfs_read { @ = count(); }",
      "luatrace: load BPF object bpftrace:stdin program lt_bt_p1: Operation not permitted (fentry/fexit programs are refused by this kernel (has_fentry() is false)"
        .. (core.has_kprobes() and "; use a kprobe or a tracepoint)"
          or ", and it has no kprobes either; use a tracepoint or a raw tracepoint)") }
  end
  if #cases == 0 then skip("this kernel has kprobes and fentry (tests/vm covers them)") end
  for _, c in ipairs(cases) do
    local _, err, code = sh(q(luatrace()) .. " -e " .. q(c[1]))
    eq(code, 1, c[1])
    eq(err, c[2] .. "\n", c[1])
  end
end)

test("uprobe wildcards expand from the binary's symbols", function()
  local bin = test_prog("lt_target")
  local out = B.run(("u:%s:lt_target_* { @[probe] = count(); }"):format(bin), function()
    local _, _, code = sh(q(bin) .. " calls 3")
    eq(code, 0)
  end, { pid = false })
  eq(out, ("Attaching 2 probes...\n\n\n@[uprobe:%s:lt_target_add]: 3\n"):format(bin))
end)

test("interval printing: print() and clear() every 100 ms", function()
  local out = B.run([[
tracepoint:syscalls:sys_enter_getppid { @calls = count(); }
interval:ms:100 { print(@calls); clear(@calls); }]], function() getppid_calls(3) end, { duration_ms = 450 })
  local lines = B.lines(out)
  eq(lines[1], "Attaching 2 probes...")
  eq(lines[2], "@calls: 3", "the first interval prints our 3 calls")
  eq(lines[3], "", "then the cleared map prints empty")
end)

test("builtins: uid gid cpu cgroup elapsed rand func probe, and return", function()
  local bin = test_prog("lt_target")
  local out = B.run(([[
BEGIN { printf("%%d %%d %%d %%d %%d\n", uid, gid, cpu < 4096, cgroup > 0, elapsed < 10000000000); }
uprobe:%s:lt_target_add { printf("%%s %%s\n", func, probe); return; printf("not reached\n"); }
]]):format(bin), function() sh(q(bin) .. " calls 1") end, { pid = false })
  eq(out, ("Attaching 2 probes...\n0 0 1 1 1\nlt_target_add uprobe:%s:lt_target_add\n\n\n"):format(bin))
end)

test("--unsafe: system() runs a command; without it, a located error", function()
  local out, err, code = sh(q(luatrace()) .. [[ --unsafe -e 'BEGIN { system("echo from %s %d", "system", 42); exit(); }']])
  eq(code, 0, err)
  eq(out, "Attaching 1 probe...\nfrom system 42\n\n\n")
  local _, err2, code2 = sh(q(luatrace()) .. [[ -e 'BEGIN { system("echo x"); }']])
  eq(code2, 1)
  eq(err2:match("^[^\n]*"), "stdin:1:9-25: ERROR: system() is an unsafe function being used in safe mode (run with --unsafe)")
end)

test("--unsafe: signal() sends a signal to the current process", function()
  local bin = test_prog("lt_target")
  local out, err, code = sh(q(luatrace()) .. " --unsafe -e " .. q(("uprobe:%s:lt_target_add { signal(\"SIGKILL\"); }"):format(bin))
    .. " & sleep 1; " .. q(bin) .. " calls 3; echo status=$?; kill -INT $!; wait")
  ok(out:find("status=137\n", 1, true), "lt_target killed by SIGKILL:\n" .. out .. err)
end)

test("bswap() by the value's width, variables keep their width", function()
  local out = B.run('BEGIN { $d = (uint16)0x1234; $d = bswap($d); printf("%d %d %d %d\\n", $d, bswap((uint16)0x1234), bswap((uint32)1), sizeof($d)); exit(); }')
  eq(out, "Attaching 1 probe...\n13330 13330 16777216 2\n\n\n")
end)
