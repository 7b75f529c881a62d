-- memleak: the known leaks of tests/progs/lt_leak (user mode, uprobes on
-- the C library) with exact bytes and counts per leaking function, the
-- report's lines, --json, -t; kernel mode on pipes this test holds open.
-- lt_leak's leaks for N: lt_leak_malloc N x 100, lt_leak_calloc 2 x 512,
-- lt_leak_realloc 1 x 3000, lt_leak_memalign 1 x 256; lt_leak_freed frees
-- all it allocates.
local core = require "luatrace.core"
local tool = require "luatrace.tool"
local ffi = require "ffi"
pcall(ffi.cdef, "int pipe(int fds[2]); int close(int fd);")

local function expected(n)
  return { lt_leak_malloc = { n * 100, n }, lt_leak_calloc = { 1024, 2 }, lt_leak_realloc = { 3000, 1 },
    lt_leak_memalign = { 256, 1 } }
end

-- Bytes and allocations per innermost function, from stacks as
-- {size=, count=, frames={"0 [<addr>] fn+0xoff [obj]", ...}}.
local function per_function(stacks)
  local t = {}
  for _, s in ipairs(stacks) do
    local fn = s.frames[1] and s.frames[1]:match("^0 %[<%x+>%] ([%w_]+)%+0x%x+ ")
    local e = t[fn or "?"] or { 0, 0 }
    t[fn or "?"] = { e[1] + s.size, e[2] + s.count }
  end
  return t
end

-- lt_leak held before it leaks (it waits on a fifo): its pid, go() that
-- lets it leak n times and returns its "done" line, close().
local function held_leaker(n)
  local fifo = unique_path("leak-fifo")
  os.execute("mkfifo " .. q(fifo))
  local p = io.popen(("exec %s wait %d < %s"):format(q(test_prog("lt_leak")), n, q(fifo)))
  local w = io.open(fifo, "w")
  local l = { pid = tonumber(p:read("*l")) }
  function l.go() w:write("go\n"); w:flush(); return p:read("*l") end
  function l.close()
    require("luatrace.sym").forget(l.pid)
    w:close(); p:close(); os.remove(fifo)
  end
  return l
end

local function same(got, want)
  for fn, v in pairs(want) do
    eq(got[fn] and got[fn][1], v[1], fn .. " bytes")
    eq(got[fn] and got[fn][2], v[2], fn .. " allocations")
  end
  for fn in pairs(got) do ok(want[fn], "no outstanding allocation from " .. fn) end
end

test("memleak -p PID (module API): exact bytes and counts per leaking function, nothing freed", function()
  local leaker = held_leaker(7)
  local ml = tool.load("memleak")
  local running = ml.start(ml.parse{ "-p", tostring(leaker.pid), "-o", "0" })
  eq(leaker.go(), "done")
  local stacks = running.report()
  running:stop()
  leaker.close()
  same(per_function(stacks), expected(7))
  for _, s in ipairs(stacks) do
    ok(s.frames[2]:match("^1 %[<%x+>%] leak%+0x%x+ %[.*/lt_leak%]$"), s.frames[2])
    ok(s.frames[3]:match("^2 %[<%x+>%] main%+0x%x+ %[.*/lt_leak%]$"), s.frames[3])
  end
end)

-- The text report of `memleak -c 'lt_leak run N' ARGS 1 1` as
-- {header, stacks = {{size, count, frames, allocs}}}, each line checked.
local function text_report(out, show_allocs)
  local lines = {}
  for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
  local pid = tonumber(lines[1]:match("^Attaching to pid (%d+), Ctrl%+C to quit%.$"))
  ok(pid, lines[1])
  local n = tonumber(lines[2]:match("^%[%d%d:%d%d:%d%d%] Top (%d+) stacks with outstanding allocations:$"))
  ok(n, lines[2])
  local stacks, cur = {}, nil
  for i = 3, #lines do
    local l = lines[i]
    local size, count = l:match("^(%d+) bytes in (%d+) allocations from stack$")
    if size then
      cur = { size = tonumber(size), count = tonumber(count), frames = {}, allocs = {} }
      stacks[#stacks + 1] = cur
    elseif show_allocs and l:match("^\taddr = ") then
      local a, sz = l:match("^\taddr = 0x(%x+) size = (%d+)$")
      ok(a, l)
      cur.allocs[#cur.allocs + 1] = tonumber(sz)
    else
      local f = l:match("^\t(%d+ %[<%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x>%] .*)$")
      ok(f and cur, "a frame line: " .. l)
      cur.frames[#cur.frames + 1] = f
    end
  end
  eq(#stacks, n, "stacks printed as announced")
  return pid, stacks
end

test("memleak -c CMD -a: the report's lines, largest first, each allocation listed", function()
  local _, out, code = nil, nil, nil
  out, _, code = sh(("%s -m memleak -a -c %s 1 1"):format(q(luatrace()), q(test_prog("lt_leak") .. " run 3")))
  eq(code, 0)
  local pid, stacks = text_report(out, true)
  ok(pid > 0)
  same(per_function(stacks), expected(3))
  for i, s in ipairs(stacks) do
    if i > 1 then ok(stacks[i - 1].size >= s.size, "sorted by size") end
    eq(#s.allocs, s.count, "one addr line per allocation")
    local sum = 0
    for _, v in ipairs(s.allocs) do sum = sum + v end
    eq(sum, s.size)
    ok(s.frames[1]:match("^0 %[<%x+>%] lt_leak_[%w_]+%+0x%x+ %[.*/build/tests/lt_leak%]$"), s.frames[1])
  end
end)

test("memleak -c CMD -T 2 -z 200: only the two largest stacks, small allocations not captured", function()
  local out, _, code = sh(("%s -m memleak -T 2 -z 200 -c %s 1 1"):format(q(luatrace()), q(test_prog("lt_leak") .. " run 4")))
  eq(code, 0)
  local _, stacks = text_report(out)
  eq(#stacks, 2)
  local got = per_function(stacks)
  eq(got.lt_leak_realloc[1], 3000)
  eq(stacks[2].size, 512) -- one of the calloc stacks (or both, when the compiler kept one call)
  ok(not got.lt_leak_malloc, "100-byte mallocs are below -z 200")
end)

test("memleak --json -C: one object per report, combined statistics", function()
  local out, _, code = sh(("%s -m memleak --json -C -c %s 1 1"):format(q(luatrace()), q(test_prog("lt_leak") .. " run 2")))
  eq(code, 0)
  local line = out:match("^([^\n]+)\n$")
  ok(line, out)
  ok(line:match('^{"time":"%d%d:%d%d:%d%d","stacks":%[{"bytes":3000,"allocations":1,"frames":%["0 %[<%x+>%] lt_leak_realloc%+0x'), line)
  local stacks = {}
  for bytes, count, f0 in line:gmatch('{"bytes":(%d+),"allocations":(%d+),"frames":%["([^"]+)"') do
    stacks[#stacks + 1] = { size = tonumber(bytes), count = tonumber(count), frames = { f0 } }
  end
  same(per_function(stacks), expected(2))
end)

test("memleak -t: each allocation and free as it happens", function()
  local out, _, code = sh(("%s -m memleak -t -c %s 1 1"):format(q(luatrace()), q(test_prog("lt_leak") .. " run 1")))
  eq(code, 0)
  local ev = {}
  for l in out:gmatch("[^\n]+") do
    local size = l:match("^alloc exited, size = (%d+), result = %x+$")
    if size then ev[#ev + 1] = "alloc " .. size end
    local fsize = l:match("^free entered, address = %x+, size = (%d+)$")
    if fsize then ev[#ev + 1] = "free " .. fsize end
  end
  eq(table.concat(ev, ","), "alloc 100,alloc 512,alloc 512,alloc 10,free 10,alloc 3000,alloc 256,alloc 1000,free 1000")
end)

test("memleak (kernel mode): the pipes we hold open are outstanding, and gone once closed", function()
  if not core.tracepoint_exists("kmem", "kmalloc") then skip("no kmem:kmalloc tracepoint in this kernel") end
  local N = 64
  local held, after = memleak_pipes(N)
  -- at least the pipe_inode_info and buffer array of each of our pipes;
  -- other processes may open (and close) a few pipes meanwhile
  ok(held >= 2 * N, ("%d allocations from alloc_pipe_info while we hold %d pipes"):format(held, N))
  ok(after < N, ("%d left after closing, of %d"):format(after, held))
end)

test("memleak usage errors: -p with -c, -z above -Z (exit 2)", function()
  local _, err, code = sh(q(luatrace()) .. " -m memleak -p 1 -c true")
  eq(code, 2); eq(err:match("^[^\n]*"), "luatrace: memleak: -p and -c cannot be used together")
  _, err, code = sh(q(luatrace()) .. " -m memleak -z 10 -Z 5")
  eq(code, 2); eq(err:match("^[^\n]*"), "luatrace: memleak: min size (-z) can't be greater than max size (-Z)")
end)

test("memleak bad targets: a gone process, a missing object (one line, exit 1, nothing attached)", function()
  local p = io.popen("sh -c 'echo $$'")
  local gone = tonumber(p:read("*l"))
  p:close()
  local out, err, code = sh(("%s -m memleak -p %d 1 1"):format(q(luatrace()), gone))
  eq(code, 1); eq(out, "")
  eq(err, ("luatrace: memleak: -p %d: no such process\n"):format(gone))
  out, err, code = sh(("%s -m memleak -p %d -O /nonexistent/libc.so 1 1"):format(q(luatrace()), core.getpid()))
  eq(code, 1); eq(out, "")
  eq(err, "luatrace: memleak: attach uprobe /nonexistent/libc.so: No such file or directory (no such binary or library)\n")
end)

test("memleak -P -F -T 2 1 1 (kernel mode, percpu too): the report's lines, kernel frames without object", function()
  if not core.tracepoint_exists("percpu", "percpu_alloc_percpu") then skip("no percpu tracepoints in this kernel") end
  local out, _, code = sh(q(luatrace()) .. " -m memleak -P -F -T 2 1 1")
  eq(code, 0)
  local lines = {}
  for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
  eq(lines[1], "Attaching to kernel allocators, Ctrl+C to quit.")
  local n = tonumber(lines[2]:match("^%[%d%d:%d%d:%d%d%] Top (%d+) stacks with outstanding allocations:$"))
  eq(n, 2, lines[2]) -- a second of a whole kernel leaves more than two stacks
  local stacks, frames = 0, 0
  for i = 3, #lines do
    if lines[i]:match("^%d+ bytes in %d+ allocations from stack$") then stacks = stacks + 1
    else
      ok(lines[i]:match("^\t%d+ %[<ffff%x%x%x%x%x%x%x%x%x%x%x%x>%] [%w_.]+%+0x%x+$"), lines[i])
      frames = frames + 1
    end
  end
  eq(stacks, 2); ok(frames >= 2, "frames under the stacks")
end)

-- 4096 slots, not the default 10240: resized, yet roomy enough that two
-- of the leaker's four stacks do not collide (64 slots did, ~1 run in 10)
test("memleak --stack-storage-size --perf-max-stack-depth: the stack map resized; stacks cut at the depth", function()
  local leaker = held_leaker(3)
  local ml = tool.load("memleak")
  local running = ml.start(ml.parse{ "-p", tostring(leaker.pid), "-o", "0", "--stack-storage-size", "4096",
    "--perf-max-stack-depth", "2" })
  local info = running.tables.stack_traces:info()
  eq(leaker.go(), "done")
  local stacks = running.report()
  running:stop()
  leaker.close()
  eq(info.max_entries, 4096)
  eq(info.value_size, 16)
  same(per_function(stacks), expected(3))
  for _, s in ipairs(stacks) do
    eq(#s.frames, 2, "two frames")
    ok(s.frames[2]:match("^1 %[<%x+>%] leak%+0x%x+ %[.*/lt_leak%]$"), s.frames[2])
  end
end)

test("memleak --perf-max-stack-depth over the kernel's limit: one line, exit 1", function()
  local f = io.open("/proc/sys/kernel/perf_event_max_stack")
  local max = tonumber(f:read("*l"))
  f:close()
  local out, err, code = sh(("%s -m memleak -c true --perf-max-stack-depth %d 1 1"):format(q(luatrace()), max + 1))
  eq(code, 1); eq(out, "")
  eq(err, ("luatrace: --perf-max-stack-depth %d: over the kernel's limit %d (sysctl kernel.perf_event_max_stack)\n")
    :format(max + 1, max))
end)

-- map_flags of this process's open BPF hashes, by max_entries
local function hash_flags()
  local t = {}
  for fd, target in pairs(core.open_fds()) do
    if target == "anon_inode:bpf-map" then
      local fh = io.open("/proc/self/fdinfo/" .. fd)
      local s = fh and fh:read("*a") or ""
      if fh then fh:close() end
      if s:match("map_type:%s+1\n") then
        local n = tonumber(s:match("max_entries:%s+(%d+)"))
        t[n] = t[n] or {}
        table.insert(t[n], s:match("map_flags:%s+(0x%x+)"))
      end
    end
  end
  for _, v in pairs(t) do table.sort(v) end
  return t
end

-- Kernel mode: a hash allocating entries on the fly refills its cache
-- with kmalloc from irq_work, which the kmalloc program records in allocs,
-- emptying the cache again: 2-3 starts in 20 the refill fed
-- itself until allocs was full (~5 s in hard interrupt context; the
-- stress loop tests/stress/memleak_start.sh shows it). User mode traces
-- no kernel allocation: its million-entry allocs is not preallocated
-- (BPF_MAP_CREATE 20 ms faster).
test("memleak's hashes: preallocated in kernel mode (no feedback from their own refills), not in user mode", function()
  local ml = tool.load("memleak")
  local running = ml.start(ml.parse{ "-T", "1" })
  local kernel = hash_flags()
  running:stop()
  eq(table.concat(kernel[1000000] or {}, " "), "0x0", "allocs")
  eq(table.concat(kernel[10240] or {}, " "), "0x0 0x0 0x0", "sizes, combined, memptrs")
  local l = held_leaker(1)
  running = ml.start(ml.parse{ "-p", tostring(l.pid), "-T", "1" })
  local user = hash_flags()
  running:stop()
  l.close()
  eq(table.concat(user[1000000] or {}, " "), "0x1", "allocs: BPF_F_NO_PREALLOC")
  eq(table.concat(user[10240] or {}, " "), "0x1 0x1 0x1", "sizes, combined, memptrs: BPF_F_NO_PREALLOC")
end)

test("memleak.bpf.o relocates only types this kernel has: it loads without the whole kernel BTF", function()
  if core.tracepoint_exists("kmem", "kmalloc_node") then
    skip("a kernel before 6.1 (kmem:kmalloc_node): its record types differ, the whole BTF is read")
  end
  local fh = assert(io.open(build("bpf/memleak.bpf.o"), "rb"))
  local bytes = fh:read("*a")
  fh:close()
  local btf = core.btf_min(bytes)
  ok(type(btf) == "string" and #btf > 24, "a minimized BTF (false: some relocated type is missing)")
end)
