-- luatrace.bpftrace.expr: the expression dispatcher, operators, map reads
-- and indexing (methods of the per-function generator F, see codegen.lua).
-- Builtin identifiers are in idents.lua, struct members and casts in
-- members.lua, functions in calls.lua; values are built as values.lua says.
local T = require "luatrace.bpftrace.types"
local V = require "luatrace.bpftrace.values"
local int, lit_int, const_str, copy_writer, cstr = V.int, V.lit_int, V.const_str, V.copy_writer, V.cstr
local int_types, cint = V.int_types, V.cint
local function btf() return require "luatrace.bpftrace.btf" end

return function(F, G)

G.cstr = cstr
F.const_str = const_str

-- Compile-time integer (literals, negations, $N params).
function F:const_int(e)
  if not e then return nil end
  if e.k == "Int" then return e.v end
  if e.k == "Unop" and e.op == "-" then
    local v = self:const_int(e.e)
    return v and -v
  end
  if e.k == "Param" then
    local a = (self.g.opts.args or {})[e.n]
    return tonumber(a or "0")
  end
end

-- The C truth of a value (ints and pointers; strings are refused).
function F:truth(v, node)
  if not v.c then self:err(node, "a condition must be an integer or pointer, not " .. T.name(v.ty)) end
  return v.c
end

-- A scalar C expression in a hoisted u64 local (so CO-RE reads never
-- nest: clang refuses nested preserve_access_index).
function F:hoist(c)
  if c:match("^[%w_]+$") then return c end
  local t = self:ctmp("u64 %s")
  self:emit(("%s = (u64)(%s);"):format(t, c))
  return t
end

-- Materialize an aggregate value into a hoisted local; returns its name.
function F:mat(v)
  if v.c then return v.c end
  if v.var then return v.var end
  local t = self:tmp(v.ty)
  self:emit(v.write(t, v.ty))
  return t
end

-- ---- operators ----

local arith = { ["+"] = true, ["-"] = true, ["*"] = true, ["/"] = true, ["%"] = true,
  ["&"] = true, ["|"] = true, ["^"] = true, ["<<"] = true, [">>"] = true }
local cmp = { ["=="] = true, ["!="] = true, ["<"] = true, [">"] = true, ["<="] = true, [">="] = true }

function F:binop(e)
  local op = e.op
  local a, b = self:expr(e.l), self:expr(e.r)
  if op == "&&" or op == "||" then
    return int(("(!!(%s) %s !!(%s))"):format(self:truth(a, e.l), op, self:truth(b, e.r)))
  end
  if a.ty.t == "str" or b.ty.t == "str" then
    if (op ~= "==" and op ~= "!=") or a.ty.t ~= b.ty.t then
      self:err(e, ("Type mismatch for '%s': comparing '%s' with '%s'"):format(op, T.name(a.ty), T.name(b.ty)))
    end
    local n = math.min(a.ty.size, b.ty.size)
    local ac = a.lit and cstr(a.lit) or self:mat(a)
    local bc = b.lit and cstr(b.lit) or self:mat(b)
    return int(("(%slt_bt_strneq(%s, %s, %d))"):format(op == "!=" and "!" or "", ac, bc, n))
  end
  if not a.c or not b.c then
    self:err(e, ("Type mismatch for '%s': comparing '%s' with '%s'"):format(op, T.name(a.ty), T.name(b.ty)))
  end
  if cmp[op] then
    local signed = (a.ty.signed ~= false) and (b.ty.signed ~= false) and a.ty.t == "int" and b.ty.t == "int"
    local cast = signed and "(s64)" or "(u64)"
    return int(("(%s(%s) %s %s(%s))"):format(cast, a.c, op, cast, b.c))
  end
  if arith[op] then
    if a.ty.t == "ptr" and (op == "+" or op == "-") and b.ty.t == "int" then
      return { ty = a.ty, c = ("(u64)((%s)(%s) %s (%s))"):format(a.ty.cty or "char *", a.c, op, b.c) }
    end
    local signed = a.ty.signed ~= false and b.ty.signed ~= false
    local cast = signed and "(s64)" or "(u64)"
    return int(("(%s(%s) %s %s(%s))"):format(cast, a.c, op, cast, b.c), signed)
  end
  self:err(e, "unsupported operator " .. op)
end

function F:unop(e)
  local op = e.op
  if op == "&" then
    local v = self:expr(e.e)
    if v.ty.t == "rec" and v.ty.p then
      return { ty = { t = "ptr", p = v.ty.p, cty = v.ty.p.cty .. " *", user = v.ty.user }, c = "(u64)&" .. v.ty.lv }
    end
    if v.ty.t == "rec" then
      local B = btf()
      return { ty = { t = "ptr", btf = v.ty.btf, cty = B.cname(v.ty.btf) .. " *" }, c = "(u64)&" .. v.ty.lv }
    end
    self:err(e, "& applies to struct members")
  end
  local v = self:expr(e.e)
  if op == "*" then
    if v.ty.t ~= "ptr" then self:err(e, "dereference of a non-pointer (" .. T.name(v.ty) .. ")") end
    if v.ty.p then
      return { ty = { t = "rec", p = v.ty.p, lv = ("(*(%s *)(%s))"):format(v.ty.p.cty, v.c), user = v.ty.user } }
    end
    if v.ty.btf then
      local B = btf()
      local t = B.resolve(v.ty.btf)
      if t and (t.kind == "struct" or t.kind == "union") then
        return { ty = { t = "rec", btf = t.id, lv = ("(*(%s)(%s))"):format(v.ty.cty, v.c), user = v.ty.user } }
      end
      return self:member_value(e, ("(*(%s)(%s))"):format(v.ty.cty, v.c), v.ty.btf, v.ty.user)
    end
    local size = v.ty.int and v.ty.int[1] or 8
    local signed = v.ty.int and v.ty.int[2]
    local ct = (signed and "s" or "u") .. cint[size]
    return { ty = T.int(size, signed ~= false),
      c = ("({ %s __v = 0; lt_bt_read(&__v, sizeof(__v), (void *)(%s)); __v; })"):format(ct, v.c) }
  end
  if not v.c then self:err(e, ("invalid operand for %s: %s"):format(op, T.name(v.ty))) end
  if op == "!" then return int("(!(" .. v.c .. "))") end
  if op == "~" then return int("(~(u64)(" .. v.c .. "))", false) end
  if op == "-" then return int("(-(s64)(" .. v.c .. "))") end
end

-- ---- maps as values ----

function F:map_read(e)
  local vals, keyT = self:key_types(e)
  local m = self.g.maps[e.name]
  if not m then
    m = self.g:map_use(e, nil, nil, keyT)
    m.kind, m.V, m.assumed = "value", T.copy(T.INT), true
  else
    self.g:map_use(e, nil, nil, keyT)
  end
  if m.kind == "hist" or m.kind == "lhist" or m.kind == "stats" then
    self:err(e, ("a %s() map cannot be read as a value"):format(m.kind))
  end
  local k = self:build_key(e, m, vals)
  local vt = G.val_ctype(m)
  local look = ("(%s *)bpf_map_lookup_elem(&%s, &%s)"):format(vt, m.cname, k)
  if m.kind == "count" or m.kind == "sum" then
    return int(("({ %s *__p = %s; __p ? (s64)*__p : 0; })"):format(vt, look))
  elseif m.kind == "avg" then
    return int(("({ %s *__p = %s; __p && __p->count ? __p->total / __p->count : 0; })"):format(vt, look))
  elseif m.kind == "min" or m.kind == "max" then
    return int(("({ %s *__p = %s; __p ? __p->v : 0; })"):format(vt, look))
  end
  local V = m.V or T.INT
  if V.t == "int" or V.t == "ptr" or V.t == "ksym" or V.t == "kstack" then
    return { ty = V, c = ("({ %s *__p = %s; __p ? __p->v : 0; })"):format(vt, look) }
  end
  return { ty = V, write = function(dest)
    return ("{ %s *__p = %s; if (__p) { %s } else { __builtin_memset(&%s, 0, sizeof(%s)); } }"):format(
      vt, look, copy_writer("__p->v")(dest), dest, dest)
  end }
end

-- ---- the dispatcher ----

function F:expr(e, stmt_ctx)
  local k = e.k
  if k == "Int" then return int(lit_int(e.v)) end
  if k == "Str" then return const_str(e.v) end
  if (k == "Builtin" or k == "Call") and self:macro_of(e) then return self:expand_macro(self:macro_of(e), e, stmt_ctx) end
  if k == "Builtin" then return self:builtin(e) end
  if k == "Param" then
    local a = (self.g.opts.args or {})[e.n]
    if a == nil then return int("0") end -- unset: zero, as in bpftrace
    if tonumber(a) and a:match("^%-?%d+$") then return int(lit_int(tonumber(a))) end
    self:err(e, ('$%d used numerically but given "%s". Try using str($%d).'):format(e.n, a, e.n))
  end
  if k == "ParamCount" then return int(tostring(#(self.g.opts.args or {}))) end
  if k == "Var" then
    local var = self.vars[e.name]
    if not var then self:err(e, "Undefined or undeclared variable: " .. e.name) end
    if var.ty.t == "int" or var.ty.t == "ptr" or var.ty.t == "ksym" or var.ty.t == "kstack" then
      return { ty = var.ty, c = var.cname }
    end
    return { ty = var.ty, var = var.cname, write = copy_writer(var.cname) }
  end
  if k == "Map" then return self:map_read(e) end
  if k == "Binop" then return self:binop(e) end
  if k == "Unop" then return self:unop(e) end
  if k == "Ternary" then
    local c = self:expr(e.c)
    local a, b = self:expr(e.a), self:expr(e.b)
    if a.ty.t ~= b.ty.t then
      self:err(e, ("Ternary operator must return the same type: have '%s' and '%s'"):format(T.name(a.ty), T.name(b.ty)))
    end
    if a.c and b.c then
      return { ty = a.ty, c = ("((%s) ? (%s) : (%s))"):format(self:truth(c, e.c), a.c, b.c) }
    end
    local ty = T.copy(a.ty)
    T.widen(ty, b.ty)
    local cc = self:truth(c, e.c)
    return { ty = ty, write = function(dest, destT)
      return ("if (%s) { %s } else { %s }"):format(cc, a.write(dest, destT), b.write(dest, destT))
    end }
  end
  if k == "Field" then return self:field(e) end
  if k == "Index" then return self:index(e) end
  if k == "Cast" then return self:cast(e) end
  if k == "Tuple" then
    local vals, tys = {}, {}
    for i, x in ipairs(e.elems) do
      local v = self:expr(x)
      if v.ty.t == "none" or v.ty.t == "rec" then self:err(x, "invalid tuple element") end
      vals[i] = v
      local t = T.copy(v.ty)
      if t.t == "int" then t.size = 8 end
      tys[i] = t
    end
    local ty = { t = "tuple", elems = tys }
    return { ty = ty, write = function(dest, destT)
      local out = {}
      for i, v in ipairs(vals) do
        local dt = destT and destT.elems and destT.elems[i] or tys[i]
        local d = ("%s.e%d"):format(dest, i - 1)
        if v.c then
          out[#out + 1] = ("%s = (%s)(%s);"):format(d, dt.t == "int" and (dt.signed and "s64" or "u64") or "u64", v.c)
        else
          out[#out + 1] = v.write(d, dt)
        end
      end
      return table.concat(out, " ")
    end }
  end
  if k == "Offsetof" then return self:offsetof(e) end
  if k == "Sizeof" then
    if e.ty then
      local ty = e.ty
      if int_types[ty.name] and ty.ptr == 0 then return int(tostring(int_types[ty.name][1])) end
      -- a kernel struct's size from BTF (the C then needs no definition of
      -- it); the program's own structs stay C's sizeof
      local kind, tag = ty.name:match("^(%a+)%s+([%w_]+)$")
      if ty.ptr == 0 and (kind == "struct" or kind == "union") then
        local id = btf().find(kind, tag)
        if id then return int(tostring(btf().size(id))) end
      end
      return int(("sizeof(%s%s)"):format(ty.name, (" *"):rep(ty.ptr)))
    end
    local v = self:expr(e.e)
    if v.ty.t == "int" then return int(tostring(v.ty.size)) end
    if v.ty.t == "str" then return int(tostring(v.ty.size)) end
    if v.ty.t == "rec" then return int(("sizeof(%s)"):format(v.ty.lv)) end
    return int("8")
  end
  if k == "IncDec" then
    if e.e.k ~= "Var" then self:err(e, "++/-- inside an expression apply to variables only") end
    local var = self.vars[e.e.name]
    if not var then self:err(e.e, "Undefined or undeclared variable: " .. e.e.name) end
    return int(e.post and ("(" .. var.cname .. e.op .. ")") or ("(" .. e.op .. var.cname .. ")"))
  end
  if k == "Call" then return self:call(e, stmt_ctx) end
  self:err(e, "unsupported expression " .. k)
end

function F:index(e)
  local base = self:expr(e.e)
  local ty = base.ty
  if ty.t == "tuple" then
    local n = self:const_int(e.idx)
    if not n or n < 0 or n >= #ty.elems then self:err(e.idx, "tuple index out of range") end
    local src = self:mat(base)
    local et = ty.elems[n + 1]
    local f = ("%s.e%d"):format(src, n)
    if et.t == "int" or et.t == "ptr" or et.t == "ksym" or et.t == "kstack" then return { ty = et, c = f } end
    return { ty = et, write = copy_writer(f) }
  end
  local idx = self:expr(e.idx)
  if not idx.c then self:err(e.idx, "an index must be an integer") end
  if ty.t == "arr" then
    if ty.tp then
      return int(("(s64)%s[%s]"):format(ty.lv, idx.c))
    end
    if ty.pelem then return self:pvalue(e, ("%s[%s]"):format(ty.lv, idx.c), ty.pelem, ty.user) end
    return self:member_value(e, ("%s[%s]"):format(ty.lv, idx.c), ty.btf, ty.user)
  end
  if ty.t == "ptr" then
    if ty.p then
      return { ty = { t = "rec", p = ty.p, lv = ("((%s *)(%s))[%s]"):format(ty.p.cty, base.c, idx.c), user = ty.user } }
    end
    if ty.btf then
      return self:member_value(e, ("((%s)(%s))[%s]"):format(ty.cty, base.c, idx.c), ty.btf, ty.user)
    end
    local size = ty.int and ty.int[1] or 8
    local signed = ty.int and ty.int[2]
    local ct = (signed and "s" or "u") .. cint[size]
    if ty.cty and ty.cty:match("%*%s*%*$") then ct, size, signed = "u64", 8, false end
    local r = {
      ty = size == 8 and ty.cty and ty.cty:match("%*%s*%*$") and { t = "ptr", charp = ty.charp or ty.cty:match("char"), cty = ty.cty:gsub("%s*%*$", ""), user = ty.user }
        or T.int(size, signed ~= false),
      c = ("({ %s __v = 0; lt_bt_read(&__v, sizeof(__v), (void *)((%s *)(%s) + (%s))); __v; })"):format(ct, ct, base.c, idx.c) }
    return r
  end
  if ty.t == "str" then
    local src = self:mat(base)
    return int(("(s64)%s[(%s) & %d]"):format(src, idx.c, ty.size - 1 >= 1 and 255 or 0))
  end
  self:err(e, "cannot index a value of type " .. T.name(ty))
end

require("luatrace.bpftrace.idents")(F, G)
require("luatrace.bpftrace.members")(F, G)
require("luatrace.bpftrace.calls")(F, G, { int = int, const_str = const_str, cstr = cstr,
  copy_writer = copy_writer, lit_int = lit_int })

end
