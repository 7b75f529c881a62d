-- luatrace.bpftrace.loops: `for ($kv : @map) { }` and `for ($i : A..B) { }`
-- (methods of the per-function generator F, see codegen.lua).
--
-- Both loops run their body in a callback (bpf_for_each_map_elem and
-- bpf_loop): the verifier bounds them, where a C loop over a map or a
-- run-time range would be refused. The callback reaches the probe's
-- scratch variables through a context struct, as bpftrace does: the ones
-- the body names are copied in before the loop and back after it, so the
-- body reads and changes them; variables first assigned in the body are
-- its own. The probe's context pointer rides along, so args, argN and
-- stacks work in the body.
local T = require "luatrace.bpftrace.types"

return function(F, G)

-- The $names a subtree mentions.
local function var_names(node, out)
  if type(node) ~= "table" then return out end
  if node.k == "Var" then out[node.name] = true end
  for k, v in pairs(node) do
    if type(v) == "table" and k ~= "ty" then var_names(v, out) end
  end
  return out
end

-- The C type of the probe function's context parameter (ctx or args).
local function ctx_param(p)
  local k = p.kind
  if k == "tracepoint" then return ("struct tracepoint__%s__%s *args"):format(p.cat, p.event) end
  if k == "rawtracepoint" then return "struct bpf_raw_tracepoint_args *ctx" end
  if k == "kfunc" or k == "kretfunc" then return "unsigned long long *ctx" end
  if k == "profile" or k == "interval" or k == "software" or k == "hardware" then
    return "struct bpf_perf_event_data *ctx"
  end
  return "struct pt_regs *ctx"
end

local function scalar(ty) return T.scalar(ty) end

-- Generate the callback for loop statement s; `head` is its C signature
-- (%s: the callback's and the context struct's names), bind(f) declares
-- and sets the loop variable in the callback's generator f; call_fmt is
-- the C call (%s: callback, context); extra = {decl, set} one more
-- context field and how the caller sets it.
function F:loop_callback(s, head, bind, call_fmt, extra)
  local g = self.g
  g.nloops = (g.nloops or 0) + 1
  local id = g.nloops
  local cb, cs = "lt_bt_loop" .. id, "lt_bt_loopctx" .. id
  -- the outer variables the body names, in a stable order
  local names, shared = var_names(s.body, {}), {}
  for name in pairs(names) do
    if self.vars[name] and name ~= s.var.name then shared[#shared + 1] = name end
  end
  table.sort(shared)
  local fields, cvars = { "void *ctx;", extra and extra.decl }, {}
  for _, name in ipairs(shared) do
    local v = self.vars[name]
    local fname = "f_" .. name:sub(2)
    fields[#fields + 1] = T.decl(v.ty, fname) .. ";"
    cvars[name] = { ty = v.ty, cname = "__c->" .. fname, outer = v.cname, field = fname }
  end
  local f = setmetatable({ g = g, ctx = self.ctx, probe = self.probe, ast = self.ast, out = {},
    decls = {}, vars = cvars, ntmp = 0, fname = cb, loop_cb = true }, getmetatable(self))
  f.decls[1] = ctx_param(self.probe) .. " = __c->ctx;"
  bind(f)
  f:block(s.body)
  local text = ("struct %s { %s };\nstatic __attribute__((noinline)) long %s\n{\n%s\n%s\nreturn 0;\n}\n"):format(
    cs, table.concat(fields, " "), head:format(cb, cs), table.concat(f.decls, "\n"), table.concat(f.out, "\n"))
  g.callbacks[#g.callbacks + 1] = text
  -- the call: copy the shared variables in and back out
  local c = self:ctmp("struct " .. cs .. " %s")
  self:emit(("__builtin_memset(&%s, 0, sizeof(%s)); %s.ctx = (void *)%s;"):format(
    c, c, c, self.probe.kind == "tracepoint" and "args" or "ctx"))
  if extra then self:emit((extra.set:gsub("%%s", c))) end
  local back = {}
  for _, name in ipairs(shared) do
    local v, fv = self.vars[name], c .. "." .. cvars[name].field
    if scalar(v.ty) then
      self:emit(("%s = %s;"):format(fv, v.cname))
      back[#back + 1] = ("%s = %s;"):format(v.cname, fv)
    else
      self:emit(("__builtin_memcpy(&%s, &%s, sizeof(%s));"):format(fv, v.cname, fv))
      back[#back + 1] = ("__builtin_memcpy(&%s, &%s, sizeof(%s));"):format(v.cname, fv, fv)
    end
  end
  self:emit(call_fmt:format(cb, c))
  for _, b in ipairs(back) do self:emit(b) end
end

-- for ($kv : @map): $kv is (key, value); several keys make the key a tuple.
function F:for_map(s)
  local m = self.g.maps[s.map.name]
  if not m then
    if self.g.pass == 1 then return end -- typed by a later statement: pass 2 has it
    self:err(s.map, "Undefined map: " .. s.map.name)
  end
  if m.kind == "avg" or m.kind == "stats" or m.kind == "hist" or m.kind == "lhist" then
    self:err(s.map, ("Loop expression does not support type: %s"):format(m.kind))
  end
  if #m.keys == 0 then self:err(s.map, "for loops iterate over maps with keys (" .. m.name .. " has none)") end
  self.g:map_use(s.map, nil, nil, m.keys)
  local keyT = #m.keys == 1 and T.copy(m.keys[1]) or { t = "tuple", elems = m.keys }
  local valT = (m.kind == "value") and T.copy(m.V or T.INT) or T.int(8, m.kind ~= "count")
  local kvT = { t = "tuple", elems = { keyT, valT } }
  local kc, vc = G.key_ctype(m), G.val_ctype(m)
  local bind = function(f)
    local var = f:var_slot(s.var, kvT)
    local vsrc = (m.kind == "count" or m.kind == "sum") and "(*__val)" or "__val->v"
    if #m.keys == 1 and scalar(keyT) then
      f:emit(("%s.e0 = __key->k0;"):format(var.cname))
    else
      f:emit(("__builtin_memcpy(&%s.e0, __key, sizeof(%s.e0));"):format(var.cname, var.cname))
    end
    if scalar(valT) then
      f:emit(("%s.e1 = %s;"):format(var.cname, vsrc))
    else
      f:emit(("__builtin_memcpy(&%s.e1, &%s, sizeof(%s.e1));"):format(var.cname, vsrc, var.cname))
    end
  end
  self:loop_callback(s, "%s(void *__map, " .. kc .. " *__key, " .. vc .. " *__val, struct %s *__c)", bind,
    "bpf_for_each_map_elem(&" .. m.cname .. ", %s, &%s, 0);")
end

-- for ($i : A..B): A inclusive, B exclusive, both evaluated once.
function F:for_range(s)
  local a, b = self:expr(s.from), self:expr(s.to)
  if not (a.c and b.c) or a.ty.t ~= "int" or b.ty.t ~= "int" then
    self:err(a.c and s.to or s.from, "a for range needs integer bounds")
  end
  local from = self:hoist("(s64)(" .. a.c .. ")")
  local n = self:hoist(("((s64)(%s) > (s64)(%s) ? (s64)(%s) - (s64)(%s) : 0)"):format(b.c, from, b.c, from))
  local bind = function(f)
    local var = f:var_slot(s.var, T.INT)
    f:emit("if (__i >= __c->n) return 1;")
    f:emit(("%s = (s64)__c->from + (s64)__i;"):format(var.cname))
  end
  -- one call more than the range, which stops at once: a bpf_loop whose
  -- count the verifier knows to be 0 is never walked, and 6.18's verifier
  -- then fails the program ("No program to jit")
  self:loop_callback(s, "%s(u64 __i, struct %s *__c)", bind,
    "bpf_loop(" .. n .. " + 1, %s, &%s, 0);",
    { decl = "s64 from; u64 n;", set = "%s.from = " .. from .. "; %s.n = " .. n .. ";" })
end

function F:for_stmt(s)
  if s.map then return self:for_map(s) end
  return self:for_range(s)
end

end
