-- luatrace.bpftrace.parser: tokens -> AST, by recursive descent with C's
-- operator precedence. Nodes are tables {k = kind, pos, epos, ...}:
--
--   program  {probes, structs, config}        probe  {attach = {words}, pred, body}
--   stmts    Expr{e} Assign{target, op, value} If{cond, body, els}
--            Unroll{count, body} While{cond, body} Return Block{body}
--            For{var, map | from, to, body}
--   exprs    Int Str Builtin{name} Var{name} Map{name, keys} Call{name, args}
--            Binop{op, l, r} Unop{op, e} Ternary{c, a, b} Field{e, field, arrow}
--            Index{e, idx} Cast{ty, e} Tuple{elems} Param{n} ParamCount
--            Sizeof{ty | e} Offsetof{ty | e, path} IncDec{op, e, post}
local lexer = require "luatrace.bpftrace.lexer"
local errors = require "luatrace.bpftrace.errors"

local M = {}
local P = {}
P.__index = P

local function describe(tok)
  if tok.t == "eof" then return "end of file" end
  if tok.t == "string" then return "string" end
  if tok.t == "int" then return "integer" end
  if tok.t == "ident" then return "identifier" end
  if tok.t == "map" then return "map" end
  if tok.t == "var" then return "variable" end
  return tok.raw or tok.t
end

function P:peek(n)
  n = n or 1
  while #self.buf < n do self.buf[#self.buf + 1] = self.lx:next() end
  return self.buf[n]
end
function P:take()
  local t = self:peek()
  table.remove(self.buf, 1)
  self.last = t
  return t
end
function P:is(t, v)
  local tok = self:peek()
  return tok.t == t and (v == nil or tok.v == v)
end
function P:accept(t, v)
  if self:is(t, v) then return self:take() end
end
function P:fail_at(tok, msg)
  errors.raise(self.src, self.name, tok.pos, tok.epos, msg)
end
function P:unexpected(expecting)
  local tok = self:peek()
  self:fail_at(tok, "syntax error, unexpected " .. describe(tok) ..
    (expecting and (", expecting " .. expecting) or ""))
end
function P:expect(t, what)
  if self:is(t) then return self:take() end
  self:unexpected(what or t)
end

local function node(k, from, to, t)
  t = t or {}
  t.k, t.pos, t.epos = k, from.pos, (to or from).epos
  return t
end

-- ---- top level ----

function P:program()
  local prog = { probes = {}, structs = {}, macros = {} }
  while not self:is("eof") do
    local tok = self:peek()
    if tok.t == "ident" and (tok.v == "struct" or tok.v == "union") and self:peek(3).t == "{" then
      prog.structs[#prog.structs + 1] = self:struct_def()
    elseif tok.t == "ident" and tok.v == "config" and self:peek(2).t == "=" then
      if #prog.probes > 0 or prog.config then
        self:fail_at(tok, "the config block must come first, before any probe")
      end
      prog.config = self:config_block()
    elseif tok.t == "ident" and tok.v == "macro" and self:peek(2).t == "ident" and self:peek(3).t == "(" then
      local m = self:macro_def()
      if prog.macros[m.name] then self:fail_at(m.name_tok, "macro " .. m.name .. " is defined twice") end
      prog.macros[m.name] = m
    elseif tok.t == "ident" and (tok.v == "import"
        or tok.v == "fn" or tok.v == "let") and self:peek(2).t ~= ":" then
      self:fail_at(tok, "'" .. tok.v .. "' is not supported by luatrace's bpftrace front end"
        .. (tok.v == "fn" and " (write a macro instead)" or ""))
    else
      prog.probes[#prog.probes + 1] = self:probe()
    end
  end
  if #prog.probes == 0 then
    errors.raise(self.src, self.name, 1, 2, "no probes in the program")
  end
  return prog
end

-- config = { key = value; ... }: a list of {key, value, tok} (checked by
-- config.lua). Values are integers, strings or bare words (true, perf).
function P:config_block()
  self:take(); self:take()
  self:expect("{", "{")
  local list = {}
  while not self:accept("}") do
    if self:accept(";") then goto continue end
    do
      local key = self:expect("ident", "identifier")
      self:expect("=", "=")
      local v = self:peek()
      if v.t ~= "int" and v.t ~= "string" and v.t ~= "ident" then self:unexpected("a value") end
      self:take()
      list[#list + 1] = { key = key.v, value = v.v, tok = key, vtok = v }
      if not self:is("}") then self:expect(";", "; or }") end
    end
    ::continue::
  end
  self:accept(";")
  return list
end

-- macro name($var, @map, ident) { statements; value }: expanded inline
-- at each call (macros.lua).
function P:macro_def()
  local tok = self:take()
  local name = self:take()
  self:expect("(", "(")
  local params = {}
  if not self:accept(")") then
    repeat
      local p = self:peek()
      if p.t ~= "var" and p.t ~= "map" and p.t ~= "ident" then self:unexpected("a parameter ($var, @map or a name)") end
      self:take()
      params[#params + 1] = { kind = p.t, name = p.v, tok = p }
    until not self:accept(",")
    self:expect(")", ') or ","')
  end
  local body = self:block()
  return { name = name.v, name_tok = name, params = params, body = body, pos = tok.pos, epos = body.epos }
end

-- struct X { ... }; kept as C text for the generated program.
function P:struct_def()
  local first = self:take()
  local depth, last = 0, nil
  repeat
    last = self:take()
    if last.t == "{" then depth = depth + 1 elseif last.t == "}" then depth = depth - 1 end
    if last.t == "eof" then self:fail_at(last, "syntax error, unterminated struct definition") end
  until depth == 0 and last.t == "}"
  self:accept(";")
  local text = require("luatrace.bpftrace.defines").expand_text(self.src:sub(first.pos, last.epos - 1), self.lx.defines)
  return { pos = first.pos, epos = last.epos, text = text .. ";" }
end

function P:probe()
  if self.buf[1] then self.lx.i = self.buf[1].pos end
  self.buf, self.lx.pending = {}, {}
  local attach = {}
  repeat
    local w = self.lx:attach_word()
    if w.v == "" then
      self.buf = {}
      self:unexpected("probe")
    end
    attach[#attach + 1] = w
    self.lx:skip()
    local more = self.lx.src:sub(self.lx.i, self.lx.i) == ","
    if more then self.lx.i = self.lx.i + 1 end
  until not more
  self.buf = {}
  local p = { k = "Probe", attach = attach, pos = attach[1].pos, epos = attach[#attach].epos }
  if self:accept("/") then
    self.in_pred_end = function() return self:peek(2).t == "{" end
    p.pred = self:expr()
    self.in_pred_end = nil
    self:expect("/", "/")
  end
  if not self:is("{") then self:unexpected("{") end
  p.body = self:block()
  return p
end

-- ---- statements ----

function P:block()
  local open = self:expect("{", "{")
  local body = {}
  while not self:is("}") do
    if self:is("eof") then self:unexpected("}") end
    if self:accept(";") then goto continue end
    body[#body + 1] = self:stmt()
    if not self:is("}") then
      local s = body[#body]
      if s.k ~= "If" and s.k ~= "Unroll" and s.k ~= "While" and s.k ~= "For" and s.k ~= "Block" then
        self:expect(";", "; or }")
      end
    end
    ::continue::
  end
  local close = self:take()
  return node("Block", open, close, { body = body })
end

local assign_ops = { ["="] = true, ["+="] = true, ["-="] = true, ["*="] = true, ["/="] = true,
  ["%="] = true, ["&="] = true, ["|="] = true, ["^="] = true, ["<<="] = true, [">>="] = true }

function P:stmt()
  local tok = self:peek()
  if tok.t == "ident" then
    if tok.v == "if" then return self:if_stmt() end
    if tok.v == "unroll" then
      self:take(); self:expect("(", "(")
      local n = self:expr()
      self:expect(")", ")")
      local body = self:block()
      return node("Unroll", tok, body, { count = n, body = body })
    end
    if tok.v == "while" then
      self:take(); self:expect("(", "(")
      local c = self:expr()
      self:expect(")", ")")
      local body = self:block()
      return node("While", tok, body, { cond = c, body = body })
    end
    if tok.v == "for" then return self:for_stmt() end
    if tok.v == "return" then
      self:take()
      local e
      if not self:is(";") and not self:is("}") then e = self:expr() end
      return node("Return", tok, self.last, { e = e })
    end
    if tok.v == "break" or tok.v == "continue" then
      self:take()
      return node(tok.v == "break" and "Break" or "Continue", tok)
    end
  end
  if tok.t == "{" then return self:block() end
  -- `let $x = v` (current bpftrace's declaration): an assignment here;
  -- `let $x;` alone declares nothing until the first assignment
  if tok.t == "ident" and tok.v == "let" and self:peek(2).t == "var" then
    self:take()
    if self:peek(2).t == ";" or self:peek(2).t == "}" then
      local v = self:take()
      return node("Block", v, v, { body = {} })
    end
  end
  local e = self:expr()
  local op = self:peek()
  if assign_ops[op.t] then
    if e.k ~= "Map" and e.k ~= "Var" then
      self:fail_at(op, "syntax error, unexpected " .. op.t .. ", expecting ; or }")
    end
    self:take()
    local v = self:expr()
    return node("Assign", e, v, { target = e, op = op.t, value = v })
  end
  return node("Expr", e, e, { e = e })
end

-- for ($kv : @map) { } and for ($i : START..END) { }
function P:for_stmt()
  local tok = self:take()
  self:expect("(", "(")
  local var = self:expect("var", "variable")
  self:expect(":", ":")
  local n = node("For", tok, tok, { var = node("Var", var, var, { name = var.v }) })
  if self:is("map") and self:peek(2).t == ")" then
    local m = self:take()
    n.map = node("Map", m, m, { name = m.v })
  else
    n.from = self:unary()
    self:expect("..", "..")
    n.to = self:unary()
  end
  self:expect(")", ")")
  n.body = self:block()
  n.epos = n.body.epos
  return n
end

function P:if_stmt()
  local tok = self:take()
  local paren = self:accept("(")
  local c = self:expr()
  if paren then self:expect(")", ")") end
  local body = self:block()
  local n = node("If", tok, body, { cond = c, body = body })
  if self:accept("ident", "else") then
    if self:is("ident", "if") then
      n.els = self:if_stmt()
    else
      n.els = self:block()
    end
    n.epos = n.els.epos
  end
  return n
end

require("luatrace.bpftrace.parse_expr")(P, node)

-- Parse src (named name in errors) into a program AST.
function M.parse(src, name)
  local p = setmetatable({ src = src, name = name or "stdin", buf = {} }, P)
  p.lx = lexer.new(src, p.name, require("luatrace.bpftrace.defines").of_program(src))
  local prog = p:program()
  prog.src, prog.name = src, p.name
  return prog
end

return M
