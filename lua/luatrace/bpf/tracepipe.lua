-- luatrace.bpf.tracepipe: BCC's trace_print / trace_fields over the
-- kernel's trace_pipe (bpf_trace_printk output).
local core = require "luatrace.core"
local args = require "luatrace.bpf.args"

local M = {}
local methods = {}
M.methods = methods

local function trace_pipe(self)
  self._trace_pipe = self._trace_pipe or core.trace_pipe()
  return self._trace_pipe
end

-- Fields of one trace_pipe line: task, pid, cpu, flags, ts, msg.
function M.parse_trace_line(line)
  local task, pid, cpu, flags, ts, msg =
    line:match("^%s*(.-)%-(%d+)%s+%[(%d+)%]%s+(%S+)%s+([%d%.]+):%s*(.*)$")
  if not task then
    -- some kernels add a "(tgid)" column after the pid
    task, pid, cpu, flags, ts, msg =
      line:match("^%s*(.-)%-(%d+)%s+%(%s*[%d%-]+%)%s+%[(%d+)%]%s+(%S+)%s+([%d%.]+):%s*(.*)$")
  end
  if not task then return nil end
  msg = msg:gsub("^bpf_trace_printk:%s?", "")
  return task, tonumber(pid), tonumber(cpu), flags, tonumber(ts), msg
end

local function options(what, o)
  if o == nil then return {} end
  args.check(what, o, { { "nonblocking", "boolean" }, { "timeout", "number" },
    { "fmt", "string" }, { "write", "function" } })
  return o
end

-- trace_fields{nonblocking=, timeout=}: the next line's fields, nil when
-- none came (nonblocking or timeout), false when interrupted.
function methods:trace_fields(o)
  o = options("trace_fields", o)
  local tp = trace_pipe(self)
  while true do
    local line = tp:read(o.nonblocking and 0 or (o.timeout or -1))
    if not line then return line end
    local task, pid, cpu, flags, ts, msg = M.parse_trace_line(line)
    if task then return task, pid, cpu, flags, ts, msg end
  end
end

-- trace_print{fmt="{1} {5}"}: print trace_pipe lines until interrupted
-- (fields {0}..{5}: task, pid, cpu, flags, ts, msg); with no fmt, raw lines.
function methods:trace_print(o)
  o = options("trace_print", o)
  local tp = trace_pipe(self)
  local write = o.write or function(s) io.stdout:write(s, "\n"); io.stdout:flush() end
  while true do
    local line = tp:read(o.timeout or -1)
    if line == false or (line == nil and o.timeout) then return line end
    if o.fmt then
      local f = { M.parse_trace_line(line) }
      if f[1] then
        write((o.fmt:gsub("{(%d)}", function(i) return tostring(f[tonumber(i) + 1]) end)))
      end
    else
      write(line)
    end
  end
end

function M.close(self)
  if self._trace_pipe then self._trace_pipe:close(); self._trace_pipe = nil end
end

return M
