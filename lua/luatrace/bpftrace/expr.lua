-- luatrace.bpftrace.expr: expressions, builtins and functions (methods of
-- the per-function generator F, see codegen.lua). A compiled value is
-- { ty = type, c = "C expression" } for scalars, or { ty, write =
-- function(dest, destT) -> C statements } for strings, tuples, stacks...
local T = require "luatrace.bpftrace.types"
local core = require "luatrace.core"

return function(F, G)

local function cstr(s)
  return '"' .. s:gsub('[%c"\\\128-\255]', function(c)
    return ("\\%03o"):format(c:byte())
  end) .. '"'
end
G.cstr = cstr

local function int(c, signed) return { ty = signed == false and T.UINT or T.INT, c = c } end

local function lit_int(v)
  if v >= 2 ^ 63 then return ("%.0fULL"):format(v) end
  return ("%.0fLL"):format(v)
end

-- A string constant as a value.
local function const_str(s)
  return { ty = T.str(#s + 1), lit = s, write = function(dest, destT)
    local n = math.min(#s + 1, destT and destT.size or #s + 1)
    return ("__builtin_memcpy(&%s, %s, %d); ((char *)&%s)[%d] = 0;"):format(dest, cstr(s), n, dest, n - 1)
  end }
end
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

local function copy_writer(src_c)
  return function(dest)
    return ("__builtin_memcpy(&%s, &%s, sizeof(%s) < sizeof(%s) ? sizeof(%s) : sizeof(%s));"):format(
      dest, src_c, dest, src_c, dest, src_c)
  end
end

-- ---- builtins ----

-- #define constants of kernel headers that bpftrace programs use by name
-- (headers are not read: everything else comes from BTF).
local defines = {
  AF_UNSPEC = 0, AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10, AF_NETLINK = 16, AF_PACKET = 17,
  TASK_RUNNING = 0, TASK_INTERRUPTIBLE = 1, TASK_UNINTERRUPTIBLE = 2, TASK_STOPPED = 4,
  TASK_TRACED = 8, EXIT_DEAD = 16, EXIT_ZOMBIE = 32, TASK_DEAD = 128,
  O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 64, O_TRUNC = 512, O_APPEND = 1024,
  SIGKILL = 9, SIGTERM = 15, SIGINT = 2,
}

local ctx_name = function(p) return p.kind == "tracepoint" and "args" or "ctx" end

function F:builtin(e)
  local n, p = e.name, self.probe
  local k = p.kind
  if n == "pid" then return int("lt_pid()", false) end
  if n == "tid" then return int("lt_tid()", false) end
  if n == "uid" then return int("(bpf_get_current_uid_gid() & 0xffffffff)", false) end
  if n == "gid" then return int("(bpf_get_current_uid_gid() >> 32)", false) end
  if n == "nsecs" then return int("bpf_ktime_get_ns()", false) end
  if n == "elapsed" then return int("(bpf_ktime_get_ns() - lt_bt_start_ns)", false) end
  if n == "cpu" then return int("bpf_get_smp_processor_id()", false) end
  if n == "cgroup" then return int("bpf_get_current_cgroup_id()", false) end
  if n == "rand" then return int("bpf_get_prandom_u32()", false) end
  if n == "cpid" then
    if not self.g.opts.cmd_pid_known then self:err(e, "cpid cannot be used without a child command (-c)") end
    return int("lt_bt_cpid", false)
  end
  if n == "curtask" then
    local btf = require "luatrace.bpftrace.btf"
    return { ty = { t = "ptr", btf = btf.find("struct", "task_struct"), cty = "struct task_struct *" },
      c = "(u64)bpf_get_current_task()" }
  end
  if n == "comm" then
    return { ty = T.str(16), write = function(dest)
      return ("bpf_get_current_comm(&%s, sizeof(%s));"):format(dest, dest)
    end }
  end
  if (n == "probe" or n == "func") and p.targets then return self:target_name(e, n) end
  if n == "probe" then return const_str(p.name) end
  if n == "func" then
    if not p.func then self:err(e, "func is not available for " .. k .. " probes") end
    return const_str(p.func)
  end
  if n == "kstack" then return self:stack(e, false) end
  if n == "ustack" then return self:stack(e, true) end
  if n == "retval" then
    if k == "kretprobe" or k == "uretprobe" then return int("PT_REGS_RC(ctx)") end
    if k == "kretfunc" then return int("(s64)__lt_retval") end
    self:err(e, "The retval builtin can only be used with 'kretprobe' and 'uretprobe' and 'kfunc' probes")
  end
  local argn = n:match("^arg(%d+)$")
  if argn then
    argn = tonumber(argn)
    if k == "kprobe" or k == "uprobe" then
      if argn > 5 then self:err(e, n .. " is beyond the registers (arg0..arg5)") end
      return int(("PT_REGS_PARM%d(ctx)"):format(argn + 1), false)
    elseif k == "usdt" then
      return int(("({ long __a = 0; bpf_usdt_arg(ctx, %d, &__a); __a; })"):format(argn))
    elseif k == "rawtracepoint" then
      return int(("ctx->args[%d]"):format(argn), false)
    end
    self:err(e, ("The %s builtin can only be used with 'kprobes', 'uprobes' and 'usdt' probes"):format(n))
  end
  if n == "args" then
    if k == "tracepoint" or k == "kfunc" or k == "kretfunc" then return { ty = { t = "args" } } end
    self:err(e, "The args builtin can only be used with tracepoint/kfunc/uprobe probes (" .. k .. " used here)")
  end
  -- a kernel enumerator (BTF), or one of the few #define constants the
  -- shipped tools use (bpftrace gets those from the #included headers)
  if n:match("^[%u_][%u%d_]+$") then
    local v = defines[n] or require("luatrace.bpftrace.btf").enum_value(n)
    if v then return int(lit_int(v)) end
  end
  local x = self:builtin_ext(e)
  if x then return x end
  if n == "jiffies" then
    self:err(e, ("the builtin %s is not supported by luatrace"):format(n))
  end
  self:err(e, "Unknown identifier: '" .. n .. "'")
end

function F:stack(e, user, depth)
  self.g.need_stacks = true
  local flags = user and "BPF_F_USER_STACK" or "0"
  local c = ("bpf_get_stackid(%s, &lt_bt_stacks, %s)"):format(ctx_name(self.probe), flags)
  if user then
    return { ty = { t = "ustack", depth = depth }, write = function(dest)
      return ("%s.id = %s; %s.pid = lt_pid();"):format(dest, c, dest)
    end }
  end
  return { ty = { t = "kstack", depth = depth }, c = c }
end

-- ---- struct members through BTF ----

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
  if ty.t == "ptr" then
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

local int_types = {
  int8 = { 1, true }, int16 = { 2, true }, int32 = { 4, true }, int64 = { 8, true },
  uint8 = { 1, false }, uint16 = { 2, false }, uint32 = { 4, false }, uint64 = { 8, false },
  s8 = { 1, true }, s16 = { 2, true }, s32 = { 4, true }, s64 = { 8, true },
  u8 = { 1, false }, u16 = { 2, false }, u32 = { 4, false }, u64 = { 8, false },
  char = { 1, true }, short = { 2, true }, int = { 4, true }, long = { 8, true },
  ["unsigned int"] = { 4, false }, ["unsigned long"] = { 8, false }, ["unsigned char"] = { 1, false },
  ["unsigned short"] = { 2, false }, ["long long"] = { 8, true }, ["unsigned long long"] = { 8, false },
  bool = { 1, false }, size_t = { 8, false }, pid_t = { 4, true },
}
local cint = { [1] = "8", [2] = "16", [4] = "32", [8] = "64" }

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
      id = B.find(kind, name)
      if not id then
        for _, s in ipairs(self.g.ast.structs) do
          if s.text:match("^%s*" .. kind .. "%s+" .. name .. "%f[^%w_]") then
            self:err(e, ("struct %s is defined in the program; luatrace reads members of kernel (BTF) types only"):format(name))
          end
        end
        self:err(e, ("Unknown struct/union: '%s'"):format(ty.name))
      end
    elseif int_types[ty.name] then
      local it = int_types[ty.name]
      local cty = (it[2] and "s" or "u") .. cint[it[1]] .. (" *"):rep(ty.ptr)
      return { ty = { t = "ptr", int = it, cty = cty, charp = it[1] == 1 and ty.ptr == 1,
        user = self:user_space() }, c = "(u64)(" .. v.c .. ")" }
    else
      id = B.find("typedef", ty.name)
      if not id then self:err(e, "Unknown type: '" .. ty.name .. "'") end
    end
    local cty = ty.name .. (" *"):rep(ty.ptr)
    if ty.ptr > 1 then
      return { ty = { t = "ptr", cty = cty, user = self:user_space() }, c = "(u64)(" .. v.c .. ")" }
    end
    return { ty = { t = "ptr", btf = id, cty = cty, user = self:user_space() }, c = "(u64)(" .. v.c .. ")" }
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
    if v.ty.t == "rec" then
      local B = btf()
      return { ty = { t = "ptr", btf = v.ty.btf, cty = B.cname(v.ty.btf) .. " *" }, c = "(u64)&" .. v.ty.lv }
    end
    self:err(e, "& applies to struct members")
  end
  local v = self:expr(e.e)
  if op == "*" then
    if v.ty.t ~= "ptr" then self:err(e, "dereference of a non-pointer (" .. T.name(v.ty) .. ")") end
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
  if k == "Sizeof" then
    if e.ty then
      local ty = e.ty
      if int_types[ty.name] and ty.ptr == 0 then return int(tostring(int_types[ty.name][1])) end
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
    return self:member_value(e, ("%s[%s]"):format(ty.lv, idx.c), ty.btf, ty.user)
  end
  if ty.t == "ptr" then
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

require("luatrace.bpftrace.calls")(F, G, { int = int, const_str = const_str, cstr = cstr,
  copy_writer = copy_writer, lit_int = lit_int })

end
