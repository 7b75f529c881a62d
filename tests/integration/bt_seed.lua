-- Every bpftrace example of the original notes (../shared/seeds/000_*.txt)
-- that this kernel supports, as written (obvious typos fixed as noted),
-- run against events this test makes itself, with exact printed lines.
-- The kprobe ones (ip_output, accept.bt, vfs_open/vfs_write) are in
-- tests/vm/cases/bt_kprobes.lua.
local B = dofile(root .. "/tests/bt_helpers.lua")
local ffi = require "ffi"
local core = require "luatrace.core"
local C = B.C

test("seed: BEGIN { printf(\"hello n\"); } prints its text as written", function()
  local out = B.run('BEGIN { printf("hello n"); }')
  eq(out, "Attaching 1 probe...\nhello n\n\n")
end)

test("seed: BEGIN hello with the newline the notes meant", function()
  local out = B.run('BEGIN { printf("hello\\n"); }')
  eq(out, "Attaching 1 probe...\nhello\n\n\n")
end)

-- One-probe syscall printers: each prints its word once per call we make.
local function socket_pair()
  local s = C.socket(2, 1 + 2048, 0) -- AF_INET, SOCK_STREAM|SOCK_NONBLOCK
  ok(s >= 0, "socket")
  return s
end

local cases = {
  { "accept", function() local s = socket_pair(); for _ = 1, 3 do C.accept(s, nil, nil) end; C.close(s) end },
  { "accept4", function() local s = socket_pair(); for _ = 1, 3 do C.accept4(s, nil, nil, 0) end; C.close(s) end },
  { "connect", function()
      local s = socket_pair()
      local sa = ffi.new("uint8_t[16]")
      sa[0] = 2; sa[2] = 0; sa[3] = 1; sa[4] = 127; sa[7] = 1 -- 127.0.0.1:1
      for _ = 1, 3 do C.connect(s, sa, 16) end
      C.close(s)
    end },
}
for _, c in ipairs(cases) do
  test("seed: tracepoint:syscalls:sys_enter_" .. c[1] .. " prints once per call", function()
    local out = B.run(('tracepoint:syscalls:sys_enter_%s { printf("%s\\n"); }'):format(c[1], c[1]), c[2])
    eq(out, "Attaching 1 probe...\n" .. (c[1] .. "\n"):rep(3) .. "\n\n")
  end)
end

-- The notes' read/write/close one-liners, one program each (as written).
for _, c in ipairs({ { "read", 4 }, { "write", 2 }, { "close", 3 } }) do
  test("seed: tracepoint:syscalls:sys_enter_" .. c[1] .. " counts our own calls exactly", function()
    local fd = C.open("/dev/null", 2)
    local fds = {}
    for i = 1, 3 do fds[i] = C.open("/dev/null", 0) end
    local buf = ffi.new("char[8]")
    local out = B.run(('tracepoint:syscalls:sys_enter_%s { printf("%s\\n"); }'):format(c[1], c[1]), function()
      for _ = 1, 4 do C.read(fd, buf, 8) end
      for _ = 1, 2 do C.write(fd, buf, 8) end
      for i = 1, 3 do C.close(fds[i]) end
    end)
    C.close(fd)
    eq(out, "Attaching 1 probe...\n" .. (c[1] .. "\n"):rep(c[2]) .. "\n\n")
  end)
end

test("seed: accept4 with pid in printf (3.1)", function()
  local out = B.run([[tracepoint:syscalls:sys_enter_accept4
{ printf("accept 4 %ld n", pid); }]], cases[2][2])
  eq(out, "Attaching 1 probe...\n" .. ("accept 4 " .. core.getpid() .. " n"):rep(3) .. "\n\n")
end)

test("seed: t:syscalls:sys_enter_read { @[probe] = count(); } (3.2)", function()
  local fd = C.open("/dev/null", 0)
  local buf = ffi.new("char[8]")
  local out = B.run("t:syscalls:sys_enter_read {@[probe]=count(); }", function()
    for _ = 1, 5 do C.read(fd, buf, 8) end
  end)
  C.close(fd)
  eq(out, "Attaching 1 probe...\n\n\n@[tracepoint:syscalls:sys_enter_read]: 5\n")
end)

test("seed: t:kmem:kmem_cache_alloc { @bytes[kstack] = sum(args->bytes_alloc) } (3.3)", function()
  if not core.tracepoint_exists("kmem", "kmem_cache_alloc") then skip("no kmem:kmem_cache_alloc tracepoint") end
  local out, p = B.run("t:kmem:kmem_cache_alloc { @bytes[kstack] = sum(args->bytes_alloc); }", function()
    for _ = 1, 20 do C.close(C.socket(2, 1, 0)) end
  end)
  local lines = B.lines(out)
  eq(lines[1], "Attaching 1 probe...")
  eq(lines[4], "@bytes[", "a stack key")
  ok(lines[5]:match("^    [%w_.]+%+%d+$"), "a kernel frame: " .. tostring(lines[5]))
  local last = lines[#lines]
  ok(last:match("^%]: %d+$") and tonumber(last:match("%d+")) > 0, "a positive sum: " .. last)
end)

test("seed: u:libc malloc { @[ustack, comm] = sum(arg0); } (3.4)", function()
  local libc = core.find_library("c")
  local out = B.run(("u:%s:malloc {@[ustack, comm] = sum(arg0); }"):format(libc), function()
    for _ = 1, 3 do C.free(C.malloc(123457)) end
  end)
  local lines = B.lines(out)
  eq(lines[1], "Attaching 1 probe...")
  -- our calls come from the same place: one stack whose sum is 3 * 123457
  -- stack keys, then the comm: "@[\n    frames...\n, luatrace]: sum";
  -- JIT-compiled callers have no frame pointers, so our three calls may
  -- land on different stacks: their sum is in the total
  local total = 0
  for n in out:gmatch("\n, luatrace%]: (%d+)\n") do total = total + tonumber(n) end
  ok(total >= 3 * 123457, "the sum of our mallocs in:\n" .. out)
  ok(out:find("@[\n    __libc_malloc+0\n", 1, true) or out:find("@[\n    malloc+0\n", 1, true),
    "malloc as the innermost frame:\n" .. out)
  -- the short library name works too, with the same probe
  local out2 = B.run("u:libc:malloc {@[comm] = sum(arg0); }", function()
    for _ = 1, 2 do C.free(C.malloc(1000)) end
  end)
  -- (this process may malloc on its own too: at least our 2000 bytes)
  local sum = tonumber(out2:match("@%[luatrace%]: (%d+)\n"))
  ok(sum and sum >= 2000, out2)
end)

test("seed: t:exceptions:page_fault_user { @[ustack, comm] = count(); } (3.5)", function()
  if not core.tracepoint_exists("exceptions", "page_fault_user") then skip("no exceptions:page_fault_user") end
  local pages = 16
  local out = B.run("t:exceptions:page_fault_user { @[ustack, comm] = count(); }", function()
    local m = C.mmap(nil, pages * 4096, 3, 0x22, -1, 0)
    local p = ffi.cast("volatile char *", m)
    for i = 0, pages - 1 do p[i * 4096] = 1 end
    C.munmap(m, pages * 4096)
  end)
  local total = 0
  for n in out:gmatch("luatrace%]: (%d+)\n") do total = total + tonumber(n) end
  ok(total >= pages, ("at least %d faults counted, got %d in:\n%s"):format(pages, total, out))
end)

test("seed: accept4.bt (tracepoints, comm filters, str(args->buf))", function()
  local dir = "/tmp/luatrace-bt-" .. core.getpid()
  os.execute(("mkdir -p %s && cp /bin/cat %s/nginx && cp /bin/cat %s/git"):format(dir, dir, dir))
  local text = ("0123456789"):rep(7)
  local fh = io.open(dir .. "/data", "w"); fh:write(text); fh:close()
  local src = [[
tracepoint:syscalls:sys_enter_accept4
{ printf("accept4 %s\n", comm);
}tracepoint:syscalls:sys_enter_accept
{ printf("accept %s\n", comm);
}tracepoint:syscalls:sys_enter_connect
{ printf(" connect \n");
}tracepoint:syscalls:sys_enter_read
/ comm == "nginx"/
{printf(" read %s, %d\n", comm, pid);
}tracepoint:syscalls:sys_enter_write
/ comm == "git" || comm == "git-remote-http"/
{printf(" write %s, %d, buf: %s\n", comm, pid, str(args->buf));
}]]
  local out = B.run(src, function()
    os.execute(("%s/nginx %s/data > /dev/null; %s/git %s/data > /dev/null"):format(dir, dir, dir, dir))
  end, { pid = false, duration_ms = 300 })
  os.execute("rm -rf " .. dir)
  eq(B.lines(out)[1], "Attaching 5 probes...")
  local reads = select(2, out:gsub(" read nginx, %d+\n", ""))
  ok(reads >= 2, "nginx's reads: " .. out)
  ok(out:find(" write git, %d+, buf: " .. text:sub(1, 63) .. "\n"), "git's write with its first 63 bytes:\n" .. out)
end)
