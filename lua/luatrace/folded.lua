-- luatrace.folded: folded stacks, Brendan Gregg's "frame;frame;frame count"
-- lines (root first), the input of flame graphs (luatrace.flamegraph,
-- flamegraph.pl, speedscope, ...).
--
--   folded.text(list)          list of { frames = {root, ..., leaf}, count = n }
--                              -> "a;b;c n\n..." (same stacks summed, sorted)
--   folded.of_table(t, obj, opts) -> text; t:folded(opts) on a table calls it
--
-- A stack-keyed table counts by a key that holds stack ids of a
-- BPF_STACK_TRACE map (BCC's profile/offcputime shape):
--   key = stack id (an integer)                   kernel stack (opts.pid: user stack of pid)
--   key = struct { pid, user_stack_id, kernel_stack_id, name/comm[16] }
-- Fields are found by name: *user*stack* -> user stack, *kern*stack* ->
-- kernel stack, a lone stack_id -> kernel (user with opts.user), comm or
-- name -> the first frame, tgid or pid -> whose user symbols. opts.fields
-- = {user=, kernel=, comm=, pid=} names them when the guess is wrong.
--
-- Frames as BCC's profile -f prints them: comm; user frames; kernel frames.
-- Kernel frames carry perf's "_[k]" suffix (flame graphs colour them apart;
-- opts.annotate = false drops it); opts.delimiter = true puts a "-" frame
-- between user and kernel stacks. A failed stack id (negative, other than
-- -EFAULT) becomes "[Missed User Stack]" / "[Missed Kernel Stack]".
-- opts.stacks: the stack trace table (default: the object's only one);
-- opts.value(v) -> the count when the value is a struct, opts.comm(k, v)
-- -> the first frame when the name is not in the key (offcputime keeps it
-- in the value); opts.missing = false leaves out the missed-stack frames
-- (where -1 means "not collected", as for kernel threads). Zero counts are
-- left out.
local core = require "luatrace.core"
local sym = require "luatrace.sym"

local M = {}

local EFAULT = 14

-- A frame name safe inside a folded line: ";" separates frames and a
-- newline ends the line.
local function clean(name)
  return (tostring(name):gsub("[;\r\n]", "_"))
end

function M.text(list)
  local sums, order = {}, {}
  for _, e in ipairs(list) do
    local frames = {}
    for i, f in ipairs(e.frames) do frames[i] = clean(f) end
    local stack = table.concat(frames, ";")
    if stack ~= "" then
      if not sums[stack] then sums[stack] = 0; order[#order + 1] = stack end
      sums[stack] = sums[stack] + e.count
    end
  end
  table.sort(order)
  local out = {}
  for i, stack in ipairs(order) do
    local n = sums[stack]
    out[i] = stack .. " " .. (type(n) == "cdata" and tostring(n):gsub("U?LL$", "") or ("%d"):format(n))
  end
  if #out == 0 then return "" end
  return table.concat(out, "\n") .. "\n"
end

local function find_stacks(obj, name)
  local found = {}
  for _, m in ipairs(obj:maps()) do
    if m.type == "stack_trace" then found[#found + 1] = m.name end
  end
  if #found == 1 then return require("luatrace.table").new(nil, obj, found[1], obj:map(found[1])) end
  if #found == 0 then
    error(("folded stacks of table %s: the program has no stack trace map (BPF_STACK_TRACE)"):format(name), 0)
  end
  error(("folded stacks of table %s: several stack trace maps (%s): pass opts.stacks")
    :format(name, table.concat(found, ", ")), 0)
end

-- Which key fields hold what, from their names (or opts.fields).
local function key_fields(members, opts, name)
  local f = {}
  local names = {}
  for _, n in ipairs(members) do names[n] = true end
  for _, n in ipairs(members) do
    local l = n:lower()
    if l:find("stack") then
      if l:find("user") or l:find("^u") then f.user = f.user or n
      elseif l:find("kern") or l:find("^k") then f.kernel = f.kernel or n
      elseif opts.user then f.user = f.user or n
      else f.kernel = f.kernel or n end
    elseif l == "comm" or l == "name" then f.comm = f.comm or n
    end
  end
  f.pid = names.tgid and "tgid" or names.pid and "pid" or nil
  for k, v in pairs(opts.fields or {}) do f[k] = v end
  if not f.user and not f.kernel then
    error(("folded stacks of table %s: its key has no stack id field (name one with "
      .. "opts.fields = {user=..., kernel=...})"):format(name), 0)
  end
  return f
end

local function names_of(members)
  local out = {}
  for i, m in ipairs(members) do out[i] = m.name end
  return out
end

local function count_of(v)
  if type(v) == "table" then
    local s = 0
    for _, x in ipairs(v) do s = s + x end
    return s
  end
  if type(v) == "cdata" then return v end
  return v
end

local function stack_frames(stacks, id, pid, kernel, opts, out)
  id = tonumber(id)
  if id < 0 then
    if id ~= -EFAULT and opts.missing ~= false then
      out[#out + 1] = kernel and "[Missed Kernel Stack]" or "[Missed User Stack]"
    end
    return false
  end
  local addrs = stacks:walk(id)
  for i = #addrs, 1, -1 do
    local n, off, mod
    if kernel then n, off, mod = sym.ksym(addrs[i])
    elseif pid and pid > 0 then
      -- a process that has exited since has no maps left: [unknown], as BCC
      local ok, a, b, c = pcall(sym.usym, addrs[i], pid)
      if ok then n, off, mod = a, b, c end
    end
    local s = sym.format(n, off, mod, opts)
    if kernel and opts.annotate ~= false then s = s .. "_[k]" end
    out[#out + 1] = s
  end
  return #addrs > 0
end

function M.of_table(t, obj, opts)
  opts = opts or {}
  local name = t:info().name
  local stacks = opts.stacks or find_stacks(obj, name)
  local list = {}
  local fields
  for _, e in ipairs(t:entries()) do
    local k, v = e[1], e[2]
    local frames = {}
    if type(k) == "cdata" then
      fields = fields or key_fields(
        names_of(core.btf_layout(obj, t:info().key_type_id).members), opts, name)
      if opts.comm then frames[1] = tostring(opts.comm(k, v))
      elseif fields.comm then frames[1] = tostring(k[fields.comm]) end
      local pid = fields.pid and tonumber(k[fields.pid]) or opts.pid
      local had_user = false
      if fields.user then had_user = stack_frames(stacks, k[fields.user], pid, false, opts, frames) end
      if fields.kernel then
        if opts.delimiter and had_user and tonumber(k[fields.kernel]) >= 0 then frames[#frames + 1] = "-" end
        stack_frames(stacks, k[fields.kernel], nil, true, opts, frames)
      end
    else
      local user = opts.user or opts.pid ~= nil
      stack_frames(stacks, k, opts.pid, not user, opts, frames)
    end
    local n = opts.value and opts.value(v) or count_of(v)
    if n ~= 0 then list[#list + 1] = { frames = frames, count = n } end
  end
  return M.text(list)
end

return M
