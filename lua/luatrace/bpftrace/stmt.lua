-- luatrace.bpftrace.stmt: statements and map updates (methods of the
-- per-function generator F, see codegen.lua).
local T = require "luatrace.bpftrace.types"

return function(F, G)

local aggs = { count = 0, sum = 1, avg = 1, stats = 1, min = 1, max = 1, hist = 1, lhist = 4 }
G.aggs = aggs

function G.key_ctype(m)
  if #m.keys == 0 and m.kind ~= "hist" and m.kind ~= "lhist" then return "u64" end
  return "struct " .. m.cname .. "_key"
end
function G.val_ctype(m)
  local v = G.agg_value[m.kind]
  if v and v:sub(1, 6) ~= "struct" then return v end
  return "struct " .. m.cname .. "_val"
end

function F:block(b)
  for _, s in ipairs(b.body) do self:stmt(s) end
end

-- Store value v (from expr) into C lvalue dest of type destT.
function F:store(v, dest, destT)
  if v.c then
    if destT.t == "ustack" or destT.t == "usym" or destT.t == "str" or destT.t == "tuple"
        or destT.t == "inet" or destT.t == "buf" then
      error("internal: scalar into aggregate slot", 0)
    end
    self:emit(("%s = (%s)(%s);"):format(dest, destT.t == "int" and (destT.signed and "s64" or "u64")
      or (destT.t == "kstack" and "s64" or "u64"), v.c))
  else
    self:emit(v.write(dest, destT))
  end
end

-- The key of map node (its keys evaluated) in a hoisted local; returns its
-- C name and the key types.
function F:key_types(node)
  local vals, types = {}, {}
  for i, k in ipairs(node.keys or {}) do
    local v = self:expr(k)
    if v.ty.t == "none" or v.ty.t == "rec" or v.ty.t == "hist" then
      self:err(k, "invalid map key type: " .. T.name(v.ty))
    end
    local kt = T.copy(v.ty)
    if kt.t == "int" then kt.size = 8 end
    vals[i], types[i] = v, kt
  end
  return vals, types
end

-- Key locals are shared by the updates of one map in a function (the
-- stack holds 512 bytes), unless a key reads a map itself.
function F:build_key(node, m, vals)
  local kc = G.key_ctype(m)
  self.keytmps = self.keytmps or {}
  local nested = false
  for _, v in ipairs(vals) do
    if v.c and v.c:find("bpf_map_lookup_elem", 1, true) then nested = true end
  end
  local k = not nested and self.keytmps[m.cname]
  if not k then
    k = self:ctmp(kc .. " %s")
    if not nested then self.keytmps[m.cname] = k end
  end
  self:emit(("__builtin_memset(&%s, 0, sizeof(%s));"):format(k, k))
  for i, v in ipairs(vals) do
    self:store(v, ("%s.k%d"):format(k, i - 1), m.keys[i])
  end
  return k
end

-- Update map node with aggregation call `call` (count(), sum(x), ...).
function F:aggregate(node, call)
  local name = call.name
  local want = aggs[name]
  if #call.args ~= want and not (name == "count" and #call.args == 0) then
    self:err(call, ("%s() requires %d argument%s (%d provided)"):format(name, want, want == 1 and "" or "s", #call.args))
  end
  local vals, keyT = self:key_types(node)
  local arg
  if want >= 1 then
    arg = self:expr(call.args[1])
    if arg.ty.t ~= "int" then
      self:err(call.args[1], ("%s() only supports integer arguments (%s provided)"):format(name, T.name(arg.ty)))
    end
  end
  local extra
  if name == "lhist" then
    extra = {}
    for i, f in ipairs({ "min", "max", "step" }) do
      local a = call.args[i + 1]
      local n = self:const_int(a)
      if not n then self:err(a, "lhist() " .. f .. " must be an integer literal") end
      extra[f] = n
    end
    if extra.step <= 0 then self:err(call.args[4], "lhist() step must be >= 1") end
    if extra.max <= extra.min then self:err(call.args[3], "lhist() max must be greater than min") end
  end
  local m = self.g:map_use(node, name, nil, keyT, extra)
  local k = self:build_key(node, m, vals)
  local mp, vt = "&" .. m.cname, G.val_ctype(m)
  if name == "count" then
    self:emit(("lt_bt_add(%s, &%s, 1, u64);"):format(mp, k))
  elseif name == "sum" then
    self:emit(("lt_bt_add(%s, &%s, (s64)(%s), s64);"):format(mp, k, arg.c))
  elseif name == "hist" or name == "lhist" then
    if name == "hist" then
      self:emit(("%s.bucket = lt_bt_log2_bucket((s64)(%s));"):format(k, arg.c))
    else
      self:emit(("%s.bucket = lt_bt_linear_bucket((s64)(%s), %d, %d, %d);"):format(k, arg.c,
        extra.min, extra.max, extra.step))
    end
    self:emit(("lt_bt_add(%s, &%s, 1, u64);"):format(mp, k))
  else
    local p = self:ctmp(vt .. " *%s")
    self:emit(("%s = lt_bt_lookup_init(%s, &%s, %s);"):format(p, mp, k, vt))
    if name == "avg" or name == "stats" then
      self:emit(("if (%s) { __sync_fetch_and_add(&%s->count, 1); __sync_fetch_and_add(&%s->total, (s64)(%s)); }"):format(
        p, p, p, arg.c))
    else
      local cmp = name == "min" and "<" or ">"
      self:emit(("if (%s) { s64 __v = (s64)(%s); if (!%s->set || __v %s %s->v) { %s->v = __v; %s->set = 1; } }"):format(
        p, arg.c, p, cmp, p, p, p))
    end
  end
end

function F:assign_map(s, node, value)
  if value.k == "Call" and aggs[value.name] then
    if s.op ~= "=" then self:err(s, "aggregations can only be assigned with =") end
    return self:aggregate(node, value)
  end
  local vals, keyT = self:key_types(node)
  if s.op == "=" then
    local v = self:storable(self:expr(value), value, G.MAX_STRUCT_VALUE) -- records.lua
    if v.ty.t == "none" then self:err(value, "cannot assign a value of no type") end
    if v.ty.t == "map" then
      self:err(value, "cannot assign a map to a map")
    end
    local VT = T.copy(v.ty)
    if VT.t == "int" then VT.size = 8 end
    local m = self.g:map_use(node, "value", VT, keyT)
    local k = self:build_key(node, m, vals)
    self.valtmps = self.valtmps or {}
    local vt = self.valtmps[m.cname] or self:ctmp(G.val_ctype(m) .. " %s")
    self.valtmps[m.cname] = vt
    self:emit(("__builtin_memset(&%s, 0, sizeof(%s));"):format(vt, vt))
    self:store(v, vt .. ".v", m.V)
    self:emit(("bpf_map_update_elem(&%s, &%s, &%s, BPF_ANY);"):format(m.cname, k, vt))
    return
  end
  -- compound assignment on an integer map
  local v = self:expr(value)
  if v.ty.t ~= "int" then self:err(value, "compound assignment needs an integer") end
  local m = self.g:map_use(node, "value", T.INT, keyT)
  local k = self:build_key(node, m, vals)
  self:map_rmw(m, k, s.op:sub(1, -2), v.c)
end

function F:map_rmw(m, k, op, c)
  if m.V and m.V.t ~= "int" then
    self:err(nil, "arithmetic on a non-integer map " .. m.name)
  end
  if op == "+" or op == "-" then
    self:emit(("lt_bt_add(&%s, &%s, %s(s64)(%s), s64);"):format(m.cname, k, op == "-" and "-" or "", c))
  else
    local vt = G.val_ctype(m)
    local p = self:ctmp(vt .. " *%s")
    self:emit(("%s = lt_bt_lookup_init(&%s, &%s, %s);"):format(p, m.cname, k, vt))
    self:emit(("if (%s) %s->v = %s->v %s (s64)(%s);"):format(p, p, p, op, c))
  end
end

-- Declare (on first assignment) or check scratch variable $name.
function F:var_slot(node, VT)
  local var = self.vars[node.name]
  if not var then
    -- integers are stored in 64 bits but keep their width (bswap, sizeof)
    local vt = T.copy(VT)
    var = { ty = vt, cname = "v_" .. node.name:sub(2) }
    self.vars[node.name] = var
    self.decls[#self.decls + 1] = T.decl(vt, var.cname) .. ";"
    if vt.t ~= "int" and vt.t ~= "ptr" and vt.t ~= "ksym" and vt.t ~= "kstack" then
      self.decls[#self.decls + 1] = ("__builtin_memset(&%s, 0, sizeof(%s));"):format(var.cname, var.cname)
    else
      self.decls[#self.decls + 1] = ("%s = 0;"):format(var.cname)
    end
    return var
  end
  if not T.compatible(var.ty, VT) or (var.ty.t == "str" and VT.size > var.ty.size) then
    self:err(node, ("Type mismatch for %s: trying to assign value of type '%s' when variable already contains a value of type '%s'"):format(
      node.name, T.name(VT), T.name(var.ty)))
  end
  if var.ty.t == "ptr" and VT.t == "ptr" then var.ty = T.copy(VT) end
  if var.ty.t == "int" and VT.t == "int" and VT.size > var.ty.size then var.ty.size = VT.size end
  return var
end

function F:assign_var(s, node, value)
  local v = self:storable(self:expr(value), value, G.MAX_STRUCT_VALUE) -- records.lua
  if v.ty.t == "none" then self:err(value, "cannot assign a value of no type") end
  if s.op ~= "=" then
    local var = self.vars[node.name]
    if not var then self:err(node, "Undefined or undeclared variable: " .. node.name) end
    self:emit(("%s %s (%s);"):format(var.cname, s.op, v.c or "0"))
    return
  end
  local var = self:var_slot(node, v.ty)
  self:store(v, var.cname, var.ty)
end

function F:stmt(s)
  local k = s.k
  if k == "Expr" then
    local e = s.e
    if e.k == "Call" and aggs[e.name] then
      self:err(e, e.name .. "() should be directly assigned to a map")
    end
    if e.k == "IncDec" then return self:incdec_stmt(e) end
    local v = self:expr(e, true)
    if v.c and v.ty.t ~= "none" then self:emit("(void)(" .. v.c .. ");")
    elseif v.c then self:emit(v.c .. ";") end
  elseif k == "Assign" then
    if s.target.k == "Map" then self:assign_map(s, s.target, s.value)
    else self:assign_var(s, s.target, s.value) end
  elseif k == "If" then
    local c = self:expr(s.cond)
    self:emit(("if (%s) {"):format(self:truth(c, s.cond)))
    self:block(s.body)
    if s.els then
      self:emit("} else {")
      if s.els.k == "If" then self:stmt(s.els) else self:block(s.els) end
    end
    self:emit("}")
  elseif k == "Unroll" then
    local n = self:const_int(s.count)
    if not n or n < 1 or n > 100 then self:err(s.count, "unroll() count must be an integer literal in 1..100") end
    for _ = 1, n do
      self:emit("{")
      self:block(s.body)
      self:emit("}")
    end
  elseif k == "While" then
    local c = self:expr(s.cond)
    self:emit(("while (%s) {"):format(self:truth(c, s.cond)))
    self.loops = (self.loops or 0) + 1
    self:block(s.body)
    self.loops = self.loops - 1
    self:emit("}")
  elseif k == "Break" or k == "Continue" then
    if (self.loops or 0) > 0 then self:emit(k:lower() .. ";")
    elseif self.loop_cb then self:emit(k == "Break" and "return 1;" or "return 0;") -- for's callback
    else self:err(s, k:lower() .. " outside of a loop") end
  elseif k == "For" then
    self:for_stmt(s)
  elseif k == "Return" then
    if self.loop_cb then self:err(s, "'return' statements are not allowed in for loops") end
    self:emit("return 0;")
  elseif k == "Block" then
    self:emit("{")
    self:block(s)
    self:emit("}")
  else
    self:err(s, "unsupported statement " .. k)
  end
end

function F:incdec_stmt(e)
  local op = e.op == "++" and "+" or "-"
  local t = e.e
  if t.k == "Map" then
    local vals, keyT = self:key_types(t)
    local m = self.g:map_use(t, "value", T.INT, keyT)
    local k = self:build_key(t, m, vals)
    self:map_rmw(m, k, op, "1")
  elseif t.k == "Var" then
    local var = self.vars[t.name]
    if not var then
      var = self:var_slot(t, T.INT)
    end
    self:emit(("%s%s;"):format(var.cname, e.op))
  else
    self:err(e, "++ and -- apply to maps and variables")
  end
end

end
