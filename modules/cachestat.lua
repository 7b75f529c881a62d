-- cachestat: page cache hits, misses and dirtied pages per interval, with
-- libbpf-tools' flags and columns (HITS MISSES DIRTIES HITRATIO
-- BUFFERS_MB CACHED_MB; -T adds TIME).
--
-- Kernel side: bpf/cachestat.bpf.c. The functions are chosen at run time
-- as libbpf-tools does: for each role the first name the kernel has
-- (folio names on 6.x kernels, page names before), through fentry where
-- allowed, else kprobes; dirtied pages from the writeback tracepoint when
-- the function is inlined. JSON: one object per interval {"time", "hits",
-- "misses", "dirties", "hit_ratio", "buffers_mb", "cached_mb"}.
local toolkit = require "luatrace.toolkit"
local json = require "luatrace.json"
local lt = require "luatrace"
local core = lt.core

local C_TOTAL, C_MISSES, C_MBD = 0, 1, 2

-- The roles (programs of bpf/cachestat.bpf.c, as MODE_ROLE) and their
-- candidate kernel functions, newest name first.
local ROLES = {
  { "added", "filemap_add_folio", "add_to_page_cache_lru" },       -- a page added: miss
  { "accessed", "folio_mark_accessed", "mark_page_accessed" },     -- an access
  { "dirtied", "folio_account_dirtied", "account_page_dirtied",    -- a page dirtied
    tracepoints = { "writeback_dirty_folio", "writeback_dirty_page" } },
  { "buffer_dirtied", "mark_buffer_dirty" },                       -- a buffer dirtied
}

-- The plan for this kernel: programs to load, fentry attach targets,
-- kprobes to attach ({program, function}) and what is traced; nil, why
-- when a role has no candidate.
local function choose()
  local mode = lt.has_fentry() and "fentry" or lt.has_kprobes() and "kprobe"
  if not mode then
    return nil, "cachestat: needs fentry or kprobes on the page cache functions (filemap_add_folio, "
      .. "folio_mark_accessed, ...), which this kernel lacks (no tracepoint counts cache hits; "
      .. "run it on a kernel with kprobes)"
  end
  local plan = { programs = {}, targets = mode == "fentry" and {} or nil, kprobes = {}, traced = {} }
  for _, role in ipairs(ROLES) do
    local found
    for i = 2, #role do
      local fn = role[i]
      if core.ksym_addr(fn) and (mode ~= "fentry" or core.btf_func(nil, fn)) then
        found = fn
        local prog = mode .. "_" .. role[1]
        plan.programs[#plan.programs + 1] = prog
        if mode == "fentry" then plan.targets[prog] = fn else plan.kprobes[#plan.kprobes + 1] = { prog, fn } end
        plan.traced[#plan.traced + 1] = mode .. ":" .. fn
        break
      end
    end
    for _, tp in ipairs(not found and role.tracepoints or {}) do
      if core.tracepoint_exists("writeback", tp) then
        found = tp
        plan.programs[#plan.programs + 1] = "tp_" .. tp
        plan.traced[#plan.traced + 1] = "tracepoint:writeback:" .. tp
        break
      end
    end
    if not found then
      return nil, ("cachestat: this kernel has none of %s to trace"):format(table.concat(role, ", ", 2))
    end
  end
  return plan
end

-- Buffers and Cached of /proc/meminfo, in kB.
local function meminfo()
  local f = assert(io.open("/proc/meminfo"))
  local s = f:read("*a")
  f:close()
  return tonumber(s:match("\nBuffers:%s+(%d+)")) or 0, tonumber(s:match("\nCached:%s+(%d+)")) or 0
end

local T = {
  name = "cachestat",
  description = "Count page cache hits, misses and dirtied pages per interval",
  options = {
    { "-T", "--timestamp", type = "flag", help = "print timestamp" },
    { "interval", positional = true, type = "positive", default = 1, help = "output interval, in seconds" },
    toolkit.opt.count,
  },
  fields = { "time", "hits", "misses", "dirties", "hit_ratio", "buffers_mb", "cached_mb" },

  start = function(opts)
    local plan, why = choose()
    if not plan then error(why, 0) end
    local b = toolkit.open("cachestat", {}, {}, plan.programs, plan.targets)
    local ok, err = pcall(function()
      for _, k in ipairs(plan.kprobes) do b:attach_kprobe{ event = k[2], fn_name = k[1] } end
    end)
    if not ok then b:cleanup(); error(err, 0) end
    local running = { b = b, traced = plan.traced, tables = { counts = b.counts } }
    -- take(): the counts since the last take, as libbpf-tools computes them
    function running.take()
      local c = { [C_TOTAL] = 0, [C_MISSES] = 0, [C_MBD] = 0 }
      for k, v in b.counts:items() do
        for _, n in ipairs(v) do c[k] = c[k] + n end
      end
      b.counts:clear()
      local total, misses = math.max(c[C_TOTAL], 0), math.max(c[C_MISSES], 0)
      local hits = total - misses
      -- readahead may add more pages than were read: then all are misses
      if hits < 0 then misses, hits = total, 0 end
      local buffers, cached = meminfo()
      return { time = os.date("%H:%M:%S"), hits = hits, misses = misses, dirties = c[C_MBD],
        hit_ratio = total > 0 and hits / total or 0,
        buffers_mb = math.floor(buffers / 1024), cached_mb = math.floor(cached / 1024) }
    end
    return running
  end,
}

function T.main(opts, running)
  if opts.json then
    io.stderr:write("Tracing cachestat... Ctrl-C to end.\n")
  else
    print((opts.timestamp and ("%-8s "):format("TIME") or "")
      .. ("%8s %8s %8s %8s %12s %10s"):format("HITS", "MISSES", "DIRTIES", "HITRATIO", "BUFFERS_MB", "CACHED_MB"))
    io.stdout:flush()
  end
  toolkit.intervals(opts, running, function()
    local r = running.take()
    if opts.json then
      json.line(r, T.fields)
    else
      print((opts.timestamp and ("%-8s "):format(r.time) or "") .. ("%8d %8d %8d %7.2f%% %12d %10d"):format(
        r.hits, r.misses, r.dirties, 100 * r.hit_ratio, r.buffers_mb, r.cached_mb))
    end
    io.stdout:flush()
  end, { final = false })
  return 0
end

return toolkit.define(T)
