-- hardirqs: hard interrupt handlers by name: time spent (total or as
-- histograms, -d) or counts (-C), with libbpf-tools' flags and output.
--
-- Kernel side: bpf/hardirqs.bpf.c (raw_tp irq_handler_entry/exit; not
-- tp_btf: docs/TOOLS.md). JSON: per report {"time", "hardirqs":
-- [{"hardirq", "count" | "total_usecs" | "total_nsecs"}] or, with -d,
-- [{"hardirq", "unit", "total", "buckets"}]}.
local toolkit = require "luatrace.toolkit"
local irqs = require "luatrace.toolkit.irqs"

return toolkit.define{
  name = "hardirqs",
  description = "Summarize hard IRQ (interrupt) event time or counts",
  options = irqs.options{ toolkit.opt.cgroup },
  validate = irqs.validate,

  start = function(opts)
    local b = toolkit.open("hardirqs", opts, irqs.globals(opts))
    local running = { b = b, tables = { infos = b.infos } }
    function running.rows()
      local rows = irqs.read(b.infos, function(k) return k.name end, 26)
      table.sort(rows, function(a, c) return a.name < c.name end)
      return rows
    end
    return running
  end,

  main = function(opts, running) return irqs.main(opts, running, "hard", 26) end,
}
