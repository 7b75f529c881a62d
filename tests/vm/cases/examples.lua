-- The kprobe examples of the original notes, output checked: ip_output
-- stacks of a loopback TCP exchange; the addresses of an accepted
-- connection from a kretprobe on inet_csk_accept; vfs_open and vfs_write
-- of "cat".
local lt = require "luatrace"
local BPF = lt.BPF
local core = lt.core
local ffi = require "ffi"

pcall(ffi.cdef, [[
struct lt_sockaddr_in { uint16_t family; uint16_t port; uint32_t addr; uint8_t zero[8]; };
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

local function ntohs(p) return bit.bor(bit.rshift(p, 8), bit.lshift(bit.band(p, 0xff), 8)) end
-- an IPv4 address as the kernel stores it (network order in a u32)
local function ntop(a)
  return ("%d.%d.%d.%d"):format(bit.band(a, 0xff), bit.band(bit.rshift(a, 8), 0xff),
    bit.band(bit.rshift(a, 16), 0xff), bit.rshift(a, 24))
end

-- A loopback TCP exchange in this process: returns server port, client
-- port, and the bytes echoed.
local function tcp_exchange(payload)
  local AF_INET, SOCK_STREAM = 2, 1
  local srv = ffi.C.socket(AF_INET, SOCK_STREAM, 0)
  local sa = ffi.new("struct lt_sockaddr_in", { family = AF_INET, addr = 0x0100007f })
  local len = ffi.new("unsigned[1]", ffi.sizeof(sa))
  assert(ffi.C.bind(srv, sa, ffi.sizeof(sa)) == 0, "bind")
  assert(ffi.C.listen(srv, 1) == 0, "listen")
  assert(ffi.C.getsockname(srv, sa, len) == 0)
  local cli = ffi.C.socket(AF_INET, SOCK_STREAM, 0)
  assert(ffi.C.connect(cli, sa, ffi.sizeof(sa)) == 0, "connect")
  local ca = ffi.new("struct lt_sockaddr_in")
  len[0] = ffi.sizeof(ca)
  ffi.C.getsockname(cli, ca, len)
  local conn = ffi.C.accept(srv, nil, nil)
  assert(conn >= 0, "accept")
  ffi.C.send(cli, payload, #payload, 0)
  local buf = ffi.new("char[64]")
  local n = ffi.C.recv(conn, buf, 64, 0)
  ffi.C.close(conn); ffi.C.close(cli); ffi.C.close(srv)
  return ntohs(sa.port), ntohs(ca.port), ffi.string(buf, n)
end

local IP_OUTPUT = program [[
BPF_HASH(counts, int);
BPF_STACK_TRACE(stacks, 1024);
const volatile int target_pid = 0;
int kprobe__ip_output(struct pt_regs *ctx) {
	if (lt_pid() != target_pid) return 0;
	int id = stacks.get_stackid(ctx, 0);
	if (id >= 0) counts.increment(id);
	return 0;
}
]]

test("ip_output kernel stacks (3 frames) counted over a loopback TCP exchange", function()
  if not core.has_kprobes() then skip("no kprobes in this kernel") end
  local b = BPF(vm_opts(IP_OUTPUT, { globals = { target_pid = core.getpid() } }))
  local _, _, echoed = tcp_exchange("hello over loopback")
  eq(echoed, "hello over loopback")
  lt.sleep(100) -- the interval, then the report
  local lines, total = {}, 0
  for id, n in b.counts:items() do
    total = total + n
    local frames = b.stacks:stack(id)
    local top3 = { frames[1], frames[2], frames[3] }
    lines[#lines + 1] = table.concat(top3, "; ") .. " " .. n
    eq(frames[1], "ip_output", "innermost frame")
    for i = 1, 3 do ok(top3[i] and top3[i] ~= "[unknown]", "frame " .. i .. " has a name") end
  end
  ok(total >= 2, "segments sent by this process: " .. total)
  ok(#lines >= 1, "stacks printed")
  b:cleanup()
end)

local ACCEPT = program [[
struct conn_t { u32 daddr; u32 saddr; u16 dport; u16 sport; };
BPF_PERF_OUTPUT(conns);
const volatile int target_pid = 0;
int kretprobe__inet_csk_accept(struct pt_regs *ctx) {
	struct sock *sk = (struct sock *)PT_REGS_RC(ctx);
	if (!sk || lt_pid() != target_pid) return 0;
	struct conn_t c = {};
	c.daddr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
	c.saddr = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
	c.dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	c.sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	conns.perf_submit(ctx, &c, sizeof(c));
	return 0;
}
]]

test("kretprobe on inet_csk_accept: remote and local address of the accepted connection", function()
  if not core.has_kprobes() then skip("no kprobes in this kernel") end
  local b = BPF(vm_opts(ACCEPT, { globals = { target_pid = core.getpid() } }))
  local got = {}
  b.conns:open_perf_buffer(function(c)
    got[#got + 1] = ("%s:%d -> %s:%d"):format(ntop(c.daddr), c.dport, ntop(c.saddr), c.sport)
  end)
  local sport, cport = tcp_exchange("x")
  b:perf_buffer_poll(1000)
  eq(#got, 1, "one accepted connection")
  eq(got[1], ("127.0.0.1:%d -> 127.0.0.1:%d"):format(cport, sport))
  b:cleanup()
end)

local CAT = program [[
struct ev_t { u32 kind; u32 count; char text[64]; };
BPF_RINGBUF_OUTPUT(evs, 16);
static __always_inline int is_cat(void) {
	char comm[16];
	bpf_get_current_comm(comm, sizeof(comm));
	return comm[0] == 'c' && comm[1] == 'a' && comm[2] == 't' && comm[3] == 0;
}
int kprobe__vfs_open(struct pt_regs *ctx, const struct path *path, struct file *file) {
	if (!is_cat()) return 0;
	struct ev_t e = { .kind = 1 };
	bpf_probe_read_kernel_str(e.text, sizeof(e.text), BPF_CORE_READ(path, dentry, d_name.name));
	evs.ringbuf_output(&e, sizeof(e), 0);
	return 0;
}
int kprobe__vfs_write(struct pt_regs *ctx, struct file *file, const char *buf, size_t count) {
	if (!is_cat()) return 0;
	struct ev_t e = { .kind = 2, .count = count };
	/* a mask the verifier can see (a min() gets folded away by clang) */
	bpf_probe_read_user(e.text, count & 63, buf);
	evs.ringbuf_output(&e, sizeof(e), 0);
	return 0;
}
]]

test("kprobes on vfs_open and vfs_write of comm \"cat\": file name, count and buffer", function()
  if not core.has_kprobes() then skip("no kprobes in this kernel") end
  local path = "/tmp/lt-cat-input"
  local fh = io.open(path, "w"); fh:write("meow from the guest\n"); fh:close()
  local b = BPF(vm_opts(CAT))
  local opened, writes = {}, {}
  b.evs:open_ring_buffer(function(e)
    if e.kind == 1 then opened[#opened + 1] = e.text
    else writes[#writes + 1] = { e.count, e.text } end
  end)
  -- busybox cat copies file -> pipe with sendfile (no vfs_write); the
  -- second cat reads a pipe and has to write(2)
  local _, err, code = sh("cat " .. path .. " | cat > /dev/null")
  eq(code, 0, err)
  b:ring_buffer_poll(1000)
  local seen = false
  for _, n in ipairs(opened) do if n == "lt-cat-input" then seen = true end end
  ok(seen, "opened names: " .. table.concat(opened, ", "))
  ok(#writes >= 1, "writes seen")
  for _, w in ipairs(writes) do
    eq(w[1], 20, "count")
    eq(w[2], "meow from the guest\n", "buffer")
  end
  b:cleanup()
  os.remove(path)
end)
