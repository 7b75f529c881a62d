-- bashreadline: print the commands interactive bash shells read, with
-- libbpf-tools' flags and columns (TIME PID COMMAND).
--
-- Kernel side: bpf/bashreadline.bpf.c on a uretprobe of readline() in
-- /bin/bash (or -s LIBREADLINE when bash links it). Records (callback,
-- --json): time, pid, command.
local toolkit = require "luatrace.toolkit"

return toolkit.define{
  name = "bashreadline",
  description = "Print entered bash commands from all running shells",
  options = {
    { "-s", "--shared", type = "string", metavar = "PATH", help = "the location of libreadline.so (when bash links it)" },
    toolkit.opt.pid,
    toolkit.opt.duration,
  },
  fields = { "time", "pid", "command" },

  start = function(opts, emit)
    local target = opts.shared or "/bin/bash"
    local b = toolkit.open("bashreadline", opts)
    local ok, err = pcall(b.attach_uretprobe, b, { name = target, sym = "readline", fn_name = "printret" })
    if not ok then b:cleanup(); error(err, 0) end
    toolkit.ring(b, "events", function(ev)
      emit({ time = os.date("%H:%M:%S"), pid = ev.pid, command = ev.str })
    end)
    return { b = b }
  end,

  header = function() return ("%-9s %-7s %s"):format("TIME", "PID", "COMMAND") end,
  text = function(r) return ("%-9s %-7d %s"):format(r.time, r.pid, r.command) end,
}
