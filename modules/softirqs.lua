-- softirqs: soft interrupts by vector: time spent (total or as
-- histograms, -d) or counts (-C), with libbpf-tools' flags and output.
--
-- Kernel side: bpf/softirqs.bpf.c (raw_tp softirq_entry/exit; not tp_btf:
-- docs/TOOLS.md). JSON: as hardirqs, under "softirqs" with
-- "softirq" names.
local toolkit = require "luatrace.toolkit"
local irqs = require "luatrace.toolkit.irqs"

local VEC = { [0] = "hi", "timer", "net_tx", "net_rx", "block", "irq_poll", "tasklet", "sched",
  "hrtimer", "rcu" }

return toolkit.define{
  name = "softirqs",
  description = "Summarize soft IRQ (interrupt) event time or counts",
  options = irqs.options(),
  validate = irqs.validate,

  start = function(opts)
    local b = toolkit.open("softirqs", opts, irqs.globals(opts))
    local running = { b = b, tables = { infos = b.infos } }
    function running.rows()
      local rows = irqs.read(b.infos, function(k) return VEC[k] or tostring(k) end, 26)
      table.sort(rows, function(a, c) return a.key < c.key end)
      return rows
    end
    return running
  end,

  main = function(opts, running) return irqs.main(opts, running, "soft", 16) end,
}
