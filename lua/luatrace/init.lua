-- luatrace: the public Lua library.
--
-- This first layer gives scripts the host's primitives with typed data:
-- open/load/attach through luatrace.core, events and maps decoded through
-- FFI types from the program's BTF, symbols, and a poll loop that ends
-- cleanly on SIGINT/SIGTERM. The BCC-shaped BPF{...} API builds on it.
local core = require "luatrace.core"

local M = {
  core = core,
  version = core.version,
  types = require "luatrace.types",
  events = require "luatrace.events",
  maps = require "luatrace.maps",
  sym = require "luatrace.sym",
  objects = require "luatrace.objects",
}

-- Feature probes.
M.has_kprobes = core.has_kprobes
M.has_fentry = core.has_fentry
M.has_btf = core.has_btf
M.has_ringbuf = core.has_ringbuf
M.tracepoint_exists = core.tracepoint_exists

-- Sleep ms milliseconds; false when SIGINT/SIGTERM asked to stop.
M.sleep = core.sleep
M.interrupted = core.interrupted

return M
