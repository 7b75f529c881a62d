-- luatrace.bpftrace.parser: tokens -> AST, by recursive descent with C's
-- operator precedence. Nodes are tables {k = kind, pos, epos, ...}:
--
--   program  {probes, structs}          probe  {attach = {words}, pred, body}
--   stmts    Expr{e} Assign{target, op, value} If{cond, body, els}
--            Unroll{count, body} While{cond, body} Return Block{body}
--   exprs    Int Str Builtin{name} Var{name} Map{name, keys} Call{name, args}
--            Binop{op, l, r} Unop{op, e} Ternary{c, a, b} Field{e, field, arrow}
--            Index{e, idx} Cast{ty, e} Tuple{elems} Param{n} ParamCount
--            Sizeof{ty | e} IncDec{op, e, post}
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
  local prog = { probes = {}, structs = {} }
  while not self:is("eof") do
    local tok = self:peek()
    if tok.t == "ident" and (tok.v == "struct" or tok.v == "union") and self:peek(3).t == "{" then
      prog.structs[#prog.structs + 1] = self:struct_def()
    elseif tok.t == "ident" and (tok.v == "config" or tok.v == "import" or tok.v == "macro"
        or tok.v == "fn" or tok.v == "let") and self:peek(2).t ~= ":" then
      self:fail_at(tok, "'" .. tok.v .. "' is not supported by luatrace's bpftrace front end")
    else
      prog.probes[#prog.probes + 1] = self:probe()
    end
  end
  if #prog.probes == 0 then
    errors.raise(self.src, self.name, 1, 2, "no probes in the program")
  end
  return prog
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
  return { pos = first.pos, epos = last.epos, text = self.src:sub(first.pos, last.epos - 1) .. ";" }
end

function P:probe()
  if self.buf[1] then self.lx.i = self.buf[1].pos end
  self.buf = {}
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
    if tok.v == "for" then
      self:fail_at(tok, "'for' loops are not supported by luatrace's bpftrace front end (use while or unroll)")
    end
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

-- ---- expressions, by precedence ----

local binprec = {
  ["||"] = 1, ["&&"] = 2, ["|"] = 3, ["^"] = 4, ["&"] = 5,
  ["=="] = 6, ["!="] = 6, ["<"] = 7, [">"] = 7, ["<="] = 7, [">="] = 7,
  ["<<"] = 8, [">>"] = 8, ["+"] = 9, ["-"] = 9, ["*"] = 10, ["/"] = 10, ["%"] = 10,
}

function P:expr()
  local c = self:binary(1)
  if self:accept("?") then
    local a = self:expr()
    self:expect(":", ":")
    local b = self:expr()
    return node("Ternary", c, b, { c = c, a = a, b = b })
  end
  return c
end

function P:binary(minp)
  local l = self:unary()
  while true do
    local op = self:peek()
    local p = binprec[op.t]
    -- inside a filter, '/' followed by '{' closes the predicate
    if not p or p < minp then return l end
    if op.t == "/" and self.in_pred_end and self:in_pred_end() then return l end
    self:take()
    local r = self:binary(p + 1)
    l = node("Binop", l, r, { op = op.t, l = l, r = r })
  end
end

local type_words = {
  int8 = true, int16 = true, int32 = true, int64 = true, uint8 = true, uint16 = true,
  uint32 = true, uint64 = true, struct = true, union = true, enum = true, char = true,
  int = true, long = true, short = true, unsigned = true, signed = true, void = true,
  u8 = true, u16 = true, u32 = true, u64 = true, s8 = true, s16 = true, s32 = true,
  s64 = true, bool = true, size_t = true, pid_t = true, uid_t = true, gid_t = true,
  inet = true, string = true, __u8 = true, __u16 = true, __u32 = true, __u64 = true,
  __s8 = true, __s16 = true, __s32 = true, __s64 = true,
}

-- A C type name after '(' or in sizeof: words, then '*'s, then an
-- optional [N] (array casts as in bpftrace: (uint8[4])x).
function P:type_name()
  local first = self:peek()
  local words = {}
  while self:is("ident") do
    local w = self:take().v
    words[#words + 1] = w
    if w == "struct" or w == "union" or w == "enum" then
      words[#words + 1] = self:expect("ident", "identifier").v
      break
    end
    if not (w == "unsigned" or w == "signed" or w == "long" or w == "short") then
      -- "unsigned int", "long long", ...
      break
    end
  end
  local ptr = 0
  while self:accept("*") do ptr = ptr + 1 end
  local arr
  if self:accept("[") then
    arr = self:expect("int", "integer").v
    self:expect("]", "]")
  end
  return { name = table.concat(words, " "), ptr = ptr, array = arr, pos = first.pos, epos = self.last.epos }
end

function P:looks_like_cast()
  local t1, t2 = self:peek(2), self:peek(3)
  if t1.t ~= "ident" then return false end
  if t1.v == "struct" or t1.v == "union" or t1.v == "enum" then return true end
  if not type_words[t1.v] and not (self.struct_names and self.struct_names[t1.v]) then
    -- a typedef name followed by '*' then ')'
    return t2.t == "*" and (self:peek(4).t == ")" or self:peek(4).t == "*")
  end
  return t2.t == ")" or t2.t == "*" or t2.t == "[" or t2.t == "ident"
end

function P:unary()
  local tok = self:peek()
  if tok.t == "!" or tok.t == "~" or tok.t == "-" or tok.t == "*" or tok.t == "&" then
    self:take()
    local e = self:unary()
    return node("Unop", tok, e, { op = tok.t, e = e })
  end
  if tok.t == "++" or tok.t == "--" then
    self:take()
    local e = self:unary()
    return node("IncDec", tok, e, { op = tok.t, e = e, post = false })
  end
  if tok.t == "(" and self:looks_like_cast() then
    self:take()
    local ty = self:type_name()
    self:expect(")", ")")
    local e = self:unary()
    return node("Cast", tok, e, { ty = ty, e = e })
  end
  return self:postfix(self:primary())
end

function P:postfix(e)
  while true do
    local tok = self:peek()
    if tok.t == "." or tok.t == "->" then
      self:take()
      local f = self:peek()
      if f.t == "int" then -- tuple index: $t.0
        self:take()
        e = node("Index", e, f, { e = e, idx = node("Int", f, f, { v = f.v }), tuple = true })
      else
        f = self:expect("ident", "identifier")
        e = node("Field", e, f, { e = e, field = f.v, arrow = tok.t == "->" })
      end
    elseif tok.t == "[" then
      self:take()
      local idx = self:expr()
      local close = self:expect("]", "]")
      e = node("Index", e, close, { e = e, idx = idx })
    elseif tok.t == "++" or tok.t == "--" then
      self:take()
      e = node("IncDec", e, tok, { op = tok.t, e = e, post = true })
    else
      return e
    end
  end
end

function P:args()
  local list = {}
  self:expect("(", "(")
  if self:accept(")") then return list end
  repeat
    list[#list + 1] = self:expr()
  until not self:accept(",")
  self:expect(")", ') or ","')
  return list
end

function P:primary()
  local tok = self:peek()
  if tok.t == "int" then self:take(); return node("Int", tok, tok, { v = tok.v }) end
  if tok.t == "string" then self:take(); return node("Str", tok, tok, { v = tok.v }) end
  if tok.t == "param" then self:take(); return node("Param", tok, tok, { n = tok.v }) end
  if tok.t == "paramcount" then self:take(); return node("ParamCount", tok, tok) end
  if tok.t == "var" then self:take(); return node("Var", tok, tok, { name = tok.v }) end
  if tok.t == "map" then
    self:take()
    local n = node("Map", tok, tok, { name = tok.v })
    if self:is("[") then
      self:take()
      local keys = {}
      if not self:is("]") then
        repeat keys[#keys + 1] = self:expr() until not self:accept(",")
      end
      n.keys = keys
      n.epos = self:expect("]", '] or ","').epos
    end
    return n
  end
  if tok.t == "(" then
    self:take()
    local e = self:expr()
    if self:is(",") then
      local elems = { e }
      while self:accept(",") do elems[#elems + 1] = self:expr() end
      local close = self:expect(")", ')')
      return node("Tuple", tok, close, { elems = elems })
    end
    local close = self:expect(")", ')')
    e.paren = true
    e.pos, e.epos = tok.pos, close.epos
    return e
  end
  if tok.t == "ident" then
    self:take()
    if tok.v == "sizeof" then
      self:expect("(", "(")
      local n
      if self:is("ident") and (type_words[self:peek().v] or self:peek(2).t == "*"
          or self:peek().v == "struct") and self:peek(2).t ~= "(" then
        n = node("Sizeof", tok, tok, { ty = self:type_name() })
      else
        n = node("Sizeof", tok, tok, { e = self:expr() })
      end
      n.epos = self:expect(")", ")").epos
      return n
    end
    if self:is("(") then
      local args = self:args()
      return node("Call", tok, self.last, { name = tok.v, args = args })
    end
    -- arg0, args, comm, ... (checked by the semantic pass)
    return node("Builtin", tok, tok, { name = tok.v })
  end
  self:unexpected()
end

-- Parse src (named name in errors) into a program AST.
function M.parse(src, name)
  local p = setmetatable({ src = src, name = name or "stdin", buf = {} }, P)
  p.lx = lexer.new(src, p.name)
  local prog = p:program()
  prog.src, prog.name = src, p.name
  return prog
end

return M
