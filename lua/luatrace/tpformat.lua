-- luatrace.tpformat: the `args` struct of a tracepoint, from its tracefs
-- format file (syscall tracepoints are not in BTF as typed structs).
--
-- Each field becomes `union { <declared type> name; u8 [size]; }` at the
-- format's offset, with explicit padding before it: the declared type keeps
-- pointers usable (args->filename), and the byte array keeps the kernel's
-- size even where the declared type is smaller (syscall arguments are
-- declared `int` but occupy 8 bytes). _Static_asserts check every offset.
local core = require "luatrace.core"

local M = {}

-- Kernel annotations that formats may print and that mean nothing (or
-- cannot be compiled) for BPF: address spaces (x86's __seg_gs of per-CPU
-- pointers) and sparse markers. The field keeps its size either way.
local ANNOTATIONS = { "__seg_gs", "__seg_fs", "__percpu", "__user", "__iomem",
  "__rcu", "__force", "__kernel", "__bitwise" }

-- A field's declaration without kernel annotations, and a flexible array
-- (`char buf[]`, size 0) as a zero-length one, which a union can hold.
function M.plain_decl(decl)
  for _, a in ipairs(ANNOTATIONS) do
    decl = decl:gsub("%f[%w_]" .. a .. "%f[^%w_]%s*", "")
  end
  return (decl:gsub("%[%s*%]$", "[0]"):gsub("%s+$", ""))
end

-- Whether a field declaration's type is a signed integer: int, long,
-- short, s8..s64 and the kernel's signed typedefs (pid_t, loff_t, ...).
local SIGNED = { int = true, long = true, short = true, signed = true, s8 = true, s16 = true,
  s32 = true, s64 = true, __s8 = true, __s16 = true, __s32 = true, __s64 = true, pid_t = true,
  ssize_t = true, loff_t = true, off_t = true, key_serial_t = true, clockid_t = true,
  timer_t = true, mqd_t = true, time_t = true, time64_t = true }
local function signed_decl(decl)
  if decl:find("*", 1, true) or decl:match("^__data_loc") then return false end
  local first = decl:gsub("^const%s+", ""):match("^([%w_]+)")
  return SIGNED[first] == true
end

-- Parse a format file's text into { {decl=, name=, offset=, size=, signed=} }.
function M.parse(text)
  local fields = {}
  for decl, off, size, signed in text:gmatch(
      "field:([^;]+);%s*offset:(%d+);%s*size:(%d+);%s*signed:(%d+);") do
    decl = decl:gsub("^%s+", ""):gsub("%s+$", "")
    -- syscall tracepoints say signed:0 for every field ("int dfd" too):
    -- the declared type decides, as bpftrace reads it (dfd -100, not 2^64-100)
    local f = { offset = tonumber(off), size = tonumber(size), signed = signed == "1" or signed_decl(decl) }
    local dl = decl:match("^__data_loc%s+.-([%w_]+)$")
    if dl then
      -- offset (low 16 bits) and length (high 16) of data in the record
      f.name = "__data_loc_" .. dl
      f.decl = "u32 " .. f.name
    else
      f.name = decl:match("([%w_]+)%s*%[[^%]]*%]$") or decl:match("([%w_]+)$")
      f.decl = M.plain_decl(decl)
    end
    fields[#fields + 1] = f
  end
  table.sort(fields, function(a, b) return a.offset < b.offset end)
  return fields
end

-- Where the format file of category:event is.
function M.path(category, event)
  return ("%s/events/%s/%s/format"):format(core.tracefs(), category, event)
end

-- Read the format file of category:event, or raise a clear error.
function M.read(category, event)
  local path = M.path(category, event)
  local fh, err = io.open(path)
  if not fh then
    -- tracefs is root's: without the privilege every tracepoint looks absent
    if not core.has_bpf_caps() or (err or ""):find("Permission denied", 1, true) then
      error(("read tracepoint format %s:%s: permission denied (luatrace needs root, "
        .. "or CAP_BPF with CAP_PERFMON)"):format(category, event), 0)
    end
    error(("read tracepoint format %s:%s: no such tracepoint (list them with "
      .. "luatrace -l '%s:*')"):format(category, event, category), 0)
  end
  local text = fh:read("*a")
  fh:close()
  return M.parse(text)
end

-- C text of `struct <name> { ... };` for the fields.
function M.struct(name, fields)
  local out, cur, pad = { ("struct %s {"):format(name) }, 0, 0
  for _, f in ipairs(fields) do
    if f.offset > cur then
      out[#out + 1] = ("\tu8 __lt_pad%d[%d];"):format(pad, f.offset - cur)
      pad = pad + 1
    end
    out[#out + 1] = ("\tunion { %s; u8 __lt_size_%s[%d]; };"):format(f.decl, f.name, f.size)
    cur = f.offset + f.size
  end
  out[#out + 1] = "};"
  for _, f in ipairs(fields) do
    out[#out + 1] = ("_Static_assert(__builtin_offsetof(struct %s, %s) == %d, "
      .. "\"tracepoint field %s\");"):format(name, f.name, f.offset, f.name)
  end
  return table.concat(out, "\n") .. "\n"
end

-- The BCC-named struct for category:event: struct tracepoint__cat__event.
function M.args_struct(category, event)
  return M.struct(("tracepoint__%s__%s"):format(category, event), M.read(category, event))
end

return M
