-- bpftrace programs on kprobes, kretprobes and kfuncs, run for real in the
-- kernel matrix: the notes' ip_output stacks, accept.bt (kretprobe on
-- inet_csk_accept with struct members and ntop), vfs_open/vfs_write of
-- "cat", and the tutorial's lessons 5, 6 and 11. The host compiles each
-- program's C (bt_program below declares it); the guest finds it in its
-- cache, because it generates the same text under the same name.
local lt = require "luatrace"
local core = lt.core
local bt = require "luatrace.bpftrace"
local ffi = require "ffi"

-- Declare a bpftrace program: its generated C is precompiled for the guest.
-- The pid filter line is part of the text (its value is a global).
local function bt_program(name, src, unfiltered)
  local c = bt.compile(src, { name = name, pid = not unfiltered and 1 or nil })
  local p = program(c.c)
  p.origin = { file = "bpftrace:" .. name, line = 1 }
  p.bt = { name = name, src = src }
  return p
end

-- Run a declared program in this process, filtered to it: returns the text.
local function run(p, trigger, ms)
  local out = {}
  local prog = bt.load(p.bt.src, { name = p.bt.name, pid = core.getpid(),
    out = function(s) out[#out + 1] = s end })
  if trigger then trigger() end
  prog:run { duration_ms = ms or 300 }
  return table.concat(out)
end

pcall(ffi.cdef, [[
struct lt_bt_sockaddr_in { uint16_t family; uint16_t port; uint32_t addr; uint8_t zero[8]; };
int socket(int domain, int type, int protocol);
int bind(int fd, const void *addr, unsigned len);
int listen(int fd, int backlog);
int accept(int fd, void *addr, unsigned *len);
int connect(int fd, const void *addr, unsigned len);
int getsockname(int fd, void *addr, unsigned *len);
long send(int fd, const void *buf, size_t n, int flags);
long recv(int fd, void *buf, size_t n, int flags);
int close(int fd);
]])

local function tcp_exchange(payload)
  local srv = ffi.C.socket(2, 1, 0)
  local sa = ffi.new("struct lt_bt_sockaddr_in", { family = 2, addr = 0x0100007f })
  local len = ffi.new("unsigned[1]", ffi.sizeof(sa))
  assert(ffi.C.bind(srv, sa, ffi.sizeof(sa)) == 0 and ffi.C.listen(srv, 1) == 0)
  assert(ffi.C.getsockname(srv, sa, len) == 0)
  local cli = ffi.C.socket(2, 1, 0)
  assert(ffi.C.connect(cli, sa, ffi.sizeof(sa)) == 0, "connect")
  local conn = ffi.C.accept(srv, nil, nil)
  ffi.C.send(cli, payload, #payload, 0)
  local buf = ffi.new("char[64]")
  ffi.C.recv(conn, buf, 64, 0)
  ffi.C.close(conn); ffi.C.close(cli); ffi.C.close(srv)
end

local IP_OUTPUT = bt_program("vm-ip_output",
  "kprobe:ip_output { @[kstack()] = count(); } interval:s:10 { exit(); }")
local IP_OUTPUT3 = bt_program("vm-ip_output3", "kprobe:ip_output { @[kstack(3)] = count(); }")

test("bpftrace seed: kprobe:ip_output stacks (kstack and kstack(3))", function()
  if not core.has_kprobes() then skip("no kprobes in this kernel") end
  local out = run(IP_OUTPUT, function() tcp_exchange("ping") end)
  ok(out:find("@%[\n    ip_output%+%d+\n"), "ip_output innermost:\n" .. out)
  local out3 = run(IP_OUTPUT3, function() tcp_exchange("ping") end)
  for frames in out3:gmatch("@%[\n(.-)%]: %d+\n") do
    eq(select(2, frames:gsub("\n", "")), 3, "three frames in:\n" .. out3)
  end
end)

local ACCEPT = bt_program("vm-accept", [[
#include <net/sock.h>
BEGIN
{printf("%8s %6s %15s", "TIME", "PID", "COMM");printf("%20s %6s %20s %6s\n", "RADDR", "RPORT", "LADDR", "LPORT");
}
kretprobe:inet_csk_accept
{$sk = (struct sock*)retval; // retval is inet_csk_accept's return
$raddr = ntop($sk->__sk_common.skc_daddr);
$laddr = ntop($sk->__sk_common.skc_rcv_saddr);time("%H:%M:%S");printf("%6d %15s", pid, comm);printf("%20s, %20s\n", $raddr, $laddr);}
]])

test("bpftrace seed: accept.bt (kretprobe, struct sock members, ntop, time)", function()
  if not core.has_kprobes() then skip("no kprobes in this kernel") end
  local out = run(ACCEPT, function() tcp_exchange("hello") end)
  local lines = {}
  for l in out:gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
  eq(lines[1], "Attaching 2 probes...")
  eq(lines[2], ("%8s %6s %15s%20s %6s %20s %6s"):format("TIME", "PID", "COMM", "RADDR", "RPORT", "LADDR", "LPORT"))
  local t, rest = lines[3]:match("^(%d%d:%d%d:%d%d)(.*)$")
  ok(t, "time first: " .. tostring(lines[3]))
  eq(rest, ("%6d %15s%20s, %20s"):format(core.getpid(), "luatrace", "127.0.0.1", "127.0.0.1"))
end)

local CAT = bt_program("vm-cat", [[
#include <linux/fs.h>
#include <linux/path.h>
#include <linux/dcache.h>
kprobe:vfs_open
/ comm == "cat"/
{ printf("vfs_open: %s, name: %s\n", comm, str(((struct path*)arg0)->dentry->d_name.name));
}
kprobe:vfs_write
/ comm == "cat"/
{$file = str(((struct file*)arg0)->f_path.dentry->d_name.name);printf("vfs_write: %s, count: %d, buf:%s\n", $file, arg2, str(arg1));
}
]], true)

test("bpftrace seed: vfs_open and vfs_write of cat (struct casts through BTF)", function()
  if not core.has_kprobes() then skip("no kprobes in this kernel") end
  local path = "/tmp/lt-bt-cat-input"
  local fh = io.open(path, "w"); fh:write("meow from the guest\n"); fh:close()
  local out = {}
  local prog = bt.load(CAT.bt.src, { name = CAT.bt.name, out = function(s) out[#out + 1] = s end })
  sh("cat " .. path .. " | cat > /dev/null")
  prog:run { duration_ms = 300 }
  out = table.concat(out)
  ok(out:find("vfs_open: cat, name: lt-bt-cat-input\n", 1, true), out)
  ok(out:find("vfs_write: null, count: 20, buf:meow from the guest\n", 1, true)
    or out:find("vfs_write: [%w:%[%]_-]+, count: 20, buf:meow from the guest\n"), out)
  os.remove(path)
end)

local LESSON5 = bt_program("vm-lesson5", "kretprobe:vfs_read { @bytes = lhist(retval, 0, 2000, 200); }")
local LESSON6 = bt_program("vm-lesson6", [[
kprobe:vfs_read { @start[tid] = nsecs; }
kretprobe:vfs_read /@start[tid]/ { @ns[comm] = hist(nsecs - @start[tid]); delete(@start[tid]); }]])
local LESSON11 = bt_program("vm-lesson11",
  'kprobe:vfs_open { printf("open path: %s\\n", str(((struct path *)arg0)->dentry->d_name.name)); }')

test("bpftrace tutorial lesson 5: kretprobe:vfs_read lhist of retval", function()
  if not core.has_kprobes() then skip("no kprobes in this kernel") end
  local out = run(LESSON5, function() reads(4) end)
  eq(out, "Attaching 1 probe...\n\n\n@bytes: \n[0, 200)               4 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n\n")
end)

test("bpftrace tutorial lesson 6: vfs_read latency by comm (map read in a filter, delete)", function()
  if not core.has_kprobes() then skip("no kprobes in this kernel") end
  local out = run(LESSON6, function() reads(5) end)
  ok(out:find("\n@ns%[luatrace%]: \n"), out)
  local total = 0
  for n in out:gmatch("%) +(%d+) |") do total = total + tonumber(n) end
  eq(total, 5, "five reads in the histogram")
  ok(out:find("\n@start: \n", 1, true) == nil, "start entries deleted")
end)

test("bpftrace tutorial lesson 11: vfs_open path names through struct path", function()
  if not core.has_kprobes() then skip("no kprobes in this kernel") end
  local out = run(LESSON11, function() local f = io.open("/tmp/lt-bt-lesson11", "w"); f:close() end)
  ok(out:find("open path: lt-bt-lesson11\n", 1, true), out)
  os.remove("/tmp/lt-bt-lesson11")
end)

local KFUNC = bt_program("vm-kfunc", [[
kfunc:vfs_read /args->count == 123/ { @reads = count(); @sz = sum(args.count); }
kretfunc:vfs_read /args->count == 123/ { @ret = sum(retval); }]])

test("bpftrace kfunc/kretfunc: typed args (args->count, args.count) and retval", function()
  if not core.has_fentry() then skip("fentry is not available in this kernel") end
  local out = run(KFUNC, function() reads(3) end)
  eq(out, "Attaching 2 probes...\n\n\n@reads: 3\n@ret: 369\n@sz: 369\n")
end)

-- for loops (bpf_loop, bpf_for_each_map_elem callbacks) in kprobe and kfunc
-- bodies: struct members read through BTF inside the callback, a kfunc's
-- argument copied to a variable before the loop (its args are locals of
-- the probe's function, so the body cannot name them).
local FOR_KPROBE = bt_program("vm-for-kprobe", [[
kprobe:vfs_read /arg2 == 123/ { $f = (struct file *)arg0; for ($i : 0..2) { @k[$f->f_mode & 1] = count(); } }]])
local FOR_KFUNC = bt_program("vm-for-kfunc", [[
kfunc:vfs_read /args->count == 123/ { @n[1] = count(); $c = args->count; for ($kv : @n) { @tot = sum($c + $kv.0 - 1); } }]])

test("bpftrace for loops in kprobe and kfunc bodies", function()
  if not core.has_kprobes() then skip("kprobes are not available in this kernel") end
  eq(run(FOR_KPROBE, function() reads(3) end), "Attaching 1 probe...\n\n\n@k[1]: 6\n")
  if not core.has_fentry() then skip("fentry is not available in this kernel") end
  eq(run(FOR_KFUNC, function() reads(3) end), "Attaching 1 probe...\n\n\n@n[1]: 3\n@tot: 369\n")
end)
