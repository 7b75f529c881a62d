-- luatrace.bpftrace.pstructs: structs and unions the program defines
-- (`struct foo { int a; char name[16]; struct foo *next; }` at top level,
-- as bpftrace's C definitions), for casts and member reads. The
-- definition's text goes into the generated C unchanged, so clang lays it
-- out; here we only parse each member's type, to type the values read.
-- Reads are plain bpf_probe_read_{kernel,user} of the member's address:
-- no CO-RE (the kernel's BTF does not know the type).
--
-- Member types: integer types (int, unsigned long, u32, uint64_t, kernel
-- typedefs through BTF), char arrays (strings), arrays, pointers (to
-- program structs, kernel structs, integers), program structs by value.
local T = require "luatrace.bpftrace.types"
local V = require "luatrace.bpftrace.values"

local M = {}

local extra_ints = {
  uint8_t = { 1, false }, uint16_t = { 2, false }, uint32_t = { 4, false }, uint64_t = { 8, false },
  int8_t = { 1, true }, int16_t = { 2, true }, int32_t = { 4, true }, int64_t = { 8, true },
  __u8 = { 1, false }, __u16 = { 2, false }, __u32 = { 4, false }, __u64 = { 8, false },
  __s8 = { 1, true }, __s16 = { 2, true }, __s32 = { 4, true }, __s64 = { 8, true },
  unsigned = { 4, false }, signed = { 4, true }, ["signed char"] = { 1, true },
  ["long int"] = { 8, true }, ["unsigned long int"] = { 8, false }, ["short int"] = { 2, true },
  ["unsigned short int"] = { 2, false }, ["long unsigned int"] = { 8, false },
  ["long long int"] = { 8, true }, ["unsigned long long int"] = { 8, false },
  ssize_t = { 8, true }, uid_t = { 4, false }, gid_t = { 4, false },
}

-- A base type name (words, no '*') -> parsed type; defs: program structs.
local function base_type(words, defs, fail)
  words = words:gsub("%f[%w_]const%f[^%w_]", ""):gsub("%f[%w_]volatile%f[^%w_]", "")
  words = words:gsub("%s+", " "):match("^%s*(.-)%s*$")
  local kind, name = words:match("^(%a+) ([%w_]+)$")
  if kind == "struct" or kind == "union" then
    local def = defs[kind .. " " .. name]
    if def then return { kind = "rec", def = def } end
    local id = require("luatrace.bpftrace.btf").find(kind, name)
    if id then return { kind = "btf", id = id, cty = words } end
    return fail(("unknown type '%s' in a struct definition"):format(words))
  end
  local it = V.int_types[words] or extra_ints[words]
  if it then return { kind = "int", size = it[1], signed = it[2], cty = words } end
  local B = require "luatrace.bpftrace.btf"
  local id = B.find("typedef", words)
  local t = id and B.resolve(id)
  if t and (t.kind == "int" or t.kind == "enum") then
    return { kind = "int", size = t.size, signed = t.kind == "int" and t.signed, cty = words }
  end
  if t then return { kind = "btf", id = id, cty = words } end
  return fail(("unknown type '%s' in a struct definition"):format(words))
end

-- Parse a definition's text: { kind, name, members = { {name, ty} } }.
-- defs holds the definitions seen so far (a member may use them).
function M.parse(text, defs, fail)
  local kind, name, body = text:match("^%s*(%a+)%s+([%w_]+)%s*(%b{})")
  if not body then return fail("cannot read this struct definition") end
  body = body:sub(2, -2):gsub("/%*.-%*/", " "):gsub("//[^\n]*", "")
  if body:find("{", 1, true) then
    return fail(("struct %s: nested struct or union definitions are not supported by luatrace"):format(name))
  end
  local def = { kind = kind, name = name, members = {}, cty = kind .. " " .. name }
  defs[kind .. " " .. name] = def -- a member may point to its own struct
  for decl in body:gmatch("[^;]+") do
    decl = decl:match("^%s*(.-)%s*$")
    if decl:find(":", 1, true) then
      return fail(("struct %s: bit-field %s is not supported by luatrace"):format(name,
        decl:match("([%w_]+)%s*:") or decl))
    end
    if decl ~= "" then
      -- the base type is what comes before the first declarator
      local base = decl:match("^(.-)[%s%*]*[%w_]+%s*[%[,]") or decl:match("^(.-)[%s%*]*[%w_]+%s*$")
      if not base or base == "" then return fail(("struct %s: cannot read member '%s'"):format(name, decl)) end
      local bt = base_type(base, defs, fail)
      local rest = decl:sub(#base + 1)
      for d in rest:gmatch("[^,]+") do
        local stars, mname, arr = d:match("^%s*(%**)%s*([%w_]+)%s*(.-)%s*$")
        if not mname or mname:find("^%d") then return fail(("struct %s: cannot read member '%s'"):format(name, decl)) end
        local ty = bt
        if #stars > 0 then
          ty = { kind = "ptr", to = bt, depth = #stars, cty = (bt.def and bt.def.cty or bt.cty) .. " " .. stars }
        end
        local n = arr:match("^%[%s*(%d+)%s*%]$")
        if arr ~= "" and not n then return fail(("struct %s: cannot read member '%s'"):format(name, decl)) end
        if n then ty = { kind = "arr", elem = ty, n = tonumber(n) } end
        def.members[#def.members + 1] = { name = mname, ty = ty }
      end
    end
  end
  return def
end

-- Every definition of a program, parsed once (cached on the AST).
function M.of_program(ast, fail_at)
  if ast.pstructs then return ast.pstructs end
  local defs = {}
  for _, s in ipairs(ast.structs or {}) do
    M.parse(s.text, defs, function(msg) return fail_at(s, msg) end)
  end
  ast.pstructs = defs
  return defs
end

function M.member(def, name)
  for _, m in ipairs(def.members) do
    if m.name == name then return m end
  end
end

return M
