-- biosnoop: trace block device I/O, one line per request with the process
-- that started it, with libbpf-tools' flags and columns
-- (TIME(s) COMM PID DISK T SECTOR BYTES [QUE(ms)] LAT(ms)).
--
-- Kernel side: bpf/biosnoop.bpf.c (raw_tp block_rq_insert/issue/complete;
-- the process from block_io_start where the kernel has it, else from
-- block_rq_insert). Records (callback, --json): time (seconds since the
-- first), comm, pid, disk, rwbs, op, sector, bytes, queue_ms (with -Q),
-- latency_ms.
local toolkit = require "luatrace.toolkit"
local lt = require "luatrace"

return toolkit.define{
  name = "biosnoop",
  description = "Trace block device I/O: process, disk, sector, size and latency",
  options = {
    { "-d", "--disk", type = "string", metavar = "DISK", help = "trace this disk only" },
    { "-Q", "--queued", type = "flag", help = "include OS queued time in I/O time" },
    toolkit.opt.pid,
    toolkit.opt.cgroup,
    { "--duration", type = "positive", key = "duration", metavar = "SECONDS", help = "trace for this many seconds" },
  },
  validate = toolkit.check_disk,
  fields = { "time", "comm", "pid", "disk", "rwbs", "op", "sector", "bytes", "queue_ms", "latency_ms" },

  start = function(opts, emit)
    if not lt.has_btf() then
      error("biosnoop: reads struct request with CO-RE, which needs kernel BTF; this kernel has no /sys/kernel/btf/vmlinux", 0)
    end
    local programs = { "rq_issue", "rq_complete" }
    if lt.tracepoint_exists("block", "block_io_start") then
      programs[#programs + 1] = "io_start"
      programs[#programs + 1] = "rq_insert"
    else
      programs[#programs + 1] = "rq_insert_pid"
    end
    local b = toolkit.open("biosnoop", opts, toolkit.disk_globals(opts, {
      targ_queued = opts.queued and true or false }), programs)
    local first
    toolkit.ring(b, "events", function(ev)
      first = first or ev.ts
      emit({
        time = (ev.ts - first) / 1e9, comm = ev.comm, pid = ev.pid,
        disk = toolkit.disk_name(ev.dev) or "Unknown", rwbs = toolkit.rwbs(ev.flags),
        op = toolkit.op(ev.flags), sector = ev.sector, bytes = ev.len,
        queue_ms = opts.queued and (ev.qdelta ~= -1 and ev.qdelta / 1e6 or -1) or nil,
        latency_ms = ev.delta / 1e6,
      })
    end)
    return { b = b }
  end,

  header = function(opts)
    return ("%-11s %-14s %-7s %-7s %-4s %-10s %-7s "):format("TIME(s)", "COMM", "PID", "DISK", "T", "SECTOR", "BYTES")
      .. (opts.queued and ("%7s "):format("QUE(ms)") or "") .. ("%7s"):format("LAT(ms)")
  end,

  text = function(r, opts)
    return ("%-11.6f %-14.14s %-7d %-7s %-4s %-10d %-7d "):format(r.time, r.comm, r.pid, r.disk, r.rwbs, r.sector, r.bytes)
      .. (opts.queued and ("%7.3f "):format(r.queue_ms) or "") .. ("%7.3f"):format(r.latency_ms)
  end,
}
