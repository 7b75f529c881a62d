-- luatrace.listing: probe names, as bpftrace's `-l` prints them, for
-- `luatrace -l [pattern]`, `-lv`, and the console's Tab completion.
--
--   listing.list(pattern)    iterator of names ("tracepoint:syscalls:sys_enter_openat",
--                            "kprobe:vfs_read", "kfunc:vmlinux:vfs_read",
--                            "rawtracepoint:sched_switch", "software:cpu-clock:",
--                            "uprobe:/bin/bash:readline", "usdt:/path:prov:name",
--                            "struct path")
--   listing.complete(prefix) sorted completions (bpftrace form, and the
--                            tracepoint form "category:event")
--   listing.describe(probe)  the lines `-lv` prints for one name
--
-- Patterns: globs (* ? [..]) over "provider:rest". The provider may be a
-- short name (t, k, f, rt, s, h, u, U) or a glob over provider names; a
-- first word that is no provider is a tracepoint category ('syscalls:*');
-- a pattern without ':' matches the end of every kernel probe name
-- ('*open*', 'vfs_read'); 'struct NAME' (union, enum) lists BTF types.
-- uprobe and usdt need a binary ('uprobe:/bin/bash:*', 'usdt:libc:*').
-- The big sources (kernel symbols, BTF) are read and matched in C
-- (probe_list.c, btf_list.c): the whole list (~120k names) takes 0.2-0.3 s.
local core = require "luatrace.core"
-- luatrace.perf_events and luatrace.probekinds are required where they
-- are used: every run loads this file (for register), few list probes.
local target = require "luatrace.target"

local M = {}

local function tracefs(file) return core.tracefs() .. "/" .. file end

-- Kernel function names: tracefs's list of traceable functions when it
-- can be read, else the text symbols of /proc/kallsyms.
local function kernel_functions(glob, any)
  local names = core.glob_lines(tracefs("available_filter_functions"), "words", glob, any)
  return names or assert(core.glob_lines("/proc/kallsyms", "kallsyms", glob, any))
end

local function perf_list(kind)
  return function(glob, any)
    local out = {}
    for _, e in ipairs(require("luatrace.perf_events")[kind]) do
      if core.glob_match(glob, e.name .. ":", any) then out[#out + 1] = e.name .. ":" end
    end
    return out
  end
end

-- Each kernel provider: where its names come from (the part after
-- "provider:"), matched against glob (any: also the part after a ':').
local kernel = {
  hardware = perf_list("hardware"),
  kfunc = function(glob, any) return core.btf_names("func", glob, any) end,
  kprobe = kernel_functions,
  rawtracepoint = function(glob, any) return core.btf_names("rawtp", glob, any) end,
  software = perf_list("software"),
  tracepoint = function(glob, any)
    return core.glob_lines(tracefs("available_events"), "words", glob, any) or {}
  end,
}
local kernel_order = { "hardware", "kfunc", "kprobe", "rawtracepoint", "software", "tracepoint" }

-- bpftrace's provider spellings (t, k, fentry, ...) to its long name
-- (luatrace.probekinds holds them); return probes list as their entry
-- probes, under their own name (as bpftrace does).
local function provider(word)
  local k = require("luatrace.probekinds").by_bpftrace[word]
  return k and k.bpftrace[1] or word
end
local source_of = { kretprobe = "kprobe", kretfunc = "kfunc", uretprobe = "uprobe" }

-- A binary of a uprobe/usdt pattern: a path, a library short name (libc),
-- or a program in PATH. Named as bpftrace names it: an absolute path as
-- given (symbolic links kept), a library as the loader's cache has it, a
-- program as found in PATH; a relative path is made absolute (bpftrace
-- keeps it relative, which only works from the same directory).
local function binary(name)
  local path
  if name:find("/", 1, true) then
    path = core.stat(name) and name
    if path and path:sub(1, 1) ~= "/" then
      path = (core.realpath(".") or ".") .. "/" .. path:gsub("^%./", "")
    end
  else
    local ok, p = pcall(core.find_library, name, target.pid)
    path = ok and p or target.which(name)
  end
  if not path then error(("list probes of %s: no such file, library or program"):format(name), 0) end
  return path
end

local function user_probes(kind, rest)
  local bin, glob = rest:match("^([^:]*):(.*)$")
  bin, glob = bin or rest, glob or "*"
  -- usdt:BINARY:NAME means any provider, as bpftrace takes it
  if kind == "usdt" and glob ~= "" and not glob:find(":", 1, true) then glob = "*:" .. glob end
  if kind == "usdt" and (bin == "" or bin == "*") and target.pid then
    -- every binary the process maps, as bpftrace -p lists them
    -- (/proc/PID/root/... paths)
    local out = {}
    for _, p in ipairs(require("luatrace.usdt").new{ pid = target.pid }:list()) do
      if not p.path:match("^/proc/%d+/exe$") then
        local n = p.provider .. ":" .. p.name
        if glob == "" or core.glob_match(glob, n) then out[#out + 1] = p.path .. ":" .. n end
      end
    end
    table.sort(out)
    local uniq = {}
    for i, n in ipairs(out) do if n ~= out[i - 1] then uniq[#uniq + 1] = n end end
    return uniq
  end
  if bin == "" or (bin == "*" and target.pid) then
    if not target.pid then
      error(("list %s probes: name a binary ('%s:/path/or/lib:*') or a process (-p PID)")
        :format(kind, kind), 0)
    end
    -- the process's executable through its root, as bpftrace -p names it
    bin = target.path or ("/proc/%d/root%s"):format(target.pid,
      core.realpath("/proc/" .. target.pid .. "/exe") or "")
  end
  local path = binary(bin)
  if glob == "" then glob = "*" end
  local out = {}
  if kind == "usdt" then
    local ok, probes = pcall(core.usdt_probes, path)
    if not ok then error(probes, 0) end
    local seen = {}
    for _, p in ipairs(probes) do
      local n = p.provider .. ":" .. p.name
      if not seen[n] and core.glob_match(glob, n) then seen[n] = true; out[#out + 1] = n end
    end
    table.sort(out)
  else
    local names, err = core.elf_functions(path, glob)
    if not names then error("list uprobes of " .. err, 0) end
    out = names
  end
  for i, n in ipairs(out) do out[i] = path .. ":" .. n end
  return out
end

local function types(pattern)
  return core.btf_names("type", pattern)
end

-- Parse a pattern into { {provider, source, glob, any} } (or a type glob).
local function plan(pattern)
  if (pattern == nil or pattern == "" or pattern == "*") and target.pid and not target.cmd then
    -- with -p and no pattern: the process's probes, as bpftrace -p -l
    return { { "uprobe", function() return user_probes("uprobe", "*") end, "*" },
             { "usdt", function() return user_probes("usdt", "*") end, "*" } }
  end
  if pattern == nil or pattern == "" or pattern == "*" then pattern = "*:*" end
  if pattern:match("^struct%s") or pattern:match("^union%s") or pattern:match("^enum%s") then
    return { types = pattern:gsub("%s+", " ") }
  end
  local prov, rest = pattern:match("^([^:]*):(.*)$")
  local steps = {}
  if not prov then
    for _, p in ipairs(kernel_order) do steps[#steps + 1] = { p, kernel[p], pattern, true } end
    return steps
  end
  local name = provider(prov)
  if kernel[name] or source_of[name] or name == "uprobe" or name == "usdt" then
    local src = source_of[name] or name
    if src == "uprobe" or src == "usdt" then
      steps[1] = { name, function() return user_probes(src, rest) end, "*" }
    else
      if rest == "" then rest = "*" end
      -- kfunc:NAME means kfunc:*:NAME (any module), as bpftrace takes it
      if src == "kfunc" and not rest:find(":", 1, true) then rest = "*:" .. rest end
      steps[1] = { name, kernel[src], rest }
    end
  elseif prov:find("[%*%?%[]") then
    for _, p in ipairs(kernel_order) do
      if core.glob_match(prov, p) then steps[#steps + 1] = { p, kernel[p], rest } end
    end
  else
    -- no provider: a tracepoint category (the form error hints use)
    steps[1] = { "tracepoint", kernel.tracepoint, pattern }
  end
  return steps
end

-- The names for pattern, by provider: { {provider, names without it} }
-- (types: { {nil, names} }).
local function groups(pattern)
  local steps = plan(pattern)
  if steps.types then return { { nil, types(steps.types) } } end
  local out = {}
  for _, s in ipairs(steps) do
    if #steps == 1 then
      out[#out + 1] = { s[1], s[2](s[3], s[4]) }
    else
      -- listing several providers: one this kernel lacks (no BTF, ...)
      -- lists nothing rather than failing the rest
      local ok, names = pcall(s[2], s[3], s[4])
      out[#out + 1] = { s[1], ok and names or {} }
    end
  end
  return out
end

-- All names for pattern, as an array.
function M.names(pattern)
  local out = {}
  for _, g in ipairs(groups(pattern)) do
    local prefix = g[1] and g[1] .. ":" or ""
    for _, n in ipairs(g[2]) do out[#out + 1] = prefix .. n end
  end
  return out
end

function M.list(pattern)
  local names, i = M.names(pattern), 0
  return function()
    i = i + 1
    return names[i]
  end
end

-- Tracepoint fields, as the format file declares them (common_* fields,
-- before the first blank line, left out, as bpftrace does).
local function tracepoint_fields(cat, event)
  local fh = io.open(("%s/events/%s/%s/format"):format(core.tracefs(), cat, event))
  if not fh then return {} end
  local text = fh:read("*a")
  fh:close()
  local out = {}
  local body = text:match("\n\n(.*)$") or ""
  for decl in body:gmatch("\tfield:([^;]*);") do out[#out + 1] = "    " .. decl end
  return out
end

-- A kernel function's typed arguments and return, as bpftrace prints them.
local function kfunc_params(fn)
  local out = {}
  for i, t in ipairs(fn.types) do out[#out + 1] = ("    %s %s"):format(t, fn.names[i]) end
  if fn.ret then out[#out + 1] = ("    %s retval"):format(fn.ret) end
  return out
end

-- The lines `-lv` prints for one listed name.
function M.describe(probe)
  local lines = { probe }
  local prov, rest = probe:match("^([^:]+):(.*)$")
  prov = provider(prov)
  if probe:match("^struct ") or probe:match("^union ") or probe:match("^enum ") then
    local def = core.btf_type_def(probe)
    if not def then return {} end
    lines = {}
    for l in def:gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
    lines[#lines + 1] = ""
  elseif prov == "tracepoint" then
    local cat, event = rest:match("^([^:]+):(.+)$")
    if cat then
      for _, l in ipairs(tracepoint_fields(cat, event)) do lines[#lines + 1] = l end
    end
  elseif prov == "rawtracepoint" then
    -- the kernel's __bpf_trace_NAME has the arguments with their names,
    -- after the context pointer (__data)
    local fn = core.btf_func(nil, "__bpf_trace_" .. (rest:match("([^:]+)$") or rest))
    if fn then
      table.remove(fn.types, 1); table.remove(fn.names, 1); fn.ret = nil
      for _, l in ipairs(kfunc_params(fn)) do lines[#lines + 1] = l end
    end
  elseif prov == "kfunc" or prov == "kretfunc" then
    local mod, fname = rest:match("^([^:]+):(.+)$")
    local fn = core.btf_func(mod, fname or rest)
    for _, l in ipairs(fn and kfunc_params(fn) or {}) do lines[#lines + 1] = l end
  end
  return lines
end

-- Completions of a partial probe name, for Tab in the console.
function M.complete(prefix)
  prefix = prefix or ""
  local out, seen = {}, {}
  local function add(s)
    if not seen[s] then seen[s] = true; out[#out + 1] = s end
  end
  local prov, rest = prefix:match("^([^:]*):(.*)$")
  if not prov then
    for _, p in ipairs(kernel_order) do
      if p:sub(1, #prefix) == prefix then add(p .. ":") end
    end
    for _, p in ipairs({ "uprobe", "uretprobe", "usdt", "kretprobe", "kretfunc", "BEGIN", "END",
      "interval", "profile" }) do
      if p:sub(1, #prefix) == prefix then add((p == "BEGIN" or p == "END") and p or p .. ":") end
    end
    for _, ev in ipairs(kernel.tracepoint(prefix .. "*")) do add(ev:match("^[^:]+") .. ":") end
  else
    local name = provider(prov)
    local glob = prefix:gsub("[%*%?%[]", "\\%0") .. "*"
    if kernel[name] or source_of[name] or name == "uprobe" or name == "usdt" then
      local ok, names = pcall(M.names, name .. ":" .. glob:sub(#prov + 2))
      for _, n in ipairs(ok and names or {}) do add(prov .. n:sub(#name + 1)) end
    else
      for _, ev in ipairs(kernel.tracepoint(glob)) do add(ev) end
    end
  end
  table.sort(out)
  return out
end

-- `luatrace -l [pattern]` / `-lv`: the listing mode of the command line.
function M.main(pattern, verbose)
  local out = io.stdout
  local steps = plan(pattern)
  if verbose and steps.types then
    -- every definition from one dump of the BTF (one per name is slow)
    for _, def in ipairs(core.btf_type_defs(steps.types)) do out:write(def, "\n") end
    return 0
  end
  if verbose then
    for _, name in ipairs(M.names(pattern)) do
      out:write(table.concat(M.describe(name), "\n"), "\n")
    end
    return 0
  end
  -- one write per provider: 100k names cost no Lua string each
  for _, g in ipairs(groups(pattern)) do
    if #g[2] > 0 then
      local prefix = g[1] and g[1] .. ":" or ""
      out:write(prefix, table.concat(g[2], "\n" .. prefix), "\n")
    end
  end
  return 0
end

return M
