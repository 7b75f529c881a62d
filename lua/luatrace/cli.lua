-- luatrace.cli: the command line. host/main.c creates the Lua state and
-- calls main(argv...) under a handler that prints "luatrace: <message>"
-- (a traceback under -v) and exits 1; main returns the exit status
-- (0 success, 2 usage error).
--
--   luatrace script.lua [args...]   run a script (arg as in lua)
--   luatrace -e 'code' [args...]    run a chunk
--   luatrace -m tool [args...]      run a tool module
--
-- Options are data (one table below): each has its flags, whether it takes
-- a value, its help line and what it sets in `o`. Parsing stops at the
-- first word that is not an option (the script, or the chunk's args).
local core = require "luatrace.core"

local M = {}

M.options = {
  { "-e", value = "CODE", key = "code", help = "run CODE (a Lua chunk); args go to arg[1..]" },
  { "-m", value = "TOOL", key = "tool", stop = true, optional = true,
    help = "run the tool module TOOL with args (alone: list the tools)" },
  { "-v", key = "verbose", help = "verbose: tracebacks and libbpf's debug log" },
  { "-h", "--help", key = "help", help = "this help" },
  { "--version", key = "version", help = "print the version" },
}

local function usage_text()
  local lines = { "usage: luatrace [options] [script.lua [args...]]" }
  for _, opt in ipairs(M.options) do
    local flags = {}
    for _, f in ipairs(opt) do flags[#flags + 1] = f end
    local left = table.concat(flags, ", ") .. (opt.value and (" " .. opt.value) or "")
    lines[#lines + 1] = ("  %-14s%s"):format(left, opt.help)
  end
  lines[#lines + 1] = "  compile ...   build objects for another kernel (luatrace compile -h)"
  lines[#lines + 1] = "With no script: the console on a terminal, else a script read from"
  lines[#lines + 1] = "standard input (-i reads console chunks from it instead)."
  lines[#lines + 1] = "Environment: LUATRACE_PATH=DIR loads the Lua library from DIR (a"
  lines[#lines + 1] = "source tree's lua/) instead of the copy built into the binary."
  return table.concat(lines, "\n") .. "\n"
end
M.usage_text = usage_text

-- A usage error: one line, the usage, exit 2.
function M.usage_error(msg)
  io.stderr:write("luatrace: ", msg, "\n", usage_text())
  return 2
end

local by_flag = {}
local function index_options()
  by_flag = {}
  for _, opt in ipairs(M.options) do
    for _, f in ipairs(opt) do by_flag[f] = opt end
  end
end

-- Parse argv into options `o` and the index of the first non-option word.
-- Returns nil, message on a usage error.
function M.parse(argv)
  index_options()
  local o, i = {}, 1
  while i <= #argv do
    local a = argv[i]
    if a == "--" then i = i + 1; break end
    if a:sub(1, 1) ~= "-" or a == "-" then break end
    local opt = by_flag[a]
    if not opt then return nil, "unknown option " .. a end
    if opt.value then
      if i + 1 > #argv and opt.optional then o[opt.key] = true; i = i + 1; break end
      if i + 1 > #argv then return nil, "option " .. a .. " needs an argument" end
      if opt.many then
        o[opt.key] = o[opt.key] or {}
        table.insert(o[opt.key], argv[i + 1])
      else
        o[opt.key] = argv[i + 1]
      end
      i = i + 2
    else
      o[opt.key] = true
      i = i + 1
    end
    if opt.stop then break end
  end
  return o, i
end

-- The global arg as lua sets it: arg[0] the script (or what stands in its
-- place), arg[1..] the words after it.
local argv0 = "luatrace"
local function set_arg(argv, zero_index)
  local t = { [-zero_index] = argv0 }
  for j = 1, #argv do t[j - zero_index] = argv[j] end
  _G.arg = t
  return { unpack(argv, zero_index + 1) }
end

-- Scripts are Lua source only: bytecode can crash the VM (it is not
-- verified), and luatrace runs as root.
local function load_text(path)
  local chunk, err = loadfile(path, "t")
  if not chunk then
    if err:find("wrong mode", 1, true) or err:find("binary chunk", 1, true) then
      error(("load %s: a bytecode file is refused (give Lua source)"):format(path or "stdin"), 0)
    end
    error(err, 0)
  end
  return chunk
end

-- A script may require its neighbours: its directory goes first on
-- package.path, when it passes the checks host/main.c applies to the rest
-- of the path (root or our own, nobody else can write it or any directory
-- above it). The working directory as such is never on the path.
local function add_script_dir(script)
  local dir = script:match("^(.*)/[^/]*$") or "."
  local real = core.realpath(dir == "" and "/" or dir)
  if real and core.safe_path_ok(real) then
    package.path = real:gsub("%%", "%%%%"):gsub(";", "") .. "/?.lua;" .. package.path
  end
end

-- Handlers for what the command line asks, in order of precedence; each
-- returns the exit status. Front ends (bpftrace, console) add theirs.
M.modes = {}

-- Lua code of the user's (and the console, listings) runs with the GC's
-- normal pause; a tool or a bpftrace program keeps the startup one until
-- its first wait for events (host/sys.c lt_gc_startup).
function M.modes.code(o, argv, i)
  core.gc_normal()
  local args = set_arg(argv, i - 1)
  M.code_text = o.code -- error messages quote its lines (no file to read)
  local chunk, err = load(o.code, "=(command line)", "t")
  if not chunk then error(err, 0) end
  chunk(unpack(args))
  return 0
end

function M.modes.tool(o, argv, i)
  local args = set_arg(argv, i - 1)
  if o.tool == true then return require("luatrace.tool").list_main() end
  local status = require("luatrace.tool").run(o.tool, unpack(args))
  return type(status) == "number" and status or 0
end

function M.modes.script(o, argv, i)
  core.gc_normal()
  local script = argv[i]
  if not script and core.isatty(0) then return M.modes.interactive(o, argv, i) end
  local args = set_arg(argv, script and i or i - 1)
  local chunk = load_text(script)
  if script then add_script_dir(script) end
  chunk(unpack(args))
  return 0
end

-- Errors are one line: Lua's "module 'x' not found:" lists every file it
-- tried on the lines after; that list is for -v.
function M.one_line(fn, ...)
  local args, n = { ... }, select("#", ...)
  local ok, res = pcall(fn, unpack(args, 1, n))
  if ok then return res end
  if type(res) == "string" then
    local head = res:match("^(.-module '[^']+' not found):\n")
    if head then res = head .. " (not on package.path or package.cpath; -v lists where it looked)" end
  end
  error(res, 0)
end

-- Under -v: errors carry a traceback. A stack overflow leaves no room to
-- build one (Lua then reports "error in error handling"): say what it was.
function M.traced(fn, ...)
  local args, n = { ... }, select("#", ...)
  local ok, res = xpcall(function() return fn(unpack(args, 1, n)) end, function(e)
    if type(e) ~= "string" then return e end
    return debug.traceback(e, 2)
  end)
  if ok then return res end
  if res == "error in error handling" then
    res = "stack overflow (too deep to show a traceback; run without -v to see where)"
  end
  error(res, 0)
end

function M.main(exe, ...)
  argv0 = exe or argv0
  local argv = { ... }
  -- `luatrace compile ...` (a file named "compile" is still a script)
  if argv[1] == "compile" and not core.stat("compile") then
    set_arg(argv, 1)
    return require("luatrace.compile_cli").main(unpack(argv, 2)) or 0
  end
  local o, i = M.parse(argv)
  if not o then return M.usage_error(i) end
  if o.help then io.stdout:write(usage_text()); return 0 end
  if o.version then
    io.stdout:write(("luatrace %s (%s)\n"):format(core.version, jit and jit.version or "Lua"))
    return 0
  end
  if o.verbose then core.set_verbose(true) end
  pairs = require("luatrace").pairs -- luacheck: ignore (the scripts' environment: 5.2's pairs)
  for _, setup in ipairs(M.setup) do
    local status = setup(o)
    if status then return status end
  end
  for _, mode in ipairs(M.mode_order) do
    if M.modes[mode] and (mode == "script" or o[mode]) then
      if not o.verbose then return M.one_line(M.modes[mode], o, argv, i) or 0 end
      return M.traced(M.modes[mode], o, argv, i) or 0
    end
  end
  return 0
end

-- The console (luatrace.console): -i [script [args]], and no script on a
-- terminal.
M.set_arg, M.load_text = set_arg, load_text
table.insert(M.options, 3, { "-i", key = "interactive",
  help = "interactive console (after the script or -e CODE, if given)" })
function M.modes.interactive(o, argv, i)
  core.gc_normal()
  return require("luatrace.console").cli(M, o, argv, i)
end

-- Which mode runs: the first in this list whose option was given;
-- "script" (a file, or stdin) is the fallback.
M.mode_order = { "interactive", "code", "tool", "script" }

-- Run before the mode, with the parsed options (a number ends the run with
-- that status): options that shape every mode, such as -p/-c.
M.setup = {}

-- Front ends register their options and modes.
require("luatrace.listing_cli").register(M)
require("luatrace.target").register(M)

-- bpftrace programs: `luatrace prog.bt`, `-e 'BEGIN {...}'`, -d, -f, --unsafe
require("luatrace.bpftrace.cli").register(M)

return M
