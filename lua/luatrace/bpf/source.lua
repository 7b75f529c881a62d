-- luatrace.bpf.source: from what a script gives BPF{} (text= or
-- src_file=) to an object file: where the text sits in the script (so
-- clang's file:line point into it), the compiler flags, and the transform
-- + compile through csource and the cache.
local core = require "luatrace.core"
local compile = require "luatrace.compile"
local minbtf = require "luatrace.bpf.minbtf"
local tpformat = require "luatrace.tpformat"

local M = {}

-- The nearest calling frame in a Lua file outside the library.
local function caller_frame()
  for level = 3, 40 do
    local info = debug.getinfo(level, "Sl")
    if not info then return nil end
    if info.source:sub(1, 1) == "@" and not info.source:find("lua/luatrace/", 1, true) then
      return info
    end
    if info.source == "=(command line)" then return info end -- luatrace -e
  end
  return nil
end

-- Where a text= chunk starts in the caller's Lua file: the line of its
-- first non-blank line nearest to the call.
function M.text_origin(text)
  local info = caller_frame()
  if not info then return "<text>", 1 end
  local file = info.source:sub(2)
  local skip, first = 0, nil
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    if line:match("%S") then first = line; break end
    skip = skip + 1
  end
  local fh, lines = io.open(file), nil
  if fh then lines = fh:lines()
  elseif file == "(command line)" then -- a -e chunk: the CLI keeps its text
    lines = ((require("luatrace.cli").code_text or "") .. "\n"):gmatch("([^\n]*)\n")
  end
  if not lines or not first then
    if fh then fh:close() end
    return file, 1
  end
  local best, bestd, n = nil, math.huge, 0
  for line in lines do
    n = n + 1
    if line:find(first, 1, true) then
      local d = math.abs(n - info.currentline)
      if d < bestd then best, bestd = n, d end
    end
  end
  if fh then fh:close() end
  if not best then return file, 1 end
  return file, best - skip
end

-- The compiler flags of a text: the user's cflags, and LT_HAVE_FENTRY for
-- FUNC_PROBE when the (target) kernel takes fentry programs.
function M.compile_flags(text, cflags, has_fentry)
  local flags = {}
  for _, f in ipairs(cflags or {}) do flags[#flags + 1] = f end
  if text:find("FUNC_PROBE", 1, true) then
    if has_fentry == nil then has_fentry = core.has_fentry() end
    if has_fentry then flags[#flags + 1] = "-DLT_HAVE_FENTRY" end
  end
  return flags
end

-- Transform and compile a text; opts: file, line, usdt_fns, cflags, debug,
-- target, has_fentry, vmlinux ("lite": see compile.lua). Returns the object path, whether it was cached, the
-- csource result and the object's bytes (load those: core.open_mem).
-- FUNC_PROBE on this kernel when it takes neither fentry nor kprobes: say
-- that both were tried, at the user's line, before compiling anything.
local function check_func_probe(text, opts)
  if opts.has_fentry ~= nil or opts.target or not text:find("FUNC_PROBE", 1, true) then return end
  if core.has_fentry() or core.has_kprobes() then return end
  local before, fn = text:match("^(.-)%f[%w_]FUNC_PROBE%s*%(%s*([%w_]+)")
  if not before then return end
  local _, nl = before:gsub("\n", "")
  error(("%s:%d: FUNC_PROBE(%s): this kernel refuses fentry programs and has no kprobes "
    .. "(tried both); use a tracepoint or a raw tracepoint"):format(opts.file or "<text>",
    (opts.line or 1) + nl, fn), 0)
end

-- Errors from the transform that carry no location get the text's: the
-- user's file and line come first (compile does the same for clang's).
local function located(opts, fn, ...)
  local ok, a, b, c = pcall(fn, ...)
  if ok then return a, b, c end
  local file = opts.file
  if type(a) == "string" and file and a:sub(1, #file + 1) ~= file .. ":" then
    a = ("%s:%d: %s"):format(file, opts.line or 1, a)
  end
  error(a, 0)
end

-- The identity of the transform's code: the binary (its embedded
-- library), and under LUATRACE_PATH the transform's source files.
local code_id
local function transform_id()
  if code_id then return code_id end
  local parts = { require("luatrace.cache").build_id() }
  local dev = os.getenv("LUATRACE_PATH")
  if dev and dev ~= "" then
    for _, m in ipairs({ "csource", "kheaders", "tpformat", "probekinds", "bpf/source" }) do
      parts[#parts + 1] = core.hash_file(dev .. "/luatrace/" .. m .. ".lua") or "-"
    end
  end
  code_id = core.hash(unpack(parts))
  return code_id
end

-- fn(captures) for each match of pat (anchored, "^lit...") in text, as
-- gmatch would find them: plain finds of its literal start first, since
-- a pattern tried at every byte of a C text cost ~100 instructions a byte
-- (a warm one-liner spent a seventh of its instructions here).
local function each_match(text, lit, pat, fn)
  local i = 1
  while true do
    local s = text:find(lit, i, true)
    if not s then return end
    local _, e, a, b = text:find(pat, s)
    if e then fn(a, b); i = e + 1 else i = s + 1 end
  end
end

-- The key of a text before its transform: the text, its origin, USDT
-- functions, flags, the transform's code, and the format files of the
-- tracepoints it may name (the transform turns them into args structs;
-- comments count too, which only costs a read).
local function text_key(text, opts, cflags)
  local parts = { text, opts.file or "", tostring(opts.line or 1), table.concat(cflags, "\1"),
    transform_id() }
  local usdt = {}
  for name in pairs(opts.usdt_fns or {}) do usdt[#usdt + 1] = name end
  table.sort(usdt)
  parts[#parts + 1] = table.concat(usdt, "\1")
  if opts.vmlinux == "lite" then parts[#parts + 1] = "vmlinux=lite" end
  local seen = {}
  local function tp(cat, ev)
    local k = cat .. ":" .. ev
    if seen[k] then return end
    seen[k] = true
    parts[#parts + 1] = k .. "=" .. (core.hash_file(tpformat.path(cat, ev)) or "-")
  end
  each_match(text, "TRACEPOINT_PROBE", "^TRACEPOINT_PROBE%s*%(%s*([%w_]+)%s*,%s*([%w_]+)", tp)
  each_match(text, "tracepoint__", "^tracepoint__([%w_]-)__([%w_]+)", tp)
  return compile.text_key(unpack(parts))
end

-- The transform's record types as the index of a text keeps them.
local function encode_types(t)
  local lines = {}
  for map, ty in pairs(t) do lines[#lines + 1] = map .. "\t" .. ty end
  table.sort(lines)
  return table.concat(lines, "\n")
end

local function decode_types(s)
  local t = {}
  for map, ty in s:gmatch("([^\t\n]+)\t([^\n]+)") do t[map] = ty end
  return t
end

-- A text seen before skips the transform (and clang): the index of its
-- key names the object. Then only event_types of the transform's result
-- is known (the rest is what a debug run or a miss gets).
function M.build(text, opts)
  check_func_probe(text, opts)
  local cflags = M.compile_flags(text, opts.cflags, opts.has_fentry)
  local tkey = not opts.debug and not opts.target and text_key(text, opts, cflags)
  if tkey then
    local path, bytes, info = compile.text_hit(tkey)
    if path then return path, true, { event_types = decode_types(info) }, bytes end
  end
  local t = located(opts, require("luatrace.csource").transform, text,
    { file = opts.file, line = opts.line, usdt_fns = opts.usdt_fns })
  if opts.debug then io.stderr:write(t.source) end
  local path, cached, bytes = compile.compile(t.source, {
    cflags = cflags, debug = opts.debug, target = opts.target, file = opts.file, line = opts.line,
    lite = opts.vmlinux == "lite", text_key = tkey or nil, text_info = tkey and encode_types(t.event_types) or nil })
  return path, cached, t, bytes
end

-- Open an object (its bytes, else the file at path) with its minimized
-- kernel BTF for CO-RE (luatrace.bpf.minbtf). Returns the object and a
-- function to call once it is loaded or given up (idempotent): the BTF's
-- path stays valid until then.
function M.open(bytes, path, name)
  local btf, done = minbtf.for_object(path, bytes)
  local closed = false
  local function finish()
    if done and not closed then closed = true; done() end
  end
  local o = btf and { btf = btf } or nil
  local ok, obj = pcall(function()
    if bytes then return core.open_mem(bytes, name, o) end
    return core.open_file(path, o)
  end)
  if not ok then finish(); error(obj, 0) end
  return obj, finish
end

return M
