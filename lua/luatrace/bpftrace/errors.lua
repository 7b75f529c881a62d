-- luatrace.bpftrace.errors: located errors in bpftrace's shape:
--
--   prog.bt:2:10-12: ERROR: syntax error, unexpected ;
--     @x = 1 +;
--            ~~
--
-- raise() throws a table {bt_error = text} so callers can tell a user's
-- mistake (print it, exit 1) from a bug in the compiler.
local M = {}

local mt = { __tostring = function(e) return e.bt_error end }

-- Line, column (1-based) of byte offset pos in src, and the line's text.
function M.where(src, pos)
  local line, start = 1, 1
  for nl in src:gmatch("()\n") do
    if nl >= pos then break end
    line, start = line + 1, nl + 1
  end
  local stop = (src:find("\n", start, true) or #src + 1) - 1
  return line, pos - start + 1, src:sub(start, stop)
end

function M.format(src, name, pos, epos, msg)
  pos = math.max(1, math.min(pos or 1, #src + 1))
  local line, col, text = M.where(src, pos)
  local width = math.max(1, math.min((epos or pos + 1) - pos, #text - col + 1))
  local caret = text:sub(1, col - 1):gsub("[^\t]", " ") .. ("~"):rep(width)
  return ("%s:%d:%d-%d: ERROR: %s\n%s\n%s"):format(name or "stdin", line, col, col + width,
    msg, text, caret)
end

function M.raise(src, name, pos, epos, msg)
  error(setmetatable({ bt_error = M.format(src, name, pos, epos, msg) }, mt), 0)
end

-- An error at a node (anything with pos/epos).
function M.at(ctx, node, msg)
  M.raise(ctx.src, ctx.name, node and node.pos, node and node.epos, msg)
end

-- An error without a place (environment: a probe that cannot attach).
function M.plain(msg)
  error(setmetatable({ bt_error = "ERROR: " .. msg }, mt), 0)
end

function M.is(e) return type(e) == "table" and e.bt_error ~= nil end

return M
