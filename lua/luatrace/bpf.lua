-- luatrace.bpf: BCC's BPF class in Lua form.
--
--   local b = BPF{text = [[ ...C... ]]}   -- or src_file=, or obj= (AOT)
--   b:attach_kprobe{event = "vfs_read", fn_name = "on_read"}
--   b["counts"]:print_log2_hist("usecs")
--
-- This file is the class: the constructor (source -> object -> load ->
-- attach, with one cleanup path when any step fails), method lookup, and
-- the object's lifetime. The seams live under luatrace.bpf.*: source
-- (text/src_file to an object file), attach (probes, generated from
-- luatrace.probekinds), channels (ring/perf buffers, polling), tracepipe
-- (trace_print/trace_fields) and tables (b["map"]).
local core = require "luatrace.core"
local sym = require "luatrace.sym"
local args = require "luatrace.bpf.args"
local source = require "luatrace.bpf.source"
local attach = require "luatrace.bpf.attach"
local channels = require "luatrace.bpf.channels"
local tracepipe = require "luatrace.bpf.tracepipe"
local tables = require "luatrace.bpf.tables"
local features = require "luatrace.bpf.features"

local BPF = {}
local methods = {}
for _, seam in ipairs({ attach, tracepipe, tables }) do
  for k, f in pairs(seam.methods) do methods[k] = f end
end

BPF.compile_flags = source.compile_flags
BPF.build = source.build
BPF.parse_trace_line = tracepipe.parse_trace_line

-- What BPF{} takes, checked before anything is opened.
local OPTIONS = {
  { "text", "string" }, { "src_file", "string" }, { "obj", "string" },
  { "cflags", "list" }, { "globals", "table" }, { "programs", "list" },
  { "usdt_contexts", "list" }, { "origin", "table" }, { "attach_targets", "table" },
  { "max_entries", "table" }, { "value_size", "table" }, { "map_flags", "table" },
  { "vmlinux", "string" },
}

local function check_options(opts)
  args.check("BPF", opts, OPTIONS)
  local sources = (opts.text and 1 or 0) + (opts.src_file and 1 or 0) + (opts.obj and 1 or 0)
  if sources ~= 1 then args.raise("BPF: give exactly one of text=, src_file=, obj=") end
  if opts.vmlinux and opts.vmlinux ~= "full" and opts.vmlinux ~= "lite" then
    args.raisef("BPF: vmlinux must be \"full\" or \"lite\", got %q", opts.vmlinux)
  end
  for i, f in ipairs(opts.cflags or {}) do
    if type(f) ~= "string" then args.raisef("BPF: cflags[%d] must be a string, got %s", i, type(f)) end
  end
  for i, p in ipairs(opts.programs or {}) do
    if type(p) ~= "string" then args.raisef("BPF: programs[%d] must be a string, got %s", i, type(p)) end
  end
  for k, v in pairs(opts.attach_targets or {}) do
    if type(k) ~= "string" or type(v) ~= "string" then
      args.raisef("BPF: attach_targets maps program names to kernel function names, got %s = %s", type(k), type(v))
    end
  end
  for _, o in ipairs({ "max_entries", "value_size", "map_flags" }) do
    for k, v in pairs(opts[o] or {}) do
      if type(k) ~= "string" or type(v) ~= "number" then
        args.raisef("BPF: %s maps map names to %s, got %s = %s", o, o == "map_flags" and "flags" or "sizes",
          type(k), type(v))
      end
    end
  end
  for k, v in pairs(opts.globals or {}) do
    local t = type(v)
    if type(k) ~= "string" then args.raisef("BPF: globals keys must be names, got %s", type(k)) end
    if t ~= "number" and t ~= "boolean" and t ~= "string" then
      args.raisef("BPF: globals.%s must be a number, boolean or string, got %s", k, t)
    end
  end
end

-- The object file for opts and what the source step learnt.
local function object_file(self, opts, usdt_fns)
  if opts.obj then
    return require("luatrace.objects").find(opts.obj), opts.obj
  end
  local text, file, line
  if opts.text then
    text = opts.text
    if opts.origin then
      file, line = opts.origin.file, opts.origin.line
    else
      file, line = source.text_origin(text)
    end
  else
    local fh, err = io.open(opts.src_file)
    if not fh then args.raisef("BPF: read %s: %s", opts.src_file, err) end
    text = fh:read("*a")
    fh:close()
    file, line = opts.src_file, 1
  end
  local path, cached, t, bytes = source.build(text, { file = file, line = line, usdt_fns = usdt_fns,
    cflags = opts.cflags, debug = opts.debug, vmlinux = opts.vmlinux })
  self._event_types = t.event_types
  self._cached = cached
  -- a compiled object: the bytes read through the cache's checked fd
  self._bytes = bytes
  return path, file
end

-- Open, set globals, load, attach. Everything it opened is in self, so
-- one cleanup() undoes a failure at any step.
local function start(self, opts, usdt_fns)
  -- (the bytes stay: a lazily typed program opens its own instance of them)
  local obj, btf_done = source.open(self._bytes, self._path, self._name)
  self._obj, self._btf_done = obj, btf_done
  if opts.programs then
    -- load (and so attach) only these programs of the object
    local want, n = {}, 0
    for _, p in ipairs(opts.programs) do if not want[p] then want[p], n = true, n + 1 end end
    if obj:set_autoload(want) == n then want = {} end
    for _, p in ipairs(next(want) and obj:programs() or {}) do want[p.name] = nil end
    local missing = next(want)
    if missing then args.raisef("BPF: no program %s in %s", missing, self._name) end
    self._only = {}
    for _, p in ipairs(opts.programs) do self._only[p] = true end
  end
  for k, v in pairs(opts.globals or {}) do obj:set_global(k, v) end
  -- map sizes chosen at run time (--stack-storage-size, ...)
  for k, v in pairs(opts.max_entries or {}) do obj:set_max_entries(k, v) end
  for k, v in pairs(opts.value_size or {}) do obj:set_value_size(k, v) end
  for k, v in pairs(opts.map_flags or {}) do obj:set_map_flags(k, v) end
  -- fentry/fexit targets chosen at run time (SEC("fentry") programs);
  -- auto-attach then attaches them like fentry/FUNC sections
  for prog, func in pairs(opts.attach_targets or {}) do obj:set_attach_target(prog, func) end
  self._targets = opts.attach_targets
  attach.defer_lazy(self)
  features.before_load() -- libbpf's kernel probes answered from the cache
  obj:load()
  features.save()
  btf_done()
  self._chans = channels.new(obj, self._event_types, function() self:cleanup() end)
  for _, u in ipairs(opts.usdt_contexts or {}) do
    for i, l in ipairs(u:attach(obj)) do
      attach.register(self, "usdt", tostring(u) .. ":" .. i, "", l)
    end
  end
  attach.auto_attach(self)
end

-- BPF{...}: build, load and auto-attach. If any step fails, everything
-- opened so far is closed before the error goes on.
function BPF.new(opts)
  check_options(opts)
  local self = setmetatable({ _tables = {}, _event_types = {}, _debug = opts.debug }, BPF)
  attach.init(self)
  local usdt_fns = {}
  for _, u in ipairs(opts.usdt_contexts or {}) do u:fn_names(usdt_fns) end
  self._path, self._name = object_file(self, opts, usdt_fns)
  local ok, err = pcall(start, self, opts, usdt_fns)
  if not ok then
    self:cleanup()
    error(err, 0)
  end
  if BPF.on_new then BPF.on_new(self, opts) end -- the console's session list
  return self
end

-- ---- polling (the channels seam) ----

local function poller(kind, what)
  return function(self, timeout)
    return self._chans:poll(kind, timeout, what)
  end
end

-- Each returns the number of events handled, or false once SIGINT/SIGTERM
-- asked the script to stop: `while b:ring_buffer_poll(100) do end`; a
-- poll after that raises "interrupted" (exit 0, or caught by pcall).
methods.ring_buffer_poll = poller("ring", "ring_buffer_poll")
methods.perf_buffer_poll = poller("perf", "perf_buffer_poll")
methods.poll = poller(nil, "poll")
function methods:ring_buffer_consume() return self._chans:drain("ring") end
function methods:perf_buffer_consume() return self._chans:drain("perf") end
-- For a shared loop (luatrace.loop): the open channels (core objects it
-- adds to its epoll), and the longest it may sleep before draining them
-- (batched wakeups; math.huge when nothing is open).
function methods:open_channels()
  local t = {}
  if self._chans then
    for _, c in pairs(self._chans.list) do t[#t + 1] = c.chan end
  end
  return t, self._chans and self._chans:latency() or math.huge
end

-- ---- lifetime ----

-- Detach everything, close channels and the object. Idempotent.
function methods:cleanup()
  features.save()
  if self._btf_done then self._btf_done() end
  attach.close(self)
  if self._chans then self._chans:close() end
  tracepipe.close(self)
  self._tables = {}
  if self._obj then self._obj:close() end
end
methods.close = methods.cleanup

function methods:object() return self._obj end
function methods:cached() return self._cached end

local method_names = {}
for k in pairs(methods) do method_names[#method_names + 1] = k end
table.sort(method_names)

-- b.method is the method; b["name"] is b:get_table("name") for the
-- object's maps only; anything else names the nearest method or lists the
-- maps.
BPF.__index = function(self, k)
  local m = methods[k] or rawget(BPF, k)
  if m ~= nil then return m end
  if type(k) == "string" and k:sub(1, 1) ~= "_" then return tables.index(self, k, method_names) end
  return nil
end

-- ---- static helpers (BPF.ksym, ...): symbols come from luatrace.sym ----

BPF.ksym = sym.bcc_ksym
BPF.ksymname = sym.bcc_ksymname
BPF.sym = sym.bcc_sym

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
  -- BPF.PerfType, PerfSWConfig, ...: loaded on first use (startup cost)
  __index = function(t, k)
    local v = require("luatrace.perfconst")[k]
    if type(v) ~= "table" then return nil end
    rawset(t, k, v)
    return v
  end,
})
