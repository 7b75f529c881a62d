-- memleak: outstanding allocations and the stacks that made them, with
-- libbpf-tools' flags and report:
--
--   luatrace -m memleak -p PID [interval [count]]   a process (uprobes on its C library)
--   luatrace -m memleak -c 'CMD ARGS'               a command started traced
--   luatrace -m memleak                             the kernel (kmem tracepoints)
--
-- Every interval (5 s): "[HH:MM:SS] Top N stacks with outstanding
-- allocations:", then per stack (largest first) "B bytes in N allocations
-- from stack" and its frames "\tI [<%016x>] sym+0xoff [object]" (-a:
-- each allocation's address and size first). -t also prints each traced
-- allocation and free as it happens.
--
-- Kernel side: bpf/memleak.bpf.c. JSON: one object per report {"time",
-- "stacks": [{"bytes", "allocations", "frames", "allocs": [{"addr",
-- "size"}] (-a)}]}; -t events {"event": "alloc"|"free", "pid", "addr",
-- "size"}.
local toolkit = require "luatrace.toolkit"
local json = require "luatrace.json"
local sym = require "luatrace.sym"
local lt = require "luatrace"
local core = lt.core
local ffi = require "ffi"

local PAGE_SIZE = 4096
local BPF_F_USER_STACK = 256
local EFAULT = 14
local NO_PREALLOC = 1 -- BPF_F_NO_PREALLOC

-- The allocator functions of user mode: program pairs (entry, return);
-- the optional ones may be missing from a C library.
local UPROBES = {
  { "malloc", "malloc_enter", "malloc_exit" }, { "calloc", "calloc_enter", "calloc_exit" },
  { "realloc", "realloc_enter", "realloc_exit" }, { "mmap", "mmap_enter", "mmap_exit" },
  { "mremap", "mremap_enter", "mremap_exit" },
  { "posix_memalign", "posix_memalign_enter", "posix_memalign_exit" },
  { "memalign", "memalign_enter", "memalign_exit" }, { "free", "free_enter_u" },
  { "munmap", "munmap_enter" },
  { "valloc", "valloc_enter", "valloc_exit", optional = true },
  { "pvalloc", "pvalloc_enter", "pvalloc_exit", optional = true },
  { "aligned_alloc", "aligned_alloc_enter", "aligned_alloc_exit", optional = true },
}

local function hex(a) return bit.tohex(ffi.new("uint64_t", a), 16) end
local function xaddr(a) return (hex(a):gsub("^0+(.)", "%1")) end

-- Programs of kernel mode: the _node tracepoints are gone since 6.1.
local function kernel_programs(opts)
  local p = { "kmalloc", "kmem_cache_alloc", "kfree", "kmem_cache_free", "mm_page_alloc", "mm_page_free" }
  if core.tracepoint_exists("kmem", "kmalloc_node") and core.tracepoint_exists("kmem", "kmem_cache_alloc_node") then
    p[#p + 1] = "kmalloc_node"; p[#p + 1] = "kmem_cache_alloc_node"
  end
  if opts.percpu then p[#p + 1] = "percpu_alloc_percpu"; p[#p + 1] = "percpu_free_percpu" end
  return p
end

local function attach_uprobes(b, opts, pid)
  if not core.stat("/proc/" .. pid) then error(("memleak: -p %d: no such process"):format(pid), 0) end
  local lib = opts.obj:find("/", 1, true) and opts.obj or core.find_library(opts.obj, pid)
  if not lib then error(("memleak: no library %s found (-O names the allocator's object)"):format(opts.obj), 0) end
  local probes = {}
  for _, u in ipairs(UPROBES) do
    local fn = (opts.symbols_prefix or "") .. u[1]
    -- a prefixed allocator (jemalloc's je_) has no mmap family of its own
    local optional = u.optional or (opts.symbols_prefix and u[1]:match("^m[mru]")) and true or nil
    probes[#probes + 1] = { name = lib, sym = fn, fn_name = u[2], pid = pid, optional = optional }
    if u[3] then
      probes[#probes + 1] = { name = lib, sym = fn, fn_name = u[3], pid = pid, retprobe = true, optional = optional }
    end
  end
  -- (together: the kernel's waits for each overlap)
  local ok, err = pcall(b.attach_uprobes, b, probes)
  if not ok then error("memleak: " .. tostring(err):gsub("^luatrace: ", ""), 0) end
  return lib
end

-- Outstanding allocations by stack, largest first: {stack_id, size,
-- count, allocs = {{addr, size}} (-a)}; also how many had no stack.
local function outstanding(b, opts)
  local by, list, missing = {}, {}, 0
  local function add(id, size, count, addr)
    if id < 0 then
      if id ~= -EFAULT then missing = missing + count end
      return
    end
    local s = by[id]
    if not s then
      s = { stack_id = id, size = 0, count = 0, allocs = {} }
      by[id] = s
      list[#list + 1] = s
    end
    s.size, s.count = s.size + size, s.count + count
    if addr and opts.show_allocs then s.allocs[#s.allocs + 1] = { addr = addr, size = size } end
  end
  if opts.combined_only then
    for id, c in b.combined:items() do
      -- the key is the stack id as a u64: errors (< 0) come back huge
      if type(id) ~= "number" then id = tonumber(ffi.cast("int64_t", id)) end
      if c.nr_allocs > 0 then add(id, c.total_size, c.nr_allocs) end
    end
  else
    local now = core.monotonic_ns()
    local min_age = (opts.older or 0) * 1e6
    for addr, a in b.allocs:items() do
      if now - a.timestamp_ns >= min_age then add(a.stack_id, a.size, 1, addr) end
    end
  end
  table.sort(list, function(x, y)
    if x.size ~= y.size then return x.size > y.size end
    return x.stack_id < y.stack_id
  end)
  for _, s in ipairs(list) do
    table.sort(s.allocs, function(x, y) return hex(x.addr) < hex(y.addr) end)
  end
  return list, missing
end

-- Frames as libbpf-tools prints them (without the tab): "I [<addr>]
-- sym+0xoff [object]" in user mode, "I [<addr>] sym+0xoff" for the kernel.
local function frames(b, id, pid)
  local out = {}
  for i, addr in ipairs(b.stack_traces:walk(id)) do
    local head = ("%d [<%s>]"):format(i - 1, hex(addr))
    local ok, name, off, mod
    if pid then ok, name, off, mod = pcall(sym.usym, addr, pid)
    else ok, name, off = true, sym.ksym(addr) end
    if not ok or (not name and not mod) then
      out[i] = head .. " <null sym>"
    elseif pid then
      out[i] = head .. (name and (" %s+0x%x"):format(name, off) or "") .. (mod and (" [%s]"):format(mod) or "")
    else
      out[i] = head .. (" %s+0x%x"):format(name, off)
    end
  end
  return out
end

local T = {
  name = "memleak",
  description = "Trace outstanding memory allocations (user: -p/-c, else kernel) and their stacks",
  options = {
    { "-p", "--pid", type = "pid", help = "process ID to trace; if not specified, trace kernel allocs" },
    { "-t", "--trace", type = "flag", help = "print trace messages for each alloc/free call" },
    { "-a", "--show-allocs", type = "flag", help = "show allocation addresses and sizes as well as call stacks" },
    { "-o", "--older", type = "uint", default = 500, metavar = "AGE_MS",
      help = "prune allocations younger than this age in milliseconds" },
    { "-c", "--command", type = "string", metavar = "COMMAND", help = "execute and trace the specified command" },
    { "-C", "--combined-only", type = "flag", help = "show combined allocation statistics only" },
    { "-F", "--wa-missing-free", type = "flag",
      help = "workaround to alleviate misjudgments when free is missing (kernel mode)" },
    { "-s", "--sample-rate", type = "positive", default = 1, metavar = "SAMPLE_RATE",
      help = "sample every N-th allocation to decrease the overhead" },
    { "-T", "--top", type = "positive", default = 10, metavar = "TOP_STACKS",
      help = "display only this many top allocating stacks (by size)" },
    { "-z", "--min-size", type = "uint", metavar = "MIN_SIZE", help = "capture only allocations larger than or equal to this size" },
    { "-Z", "--max-size", type = "uint", metavar = "MAX_SIZE", help = "capture only allocations smaller than or equal to this size" },
    { "-O", "--obj", type = "string", default = "c", metavar = "OBJECT",
      help = "attach to allocator functions in the specified object (c: the C library)" },
    { "-P", "--percpu", type = "flag", help = "trace percpu allocations (kernel mode)" },
    { "-S", "--symbols-prefix", type = "string", metavar = "SYMBOLS_PREFIX", help = "memory allocator symbols prefix" },
    toolkit.stack_storage_opt(10240),
    toolkit.opt.stack_depth,
    { "interval", positional = true, type = "positive", default = 5, help = "interval in seconds to print outstanding allocs" },
    toolkit.opt.count,
  },
  validate = function(o)
    if o.pid and o.command then return false, "-p and -c cannot be used together" end
    if o.min_size and o.max_size and o.min_size > o.max_size then
      return false, "min size (-z) can't be greater than max size (-Z)"
    end
    return true
  end,

  start = function(opts, emit)
    local user = opts.pid or opts.command
    local sizes = toolkit.stack_map_sizes(opts, "stack_traces") -- (refused before -c starts)
    -- user mode: entries allocated as needed (a fast start); kernel mode
    -- keeps the object's preallocated hashes (bpf/memleak.bpf.c says why)
    if user then sizes.map_flags = { sizes = NO_PREALLOC, allocs = NO_PREALLOC, combined = NO_PREALLOC, memptrs = NO_PREALLOC } end
    local target = opts.command and require "luatrace.target"
    local pid = opts.pid or (target and target.start(opts.command))
    local programs = {}
    if user then
      for _, u in ipairs(UPROBES) do programs[#programs + 1] = u[2]; programs[#programs + 1] = u[3] end
    else
      programs = kernel_programs(opts)
    end
    local b = toolkit.open("memleak", {}, {
      min_size = opts.min_size or 0, max_size = opts.max_size, page_size = PAGE_SIZE,
      sample_rate = opts.sample_rate, trace_all = opts.trace or false,
      stack_flags = user and BPF_F_USER_STACK or 0, wa_missing_free = opts.wa_missing_free or false,
    }, programs, nil, sizes)
    local running = { b = b, pid = pid, tables = { allocs = b.allocs, combined = b.combined, stack_traces = b.stack_traces } }
    local ok, err = pcall(function()
      if user then running.lib = attach_uprobes(b, opts, pid) end
      if opts.trace then
        toolkit.ring(b, "events", function(e)
          emit({ event = e.kind == 1 and "alloc" or "free", pid = e.pid, addr = e.addr, size = e.size })
        end)
      end
    end)
    -- a -c command still running when the trace ends gets SIGTERM (then SIGKILL)
    local function end_command() if target and target.handle then target.handle:close() end end
    if not ok then b:cleanup(); end_command(); error(err, 0) end
    if target then running.target = target; target.release() end
    running.stop = end_command
    -- report(): the outstanding allocations now, as {stack_id, size,
    -- count, frames, allocs}, largest first, at most -T stacks.
    function running.report()
      local list, missing = outstanding(b, opts)
      local out = {}
      for i = 1, math.min(#list, opts.top) do
        local s = list[i]
        s.frames = frames(b, s.stack_id, pid)
        out[i] = s
      end
      return out, missing
    end
    return running
  end,
}

local function print_report(opts, stacks, missing)
  local time = os.date("%H:%M:%S")
  if opts.json then
    local list = {}
    for i, s in ipairs(stacks) do
      local o = { bytes = s.size, allocations = s.count, frames = json.array(s.frames) }
      if opts.show_allocs then
        local a = {}
        for j, x in ipairs(s.allocs) do a[j] = { addr = "0x" .. xaddr(x.addr), size = x.size } end
        o.allocs = json.array(a)
      end
      list[i] = o
    end
    json.line({ time = time, stacks = json.array(list) }, { "time", "stacks", "bytes", "allocations", "allocs", "frames", "addr" })
  else
    print(("[%s] Top %d stacks with outstanding allocations:"):format(time, #stacks))
    for _, s in ipairs(stacks) do
      print(("%d bytes in %d allocations from stack"):format(s.size, s.count))
      for _, x in ipairs(s.allocs) do
        print(("\taddr = 0x%s size = %d"):format(xaddr(x.addr), x.size))
      end
      for _, f in ipairs(s.frames) do print("\t" .. f) end
    end
  end
  io.stdout:flush()
  if missing > 0 then
    io.stderr:write(("WARNING: %d stack traces could not be displayed (stack map full, or hash collisions)\n")
      :format(missing))
  end
end

function T.on_event(e, opts)
  if opts.json then
    json.line({ event = e.event, pid = e.pid, addr = "0x" .. xaddr(e.addr), size = e.size },
      { "event", "pid", "addr", "size" })
  elseif e.event == "alloc" then
    print(("alloc exited, size = %d, result = %s"):format(e.size, xaddr(e.addr)))
  else
    print(("free entered, address = %s, size = %d"):format(xaddr(e.addr), e.size))
  end
  io.stdout:flush()
end

function T.main(opts, running)
  if not opts.json then
    if running.pid then print(("Attaching to pid %d, Ctrl+C to quit."):format(running.pid))
    else print("Attaching to kernel allocators, Ctrl+C to quit.") end
    io.stdout:flush()
  else
    io.stderr:write("Tracing memleak... Ctrl-C to end.\n")
  end
  local l = require("luatrace.loop").new()
  l:add(running)
  local n = 0
  local function report()
    print_report(opts, running.report())
    n = n + 1
    if opts.count and opts.count > 0 and n >= opts.count then l:stop() end
  end
  l:every(opts.interval * 1000, report)
  -- a -c command that exits ends the trace, with a last report
  local pidfd = running.target and running.target.pidfd()
  if pidfd then l:add_fd(pidfd, function() l:remove_fd(pidfd); report(); l:stop() end) end
  l:run()
  l:close()
  return 0
end

return toolkit.define(T)
