-- luatrace.bpftrace.lexer: bpftrace source -> tokens. Each token carries
-- its byte span (pos, epos) so every later error can point at the text.
--
-- Attach points are lexed as raw words (they hold '/', '-', '*', ...), so
-- the parser asks for them explicitly with M.attach_word when it stands at
-- the start of a probe; everything else is ordinary C-like tokens.
local M = {}

local errors = require "luatrace.bpftrace.errors"

local ops3 = { ["<<="] = true, [">>="] = true }
local ops2 = {
  ["=="] = true, ["!="] = true, ["<="] = true, [">="] = true, ["&&"] = true,
  ["||"] = true, ["<<"] = true, [">>"] = true, ["+="] = true, ["-="] = true,
  ["*="] = true, ["/="] = true, ["%="] = true, ["&="] = true, ["|="] = true,
  ["^="] = true, ["++"] = true, ["--"] = true, ["->"] = true, [".."] = true,
}
local ops1 = "[%+%-%*/%%&|%^!~<>=%?:%.,;%(%)%[%]{}]"

local escapes = { n = "\n", t = "\t", r = "\r", ["\\"] = "\\", ['"'] = '"', ["'"] = "'",
  a = "\a", b = "\b", f = "\f", v = "\v", e = "\27" }

-- A lexer over src; name is the file name used in errors; defines
-- ({NAME = "text"}, from defines.lua) are expanded where NAME appears.
function M.new(src, name, defines)
  return setmetatable({ src = src, name = name, i = 1, defines = defines, pending = {} }, { __index = M })
end

-- The tokens of define NAME's text, each placed at tok's span (errors in
-- the expansion point at the name, as a preprocessor's would).
function M:expand(tok)
  local outer = self
  local sub = M.new(self.defines[tok.v], self.name, self.defines)
  sub.expanding = setmetatable({ [tok.v] = true }, { __index = self.expanding })
  sub.fail = function(_, _, _, msg)
    outer:fail(tok.pos, tok.epos, msg .. " (in the expansion of " .. tok.v .. ")")
  end
  local toks = {}
  while true do
    local t = sub:next()
    if t.t == "eof" then break end
    t.pos, t.epos = tok.pos, tok.epos
    toks[#toks + 1] = t
  end
  return toks
end

function M:fail(pos, epos, msg)
  errors.raise(self.src, self.name, pos, epos, msg)
end

-- Skip blanks, comments and preprocessor lines (#include ... is accepted
-- and ignored: the types come from BTF).
function M:skip()
  local s = self.src
  while true do
    local i = s:find("[^ \t\r\n]", self.i)
    if not i then self.i = #s + 1; return end
    self.i = i
    local two = s:sub(i, i + 1)
    if two == "//" then
      self.i = (s:find("\n", i, true) or #s) + 1
    elseif two == "/*" then
      local _, e = s:find("*/", i + 2, true)
      if not e then self:fail(i, i + 2, "unterminated comment") end
      self.i = e + 1
    elseif s:sub(i, i) == "#" and (i == 1 or s:sub(1, i - 1):match("\n[ \t]*$") or s:sub(1, i - 1):match("^[ \t]*$")) then
      -- a preprocessor line (and its continuations): read by defines.lua
      local e = s:find("\n", i, true)
      while e and s:sub(e - 1, e - 1) == "\\" or e and s:sub(e - 2, e - 1) == "\\\r" do
        e = s:find("\n", e + 1, true)
      end
      self.i = (e or #s) + 1
    else
      return
    end
  end
end

-- The raw word of an attach point: up to blank, '{', ',' (a quoted part
-- may hold anything); a filter glued to it ("BEGIN/x/") is split off.
function M:attach_word()
  self:skip()
  local s, i = self.src, self.i
  local start = i
  local out = {}
  while i <= #s do
    local c = s:sub(i, i)
    if c == '"' then
      local e = s:find('"', i + 1, true)
      if not e then self:fail(i, i + 1, "unterminated string") end
      out[#out + 1] = s:sub(i + 1, e - 1)
      i = e + 1
    elseif c:match("[%s{},]") then
      break
    elseif c == "/" and not table.concat(out):find(":", 1, true) and #out > 0 then
      break -- BEGIN/filter/
    else
      out[#out + 1] = c
      i = i + 1
    end
  end
  self.i = i
  return { t = "attach", v = table.concat(out), pos = start, epos = i }
end

function M:next()
  if self.pending[1] then return table.remove(self.pending, 1) end
  self:skip()
  local s, i = self.src, self.i
  if i > #s then return { t = "eof", pos = i, epos = i } end
  local c = s:sub(i, i)
  local tok
  if c:match("[%a_]") then
    local w = s:match("^[%w_]+", i)
    tok = { t = "ident", v = w }
  elseif c == "$" or c == "@" then
    local w = s:match("^[%w_]*", i + 1)
    if c == "$" and w:match("^%d+$") then
      tok = { t = "param", v = tonumber(w), raw = "$" .. w }
    elseif c == "$" and w == "" then
      if s:sub(i + 1, i + 1) == "#" then
        tok = { t = "paramcount", raw = "$#" }
      else
        self:fail(i, i + 1, "syntax error, unexpected $")
      end
    else
      tok = { t = c == "$" and "var" or "map", v = c .. w }
    end
    tok.raw = tok.raw or (c .. w)
  elseif c:match("%d") then
    local w = s:match("^0[xX]%x+", i) or s:match("^[%d_]+", i)
    local rest = s:match("^[%w_]*", i + #w)
    local mult = { [""] = 1, ns = 1, us = 1000, ms = 1000000, s = 1000000000,
                   m = 60000000000, h = 3600000000000, d = 86400000000000 }
    local suffix = ""
    if rest:match("^[uUlL]+$") then -- C suffixes (from #defines): no meaning here
      suffix, rest = rest, ""
    end
    if rest ~= "" and not mult[rest] then
      if rest:match("^[eE]%d+$") then
        w = w .. rest
      else
        self:fail(i, i + #w + #rest, "syntax error, invalid number " .. w .. rest)
      end
    elseif rest ~= "" then
      w = w .. rest
    end
    local digits = w:gsub("_", "")
    local v
    if digits:match("^0[xX]") then
      v = tonumber(digits:sub(3), 16)
    elseif digits:match("^0[0-7]+$") then -- octal, as in C
      v = tonumber(digits, 8)
    elseif digits:match("^%d+[eE]%d+$") then
      local m, e = digits:match("^(%d+)[eE](%d+)$")
      v = tonumber(m) * 10 ^ tonumber(e)
    else
      local num, suf = digits:match("^(%d+)(%a*)$")
      v = tonumber(num) * (mult[suf] or 1)
    end
    tok = { t = "int", v = v, raw = w .. suffix }
  elseif c == '"' then
    local out, j = {}, i + 1
    while true do
      local d = s:sub(j, j)
      if d == "" or d == "\n" then self:fail(i, j, "unterminated string") end
      if d == '"' then break end
      if d == "\\" then
        local e = s:sub(j + 1, j + 1)
        if escapes[e] then out[#out + 1] = escapes[e]; j = j + 2
        elseif e == "x" then
          local h = s:match("^%x%x?", j + 2) or self:fail(j, j + 2, "invalid escape \\x")
          out[#out + 1] = string.char(tonumber(h, 16)); j = j + 2 + #h
        elseif e:match("[0-7]") then
          local o = s:match("^[0-7][0-7]?[0-7]?", j + 1)
          out[#out + 1] = string.char(tonumber(o, 8) % 256); j = j + 1 + #o
        else
          self:fail(j, j + 2, "invalid escape character '\\" .. e .. "'")
        end
      else
        out[#out + 1] = d; j = j + 1
      end
    end
    tok = { t = "string", v = table.concat(out), raw = s:sub(i, j) }
  elseif c == "'" then
    local ch, j = s:sub(i + 1, i + 1), i + 2
    if ch == "\\" then ch = escapes[s:sub(i + 2, i + 2)] or s:sub(i + 2, i + 2); j = i + 3 end
    if s:sub(j, j) ~= "'" then self:fail(i, j, "syntax error, bad character literal") end
    tok = { t = "int", v = ch:byte(), raw = s:sub(i, j) }
  else
    local three, two = s:sub(i, i + 2), s:sub(i, i + 1)
    if ops3[three] then tok = { t = three }
    elseif ops2[two] then tok = { t = two }
    elseif c:match(ops1) then tok = { t = c }
    else self:fail(i, i + 1, "syntax error, unexpected character '" .. c .. "'") end
    tok.raw = tok.t
  end
  tok.raw = tok.raw or tok.v
  tok.pos, tok.epos = i, i + #tok.raw
  self.i = tok.epos
  if tok.t == "ident" and self.defines and self.defines[tok.v]
      and not (self.expanding and self.expanding[tok.v]) then
    local toks = self:expand(tok)
    if not toks[1] then return self:next() end -- defined as nothing
    for k = 2, #toks do self.pending[#self.pending + 1] = toks[k] end
    return toks[1]
  end
  return tok
end

return M
