-- execsnoop: trace exec() calls, one line per new program, with libbpf-tools'
-- flags and columns (PCOMM PID PPID RET ARGS).
--
-- Kernel side: bpf/execsnoop.bpf.c (tracepoints syscalls:sys_enter/exit_execve
-- and _execveat). Records (start's callback, --json): comm, pid, ppid, uid,
-- ret, args (array of strings; the file name first), truncated (more than
-- --max-args), and time/timestamp with -T/-t.
local toolkit = require "luatrace.toolkit"
local ffi = require "ffi"

local function split_args(ev)
  local raw = ffi.string(ev.__lt_args, ev.args_size)
  local args = {}
  for a in raw:gmatch("([^%z]*)%z") do args[#args + 1] = a end
  return args
end

local function quote(a)
  return '"' .. a:gsub('[\\"\t\n]', { ['"'] = '\\"', ["\t"] = "\\t", ["\n"] = "\\n" }) .. '"'
end

return toolkit.define{
  name = "execsnoop",
  description = "Trace exec() syscalls: new programs with their arguments",
  options = {
    toolkit.opt.time, toolkit.opt.timestamp,
    { "-x", "--fails", type = "flag", help = "include failed exec()s" },
    toolkit.opt.pid,
    { "-P", "--ppid", type = "pid", help = "trace only children of this PID" },
    { "-u", "--uid", type = "uint", help = "trace this UID only" },
    { "-q", "--quote", type = "flag", help = 'add quotemarks (") around arguments' },
    { "-n", "--name", type = "string", help = "only print commands whose name contains NAME" },
    { "-l", "--line", type = "string", help = "only print commands where an argument contains LINE" },
    { "-U", "--print-uid", type = "flag", help = "print a UID column" },
    { "--max-args", type = "uint", default = 20, key = "max_args",
      check = function(v) return v >= 1 and v <= 60, "should be in [1, 60]" end,
      help = "maximum number of arguments parsed and displayed" },
    toolkit.opt.cgroup,
  },
  fields = { "time", "timestamp", "uid", "comm", "pid", "ppid", "ret", "args", "truncated" },
  examples = {
    "luatrace -m execsnoop           # trace all exec() syscalls",
    "luatrace -m execsnoop -x        # include failed exec()s",
    "luatrace -m execsnoop -T -U     # include time (HH:MM:SS) and UID",
    "luatrace -m execsnoop -P 181    # only children of process 181",
  },

  start = function(opts, emit)
    local b = toolkit.open("execsnoop", opts, {
      ignore_failed = not opts.fails,
      targ_uid = opts.uid or 0xffffffff,
      targ_ppid = opts.ppid or 0,
      max_args = opts.max_args,
    })
    local clock = toolkit.clock()
    toolkit.ring(b, "events", function(ev)
      local comm = ev.comm
      if opts.name and not comm:find(opts.name, 1, true) then return end
      local args = split_args(ev)
      if opts.line then
        local hit = false
        for _, a in ipairs(args) do if a:find(opts.line, 1, true) then hit = true end end
        if not hit then return end
      end
      emit({
        time = opts.time and clock.time() or nil,
        timestamp = opts.timestamp and clock.elapsed(ev.ts_ns) or nil,
        uid = ev.uid, comm = comm, pid = ev.pid, ppid = ev.ppid, ret = ev.retval,
        args = args, truncated = ev.args_count > opts.max_args,
        ts_ns = ev.ts_ns,
      })
    end)
    return { b = b }
  end,

  header = function(opts)
    local h = ""
    if opts.time then h = h .. ("%-9s"):format("TIME") end
    if opts.timestamp then h = h .. ("%-8s "):format("TIME(s)") end
    if opts.print_uid then h = h .. ("%-6s "):format("UID") end
    return h .. ("%-16s %-6s %-6s %3s %s"):format("PCOMM", "PID", "PPID", "RET", "ARGS")
  end,

  text = function(r, opts)
    local s = ""
    if opts.time then s = s .. ("%-8s "):format(r.time) end
    if opts.timestamp then s = s .. ("%-8.3f"):format(r.timestamp) end
    if opts.print_uid then s = s .. ("%-6d"):format(r.uid) end
    local args = {}
    for i, a in ipairs(r.args) do args[i] = opts.quote and quote(a) or a end
    s = s .. ("%-16s %-6d %-6d %3d %s"):format(r.comm, r.pid, r.ppid, r.ret,
      table.concat(args, " ") .. (#args > 0 and " " or ""))
    if r.truncated then s = s .. " ..." end
    return s
  end,
}
