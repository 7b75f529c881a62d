-- tests/bt_helpers.lua: running bpftrace programs inside a test (loaded by
-- the bt_* test files with dofile). Programs run in the test's process,
-- filtered to its pid unless told otherwise; output is collected as text.
local bt = require "luatrace.bpftrace"
local core = require "luatrace.core"
local ffi = require "ffi"

local B = {}

-- Run src: load (attach), call trigger(p), run until exit() or
-- opts.duration_ms (default 150 ms), return the printed text and the
-- program. opts.pid = false runs unfiltered.
function B.run(src, trigger, opts)
  opts = opts or {}
  local out = {}
  collectgarbage()
  local o = { out = function(s) out[#out + 1] = s end, args = opts.args, format = opts.format,
    name = opts.name, unsafe = opts.unsafe, print_maps = opts.print_maps }
  if opts.pid ~= false then o.pid = opts.pid or core.getpid() end
  local p = bt.load(src, o)
  if trigger then trigger(p) end
  p:run { duration_ms = opts.duration_ms or 150 }
  return table.concat(out), p
end

-- The located error text of a program that must not compile.
function B.error_of(src, opts)
  local ok, err = bt.try(bt.compile, src, opts or {})
  if ok then error("expected a compile error for: " .. src, 2) end
  return err
end

-- Lines of text as an array.
function B.lines(s)
  local t = {}
  for l in s:gmatch("([^\n]*)\n") do t[#t + 1] = l end
  return t
end

pcall(ffi.cdef, [[
int socket(int domain, int type, int protocol);
int close(int fd);
long read(int fd, void *buf, unsigned long n);
long write(int fd, const void *buf, unsigned long n);
int open(const char *path, int flags, ...);
void *malloc(unsigned long n);
void free(void *p);
int accept(int fd, void *addr, void *len);
int accept4(int fd, void *addr, void *len, int flags);
int connect(int fd, const void *addr, unsigned int len);
void *mmap(void *addr, unsigned long len, int prot, int flags, int fd, long off);
int munmap(void *addr, unsigned long len);
]])
B.C = ffi.C

-- Debian's bpftrace, when installed.
function B.bpftrace()
  return core.stat("/usr/bin/bpftrace") and "/usr/bin/bpftrace" or nil
end

return B
