-- luatrace.console.complete: Tab completion at the prompt.
--
--   complete.line(text_before_cursor) -> insert, listing, delete
--
-- Three contexts: inside a string (a probe name: "syscalls:sys_enter_op",
-- or after event= a kernel function), on a bpftrace line (the probe word:
-- t:sched:, u:libc:mal), else a Lua name (globals, fields and methods:
-- lt.B, b:att). Probe names come from luatrace.listing, the code behind
-- `luatrace -l`. `insert` is what the longest common prefix adds; the
-- listing (several candidates and nothing to add) is shown under the line.
local eval = require "luatrace.console.eval"

local M = {}

M.max_shown = 200

local function listing_complete(prefix)
  local ok, listing = pcall(require, "luatrace.listing")
  if not ok or type(listing) ~= "table" or not listing.complete then return {} end
  local ok2, list = pcall(listing.complete, prefix)
  return ok2 and type(list) == "table" and list or {}
end

local resolve -- a dotted name's value (below)

-- In a method call's named arguments (b:attach_uprobe{name = "c", ...),
-- the object it is called on, and another argument's string value.
local function call_object(line)
  local base = line:match("([%a_][%w_%.]*):[%a_][%w_]*%s*[{(][^{(]*$")
  return base and resolve(base)
end

local function named_arg(line, key)
  return line:match(key .. '%s*=%s*"([^"]*)"') or line:match(key .. "%s*=%s*'([^']*)'")
end

local function starting(list, word)
  local out = {}
  for _, c in ipairs(list) do
    if c:sub(1, #word) == word then out[#out + 1] = c end
  end
  table.sort(out)
  return out
end

-- Probe names in BCC's spellings inside a string: tp="cat:event",
-- event="kernel_function", sym= a function of the name= library,
-- fn_name= a program of the object; otherwise a bpftrace probe, or a
-- tracepoint "cat:event" when the word has no provider.
local function probe_candidates(word, key, line)
  local function strip(list, prefix)
    local out = {}
    for _, c in ipairs(list) do
      if c:sub(1, #prefix) == prefix then out[#out + 1] = c:sub(#prefix + 1) end
    end
    return out
  end
  if key == "event" then return strip(listing_complete("kprobe:" .. word), "kprobe:") end
  if key == "fn_name" then
    local b = call_object(line)
    local obj = type(b) == "table" and rawget(b, "_obj")
    local ok, progs = pcall(function() return obj:programs() end)
    local names = {}
    for _, p in ipairs(ok and progs or {}) do names[#names + 1] = p.name end
    return starting(names, word)
  end
  if key == "sym" then
    local lib = named_arg(line, "name")
    if not lib then return {} end
    local ok, path = pcall(require("luatrace.core").find_library, lib)
    path = ok and path or lib
    local out = {}
    for _, c in ipairs(listing_complete("uprobe:" .. path .. ":" .. word)) do
      out[#out + 1] = c:match("([^:]*)$")
    end
    return starting(out, word)
  end
  local provider = word:match("^(%a+):")
  if key ~= "tp" and provider and eval.providers[provider] ~= nil then return listing_complete(word) end
  return strip(listing_complete("tracepoint:" .. word), "tracepoint:")
end

-- The string being typed: its text and the key it is given to (tp = "...").
local function open_string(line)
  local i, n, q, start = 1, #line, nil, nil
  while i <= n do
    local c = line:sub(i, i)
    if q then
      if c == "\\" then i = i + 1
      elseif c == q then q = nil end
    elseif c == '"' or c == "'" then
      q, start = c, i
    elseif line:sub(i, i + 1) == "--" then
      return nil
    end
    i = i + 1
  end
  if not q then return nil end
  local key = line:sub(1, start - 1):match("([%a_][%w_]*)%s*=%s*$")
  return line:sub(start + 1), key, q
end

-- Fields of a value for completion: its own keys, those of its __index
-- tables, and the method tables an __index function closes over (the
-- BPF class, map tables); map names of a BPF object.
local function fields(v, out, seen)
  seen = seen or {}
  if seen[v] then return out end
  seen[v] = true
  if type(v) == "table" then
    for k in next, v do
      if type(k) == "string" and k:sub(1, 1) ~= "_" then out[k] = type(rawget(v, k)) end
    end
    local obj = rawget(v, "_obj")
    if obj and type(obj.maps) == "function" then
      local ok, maps = pcall(obj.maps, obj)
      if ok then
        for _, m in ipairs(maps) do
          if not m.internal then out[m.name] = "map" end
        end
      end
    end
  end
  local mt = getmetatable(v)
  if type(mt) == "table" then
    local idx = rawget(mt, "__index")
    if type(idx) == "table" then
      fields(idx, out, seen)
    elseif type(idx) == "function" then
      -- its method tables: those named `methods` when it has one
      local ups, named = {}, {}
      for i = 1, 30 do
        local name, up = debug.getupvalue(idx, i)
        if not name then break end
        if type(up) == "table" and up ~= _G then
          ups[#ups + 1] = up
          if name == "methods" then named[#named + 1] = up end
        end
      end
      for _, up in ipairs(#named > 0 and named or ups) do fields(up, out, seen) end
    end
  end
  return out
end

-- The value of a dotted path from the globals (nil when any step fails;
-- an __index that raises is no value).
function resolve(path)
  local v = _G
  for part in path:gmatch("[^%.:]+") do
    if type(v) ~= "table" and type(v) ~= "userdata" then return nil end
    local ok, x = pcall(function() return v[part] end)
    if not ok then return nil end
    v = x
  end
  return v
end

local keywords = {}
for k in ([[and break do else elseif end false for function goto if in local
  nil not or repeat return then true until while]]):gmatch("%S+") do keywords[k] = true end

-- A name at the end of the line: a global, or fields/methods of a dotted
-- path (lt.B, b:att, string.fo).
local function lua_candidates(line)
  local expr = line:match("([%a_][%w_%.:]*)$") or ""
  local base, sep, word = expr:match("^(.*)([%.:])([%w_]*)$")
  local names = {}
  if base then
    local v = resolve(base)
    if v == nil then return {}, word end
    fields(v, names)
    if v == rawget(_G, "tools") then -- tool names, without loading them
      for _, n in ipairs(require("luatrace.console.tools").names()) do names[n] = "function" end
    end
    if sep == ":" then
      for k, t in pairs(names) do if t ~= "function" then names[k] = nil end end
    end
  else
    word = expr
    fields(_G, names)
    for k in pairs(keywords) do names[k] = "keyword" end
  end
  local out = {}
  for k in pairs(names) do
    if k:sub(1, #word) == word and k:match("^[%a_][%w_]*$") then out[#out + 1] = k end
  end
  table.sort(out)
  return out, word
end

local function common_prefix(list)
  local p = list[1] or ""
  for i = 2, #list do
    local s = list[i]
    local j = 0
    while j < #p and j < #s and p:byte(j + 1) == s:byte(j + 1) do j = j + 1 end
    p = p:sub(1, j)
  end
  return p
end

-- Candidates in columns, as shells list them.
local function columns(list, width)
  width = width or 80
  local w = 0
  for i = 1, math.min(#list, M.max_shown) do if #list[i] > w then w = #list[i] end end
  local per = math.max(1, math.floor(width / (w + 2)))
  local rows = {}
  local shown = math.min(#list, M.max_shown)
  local nrows = math.ceil(shown / per)
  for r = 1, nrows do
    local cells = {}
    for c = 0, per - 1 do
      local s = list[r + c * nrows]
      if s and r + c * nrows <= shown then cells[#cells + 1] = ("%-" .. (w + 2) .. "s"):format(s) end
    end
    rows[#rows + 1] = (table.concat(cells):gsub("%s+$", ""))
  end
  if #list > shown then rows[#rows + 1] = ("... %d more"):format(#list - shown) end
  return table.concat(rows, "\n") .. "\n"
end

-- complete.candidates(text) -> sorted candidates, the word they replace,
-- what to add after a single match.
function M.candidates(line)
  local str, key, q = open_string(line)
  if str then
    return probe_candidates(str, key, line), str, q
  end
  if eval.starts_with_probe(line) and not line:find("{", 1, true) then
    local word = line:match("([^%s,]*)$")
    return listing_complete(word), word, " "
  end
  local list, word = lua_candidates(line)
  return list, word, ""
end

-- complete.line(text) -> insert, listing, delete: delete that many bytes
-- before the cursor, then insert (a probe's library name becomes its path:
-- u:libc:mal -> u:/usr/lib/x86_64-linux-gnu/libc.so.6:malloc).
function M.line(line)
  local list, word, suffix = M.candidates(line)
  if #list == 0 then return "", nil, 0 end
  local p = common_prefix(list)
  local del, add = 0, nil
  if p:sub(1, #word) == word then
    add = p:sub(#word + 1)
  elseif #p > 0 then
    del, add = #word, p
  else
    add = ""
  end
  if #list == 1 then return add .. (p:sub(-1) == ":" and "" or suffix), nil, del end
  if #add > 0 then return add, nil, del end
  return "", columns(list), 0
end

return M
