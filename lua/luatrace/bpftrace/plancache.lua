-- luatrace.bpftrace.plancache: what code generation made of a program
-- (its C text, probes, maps and record formats), kept in the compile
-- cache (obj/b-KEY.plan) so that a warm run of the same text loads
-- neither the lexer, the parser nor the code generator (~1 ms of a
-- one-liner's start, docs/STARTUP.md). The C text then takes the
-- usual way: the text-key index, the object, no clang.
--
-- The key: the program text, its options, luatrace's build and the
-- kernel. A program whose code generation read anything else (a
-- binary's symbols, a tracefs wildcard, kallsyms addresses, headers:
-- luatrace.bpftrace.inputs) is not kept. Under LUATRACE_PATH (the
-- library from a source tree) nothing is kept.
--
-- A plan is data only: a Lua table constructor, loaded as text (never
-- bytecode) into an empty environment, from the cache's checked
-- directory (luatrace.cache: owned by us, not writable by others).
local core = require "luatrace.core"
local cache = require "luatrace.cache"

local M = {}

-- A value as Lua text, or nil for what a plan cannot hold (functions,
-- cdata, non-finite numbers, a table met twice).
local function ser(v, out, seen)
  local t = type(v)
  if t == "string" then
    out[#out + 1] = ("%q"):format(v)
  elseif t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return nil end
    out[#out + 1] = ("%.17g"):format(v)
  elseif t == "boolean" then
    out[#out + 1] = tostring(v)
  elseif t == "table" then
    if seen[v] then return nil end
    seen[v] = true
    local keys = {}
    for k in pairs(v) do
      if type(k) ~= "string" and type(k) ~= "number" then return nil end
      keys[#keys + 1] = k
    end
    -- sorted keys: the same value gives the same text (the options' key)
    table.sort(keys, function(a, b)
      if type(a) ~= type(b) then return type(a) == "number" end
      return a < b
    end)
    out[#out + 1] = "{"
    for _, k in ipairs(keys) do
      out[#out + 1] = "["
      if not ser(k, out, seen) then return nil end
      out[#out + 1] = "]="
      if not ser(v[k], out, seen) then return nil end
      out[#out + 1] = ","
    end
    out[#out + 1] = "}"
  else
    return nil
  end
  return true
end

local function text_of(v)
  local out = {}
  if not ser(v, out, {}) then return nil end
  return table.concat(out)
end

-- The options that shape code generation, as text: the values only
-- (callbacks left out); -p's and -c's pids only as "there is one" (the
-- code filters on a global set at load, so one plan serves every pid).
local function opts_text(opts)
  local o = {}
  for k, v in pairs(opts) do
    if type(v) ~= "function" then o[k] = v end
  end
  if o.cmd_pid then o.cmd_pid = true end
  if o.pid then o.pid = true end
  return text_of(o)
end

local function key(src, opts)
  local dev = os.getenv("LUATRACE_PATH")
  if dev and dev ~= "" then return nil end
  local ot = opts_text(opts)
  if not ot then return nil end
  return core.hash("bt-plan-1", src, ot, cache.build_id(), require("luatrace.compile").kernel_id())
end

-- The parts of a compiled program the runtime uses.
local PARTS = { "c", "probes", "maps", "map_order", "events", "need_stacks", "warnings",
  "need_names", "skb_files", "configured_print_maps", "vmlinux", "ring_pages" }

-- The kept plan of src with opts, or nil (and true when src is known to
-- make a plan that cannot be kept: its run will find its object through
-- the text's index, so it starts no clang early).
function M.get(src, opts)
  local k = key(src, opts)
  if not k then return nil end
  local odir = cache.sub("obj")
  local name = "b-" .. k .. ".plan"
  local text = odir:read(name)
  if text then odir:touch(name) end
  odir:close()
  if not text or text:sub(1, 1) == "\27" then return nil end
  local fn = loadstring(text, "=plan")
  if not fn then return nil end
  setfenv(fn, {})
  local ok, plan = pcall(fn)
  if ok and type(plan) == "table" and plan.volatile == true then return nil, true end
  if not ok or type(plan) ~= "table" or type(plan.c) ~= "string" then return nil end
  return plan
end

-- Keep compiled program r (luatrace.bpftrace.compile's result) for src
-- with opts; nothing when it cannot be held as data. volatile: code
-- generation read more than the text (luatrace.bpftrace.inputs), so only
-- that is kept.
function M.put(src, opts, r, volatile)
  local k = key(src, opts)
  if not k then return end
  local plan = { volatile = volatile and true or nil }
  if not volatile then
    for _, p in ipairs(PARTS) do plan[p] = r[p] end
  end
  local text = text_of(plan)
  if not text then return end
  local name = "b-" .. k .. ".plan"
  local odir = cache.sub("obj")
  local ok = pcall(odir.write, odir, name, "return " .. text)
  odir:close()
  -- counted in the cache's size like a compile's output (plans of runs
  -- that compile nothing must not grow the cache past its cap)
  if ok then pcall(cache.prune, { ["obj/" .. name] = true }, nil, #text + 7) end
end

return M
