-- bitesize: block I/O sizes as log2 histograms (Kbytes) per process name,
-- with libbpf-tools' flags and output.
--
-- Kernel side: bpf/bitesize.bpf.c (raw_tp block_rq_issue). JSON: per
-- report {"time", "hists": [{"comm", "unit", "total", "buckets"}]}.
local toolkit = require "luatrace.toolkit"
local lt = require "luatrace"

return toolkit.define{
  name = "bitesize",
  description = "Summarize block device I/O size per process as a histogram",
  options = {
    { "-T", "--timestamp", type = "flag", help = "include a timestamp on output" },
    { "-c", "--comm", type = "string", metavar = "COMM", help = "trace this comm only" },
    { "-d", "--disk", type = "string", metavar = "DISK", help = "trace this disk only" },
    toolkit.opt.pid,
    toolkit.opt.interval, toolkit.opt.count,
  },
  validate = function(o)
    if o.comm and #o.comm > 15 then return false, "-c COMM: at most 15 characters" end
    return toolkit.check_disk(o)
  end,

  start = function(opts)
    if not lt.has_btf() then
      error("bitesize: reads struct request with CO-RE, which needs kernel BTF; this kernel has no /sys/kernel/btf/vmlinux", 0)
    end
    local b = toolkit.open("bitesize", opts, toolkit.disk_globals(opts, { targ_comm = opts.comm or "" }))
    local running = { b = b, tables = { hists = b.hists } }
    local src = toolkit.hist_source(b.hists, 26, function(k) return k.comm end)
    running.take, running.totals = src.take, src.totals
    return running
  end,

  main = function(opts, running)
    toolkit.hist_main(opts, running, {
      title = "Tracing block device I/O... Hit Ctrl-C to end.",
      unit = "Kbytes", label = "comm",
      key_line = function(h) return "\nProcess Name = " .. h.key end,
    })
    return 0
  end,

  metrics = function(running)
    return toolkit.hist_metrics("bio_size_bytes", "Block I/O size", running.totals(), 1024,
      function(h) return { comm = h.key } end)
  end,
}
