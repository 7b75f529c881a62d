-- luatrace.console.eval: what a chunk typed at the prompt is, and running it.
--
--   eval.parse(src) -> "incomplete"
--                    | "lua", fn, is_expression
--                    | "bpftrace", src
--                    | "error", message
--   eval.call(fn) -> true, n, results... | false, message, interrupted
--
-- Lua first tries `return <src>` (so an expression prints its value; a
-- leading "=" is lua.c's spelling of the same), then the chunk as
-- statements. A chunk whose error is at '<eof>' is incomplete and the
-- console reads another line, as lua.c does. A chunk that -e would run as
-- bpftrace (`t:sched:sched_switch {`, `BEGIN {`), or that starts with a
-- probe and is not Lua, is a bpftrace program, complete when its braces
-- balance.
--
-- Chunks run with the JIT off for their own functions (jit.off(f, true)):
-- LuaJIT never checks the interrupt hook inside compiled code, and the
-- console must stop a loop typed at the prompt on Ctrl-C. The library's
-- own code keeps the JIT.
local core = require "luatrace.core"
local bt_cli = require "luatrace.bpftrace.cli"

local M = {}

-- "@": BPF{text=} finds the prompt as its caller (clang's file name).
M.chunkname = "@stdin"

-- bpftrace's probe providers, long and short names (the front end's list).
M.providers = require("luatrace.bpftrace.probes").providers
local providers = M.providers

-- Whether src starts like a bpftrace program (a probe or BEGIN/END).
function M.starts_with_probe(src)
  local s = src:gsub("^%s+", "")
  if s:match("^BEGIN[%s,{]") or s:match("^END[%s,{]") or s == "BEGIN" or s == "END" then
    return true
  end
  local p = s:match("^(%a+):")
  return p ~= nil and providers[p] ~= nil
end

-- Braces still open in bpftrace source (strings and comments skipped).
local function open_braces(src)
  local depth, i, n = 0, 1, #src
  while i <= n do
    local c = src:sub(i, i)
    if c == '"' then
      i = i + 1
      while i <= n and src:sub(i, i) ~= '"' do
        if src:sub(i, i) == "\\" then i = i + 1 end
        i = i + 1
      end
    elseif src:sub(i, i + 1) == "//" then
      i = (src:find("\n", i, true) or n) 
    elseif src:sub(i, i + 1) == "/*" then
      i = (select(2, src:find("*/", i + 2, true)) or n)
    elseif c == "{" then
      depth = depth + 1
    elseif c == "}" then
      depth = depth - 1
    end
    i = i + 1
  end
  return depth
end

local function incomplete(err)
  return err:sub(-7) == "'<eof>'"
end

local function identity(...) return ... end

-- final: no more input will come (an incomplete chunk is an error).
function M.parse(src, final)
  -- what -e takes for bpftrace is bpftrace here too, even where it would
  -- also be valid Lua (`BEGIN { printf("hi\n"); exit(); }`)
  local function bpftrace()
    if not final and (open_braces(src) > 0 or not src:find("{", 1, true)) then
      return "incomplete"
    end
    return "bpftrace", src
  end
  if bt_cli.is_program(src) then return bpftrace() end
  local expr = src:match("^%s*=(.*)$")
  if expr then src = expr end
  -- Not `return <src>`: a call there is a tail call and its error would
  -- lose the "stdin:1:" position.
  local fn, err = load("local __lt_id = ...; return __lt_id(" .. src .. "\n)", M.chunkname, "t")
  if fn then
    if jit then jit.off(fn, true) end
    return "lua", function() return fn(identity) end, true
  end
  fn, err = load(src, M.chunkname, "t")
  if fn then return "lua", fn, false end
  if not expr and M.starts_with_probe(src) then return bpftrace() end
  if incomplete(err) and not final then return "incomplete" end
  return "error", err
end

-- One line for an error: the message itself (a traceback under -v).
local function handler(e)
  if type(e) == "table" and e.console_exit then return e end
  local msg = tostring(e)
  if core.verbose() then msg = debug.traceback(msg, 2) end
  return msg
end

local function pack(ok, ...)
  return ok, select("#", ...), ...
end

-- Run fn (JIT off for it and its nested functions); Ctrl-C while it runs
-- ends it with "interrupted". The interrupt is reset afterwards, so the
-- session's waits work again.
function M.call(fn, ...)
  if jit then jit.off(fn, true) end
  local args, nargs = { ... }, select("#", ...)
  local res = { pack(xpcall(function() return fn(unpack(args, 1, nargs)) end, handler)) }
  local interrupted = core.interrupted()
  M.interrupted = interrupted -- also when fn returned (a wait ended by Ctrl-C)
  M.signal = core.lineedit.pending_signal() -- SIGTERM/SIGHUP: the console ends
  core.reset_interrupt()
  if res[1] then return unpack(res, 1, res[2] + 2) end
  local err = res[3]
  if type(err) == "table" then error(err, 0) end -- exit(): up to the console
  if interrupted and err:find("interrupted", 1, true) then
    return false, "interrupted", true
  end
  -- Objects built half-way by the failed chunk go now, not at some later
  -- collection.
  collectgarbage("collect")
  return false, err, false
end

return M
