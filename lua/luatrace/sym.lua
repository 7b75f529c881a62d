-- luatrace.sym: kernel and user symbols, with addresses as uint64_t cdata
-- (Lua numbers lose bits above 2^53). Resolvers are cached per pid.
local ffi = require "ffi"
local core = require "luatrace.core"

local M = {}
local u64 = ffi.typeof("uint64_t")

-- ksym(addr) -> name, offset, module (nil when unknown)
function M.ksym(addr)
  return core.ksym(addr)
end

-- ksymname(name) -> address (uint64_t) or nil
function M.ksymname(name)
  local a = core.ksym_addr(name)
  return a and ffi.cast(u64, a) or nil
end

local resolvers = {}

-- usym(addr, pid) -> name, offset, module (nil when unknown)
function M.usym(addr, pid)
  local r = resolvers[pid]
  if not r then
    r = core.usyms(pid)
    resolvers[pid] = r
  end
  return r:resolve(addr)
end

-- Forget a pid's resolver (the process exited, or its maps changed).
function M.forget(pid)
  resolvers[pid] = nil
end

-- "name+0x1f [module]" in BCC's format.
function M.format(name, off, module, opts)
  opts = opts or {}
  if not name then return "[unknown]" end
  local s = name
  if opts.show_offset and off and off ~= 0 then s = ("%s+0x%x"):format(s, off) end
  if opts.show_module and module then s = ("%s [%s]"):format(s, module) end
  return s
end

-- BCC's static helpers, as BPF.ksym / BPF.ksymname / BPF.sym give them.
function M.bcc_ksym(addr, show_module, show_offset)
  local name, off, mod = M.ksym(addr)
  return M.format(name, off, mod, { show_module = show_module, show_offset = show_offset })
end

function M.bcc_ksymname(name)
  return M.ksymname(name) or -1
end

function M.bcc_sym(addr, pid, opts)
  local name, off, mod = M.usym(addr, pid)
  return M.format(name, off, mod, opts)
end

return M
