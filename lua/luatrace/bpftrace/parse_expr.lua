-- luatrace.bpftrace.parse_expr: the expression half of the parser
-- (methods of the parser P, see parser.lua): C's operator precedence,
-- casts, postfix ->/./[]/++, primaries (literals, $vars, @maps, calls).
return function(P, node)

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

-- sizeof( or offsetof( and its first argument: a node of kind k with a
-- type name (ty) or an expression (e).
function P:type_or_expr(k, tok)
  self:expect("(", "(")
  if self:is("ident") and (type_words[self:peek().v] or self:peek(2).t == "*")
      and self:peek(2).t ~= "(" then
    return node(k, tok, tok, { ty = self:type_name() })
  end
  return node(k, tok, tok, { e = self:expr() })
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
      local n = self:type_or_expr("Sizeof", tok)
      n.epos = self:expect(")", ")").epos
      return n
    end
    if tok.v == "offsetof" and self:is("(") then
      -- offsetof(struct X, a.b): bpftrace 0.20's form
      local n = self:type_or_expr("Offsetof", tok)
      self:expect(",", ",")
      n.path = { self:expect("ident", "a field name").v }
      while self:accept(".") do n.path[#n.path + 1] = self:expect("ident", "a field name").v end
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

end
