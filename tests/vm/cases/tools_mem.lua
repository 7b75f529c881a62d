-- cachestat, oomkill and memleak's kernel mode on stock kernels (kernel functions: fentry or
-- kprobes, chosen at run time). The guest is quiet (this runner is its
-- only user process), so counts of system-wide tools are bounded below by
-- what the test does. oomkill sees a real OOM kill: a shell that doubles a
-- string inside a 64 MiB memory cgroup.
local core = require "luatrace.core"
local tool = require "luatrace.tool"
local ffi = require "ffi"
pcall(ffi.cdef, [[
int open(const char *path, int flags, ...);
int close(int fd);
long read(int fd, void *buf, size_t n);
long write(int fd, const void *buf, size_t n);
]])

local PAGES = 256

-- A file of PAGES pages on a fresh ramfs (its pages enter the page cache
-- through filemap_add_folio / add_to_page_cache_lru), written and then
-- read `passes` times one page per read(2) (one access each).
local function ramfs_file(passes)
  local dir = "/tmp/lt-ramfs"
  os.execute("mkdir -p " .. dir .. " && mount -t ramfs ramfs " .. dir)
  local path = dir .. "/f"
  local buf = ffi.new("char[4096]")
  local fd = ffi.C.open(path, 0x41 + 0x200, 420) -- O_WRONLY|O_CREAT|O_TRUNC, 0644
  assert(fd >= 0, "open " .. path)
  for _ = 1, PAGES do assert(ffi.C.write(fd, buf, 4096) == 4096) end
  ffi.C.close(fd)
  for _ = 1, passes do
    fd = ffi.C.open(path, 0)
    for _ = 1, PAGES do assert(ffi.C.read(fd, buf, 4096) == 4096) end
    ffi.C.close(fd)
  end
  os.execute("busybox umount " .. dir)
end

test("cachestat: a ramfs file written (misses) and read 3 times (hits)", function()
  if not core.has_kprobes() and not core.has_fentry() then skip("no kprobes or fentry in this kernel") end
  local cs = tool.load("cachestat")
  local running = cs.start(cs.parse{})
  running.take() -- what the start itself did
  ramfs_file(3)
  local r = running.take()
  local traced = table.concat(running.traced, ",")
  running:stop()
  ok(traced:match("^[%w]+:filemap_add_folio,[%w]+:folio_mark_accessed,") or
    traced:match("^[%w]+:add_to_page_cache_lru,[%w]+:mark_page_accessed,"), traced)
  ok(r.misses >= PAGES, ("%d misses for %d new pages (%s)"):format(r.misses, PAGES, traced))
  ok(r.hits >= 2 * PAGES, ("%d hits for 3 x %d page reads (%s)"):format(r.hits, PAGES, traced))
  ok(r.hit_ratio > 0.5 and r.hit_ratio <= 1, tostring(r.hit_ratio))
end)

test("cachestat -T 1 1: libbpf-tools' header and one line", function()
  if not core.has_kprobes() and not core.has_fentry() then skip("no kprobes or fentry in this kernel") end
  local out, _, code = sh(q(luatrace()) .. " -m cachestat -T 1 1")
  eq(code, 0)
  local h, line = out:match("^([^\n]*)\n([^\n]*)\n$")
  eq(h, ("%-8s "):format("TIME") .. ("%8s %8s %8s %8s %12s %10s"):format("HITS", "MISSES", "DIRTIES", "HITRATIO",
    "BUFFERS_MB", "CACHED_MB"))
  ok(line and line:match("^%d%d:%d%d:%d%d  +%d+ +%d+ +%d+ +%d+%.%d%d%% +%d+ +%d+$"), tostring(line))
end)

-- A memory cgroup of 64 MiB (cgroup v2) holding one shell that doubles a
-- string until the OOM killer ends it. Returns the shell's pid.
local function oom_in_cgroup()
  local cg = "/sys/fs/cgroup"
  if not core.stat(cg .. "/cgroup.controllers") then os.execute("mount -t cgroup2 none " .. cg) end
  local f = io.open(cg .. "/cgroup.controllers")
  local ctl = f and f:read("*a") or ""
  if f then f:close() end
  if not ctl:find("memory") then return nil, "no memory controller in cgroup v2" end
  os.execute("echo +memory > " .. cg .. "/cgroup.subtree_control")
  os.execute("mkdir -p " .. cg .. "/lt_oom && echo 64M > " .. cg .. "/lt_oom/memory.max")
  local _, out = core.exec({ "sh", "-c", "echo $$; echo $$ > " .. cg .. "/lt_oom/cgroup.procs && "
    .. "x=0123456789abcdef; while :; do x=$x$x; done" })
  os.execute("busybox rmdir " .. cg .. "/lt_oom")
  return tonumber(out:match("^(%d+)"))
end

test("oomkill: the OOM kill of a shell over its 64 MiB memory cgroup, exact line", function()
  if not core.has_kprobes() and not core.has_fentry() then skip("no kprobes or fentry in this kernel") end
  local om = tool.load("oomkill")
  local got = {}
  local running = om.start(om.parse{}, function(r) got[#got + 1] = r end)
  local pid, why = oom_in_cgroup()
  if not pid then running:stop(); skip(why) end
  local L = require("luatrace.loop").new()
  L:add(running):run{ duration_ms = 500 }
  L:close()
  running:stop()
  eq(#got, 1, "one OOM kill")
  local r = got[1]
  eq(r.fpid, pid); eq(r.fcomm, "sh"); eq(r.tpid, pid); eq(r.tcomm, "sh")
  eq(r.pages, 64 * 1024 * 1024 / 4096, "the cgroup's limit in pages")
  eq(om.def.text(r), ('%s Triggered by PID %d ("sh"), OOM kill of PID %d ("sh"), 16384 pages, loadavg: %s')
    :format(r.time, pid, pid, r.loadavg))
  ok(r.loadavg:match("^[%d%.]+ [%d%.]+ [%d%.]+ %d+/%d+ %d+$"), r.loadavg)
end)

-- Debian's libbpf-tools oomkill (copied into the guest by run.sh) in the
-- background: its pid once it has attached (its kprobe is a perf_event
-- fd) and polls its buffer (an epoll fd), and the file its output goes to.
pcall(ffi.cdef, "int kill(int pid, int sig);")
local function running_state(pid)
  local f = io.open("/proc/" .. pid .. "/status")
  if not f then return nil end
  local s = f:read("*a") -- nil when it exits between the open and the read
  f:close()
  return s and s:match("\nState:%s+(%u)")
end

local function peer_oomkill()
  local out = "/tmp/lt-peer-oomkill.out"
  local p = io.popen(("exec /usr/sbin/oomkill >%s 2>&1 & echo $!"):format(out))
  local pid = tonumber(p:read("*l"))
  p:close()
  for _ = 1, 600 do
    local l = io.popen("ls -l /proc/" .. pid .. "/fd 2>/dev/null")
    local fds = l:read("*a")
    l:close()
    if fds:find("[perf_event]", 1, true) and fds:find("[eventpoll]", 1, true) then return pid, out end
    if not running_state(pid) or running_state(pid) == "Z" then break end
    core.sleep(50)
  end
  local f = io.open(out)
  local why = f and f:read("*a") or "no output"
  if f then f:close() end
  local l = io.popen("ls -l /proc/" .. pid .. "/fd 2>&1")
  why = why .. " state " .. tostring(running_state(pid)) .. "; fds:\n" .. l:read("*a")
  l:close()
  return nil, why
end

test("oomkill beside Debian's libbpf-tools oomkill: the same kill, the same line", function()
  if not core.has_kprobes() then skip("no kprobes in this kernel (Debian's oomkill uses one)") end
  if not core.stat("/usr/sbin/oomkill") then skip("Debian's libbpf-tools oomkill is not in the guest") end
  local ppid, out = peer_oomkill()
  ok(ppid, "Debian's oomkill attached: " .. tostring(out))
  local om = tool.load("oomkill")
  local got = {}
  local running = om.start(om.parse{}, function(r) got[#got + 1] = r end)
  local pid, why = oom_in_cgroup()
  local L = require("luatrace.loop").new()
  L:add(running):run{ duration_ms = 500 }
  L:close()
  running:stop()
  ffi.C.kill(ppid, 2)
  for _ = 1, 200 do
    local st = running_state(ppid)
    if not st or st == "Z" then break end
    core.sleep(50)
  end
  if not pid then skip(why) end
  local f = io.open(out)
  local theirs = f:read("*a")
  f:close()
  os.remove(out)
  eq(#got, 1, "one OOM kill")
  local mid = ('Triggered by PID %d ("sh"), OOM kill of PID %d ("sh"), 16384 pages'):format(pid, pid)
  eq(om.def.text(got[1]):match("^%d%d:%d%d:%d%d (.-), loadavg: "), mid)
  local peer = {}
  for line in theirs:gmatch("[^\n]+") do
    local m = line:match("^%d%d:%d%d:%d%d (Triggered by .-), loadavg: ")
    if m then peer[#peer + 1] = m end
  end
  eq(table.concat(peer, "\n"), mid, theirs)
end)

-- memleak in kernel mode (its hashes preallocated: bpf/memleak.bpf.c says
-- why) loads with the minimized BTF: the pipes held open are counted.
test("memleak (kernel mode): the pipes we hold open are outstanding, and gone once closed", function()
  local N = 64
  local held, after = memleak_pipes(N)
  ok(held >= 2 * N, ("%d allocations from alloc_pipe_info while we hold %d pipes"):format(held, N))
  ok(after < N, ("%d left after closing, of %d"):format(after, held))
end)
