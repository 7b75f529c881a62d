-- luatrace.bpftrace.codegen: AST -> BPF C for the prelude (luatrace.bpf.h),
-- with the semantic checks done on the way (types of maps and variables,
-- function arguments). Expressions are in expr.lua; this file holds the
-- program, probes, statements, maps and the records sent to Lua.
--
-- Every value that Lua must format (printf, time, print, exit, ...) goes
-- through one ring buffer as a record `struct lt_bt_ev_N { u64 id; ... }`
-- exported into BTF, so Lua decodes it through FFI types from the object.
-- id's high 32 bits are the CPU that made the record: the runtime keeps
-- the output of one CPU's records together (a probe's time() and printf()
-- are two records, and another CPU's may come between them in the ring).
local T = require "luatrace.bpftrace.types"
local errors = require "luatrace.bpftrace.errors"
local probes = require "luatrace.bpftrace.probes"

local G = {}
G.__index = G

function G:err(node, msg) errors.at(self.ctx, node, msg) end

-- The C name of map @name.
local function map_cname(name)
  return "lt_m_" .. (name == "@" and "_" or name:sub(2))
end

-- ---- maps ----

-- Aggregation kinds and their value storage.
local agg_value = {
  count = "u64", sum = "s64", avg = "struct { s64 count; s64 total; }",
  stats = "struct { s64 count; s64 total; }", min = "struct { s64 v; u64 set; }",
  max = "struct { s64 v; u64 set; }", hist = "u64", lhist = "u64",
}
G.agg_value = agg_value

-- Record what map `node` (a Map node) holds: kind (an aggregation or
-- "value") with value type V, and its key types. Checks consistency.
function G:map_use(node, kind, V, keysT, extra)
  local m = self.maps[node.name]
  if not m then
    m = { name = node.name, cname = map_cname(node.name), kind = kind, V = V and T.copy(V),
          keys = {}, extra = extra, order = #self.map_order + 1 }
    for i, k in ipairs(keysT) do m.keys[i] = T.copy(k) end
    self.maps[node.name] = m
    self.map_order[#self.map_order + 1] = node.name
    return m
  end
  if kind and m.kind ~= kind and not (m.assumed) then
    local have = m.kind == "value" and T.name(m.V) or m.kind
    local want = kind == "value" and T.name(V) or kind
    self:err(node, ("Type mismatch for %s: trying to assign value of type '%s' when map already contains a value of type '%s'"):format(
      node.name, want, have))
  end
  if kind and m.assumed then m.kind, m.V, m.assumed = kind, V and T.copy(V), nil end
  if V and m.V then
    if not T.compatible(m.V, V) then
      self:err(node, ("Type mismatch for %s: trying to assign value of type '%s' when map already contains a value of type '%s'"):format(
        node.name, T.name(V), T.name(m.V)))
    end
    T.widen(m.V, V)
  end
  if #m.keys ~= #keysT and not m.keyless_ok then
    self:err(node, ("Argument mismatch for %s: trying to access with %d arguments when map expects %d arguments"):format(
      node.name, #keysT, #m.keys))
  end
  for i, k in ipairs(keysT) do
    if not T.compatible(m.keys[i], k) then
      self:err(node, ("Argument mismatch for %s: trying to access with arguments: [%s] when map expects arguments: [%s]"):format(
        node.name, T.name(k), T.name(m.keys[i])))
    end
    T.widen(m.keys[i], k)
  end
  if extra and m.extra then
    for k, v in pairs(extra) do
      if m.extra[k] ~= v then self:err(node, "lhist() arguments must be the same for every use of " .. node.name) end
    end
  end
  return m
end

-- C declarations of every map (after all code is generated).
function G:map_decls()
  local out = {}
  for _, name in ipairs(self.map_order) do
    local m = self.maps[name]
    local key
    local fields = {}
    for i, k in ipairs(m.keys) do fields[#fields + 1] = T.decl(k, "k" .. (i - 1)) .. ";" end
    if m.kind == "hist" or m.kind == "lhist" then fields[#fields + 1] = "u64 bucket;" end
    if #fields == 0 then key = "u64" else
      key = "struct " .. m.cname .. "_key"
      out[#out + 1] = ("struct %s_key { %s };"):format(m.cname, table.concat(fields, " "))
    end
    local val
    if agg_value[m.kind] then
      val = agg_value[m.kind]
      if val:sub(1, 6) == "struct" then
        out[#out + 1] = ("struct %s_val %s;"):format(m.cname, val:sub(8))
        val = "struct " .. m.cname .. "_val"
      end
    else
      out[#out + 1] = ("struct %s_val { %s; };"):format(m.cname, T.decl(m.V or T.INT, "v"))
      val = "struct " .. m.cname .. "_val"
    end
    m.key_c, m.val_c = key, val
    out[#out + 1] = ("LT_MAP(BPF_MAP_TYPE_HASH, %s, %s, %s, %d);"):format(m.cname, key, val, self.opts.map_size or 4096)
  end
  return table.concat(out, "\n")
end

-- ---- records sent to Lua ----

-- A record with fields of types `fields` ({T...}); returns its id and the
-- C statements that reserve it and fill it with `writers` (functions of
-- the destination lvalue).
function G:record(kind, info, fields, writers)
  local id = #self.events + 1
  local sname = "lt_bt_ev_" .. id
  local decl = { "u64 id;" }
  for i, f in ipairs(fields) do decl[#decl + 1] = T.decl(f, "a" .. (i - 1)) .. ";" end
  self.struct_defs[#self.struct_defs + 1] = ("struct %s { %s };\nLT_EXPORT_TYPE(struct %s, %s);"):format(
    sname, table.concat(decl, " "), sname, sname)
  info.kind, info.id, info.struct, info.fields = kind, id, "struct " .. sname, fields
  info.from = self.kind_now
  self.events[id] = info
  local body = { ("{ struct %s *__r = bpf_ringbuf_reserve(&lt_bt_out, sizeof(*__r), 0);"):format(sname),
    "if (__r) { __r->id = " .. id .. " | ((u64)bpf_get_smp_processor_id() << 32);" }
  for i, w in ipairs(writers or {}) do body[#body + 1] = w("__r->a" .. (i - 1)) end
  body[#body + 1] = "bpf_ringbuf_submit(__r, 0); } else { lt_ringbuf_lost(lt_bt_out); } }"
  return table.concat(body, "\n")
end

-- ---- functions (one per concrete probe) ----

local F = {}
F.__index = function(t, k) return F[k] or G[k] end

function F:emit(s) self.out[#self.out + 1] = s end

function F:tmp(T_, prefix)
  self.ntmp = self.ntmp + 1
  local name = (prefix or "__t") .. self.ntmp
  self.decls[#self.decls + 1] = T.decl(T_, name) .. ";"
  return name
end

-- Hoisted local with a raw C declaration.
function F:ctmp(cdecl_fmt)
  self.ntmp = self.ntmp + 1
  local name = "__t" .. self.ntmp
  self.decls[#self.decls + 1] = cdecl_fmt:format(name) .. ";"
  return name
end

require("luatrace.bpftrace.stmt")(F, G)
require("luatrace.bpftrace.expr")(F, G)
require("luatrace.bpftrace.loops")(F, G)
require("luatrace.bpftrace.records")(F, G)
require("luatrace.bpftrace.macros")(F, G)

-- The C head of a probe's function and what its context offers.
function G:function_head(p, fname)
  local k = p.kind
  if k == "BEGIN" or k == "END" then -- run by the runtime (obj:run), not attached
    return ('SEC("raw_tracepoint") int %s(struct bpf_raw_tracepoint_args *ctx)'):format(fname)
  elseif k == "tracepoint" and p.targets then -- several tracepoints, args unused
    return ('SEC("tracepoint") int %s(void *args)'):format(fname)
  elseif k == "tracepoint" then
    return ('SEC("tracepoint") int %s(struct tracepoint__%s__%s *args)'):format(fname, p.cat, p.event)
  elseif k == "rawtracepoint" then
    return ('SEC("raw_tracepoint") int %s(struct bpf_raw_tracepoint_args *ctx)'):format(fname)
  elseif k == "kprobe" or k == "kretprobe" then
    return ('SEC("kprobe") int %s(struct pt_regs *ctx)'):format(fname)
  elseif k == "uprobe" or k == "uretprobe" then
    return ('SEC("uprobe") int %s(struct pt_regs *ctx)'):format(fname)
  elseif k == "usdt" then
    return ('SEC("usdt") int %s(struct pt_regs *ctx)'):format(fname)
  elseif k == "kfunc" or k == "kretfunc" then
    local btf = require "luatrace.bpftrace.btf"
    local params, ret = btf.func_params(p.func)
    if not params then return nil, ("kfunc %s: no such function in the kernel's BTF"):format(p.func) end
    local list = {}
    for _, a in ipairs(params) do
      local cty = btf.cname(a.type) or "u64"
      list[#list + 1] = cty .. " " .. a.name
    end
    if k == "kretfunc" then
      list[#list + 1] = (btf.cname(ret) == "void" and "u64" or (btf.cname(ret) or "u64")) .. " __lt_retval"
    end
    p.params = params
    p.ret_type = ret
    return ('SEC("%s/%s") int BPF_PROG(%s%s)'):format(k == "kfunc" and "fentry" or "fexit",
      p.func, fname, #list > 0 and (", " .. table.concat(list, ", ")) or "")
  else -- profile interval software hardware
    return ('SEC("perf_event") int %s(struct bpf_perf_event_data *ctx)'):format(fname)
  end
end

function G:gen_function(probe_ast, p, index)
  local fname = ("lt_bt_p%d"):format(index)
  self.kind_now = p.kind -- records made in this body say so (record.from)
  local head, herr = self:function_head(p, fname)
  if not head then self:err(probe_ast.attach[1], herr) end
  local f = setmetatable({ g = self, ctx = self.ctx, probe = p, ast = probe_ast, out = {}, decls = {},
    vars = {}, ntmp = 0, fname = fname }, F)
  -- pid filter (-p PID), except where the probe is not per-process
  if self.opts.pid and p.kind ~= "BEGIN" and p.kind ~= "END" and p.kind ~= "interval" then
    f:emit("if (lt_bt_target_pid && lt_pid() != lt_bt_target_pid) return 0;")
  end
  if probe_ast.pred then
    local v = f:expr(probe_ast.pred)
    f:emit(("if (!(%s)) return 0;"):format(f:truth(v, probe_ast.pred)))
  end
  f:block(probe_ast.body)
  p.fname = fname
  return head .. "\n{\n" .. table.concat(f.decls, "\n") .. (#f.decls > 0 and "\n" or "")
    .. table.concat(f.out, "\n") .. "\nreturn 0;\n}\n"
end

-- Generate the whole program: returns the C text and the program's
-- description for the runtime (probes, maps, events).
function G:program()
  local prog = self.ast
  local funcs = {}
  local concrete = {}
  for _, pa in ipairs(prog.probes) do
    for _, w in ipairs(pa.attach) do
      local list = probes.expand(w, function(msg) self:err(w, msg) end,
        function(msg) self.warnings[#self.warnings + 1] = msg end, pa)
      for _, p in ipairs(list) do
        p.word = w
        concrete[#concrete + 1] = p
        funcs[#funcs + 1] = self:gen_function(pa, p, #concrete)
      end
    end
  end
  self.probes = concrete
  local parts = { "/* generated by luatrace from " .. (self.ctx.name or "stdin") .. " */" }
  if self.need_usdt then parts[#parts + 1] = "#include <bpf/usdt.bpf.h>" end
  for _, s in ipairs(prog.structs) do parts[#parts + 1] = s.text end
  parts[#parts + 1] = "BPF_RINGBUF_OUTPUT(lt_bt_out, 64); /* sized at load: perf_rb_pages (64) per CPU */"
  if self.need_stacks then
    parts[#parts + 1] = "BPF_STACK_TRACE(lt_bt_stacks, 4096);"
  end
  parts[#parts + 1] = "const volatile u32 lt_bt_target_pid = 0;"
  parts[#parts + 1] = "const volatile u64 lt_bt_cpid = 0;"
  parts[#parts + 1] = "const volatile u64 lt_bt_start_ns = 0;"
  parts[#parts + 1] = require("luatrace.bpftrace.chelpers")
  if self.need_names then parts[#parts + 1] = G.names_decl end -- calls_ext.lua
  if self.skb_files then parts[#parts + 1] = G.skb_decl end -- skboutput(), calls_ext.lua
  parts[#parts + 1] = self:map_decls()
  for _, s in ipairs(self.struct_defs) do parts[#parts + 1] = s end
  for _, s in ipairs(self.callbacks) do parts[#parts + 1] = s end
  for _, f in ipairs(funcs) do parts[#parts + 1] = f end
  return table.concat(parts, "\n") .. "\n"
end

local M = {}

-- Compile an AST: two passes, so a map read before the statement that
-- gives it its type (in source order) still gets the right type.
function M.generate(ast, opts)
  -- max_strlen (config block) is the default string size while compiling
  local saved = T.STRLEN
  T.STRLEN = opts and opts.strlen or saved
  local ok, r = pcall(M.generate_passes, ast, opts)
  T.STRLEN = saved
  if not ok then error(r, 0) end
  return r
end

-- Questions asked of the kernel's BTF so far (its module is loaded only by
-- programs with casts, kfuncs, ...): a program that asked none reads no
-- kernel struct, and compiles against the lite vmlinux header.
local function btf_questions()
  local btf = package.loaded["luatrace.bpftrace.btf"]
  return btf and btf.questions or 0
end

function M.generate_passes(ast, opts)
  local ctx = { src = ast.src, name = ast.name }
  local seed
  local asked = btf_questions()
  for pass = 1, 2 do
    local g = setmetatable({ ast = ast, ctx = ctx, opts = opts or {}, maps = {}, map_order = {},
      events = {}, struct_defs = {}, callbacks = {}, pass = pass, warnings = {} }, G)
    if seed then
      for _, name in ipairs(seed.map_order) do
        local m = seed.maps[name]
        g.maps[name] = { name = m.name, cname = m.cname, kind = m.kind, V = m.V, keys = m.keys,
          extra = m.extra, order = m.order, assumed = m.assumed }
        g.map_order[#g.map_order + 1] = name
      end
    end
    local c = g:program()
    if pass == 2 then
      return { c = c, probes = g.probes, maps = g.maps, map_order = g.map_order, events = g.events,
        need_stacks = g.need_stacks, warnings = g.warnings, need_names = g.need_names,
        skb_files = g.skb_files, ring_pages = g.opts.ring_pages,
        vmlinux = btf_questions() == asked and "lite" or "full" }
    end
    seed = g
  end
end

return M
