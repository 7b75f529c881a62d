-- luatrace: the public Lua library.
--
--   local lt  = require "luatrace"
--   local BPF = lt.BPF
--   local b = BPF{text = [[ ... ]]}       -- BCC's API shape, in Lua form
--
-- BPF (luatrace.bpf) compiles C on demand (cached) or loads AOT objects,
-- attaches, and gives tables, events and histograms; USDT contexts come
-- from lt.USDT. The lower layers stay reachable: lt.core (the host's
-- primitives), lt.types, lt.events, lt.maps, lt.sym, lt.objects.
local core = require "luatrace.core"

-- Lua 5.2's pairs, which honours __pairs: pairs(table_of_a_map) iterates
-- the map (LuaJIT without 5.2 compatibility ignores the metamethod).
-- Requiring the library changes no global: the luatrace command installs
-- it as the global pairs of the scripts it runs (cli.lua), and code
-- elsewhere can call lt.pairs or t:items().
local raw_pairs = pairs
local function pairs52(t)
  local mt = getmetatable(t)
  if mt and type(mt) == "table" and mt.__pairs then return mt.__pairs(t) end
  return raw_pairs(t)
end

local M = {
  pairs = pairs52,
  core = core,
  version = core.version,
}

-- The parts are required on first use: every run of the luatrace command
-- requires this file (for pairs), and a bpftrace program or a Lua chunk
-- that never touches lt.BPF should not load the whole library (startup
-- cost, docs/STARTUP.md). The console's completion lists these names
-- (it reads the tables an __index function closes over).
local parts = {
  types = "luatrace.types",
  events = "luatrace.events",
  maps = "luatrace.maps",
  sym = "luatrace.sym",
  objects = "luatrace.objects",
  BPF = "luatrace.bpf",
  USDT = "luatrace.usdt",
  metrics = "luatrace.metrics",
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

-- The process of `-p PID` / `-c CMD` (luatrace.target): lt.target_pid,
-- lt.target_cmd (nil without -c); lt.release_target() runs a held -c
-- command now (else the first wait does); lt.target_status() is nil while
-- it runs, then "exit", code or "signal", n.
local target = require "luatrace.target"
M.release_target, M.target_status = target.release, target.status

-- lt.bpftrace(src[, opts]) -> a loaded, attached bpftrace program
-- (luatrace.bpftrace's load: p.maps["@name"] as Lua tables,
-- p:on_printf(fn), p:run{until_fn=, duration_ms=}, p:stop()). Under -p it
-- is filtered to the process, under -c `cpid` is the command's pid. A
-- program error is one clear error.
function M.bpftrace(src, opts)
  local bt = require "luatrace.bpftrace"
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  -- errors name the calling script (the program's lines count from 1)
  o.name = o.name or debug.getinfo(2, "S").short_src
  if o.pid == nil and target.pid and not target.cmd then o.pid = target.pid end
  if o.cmd_pid == nil and target.cmd then o.cmd_pid = target.pid end
  if o.args then
    for i, a in ipairs(o.args) do o.args[i] = tostring(a) end
  end
  local ok, p = bt.try(bt.load, src, o)
  if not ok then error(p, 0) end
  return p
end

setmetatable(M, { __index = function(t, k)
  if k == "target_pid" then return target.pid end
  if k == "target_cmd" then return target.cmd end
  local name = parts[k]
  if name then
    local v = require(name)
    rawset(t, k, v)
    return v
  end
end })

return M
