-- The seed examples of the original notes, written with the public API
-- (BPF{text=...}), each triggering its own events and checking exact values.
local lt = require "luatrace"
local BPF = lt.BPF
local core = lt.core
local ffi = require "ffi"

local PID = core.getpid()

pcall(ffi.cdef, [[
void *malloc(size_t size);
void free(void *p);
int open(const char *path, int flags, ...);
int close(int fd);
long read(int fd, void *buf, size_t n);
long pread(int fd, void *buf, size_t n, long off);
struct lt_iovec { void *base; size_t len; };
long readv(int fd, const struct lt_iovec *iov, int n);
]])

test("hello world through trace_print and trace_fields", function()
  -- trace_pipe is one stream for the whole machine: our lines carry a nonce
  -- (so lines of other programs, or left by earlier tests of this process,
  -- are told apart), and a trigger whose lines did not come is repeated, a
  -- few times at most.
  local nonce = math.floor(core.monotonic_ns() % 1000000007)
  local b = BPF{text = [[
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
	if (lt_pid() != TARGET) return 0;
	bpf_trace_printk("Hello, World! %d\n", NONCE);
	return 0;
}
]], cflags = { "-DTARGET=" .. PID, "-DNONCE=" .. nonce }}
  local want = "Hello, World! " .. nonce
  local function ours(pid, msg)
    return pid == PID and msg and msg:sub(-#tostring(nonce) - 1) == " " .. nonce
  end
  open_trace_pipe(b)
  local task, ts, msg
  for _ = 1, 10 do
    getppid_calls(1)
    local deadline = core.monotonic_ns() + 2e9
    repeat
      local t, pid, _, _, tsv, m = b:trace_fields{ timeout = 500 }
      if t and ours(pid, m) then task, ts, msg = t, tsv, m end
    until msg or not t or core.monotonic_ns() > deadline
    if msg then break end
    core.sleep(100) -- let a passing reader of trace_pipe finish
  end
  ok(msg, "a trace line of ours (10 tries)")
  eq(msg, want)
  -- the kernel shows "<...>" for a comm not in its saved-cmdlines cache
  ok(task == "luatrace" or task == "<...>", "task " .. tostring(task))
  ok(ts > 0, "timestamp")
  -- trace_print with BCC's field format: {1} pid, {5} message
  local got, DONE = nil, {}
  for _ = 1, 10 do
    got = {}
    getppid_calls(2)
    local deadline = core.monotonic_ns() + 2e9
    local done, err = pcall(b.trace_print, b, { fmt = "{1} {5}", timeout = 500, write = function(line)
      local pid, m = line:match("^(%d+) (.*)$")
      if ours(tonumber(pid), m) then got[#got + 1] = line end
      if #got >= 2 or core.monotonic_ns() > deadline then error(DONE) end
    end })
    if not done and err ~= DONE then error(err, 0) end
    if #got >= 2 then break end
    core.sleep(100) -- let a passing reader of trace_pipe finish
  end
  eq(#got, 2, "two lines (10 tries)")
  eq(got[1], PID .. " " .. want)
  eq(got[2], PID .. " " .. want)
  b:cleanup()
end)

test("openat counted by comm", function()
  local b = BPF{text = [[
struct key_t { char comm[16]; };
BPF_HASH(counts, struct key_t);
TRACEPOINT_PROBE(syscalls, sys_enter_openat) {
	if (lt_pid() != TARGET) return 0;
	struct key_t k = {};
	bpf_get_current_comm(&k.comm, sizeof(k.comm));
	counts.increment(k);
	return 0;
}
]], cflags = { "-DTARGET=" .. PID }}
  for i = 1, 6 do touch_open(unique_path("comm" .. i)) end
  local t = b["counts"]
  eq(t:get{ comm = "luatrace" }, 6, "count for comm luatrace")
  local rows = {}
  for k, v in t:items() do rows[#rows + 1] = k.comm .. "=" .. v end
  eq(table.concat(rows, ","), "luatrace=6")
  b:cleanup()
end)

test("read syscalls counted per probe", function()
  local fd = ffi.C.open("/dev/zero", 0)
  -- counted for this fd only: the process may read other files meanwhile
  local b = BPF{text = [[
BPF_HASH(counts, u32);
#define OURS (lt_pid() == TARGET && args->fd == FD)
TRACEPOINT_PROBE(syscalls, sys_enter_read)    { if (OURS) counts.increment(0); return 0; }
TRACEPOINT_PROBE(syscalls, sys_enter_pread64) { if (OURS) counts.increment(1); return 0; }
TRACEPOINT_PROBE(syscalls, sys_enter_readv)   { if (OURS) counts.increment(2); return 0; }
]], cflags = { "-DTARGET=" .. PID, "-DFD=" .. fd }}
  eq(b:num_open_tracepoints(), 3)
  local buf = ffi.new("char[16]")
  local iov = ffi.new("struct lt_iovec[1]", { { buf, 16 } })
  for _ = 1, 5 do ffi.C.read(fd, buf, 16) end
  for _ = 1, 3 do ffi.C.pread(fd, buf, 16, 0) end
  for _ = 1, 2 do ffi.C.readv(fd, iov, 1) end
  ffi.C.close(fd)
  local names = { [0] = "tracepoint:syscalls:sys_enter_read",
                  [1] = "tracepoint:syscalls:sys_enter_pread64",
                  [2] = "tracepoint:syscalls:sys_enter_readv" }
  local got = {}
  for k, v in pairs(b.counts) do got[names[k]] = v end
  eq(got["tracepoint:syscalls:sys_enter_read"], 5)
  eq(got["tracepoint:syscalls:sys_enter_pread64"], 3)
  eq(got["tracepoint:syscalls:sys_enter_readv"], 2)
  b:cleanup()
end)

test("kmem_cache_alloc bytes summed by kernel stack", function()
  if not core.tracepoint_exists("kmem", "kmem_cache_alloc") then
    skip("no kmem:kmem_cache_alloc tracepoint in this kernel")
  end
  local b = BPF{text = [[
BPF_HASH(bytes, int);
BPF_STACK_TRACE(stacks, 1024);
BPF_ARRAY(total, u64, 1);
TRACEPOINT_PROBE(kmem, kmem_cache_alloc) {
	if (lt_pid() != TARGET) return 0;
	int id = stacks.get_stackid(args, 0);
	if (id < 0) return 0;
	bytes.increment(id, args->bytes_alloc);
	total.increment(0, args->bytes_alloc);
	return 0;
}
]], cflags = { "-DTARGET=" .. PID }}
  for i = 1, 20 do touch_open(unique_path("kmem" .. i)) end
  b:detach_tracepoint{ tp = "kmem:kmem_cache_alloc" }
  local sum, stacks_seen, alloc_frame = 0, 0, false
  for id, n in b.bytes:items() do
    sum = sum + n
    stacks_seen = stacks_seen + 1
    local frames = b.stacks:stack(id)
    ok(#frames > 0, "a stack has frames")
    for _, f in ipairs(frames) do
      ok(f ~= "[unknown]", "every kernel frame has a name")
      if f:match("^kmem_cache_alloc") then alloc_frame = true end
    end
  end
  ok(stacks_seen > 0, "some stacks")
  eq(sum, b.total[0], "bytes by stack add up to the total")
  ok(alloc_frame, "a stack passes through kmem_cache_alloc*")
  b:cleanup()
end)

test("malloc bytes summed by (user stack, comm) with a uprobe on libc", function()
  local SIZE = 12345
  local b = BPF{text = [[
struct key_t { int stack_id; char comm[16]; };
BPF_HASH(sizes, struct key_t);
BPF_STACK_TRACE(stacks, 1024);
int on_malloc(struct pt_regs *ctx, size_t size) {
	if (lt_pid() != TARGET || size != SIZE) return 0;
	struct key_t k = {};
	k.stack_id = stacks.get_stackid(ctx, BPF_F_USER_STACK);
	bpf_get_current_comm(&k.comm, sizeof(k.comm));
	sizes.increment(k, size);
	return 0;
}
]], cflags = { "-DTARGET=" .. PID, "-DSIZE=" .. SIZE }}
  b:attach_uprobe{ name = "c", sym = "malloc", fn_name = "on_malloc", pid = PID }
  eq(b:num_open_uprobes(), 1)
  for _ = 1, 7 do ffi.C.free(ffi.C.malloc(SIZE)) end
  b:detach_uprobe{ name = "c", sym = "malloc", pid = PID }
  eq(b:num_open_uprobes(), 0)
  local total, top = 0, nil
  for k, v in b.sizes:items() do
    eq(k.comm, "luatrace")
    total = total + v
    top = b.stacks:stack(k.stack_id, PID)[1]
  end
  eq(total, 7 * SIZE)
  ok(top == "malloc" or top == "__libc_malloc", "innermost frame is malloc: " .. tostring(top))
  b:cleanup()
end)

test("user page faults counted by (user stack, comm)", function()
  if not core.tracepoint_exists("exceptions", "page_fault_user") then
    skip("no exceptions:page_fault_user tracepoint in this kernel")
  end
  local fifo = os.tmpname(); os.remove(fifo)
  os.execute("mkfifo " .. q(fifo))
  local p = io.popen(("exec %s faults 9 < %s"):format(q(test_prog("lt_target")), q(fifo)))
  local w = io.open(fifo, "w")
  local pid = tonumber(p:read("*l"))
  local b = BPF{text = [[
struct key_t { int stack_id; char comm[16]; };
BPF_HASH(faults, struct key_t);
BPF_STACK_TRACE(stacks, 1024);
TRACEPOINT_PROBE(exceptions, page_fault_user) {
	if (lt_pid() != TARGET) return 0;
	struct key_t k = {};
	k.stack_id = stacks.get_stackid(args, BPF_F_USER_STACK);
	bpf_get_current_comm(&k.comm, sizeof(k.comm));
	faults.increment(k);
	return 0;
}
]], cflags = { "-DTARGET=" .. pid }}
  w:write("go\n"); w:flush()
  eq(p:read("*l"), "done")
  local in_touch = 0
  for k, v in b.faults:items() do
    eq(k.comm, "lt_target")
    if b.stacks:stack(k.stack_id, pid)[1] == "lt_target_touch" then in_touch = in_touch + v end
  end
  lt.sym.forget(pid)
  w:close(); p:close(); os.remove(fifo)
  eq(in_touch, 9, "faults with lt_target_touch innermost")
  b:cleanup()
end)

test("the write buffer of a chosen comm, printed with its string", function()
  local b = BPF{text = [[
const volatile char target_comm[16] = {};
struct data_t { u32 pid; u32 count; char buf[64]; };
BPF_PERF_OUTPUT(events);
TRACEPOINT_PROBE(syscalls, sys_enter_write) {
	char comm[16];
	bpf_get_current_comm(comm, sizeof(comm));
	for (int i = 0; i < 16; i++) {
		if (comm[i] != target_comm[i]) return 0;
		if (!comm[i]) break;
	}
	struct data_t data = {};
	data.pid = lt_pid();
	data.count = args->count;
	u32 n = args->count;
	if (n > sizeof(data.buf) - 1) n = sizeof(data.buf) - 1;
	bpf_probe_read_user(data.buf, n & 63, args->buf); /* not NUL-terminated */
	events.perf_submit(args, &data, sizeof(data));
	return 0;
}
]], globals = { target_comm = "luatrace" }}
  local got = {}
  b.events:open_perf_buffer(function(ev)
    if ev.buf:find("luatrace-write-", 1, true) then got[#got + 1] = ev end
  end)
  local text = "luatrace-write-" .. PID
  local f = io.open("/dev/null", "w")
  f:write(text); f:flush(); f:close()
  eq(b:perf_buffer_poll(1000) >= 1, true, "polled")
  eq(#got, 1, "one write with our text")
  eq(got[1].buf, text)
  eq(got[1].count, #text)
  eq(got[1].pid, PID)
  b:cleanup()
end)

test("TRACEPOINT_PROBE reads syscall arguments", function()
  local b = BPF{text = [[
struct open_t { int dfd; int flags; char name[96]; };
BPF_RINGBUF_OUTPUT(opens, 8);
TRACEPOINT_PROBE(syscalls, sys_enter_openat) {
	if (lt_pid() != TARGET) return 0;
	struct open_t *o = opens.ringbuf_reserve(sizeof(struct open_t));
	if (!o) return 0;
	o->dfd = args->dfd;
	o->flags = args->flags;
	bpf_probe_read_user_str(o->name, sizeof(o->name), args->filename);
	opens.ringbuf_submit(o, 0);
	return 0;
}
]], cflags = { "-DTARGET=" .. PID }}
  local path = unique_path("args")
  local seen = {}
  b.opens:open_ring_buffer(function(o)
    if o.name == path then seen[#seen + 1] = o end
  end)
  touch_open(path)
  b:ring_buffer_poll(1000)
  eq(#seen, 1)
  eq(seen[1].dfd, -100, "AT_FDCWD")
  eq(seen[1].flags, 0, "O_RDONLY from fopen(\"r\")")
  b:cleanup()
end)
