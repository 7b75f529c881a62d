-- luatrace.bpftrace.defines: the #define constants a bpftrace program can
-- name, from its own `#define NAME value` lines and from its `#include`s,
-- without running a compiler (bpftrace runs clang's preprocessor; we read
-- the text ourselves, on every run: a few small files, no cache needed).
--
-- An #include of a kernel header brings
--   * the constants luatrace.kheaders knows for it (kernel-internal
--     headers such as <linux/sched.h> or <linux/socket.h>, which are not
--     installed: TASK_RUNNING, AF_INET, O_CREAT, ...), and
--   * the object-like #defines of the installed UAPI header of that name
--     (/usr/include/linux/..., asm/ in the multiarch directory, from
--     Debian's linux-libc-dev), following its kernel #includes.
-- Only object-like macros (`#define NAME text`) are kept; the lexer
-- expands them as the C preprocessor would. Conditionals are not
-- evaluated: the first definition of a name wins.
local kheaders = require "luatrace.kheaders"

local M = {}

local MAX_DEPTH = 8

-- Header directories we follow (kernel UAPI); anything else (glibc's
-- <sys/...>) is left alone, as its types come from BTF anyway.
local KERNEL = { linux = true, asm = true, ["asm-generic"] = true, uapi = true }

local multiarch = ({ x64 = "x86_64-linux-gnu", arm64 = "aarch64-linux-gnu" })[jit.arch]

local read = require("luatrace.files").read

-- The installed text of header h, or nil.
local function header_text(h)
  require("luatrace.bpftrace.inputs").volatile("#include")
  h = h:gsub("^uapi/", "")
  local dir = h:match("^([%w_%-]+)/")
  if not dir or not KERNEL[dir] or h:find("..", 1, true) then return nil end
  return read("/usr/include/" .. h) or (multiarch and read("/usr/include/" .. multiarch .. "/" .. h))
end

-- Scan preprocessor text: object-like defines into out (first wins),
-- includes followed.
local function scan(text, out, seen, depth)
  text = text:gsub("\\\r?\n", " ")
  for line in text:gmatch("[^\n]+") do
    local inc = line:match('^%s*#%s*include%s*[<"]([^>"]+)[>"]')
    if inc then
      M.include(inc, out, seen, depth + 1)
    else
      local name, rest = line:match("^%s*#%s*define%s+([%a_][%w_]*)(.*)$")
      if name and rest:sub(1, 1) ~= "(" and out[name] == nil then
        local v = rest:gsub("/%*.-%*/", " "):gsub("//.*$", ""):match("^%s*(.-)%s*$")
        if v ~= "" and not v:find("/*", 1, true) then out[name] = v end
      end
    end
  end
end

-- Add what #include <h> brings to out.
function M.include(h, out, seen, depth)
  depth = depth or 1
  if seen[h] or depth > MAX_DEPTH then return end
  seen[h] = true
  local k = kheaders.defines(h) or kheaders.defines(h:gsub("^uapi/", ""))
  if k then scan(k, out, seen, depth) end
  local text = header_text(h)
  if text then scan(text, out, seen, depth) end
end

-- text with the defined names replaced (a struct definition's member
-- sizes: `char comm[TASK_COMM_LEN]`), nested names too.
function M.expand_text(text, defines)
  if not defines then return text end
  for _ = 1, 8 do
    local n = 0
    text = text:gsub("[%a_][%w_]*", function(w)
      if defines[w] then n = n + 1; return defines[w] end
    end)
    if n == 0 then break end
  end
  return text
end

-- The defines of a program's source: { NAME = "replacement text" }.
function M.of_program(src)
  local out, seen = {}, {}
  -- only preprocessor lines count (a '#' at the start of a line)
  local lines = {}
  for line in (src:gsub("\\\r?\n", " ")):gmatch("[^\n]+") do
    if line:match("^%s*#") then lines[#lines + 1] = line end
  end
  if #lines == 0 then return nil end
  scan(table.concat(lines, "\n"), out, seen, 0)
  return next(out) and out or nil
end

return M
