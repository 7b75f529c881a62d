-- tests/vm/lib.lua: what VM case files share. A case declares its C
-- programs at the top level with program(text[, cflags]); the host
-- compiles them for the guest kernel beforehand (precompile.lua) and the
-- guest, which has no clang, finds them in its cache. Runtime values (pids,
-- ports) go through globals=, never into the text.
local M = {}

local declared

-- program(text, cflags) -> { text, cflags, origin = {file, line} }; the
-- origin is relative to the source root, so host and guest agree, and the
-- text is taken to start on the line after the call's `[[`.
function M.program(text, cflags)
  local info = debug.getinfo(2, "Sl")
  local file = info.source:sub(2):gsub("^.*/(tests/vm/cases/)", "%1")
  local p = { text = text, cflags = cflags, origin = { file = file, line = info.currentline + 1 } }
  if declared then declared[#declared + 1] = p end
  return p
end

-- read(2) of 123 bytes from /dev/zero, n times: a trigger whose count and
-- return value (both 123) nothing else in the process produces.
local ffi = require "ffi"
pcall(ffi.cdef, [[
int open(const char *path, int flags, ...);
int close(int fd);
long read(int fd, void *buf, size_t n);
]])
function M.reads(n)
  local fd = ffi.C.open("/dev/zero", 0)
  local buf = ffi.new("char[123]")
  for _ = 1, n do assert(ffi.C.read(fd, buf, 123) == 123) end
  ffi.C.close(fd)
end

-- BPF options for a declared program, plus extra fields (globals, ...).
function M.opts(p, extra)
  local o = { text = p.text, cflags = p.cflags, origin = p.origin }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

-- The programs a case file declares (its tests are not run).
function M.programs_of(file)
  declared = {}
  local env = setmetatable({ test = function() end, skip = function() end,
                             program = M.program, vm_opts = M.opts, reads = M.reads },
                           { __index = _G })
  local chunk = assert(loadfile(file))
  setfenv(chunk, env)
  chunk()
  local found = declared
  declared = nil
  return found
end

return M
