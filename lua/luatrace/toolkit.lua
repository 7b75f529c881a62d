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
local loop = require "luatrace.loop"
local options = require "luatrace.toolkit.options"

local M = {}
for _, part in ipairs({ options, require "luatrace.toolkit.kernel", require "luatrace.toolkit.report",
    require "luatrace.toolkit.block" }) do
  for k, v in pairs(part) do M[k] = v end
end
local all_options, key_of = options.all_options, options.key_of

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
    local function done()
      if l then l:close(); l = nil end
      return nil
    end
    return function()
      while #queue == 0 do
        if stopped then return done() end
        l = l or loop.new():add(r)
        local timer = timeout_ms and l:after(timeout_ms, function() l:stop() end)
        local ok = l:run{ until_fn = function() return #queue > 0 end }
        if timer then timer:cancel() end
        if not ok or #queue == 0 then return done() end -- a signal, or the timeout
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
  local seen = {}
  for _, o in ipairs(all_options(def)) do
    for _, f in ipairs(o.positional and {} or o) do
      assert(not seen[f], ("toolkit.define: tool %s lists option %s twice"):format(def.name, f))
      seen[f] = true
    end
  end
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
    if def.main and (not def.use_main or def.use_main(opts)) then
      local running = T.start(opts, def.on_event and function(rec) def.on_event(rec, opts) end)
      local ok, st = pcall(def.main, opts, running)
      if ok and opts.svg then -- --svg of tools with stacks (luatrace.flamegraph)
        local svg_ok, svg_err = pcall(require("luatrace.flamegraph").save_tool, def, running, opts)
        if not svg_ok then ok, st = false, svg_err end
      end
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
    if ok and opts.svg then
      local svg_ok, svg_err = pcall(require("luatrace.flamegraph").save_tool, def, running, opts)
      if not svg_ok then ok, e = false, svg_err end
    end
    running:stop()
    l:close()
    if not ok then error(e, 0) end
    return 0
  end
  return T
end

return M
