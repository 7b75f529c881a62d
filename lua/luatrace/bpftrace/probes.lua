-- luatrace.bpftrace.probes: attach points. A word such as
-- `t:syscalls:sys_enter_*` or `u:libc:malloc` becomes one or more concrete
-- probes { kind, name (bpftrace's full spelling), target fields }; each
-- gets its own BPF program (tracepoint args and kfunc parameters differ).
--
-- Provider names (long and short) come from the shared probe-kind table
-- (luatrace.probekinds); BEGIN and END are bpftrace's own. A kind is
-- named by its long bpftrace name ("rawtracepoint", "kfunc", ...).
local core = require "luatrace.core"
local probekinds = require "luatrace.probekinds"
local perf_events = require "luatrace.perf_events"

local M = {}

local providers = { BEGIN = "BEGIN", END = "END" }
for name, k in pairs(probekinds.by_bpftrace) do providers[name] = k.bpftrace[1] end
M.providers = providers

local unsupported = { watchpoint = true, w = true, asyncwatchpoint = true, aw = true,
  iter = true, it = true, kprobe_multi = true }

local units = { s = 1e9, ms = 1e6, us = 1e3, ns = 1 }

local function glob_to_pattern(g)
  return "^" .. g:gsub("[%^%$%(%)%%%.%[%]%+%-]", "%%%0"):gsub("%*", ".*"):gsub("%?", ".") .. "$"
end
M.glob_to_pattern = glob_to_pattern

local function has_glob(s) return s:find("[%*%?]") ~= nil end

local ffi = require "ffi"
pcall(ffi.cdef, [[
typedef struct { uint64_t d_ino; int64_t d_off; uint16_t d_reclen; uint8_t d_type; char d_name[256]; } lt_bt_dirent;
void *opendir(const char *name);
lt_bt_dirent *readdir(void *dir);
int closedir(void *dir);
]])

-- Names in a directory (tracefs), without "." and "..".
local function listdir(path)
  local out = {}
  local d = ffi.C.opendir(path)
  if d == nil then return out end
  while true do
    local e = ffi.C.readdir(d)
    if e == nil then break end
    local n = ffi.string(e.d_name)
    if n ~= "." and n ~= ".." then out[#out + 1] = n end
  end
  ffi.C.closedir(d)
  return out
end

-- Tracepoints matching cat:ev globs, from tracefs.
local function tracepoints(cat, ev)
  if has_glob(cat) or has_glob(ev) then require("luatrace.bpftrace.inputs").volatile("tracepoint wildcard") end
  local base = core.tracefs() .. "/events"
  local out = {}
  local cats = has_glob(cat) and listdir(base) or { cat }
  for _, c in ipairs(cats) do
    if c:match(glob_to_pattern(cat)) then
      local evs = has_glob(ev) and listdir(base .. "/" .. c) or { ev }
      for _, e in ipairs(evs) do
        if e:match(glob_to_pattern(ev)) and core.stat(("%s/%s/%s/format"):format(base, c, e)) then
          out[#out + 1] = { c, e }
        end
      end
    end
  end
  table.sort(out, function(a, b) return a[1] .. ":" .. a[2] < b[1] .. ":" .. b[2] end)
  return out
end

-- Kernel functions (or a binary's functions) matching a glob, from the
-- listing module (`luatrace -l`): one source of probe names.
local function listed(pattern)
  require("luatrace.bpftrace.inputs").volatile("probe listing")
  local out = {}
  for _, name in ipairs(require("luatrace.listing").names(pattern)) do
    out[#out + 1] = name:match("([^:]+)$")
  end
  table.sort(out)
  return out
end

local function kfuncs(glob) return listed("kprobe:" .. glob) end

-- A library short name (libc) or path -> path.
local function binary(path)
  require("luatrace.bpftrace.inputs").volatile("a binary's symbols")
  if path:find("/", 1, true) then return path end
  local p = core.find_library(path)
  if p then return p end
  return nil
end

-- glibc 2.34 moved libpthread, libdl, librt, libutil and libanl into
-- libc.so.6 and left stubs: a uprobe on pthread_create in the stub means
-- the one in libc. The libc path, or nil.
local glibc_stubs = { libpthread = true, libdl = true, librt = true, libutil = true, libanl = true }
local function glibc_stub_target(path, fn)
  local base = path:match("([^/]+)%.so[%.%d]*$")
  if not base or not glibc_stubs[base] then return nil end
  local libc = core.find_library("c")
  if libc and core.elf_symbol(libc, fn) then return libc end
end

-- Does an AST (a probe block) use the builtin `name` anywhere?
function M.uses(node, name)
  if type(node) ~= "table" then return false end
  if node.k == "Builtin" and node.name == name then return true end
  for k, v in pairs(node) do
    if k ~= "parent" and type(v) == "table" and M.uses(v, name) then return true end
  end
  return false
end

-- Expand one attach word (from the parser) into concrete probes. err(msg)
-- raises a located error at the word; warn(msg), when given, reports a
-- probe skipped as bpftrace skips it (a uprobe or usdt probe missing from
-- an existing binary). block (the probe's AST) lets a tracepoint glob
-- whose block reads no `args` become one program.
function M.expand(word, err, warn, block)
  local text = word.v
  local prov, rest = text:match("^([%w_]+):(.*)$")
  if not prov then prov, rest = text, "" end
  if unsupported[prov] then err(("probe type %s is not supported by luatrace"):format(prov)) end
  local kind = providers[prov]
  if not kind then err(("Invalid probe type: %s"):format(prov)) end
  local parts = {}
  for p in (rest .. ":"):gmatch("(.-):") do parts[#parts + 1] = p end
  if rest == "" then parts = {} end
  local out = {}
  local function add(p) p.kind = kind; out[#out + 1] = p end
  if kind == "BEGIN" or kind == "END" then
    if rest ~= "" then err("syntax error in probe " .. text) end
    add({ name = kind })
  elseif kind == "tracepoint" then
    if #parts ~= 2 then err("tracepoint probes take tracepoint:category:event") end
    local list = tracepoints(parts[1], parts[2])
    if #list == 0 then
      err(("tracepoint not found: %s:%s (list them with luatrace -l 'tracepoint:%s:*')"):format(
        parts[1], parts[2], parts[1]))
    end
    if (has_glob(parts[1]) or has_glob(parts[2])) and block and not M.uses(block, "args") then
      -- the block reads no tracepoint fields: one program for every match
      local targets = {}
      for _, t in ipairs(list) do
        targets[#targets + 1] = { cat = t[1], event = t[2], func = "",
          name = ("tracepoint:%s:%s"):format(t[1], t[2]) }
      end
      add({ name = "tracepoint:" .. rest, pattern = rest, targets = targets })
      return out
    end
    for _, t in ipairs(list) do
      add({ name = ("tracepoint:%s:%s"):format(t[1], t[2]), cat = t[1], event = t[2] })
    end
  elseif kind == "rawtracepoint" then
    local tp = parts[#parts]
    if not tp or tp == "" then err("rawtracepoint probes take rawtracepoint:event") end
    add({ name = "rawtracepoint:" .. tp, tp = tp })
  elseif kind == "kprobe" or kind == "kretprobe" or kind == "kfunc" or kind == "kretfunc" then
    local fn = parts[#parts]
    if not fn or fn == "" then err(kind .. " probes take " .. kind .. ":function") end
    local off
    if kind == "kprobe" then
      local f, o = fn:match("^(.-)%+(%w+)$")
      if f then fn, off = f, tonumber(o) end
    end
    local names = { fn }
    if has_glob(fn) then
      names = (kind == "kfunc" or kind == "kretfunc") and listed("kfunc:" .. fn) or kfuncs(fn)
    end
    if #names == 0 then err(("no kernel function matches %s"):format(fn)) end
    if has_glob(fn) and (kind == "kprobe" or kind == "kretprobe") then
      -- one program for every match: attached at run time with a cookie
      -- that names the match (func, probe), so the C does not depend on
      -- the host's function list
      local targets = {}
      for _, f in ipairs(names) do
        targets[#targets + 1] = { func = f, name = kind .. ":" .. f .. (off and ("+" .. off) or ""), offset = off }
      end
      add({ name = kind .. ":" .. fn, pattern = fn, targets = targets })
      return out
    end
    for _, f in ipairs(names) do
      add({ name = kind .. ":" .. f .. (off and ("+" .. off) or ""), func = f, offset = off })
    end
  elseif kind == "uprobe" or kind == "uretprobe" then
    if #parts < 2 then err(kind .. " probes take " .. kind .. ":binary:function") end
    local fn = parts[#parts]
    local bin = table.concat(parts, ":", 1, #parts - 1)
    local path = binary(bin)
    if not path then err(("library %s not found (give its path)"):format(bin)) end
    if not core.stat(path) then err(("binary %s: no such file"):format(path)) end
    local funcs = has_glob(fn) and listed("uprobe:" .. path .. ":" .. fn) or { fn }
    if #funcs == 0 then err(("no function of %s matches %s"):format(path, fn)) end
    if has_glob(fn) then -- one program, attached to every match (as kprobes)
      local targets = {}
      for _, f in ipairs(funcs) do
        local _, _, foff, count = core.elf_symbol(path, f)
        targets[#targets + 1] = { func = f, name = ("%s:%s:%s"):format(kind, path, f), path = path,
          addr = count and count > 1 and foff or nil }
      end
      add({ name = ("%s:%s:%s"):format(kind, path, fn), path = path, pattern = fn, targets = targets })
      return out
    end
    for _, f in ipairs(funcs) do
      local addr = f:match("^0x%x+$") and tonumber(f)
      local at = path
      if not addr and not core.elf_symbol(path, f) then
        at = glibc_stub_target(path, f)
        if not at then
          -- bpftrace skips it (its missing_probes = "warn"): one line, go on
          if warn then warn(("%s:%s:%s: no symbol %s in %s; probe skipped"):format(kind, path, f, f, path)) end
        end
      end
      if at then
        -- a name defined more than once (one per symbol version): libbpf
        -- 1.1 refuses it as ambiguous, so attach at its file offset
        local _, _, off, count = core.elf_symbol(at, f)
        if not addr and count and count > 1 and off then addr = off end
        add({ name = ("%s:%s:%s"):format(kind, at, f), path = at, func = f, addr = addr })
      end
    end
  elseif kind == "usdt" then
    if #parts < 2 then err("usdt probes take usdt:binary:[provider:]name") end
    local bin, pv, nm
    if #parts >= 3 then bin, pv, nm = parts[1], parts[2], parts[3]
    else bin, nm = parts[1], parts[2] end
    local path = binary(bin)
    if not path then err(("binary %s not found"):format(bin)) end
    if not pv then
      for _, n in ipairs(core.usdt_probes and core.usdt_probes(path) or {}) do
        if n.name == nm then pv = n.provider; break end
      end
      if not pv then err(("usdt probe %s not found in %s"):format(nm, path)) end
    else
      local found = false
      for _, n in ipairs(core.usdt_probes and core.usdt_probes(path) or {}) do
        if n.name == nm and n.provider == pv then found = true; break end
      end
      if not found then
        if warn then warn(("usdt:%s:%s:%s: no such USDT probe in %s; probe skipped"):format(path, pv, nm, path)) end
        return out
      end
    end
    add({ name = ("usdt:%s:%s:%s"):format(path, pv, nm), path = path, provider = pv, probe = nm })
  elseif kind == "profile" or kind == "interval" then
    local unit, n = parts[1], parts[2]
    if #parts == 1 then
      n, unit = parts[1]:match("^(%d+)(%a*)$")
      if unit == "" then unit = "hz" end
    end
    n = tonumber(n)
    if not n or n <= 0 or not (units[unit] or unit == "hz") then
      err(("%s probes take %s:unit:N (unit: hz, s, ms, us, ns)"):format(kind, kind))
    end
    local p = { name = ("%s:%s:%d"):format(kind, unit, n) }
    if unit == "hz" then p.freq = n; p.period_ns = math.floor(1e9 / n)
    else p.period_ns = n * units[unit] end
    add(p)
  elseif kind == "software" or kind == "hardware" then
    local ev, n = parts[1], tonumber(parts[2])
    local e = perf_events.find(kind, ev or "")
    if not e then err(("unknown %s event: %s"):format(kind, tostring(ev))) end
    add({ name = ("%s:%s:%d"):format(kind, ev, n or e.period),
      ev_type = kind == "software" and perf_events.TYPE_SOFTWARE or perf_events.TYPE_HARDWARE,
      ev_config = e.config, period = n or e.period })
  end
  return out
end

return M
