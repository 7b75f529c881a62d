-- luatrace.bpftrace.config: a program's `config = { ... }` block (current
-- bpftrace) turned into compile and run options. Keys are spelt as
-- bpftrace allows (max_strlen, MAX_STRLEN, BPFTRACE_MAX_STRLEN). The keys
-- that map to something luatrace has are honoured; every other key is a
-- located error that names it, never a setting silently dropped.
local errors = require "luatrace.bpftrace.errors"

local M = {}

-- Strings are held on the 512-byte BPF stack (bpftrace moves big ones to
-- map memory; luatrace does not), so their size is capped.
M.MAX_STRLEN = 200

local function boolean(v)
  if v == "true" or v == 1 or v == "1" then return true end
  if v == "false" or v == 0 or v == "0" then return false end
end

local function positive(v) return type(v) == "number" and v >= 1 and v or nil end

-- key -> function(value, opts) returning an error text when refused
local keys = {
  max_strlen = function(v, o)
    v = positive(v)
    if not v then return "max_strlen takes a positive integer" end
    if v > M.MAX_STRLEN then
      return ("max_strlen %d is above luatrace's limit of %d bytes (strings live on the 512-byte BPF stack)"):format(
        v, M.MAX_STRLEN)
    end
    o.strlen = v
  end,
  max_map_keys = function(v, o)
    o.map_size = positive(v)
    if not o.map_size then return "max_map_keys takes a positive integer" end
  end,
  perf_rb_pages = function(v, o)
    v = positive(v)
    if not v or bit.band(v, v - 1) ~= 0 then return "perf_rb_pages takes a power of two" end
    o.ring_pages = v
  end,
  print_maps_on_exit = function(v, o)
    local b = boolean(v)
    if b == nil then return "print_maps_on_exit takes true or false" end
    o.print_maps = b
  end,
  missing_probes = function(v)
    if v == "error" then return end
    if v == "warn" or v == "ignore" then
      return ("missing_probes = %s is not supported by luatrace: a probe that cannot attach stops the program (the default, error)"):format(v)
    end
    return "missing_probes takes error, warn or ignore"
  end,
}

-- Apply the program's config list to opts (a table the compiler owns):
-- sets strlen, map_size, ring_pages, print_maps.
function M.apply(ast, opts)
  local seen = {}
  for _, c in ipairs(ast.config or {}) do
    local key = c.key:lower():gsub("^bpftrace_", "")
    local f = keys[key]
    if not f then
      errors.raise(ast.src, ast.name, c.tok.pos, c.tok.epos,
        ("config key '%s' is not supported by luatrace (supported: max_strlen, max_map_keys, perf_rb_pages, print_maps_on_exit, missing_probes)"):format(c.key))
    end
    if seen[key] then
      errors.raise(ast.src, ast.name, c.tok.pos, c.tok.epos, ("config key '%s' is set twice"):format(c.key))
    end
    seen[key] = true
    local msg = f(c.value, opts)
    if msg then errors.raise(ast.src, ast.name, c.vtok.pos, c.vtok.epos, msg) end
  end
  return opts
end

return M
