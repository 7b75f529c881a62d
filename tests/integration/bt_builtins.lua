-- bpftrace 0.17's functions beyond the core set: strftime, username,
-- strerror, cgroup_path, cgroupid, numaid, pton, macaddr, reg, uaddr,
-- kptr/uptr, with exact values from events the test makes itself, Debian's
-- bpftrace on the same program where its output is deterministic, and the
-- located errors of path/override/reg/uaddr where they cannot be used.
local B = dofile(root .. "/tests/bt_helpers.lua")
local core = require "luatrace.core"
local ffi = require "ffi"

pcall(ffi.cdef, "int getpgid(int pid);")

local function slurp_cmd(cmd)
  local ph = io.popen(cmd)
  local s = ph:read("*a")
  ph:close()
  return s
end

test("strftime, username, strerror, cgroup_path, numaid, pton: values as bpftrace prints them", function()
  local src = [[BEGIN { printf("%s|%s|%s|%s|%d|%s|%s\n", strftime("%Y-%m-%d %H", nsecs), username,
  strerror(2), cgroup_path(cgroup), numaid, ntop(pton("10.1.2.3")), ntop(pton("fe80::2:1"))); exit(); }]]
  local out = B.run(src, nil, { pid = false })
  local user = slurp_cmd("id -un"):gsub("\n$", "")
  local lines = B.lines(out)
  local date = lines[2]:match("^([^|]*)")
  -- the hour may turn between the two clocks: accept now or a second ago
  ok(date == os.date("%Y-%m-%d %H") or date == os.date("%Y-%m-%d %H", os.time() - 1), date)
  local rest = lines[2]:sub(#date + 1)
  local cg = rest:match("^|[^|]*|[^|]*|([^|]*)|")
  ok(cg and cg:find("^[%w_,=]+:/"), "cgroup_path gives hierarchy:path pairs: " .. rest)
  eq(rest, ("|%s|No such file or directory|%s|0|10.1.2.3|fe80::2:1"):format(user, cg))
  -- the same line from Debian's bpftrace (its boot-time clock, its cgroup walk)
  local bpftrace = B.bpftrace()
  if bpftrace then
    local theirs = slurp_cmd(("%s -e %s 2>/dev/null"):format(bpftrace, q(src)))
    local tl = B.lines(theirs)[2]
    if tl then eq(tl:sub(#date + 1), rest, "bpftrace 0.17 prints the same") end
  end
end)

test("strftime: %f microseconds and %% from the boot-time clock, as keys and values", function()
  local uv = require "luatrace.bpftrace.uvalues"
  -- 1.5 s after boot, microseconds 500000 plus the boot offset's own
  local s = uv.strftime("%%|%f", 1500000000)
  ok(s:match("^%%|%d%d%d%d%d%d$"), s)
  eq(uv.strftime("%s", 0) + 0 <= os.time(), true)
  local out = B.run([[BEGIN { @t[strftime("%Y", nsecs)] = count(); @v = strftime("%m", nsecs); exit(); }]], nil, { pid = false })
  eq(out, ("Attaching 1 probe...\n\n\n@t[%s]: 1\n@v: %s\n"):format(os.date("%Y"), os.date("%m")))
end)

test("cgroupid(path) is the cgroup's id, matching the cgroup builtin", function()
  local uv = require "luatrace.bpftrace.uvalues"
  -- this process's cgroup v2 directory
  local rel
  for line in io.lines("/proc/self/cgroup") do rel = rel or line:match("^0::(.*)$") end
  local mount
  for line in io.lines("/proc/self/mountinfo") do
    mount = mount or line:match("^%S+ %S+ %S+ %S+ (%S+) .- %- cgroup2 ")
  end
  if not rel or not mount then skip("no cgroup v2 hierarchy mounted") end
  local dir = mount .. (rel == "/" and "" or rel)
  local out = B.run(('BEGIN { printf("%%d %%d\\n", cgroupid("%s") == cgroup, cgroupid("%s")); exit(); }'):format(dir, dir), nil, { pid = false })
  eq(out, ("Attaching 1 probe...\n1 %d\n\n\n"):format(uv.cgroup_id(dir)))
  local e = B.error_of('BEGIN { @ = cgroupid("/nonexistent/cg"); }')
  ok(e:find('stdin:1:13-40: ERROR: Failed to get `cgroupid` for path: "/nonexistent/cg"', 1, true), e)
end)

test("macaddr(ptr): six bytes read through a pointer, printed as bpftrace prints them", function()
  local buf = ffi.new("uint8_t[6]", { 0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0xfe })
  local fd = B.C.open("/dev/null", 1)
  local out = B.run([[t:syscalls:sys_enter_write /args->count == 6/ { printf("%s\n", macaddr(args->buf)); @[macaddr(args->buf)] = count(); exit(); }]],
    function() B.C.write(fd, buf, 6) end)
  B.C.close(fd)
  eq(out, "Attaching 1 probe...\n00:1A:2B:3C:4D:FE\n\n\n@[00:1A:2B:3C:4D:FE]: 1\n")
  local e = B.error_of('BEGIN { @ = macaddr("abc"); }')
  ok(e:find("ERROR: macaddr() argument must be 6 bytes in size", 1, true), e)
end)

test("reg(name) reads pt_regs by name; uaddr(sym) is the symbol's address", function()
  if jit.arch ~= "x64" then skip("register names tested for x86-64 only") end
  local bin = test_prog("lt_target")
  local addr = core.elf_symbol(bin, "lt_target_add")
  local src = ([[uprobe:%s:lt_target_add { printf("%%d %%d %%d %%p %%d\n", reg("di"), reg("si"), (reg("ip") - uaddr("lt_target_add")) %% 4096, uaddr("lt_target_add"), kptr(arg0) + uptr(arg1)); }]]):format(bin)
  local out = B.run(src, function() os.execute(q(bin) .. " calls 2 > /dev/null") end, { pid = false })
  local hex = ("0x%x"):format(tonumber(ffi.cast("uint64_t", ffi.cast("uintptr_t", addr))))
  eq(out, ("Attaching 1 probe...\n1 100 0 %s 101\n2 100 0 %s 102\n\n\n"):format(hex, hex))
end)

test("errors: path, override, reg, uaddr, strftime where they cannot be used", function()
  local cases = {
    { 't:syscalls:sys_enter_openat { @ = path(args->filename); }',
      "stdin:1:35-55: ERROR: The path function can only be used with 'kfunc', 'kretfunc' probes" },
    { 'k:vfs_read { override(-1); }',
      "ERROR: override() is an unsafe function being used in safe mode (run with --unsafe)" },
    { 't:syscalls:sys_enter_read { override(-1); }',
      "ERROR: override() can only be used with kprobes", { unsafe = true } },
    { 'BEGIN { @ = reg("ip"); }', 'stdin:1:13-22: ERROR: reg can not be used with "BEGIN" probes' },
    { 'k:vfs_read { @ = reg("nosuch"); }', "ERROR: 'nosuch' is not a valid register" },
    { 'BEGIN { @ = uaddr("main"); }', 'ERROR: uaddr can not be used with "BEGIN" probes' },
    { 'BEGIN { $f = "%H"; @ = strftime($f, nsecs); }', "ERROR: strftime() expects a string literal" },
    { 'BEGIN { @ = pton("1.2.3"); }', "ERROR: pton(): invalid IPv4 or IPv6 address: 1.2.3" },
    { 'BEGIN { @ = skboutput("x", 0, 1, 0); }', "ERROR: skboutput() can only be used with 'kfunc', 'kretfunc' probes" },
  }
  for _, c in ipairs(cases) do
    local e = B.error_of(c[1], c[3])
    ok(e:find(c[2], 1, true), c[1] .. " => " .. e)
  end
end)

test("strcontains (literal and variable needles) and has_key (one key, tuple keys)", function()
  local out = B.run([[BEGIN { $n = "o w"; $m = "xyz"; $e = "";
  printf("%d %d %d %d %d %d\n", strcontains("hello world", "o w"), strcontains("abc", "x"),
    strcontains("hello world", $n), strcontains("hello world", $m), strcontains("abc", $e), strcontains(comm, "luatr"));
  @[1] = 1; @t[1, "a"] = 1;
  printf("%d %d %d %d\n", has_key(@, 1), has_key(@, 2), has_key(@t, 1, "a"), has_key(@t, (1, "b")));
  exit(); }]], nil, { pid = false })
  eq(out, "Attaching 1 probe...\n1 0 1 0 1 1\n1 0 1 0\n\n\n@[1]: 1\n@t[1, a]: 1\n")
  -- Debian's bpftrace agrees on strcontains
  local bpftrace = B.bpftrace()
  if bpftrace then
    local ph = io.popen(("%s -e %s 2>/dev/null"):format(bpftrace,
      q([[BEGIN { $n = "o w"; printf("%d %d %d\n", strcontains("hello world", "o w"), strcontains("abc", "x"), strcontains("hello world", $n)); exit(); }]])))
    local theirs = ph:read("*a")
    ph:close()
    if theirs ~= "" then eq(B.lines(theirs)[2], "1 0 1") end
  end
end)

test("user-space values as map keys sort by their text", function()
  local out = B.run([[BEGIN { @[strerror(3)] = count(); @[strerror(1)] = count(); @[strerror(2)] = count(); exit(); }]], nil, { pid = false })
  eq(out, "Attaching 1 probe...\n\n\n@[No such file or directory]: 1\n@[No such process]: 1\n@[Operation not permitted]: 1\n")
end)

-- jiffies (current bpftrace's builtin): bpf_jiffies64(), between the
-- kernel's jiffies read from /proc/timer_list before and after.
test("jiffies: the kernel's jiffies counter", function()
  local function kernel_jiffies()
    local fh = assert(io.open("/proc/timer_list"))
    local j = tonumber(fh:read("*a"):match("\njiffies: (%d+)"))
    fh:close()
    return j
  end
  local before = kernel_jiffies()
  local out = B.run('BEGIN { printf("%llu\\n", jiffies); exit(); }', nil, { print_maps = false })
  local after = kernel_jiffies()
  local j = tonumber(out:match("\n(%d+)\n"))
  ok(j and before and after, out)
  ok(j >= before and j <= after, ("%d <= %d <= %d"):format(before, j, after))
end)
