-- luatrace.bpftrace.records: whole structs as values (`print(*$task)`,
-- `print(args)`, `@x = *ptr`, `@ = args`), methods of the per-function
-- generator F (see codegen.lua).
--
-- A struct value has type { t = "struct", cty = C type, members = {{name,
-- T}} }: it is stored as the C struct itself (the record or map value
-- holds `struct X a0`), so the object's BTF describes it and Lua decodes
-- it through FFI like any record; `members` says how format.lua prints
-- each member, as bpftrace does: `{ .x = 1, .name = abc, .in = { .z = 0 },
-- .arr = [1,2], .ptr = 0xffff... }`.
local T = require "luatrace.bpftrace.types"

return function(F, G)

local function btf() return require "luatrace.bpftrace.btf" end

-- Largest struct copied into a map value (staged on the 512-byte stack).
G.MAX_STRUCT_VALUE = 256
-- Largest struct printed (copied straight into the ring buffer record).
G.MAX_STRUCT_PRINT = 8192

local function from_btf(id, depth)
  local B = btf()
  local t = B.resolve(id)
  if not t then return { t = "ptr" } end
  local k = t.kind
  if k == "int" then return T.int(t.size, t.signed) end
  if k == "enum" or k == "enum64" then return T.int(t.size, false) end
  if k == "ptr" then return { t = "ptr" } end
  if k == "array" then
    local et = B.resolve(t.elem)
    if et and et.kind == "int" and et.size == 1 then return T.str(t.nelems) end
    return { t = "arr", n = t.nelems, elem = from_btf(t.elem, depth + 1) }
  end
  if (k == "struct" or k == "union") and depth < 8 then
    local members = {}
    local function add(st)
      for _, m in ipairs(B.members(st)) do
        if m.name == "" then -- anonymous struct/union: its members are the parent's
          local inner = B.resolve(m.type)
          if inner and (inner.kind == "struct" or inner.kind == "union") then add(inner) end
        else
          members[#members + 1] = { name = m.name, ty = from_btf(m.type, depth + 1) }
        end
      end
    end
    add(t)
    return { t = "struct", members = members, cty = B.cname(t.id) }
  end
  return { t = "ptr" } -- functions, floats: shown as a number
end

local function from_pstruct(def, depth)
  local members = {}
  local function conv(pt)
    if pt.kind == "int" then return T.int(pt.size, pt.signed) end
    if pt.kind == "ptr" then return { t = "ptr" } end
    if pt.kind == "btf" then return from_btf(pt.id, depth + 1) end
    if pt.kind == "rec" then return from_pstruct(pt.def, depth + 1) end
    if pt.kind == "arr" then
      if pt.elem.kind == "int" and pt.elem.size == 1 then return T.str(pt.n) end
      return { t = "arr", n = pt.n, elem = conv(pt.elem) }
    end
  end
  for i, m in ipairs(def.members) do members[i] = { name = m.name, ty = conv(m.ty) } end
  return { t = "struct", members = members, cty = def.cty }
end

-- A tracepoint's args: its format file's fields without the common_ ones.
local function from_tracepoint(p)
  local members = {}
  for _, f in ipairs(require("luatrace.tpformat").read(p.cat, p.event)) do
    if not f.name:match("^common_") then
      local ty = T.from_tpfield(f)
      if ty.dataloc or ty.t == "ptr" then ty = { t = "ptr" }
      elseif ty.array then ty = { t = "arr", n = math.floor(f.size / 8), elem = T.int(8, f.signed) } end
      members[#members + 1] = { name = f.name, ty = ty }
    end
  end
  return { t = "struct", members = members, cty = ("struct tracepoint__%s__%s"):format(p.cat, p.event) }
end

-- A value that can be stored whole (v itself unless it is a struct
-- lvalue or a tracepoint's args); limit: the largest size allowed.
function F:storable(v, node, limit)
  local ty = v.ty
  if ty.t == "args" then
    if self.probe.kind ~= "tracepoint" then
      self:err(node, "args of " .. self.probe.kind .. " probes cannot be stored or printed whole; read its fields")
    end
    local st = from_tracepoint(self.probe)
    return { ty = st, write = function(dest)
      return ("bpf_probe_read_kernel(&%s, sizeof(%s), args);"):format(dest, dest)
    end }
  end
  if ty.t ~= "rec" then return v end
  local st, size
  if ty.p then
    st = from_pstruct(ty.p, 0)
  else
    st = from_btf(ty.btf, 0)
    size = btf().size(ty.btf)
    if not st.cty then self:err(node, "an anonymous struct cannot be stored whole; read its members") end
  end
  if size and limit and size > limit then
    self:err(node, ("%s is %d bytes, more than the %d a luatrace %s can hold; read its members"):format(
      st.cty, size, limit, limit == G.MAX_STRUCT_VALUE and "map value or variable" or "print()"))
  end
  st.btf, st.p = ty.btf, ty.p -- its members stay readable (members.lua)
  local read = ty.user and "bpf_probe_read_user" or "bpf_probe_read_kernel"
  return { ty = st, write = function(dest)
    return ("%s(&%s, sizeof(%s), &%s);"):format(read, dest, dest, ty.lv)
  end }
end

end
