-- sigsnoop: trace signals, with libbpf-tools' flags and columns
-- (TIME PID COMM SIG TPID RESULT). By default every generated signal
-- (tracepoint signal:signal_generate: kill(2), the kernel, timers...);
-- -k only those sent by kill/tkill/tgkill, with the syscall's result.
--
-- Kernel side: bpf/sigsnoop.bpf.c. Records (callback, --json): time, pid,
-- comm, sig, signame, tpid, ret.
local toolkit = require "luatrace.toolkit"

local NAMES = { "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS",
  "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM",
  "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG",
  "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS" }
NAMES[0] = "N/A"

local function signum(s)
  local n = tonumber(s)
  if n then return n end
  s = s:upper()
  if not s:match("^SIG") then s = "SIG" .. s end
  for i = 1, #NAMES do if NAMES[i] == s then return i end end
  return nil
end

local KILLS = { "kill", "tkill", "tgkill" }

local T = {
  name = "sigsnoop",
  description = "Trace signals: sender, signal, target and result",
  options = {
    { "-x", "--failed", type = "flag", help = "trace failed signals only" },
    { "-k", "--kill", type = "flag", help = "trace signals issued by kill syscalls only" },
    toolkit.opt.pid,
    { "-s", "--signal", type = "string", metavar = "SIGNAL", help = "signal to trace (a number or a name: 15, TERM, SIGTERM)" },
    { "-n", "--name", type = "flag", help = "output signal names instead of numbers" },
    toolkit.opt.cgroup,
    toolkit.opt.duration,
  },
  validate = function(o)
    if o.signal and not signum(o.signal) then return false, "unknown signal " .. o.signal end
    return true
  end,
  fields = { "time", "pid", "comm", "sig", "signame", "tpid", "ret" },

  start = function(opts, emit)
    local programs = {}
    if opts.kill then
      for _, k in ipairs(KILLS) do
        programs[#programs + 1] = k .. "_entry"
        programs[#programs + 1] = k .. "_return"
      end
    else
      programs[1] = "signal_generate"
    end
    local b = toolkit.open("sigsnoop", opts, {
      target_signal = opts.signal and signum(opts.signal) or 0,
      failed_only = opts.failed and true or false,
    }, programs)
    toolkit.ring(b, "events", function(ev)
      emit({ time = os.date("%H:%M:%S"), pid = ev.pid, comm = ev.comm, sig = ev.sig,
        signame = NAMES[ev.sig], tpid = ev.tpid, ret = ev.ret })
    end)
    return { b = b }
  end,

  header = function()
    return ("%-8s %-7s %-16s %-9s %-7s %-6s"):format("TIME", "PID", "COMM", "SIG", "TPID", "RESULT")
  end,

  text = function(r, opts)
    local sig = (opts.name and r.signame) and ("%-9s"):format(r.signame) or ("%-9d"):format(r.sig)
    return ("%-8s %-7d %-16s %s %-7d %-6d"):format(r.time, r.pid, r.comm, sig, r.tpid, r.ret)
  end,
}

return toolkit.define(T)
