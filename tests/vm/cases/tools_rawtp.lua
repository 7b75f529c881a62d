-- The tools on raw_tp with CO-RE reads (runqlat, cpudist, offcputime,
-- hardirqs, softirqs, biolatency, biosnoop, bitesize; docs/TOOLS.md,
-- "raw_tp, not tp_btf") on stock kernels: their raw tracepoints attach and
-- their CO-RE relocations resolve against each kernel's BTF (6.1 has no
-- block_io_start: biosnoop takes the process at block_rq_insert there).
-- Counts are of what this test does (its own pid, or its own packets).
local core = require "luatrace.core"
local tool = require "luatrace.tool"
local ffi = require "ffi"
pcall(ffi.cdef, [[
int socket(int domain, int type, int protocol);
long sendto(int fd, const void *buf, size_t n, int flags, const void *addr, unsigned int len);
int close(int fd);
]])
local me = core.getpid()
local N = 10

local function start(name, args)
  local m = tool.load(name)
  local running = m.start(m.parse(args or {}))
  local bad = {}
  for _, p in ipairs(running.b:object():programs()) do
    if p.type ~= "raw_tracepoint" then bad[#bad + 1] = p.name .. " is " .. p.type end
  end
  eq(table.concat(bad, ", "), "", name .. ": raw_tp programs only")
  return running
end

local function sleeps() for _ = 1, N do core.sleep(5) end end

-- n UDP datagrams to 127.0.0.1:9 (discard): loopback delivers each through
-- the NET_RX softirq.
local function udp_to_lo(n)
  local fd = ffi.C.socket(2, 2, 0) -- AF_INET, SOCK_DGRAM
  assert(fd >= 0, "socket")
  local sa = ffi.new("uint8_t[16]", { 2, 0, 0, 9, 127, 0, 0, 1 }) -- sockaddr_in, port 9 big-endian
  for _ = 1, n do assert(ffi.C.sendto(fd, "x", 1, 0, sa, 16) == 1, "sendto") end
  ffi.C.close(fd)
end

test("runqlat -P -p PID: our sleeps' wakeups under our pid", function()
  local running = start("runqlat", { "-P", "-p", tostring(me) })
  sleeps()
  local hs = running.take()
  running:stop()
  eq(#hs, 1, "one histogram (ours)")
  eq(hs[1].key, me)
  ok(hs[1].total >= N, ("at least %d wakeups, got %d"):format(N, hs[1].total))
end)

test("cpudist -P -p PID: our runs between sleeps", function()
  local running = start("cpudist", { "-P", "-p", tostring(me) })
  sleeps()
  local hs = running.take()
  running:stop()
  eq(#hs, 1, "one histogram (ours)")
  eq(hs[1].key, me)
  -- a run is counted from a switch-in seen while tracing: N sleeps, N - 1 runs
  ok(hs[1].total >= N - 1, ("at least %d runs, got %d"):format(N - 1, hs[1].total))
end)

test("offcputime -p PID: our sleeps' stacks", function()
  local running = start("offcputime", { "-p", tostring(me) })
  sleeps()
  local n = 0
  for _ in running.b.info:items() do n = n + 1 end
  running:stop()
  ok(n >= 1, "stacks of our sleeps: " .. n)
end)

test("softirqs -C: the NET_RX softirqs of our loopback packets", function()
  local running = start("softirqs", { "-C" })
  udp_to_lo(N)
  local rows = running.rows()
  running:stop()
  local net_rx
  for _, r in ipairs(rows) do if r.name == "net_rx" then net_rx = r.count end end
  ok(net_rx and net_rx >= 1, "net_rx counted: " .. tostring(net_rx))
end)

test("hardirqs -C: loads and attaches (which irqs fire in the guest varies)", function()
  local running = start("hardirqs", { "-C" })
  sleeps()
  local rows = running.rows()
  running:stop()
  eq(type(rows), "table")
end)

test("biolatency, biosnoop, bitesize: load and attach on this kernel", function()
  for _, name in ipairs({ "biolatency", "biosnoop", "bitesize" }) do
    local running = start(name)
    running:stop()
  end
end)
