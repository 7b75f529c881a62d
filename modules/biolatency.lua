-- biolatency: block I/O latency as log2 histograms, with libbpf-tools'
-- flags and output: from issue (or insert, -Q) to completion, for every
-- disk or per disk (-D) or per operation and flags (-F).
--
-- Kernel side: bpf/biolatency.bpf.c (raw_tp block_rq_insert/issue/
-- complete; not tp_btf: docs/TOOLS.md). JSON: per report {"time",
-- "hists": [{"disk" (with -D), "flags" (with -F), "unit", "total",
-- "buckets"}]}.
local toolkit = require "luatrace.toolkit"
local lt = require "luatrace"

return toolkit.define{
  name = "biolatency",
  description = "Summarize block device I/O latency as a histogram",
  options = {
    { "-T", "--timestamp", type = "flag", help = "include a timestamp on output" },
    { "-m", "--milliseconds", type = "flag", help = "millisecond histogram" },
    { "-Q", "--queued", type = "flag", help = "include OS queued time in I/O time" },
    { "-D", "--disks", type = "flag", help = "print a histogram per disk device" },
    { "-F", "--flag", type = "flag", help = "print a histogram per set of I/O flags" },
    { "-d", "--disk", type = "string", metavar = "DISK", help = "trace this disk only" },
    toolkit.opt.cgroup,
    toolkit.opt.interval, toolkit.opt.count,
  },
  validate = toolkit.check_disk,
  examples = {
    "luatrace -m biolatency             # summarize block I/O latency as a histogram",
    "luatrace -m biolatency 1 10        # print 1 second summaries, 10 times",
    "luatrace -m biolatency -mT 1       # 1s summaries, milliseconds, and timestamps",
    "luatrace -m biolatency -D -d vda   # per disk, vda only",
  },

  start = function(opts)
    if not lt.has_btf() then
      error("biolatency: reads struct request with CO-RE, which needs kernel BTF; this kernel has no /sys/kernel/btf/vmlinux", 0)
    end
    local programs = { "rq_issue", "rq_complete" }
    if opts.queued then programs[#programs + 1] = "rq_insert" end
    local b = toolkit.open("biolatency", opts, toolkit.disk_globals(opts, {
      targ_per_disk = opts.disks and true or false,
      targ_per_flag = opts.flag and true or false,
      targ_queued = opts.queued and true or false,
      targ_ms = opts.milliseconds and true or false,
    }), programs)
    local running = { b = b, tables = { hists = b.hists } }
    local src = toolkit.hist_source(b.hists, 26, function(k)
        local dev, flags = tonumber(k.dev), tonumber(k.flags)
        return dev * 2 ^ 32 + flags, {
          disk = opts.disks and (toolkit.disk_name(dev) or "Unknown") or nil,
          flags = opts.flag and toolkit.flag_names(flags) or nil,
        }
      end)
    running.take, running.totals, running.opts = src.take, src.totals, opts
    return running
  end,

  main = function(opts, running)
    toolkit.hist_main(opts, running, {
      title = "Tracing block device I/O... Hit Ctrl-C to end.",
      unit = opts.milliseconds and "msecs" or "usecs",
      key_line = function(h)
        local s = ""
        if opts.disks then s = s .. ("\ndisk = %s\t"):format(h.extra.disk) end
        if opts.flag then s = s .. "flags = " .. h.extra.flags end
        return s
      end,
    })
    return 0
  end,

  metrics = function(running)
    return toolkit.hist_metrics("bio_latency_seconds", "Block I/O latency", running.totals(),
      running.opts.milliseconds and 1e-3 or 1e-6, function(h) return h.extra end)
  end,
}
