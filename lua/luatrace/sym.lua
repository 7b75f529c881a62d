-- luatrace.sym: kernel and user symbols, with addresses as uint64_t cdata
-- (Lua numbers lose bits above 2^53). Resolvers are cached per pid.
local ffi = require "ffi"
local core = require "luatrace.core"

local M = {}
local u64 = ffi.typeof("uint64_t")

-- A 64-bit address that went through tonumber() has lost its low bits
-- (doubles are exact only below 2^53; kernel addresses are near 2^64), and
-- would silently name another symbol: refuse it. Level 4: the caller of
-- the BPF.ksym/BPF.sym wrapper.
local function check_addr(addr, what)
  if type(addr) == "number" and (addr >= 2 ^ 53 or addr <= -2 ^ 53) then
    error(("%s: address %.17g is a Lua number beyond 2^53 and has lost its "
      .. "low bits (tonumber() of a 64-bit address?); pass the uint64 value "
      .. "as read, or a \"0x...\" string"):format(what, addr), 4)
  end
end

-- ksym(addr) -> name, offset, module (nil when unknown)
function M.ksym(addr)
  check_addr(addr, "ksym")
  return core.ksym(addr)
end

-- ksymname(name) -> address (uint64_t) or nil
function M.ksymname(name)
  local a = core.ksym_addr(name)
  return a and ffi.cast(u64, a) or nil
end

local resolvers = {}

-- usym(addr, pid) -> name, offset, module (nil when unknown); a pid below
-- zero means the kernel, as in BCC's sym(). An address in a known module
-- without a symbol gives nil, the offset in the module, the module.
function M.usym(addr, pid)
  check_addr(addr, "sym")
  if type(pid) == "number" and pid < 0 then return core.ksym(addr) end
  local r = resolvers[pid]
  if not r then
    r = core.usyms(pid)
    resolvers[pid] = r
  end
  return r:resolve(addr)
end

-- The file offset a uprobe on `symname` of binary `name` (a path or a
-- library short name, "c") must use when the symbol is a GNU IFUNC
-- (glibc's strlen...): that of the implementation the dynamic linker picks
-- (host/ifunc.c); nil for any other symbol, which attaches by name.
function M.ifunc_offset(name, symname, pid)
  local path = core.find_library(name, pid)
  return path and (core.uprobe_ifunc(path, symname))
end

-- The file offset of function `symname` in binary `name` when its ELF
-- symbol tables place it for sure (host/link_uprobes.c), else nil: libbpf
-- then looks it up itself (and words the error).
function M.func_offset(name, symname, pid)
  local path = core.find_library(name, pid)
  return path and (core.uprobe_sym_offset(path, symname))
end

-- Forget a pid's resolver (the process exited, or its maps changed).
function M.forget(pid)
  resolvers[pid] = nil
end

-- "name+0x1f [module]" as BCC's sym()/ksym() print it: the offset (also
-- +0x0) when asked and the name is known, "[unknown]" for an unknown name,
-- the module's base name ("[libc.so.6]", "[kernel]", "[perf-PID.map]")
-- when asked and known. opts: { show_module, show_offset }, or BCC's
-- positional booleans (show_module, show_offset).
function M.format(name, off, module, opts, show_offset)
  if type(opts) ~= "table" then
    opts = { show_module = opts, show_offset = show_offset }
  end
  local s = name or "[unknown]"
  if opts.show_offset and name and off then s = ("%s+0x%x"):format(s, off) end
  if opts.show_module and module then
    s = ("%s [%s]"):format(s, module:match("([^/]*)$"))
  end
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

-- opts: { show_module, show_offset } or BCC's positional booleans.
function M.bcc_sym(addr, pid, opts, show_offset)
  local name, off, mod = M.usym(addr, pid)
  return M.format(name, off, mod, opts, show_offset)
end

return M
