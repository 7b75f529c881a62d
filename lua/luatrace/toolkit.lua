-- luatrace.toolkit: the tool contract. A tool module returns
-- toolkit.define{...}: its name, a one-line description, its options as
-- data, start(opts, on_event) (a running tool other scripts can read and
-- combine) and, optionally, main(opts, running) for the CLI. The toolkit
-- adds what every tool shares: one option parser (short and long flags,
-- typed values, positionals, defaults), -h/--help, --json, usage errors
-- (one line + usage, exit 2), and a default main that prints each event
-- as text or a JSON line until Ctrl-C or -d/--duration.
--
--   local t = require("luatrace.modules.execsnoop")
--   local running = t.start(t.parse{"-p", "42"}, function(rec) ... end)
--
-- docs/TOOLS.md documents the contract and every tool's fields.
local json = require "luatrace.json"
local loop = require "luatrace.loop"

local M = {}

-- ---- options ----

local function read_pid_max()
  local f = io.open("/proc/sys/kernel/pid_max")
  local n = f and tonumber(f:read("*l"))
  if f then f:close() end
  return n or 4194304
end

-- Value types: each turns the word into a value or returns nil, why.
M.types = {
  number = function(s)
    local v = tonumber(s)
    if not v or v ~= v then return nil, "a number" end
    return v
  end,
  int = function(s)
    local v = tonumber(s)
    if not v or v % 1 ~= 0 or not s:match("^%-?%d+$") then return nil, "a whole number" end
    return v
  end,
  uint = function(s)
    local v = s:match("^%d+$") and tonumber(s)
    if not v then return nil, "a whole number >= 0" end
    return v
  end,
  positive = function(s)
    local v = tonumber(s)
    if not v or v <= 0 then return nil, "a number > 0" end
    return v
  end,
  pid = function(s)
    local v = s:match("^%d+$") and tonumber(s)
    local max = read_pid_max()
    if not v or v < 1 or v >= max then
      return nil, ("a process id (1..%d)"):format(max - 1)
    end
    return v
  end,
  string = function(s) return s end,
}

-- Options every tool may list (BCC's conventions).
M.opt = {
  pid = { "-p", "--pid", type = "pid", help = "trace this PID only" },
  tid = { "-L", "--tid", type = "pid", help = "trace this thread ID only" },
  timestamp = { "-t", "--timestamp", type = "flag", help = "include a timestamp (seconds since start)" },
  time = { "-T", "--time", type = "flag", help = "include a time column (HH:MM:SS)" },
  failed = { "-x", "--failed", type = "flag", help = "only show failed calls" },
  cgroup = { "-c", "--cgroup", type = "string", metavar = "PATH", help = "trace this cgroup (v2 path) only" },
  duration = { "-d", "--duration", type = "positive", metavar = "SECONDS", help = "trace for this many seconds" },
  interval = { "interval", positional = true, type = "positive", help = "output interval, in seconds" },
  count = { "count", positional = true, type = "uint", help = "number of outputs" },
  comm = { "-n", "--name", type = "string", key = "name", metavar = "NAME", help = "only processes whose name contains NAME" },
}

local common = {
  { "--json", type = "flag", help = "print JSON lines (one object per event or interval)" },
  { "-h", "--help", type = "flag", help = "show this help and exit" },
}

local function key_of(o)
  if o.key then return o.key end
  if o.positional then return o[1] end
  for _, f in ipairs(o) do
    if f:sub(1, 2) == "--" then return (f:sub(3):gsub("%-", "_")) end
  end
  return o[1]:sub(2)
end

local function all_options(def)
  local list = {}
  for _, o in ipairs(def.options or {}) do list[#list + 1] = o end
  for _, o in ipairs(common) do list[#list + 1] = o end
  if def.metrics then list[#list + 1] = require("luatrace.metrics").option end
  return list
end

local function metavar(o)
  return o.metavar or (o.type == "pid" and "PID") or key_of(o):upper()
end

function M.usage(def)
  local opts, pos = {}, {}
  for _, o in ipairs(all_options(def)) do
    if o.positional then pos[#pos + 1] = o else opts[#opts + 1] = o end
  end
  local synopsis = { ("usage: luatrace -m %s [options]"):format(def.name) }
  local open = 0
  for _, o in ipairs(pos) do
    if o.required then
      synopsis[#synopsis + 1] = o[1]
    else
      synopsis[#synopsis + 1] = "[" .. o[1]; open = open + 1
    end
  end
  local head = table.concat(synopsis, " ") .. ("]"):rep(open)
  local lines = { head, "", def.description, "" }
  local function row(left, help)
    if #left > 24 then
      lines[#lines + 1] = "  " .. left
      lines[#lines + 1] = (" "):rep(28) .. help
    else
      lines[#lines + 1] = ("  %-26s%s"):format(left, help)
    end
  end
  if #pos > 0 then
    lines[#lines + 1] = "positional arguments:"
    for _, o in ipairs(pos) do row(o[1], o.help or "") end
    lines[#lines + 1] = ""
  end
  lines[#lines + 1] = "options:"
  for _, o in ipairs(opts) do
    local left = table.concat(o, ", ")
    if o.type ~= "flag" and o.type ~= "count" then left = left .. " " .. metavar(o) end
    local help = o.help or ""
    if o.default ~= nil and o.type ~= "flag" then help = help .. (" (default %s)"):format(tostring(o.default)) end
    row(left, help)
  end
  if def.examples then
    lines[#lines + 1] = ""
    lines[#lines + 1] = "examples:"
    for _, e in ipairs(def.examples) do lines[#lines + 1] = "  " .. e end
  end
  return table.concat(lines, "\n") .. "\n"
end

-- Parse argv (a Lua array of words) for tool `def`: opts, or nil, message.
-- Flags: -x, --long, -v VALUE, -vVALUE, --long VALUE, --long=VALUE, and
-- bundled short flags (-tx). "--" ends options.
function M.parse(def, argv)
  local by_flag, positionals, o = {}, {}, {}
  for _, spec in ipairs(all_options(def)) do
    if spec.positional then
      positionals[#positionals + 1] = spec
    else
      for _, f in ipairs(spec) do by_flag[f] = spec end
    end
    if spec.default ~= nil then o[key_of(spec)] = spec.default end
  end
  local function set(spec, flag, word)
    local key = key_of(spec)
    if spec.type == "flag" then o[key] = true; return true end
    if spec.type == "count" then o[key] = (o[key] or 0) + 1; return true end
    local conv = M.types[spec.type or "string"]
    if not conv then error(("tool %s: option %s has unknown type %s"):format(def.name, flag, tostring(spec.type)), 0) end
    local v, want = conv(word)
    if v == nil then
      return nil, ("%s: %s %s: expected %s"):format(def.name, flag, word, want)
    end
    if spec.check then
      local okc, why = spec.check(v)
      if not okc then return nil, ("%s: %s %s: %s"):format(def.name, flag, word, why) end
    end
    if spec.many then
      o[key] = o[key] or {}
      o[key][#o[key] + 1] = v
    else
      o[key] = v
    end
    return true
  end
  local npos, i, only_pos = 0, 1, false
  while i <= #argv do
    local a = tostring(argv[i])
    local ok, err
    if not only_pos and a == "--" then
      only_pos = true
      i = i + 1
      goto continue
    elseif not only_pos and a:sub(1, 2) == "--" then
      local name, val = a:match("^(%-%-[^=]+)=(.*)$")
      name = name or a
      local spec = by_flag[name]
      if not spec then return nil, ("%s: unknown option %s"):format(def.name, name) end
      if spec.type == "flag" or spec.type == "count" then
        if val then return nil, ("%s: option %s takes no value"):format(def.name, name) end
        ok, err = set(spec, name)
      else
        if not val then
          i = i + 1
          val = argv[i]
          if val == nil then return nil, ("%s: option %s needs a value"):format(def.name, name) end
        end
        ok, err = set(spec, name, tostring(val))
      end
    elseif not only_pos and a:sub(1, 1) == "-" and #a > 1 and not tonumber(a) then
      -- short flags, possibly bundled; a value-taking one eats the rest
      local j = 2
      while j <= #a do
        local flag = "-" .. a:sub(j, j)
        local spec = by_flag[flag]
        if not spec then return nil, ("%s: unknown option %s"):format(def.name, flag) end
        if spec.type == "flag" or spec.type == "count" then
          ok, err = set(spec, flag)
          j = j + 1
        else
          local val = a:sub(j + 1)
          if val == "" then
            i = i + 1
            val = argv[i]
            if val == nil then return nil, ("%s: option %s needs a value"):format(def.name, flag) end
          end
          ok, err = set(spec, flag, tostring(val))
          j = #a + 1
        end
        if not ok then return nil, err end
      end
    else
      npos = npos + 1
      local spec = positionals[npos]
      if not spec then return nil, ("%s: unexpected argument %s"):format(def.name, a) end
      if spec.many then npos = npos - 1 end
      ok, err = set(spec, spec[1], a)
    end
    if not ok then return nil, err end
    i = i + 1
    ::continue::
  end
  for _, spec in ipairs(positionals) do
    if spec.required and o[key_of(spec)] == nil then
      return nil, ("%s: missing argument %s"):format(def.name, spec[1])
    end
  end
  if def.validate and not o.help then
    local okv, why = def.validate(o)
    if not okv then return nil, ("%s: %s"):format(def.name, why) end
  end
  return o
end

-- ---- kernel side ----

-- Globals of bpf/lt_tool.h from the options (-p, -L, -c), merged into
-- `extra`: BPF{obj=..., globals = toolkit.filter_globals(opts, {...})}.
function M.filter_globals(opts, extra)
  local g = {}
  for k, v in pairs(extra or {}) do g[k] = v end
  g.targ_tgid = opts.pid or 0
  g.targ_tid = opts.tid or 0
  g.filter_cg = opts.cgroup and true or false
  return g
end

local ffi = require "ffi"
pcall(ffi.cdef, [[
int open(const char *path, int flags, ...);
int close(int fd);
char *strerror(int errnum);
]])

-- After load: put the -c cgroup into cgroup_map[0] (the program lets
-- nothing through until then).
function M.apply_filters(b, opts)
  if not opts.cgroup then return end
  local O_RDONLY, O_DIRECTORY, O_CLOEXEC = 0, 0x10000, 0x80000
  local fd = ffi.C.open(opts.cgroup, O_RDONLY + O_DIRECTORY + O_CLOEXEC)
  if fd < 0 then
    local err = ffi.string(ffi.C.strerror(ffi.errno()))
    b:cleanup()
    error(("open cgroup %s: %s (give a cgroup v2 directory, e.g. /sys/fs/cgroup/system.slice)"):format(
      opts.cgroup, err), 0)
  end
  local ok, e = pcall(function() b.cgroup_map[0] = fd end)
  ffi.C.close(fd)
  if not ok then b:cleanup(); error(e, 0) end
end

-- BPF{obj=name, globals=filters+extra, programs=}: load a tool's AOT
-- object with the shared filters applied.
function M.open(name, opts, extra, programs)
  local BPF = require("luatrace").BPF
  local b = BPF{ obj = name, globals = M.filter_globals(opts, extra), programs = programs }
  M.apply_filters(b, opts)
  return b
end

-- Open ring buffer `name` of a tool's object with fn(typed record). The
-- tools' programs submit with default flags (the kernel wakes the reader
-- whenever it has caught up), so the latency tick for batched wakeups can
-- be slow: 100 ms, not 5.
function M.ring(b, name, fn)
  return b[name]:open_ring_buffer(fn, { latency_ms = 100 })
end

-- Errno numbers by name (ENOENT -> 2), from the kernel's uapi headers.
local errnos
function M.errno(s)
  if tonumber(s) then return tonumber(s) end
  if not errnos then
    errnos = {}
    for _, h in ipairs({ "/usr/include/asm-generic/errno-base.h", "/usr/include/asm-generic/errno.h" }) do
      local f = io.open(h)
      if f then
        for name, n in f:read("*a"):gmatch("#define%s+(E[%u%d]+)%s+(%d+)") do errnos[name] = tonumber(n) end
        f:close()
      end
    end
  end
  return errnos[s:upper()]
end

-- ---- output helpers ----

-- Timestamps as BCC prints them: -T wall clock HH:MM:SS, -t seconds since
-- the tool started (from the event's monotonic ns when it has one).
function M.clock()
  local core = require "luatrace.core"
  local start = core.monotonic_ns()
  return {
    time = function() return os.date("%H:%M:%S") end,
    elapsed = function(ns) return ((ns or core.monotonic_ns()) - start) / 1e9 end,
  }
end

-- The printer of the default main: header once, then a line (text) or a
-- JSON object (--json) per record. def.header(opts) and def.text(rec,
-- opts) give the text; def.fields orders the JSON keys.
function M.printer(def, opts, out)
  out = out or io.stdout
  local p = {}
  function p.header()
    if opts.json then
      -- stdout carries only JSON; say on stderr that tracing has begun
      io.stderr:write(("Tracing %s... Ctrl-C to end.\n"):format(def.name))
      io.stderr:flush()
      return
    end
    if not def.header then return end
    local h = def.header(opts)
    if h then out:write(h, "\n"); out:flush() end
  end
  function p.event(rec)
    if opts.json then
      json.line(rec, def.fields, out)
    else
      local line = def.text(rec, opts)
      if line then out:write(line, "\n") end
    end
    out:flush()
  end
  return p
end

-- ---- the running tool ----

-- Decorate what def.start returned: events() iterator (when no callback
-- was given), stop() (idempotent), objects (for loop:add).
local function running_of(def, r, queue)
  if type(r) ~= "table" or not r.b then
    error(("tool %s: start must return a table with its BPF object as .b"):format(def.name), 0)
  end
  r.name = def.name
  r.metrics = r.metrics or def.metrics
  r.objects = r.objects or { r.b }
  r.tables = r.tables or {}
  local own_stop = r.stop
  local stopped = false
  function r.stop(self)
    if stopped then return end
    stopped = true
    if own_stop then own_stop(self or r) end
    for _, b in ipairs(r.objects) do b:cleanup() end
  end
  -- Pull style: for rec in running:events(timeout_ms) do ... end; ends at
  -- SIGINT/SIGTERM, stop(), or when a wait of timeout_ms brought nothing.
  function r.events(self, timeout_ms)
    if not queue then error(("tool %s: events() needs start without a callback"):format(def.name), 2) end
    local l
    return function()
      while #queue == 0 do
        if stopped then return nil end
        l = l or loop.new():add(r)
        local got = false
        l:after(timeout_ms or 1e9, function() l:stop() end)
        local ok = l:run{ until_fn = function() got = #queue > 0; return got end }
        if not ok or (#queue == 0 and not got) then return nil end
      end
      return table.remove(queue, 1)
    end
  end
  return r
end

-- ---- define ----

function M.define(def)
  assert(type(def.name) == "string", "toolkit.define: name= is required")
  assert(type(def.description) == "string", "toolkit.define: description= is required")
  assert(type(def.start) == "function", "toolkit.define: start= is required")
  local T = {
    name = def.name, description = def.description, options = def.options or {},
    fields = def.fields, metrics = def.metrics, def = def,
  }
  function T.parse(argv)
    local o, err = M.parse(def, argv or {})
    if not o then error(err, 2) end
    return o
  end
  function T.usage() return M.usage(def) end
  -- start(opts[, on_event]): opts as parse returns them (a table; missing
  -- keys take their defaults). Without on_event, records queue for
  -- running:events().
  function T.start(opts, on_event)
    opts = opts or {}
    for _, spec in ipairs(all_options(def)) do
      local k = key_of(spec)
      if opts[k] == nil and spec.default ~= nil then opts[k] = spec.default end
    end
    local queue
    if not on_event then
      queue = {}
      on_event = function(rec) queue[#queue + 1] = rec end
    end
    local r = def.start(opts, on_event)
    return running_of(def, r, queue)
  end
  -- main(...): the CLI (argv words). Returns the exit status.
  function T.main(...)
    local opts, err = M.parse(def, { ... })
    if not opts then
      io.stderr:write("luatrace: ", err, "\n", M.usage(def))
      return 2
    end
    if opts.help then io.stdout:write(M.usage(def)); return 0 end
    if def.before_start then
      -- what needs no tracing (a list, a check): a status ends here
      local st = def.before_start(opts)
      if st then return st end
    end
    if def.main then
      local running = T.start(opts, def.on_event and function(rec) def.on_event(rec, opts) end)
      local ok, st = pcall(def.main, opts, running)
      running:stop()
      if not ok then error(st, 0) end
      return st or 0
    end
    local p = M.printer(def, opts)
    local running = T.start(opts, p.event)
    local l = loop.new()
    l:add(running)
    if opts.metrics then require("luatrace.metrics").serve_running(running, opts.metrics, l) end
    p.header()
    local ok, e = pcall(l.run, l, { duration_ms = opts.duration and opts.duration * 1000 })
    running:stop()
    l:close()
    if not ok then error(e, 0) end
    return 0
  end
  return T
end

-- Interval reports, as libbpf-tools do them: report() every `interval`
-- seconds, `count` times (nil or 0: no limit); the run also ends at
-- -d/--duration or Ctrl-C, and then reports once more (without an
-- interval, that is the only report). Returns false after a signal.
function M.intervals(opts, running, report)
  local l = loop.new()
  l:add(running)
  if opts.metrics then require("luatrace.metrics").serve_running(running, opts.metrics, l) end
  local n, done = 0, false
  if opts.interval then
    l:every(opts.interval * 1000, function()
      report()
      n = n + 1
      if opts.count and opts.count > 0 and n >= opts.count then done = true; l:stop() end
    end)
  end
  local ok = l:run{ duration_ms = opts.duration and opts.duration * 1000 }
  if not done then report() end
  l:close()
  return ok
end

return M
