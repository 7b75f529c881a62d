-- luatrace.probekinds: every probe kind luatrace knows, as data.
--
-- One entry per kind; the rest of the library is generated from this list:
-- csource's section planning (BCC names and context types -> SEC()),
-- BPF's auto-attach (SEC() -> attach call), the attach_*/detach_* methods
-- and num_open_* (lua/luatrace/bpf/attach.lua), and the names front ends
-- use (bpftrace probe specs, -l listings). Adding a probe kind is one entry
-- here plus its attach binding in host/link.c.
--
-- Fields of an entry (only `name` is always present):
--   name       the kind; links register as "name:target:program"
--   method     attach_<method> / detach_<method> exist on BPF objects
--   args       the named arguments of attach_<method>, in order:
--              { name, type ("string", "number", "integer", "boolean",
--                "pid", "cpu": see luatrace.bpf.args), required };
--              fn_name is always required
--   validate   function(o) -> an error text for named arguments that
--              pass the type checks but cannot work, or nil
--   target     function(o) -> the registry target of named arguments o
--   from_program  the target is in the program's section (fentry/fexit):
--              attach_<method> takes only fn_name
--   attach     function(obj, fn, o) -> link: the core attach call
--   sec        the SEC() prefix csource writes (SEC("kprobe/vfs_read"))
--   sections   section prefixes auto-attach accepts (libbpf spellings);
--              the first is the canonical one
--   parse      function(rest) -> named arguments from a section's
--              remainder after "prefix/" (nil: nothing to auto-attach)
--   bcc        BCC function-name prefix (kprobe__vfs_read)
--   bcc_target function(rest) -> the section remainder for a BCC name
--   typed      how BCC's typed arguments after ctx are written:
--              "BPF_KPROBE" (pt_regs programs) or "BPF_PROG" (fentry)
--   ctx        the context type whose first parameter types a function
--              without a name rule (struct pt_regs * -> kprobe)
--   prog_type  libbpf's program type name (obj:programs()[i].type)
--   count      the num_open_<count>() class
--   bpftrace   probe-spec names bpftrace uses, long first, short last
--   via        kinds that attach through another kind's method (bpftrace's
--              profile/interval/software/hardware are perf events)
--
-- The order matters for lookups: the first entry whose section prefix or
-- BCC prefix matches wins (kretprobe before kprobe, etc. where needed).
local core = require "luatrace.core"
local syms = require "luatrace.sym"

local M = {}

-- A BCC-style `int f(void *ctx)`: a program whose type only its attach
-- call gives (attach_tracepoint, attach_kprobe, ...). csource gives it
-- this section (unknown to libbpf, so not loaded with the object) and BPF
-- loads it lazily with the attach call's type (lua/luatrace/bpf/attach.lua).
M.LAZY_SECTION = "lt_lazy"

local function str(v) return v end

-- "uprobe/BIN:FUNC[+OFF]" remainders (libbpf's form): named arguments.
local function parse_uprobe(rest)
  local bin, func = rest:match("^(.+):([^:]+)$")
  if not bin then return nil end
  local sym, off = func:match("^(.-)%+(%d+)$")
  return { name = bin, sym = sym or func, sym_off = tonumber(off) }
end

local function uprobe_validate(o)
  if not o.sym and not o.addr then return "give sym= or addr=" end
  if o.sym_off then return "sym_off is not supported; give addr= (a file offset)" end
end

local function uprobe_target(o)
  return ("%s:%s:%s"):format(o.name, o.sym or ("0x%x"):format(o.addr or 0), o.pid or -1)
end

-- The request core.attach_uprobe(s) takes: {obj, fn, binary, sym=, ...}.
local function uprobe_request(ret)
  return function(obj, fn, o)
    -- a GNU IFUNC (glibc's strlen...): the implementation it resolves to
    local at = o.sym and not o.sym_off and syms.ifunc_offset(o.name, o.sym, o.pid)
    -- (placed here, from the symbol table the IFUNC check has read: the
    -- threads of core.attach_uprobes then only ask the kernel)
    local placed = o.sym and not at and not o.sym_off and syms.func_offset(o.name, o.sym, o.pid) or nil
    return { obj, fn, o.name, sym = not at and o.sym or nil, sym_offset = placed,
      offset = at or o.addr or o.sym_off or 0, pid = o.pid or -1, retprobe = ret, cookie = o.cookie }
  end
end

local function uprobe_attach(ret)
  local request = uprobe_request(ret)
  return function(obj, fn, o)
    local r = request(obj, fn, o)
    return core.attach_uprobe(r[1], r[2], r[3], r)
  end
end

local function kprobe_parse(rest)
  local event, off = rest:match("^(.-)%+(%d+)$")
  return { event = event or rest, event_off = tonumber(off) }
end

local function kprobe_attach(ret)
  return function(obj, fn, o)
    return core.attach_kprobe(obj, fn, o.event,
      { retprobe = ret, offset = not ret and o.event_off or nil, cookie = o.cookie })
  end
end

-- fentry/fexit/tp_btf: the target is fixed at load from the section.
local function trace_attach(obj, fn) return core.attach_trace(obj, fn) end
local function func_parse(rest) return { func = rest } end
local function func_target(o) return o.func end

M.list = {
  { name = "tracepoint", method = "tracepoint",
    args = { { "tp", "string", true }, { "cookie", "integer" } },
    validate = function(o)
      if not o.tp:match("^[^:]+:[^:]+$") then
        return ('tp must be "category:event", got %q'):format(o.tp)
      end
    end,
    target = function(o) return o.tp end,
    attach = function(obj, fn, o)
      local cat, ev = o.tp:match("^([^:]+):([^:]+)$")
      return core.attach_tracepoint(obj, fn, cat, ev, { cookie = o.cookie })
    end,
    sec = "tracepoint", sections = { "tracepoint", "tp" },
    parse = function(rest)
      local cat, ev = rest:match("^([^/]+)/(.+)$")
      return cat and { tp = cat .. ":" .. ev } or nil
    end,
    bcc = "tracepoint__",
    bcc_target = function(rest)
      local cat, ev = rest:match("^([%w_]-)__([%w_]+)$")
      return cat and (cat .. "/" .. ev) or nil
    end,
    ctx = "struct tracepoint__", prog_type = "tracepoint",
    count = "tracepoints", bpftrace = { "tracepoint", "t" } },

  { name = "raw_tracepoint", method = "raw_tracepoint",
    args = { { "tp", "string", true } },
    target = function(o) return o.tp end,
    attach = function(obj, fn, o) return core.attach_raw_tracepoint(obj, fn, o.tp) end,
    sec = "raw_tracepoint", sections = { "raw_tracepoint", "raw_tp" },
    parse = function(rest) return { tp = rest } end,
    bcc = "raw_tracepoint__", bcc_target = str,
    ctx = "struct bpf_raw_tracepoint_args", prog_type = "raw_tracepoint",
    count = "tracepoints", bpftrace = { "rawtracepoint", "rt" } },

  -- BTF-typed raw tracepoints (RAW_TRACEPOINT_PROBE in the prelude).
  { name = "tp_btf", target = func_target, attach = trace_attach,
    sec = "tp_btf", sections = { "tp_btf" }, parse = func_parse,
    prog_type = "tracing", count = "tracepoints" },

  { name = "kretprobe", method = "kretprobe",
    args = { { "event", "string", true }, { "cookie", "integer" } },
    target = function(o) return o.event end,
    attach = kprobe_attach(true),
    sec = "kretprobe", sections = { "kretprobe" }, parse = kprobe_parse,
    bcc = "kretprobe__", bcc_target = str,
    prog_type = "kprobe", count = "kprobes", bpftrace = { "kretprobe", "kr" } },

  { name = "kprobe", method = "kprobe",
    args = { { "event", "string", true }, { "event_off", "integer" }, { "cookie", "integer" } },
    target = function(o) return o.event end,
    attach = kprobe_attach(false),
    sec = "kprobe", sections = { "kprobe" }, parse = kprobe_parse,
    bcc = "kprobe__", bcc_target = str, typed = "BPF_KPROBE",
    ctx = "struct pt_regs", prog_type = "kprobe",
    count = "kprobes", bpftrace = { "kprobe", "k" } },

  { name = "kretfunc", method = "kretfunc", args = {}, from_program = true,
    target = func_target, attach = trace_attach,
    sec = "fexit", sections = { "fexit" }, parse = func_parse,
    bcc = "kretfunc__", bcc_target = str, typed = "BPF_PROG",
    prog_type = "tracing", bpftrace = { "kretfunc", "fexit", "fr" } },

  { name = "kfunc", method = "kfunc", args = {}, from_program = true,
    target = func_target, attach = trace_attach,
    sec = "fentry", sections = { "fentry", "fmod_ret" }, parse = func_parse,
    bcc = "kfunc__", bcc_target = str, typed = "BPF_PROG",
    prog_type = "tracing", bpftrace = { "kfunc", "fentry", "f" } },

  { name = "uretprobe", method = "uretprobe",
    args = { { "name", "string", true }, { "sym", "string" }, { "addr", "integer" },
             { "pid", "pid" }, { "cookie", "integer" } },
    validate = uprobe_validate, target = uprobe_target, attach = uprobe_attach(true),
    request = uprobe_request(true), -- (attached together by b:attach_uprobes)
    sec = "uretprobe", sections = { "uretprobe" }, parse = parse_uprobe,
    prog_type = "kprobe", count = "uprobes", bpftrace = { "uretprobe", "ur" } },

  { name = "uprobe", method = "uprobe",
    args = { { "name", "string", true }, { "sym", "string" }, { "addr", "integer" },
             { "pid", "pid" }, { "cookie", "integer" } },
    validate = uprobe_validate, target = uprobe_target, attach = uprobe_attach(false),
    request = uprobe_request(false),
    sec = "uprobe", sections = { "uprobe" }, parse = parse_uprobe,
    prog_type = "kprobe", count = "uprobes", bpftrace = { "uprobe", "u" } },

  -- USDT: usdt_contexts attach these (lua/luatrace/usdt.lua); a full
  -- "usdt/BIN:PROVIDER:NAME" section auto-attaches.
  { name = "usdt", target = function(o) return o.path .. ":" .. o.provider .. ":" .. o.probe end,
    attach = function(obj, fn, o) return core.attach_usdt(obj, fn, o.path, o.provider, o.probe) end,
    sec = "usdt", sections = { "usdt" },
    parse = function(rest)
      local bin, prov, nm = rest:match("^(.+):([^:]+):([^:]+)$")
      return bin and { path = bin, provider = prov, probe = nm } or nil
    end,
    prog_type = "kprobe", count = "uprobes", bpftrace = { "usdt", "U" } },

  { name = "perf_event", method = "perf_event",
    args = { { "ev_type", "integer", true }, { "ev_config", "integer", true },
             { "sample_period", "integer" }, { "sample_freq", "integer" },
             { "pid", "pid" }, { "cpu", "cpu" } },
    target = function(o) return ("%d:%d"):format(o.ev_type, o.ev_config) end,
    attach = function(obj, fn, o)
      return core.attach_perf_event(obj, fn, { type = o.ev_type, config = o.ev_config,
        period = o.sample_period, freq = o.sample_freq, pid = o.pid, cpu = o.cpu })
    end,
    sec = "perf_event", sections = {},
    ctx = "struct bpf_perf_event_data", prog_type = "perf_event" },

  -- bpftrace's perf-event providers: programs of perf_event's type.
  { name = "profile", via = "perf_event", prog_type = "perf_event", bpftrace = { "profile", "p" } },
  { name = "interval", via = "perf_event", prog_type = "perf_event", bpftrace = { "interval", "i" } },
  { name = "software", via = "perf_event", prog_type = "perf_event", bpftrace = { "software", "s" } },
  { name = "hardware", via = "perf_event", prog_type = "perf_event", bpftrace = { "hardware", "h" } },
}

-- Lookups, built once.
M.by_name, M.by_method, M.by_bpftrace = {}, {}, {}
for _, k in ipairs(M.list) do
  M.by_name[k.name] = k
  if k.method then M.by_method[k.method] = k end
  for _, n in ipairs(k.bpftrace or {}) do M.by_bpftrace[n] = k end
end

-- The kind of a section string and its named arguments (nil when no kind
-- matches or the section names no target: SEC("kprobe") alone).
function M.from_section(sec)
  for _, k in ipairs(M.list) do
    for _, prefix in ipairs(k.sections or {}) do
      local rest = sec:match("^" .. prefix:gsub("_", "%%_") .. "/(.+)$")
      if rest then
        local o = k.parse(rest)
        if o then return k, o end
      end
    end
  end
  return nil
end

-- The kind and section of a BCC function name (kprobe__vfs_read ->
-- kprobe, "kprobe/vfs_read"), or nil.
function M.from_bcc_name(fname)
  for _, k in ipairs(M.list) do
    if k.bcc and fname:sub(1, #k.bcc) == k.bcc then
      local rest = k.bcc_target(fname:sub(#k.bcc + 1))
      if rest and rest ~= "" then return k, k.sec .. "/" .. rest end
    end
  end
  return nil
end

-- The kind a context parameter type gives ("struct pt_regs *ctx" ->
-- kprobe), or nil.
function M.from_ctx(param)
  if not param then return nil end
  local compact = param:gsub("%s+", " ")
  for _, k in ipairs(M.list) do
    if k.ctx and compact:sub(1, #k.ctx) == k.ctx then
      -- "struct tracepoint__" is a prefix of the args struct's name
      local rest = compact:sub(#k.ctx + 1)
      if rest:match(k.ctx:sub(-2) == "__" and "^[%w_]+ ?%*" or "^ ?%*") then return k end
    end
  end
  return nil
end

-- The count classes in use: { kprobes = {kprobe=true, ...}, ... }.
function M.count_classes()
  local out = {}
  for _, k in ipairs(M.list) do
    if k.count then
      out[k.count] = out[k.count] or {}
      out[k.count][k.name] = true
    end
  end
  return out
end

return M
