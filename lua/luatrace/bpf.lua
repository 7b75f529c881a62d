-- luatrace.bpf: BCC's BPF class in Lua form.
--
--   local b = BPF{text = [[ ...C... ]]}   -- or src_file=, or obj= (AOT)
--   b:attach_kprobe{event = "vfs_read", fn_name = "on_read"}
--   b["counts"]:print_log2_hist("usecs")
--
-- C text goes through csource (BCC names -> sections, map methods,
-- tracepoint args) and compile (clang, cached); objects load with libbpf;
-- programs whose names or sections say where attach automatically.
local core = require "luatrace.core"
local csource = require "luatrace.csource"
local compile = require "luatrace.compile"
local types = require "luatrace.types"
local events = require "luatrace.events"
local Table = require "luatrace.table"
local sym = require "luatrace.sym"

local BPF = {}
local methods = {}

local function argcheck(opts, method)
  if type(opts) ~= "table" then
    error(("%s: expected a table of named arguments, got %s"):format(method, type(opts)), 3)
  end
end

local function need(opts, key, method)
  local v = opts[key]
  if v == nil then error(("%s: missing argument %s="):format(method, key), 3) end
  return v
end

-- The nearest calling frame in a Lua file outside this module (past
-- pcall and the constructor's own frames).
local here = debug.getinfo(1, "S").source
local function caller_frame()
  for level = 3, 12 do
    local info = debug.getinfo(level, "Sl")
    if not info then return nil end
    if info.source:sub(1, 1) == "@" and info.source ~= here then return info end
  end
  return nil
end

-- Where a text= chunk starts in the caller's Lua file: the line of its
-- first non-blank line nearest to the call, so clang's file:line points
-- into the script.
local function text_origin(text)
  local info = caller_frame()
  if not info then
    return "<text>", 1
  end
  local file = info.source:sub(2)
  local skip, first = 0, nil
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    if line:match("%S") then first = line; break end
    skip = skip + 1
  end
  local fh = io.open(file)
  if not fh or not first then
    if fh then fh:close() end
    return file, 1
  end
  local best, bestd, n = nil, math.huge, 0
  for line in fh:lines() do
    n = n + 1
    if line:find(first, 1, true) then
      local d = math.abs(n - info.currentline)
      if d < bestd then best, bestd = n, d end
    end
  end
  fh:close()
  if not best then return file, 1 end
  return file, best - skip
end

-- The compiler flags of a text: the user's cflags, and LT_HAVE_FENTRY for
-- FUNC_PROBE when the (target) kernel takes fentry programs.
function BPF.compile_flags(text, cflags, has_fentry)
  local flags = {}
  for _, f in ipairs(cflags or {}) do flags[#flags + 1] = f end
  if text:find("FUNC_PROBE", 1, true) then
    if has_fentry == nil then has_fentry = core.has_fentry() end
    if has_fentry then flags[#flags + 1] = "-DLT_HAVE_FENTRY" end
  end
  return flags
end

-- Transform and compile a text; opts: file, line, usdt_fns, cflags, debug,
-- target, has_fentry. Returns the object path, whether it was cached, and
-- the csource result.
function BPF.build(text, opts)
  local t = csource.transform(text, { file = opts.file, line = opts.line, usdt_fns = opts.usdt_fns })
  if opts.debug then io.stderr:write(t.source) end
  local path, cached = compile.compile(t.source, {
    cflags = BPF.compile_flags(text, opts.cflags, opts.has_fentry),
    debug = opts.debug, target = opts.target })
  return path, cached, t
end

-- BPF{...}: build, load and auto-attach.
function BPF.new(opts)
  argcheck(opts, "BPF")
  local sources = (opts.text and 1 or 0) + (opts.src_file and 1 or 0) + (opts.obj and 1 or 0)
  if sources ~= 1 then error("BPF: give exactly one of text=, src_file=, obj=", 2) end
  local self = setmetatable({
    _links = {}, _order = {}, _tables = {}, _channels = {}, _event_types = {},
    _debug = opts.debug,
  }, BPF)
  local usdt_fns = {}
  for _, u in ipairs(opts.usdt_contexts or {}) do u:fn_names(usdt_fns) end
  local path, name
  if opts.obj then
    path = require("luatrace.objects").find(opts.obj)
    name = opts.obj
  else
    local text, file, line
    if opts.text then
      text = opts.text
      if opts.origin then
        file, line = opts.origin.file, opts.origin.line
      else
        file, line = text_origin(text)
      end
    else
      local fh, err = io.open(opts.src_file)
      if not fh then error(("BPF: read %s: %s"):format(opts.src_file, err), 2) end
      text = fh:read("*a")
      fh:close()
      file, line = opts.src_file, 1
    end
    local cached, t
    path, cached, t = BPF.build(text, { file = file, line = line, usdt_fns = usdt_fns,
      cflags = opts.cflags, debug = opts.debug })
    self._event_types = t.event_types
    self._cached = cached
    name = file
  end
  local obj = core.open_file(path)
  self._obj, self._path, self._name = obj, path, name
  if opts.programs then
    -- load (and so attach) only these programs of the object
    local want = {}
    for _, p in ipairs(opts.programs) do want[p] = true end
    for _, p in ipairs(obj:programs()) do
      if not want[p.name] then obj:set_autoload(p.name, false) end
      want[p.name] = nil
    end
    local missing = next(want)
    if missing then
      obj:close()
      error(("BPF: no program %s in %s"):format(missing, name), 2)
    end
    self._only = {}
    for _, p in ipairs(opts.programs) do self._only[p] = true end
  end
  for k, v in pairs(opts.globals or {}) do obj:set_global(k, v) end
  obj:load()
  for _, u in ipairs(opts.usdt_contexts or {}) do
    for i, l in ipairs(u:attach(obj)) do
      self:_register("usdt:" .. tostring(u) .. ":" .. i, "usdt", l, "")
    end
  end
  self:_auto_attach()
  if BPF.on_new then BPF.on_new(self, opts) end -- the console's session list
  return self
end

-- Links are registered as "kind:target:program", so several programs may
-- attach to one event; detaching by target closes them all, or only one
-- program's with fn_name=.
function BPF:_register(key, kind, link, fn)
  key = key .. ":" .. (fn or "")
  if self._links[key] then
    link:close()
    error(("attach %s: already attached"):format(key), 3)
  end
  self._links[key] = { link = link, kind = kind }
  self._order[#self._order + 1] = key
  return link
end

function BPF:_unregister(target, method, fn)
  local n = 0
  for _, key in ipairs(self._order) do
    local l = self._links[key]
    if l and key:sub(1, #target + 1) == target .. ":"
        and (not fn or key:sub(#target + 2) == fn) then
      l.link:close()
      self._links[key] = nil
      n = n + 1
    end
  end
  if n == 0 then error(("%s: %s is not attached"):format(method, target), 3) end
end

-- Attach a program by its name or section, like BCC's auto-attach.
function BPF:_auto_attach()
  local obj = self._obj
  for _, p in ipairs(obj:programs()) do
    if self._only and not self._only[p.name] then goto continue end
    local sec, fn = p.section, p.name
    local a, b = sec:match("^tracepoint/([^/]+)/(.+)$")
    if not a then a, b = sec:match("^tp/([^/]+)/(.+)$") end
    if a then
      self:_register("tracepoint:" .. a .. ":" .. b, "tracepoint",
        core.attach_tracepoint(obj, fn, a, b), fn)
    else
      local target = sec:match("^raw_tracepoint/(.+)$") or sec:match("^raw_tp/(.+)$")
      if target then
        self:_register("raw_tracepoint:" .. target, "raw_tracepoint",
          core.attach_raw_tracepoint(obj, fn, target), fn)
      elseif sec:match("^tp_btf/.") or sec:match("^fentry/.") or sec:match("^fexit/.")
          or sec:match("^fmod_ret/.") then
        local kind = sec:match("^([%w_]+)/")
        self:_register(sec, kind == "tp_btf" and "raw_tracepoint" or "kfunc",
          core.attach_trace(obj, fn), fn)
      elseif sec:match("^u[r]?e?t?probe/.") then
        -- libbpf's uprobe/BINARY:FUNC[+OFFSET]
        local ret, bin, func = sec:match("^u(r?e?t?)probe/(.+):([^:]+)$")
        if bin then
          local fname, off = func:match("^(.-)%+(%d+)$")
          self:_register(sec, ret == "ret" and "uretprobe" or "uprobe",
            core.attach_uprobe(obj, fn, bin, { sym = fname or func,
              offset = tonumber(off) or 0, retprobe = ret == "ret" }), fn)
        end
      elseif sec:match("^usdt/.") then
        local bin, prov, nm = sec:match("^usdt/(.+):([^:]+):([^:]+)$")
        if bin then
          self:_register(sec, "usdt", core.attach_usdt(obj, fn, bin, prov, nm), fn)
        end
      else
        local ret, func = sec:match("^k(r?e?t?)probe/(.+)$")
        if func and (ret == "" or ret == "ret") then
          local event, off = func:match("^(.-)%+(%d+)$")
          self:_register((ret == "" and "kprobe:" or "kretprobe:") .. func,
            ret == "" and "kprobe" or "kretprobe",
            core.attach_kprobe(obj, fn, event or func,
              { retprobe = ret == "ret", offset = tonumber(off) or 0 }), fn)
        end
      end
    end
  ::continue::
  end
end

-- ---- attach/detach, BCC names and named arguments ----

local function attach_k(self, o, ret, method)
  argcheck(o, method)
  local event = need(o, "event", method)
  local fn = need(o, "fn_name", method)
  local kind = ret and "kretprobe" or "kprobe"
  return self:_register(kind .. ":" .. event, kind,
    core.attach_kprobe(self._obj, fn, event, { retprobe = ret, offset = not ret and o.event_off or nil }), fn)
end

function methods:attach_kprobe(o) return attach_k(self, o, false, "attach_kprobe") end
function methods:attach_kretprobe(o) return attach_k(self, o, true, "attach_kretprobe") end

function methods:detach_kprobe(o)
  argcheck(o, "detach_kprobe")
  self:_unregister("kprobe:" .. need(o, "event", "detach_kprobe"), "detach_kprobe", o.fn_name)
end

function methods:detach_kretprobe(o)
  argcheck(o, "detach_kretprobe")
  self:_unregister("kretprobe:" .. need(o, "event", "detach_kretprobe"), "detach_kretprobe", o.fn_name)
end

local function split_tp(tp, method)
  local cat, ev = tostring(tp):match("^([^:]+):([^:]+)$")
  if not cat then error(("%s: tp must be \"category:event\", got %q"):format(method, tostring(tp)), 3) end
  return cat, ev
end

function methods:attach_tracepoint(o)
  argcheck(o, "attach_tracepoint")
  local tp = need(o, "tp", "attach_tracepoint")
  local cat, ev = split_tp(tp, "attach_tracepoint")
  local fn = need(o, "fn_name", "attach_tracepoint")
  return self:_register("tracepoint:" .. tp, "tracepoint",
    core.attach_tracepoint(self._obj, fn, cat, ev), fn)
end

function methods:detach_tracepoint(o)
  argcheck(o, "detach_tracepoint")
  self:_unregister("tracepoint:" .. need(o, "tp", "detach_tracepoint"), "detach_tracepoint", o.fn_name)
end

function methods:attach_raw_tracepoint(o)
  argcheck(o, "attach_raw_tracepoint")
  local tp = need(o, "tp", "attach_raw_tracepoint")
  local fn = need(o, "fn_name", "attach_raw_tracepoint")
  return self:_register("raw_tracepoint:" .. tp, "raw_tracepoint",
    core.attach_raw_tracepoint(self._obj, fn, tp), fn)
end

function methods:detach_raw_tracepoint(o)
  argcheck(o, "detach_raw_tracepoint")
  self:_unregister("raw_tracepoint:" .. need(o, "tp", "detach_raw_tracepoint"), "detach_raw_tracepoint", o.fn_name)
end

local function uprobe_key(o, ret)
  return ("%s:%s:%s:%s"):format(ret and "uretprobe" or "uprobe", o.name,
    o.sym or ("0x%x"):format(o.addr or 0), o.pid or -1)
end

local function attach_u(self, o, ret, method)
  argcheck(o, method)
  local name = need(o, "name", method)
  local fn = need(o, "fn_name", method)
  if not o.sym and not o.addr then error(method .. ": give sym= or addr=", 3) end
  local off = o.addr or 0
  if o.sym and o.sym_off then
    error(method .. ": sym_off is not supported; give addr= (a file offset)", 3)
  end
  return self:_register(uprobe_key(o, ret), ret and "uretprobe" or "uprobe",
    core.attach_uprobe(self._obj, fn, name,
      { sym = o.sym, offset = off, pid = o.pid or -1, retprobe = ret }), fn)
end

function methods:attach_uprobe(o) return attach_u(self, o, false, "attach_uprobe") end
function methods:attach_uretprobe(o) return attach_u(self, o, true, "attach_uretprobe") end
function methods:detach_uprobe(o)
  argcheck(o, "detach_uprobe")
  self:_unregister(uprobe_key(o, false), "detach_uprobe", o.fn_name)
end
function methods:detach_uretprobe(o)
  argcheck(o, "detach_uretprobe")
  self:_unregister(uprobe_key(o, true), "detach_uretprobe", o.fn_name)
end

function methods:attach_perf_event(o)
  argcheck(o, "attach_perf_event")
  local t, c = need(o, "ev_type", "attach_perf_event"), need(o, "ev_config", "attach_perf_event")
  local key = ("perf_event:%d:%d"):format(t, c)
  local fn = need(o, "fn_name", "attach_perf_event")
  return self:_register(key, "perf_event", core.attach_perf_event(self._obj, fn, {
      type = t, config = c, period = o.sample_period, freq = o.sample_freq,
      pid = o.pid, cpu = o.cpu }), fn)
end

function methods:detach_perf_event(o)
  argcheck(o, "detach_perf_event")
  self:_unregister(("perf_event:%d:%d"):format(need(o, "ev_type", "detach_perf_event"),
    need(o, "ev_config", "detach_perf_event")), "detach_perf_event", o.fn_name)
end

-- fentry/fexit: the target comes from the program's section
-- (kfunc__X / KFUNC_PROBE(X) -> fentry/X); auto-attach already did it,
-- these attach a program that was detached or named explicitly.
local function attach_kfunc(self, o, method)
  argcheck(o, method)
  local fn = need(o, "fn_name", method)
  for _, p in ipairs(self._obj:programs()) do
    if p.name == fn then
      local l = self._links[p.section .. ":" .. fn]
      if l then return l.link end
      return self:_register(p.section, "kfunc", core.attach_trace(self._obj, fn), fn)
    end
  end
  error(("%s: no program %s"):format(method, fn), 3)
end
function methods:attach_kfunc(o) return attach_kfunc(self, o, "attach_kfunc") end
function methods:attach_kretfunc(o) return attach_kfunc(self, o, "attach_kretfunc") end

local function detach_kfunc(self, o, method)
  argcheck(o, method)
  local fn = need(o, "fn_name", method)
  for _, p in ipairs(self._obj:programs()) do
    if p.name == fn then return self:_unregister(p.section, method, fn) end
  end
  error(("%s: no program %s"):format(method, fn), 3)
end
function methods:detach_kfunc(o) return detach_kfunc(self, o, "detach_kfunc") end
function methods:detach_kretfunc(o) return detach_kfunc(self, o, "detach_kretfunc") end

local function count(self, kinds)
  local n = 0
  for _, l in pairs(self._links) do
    if kinds[l.kind] then n = n + l.link:count() end
  end
  return n
end
function methods:num_open_kprobes() return count(self, { kprobe = true, kretprobe = true }) end
function methods:num_open_uprobes() return count(self, { uprobe = true, uretprobe = true, usdt = true }) end
function methods:num_open_tracepoints() return count(self, { tracepoint = true, raw_tracepoint = true }) end

-- ---- tables ----

function methods:get_table(name)
  local t = self._tables[name]
  if t then return t end
  local ok, map = pcall(self._obj.map, self._obj, name)
  if not ok then
    local names = {}
    for _, m in ipairs(self._obj:maps()) do
      if not m.internal then names[#names + 1] = m.name end
    end
    error(("get_table %s: no such map (maps: %s)"):format(name, table.concat(names, ", ")), 2)
  end
  t = Table.new(self, self._obj, name, map)
  self._tables[name] = t
  return t
end

-- ---- events ----

function methods:_event_ptr(name, explicit)
  local ty = explicit or self._event_types[name]
  if not ty then return nil end
  return types.ptr(self._obj, ty)
end

-- Channels are polled by kind: ring_buffer_poll and perf_buffer_poll, or
-- both with poll(). Losses go to lost_cb(count) or a warning on stderr.
function methods:_open_channel(name, kind, cb, opts)
  if type(cb) ~= "function" then
    error(("open_%s_buffer %s: a callback function is needed"):format(kind, name), 3)
  end
  if self._channels[name] then
    error(("open_%s_buffer %s: already open"):format(kind, name), 3)
  end
  local map = self._obj:map(name)
  local chan
  if kind == "ring" then
    local lost_map
    local lost_name = name .. "__lost"
    for _, m in ipairs(self._obj:maps()) do
      if m.name == lost_name then lost_map = self._obj:map(lost_name) end
    end
    chan = core.ring_buffer(map, { lost_map = lost_map })
  else
    chan = core.perf_buffer(map, opts.page_cnt or 64)
  end
  local ptr = self:_event_ptr(name, opts.type)
  local c = { name = name, kind = kind, chan = chan, cb = cb, ptr = ptr,
              lost_cb = opts.lost_cb, lost_seen = 0 }
  self._channels[name] = c
  local poller_key = kind == "ring" and "_ring_poller" or "_perf_poller"
  self[poller_key] = self[poller_key] or core.poller()
  self[poller_key]:add(chan)
  self._all_poller = self._all_poller or core.poller()
  self._all_poller:add(chan)
  return chan
end

local function check_lost(c)
  local lost = c.chan:lost()
  if lost > c.lost_seen then
    local n = lost - c.lost_seen
    c.lost_seen = lost
    if c.lost_cb then c.lost_cb(n)
    else io.stderr:write(("luatrace: lost %d events on %s buffer %s\n"):format(n, c.kind, c.name)) end
  end
end

-- Drain channels of `kind` (nil: all) into their callbacks. A Lua error in
-- a callback stops everything: the program is detached and the error
-- raised as the script's.
function methods:_drain(kind)
  local total = 0
  local ok, err = pcall(function()
    for _, c in pairs(self._channels) do
      if not kind or c.kind == kind then
        total = total + events.drain_all(c.chan, c.ptr, c.cb)
        check_lost(c)
      end
    end
  end)
  if not ok then
    self:cleanup()
    error(err, 0)
  end
  return total
end

local function poll(self, poller_key, kind, timeout)
  local p = self[poller_key]
  if not p then error("poll: no buffer is open (open_ring_buffer / open_perf_buffer)", 3) end
  local ready = p:wait(timeout or -1)
  if ready == false then
    self:_drain(kind) -- what arrived before the signal still counts
    return false
  end
  return self:_drain(kind)
end

-- Each returns the number of events handled, or false once SIGINT/SIGTERM
-- asked the script to stop: `while b:ring_buffer_poll(100) do end`.
function methods:ring_buffer_poll(timeout) return poll(self, "_ring_poller", "ring", timeout) end
function methods:perf_buffer_poll(timeout) return poll(self, "_perf_poller", "perf", timeout) end
function methods:poll(timeout) return poll(self, "_all_poller", nil, timeout) end
function methods:ring_buffer_consume() return self:_drain("ring") end
function methods:perf_buffer_consume() return self:_drain("perf") end

-- ---- trace_pipe ----

local function trace_pipe(self)
  self._trace_pipe = self._trace_pipe or core.trace_pipe()
  return self._trace_pipe
end

-- Fields of one trace_pipe line: task, pid, cpu, flags, ts, msg.
function BPF.parse_trace_line(line)
  local task, pid, cpu, flags, ts, msg =
    line:match("^%s*(.-)%-(%d+)%s+%[(%d+)%]%s+(%S+)%s+([%d%.]+):%s*(.*)$")
  if not task then
    -- some kernels add a "(tgid)" column after the pid
    task, pid, cpu, flags, ts, msg =
      line:match("^%s*(.-)%-(%d+)%s+%(%s*[%d%-]+%)%s+%[(%d+)%]%s+(%S+)%s+([%d%.]+):%s*(.*)$")
  end
  if not task then return nil end
  msg = msg:gsub("^bpf_trace_printk:%s?", "")
  return task, tonumber(pid), tonumber(cpu), flags, tonumber(ts), msg
end

-- trace_fields{nonblocking=, timeout=}: the next line's fields, nil when
-- none came (nonblocking or timeout), false when interrupted.
function methods:trace_fields(o)
  o = o or {}
  local tp = trace_pipe(self)
  while true do
    local line = tp:read(o.nonblocking and 0 or (o.timeout or -1))
    if not line then return line end
    local task, pid, cpu, flags, ts, msg = BPF.parse_trace_line(line)
    if task then return task, pid, cpu, flags, ts, msg end
  end
end

-- trace_print{fmt="{1} {5}"}: print trace_pipe lines until interrupted
-- (fields {0}..{5}: task, pid, cpu, flags, ts, msg); with no fmt, raw lines.
function methods:trace_print(o)
  o = o or {}
  local tp = trace_pipe(self)
  local write = o.write or function(s) io.stdout:write(s, "\n"); io.stdout:flush() end
  while true do
    local line = tp:read(o.timeout or -1)
    if line == false or (line == nil and o.timeout) then return line end
    if o.fmt then
      local f = { BPF.parse_trace_line(line) }
      if f[1] then
        write((o.fmt:gsub("{(%d)}", function(i) return tostring(f[tonumber(i) + 1]) end)))
      end
    else
      write(line)
    end
  end
end

-- ---- lifetime ----

-- Detach everything, close channels and the object. Idempotent.
function methods:cleanup()
  for _, key in ipairs(self._order) do
    local l = self._links[key]
    if l then l.link:close() end
  end
  self._links, self._order = {}, {}
  for _, c in pairs(self._channels) do c.chan:close() end
  self._channels = {}
  for _, k in ipairs({ "_ring_poller", "_perf_poller", "_all_poller", "_trace_pipe" }) do
    if self[k] then self[k]:close(); self[k] = nil end
  end
  self._tables = {}
  if self._obj then self._obj:close() end
end
methods.close = methods.cleanup

function methods:object() return self._obj end
function methods:cached() return self._cached end

-- b["name"] is b:get_table("name"); methods win over map names.
BPF.__index = function(self, k)
  local m = methods[k] or rawget(BPF, k)
  if m ~= nil then return m end
  if type(k) == "string" and k:sub(1, 1) ~= "_" then return methods.get_table(self, k) end
  return nil
end

-- ---- static helpers (BPF.ksym, ...) ----

function BPF.ksym(addr, show_module, show_offset)
  local name, off, mod = sym.ksym(addr)
  return sym.format(name, off, mod, { show_module = show_module, show_offset = show_offset })
end

function BPF.ksymname(name)
  return sym.ksymname(name) or -1
end

function BPF.sym(addr, pid, opts)
  local name, off, mod = sym.usym(addr, pid)
  return sym.format(name, off, mod, opts)
end

function BPF.find_library(name) return core.find_library(name) end
function BPF.tracepoint_exists(cat, ev) return core.tracepoint_exists(cat, ev) end
function BPF.support_kfunc() return core.has_fentry() end

-- The kernel function behind a syscall, for kprobes: __x64_sys_openat on
-- x86_64 kernels with syscall wrappers, sys_openat on older ones.
function BPF.get_syscall_fnname(name)
  for _, prefix in ipairs({ "__x64_sys_", "__arm64_sys_", "__s390x_sys_", "sys_" }) do
    if core.ksym_addr(prefix .. name) then return prefix .. name end
  end
  return "sys_" .. name
end

return setmetatable(BPF, {
  __call = function(_, opts) return BPF.new(opts) end,
})
