-- luatrace.bpftrace: bpftrace programs on luatrace.
--
--   local bt = require "luatrace.bpftrace"
--   bt.parse(src, name)        -> AST (errors in bpftrace's located shape)
--   bt.compile(src, opts)      -> { c = generated C, probes, maps, events }
--   local p = bt.load(src, opts)   -- compiled (cache), loaded, attached
--   p:run{ duration_ms = nil }     -- BEGIN, events, until exit()/Ctrl-C; END; maps
--   p.maps["@name"], p:on_printf(fn), p:stop(), p:print_maps()
--
-- opts: name (file name in errors), args ({"a", "b"} for $1, $2),
-- pid (-p), cmd_pid (-c: cpid), unsafe (system, signal), format ("text"
-- or "json"), out (a function(s) writing output; default io.stdout),
-- print_maps (false: no map dump at exit). A program's config block
-- (config.lua) sets defaults that these options override.
--
-- The pipeline: parser -> codegen (C for the prelude, with semantic checks)
-- -> lt.BPF{text=} (compile cache, no clang when warm) -> runtime (attach,
-- ring buffer records formatted in Lua, maps printed as bpftrace does).
-- The parser and the code generator are required when used: a warm run
-- whose plan is cached (luatrace.bpftrace.plancache) loads neither.
local errors = require "luatrace.bpftrace.errors"

local M = {}

function M.parse(src, name)
  return require("luatrace.bpftrace.parser").parse(src, name)
end

-- The options the runtime sees: the caller's, over the program's config
-- block's print_maps.
local function run_opts(opts, configured)
  if opts.print_maps == nil and configured ~= nil then
    return setmetatable({ print_maps = configured }, { __index = opts })
  end
  return opts
end

function M.compile(src, opts)
  opts = opts or {}
  local ast = type(src) == "table" and src or M.parse(src, opts.name)
  -- the program's config block first; the caller's options win over it
  local copts = require("luatrace.bpftrace.config").apply(ast, {})
  local configured = copts.print_maps
  for k, v in pairs(opts) do copts[k] = v end
  copts.cmd_pid_known = opts.cmd_pid ~= nil or opts.cmd
  local r = require("luatrace.bpftrace.codegen").generate(ast, copts)
  r.ast, r.opts = ast, opts
  r.configured_print_maps = configured
  r.run_opts = run_opts(opts, configured)
  return r
end

-- Compiled, loaded and attached; a text seen before with the same
-- options on this kernel and build skips parsing and code generation.
function M.load(src, opts)
  opts = opts or {}
  local plans = type(src) == "string" and require("luatrace.bpftrace.plancache")
  local r, volatile
  if plans then r, volatile = plans.get(src, opts) end
  if r then
    r.opts, r.run_opts = opts, run_opts(opts, r.configured_print_maps)
  else
    -- clang starts now (its libraries load while we generate the C); a
    -- program that turns out not to need it kills it. A text known to
    -- make no keepable plan finds its object by the text's index: none.
    local compile = require "luatrace.compile"
    if not volatile then compile.prestart({ lite = true }) end
    local inputs = require "luatrace.bpftrace.inputs"
    inputs.reset()
    local ok, res = pcall(M.compile, src, opts)
    if not ok then compile.cancel(); error(res, 0) end
    r = res
    if plans and not (volatile and inputs.why) then plans.put(src, opts, r, inputs.why) end
  end
  local ok, res = pcall(require("luatrace.bpftrace.runtime").load, r, r.run_opts)
  require("luatrace.compile").cancel() -- (loaded already: BPF{text=} keys by it)
  if not ok then error(res, 0) end
  return res
end

-- Run a compiled program's error handling: a bpftrace-shaped error (a
-- user's mistake) is returned as text, anything else propagates.
function M.try(fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then return true, err end
  if errors.is(err) then return false, err.bt_error end
  error(err, 0)
end

M.is_error = errors.is

return M
