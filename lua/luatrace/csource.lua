-- luatrace.csource: turn BCC-style C into C that libbpf loads, keeping every
-- user line on its line number (so clang's and the verifier's file:line
-- point into the user's source).
--
-- What it does, on the user's text:
-- * gives each top-level, non-static program function a SEC() from its name
--   (kprobe__X, kretprobe__X, tracepoint__C__E, raw_tracepoint__X,
--   kfunc__X, kretfunc__X) or from its context type (struct pt_regs * ->
--   "kprobe", bpf_perf_event_data -> "perf_event", bpf_raw_tracepoint_args
--   -> "raw_tracepoint"), as luatrace.probekinds lists them; USDT functions
--   (named by usdt_contexts) get "usdt", an untyped `int f(void *ctx)` the
--   lazy section. BCC's extra typed arguments after ctx become
--   BPF_KPROBE/BPF_PROG.
-- * rewrites BCC's method calls on declared maps: counts.increment(k) ->
--   lt_m_increment(&counts, k) (ringbuf methods pass the map by name).
-- * finds the tracepoints whose args struct is needed and the record type
--   each perf/ring buffer is given, and exports those types into BTF.
local M = {}

local tpformat = require "luatrace.tpformat"
local kheaders = require "luatrace.kheaders"
local probekinds = require "luatrace.probekinds"

-- Blank out comments and string/char literals (newlines kept), so pattern
-- searches see only code while positions still index the original text.
function M.code_mask(text)
  local out, i, n = {}, 1, #text
  local function blank(s) return (s:gsub("[^\n]", " ")) end
  while i <= n do
    local c, c2 = text:sub(i, i), text:sub(i, i + 1)
    if c2 == "//" then
      local j = text:find("\n", i, true) or n + 1
      out[#out + 1] = blank(text:sub(i, j - 1)); i = j
    elseif c2 == "/*" then
      local _, j = text:find("*/", i + 2, true)
      j = j or n
      out[#out + 1] = blank(text:sub(i, j)); i = j + 1
    elseif c == '"' or c == "'" then
      local j = i + 1
      while j <= n do
        local d = text:sub(j, j)
        if d == "\\" then j = j + 2
        elseif d == c or d == "\n" then break
        else j = j + 1 end
      end
      out[#out + 1] = c .. blank(text:sub(i + 1, j - 1)) .. (j <= n and text:sub(j, j) or "")
      i = j + 1
    elseif c == "#" and (i == 1 or text:sub(i - 1, i - 1) == "\n") then
      -- preprocessor line (with continuations): not code for our purposes
      local j = i
      repeat
        j = text:find("\n", j, true) or n + 1
        local cont = text:sub(j - 1, j - 1) == "\\"
        if cont then j = j + 1 end
      until not cont or j > n
      out[#out + 1] = blank(text:sub(i, j - 1)); i = j
    else
      out[#out + 1] = c; i = i + 1
    end
  end
  return table.concat(out)
end

-- Brace depth before each position of the masked code.
local function depth_at(code)
  local depth, d = {}, 0
  for i = 1, #code do
    depth[i] = d
    local c = code:byte(i)
    if c == 123 then d = d + 1 elseif c == 125 then d = d - 1 end
  end
  return depth
end

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

local function split_params(p)
  local out, depth, cur = {}, 0, {}
  for ch in p:gmatch(".") do
    if ch == "(" then depth = depth + 1 elseif ch == ")" then depth = depth - 1 end
    if ch == "," and depth == 0 then
      out[#out + 1] = trim(table.concat(cur)); cur = {}
    else
      cur[#cur + 1] = ch
    end
  end
  local last = trim(table.concat(cur))
  if last ~= "" and last ~= "void" then out[#out + 1] = last end
  return out
end

-- Top-level function definitions: { name, params = {..}, head_start,
-- paren_end, qualifiers } where head_start is where the return type starts.
function M.functions(text, code)
  code = code or M.code_mask(text)
  local depth = depth_at(code)
  local out = {}
  local pos = 1
  while true do
    local s, e, name, params = code:find("%f[%w_]([%a_][%w_]*)%s*(%b())%s*{", pos)
    if not s then break end
    pos = s + 1
    if depth[s] == 0 and not name:match("^[%u%d_]+$") then
      -- the declaration head: back to the previous ; } or start of code
      local h = s - 1
      while h >= 1 do
        local c = code:sub(h, h)
        if c == ";" or c == "}" then break end
        h = h - 1
      end
      local head = code:sub(h + 1, s - 1)
      local lead = #head - #head:gsub("^%s+", "")
      local paren_end = s + #code:sub(s, e):match("^[%a_][%w_]*%s*%b()") - 1
      out[#out + 1] = {
        name = name,
        params = split_params(params:sub(2, -2)),
        head_start = h + 1 + lead,
        paren_end = paren_end,
        qualifiers = head,
      }
      pos = e + 1
    end
  end
  return out
end

-- A BCC-style `int f(void *ctx)`: its type only its attach call gives;
-- it gets probekinds.LAZY_SECTION (bpf/attach.lua loads it lazily).
local function untyped_ctx(params)
  return #params == 1 and params[1]:gsub("%s+", " "):match("^void ?%* ?[%a_][%w_]*$") ~= nil
end

-- Section and signature rewrite for one function, or nil to leave it.
-- Which names and context types make which sections is the probe kinds
-- table's knowledge (luatrace.probekinds).
local function plan(fn, usdt_fns)
  local name, params = fn.name, fn.params
  local q = fn.qualifiers
  if q:find("SEC%s*%(") or q:find("__attribute__%s*%(%(%s*section") then return nil end
  if q:find("%f[%w_]static%f[^%w_]") or q:find("%f[%w_]inline%f[^%w_]") then return nil end
  local ctx = probekinds.from_ctx(params[1])
  local regs = ctx and ctx.typed == "BPF_KPROBE"
  local function typed(kind, sec)
    local p = { sec = sec }
    if kind.typed == "BPF_PROG" then
      p.sig = ("int BPF_PROG(%s%s)"):format(name, #params > 0 and (", " .. table.concat(params, ", ")) or "")
    elseif kind.typed == "BPF_KPROBE" and regs and #params > 1 then
      p.sig = ("int BPF_KPROBE(%s, %s)"):format(name, table.concat(params, ", ", 2))
    end
    return p
  end
  local kind, sec = probekinds.from_bcc_name(name)
  if kind then
    local p = typed(kind, sec)
    if kind.name == "tracepoint" then
      p.tp = { sec:match("^[^/]+/([^/]+)/(.+)$") }
    end
    return p
  end
  if usdt_fns[name] then return { sec = probekinds.by_name.usdt.sec } end
  if ctx then return typed(ctx, ctx.sec) end
  if untyped_ctx(params) then return { sec = probekinds.LAZY_SECTION } end
  return nil
end

-- Names of maps the text declares (BCC macros or libbpf .maps structs),
-- with the macro used: { name = macro }. code is the text's code mask,
-- where string literals are blank: the ".maps" of a SEC() is read from
-- the text at the same position.
function M.maps(code, text)
  text = text or code
  local maps = {}
  for macro, name in code:gmatch("(BPF_[%u_]+)%s*%(%s*([%a_][%w_]*)") do
    if macro ~= "BPF_KPROBE" and macro ~= "BPF_KRETPROBE" and macro ~= "BPF_PROG"
      and macro ~= "BPF_USDT" and macro ~= "BPF_CORE_READ" then
      maps[name] = macro
    end
  end
  for name, quote in code:gmatch("}%s*([%a_][%w_]*)%s+SEC%s*%(%s*()\"") do
    if text:sub(quote, quote + 6) == '".maps"' then
      maps[name] = maps[name] or "libbpf"
    end
  end
  return maps
end

local METHODS = {
  lookup = true, update = true, insert = true, delete = true,
  lookup_or_try_init = true, lookup_or_init = true, increment = true,
  atomic_increment = true, perf_submit = true, get_stackid = true,
  ringbuf_output = true, ringbuf_reserve = true, ringbuf_submit = true,
  ringbuf_discard = true,
}

-- Rewrite name.method( calls on known maps. Works on the code mask for
-- positions and splices into the text.
local function rewrite_methods(text, code, maps)
  local pieces, last = {}, 1
  local pos = 1
  while true do
    local s, e, name, method = code:find("([%a_][%w_]*)%s*%.%s*([%a_][%w_]*)%s*%(", pos)
    if not s then break end
    pos = e + 1
    local prev = s > 1 and code:sub(s - 1, s - 1) or ""
    if maps[name] and METHODS[method] and not prev:match("[%w_%.>]") then
      local close = code:find("%S", e + 1)
      local empty = close and code:sub(close, close) == ")"
      local repl
      if method:match("^ringbuf_") then
        repl = ("lt_r_%s(%s%s"):format(method, name, empty and "" or ", ")
      else
        repl = ("lt_m_%s(&%s%s"):format(method, name, empty and "" or ", ")
      end
      pieces[#pieces + 1] = text:sub(last, s - 1)
      pieces[#pieces + 1] = repl
      last = e + 1
    end
  end
  pieces[#pieces + 1] = text:sub(last)
  return table.concat(pieces)
end

-- The declared type of variable `var`, searching the code: "struct x",
-- "x_t" (typedef) or nil.
local function type_of_var(code, var)
  local t = code:match("(struct%s+[%a_][%w_]*)%s*%*?%s*" .. var .. "%s*[;=,%[%)]")
  if t then return (t:gsub("%s+", " ")) end
  t = code:match("([%a_][%w_]*)%s*%*?%s+" .. var .. "%s*[;=,%[]")
  if t and not t:match("^(return|sizeof|const|volatile|unsigned|signed)$") then return t end
  return nil
end

-- Record types submitted to each output map: { map = "struct data_t" }.
-- Each pattern starts at an identifier's first character (%f[%w_]):
-- without the frontier, gmatch retries from inside every identifier and
-- backtracks over its length (milliseconds for a 4 KB text).
function M.event_types(code, maps)
  local found = {}
  local function note(map, var)
    if maps[map] and not found[map] then
      found[map] = type_of_var(code, var)
    end
  end
  -- each pattern runs only when its call is in the text at all
  local function each(word, pat, fn)
    if code:find(word, 1, true) then
      for a, b in code:gmatch(pat) do fn(a, b) end
    end
  end
  each("perf_submit", "%f[%w_]([%a_][%w_]*)%s*%.%s*perf_submit%s*%(%s*[%a_][%w_]*%s*,%s*&?%s*([%a_][%w_]*)", note)
  each("bpf_perf_event_output",
    "bpf_perf_event_output%s*%(%s*[%a_][%w_]*%s*,%s*&%s*([%a_][%w_]*)%s*,[^,]+,%s*&?%s*([%a_][%w_]*)", note)
  each("ringbuf_output", "%f[%w_]([%a_][%w_]*)%s*%.%s*ringbuf_output%s*%(%s*&?%s*([%a_][%w_]*)", note)
  each("bpf_ringbuf_output", "bpf_ringbuf_output%s*%(%s*&%s*([%a_][%w_]*)%s*,%s*&?%s*([%a_][%w_]*)", note)
  -- reserve: the type in sizeof(...) or the pointer it is assigned to
  each("ringbuf_reserve", "%f[%w_]([%a_][%w_]*)%s*=%s*([%a_][%w_]*)%s*%.%s*ringbuf_reserve%s*%(",
    function(var, map) note(map, var) end)
  each("bpf_ringbuf_reserve", "%f[%w_]([%a_][%w_]*)%s*=%s*bpf_ringbuf_reserve%s*%(%s*&%s*([%a_][%w_]*)",
    function(var, map) note(map, var) end)
  each("ringbuf_reserve",
    "%f[%w_]([%a_][%w_]*)%s*%.%s*ringbuf_reserve%s*%(%s*sizeof%s*%(%s*(struct%s+[%a_][%w_]*)%s*%)",
    function(map, ty) if maps[map] and not found[map] then found[map] = ty:gsub("%s+", " ") end end)
  return found
end

-- Tracepoints whose BCC args struct the text needs.
-- Each is { cat, ev, pos } with pos where the text first needs it.
local function needed_tracepoints(code)
  local tps, seen = {}, {}
  local function add(pos, cat, ev)
    local k = cat .. ":" .. ev
    if not seen[k] then seen[k] = true; tps[#tps + 1] = { cat, ev, pos } end
  end
  for pos, cat, ev in code:gmatch("()TRACEPOINT_PROBE%s*%(%s*([%w_]+)%s*,%s*([%w_]+)%s*%)") do add(pos, cat, ev) end
  for pos, cat, ev in code:gmatch("()struct%s+tracepoint__([%w_]-)__([%w_]+)") do add(pos, cat, ev) end
  table.sort(tps, function(a, b) return a[3] < b[3] end)
  return tps
end

-- The args struct of a tracepoint the text needs at pos, as one line
-- under a #line of the user's line there: clang's errors in it (and a
-- missing format) point at the TRACEPOINT_PROBE that asked for it.
local function line_at(text, pos, first)
  local _, nl = text:sub(1, (pos or 1) - 1):gsub("\n", "")
  return first + nl
end

local function tracepoint_struct(tp, text, file, first)
  local line = line_at(text, tp[3], first)
  local ok, s = pcall(tpformat.args_struct, tp[1], tp[2])
  if not ok then error(("%s:%d: %s"):format(file, line, tostring(s):gsub("^[^:]*:%d+: ", "")), 0) end
  return ('#line %d "%s"\n%s\n'):format(line, file, (s:gsub("\n", " ")))
end

-- Transform: returns { source = C text, event_types = {map = type},
-- maps = {name = macro}, tracepoints = {{cat, ev}} }.
-- opts: file (name for #line), line (first line number), usdt_fns (set).
function M.transform(text, opts)
  opts = opts or {}
  local usdt_fns = opts.usdt_fns or {}
  local kdefs
  text, kdefs = kheaders.rewrite(text)
  local code = M.code_mask(text)
  local maps = M.maps(code, text)
  local events = M.event_types(code, maps)
  -- Sections: splice from the end so earlier positions stay valid.
  local fns = M.functions(text, code)
  local out = text
  local tps = needed_tracepoints(code)
  for i = #fns, 1, -1 do
    local fn = fns[i]
    local p = plan(fn, usdt_fns)
    if p then
      local head = out:sub(fn.head_start, fn.paren_end)
      local newlines = select(2, head:gsub("\n", ""))
      local repl = ('SEC("%s") '):format(p.sec)
      if p.sig then
        repl = repl .. p.sig .. ("\n"):rep(newlines)
      else
        repl = repl .. head
      end
      out = out:sub(1, fn.head_start - 1) .. repl .. out:sub(fn.paren_end + 1)
      if p.tp then
        local k = p.tp[1] .. ":" .. p.tp[2]
        local have = false
        for _, t in ipairs(tps) do if t[1] .. ":" .. t[2] == k then have = true end end
        if not have then tps[#tps + 1] = { p.tp[1], p.tp[2], fn.head_start } end
      end
    end
  end
  out = rewrite_methods(out, M.code_mask(out), maps)
  local pre = {}
  local file = (opts.file or "text"):gsub('[\\"]', "_")
  for _, tp in ipairs(tps) do pre[#pre + 1] = tracepoint_struct(tp, text, file, opts.line or 1) end
  local post = {}
  -- BCC's default: programs are GPL (most tracing helpers require it)
  if not code:find('SEC%s*%(%s*"license"') and not text:find('SEC%s*%(%s*"license"') then
    post[#post + 1] = 'char _license[] SEC("license") = "GPL";'
  end
  for map, ty in pairs(events) do
    -- under the line that submits to the map: clang's error names it
    local at = code:find("%f[%w_]" .. map .. "%s*%.%s*[%w_]+%s*%(") or code:find("&%s*" .. map .. "%f[^%w_]")
    post[#post + 1] = ('#line %d "%s"\nLT_EXPORT_TYPE(%s, %s);'):format(
      line_at(text, at, opts.line or 1), file, ty, map)
  end
  table.sort(post)
  -- USDT support (not in the precompiled prelude: see luatrace.bpf.h)
  if next(usdt_fns) or code:find("bpf_usdt_") or code:find("BPF_USDT") then
    table.insert(pre, 1, "#include <bpf/usdt.bpf.h>\n")
  end
  if kdefs ~= "" then table.insert(pre, 1, kdefs) end
  -- A call of an undeclared function would compile to an extern that
  -- libbpf cannot resolve: make it clang's error, at the user's line.
  table.insert(pre, 1, '#pragma clang diagnostic error "-Wimplicit-function-declaration"\n')
  local src = table.concat(pre) ..
    ('#line %d "%s"\n'):format(opts.line or 1, file) .. out ..
    (#post > 0 and ("\n" .. table.concat(post, "\n") .. "\n") or "\n")
  return { source = src, event_types = events, maps = maps, tracepoints = tps }
end

return M
