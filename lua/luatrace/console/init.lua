-- luatrace.console: the interactive console (docs/CONSOLE.md).
--
--   luatrace                      on a terminal
--   luatrace -i [script [args]]   run the script (or a .bt program), then
--                                 the console (its globals stay); without a
--                                 terminal the console reads chunks from
--                                 stdin, no prompt
--
-- A loop: read a chunk (lines until it is complete), run it (Lua, a
-- bpftrace program, or a .command), print what it returns. Ctrl-C stops
-- what runs and comes back to the prompt; the session's objects stay.
-- Ctrl-D, exit() or SIGTERM detach everything and leave with 0.
local core = require "luatrace.core"
local eval = require "luatrace.console.eval"
local show = require "luatrace.console.show"
local session = require "luatrace.console.session"
local complete = require "luatrace.console.complete"
local history = require "luatrace.console.history"

local le = core.lineedit
local SIGINT = 2

local M = {}

M.prompt, M.more_prompt = "lt> ", "... "

local EXIT = { console_exit = true } -- exit(): the error that ends the session
local tty_out = false -- the terminal echoes ^C without a newline

local function out(s)
  io.stdout:write(s, "\n")
  io.stdout:flush()
end

local function err_line(msg)
  io.stdout:flush()
  io.stderr:write(msg:gsub("\n*$", ""), "\n")
  io.stderr:flush()
end

local function print_results(n, ...)
  if n == 0 then return end
  local parts = {}
  for i = 1, n do parts[i] = show.text((select(i, ...))) end
  out(table.concat(parts, "\t"))
end

local help_text = [[
Lua at the prompt (expressions print their value; `=expr` too), or a
bpftrace program (a line that starts with a probe: `t:syscalls:sys_enter_openat
{ @[comm] = count(); }`), run until Ctrl-C; its maps print and stay in _bt.
  .probes       what is attached, per object      (also probes())
  .close N      detach and close object N         (also b:close())
  tools.NAME{opts}  start a tool in the background (its lines print here);
  tools.NAME("-x")  run it as `luatrace -m NAME -x` until Ctrl-C; tools() lists
  .run FILE [args]  run a Lua file or a .bt program in the session; again:
                reload it (what its last run attached is closed first)
  .tools        the tools there are
  .help         this text
  exit()        detach everything and leave (also Ctrl-D)
Ctrl-C stops what runs and comes back here; Tab completes names and probes.]]

-- bpftrace at the prompt: load, run until exit() or Ctrl-C; END runs and
-- the maps print as bpftrace prints them. The probes are detached then,
-- but the object stays open so its maps stay readable (_bt.maps["@x"])
-- until `.close N` or the end of the session.
local function keep_maps(p)
  for _, l in ipairs(p.links) do l:close() end
  p.links = {}
  if p.bpf then
    require("luatrace.bpf.attach").close(p.bpf)
    p.bpf._chans:close()
  end
end

local function run_bpftrace(src, name, args)
  local bt = require "luatrace.bpftrace"
  local ok, p = bt.try(bt.load, src, { name = name or "stdin", args = args })
  if not ok then error(p, 0) end
  p.close = keep_maps
  -- a hist()/lhist() map prints as bpftrace draws it
  local views, mapprint = p.maps, require "luatrace.bpftrace.mapprint"
  p.maps = setmetatable({}, { __index = function(_, name)
    local v, m = views[name], p.mapdesc[name]
    if type(v) == "table" and m and (m.kind == "hist" or m.kind == "lhist") then
      setmetatable(v, { __show = function() return (mapprint.text(p, m):gsub("%s+$", "")) end })
    end
    return v
  end })
  session.track("bpftrace", (src:match("^%s*(.-)%s*{") or "program"), p.bpf, p)
  _G._bt = p
  p:run()
  return p
end

-- A file run in the session (.run FILE args, -i FILE): Lua, or bpftrace
-- for *.bt. Running it again reloads it in place: what its last run
-- attached is closed first, its globals are set anew.
local function file_runner(path, args)
  if path:match("%.bt$") then
    local fh, err = io.open(path)
    if not fh then error(("read %s: %s"):format(path, err), 0) end
    local src = fh:read("*a")
    fh:close()
    return function() return run_bpftrace(src, path, args) end
  end
  local chunk, err = loadfile(path, "t")
  if not chunk then error(err, 0) end
  return function() return chunk(unpack(args)) end
end

local function run_file(path, args)
  local closed = session.close_source(path)
  if closed > 0 then out(("closed %d object%s of %s's last run"):format(closed, closed == 1 and "" or "s", path)) end
  session.source = path
  local r = { eval.call(file_runner(path, args)) }
  session.source = nil
  return unpack(r)
end

local commands = {}
function commands.probes() out(session.probes_text()) end
function commands.help() out(help_text) end
function commands.close(arg)
  local ok, e = session.close(tonumber(arg))
  if not ok then err_line(e) end
end
function commands.exit() error(EXIT, 0) end
function commands.tools() require("luatrace.tool").list() end
function commands.run(arg)
  local words = {}
  for w in arg:gmatch("%S+") do words[#words + 1] = w end
  if not words[1] then err_line(".run FILE [args]: a file to run") return false end
  local ok, e, interrupted = run_file(words[1], { unpack(words, 2) })
  if not ok then err_line(interrupted and "interrupted" or e) return false end
end

local function run_command(line)
  local name, arg = line:match("^%.(%a+)%s*(.-)%s*$")
  local f = name and commands[name]
  if not f then err_line(("unknown command %s (.help lists them)"):format(line)) return false end
  return f(arg) ~= false
end

-- The globals a session adds.
local function install_globals()
  _G.exit = function(code)
    EXIT.code = tonumber(code) or 0
    error(EXIT, 0)
  end
  _G.probes = function() out(session.probes_text()) end
  _G.help = function() out(help_text) end
  if _G.tools == nil then _G.tools = require("luatrace.console.tools").tools end
  if _G.lt == nil then _G.lt = require "luatrace" end
  if _G.BPF == nil then _G.BPF = _G.lt.BPF end
end

-- Run one complete chunk; returns false when a chunk failed.
local function run_chunk(src, final)
  if src:match("^%s*%.%a") then
    local ok, e = pcall(run_command, src)
    if not ok then
      if e == EXIT then error(EXIT, 0) end
      err_line(tostring(e))
      return false
    end
    return e
  end
  local kind, a = eval.parse(src, final)
  if kind == "error" then err_line(a) return false end
  local res
  if kind == "bpftrace" then
    res = { eval.call(run_bpftrace, a) }
    if res[1] then res = { true, 0 } end -- its maps are printed already
  else
    res = { eval.call(a) }
  end
  if not res[1] then
    if res[3] then err_line(tty_out and "\ninterrupted" or "interrupted") return true end
    err_line(res[2])
    return false
  end
  if eval.interrupted and tty_out then out("") end -- after the terminal's ^C
  -- what the chunk made the probes send, before its values (a scripted
  -- console has no prompt that waits for events)
  session.drain_events(function() end)
  local ok, e = pcall(print_results, res[2], unpack(res, 3, res[2] + 2))
  if not ok then err_line("print: " .. tostring(e)) end
  return true
end

-- Readers: the terminal (line editor, history, completion, events of live
-- objects printed while waiting) or a pipe (plain lines, no prompt).
local function tty_reader()
  le.open()
  le.set_completer(complete.line)
  local hist = history.open()
  return function(prompt)
    local function watch()
      local fds, tick = session.event_fds()
      if #fds > 0 then
        le.watch(fds, function()
          session.drain_events(le.begin_output)
          watch() -- a callback may have closed an object
        end, tick)
      else
        le.watch(nil)
      end
    end
    watch()
    local line, sig = le.read(prompt)
    if line == false then return false, sig end
    if line and line:match("%S") then
      le.add_history(line)
      hist:add(line)
    end
    return line
  end, function() le.close() end
end

local function pipe_reader()
  return function()
    return io.stdin:read("*l")
  end, function() end
end

-- The console; opts: file (run first, as .run) or script (a function run
-- first), args.
function M.run(opts)
  opts = opts or {}
  local tty = core.isatty(0) and core.isatty(1)
  tty_out = tty
  install_globals()
  session.install()
  le.console_mode(true)
  local failed = false
  local status = 0
  local close = function() end
  local ok, e = pcall(function()
    if opts.script or opts.file then
      local r
      if opts.file then
        r = { run_file(opts.file, opts.args or {}) }
      else
        r = { eval.call(opts.script, unpack(opts.args or {})) }
      end
      if not r[1] then
        if r[3] then err_line("interrupted") else err_line(r[2]); failed = true end
      end
    end
    if tty then out(("luatrace %s console: .help for help, Ctrl-D to leave"):format(core.version)) end
    local read
    read, close = (tty and tty_reader or pipe_reader)()
    local buf
    while true do
      local line, sig = read(buf and M.more_prompt or M.prompt)
      if line == nil then break end
      if line == false then
        buf = nil
        core.reset_interrupt()
        if sig ~= SIGINT then break end -- SIGTERM, SIGHUP: leave
      else
        buf = buf and (buf .. "\n" .. line) or line
        if not buf:match("%S") then
          buf = nil
        elseif buf:match("^%s*%.%a") or eval.parse(buf) ~= "incomplete" then
          local src = buf
          buf = nil
          if not run_chunk(src) then failed = true end
          if eval.signal and eval.signal ~= 0 and eval.signal ~= SIGINT then break end
        end
      end
    end
    if buf then failed = not run_chunk(buf, true) or failed end
  end)
  close()
  if not ok then
    if e ~= EXIT then
      le.console_mode(false)
      session.uninstall()
      error(e, 0)
    end
    status = EXIT.code or 0
  elseif failed and not tty then
    status = 1 -- a scripted console reports a failed chunk
  end
  session.close_all()
  session.uninstall()
  le.console_mode(false)
  return status
end

-- The command line's console mode (cli.lua): `-i [script [args]]`,
-- `-i -e CODE`, or no script on a terminal.
function M.cli(cli, o, argv, i)
  local opts = {}
  if o.code then
    opts.args = cli.set_arg(argv, i - 1)
    local chunk, err = load(o.code, "=(command line)", "t")
    if not chunk then error(err, 0) end
    opts.script = chunk
  elseif argv[i] then
    -- a Lua script or a bpftrace program (*.bt): run first, as `.run`
    opts.args = cli.set_arg(argv, i)
    opts.file = argv[i]
    if not argv[i]:match("%.bt$") then cli.load_text(argv[i]) end -- a bytecode file is refused
  else
    cli.set_arg(argv, i - 1)
  end
  return M.run(opts)
end

return M
