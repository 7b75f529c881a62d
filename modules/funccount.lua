-- funccount: count function calls, tracepoints or user functions matching
-- a pattern, as BCC's funccount (same flags and output).
--
--   luatrace -m funccount 'vfs_*'              kernel functions (fentry, else kprobes)
--   luatrace -m funccount 'c:malloc*'           user functions of a library or binary
--   luatrace -m funccount 't:sched:sched_*'     tracepoints
--
-- Kernel side: bpf/funccount_{tp,kprobe,fentry}.bpf.c (bpf/funccount.h):
-- one counting program per matched function (up to 256), attached from
-- Lua, in one object per program kind. Kernel functions take fentry
-- programs where the kernel allows them (feature probe at run time, as
-- libbpf-tools chooses), their targets set before load through
-- BPF{attach_targets=}; kprobes otherwise. Patterns expand through
-- luatrace.listing. JSON: one object per report {"time", "counts":
-- [{"func", "count"}]}.
local toolkit = require "luatrace.toolkit"
local json = require "luatrace.json"
local lt = require "luatrace"

local SLOTS = 256

-- pattern -> kind ("kprobe" | "uprobe" | "tracepoint"), list of targets
-- ({name=, lib=, tp=}), or raises a usage error.
local function expand(pattern)
  local kind, spec
  local a, b, c = pattern:match("^([^:]*):([^:]*):?(.*)$")
  if a == "t" or a == "tracepoint" then
    kind, spec = "tracepoint", "tracepoint:" .. b .. ":" .. c
  elseif a == "u" then
    error("funccount: USDT probes (u:LIB:PROBE) are not supported here; use bpftrace's usdt: probes (luatrace -e)", 0)
  elseif a == "p" or a == "k" or a == "kprobe" then
    kind, spec = "kprobe", "kprobe:" .. (c ~= "" and c or b)
  elseif a then
    local lib = a
    if not lib:find("/") then
      lib = lt.core.find_library(lib) or error(("funccount: no library %s found"):format(a), 0)
    end
    kind, spec = "uprobe", "uprobe:" .. lib .. ":" .. b
  else
    kind, spec = "kprobe", "kprobe:" .. pattern
  end
  local listing = require "luatrace.listing"
  local targets = {}
  -- one named tracepoint: no need to list them all (~1 ms)
  if kind == "tracepoint" and not (b .. c):find("[%*%?%[]") then
    if lt.tracepoint_exists(b, c) then targets[1] = { name = b .. ":" .. c } end
    return kind, targets
  end
  for probe in listing.list(spec) do
    if kind == "tracepoint" then
      targets[#targets + 1] = { name = probe:match("^tracepoint:(.*)$") }
    elseif kind == "uprobe" then
      local lib, fn = probe:match("^uprobe:(.*):([^:]+)$")
      targets[#targets + 1] = { name = fn, lib = lib }
    else
      targets[#targets + 1] = { name = probe:match("^kprobe:(.*)$") }
    end
  end
  return kind, targets
end

local T = {
  name = "funccount",
  description = "Count function calls, tracepoints or user functions matching a pattern",
  options = {
    toolkit.opt.pid,
    { "-i", "--interval", type = "positive", metavar = "SECONDS", help = "summary interval, seconds" },
    toolkit.opt.duration,
    { "-T", "--timestamp", type = "flag", help = "include a timestamp on output" },
    { "pattern", positional = true, required = true, type = "string",
      help = "func, lib:func, t:cat:event (wildcards *)" },
  },

  start = function(opts)
    local kind, targets = expand(opts.pattern)
    local fentry = kind == "kprobe" and lt.has_fentry()
    if kind == "kprobe" and not fentry and not lt.has_kprobes() then
      error("funccount: kernel functions need fentry or kprobes, which this kernel refuses (tried both); "
        .. "count tracepoints (t:CAT:EVENT) or user functions (LIB:FUNC) instead", 0)
    end
    if #targets == 0 then error(("funccount: no functions match %q"):format(opts.pattern), 0) end
    if #targets > SLOTS then
      error(("funccount: %d functions match %q; at most %d (narrow the pattern)"):format(#targets, opts.pattern, SLOTS), 0)
    end
    local function object_for(use_fentry)
      return kind == "tracepoint" and "funccount_tp" or use_fentry and "funccount_fentry" or "funccount_kprobe"
    end
    local function programs_for(use_fentry)
      local programs, attach_targets = {}, use_fentry and {} or nil
      local prefix = kind == "tracepoint" and "ft_" or use_fentry and "fe_" or "fc_"
      for i = 1, #targets do
        programs[i] = prefix .. (i - 1)
        if use_fentry then attach_targets[programs[i]] = targets[i].name end
      end
      return programs, attach_targets
    end
    -- fentry programs attach themselves (auto-attach) once loaded; a
    -- matched function the kernel's BTF does not describe takes kprobes
    local programs, attach_targets = programs_for(fentry)
    local opened, b = pcall(toolkit.open, object_for(fentry), opts, {}, programs, attach_targets)
    if not opened and fentry and lt.has_kprobes() and tostring(b):find("BTF has no function", 1, true) then
      fentry = false
      programs, attach_targets = programs_for(false)
      opened, b = pcall(toolkit.open, object_for(false), opts, {}, programs, attach_targets)
    end
    if not opened then error(b, 0) end
    local ok, err = pcall(function()
      for i, t in ipairs(targets) do
        local fn = programs[i]
        if fentry then -- attached at load
        elseif kind == "tracepoint" then b:attach_tracepoint{ tp = t.name, fn_name = fn }
        elseif kind == "uprobe" then b:attach_uprobe{ name = t.lib, sym = t.name, fn_name = fn, pid = opts.pid or -1 }
        else b:attach_kprobe{ event = t.name, fn_name = fn } end
      end
    end)
    if not ok then b:cleanup(); error(err, 0) end
    local running = { b = b, targets = targets, tables = { counts = b.counts } }
    -- {func=, count=} with a count, fewest first (BCC's order); clears
    function running.take()
      local rows = {}
      for k, v in b.counts:items() do
        local n = 0
        for _, c in ipairs(v) do n = n + c end
        if n > 0 and targets[k + 1] then rows[#rows + 1] = { func = targets[k + 1].name, count = n } end
      end
      b.counts:clear()
      table.sort(rows, function(x, y) if x.count ~= y.count then return x.count < y.count end return x.func < y.func end)
      return rows
    end
    return running
  end,
}

function T.main(opts, running)
  local head = ("Tracing %d functions for \"%s\"... Hit Ctrl-C to end."):format(#running.targets, opts.pattern)
  if opts.json then io.stderr:write(head, "\n") else print(head) end
  io.stdout:flush()
  toolkit.intervals(opts, running, function()
    local rows = running.take()
    if opts.json then
      json.line({ time = os.date("%H:%M:%S"), counts = json.array(rows) }, { "time", "counts", "func", "count" })
    else
      print("")
      if opts.timestamp then print(("%-8s"):format(os.date("%H:%M:%S"))) end
      print(("%-36s %8s"):format("FUNC", "COUNT"))
      for _, r in ipairs(rows) do print(("%-36s %8d"):format(r.func, r.count)) end
    end
    io.stdout:flush()
  end)
  if not opts.json then print("Detaching...") end
  return 0
end

return toolkit.define(T)
