-- gethostlatency: show the latency of host name lookups (getaddrinfo,
-- gethostbyname, gethostbyname2), with libbpf-tools' flags and columns
-- (TIME PID COMM LATms HOST).
--
-- Kernel side: bpf/gethostlatency.bpf.c on uprobes/uretprobes of the C
-- library (-l LIBC, else the one this system's programs use). Records
-- (callback, --json): time, pid, comm, lat_ms, host.
local toolkit = require "luatrace.toolkit"

local FUNCS = { "getaddrinfo", "gethostbyname", "gethostbyname2" }

return toolkit.define{
  name = "gethostlatency",
  description = "Show latency for getaddrinfo/gethostbyname[2] calls",
  options = {
    toolkit.opt.pid,
    { "-l", "--libc", type = "string", metavar = "LIBC", help = "specify which libc.so to use" },
    toolkit.opt.duration,
  },
  fields = { "time", "pid", "comm", "lat_ms", "host" },

  start = function(opts, emit)
    local lt = require "luatrace"
    local libc = opts.libc or lt.core.find_library("c")
    if not libc then error("gethostlatency: no C library found (give -l /path/to/libc.so.6)", 0) end
    local b = toolkit.open("gethostlatency", opts)
    local probes = {}
    for _, f in ipairs(FUNCS) do
      probes[#probes + 1] = { name = libc, sym = f, fn_name = "handle_entry", pid = opts.pid or -1 }
      probes[#probes + 1] = { name = libc, sym = f, fn_name = "handle_return", pid = opts.pid or -1, retprobe = true }
    end
    -- (together: the kernel's waits for each overlap)
    local ok, err = pcall(b.attach_uprobes, b, probes)
    if not ok then b:cleanup(); error(err, 0) end
    toolkit.ring(b, "events", function(ev)
      emit({ time = os.date("%H:%M:%S"), pid = ev.pid, comm = ev.comm, lat_ms = ev.time / 1e6, host = ev.host })
    end)
    return { b = b }
  end,

  header = function()
    return ("%-8s %-7s %-16s %-10s %-s"):format("TIME", "PID", "COMM", "LATms", "HOST")
  end,

  text = function(r)
    return ("%-8s %-7d %-16s %-10.3f %-s"):format(r.time, r.pid, r.comm, r.lat_ms, r.host)
  end,
}
