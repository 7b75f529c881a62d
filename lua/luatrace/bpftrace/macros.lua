-- luatrace.bpftrace.macros: current bpftrace's macros, expanded inline
-- (methods of the per-function generator F, see codegen.lua).
--
--   macro add_one(x) { x + 1 }              -- x: an expression, pasted at each use
--   macro bump($a, @b) { $a += 1; @b += 1; } -- $a, @b: the caller's variable and map
--   macro one() { 1 }                       -- called as one() or as a bare `one`
--
-- A call expands to the body's statements, and its value is the body's
-- last statement when that is an expression. Macros are hygienic as in
-- bpftrace: variables the body creates are its own (renamed per
-- expansion), and the body reaches only the maps passed to it.
return function(F, G)

local MAX_DEPTH = 16

-- A copy of node with the macro's parameters replaced.
local function subst(node, env)
  if type(node) ~= "table" then return node end
  if node.k == "Var" then
    local to = env.vars[node.name]
    if not to then
      to = "$__m" .. env.id .. "_" .. node.name:sub(2)
      env.vars[node.name] = to
    end
    local c = {}
    for k, v in pairs(node) do c[k] = v end
    c.name = to
    return c
  end
  if node.k == "Builtin" and env.exprs[node.name] then
    return env.exprs[node.name] -- the caller's expression, as written
  end
  local c = {}
  for k, v in pairs(node) do
    if type(v) == "table" and k ~= "ty" then c[k] = subst(v, env) else c[k] = v end
  end
  if node.k == "Map" then
    local to = env.maps[node.name]
    if not to then
      env.fail(node, ("macro %s: map %s is not one of its parameters (a macro reaches only the maps passed to it)"):format(
        env.macro, node.name))
    end
    c.name = to
  end
  return c
end

-- The macro a call or a bare identifier names, if any.
function F:macro_of(e)
  local macros = self.g.ast.macros
  if not macros then return nil end
  if e.k == "Call" then return macros[e.name] end
  if e.k == "Builtin" then
    local m = macros[e.name]
    if m and #m.params == 0 then return m end
  end
end

-- Expand macro m at call e: emit its statements, return its value
-- (stmt_ctx: the call is a statement, its value unused).
function F:expand_macro(m, e, stmt_ctx)
  local args = e.args or {}
  if #args ~= #m.params then
    self:err(e, ("macro %s takes %d argument%s (%d given)"):format(m.name, #m.params,
      #m.params == 1 and "" or "s", #args))
  end
  self.macro_depth = (self.macro_depth or 0) + 1
  if self.macro_depth > MAX_DEPTH then self:err(e, "macro " .. m.name .. ": expansions nest too deep (recursion?)") end
  self.g.nmacro = (self.g.nmacro or 0) + 1
  local env = { vars = {}, exprs = {}, maps = {}, id = self.g.nmacro, macro = m.name,
    fail = function(n, msg) self:err(n, msg) end }
  for i, p in ipairs(m.params) do
    local a = args[i]
    if p.kind == "var" then
      if a.k ~= "Var" then self:err(a, ("macro %s: argument %d must be a scratch variable (%s)"):format(m.name, i, p.name)) end
      env.vars[p.name] = a.name
    elseif p.kind == "map" then
      if a.k ~= "Map" or a.keys then self:err(a, ("macro %s: argument %d must be a map (%s)"):format(m.name, i, p.name)) end
      env.maps[p.name] = a.name
    else
      env.exprs[p.name] = a
    end
  end
  local body = subst(m.body, env).body
  local value
  for i, s in ipairs(body) do
    if i == #body and s.k == "Expr" then
      value = self:expr(s.e, stmt_ctx)
    else
      self:stmt(s)
    end
  end
  self.macro_depth = self.macro_depth - 1
  return value or { ty = require("luatrace.bpftrace.types").NONE }
end

end
