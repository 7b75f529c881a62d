-- vfsstat: count VFS calls (read, write, fsync, open, create) per second,
-- with libbpf-tools' output (TIME READ/s WRITE/s FSYNC/s OPEN/s CREATE/s).
--
-- Kernel side: bpf/vfsstat.bpf.c: fentry programs where the kernel allows
-- them, else kprobes (feature probing at run time). JSON: one object per
-- interval {"time", "read", "write", "fsync", "open", "create"} (per
-- second).
local toolkit = require "luatrace.toolkit"
local json = require "luatrace.json"
local lt = require "luatrace"

local NAMES = { "READ", "WRITE", "FSYNC", "OPEN", "CREATE" }
local FUNCS = { "vfs_read", "vfs_write", "vfs_fsync", "vfs_open", "vfs_create" }

local T = {
  name = "vfsstat",
  description = "Count VFS calls (read, write, fsync, open, create) per second",
  options = {
    toolkit.opt.pid,
    { "interval", positional = true, type = "positive", default = 1, help = "output interval, in seconds (default 1)" },
    toolkit.opt.count,
  },

  start = function(opts)
    local prefix
    if lt.has_fentry() then prefix = "fentry_"
    elseif lt.has_kprobes() then prefix = "kprobe_"
    else
      error("vfsstat: needs fentry or kprobes on vfs_* functions, which this kernel lacks; "
        .. "count the VFS syscalls with `luatrace -m syscount -i 1` instead", 0)
    end
    local programs = {}
    for i, f in ipairs(FUNCS) do programs[i] = prefix .. f end
    local b = toolkit.open("vfsstat", opts, {}, programs)
    local running = { b = b, tables = { stats = b.stats } }
    function running.take()
      local out = {}
      for k, v in b.stats:items() do
        local n = 0
        for _, c in ipairs(v) do n = n + c end
        out[k + 1] = n
      end
      b.stats:clear()
      for i = 1, #NAMES do out[i] = out[i] or 0 end
      return out
    end
    return running
  end,
}

function T.main(opts, running)
  if not opts.json then
    local h = ("%-8s  "):format("TIME")
    for _, n in ipairs(NAMES) do h = h .. (" %6s/s"):format(n) end
    print(h)
    io.stdout:flush()
  else
    io.stderr:write("Tracing vfsstat... Ctrl-C to end.\n")
  end
  toolkit.intervals(opts, running, function()
    local v = running.take()
    if opts.json then
      local o = { time = os.date("%H:%M:%S") }
      for i, name in ipairs(NAMES) do o[name:lower()] = v[i] / opts.interval end
      json.line(o, { "time", "read", "write", "fsync", "open", "create" })
    else
      local s = ("%-8s: "):format(os.date("%H:%M:%S"))
      for i = 1, #NAMES do s = s .. (" %8d"):format(math.floor(v[i] / opts.interval)) end
      print(s)
    end
    io.stdout:flush()
  end, { final = false })
  return 0
end

return toolkit.define(T)
