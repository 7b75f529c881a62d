-- luatrace.pch: the prelude (vmlinux.h, libbpf's headers, luatrace.bpf.h)
-- precompiled once, so a program compiles in ~70 ms instead of ~500.
--
-- A PCH is only accepted with the language flags it was built with, and
-- clang refuses it when a -D it was built with has another value on the
-- command line; a -D it was built without is accepted (measured, clang
-- 14). So the PCH is keyed by the clang, the flags other than -D/-U, the
-- prelude, and only those -D/-U whose macro the prelude's headers test
-- (#if/#ifdef/#ifndef/#elif): a script's -DPID=123 shares the one PCH of
-- its flags instead of building 15 MB per pid. The tested names come from
-- the headers the first build of these flags read (clang -MD), kept in
-- prelude-<base>.macros next to the PCH.
local core = require "luatrace.core"

local M = {}

local KFD, PFD = "/proc/self/fd/3", "/proc/self/fd/4"

local read_file = require("luatrace.files").read

local END = "-- end of list --"

local function is_def(f) return f:match("^%-[DU][%a_]") ~= nil end
local function def_name(f) return f:match("^%-[DU]([%w_]+)") end

-- The macro names tested by #if-family directives in a header text.
local function tested(text, into)
  for dir, rest in ("\n" .. text):gmatch("\n[ \t]*#[ \t]*(%a+)([^\n]*)") do
    if dir == "if" or dir == "ifdef" or dir == "ifndef" or dir == "elif" then
      for id in rest:gmatch("[%a_][%w_]*") do into[id] = true end
    end
  end
end

-- The headers a build read (its -MD output), scanned for tested macros.
local function macros_of(deps, a)
  local set = {}
  deps = deps:gsub("\\\n", " ")
  local list = deps:match(":%s*(.*)$") or ""
  for p in list:gmatch("%S+") do
    local text
    if p:sub(1, #KFD + 1) == KFD .. "/" then text = a.kdir:read(p:sub(#KFD + 2))
    elseif p:sub(1, #PFD + 1) == PFD .. "/" then text = a.pdir:read(p:sub(#PFD + 2))
    else text = read_file(p) end
    if text then tested(text, set) end
  end
  local names = {}
  for n in pairs(set) do names[#names + 1] = n end
  table.sort(names)
  names[#names + 1] = END -- a list cut short (a crash, a full disk) is not trusted
  return table.concat(names, "\n")
end

-- Build name in kdir with these flags; deps: also record the headers read
-- (returns their -MD text). Returns true (and deps) or nil.
local function build(a, flags, name, want_deps)
  if a.before_build then a.before_build() end -- vmlinux.h made intact
  a.built = true
  local pid = core.getpid()
  local tmp, dtmp = name .. ".tmp." .. pid, name .. ".d.tmp." .. pid
  local args = { a.clang }
  for _, f in ipairs(flags) do args[#args + 1] = f end
  for _, f in ipairs({ "-I" .. KFD, "-I" .. PFD, "-x", "c-header",
                       PFD .. "/luatrace.bpf.h", "-o", KFD .. "/" .. tmp }) do
    args[#args + 1] = f
  end
  if want_deps then
    for _, f in ipairs({ "-MD", "-MF", KFD .. "/" .. dtmp }) do args[#args + 1] = f end
  end
  local code, out = a.run(args, a.kdir, a.pdir, a.odir)
  local deps = want_deps and a.kdir:read(dtmp)
  a.kdir:unlink(dtmp)
  if code ~= 0 then
    a.kdir:unlink(tmp)
    if a.debug then io.stderr:write("luatrace: precompiling the prelude failed:\n", out) end
    return nil
  end
  a.kdir:rename(tmp, name)
  return true, deps
end

-- The PCH's file name in kdir for these flags, building it when missing;
-- nil when clang cannot build it (the prelude is then included as text).
-- a: clang, clang_id, flags, nbase (how many of flags are the base
-- flags: their -D are always kept), kdir, pdir, odir, phash, debug, run,
-- keep (a set: the kdir files this compile uses are added, for the LRU),
-- before_build (called before clang builds a PCH). Sets a.built when it
-- built one.
function M.get(a)
  local lang, used, udefs = {}, {}, {}
  for i, f in ipairs(a.flags) do
    if not is_def(f) then lang[#lang + 1] = f
    elseif i <= a.nbase then used[#used + 1] = f
    else udefs[#udefs + 1] = f end
  end
  local base = core.hash(a.clang_id, table.concat(lang, "\1"), a.phash)
  local function pch_name() return "prelude-" .. core.hash(base, table.concat(used, "\1")) .. ".pch" end
  local function with(list)
    local flags = {}
    for _, f in ipairs(lang) do flags[#flags + 1] = f end
    for _, f in ipairs(list) do flags[#flags + 1] = f end
    return flags
  end
  local mname = "prelude-" .. base .. ".macros"
  a.keep[mname] = true
  local macros = a.kdir:read(mname)
  if macros and macros:sub(-#END) ~= END then macros = nil end
  if macros then a.kdir:touch(mname) end
  if not macros then
    -- first build of these flags (no user -D): learn what the headers test
    local name = pch_name()
    local ok, deps = build(a, with(used), name, true)
    if not ok or not deps then return nil end
    macros = macros_of(deps, a)
    a.kdir:write(mname, macros)
  end
  local known = {}
  for n in macros:gmatch("[^\n]+") do known[n] = true end
  for _, f in ipairs(udefs) do
    if known[def_name(f)] then used[#used + 1] = f end
  end
  local name = pch_name()
  local st = a.kdir:stat(name)
  if st and st.reg and st.size > 0 then
    a.kdir:touch(name)
    return name
  end
  if build(a, with(used), name, false) then return name end
  return nil
end

-- Did this compile fail because of the PCH (truncated, stale, from
-- another clang)? Then it is rebuilt once.
function M.damaged(out, name)
  return out:find(name, 1, true) ~= nil or out:find("precompiled header", 1, true) ~= nil
    or out:find("AST file", 1, true) ~= nil or out:find("PCH file", 1, true) ~= nil
end

return M
