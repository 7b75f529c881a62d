-- luatrace.bpftrace.calls: bpftrace's functions (printf, str, ntop, ...)
-- as methods of the per-function generator F (see codegen.lua). Functions
-- whose effect is in user space (printf, time, print, clear, exit, cat,
-- system) send a record to Lua; the rest are C.
local T = require "luatrace.bpftrace.types"
local core = require "luatrace.core"

return function(F, G, H)
local int, const_str = H.int, H.const_str
require("luatrace.bpftrace.calls_ext")(F, G, H)

local NONE = { ty = T.NONE }

-- printf-style conversions: the type each expects.
local conv_kind = { d = "int", i = "int", u = "int", x = "int", X = "int", o = "int",
  c = "int", p = "int", s = "str", r = "buf" }

-- Parse a bpftrace format into its conversions (%% excluded).
function G.format_specs(fmt)
  local specs = {}
  local i = 1
  while true do
    local s = fmt:find("%", i, true)
    if not s then break end
    if fmt:sub(s + 1, s + 1) == "%" then i = s + 2
    else
      local flags, width, prec, len, conv, e = fmt:match(
        "^%%([-+ #0]*)(%d*)(%.?%d*)([hljzt]*)([%a])()", s)
      if not conv then return nil, s end
      specs[#specs + 1] = { flags = flags, width = width, prec = prec, len = len, conv = conv, from = s, to = e }
      i = e
    end
  end
  return specs
end

local strish = { str = true, ksym = true, usym = true, inet = true, kstack = true, ustack = true,
  tuple = true, buf = true, strftime = true, username = true, strerror = true, cgroup_path = true,
  macaddr = true }

-- Check args against a format and build the record fields and writers.
function F:format_args(call, fmt_node, args, fname)
  local fmt = fmt_node.v
  local specs, bad = G.format_specs(fmt)
  if not specs then self:err(fmt_node, fname .. ": invalid format string") end
  if #specs ~= #args then
    self:err(call, ("%s: Expected %d arguments to match format string but %s"):format(
      fname, #specs, #args > #specs and ("got " .. #args) or ("only " .. #args .. " were given")))
  end
  local fields, writers = {}, {}
  for i, a in ipairs(args) do
    local v = self:expr(a)
    local sp = specs[i]
    local want = conv_kind[sp.conv]
    if not want then self:err(call, ("%s: Unknown format string token: %%%s"):format(fname, sp.conv)) end
    local got = v.ty.t
    if want == "int" and not (got == "int" or got == "ptr" or (sp.conv == "p")) then
      self:err(call, ("%s: %%%s specifier expects a value of type integer (%s supplied)"):format(
        fname, sp.conv, got == "str" and "string" or got))
    end
    if want == "str" and not strish[got] then
      self:err(call, ("%s: %%s specifier expects a value of type string (%s supplied)"):format(
        fname, got == "int" and "integer" or got))
    end
    if want == "buf" and got ~= "buf" then
      self:err(call, ("%s: %%r specifier expects a value of type buffer (%s supplied)"):format(fname, got))
    end
    if got == "rec" or got == "none" or got == "arr" or got == "args" then
      self:err(a, fname .. ": cannot print a value of type " .. T.name(v.ty))
    end
    local ft = T.copy(v.ty)
    if ft.t == "int" then ft.size = 8 end
    fields[i] = ft
    writers[i] = function(dest)
      if v.c then
        return ("%s = (%s)(%s);"):format(dest, ft.t == "int" and (ft.signed and "s64" or "u64")
          or (ft.t == "kstack" and "s64" or "u64"), v.c)
      end
      return v.write(dest, ft)
    end
  end
  return fields, writers, specs
end

local function map_arg(self, call, fname)
  local a = call.args[1]
  if not a or a.k ~= "Map" then self:err(call, fname .. "() expects a map argument") end
  if a.keys then self:err(a, ("The map passed to %s() should not be indexed by a key"):format(fname)) end
  if not self.g.maps[a.name] then
    if self.g.pass == 2 then self:err(a, "Undefined map: " .. a.name) end
    return a
  end
  return a
end

local unsupported = { printk = true, debugf = true, percpu_kaddr = true,
  pid_ns = true,
  len = true, nsecs = true, print_map = true, errorf = true, warnf = true,
  unwatch = true, socket_cookie = true, tseries = true }

function F:call(e, stmt_ctx)
  local n, args = e.name, e.args
  local function need(k, m)
    if #args < k or #args > (m or k) then
      if k == (m or k) then
        self:err(e, ("%s() requires %d argument%s (%d provided)"):format(n, k, k == 1 and "" or "s", #args))
      end
      self:err(e, ("%s() takes %d to %d arguments (%d provided)"):format(n, k, m, #args))
    end
  end
  local function void()
    if not stmt_ctx then self:err(e, n .. "() does not return a value") end
  end
  if G.aggs[n] then self:err(e, n .. "() should be directly assigned to a map") end
  if n == "printf" or n == "system" or n == "cat" then
    void()
    if #args < 1 or args[1].k ~= "Str" then self:err(e, n .. "() expects a string literal as its first argument") end
    if n == "system" and not self.g.opts.unsafe then
      self:err(e, "system() is an unsafe function being used in safe mode (run with --unsafe)")
    end
    local rest = {}
    for i = 2, #args do rest[#rest + 1] = args[i] end
    local fields, writers, specs = self:format_args(e, args[1], rest, n)
    self:emit(self.g:record(n, { fmt = args[1].v, specs = specs }, fields, writers))
    return NONE
  end
  if n == "time" then
    void()
    need(0, 1)
    if args[1] and args[1].k ~= "Str" then self:err(args[1], "time() expects a string literal") end
    self:emit(self.g:record("time", { fmt = args[1] and args[1].v or "%H:%M:%S\n" }, {}, {}))
    return NONE
  end
  if n == "exit" then
    void()
    need(0, 1)
    self:emit(self.g:record("exit", {}, {}, {}))
    return NONE
  end
  if n == "print" then
    void()
    need(1, 3)
    if args[1].k == "Map" and args[1].keys then
      self:err(args[1], "The map passed to print() should not be indexed by a key")
    end
    if args[1].k == "Map" then
      local a = map_arg(self, e, "print")
      local top = args[2] and self:const_int(args[2]) or 0
      local div = args[3] and self:const_int(args[3]) or 0
      if (args[2] and not top) or (args[3] and not div) then self:err(e, "print() top and div must be integer literals") end
      self:emit(self.g:record("print", { map = a.name, top = top, div = div }, {}, {}))
      return NONE
    end
    if #args > 1 then self:err(e, "print() with top and div takes a map") end
    local v = self:storable(self:expr(args[1]), args[1], G.MAX_STRUCT_PRINT) -- records.lua
    if v.ty.t == "none" then self:err(args[1], "print() cannot print this value") end
    local ft = T.copy(v.ty)
    if ft.t == "int" then ft.size = 8 end
    self:emit(self.g:record("print_value", {}, { ft }, { function(dest)
      if v.c then return ("%s = (%s)(%s);"):format(dest, ft.t == "int" and (ft.signed and "s64" or "u64") or "u64", v.c) end
      return v.write(dest, ft)
    end }))
    return NONE
  end
  if n == "clear" or n == "zero" then
    void()
    need(1)
    local a = map_arg(self, e, n)
    self:emit(self.g:record(n, { map = a.name }, {}, {}))
    return NONE
  end
  if n == "delete" then
    void()
    need(1, 2)
    local node = args[1]
    if node.k ~= "Map" then self:err(e, "delete() expects a map element") end
    local keys = node.keys
    if #args == 2 then keys = { args[2] } end
    local tmpnode = { k = "Map", name = node.name, keys = keys or {}, pos = node.pos, epos = node.epos }
    local vals, keyT = self:key_types(tmpnode)
    local m = self.g:map_use(tmpnode, nil, nil, keyT)
    if not m.kind then m.kind, m.V, m.assumed = "value", T.copy(T.INT), true end
    if m.kind == "hist" or m.kind == "lhist" then self:err(e, "delete() of one hist() bucket is not supported; use clear()") end
    local k = self:build_key(tmpnode, m, vals)
    self:emit(("bpf_map_delete_elem(&%s, &%s);"):format(m.cname, k))
    return NONE
  end
  if n == "signal" then
    void()
    need(1)
    if not self.g.opts.unsafe then
      self:err(e, "signal() is an unsafe function being used in safe mode (run with --unsafe)")
    end
    local sigs = { SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGKILL = 9, SIGUSR1 = 10, SIGUSR2 = 12,
      SIGTERM = 15, SIGSTOP = 19, SIGCONT = 18, SIGTRAP = 5, SIGABRT = 6 }
    local s
    if args[1].k == "Str" then
      local name = args[1].v:upper()
      if not name:match("^SIG") then name = "SIG" .. name end
      s = sigs[name]
      if not s then self:err(args[1], "signal(): unknown signal " .. args[1].v) end
      s = tostring(s)
    else
      local v = self:expr(args[1])
      if not v.c then self:err(args[1], "signal() takes a signal number or name") end
      s = v.c
    end
    self:emit(("bpf_send_signal(%s);"):format(s))
    return NONE
  end
  if n == "join" then
    void()
    need(1, 2)
    local v = self:expr(args[1])
    if v.ty.t ~= "ptr" and v.ty.t ~= "int" then self:err(args[1], "join() expects an array of strings (char **)") end
    local sep = " "
    if args[2] then
      if args[2].k ~= "Str" then self:err(args[2], "join() separator must be a string literal") end
      sep = args[2].v
    end
    local ft = { t = "join" }
    self:emit(self.g:record("join", { sep = sep }, { ft }, { function(dest)
      return ([[{ u64 __a = (u64)(%s); const char *__s = 0;
#pragma unroll
for (int __i = 0; __i < 16; __i++) {
  __s = 0; lt_bt_read(&__s, sizeof(__s), (void *)(__a + __i * 8));
  if (!__s) break;
  lt_bt_read_str(%s.s[__i], sizeof(%s.s[__i]), __s);
} }]]):format(v.c, dest, dest)
    end }))
    return NONE
  end
  -- value-returning functions
  if n == "str" then
    need(1, 2)
    if args[1].k == "Param" then -- str($1): the argument as text
      local a = (self.g.opts.args or {})[args[1].n] or ""
      return const_str(a)
    end
    local v = self:expr(args[1])
    local size, nc = T.STRLEN, nil
    if args[2] then
      local k = self:const_int(args[2])
      if k then
        if k < 1 then self:err(args[2], "str() length must be positive") end
        size = math.min(k, 1024)
      else
        local lv = self:expr(args[2])
        if not lv.c then self:err(args[2], "str() length must be an integer") end
        nc = lv.c
      end
    end
    if v.ty.t == "str" then
      if v.lit then return const_str(v.lit:sub(1, size - 1)) end
      local ty = T.str(math.min(size, v.ty.size))
      return { ty = ty, write = function(dest)
        local src = self:mat(v)
        return ("__builtin_memcpy(&%s, %s, sizeof(%s) < %d ? sizeof(%s) : %d); ((char *)&%s)[(sizeof(%s) < %d ? sizeof(%s) : %d) - 1] = 0;"):format(
          dest, src, dest, ty.size, dest, ty.size, dest, dest, ty.size, dest, ty.size)
      end }
    end
    if not v.c then self:err(args[1], "str() expects a pointer or integer, not " .. T.name(v.ty)) end
    return { ty = T.str(size), write = function(dest)
      if nc then
        return ("{ u32 __n = (u32)(%s) + 1; if (__n > sizeof(%s)) __n = sizeof(%s); __builtin_memset(&%s, 0, sizeof(%s)); if (__n > 1) lt_bt_read_str(&%s, __n, (const void *)(%s)); }"):format(
          nc, dest, dest, dest, dest, dest, v.c)
      end
      return ("lt_bt_read_str(&%s, sizeof(%s) < %d ? sizeof(%s) : %d, (const void *)(%s));"):format(
        dest, dest, size, dest, size, v.c)
    end }
  end
  if n == "buf" then
    need(1, 2)
    local v = self:expr(args[1])
    if not v.c then
      if v.ty.t == "str" then
        local src = self:mat(v)
        local size = v.ty.size
        return { ty = { t = "buf", size = size }, write = function(dest)
          return ("%s.len = %d; __builtin_memcpy(%s.d, %s, %d);"):format(dest, size, dest, src, size)
        end }
      end
      self:err(args[1], "buf() expects a pointer")
    end
    local size = args[2] and self:const_int(args[2])
    local nc
    if args[2] and not size then
      nc = self:expr(args[2]).c
      size = T.STRLEN
    end
    size = size or T.STRLEN
    if size < 1 or size > 1024 then self:err(args[2], "buf() length must be in 1..1024") end
    return { ty = { t = "buf", size = size }, write = function(dest)
      if nc then
        return ("{ u32 __n = (u32)(%s); if (__n > %d) __n = %d; %s.len = __n; if (__n) lt_bt_read(%s.d, __n, (const void *)(%s)); }"):format(
          nc, size, size, dest, dest, v.c)
      end
      return ("%s.len = %d; lt_bt_read(%s.d, %d, (const void *)(%s));"):format(dest, size, dest, size, v.c)
    end }
  end
  if n == "ntop" then
    need(1, 2)
    local af, addr
    if #args == 2 then af, addr = self:expr(args[1]), self:expr(args[2]) else addr = self:expr(args[1]) end
    if addr.c then
      if addr.ty.t == "int" and (addr.ty.size <= 4) or addr.ty.t == "int" then
        return { ty = { t = "inet" }, write = function(dest)
          return ("%s.af = %s; __builtin_memset(%s.a, 0, 16); *(u32 *)%s.a = (u32)(%s);"):format(
            dest, af and af.c or "2", dest, dest, addr.c)
        end }
      end
      self:err(args[#args], "ntop() expects an integer or a byte array")
    end
    if addr.ty.t == "str" or addr.ty.t == "arr" then
      local size = addr.ty.size or (addr.ty.n or 16)
      return { ty = { t = "inet" }, write = function(dest)
        local src = addr.var or self:mat(addr)
        return ("%s.af = %s; __builtin_memset(%s.a, 0, 16); __builtin_memcpy(%s.a, %s, %d);"):format(
          dest, af and af.c or (size == 4 and "2" or "10"), dest, dest, src, math.min(size, 16))
      end }
    end
    self:err(args[#args], "ntop() expects an integer or a byte array")
  end
  if n == "ksym" then
    need(1)
    local v = self:expr(args[1])
    if not v.c then self:err(args[1], "ksym() expects an integer") end
    return { ty = { t = "ksym" }, c = v.c }
  end
  if n == "usym" then
    need(1)
    local v = self:expr(args[1])
    if not v.c then self:err(args[1], "usym() expects an integer") end
    return { ty = { t = "usym" }, write = function(dest)
      return ("%s.id = (s64)(%s); %s.pid = lt_pid();"):format(dest, v.c, dest)
    end }
  end
  if n == "kaddr" then
    need(1)
    if args[1].k ~= "Str" then self:err(args[1], "kaddr() expects a string literal") end
    require("luatrace.bpftrace.inputs").volatile("kaddr()") -- KASLR: per boot
    local a = core.ksym_addr(args[1].v)
    if not a then self:err(args[1], "kaddr(): unknown kernel symbol " .. args[1].v) end
    local ffi = require "ffi"
    if type(a) ~= "number" then a = ffi.cast("uint64_t", ffi.cast("uintptr_t", a)) end
    local txt = type(a) == "number" and ("%.0f"):format(a) or tostring(a):gsub("U?LL$", "")
    return int(txt .. "ULL", false)
  end
  if n == "bswap" then
    need(1)
    local v = self:expr(args[1])
    if v.ty.t ~= "int" then self:err(args[1], "bswap() expects an integer") end
    local size = v.ty.size
    if size == 1 then return v end
    return { ty = T.int(size, false), c = ("__builtin_bswap%d((u%d)(%s))"):format(size * 8, size * 8, v.c) }
  end
  if n == "strncmp" then
    need(3)
    local a, b = self:expr(args[1]), self:expr(args[2])
    local k = self:const_int(args[3])
    if not k then self:err(args[3], "strncmp() length must be an integer literal") end
    if a.ty.t ~= "str" or b.ty.t ~= "str" then self:err(e, "strncmp() compares two strings") end
    local ac = a.lit and H.cstr(a.lit) or self:mat(a)
    local bc = b.lit and H.cstr(b.lit) or self:mat(b)
    return int(("(!lt_bt_strneq(%s, %s, %d))"):format(ac, bc, math.min(k, a.ty.size, b.ty.size)))
  end
  if n == "kstack" or n == "ustack" then
    need(0, 2)
    local depth
    for _, a in ipairs(args) do
      local k = self:const_int(a)
      if k then depth = k
      elseif a.k == "Builtin" and (a.name == "perf" or a.name == "bpftrace" or a.name == "raw") then
        self.stack_mode = a.name
      else self:err(a, n .. "() takes a mode (bpftrace, perf, raw) and/or a depth") end
    end
    local v = self:stack(e, n == "ustack", depth)
    for _, a in ipairs(args) do
      if a.k == "Builtin" then v.ty.mode = a.name end
    end
    return v
  end
  if n == "sizeof" then self:err(e, "sizeof takes a type or expression") end
  local x = self:call_ext(e, stmt_ctx)
  if x then return x end
  if unsupported[n] then self:err(e, ("the function %s() is not supported by luatrace"):format(n)) end
  self:err(e, "Unknown function: " .. n)
end

end
