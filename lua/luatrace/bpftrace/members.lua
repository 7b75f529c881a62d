-- luatrace.bpftrace.members: struct members through BTF (->, ., args->x of
-- tracepoints and kfuncs) and casts; methods of the per-function generator
-- F (see codegen.lua).
local T = require "luatrace.bpftrace.types"
local V = require "luatrace.bpftrace.values"
local int, lit_int, const_str = V.int, V.lit_int, V.const_str

return function(F, G)
local int_types, cint = V.int_types, V.cint

local function btf() return require "luatrace.bpftrace.btf" end

-- The value of a member `lv` (a C lvalue through a typed pointer) of BTF
-- type id; kernel memory unless user.
function F:member_value(node, lv, tid, user)
  local B = btf()
  local t = B.resolve(tid)
  if not t then self:err(node, "unknown type of member") end
  local read = user and "bpf_probe_read_user" or "bpf_core_read"
  if t.kind == "struct" or t.kind == "union" then
    return { ty = { t = "rec", btf = t.id, lv = lv, user = user } }
  end
  if t.kind == "array" then
    local et = B.resolve(t.elem)
    if et and et.kind == "int" and et.size == 1 then
      return { ty = T.str(t.nelems), write = function(dest)
        return ("%s(&%s, sizeof(%s) < %d ? sizeof(%s) : %d, &%s);"):format(read, dest, dest, t.nelems, dest, t.nelems, lv)
      end }
    end
    return { ty = { t = "arr", btf = t.elem, n = t.nelems, lv = lv, user = user } }
  end
  if t.kind == "ptr" then
    local cty = B.cname(tid) or "void *"
    local inner = B.resolve(t.type)
    local c = ("({ u64 __v = 0; %s(&__v, sizeof(__v), &%s); __v; })"):format(read, lv)
    return { ty = { t = "ptr", btf = inner and inner.id, cty = cty, user = user,
      charp = inner and inner.kind == "int" and inner.size == 1 }, c = c }
  end
  if t.kind == "int" or t.kind == "enum" or t.kind == "enum64" then
    local signed = t.kind == "int" and t.signed or false
    local c = ("({ __typeof__(%s) __v = 0; %s(&__v, sizeof(__v), &%s); __v; })"):format(lv, read, lv)
    return { ty = T.int(t.size, signed), c = c }
  end
  self:err(node, "cannot read a member of kind " .. t.kind)
end

-- ---- members of structs the program defines (pstructs.lua) ----

local function pstructs() return require "luatrace.bpftrace.pstructs" end

function F:pstruct(kind, name)
  local defs = pstructs().of_program(self.g.ast, function(s, msg) self:err(s, msg) end)
  return defs[kind .. " " .. name]
end

-- The value of lvalue lv of parsed type pt (pstructs.lua); user memory if user.
function F:pvalue(node, lv, pt, user)
  local read = user and "bpf_probe_read_user" or "bpf_probe_read_kernel"
  local k = pt.kind
  if k == "rec" then return { ty = { t = "rec", p = pt.def, lv = lv, user = user } } end
  if k == "btf" then return self:member_value(node, lv, pt.id, user) end
  if k == "int" then
    local c = ("({ __typeof__(%s) __v = 0; %s(&__v, sizeof(__v), &%s); __v; })"):format(lv, read, lv)
    return { ty = T.int(pt.size, pt.signed), c = c }
  end
  if k == "ptr" then
    local c = ("({ u64 __v = 0; %s(&__v, sizeof(__v), &%s); __v; })"):format(read, lv)
    local to = pt.depth == 1 and pt.to or nil
    local ty = { t = "ptr", cty = pt.cty, user = user }
    if to and to.kind == "rec" then ty.p = to.def
    elseif to and to.kind == "btf" then ty.btf = to.id
    elseif to and to.kind == "int" then
      ty.int = { to.size, to.signed }
      ty.charp = to.size == 1
    end
    return { ty = ty, c = c }
  end
  if k == "arr" then
    local e = pt.elem
    if e.kind == "int" and e.size == 1 then
      return { ty = T.str(pt.n), write = function(dest)
        return ("%s(&%s, sizeof(%s) < %d ? sizeof(%s) : %d, &%s);"):format(read, dest, dest, pt.n, dest, pt.n, lv)
      end }
    end
    return { ty = { t = "arr", pelem = e, n = pt.n, lv = lv, user = user } }
  end
  self:err(node, "cannot read a member of this type")
end

function F:pmember(node, def, name)
  local m = pstructs().member(def, name)
  if not m then
    self:err(node, ("Struct/union of type '%s' does not contain a field named '%s'"):format(def.cty, name))
  end
  return m
end

-- offsetof(struct X, a.b): the byte offset of member path a.b, as a
-- constant. A kernel struct's from BTF (members of anonymous structs and
-- unions included; the C then needs no definition of X), a struct the
-- program defines from C (__builtin_offsetof). bpftrace's other form,
-- offsetof(expression, field), is refused with the form to use.
function F:offsetof(e)
  if not e.ty then
    self:err(e, "offsetof() of an expression is not supported by luatrace; name its type: offsetof(struct task_struct, comm)")
  end
  local kind, name = e.ty.name:match("^(%a+) ([%w_]+)$")
  if e.ty.ptr > 0 or (kind ~= "struct" and kind ~= "union") then
    self:err(e, "offsetof() takes a struct or union type, not '" .. e.ty.name .. ("*"):rep(e.ty.ptr) .. "'")
  end
  local def = self:pstruct(kind, name)
  if def then
    local d = def -- checked while the path stays in the program's structs
    for _, f in ipairs(e.path) do
      if not d then break end
      local m = pstructs().member(d, f)
      if not m then
        self:err(e, ("Struct/union of type '%s' does not contain a field named '%s'"):format(d.cty, f))
      end
      d = m.ty.kind == "rec" and m.ty.def or nil
    end
    return int(("(u64)__builtin_offsetof(%s, %s)"):format(def.cty, table.concat(e.path, ".")))
  end
  local B = btf()
  local id = B.find(kind, name)
  if not id then self:err(e, ("Unknown struct/union: '%s'"):format(e.ty.name)) end
  local bits = 0
  for _, f in ipairs(e.path) do
    local st = B.resolve(id)
    if not st or (st.kind ~= "struct" and st.kind ~= "union") then
      self:err(e, "Can not access field '" .. f .. "' on a non-struct type")
    end
    local m, at = B.member(st, f, bits)
    if not m then
      self:err(e, ("Struct/union of type '%s %s' does not contain a field named '%s'"):format(st.kind, st.name, f))
    end
    if m.bitfield ~= 0 or at % 8 ~= 0 then self:err(e, "offsetof() of a bit field: '" .. f .. "'") end
    bits, id = at, m.type
  end
  return int(tostring(bits / 8))
end

-- Find member `name` of struct type id sid.
function F:member_of(node, sid, name)
  local B = btf()
  local st = B.resolve(sid)
  if not st or (st.kind ~= "struct" and st.kind ~= "union") then
    self:err(node, "Can not access field '" .. name .. "' on a non-struct type")
  end
  local m = B.member(st, name)
  if not m then
    self:err(node, ("Struct/union of type '%s %s' does not contain a field named '%s'"):format(
      st.kind, st.name, name))
  end
  return m
end

function F:field(e)
  -- args->x / args.x
  if e.e.k == "Builtin" and e.e.name == "args" then return self:args_field(e) end
  local base = self:expr(e.e)
  local ty = base.ty
  if ty.t == "struct" and (ty.btf or ty.p) then -- a whole struct held in a variable or map (records.lua)
    ty = { t = "rec", btf = ty.btf, p = ty.p, lv = self:mat(base) }
  end
  if ty.t == "ptr" and ty.p then
    local m = self:pmember(e, ty.p, e.field)
    return self:pvalue(e, ("((%s *)(%s))->%s"):format(ty.p.cty, self:hoist(base.c), e.field), m.ty, ty.user)
  elseif ty.t == "rec" and ty.p then
    local m = self:pmember(e, ty.p, e.field)
    return self:pvalue(e, ty.lv .. "." .. e.field, m.ty, ty.user)
  elseif ty.t == "ptr" then
    if not ty.btf then
      self:err(e, ("Can not access field '%s' on type '%s'; cast it to a struct pointer first"):format(
        e.field, T.name(ty)))
    end
    local m = self:member_of(e, ty.btf, e.field)
    local lv = ("((%s)(%s))->%s"):format(ty.cty, self:hoist(base.c), e.field)
    return self:member_value(e, lv, m.type, ty.user)
  elseif ty.t == "rec" then
    local m = self:member_of(e, ty.btf, e.field)
    return self:member_value(e, ty.lv .. "." .. e.field, m.type, ty.user)
  elseif ty.t == "tuple" then
    self:err(e, "tuple members are read with .N (a number)")
  end
  self:err(e, ("Can not access field '%s' on expression of type '%s'"):format(e.field, T.name(ty)))
end

function F:args_field(e)
  local p = self.probe
  if p.kind == "tracepoint" then
    self.tpfields = self.tpfields or {}
    local key = p.cat .. ":" .. p.event
    local fields = self.tpfields[key]
    if not fields then
      fields = require("luatrace.tpformat").read(p.cat, p.event)
      self.tpfields[key] = fields
    end
    for _, f in ipairs(fields) do
      local dl = f.name:match("^__data_loc_(.+)$")
      if f.name == e.field or dl == e.field then
        local ty = T.from_tpfield(f)
        if ty.dataloc then
          return { ty = ty, c = ("((u64)args + (args->%s & 0xffff))"):format(f.name) }
        end
        if ty.t == "str" then
          return { ty = ty, write = function(dest)
            return ("__builtin_memcpy(&%s, args->%s, sizeof(%s) < %d ? sizeof(%s) : %d);"):format(
              dest, f.name, dest, ty.size, dest, ty.size)
          end }
        end
        if ty.t == "ptr" then return { ty = ty, c = ("(u64)args->%s"):format(f.name) } end
        if ty.array then
          return { ty = { t = "arr", n = 0, tp = true, lv = "args->" .. f.name } }
        end
        local cast = ty.signed and "s64" or "u64"
        return { ty = ty, c = ("(%s)args->%s"):format(cast, f.name) }
      end
    end
    self:err(e, ("Can not access field '%s' on type 'struct %s:%s_t'"):format(e.field, p.cat, p.event))
  end
  -- kfunc / kretfunc: the function's parameters
  for _, a in ipairs(p.params or {}) do
    if a.name == e.field then
      if self.loop_cb then -- they are locals of the probe's function (BPF_PROG)
        self:err(e, "a kfunc's args cannot be read inside a for loop: copy args." .. a.name .. " to a variable before the loop")
      end
      local B = btf()
      local t = B.resolve(a.type)
      if t and t.kind == "ptr" then
        local inner = B.resolve(t.type)
        return { ty = { t = "ptr", btf = inner and inner.id, cty = B.cname(a.type) or "void *",
          charp = inner and inner.kind == "int" and inner.size == 1 }, c = "(u64)" .. a.name }
      end
      if t and (t.kind == "struct" or t.kind == "union") then
        self:err(e, "struct arguments passed by value are not supported")
      end
      return { ty = T.int(t and t.size or 8, t and t.kind == "int" and t.signed), c = "(s64)" .. a.name }
    end
  end
  if e.field == "ret" and p.kind == "kretfunc" then return int("(s64)__lt_retval") end
  self:err(e, ("Can't find a field %s"):format(e.field))
end

-- ---- casts ----

function F:cast(e)
  local ty = e.ty
  local v = self:expr(e.e)
  if ty.array then self:err(e, "array casts are not supported by luatrace") end
  if ty.ptr > 0 then
    if not v.c then self:err(e.e, "cannot cast a " .. T.name(v.ty) .. " to a pointer") end
    local B = btf()
    local kind, name = ty.name:match("^(%a+) ([%w_]+)$")
    local id
    if kind == "struct" or kind == "union" then
      local def = self:pstruct(kind, name)
      if def then
        return { ty = { t = "ptr", p = ty.ptr == 1 and def or nil, cty = def.cty .. (" *"):rep(ty.ptr),
          user = v.ty.user or self:user_space() }, c = "(u64)(" .. v.c .. ")" }
      end
      id = B.find(kind, name)
      if not id then self:err(e, ("Unknown struct/union: '%s'"):format(ty.name)) end
    elseif int_types[ty.name] then
      local it = int_types[ty.name]
      local cty = (it[2] and "s" or "u") .. cint[it[1]] .. (" *"):rep(ty.ptr)
      return { ty = { t = "ptr", int = it, cty = cty, charp = it[1] == 1 and ty.ptr == 1,
        user = v.ty.user or self:user_space() }, c = "(u64)(" .. v.c .. ")" }
    else
      id = B.find("typedef", ty.name)
      if not id then self:err(e, "Unknown type: '" .. ty.name .. "'") end
    end
    local cty = ty.name .. (" *"):rep(ty.ptr)
    if ty.ptr > 1 then
      return { ty = { t = "ptr", cty = cty, user = v.ty.user or self:user_space() }, c = "(u64)(" .. v.c .. ")" }
    end
    return { ty = { t = "ptr", btf = id, cty = cty, user = v.ty.user or self:user_space() }, c = "(u64)(" .. v.c .. ")" }
  end
  local it = int_types[ty.name]
  if not it then self:err(e, "Cannot cast to '" .. ty.name .. "'") end
  if not v.c then self:err(e.e, "cannot cast a " .. T.name(v.ty) .. " to an integer") end
  return { ty = T.int(it[1], it[2]), c = ("(%s%s)(%s)"):format(it[2] and "s" or "u", cint[it[1]], v.c) }
end

function F:user_space()
  local k = self.probe.kind
  return k == "uprobe" or k == "uretprobe" or k == "usdt"
end

end
