-- luatrace.toolkit.kernel: a tool's kernel side: its AOT object loaded
-- with bpf/lt_tool.h's shared filters, ring buffers, errno names.
local M = {}
-- Globals of bpf/lt_tool.h from the options (-p, -L, -c), merged into
-- `extra`: BPF{obj=..., globals = toolkit.filter_globals(opts, {...})}.
function M.filter_globals(opts, extra)
  local g = {}
  for k, v in pairs(extra or {}) do g[k] = v end
  -- only what was asked: the defaults in lt_tool.h are "no filter", and
  -- objects without lt_tool.h (runqlen) have none of these globals
  if opts.pid then g.targ_tgid = opts.pid end
  if opts.tid then g.targ_tid = opts.tid end
  if opts.cgroup then g.filter_cg = true end
  return g
end

local ffi = require "ffi"
pcall(ffi.cdef, [[
int open(const char *path, int flags, ...);
int close(int fd);
char *strerror(int errnum);
]])

-- After load: put the -c cgroup into cgroup_map[0] (the program lets
-- nothing through until then).
function M.apply_filters(b, opts)
  if not opts.cgroup then return end
  local O_RDONLY, O_DIRECTORY, O_CLOEXEC = 0, 0x10000, 0x80000
  local fd = ffi.C.open(opts.cgroup, O_RDONLY + O_DIRECTORY + O_CLOEXEC)
  if fd < 0 then
    local err = ffi.string(ffi.C.strerror(ffi.errno()))
    b:cleanup()
    error(("open cgroup %s: %s (give a cgroup v2 directory, e.g. /sys/fs/cgroup/system.slice)"):format(
      opts.cgroup, err), 0)
  end
  local ok, e = pcall(function() b.cgroup_map[0] = fd end)
  ffi.C.close(fd)
  if not ok then b:cleanup(); error(e, 0) end
end

-- --stack-storage-size and --perf-max-stack-depth (toolkit.stack_size_opts)
-- as the sizes of the tool's stack map `map`, for toolkit.open. A depth
-- over the kernel's perf_event_max_stack sysctl would fail the map's
-- creation: say so first.
function M.stack_map_sizes(opts, map)
  local s = { max_entries = {}, value_size = {} }
  s.max_entries[map] = opts.stack_storage_size
  local depth = opts.perf_max_stack_depth
  if depth then
    local f = io.open("/proc/sys/kernel/perf_event_max_stack")
    local max = f and tonumber(f:read("*l"))
    if f then f:close() end
    if max and depth > max then
      error(("--perf-max-stack-depth %d: over the kernel's limit %d (sysctl kernel.perf_event_max_stack)")
        :format(depth, max), 0)
    end
    s.value_size[map] = depth * 8
  end
  return s
end

-- BPF{obj=name, globals=filters+extra, programs=, attach_targets=,
-- max_entries=, value_size=, map_flags=}: load a tool's AOT object with the
-- shared filters applied; sizes is {max_entries=, value_size=}
-- (stack_map_sizes), and map_flags= where a tool sets them.
function M.open(name, opts, extra, programs, attach_targets, sizes)
  local BPF = require("luatrace").BPF
  sizes = sizes or {}
  local b = BPF{ obj = name, globals = M.filter_globals(opts, extra), programs = programs,
    attach_targets = attach_targets, max_entries = sizes.max_entries, value_size = sizes.value_size,
    map_flags = sizes.map_flags }
  M.apply_filters(b, opts)
  return b
end

-- Open ring buffer `name` of a tool's object with fn(typed record). The
-- tools' programs submit with default flags (the kernel wakes the reader
-- whenever it has caught up), so the latency tick for batched wakeups can
-- be slow: 100 ms, not 5.
function M.ring(b, name, fn)
  return b[name]:open_ring_buffer(fn, { latency_ms = 100 })
end

-- Errno numbers by name (ENOENT -> 2) and names by number, from the
-- kernel's uapi headers (linux-libc-dev); the first name of a number wins
-- (EAGAIN over EWOULDBLOCK).
local errnos, errno_names
local function load_errnos()
  errnos, errno_names = {}, {}
  for _, h in ipairs({ "/usr/include/asm-generic/errno-base.h", "/usr/include/asm-generic/errno.h" }) do
    local f = io.open(h)
    if f then
      for name, n in f:read("*a"):gmatch("#define%s+(E[%u%d]+)%s+(%d+)") do
        n = tonumber(n)
        errnos[name] = n
        errno_names[n] = errno_names[n] or name
      end
      f:close()
    end
  end
end

function M.errno(s)
  if tonumber(s) then return tonumber(s) end
  if not errnos then load_errnos() end
  return errnos[s:upper()]
end

function M.errno_name(n)
  if not errno_names then load_errnos() end
  return errno_names[n]
end

return M
