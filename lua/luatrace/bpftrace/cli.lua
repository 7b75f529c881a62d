-- luatrace.bpftrace.cli: the command-line face of the bpftrace front end.
--
--   luatrace prog.bt [args]          a bpftrace program ($1.. are args)
--   luatrace -e 'BEGIN { ... }'      a -e chunk whose first token is a
--                                    probe is bpftrace, anything else Lua
--   -d                               print the generated C, do not run
--   -f json                          bpftrace's JSON output
--   --unsafe                         allow system() and signal()
--
-- register(cli) adds the options and wraps the "code" and "script" modes
-- (one line in luatrace.cli calls it).
local M = {}

-- Is this -e text a bpftrace program? Its first token (after blanks,
-- comments and a preamble: config block, macros, structs) is BEGIN, END, or a bpftrace provider followed by ':' whose
-- word has no '(' before the first blank, '{' or ',' (so Lua's `t:m()`
-- stays Lua).
function M.is_program(text)
  if type(text) ~= "string" then return false end
  local s = text
  while true do
    local before = s
    s = s:gsub("^%s+", ""):gsub("^//[^\n]*", ""):gsub("^/%*.-%*/", ""):gsub("^#[^\n]*", "")
    if s == before then break end
  end
  -- a preamble (config block, macro, struct definition) before the first
  -- probe: `config = {...}` alone would be Lua, so the probe decides
  local pre = s:match("^config%s*=%s*%b{}%s*;?()") or s:match("^macro%s+[%w_]+%s*%b()%s*%b{}()")
    or s:match("^struct%s+[%w_]+%s*%b{}%s*;?()")
  if pre then return M.is_program(s:sub(pre)) end
  if s:match("^BEGIN%f[^%w_]") or s:match("^END%f[^%w_]") then return true end
  local prov, rest = s:match("^([%w_]+):([^%s{,]*)")
  if not prov then return false end
  -- required only here: a Lua chunk or script starts without the probe
  -- tables (startup cost, docs/STARTUP.md)
  if not require("luatrace.bpftrace.probes").providers[prov] then return false end
  return not rest:find("(", 1, true) and s:find("{", 1, true) ~= nil
end

local function read_file(path)
  local s, err = require("luatrace.files").read(path)
  if not s then error(("read %s: %s"):format(path, err), 0) end
  return s
end

-- Run program text src (named name in errors) with the CLI options o.
function M.run(o, src, name, args)
  local bt = require "luatrace.bpftrace"
  local format = o.bt_format or "text"
  if format ~= "text" and format ~= "json" then
    error(("-f %s: unknown output format (text or json)"):format(format), 0)
  end
  -- -p PID / -c CMD (luatrace.target): filter to the process, end with it
  local target = (o.pid or o.cmd_pid) and require("luatrace.target")
  local opts = { name = name, args = args, unsafe = o.bt_unsafe, format = format, cli = true,
    pid = o.pid and tonumber(o.pid), cmd_pid = o.cmd_pid, -- -c does not filter (bpftrace)
    until_fn = target and function() return target.status() ~= nil end }
  local ok, res = bt.try(function()
    if o.bt_debug then
      io.stdout:write(bt.compile(src, opts).c)
      return "printed"
    end
    local p = bt.load(src, opts)
    if target then target.release() end -- a held -c command runs now
    p:run()
    return "ran"
  end)
  if not ok then
    io.stderr:write(res, "\n")
    return 1
  end
  return 0
end

function M.register(cli)
  local opts = cli.options
  for _, o in ipairs(opts) do
    if o[1] == "-e" then o.help = "run CODE: a Lua chunk, or a bpftrace program when it starts with a probe" end
  end
  opts[#opts + 1] = { "-d", key = "bt_debug", help = "bpftrace: print the generated C instead of running" }
  opts[#opts + 1] = { "-f", value = "FORMAT", key = "bt_format", help = "bpftrace: output format (text, json)" }
  opts[#opts + 1] = { "--unsafe", key = "bt_unsafe", help = "bpftrace: allow system() and signal()" }
  local code, script = cli.modes.code, cli.modes.script
  cli.modes.code = function(o, argv, i)
    if M.is_program(o.code) then
      return M.run(o, o.code, "stdin", { unpack(argv, i) })
    end
    return code(o, argv, i)
  end
  cli.modes.script = function(o, argv, i)
    local path = argv[i]
    if path and path:match("%.bt$") then
      return M.run(o, read_file(path), path, { unpack(argv, i + 1) })
    end
    return script(o, argv, i)
  end
end

return M
