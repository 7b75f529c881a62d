-- luatrace.compile: C text -> BPF object, through clang, cached.
--
-- The cache (luatrace.cache: where it is, how it is checked, its size
-- cap) is reached only through checked directory fds: files are read and
-- written with openat, and clang gets the directories as inherited fds
-- (/proc/self/fd/3 kernel-<id>, 4 prelude-<h>, 5 obj), so no path is
-- resolved again between the check and the use. Objects reach libbpf as
-- bytes read through the fd (core.open_mem), never by path.
--
--   kernel-<id>/vmlinux.h, .sum  from the kernel's BTF, in process
--   kernel-<id>/prelude-<k>.pch  the prelude precompiled: k is the clang,
--                                its flags without -D/-U, and only those
--                                -D/-U whose macro the prelude's headers
--                                test (a PCH accepts other -D on use)
--   kernel-<id>/prelude-<b>.macros  those tested macro names
--                                (from the headers the PCH build read)
--   prelude-<h>/                 the prelude headers (embedded in luatrace)
--   obj/<key>.o, .sum            objects by hash of everything that shapes
--                                them; .sum guards against corruption
--   obj/p-<key>.o, .sum          the same object by a key without the
--                                compiler, for machines that have none
--   obj/t-<tkey>.idx             the object's name for a text as the script
--                                gave it (before csource), and what the
--                                transform learnt: a warm run skips it
--
-- A hit runs no clang at all: the compiler is identified by the path, size
-- and mtime of its binary, not by running it. The kernel is identified by
-- its GNU build id (/sys/kernel/notes, or the notes of a vmlinux file), so
-- a build host can fill a cache for a target kernel (opts.target) that the
-- target then uses without clang: `luatrace compile --btf vmlinux ...`.
local core = require "luatrace.core"
local cache = require "luatrace.cache"

local M = {}

local function fail(fmt, ...) error(fmt:format(...), 0) end

local D = require "luatrace.compile_dirs"
local OFD, LITE_HEADER = D.OFD, D.LITE_HEADER
local clang_argv, compile_flags, run_clang = D.clang_argv, D.flags, D.run_clang
M.kernel_id, M.base_flags = D.kernel_id, D.base_flags

-- clang: $LUATRACE_CLANG or "clang" found in PATH (a trusted one); its
-- path and identity (clang.lua).
M.clang = require("luatrace.clang").find

-- The cache directories this compile opened (closed when it ends).
local opened = {}
local function prelude_dir() return D.prelude_dir(opened) end
local function kernel_dir(target, header) return D.kernel_dir(target, header, opened) end
local prelude_id = D.prelude_id

-- A lite compile (opts.lite) that failed: compiled again with vmlinux.h.
local LITE_FAILED = {}

-- clang's first error as one line (compile_errors.lua).
M.first_error = function(...) return require("luatrace.compile_errors").first_error(...) end

-- An intact object: ours (checked on the open fd), its hash matching its
-- .sum. A damaged one is removed (and rebuilt by the caller).
local function cached(odir, name, sum)
  local bytes = odir:read(name)
  if not bytes then return nil end
  if odir:read(sum) == core.hash(bytes) then
    odir:touch(name); odir:touch(sum) -- used: last to be evicted
    return bytes
  end
  odir:unlink(name); odir:unlink(sum)
  return nil
end

-- The path a message shows for an object (it is never opened by path).
local odir_path
local function shown(name) return odir_path .. "/" .. name end

-- ---- texts seen before (the warm path of luatrace.bpf.source) ----
-- A text's object is found by a key over the text as the script gave it
-- (before csource's transform, which costs milliseconds) plus everything
-- else that shapes the object: obj/t-<tkey>.idx holds the object's name
-- and what the transform learnt (info, a string). The object itself is
-- still checked against its .sum.

-- tkey from the caller's parts, the base flags, clang, kernel and
-- prelude; nil without a clang (objects built elsewhere: the p- keys).
function M.text_key(...)
  local ok, _, clang_id = pcall(M.clang)
  if not ok then return nil end
  return core.hash("text-key-1", table.concat(M.base_flags(), "\1"), clang_id, M.kernel_id(),
    prelude_id(), ...)
end

-- A known text: its object's path (for messages), bytes and info; nil.
function M.text_hit(tkey)
  local odir, opath = cache.sub("obj")
  local ok, path, bytes, info = pcall(function()
    local iname = "t-" .. tkey .. ".idx"
    local idx = odir:read(iname)
    local oname, info = (idx or ""):match("^(%x+%.o)\n(.*)$")
    if not oname then return nil end
    local bytes = cached(odir, oname, (oname:gsub("%.o$", ".sum")))
    if not bytes then return nil end
    odir:touch(iname)
    return opath .. "/" .. oname, bytes, info
  end)
  odir:close()
  if not ok then error(path, 0) end
  return path, bytes, info
end

-- Remember that text key opts.text_key compiles to object oname (in the
-- same checked directory as the object).
local function note_text(odir, opts, oname)
  if opts.text_key then
    odir:write("t-" .. opts.text_key .. ".idx", oname .. "\n" .. (opts.text_info or ""))
  end
end

-- ---- a clang started before its source is known ----
-- clang spends ~20 ms loading its libraries before it reads any input: a
-- caller that knows a compile is coming (bpftrace's front end, once its
-- plan is not in the cache) starts it with M.prestart, reading its
-- source from a pipe, and the compile with the same argv feeds it. Any
-- other compile, or M.cancel, kills it.
local prestarted -- { handle, key, tmp (its output in obj/), unmark }

local function drop_prestarted(odir)
  local p = prestarted
  prestarted = nil
  if not p then return end
  core.exec_cancel(p.handle)
  local d = odir or cache.sub("obj")
  d:unlink(p.tmp)
  if not odir then d:close() end
  p.unmark()
end

-- What identifies a prestarted clang: its argv but the output, the kernel.
local function prestart_key(clang, flags, pch_name, kid)
  return table.concat(clang_argv(clang, flags, pch_name, "-", ""), "\1") .. "\1" .. kid
end

-- The prestarted clang when it is the one for key, else nil (and killed).
local function take_prestarted(key, odir)
  local p = prestarted
  if p and p.key == key then
    prestarted = nil
    p.unmark()
    return p
  end
  drop_prestarted(odir)
end

-- Start clang for a compile with opts (cflags, lite; no target) whose
-- source comes later. Quietly nothing when that cannot be done (no
-- clang, no PCH yet: the compile will say why).
function M.prestart(opts)
  M.cancel()
  opened = {}
  pcall(function()
    local clang, clang_id = M.clang()
    local flags, nbase = compile_flags(opts)
    local odir = cache.sub("obj")
    opened[#opened + 1] = odir
    local pdir, phash = prelude_dir()
    local kdir, _, ensure = kernel_dir(nil, opts.lite and LITE_HEADER or "vmlinux.h")
    local pch_name = require("luatrace.pch").get({ clang = clang, clang_id = clang_id,
      flags = flags, nbase = nbase, kdir = kdir, pdir = pdir, odir = odir, phash = phash,
      run = run_clang, keep = {}, before_build = ensure })
    if not pch_name then return end
    local unmark = cache.mark_writing()
    local tmp = "prestart.o.tmp." .. core.getpid()
    local handle = core.exec_start(clang_argv(clang, flags, pch_name, "-", OFD .. "/" .. tmp),
      { kdir:fd(), pdir:fd(), odir:fd() }, { fd = odir:fd(), name = tmp })
    if not handle then unmark(); return end
    prestarted = { handle = handle, key = prestart_key(clang, flags, pch_name, M.kernel_id()),
      tmp = tmp, unmark = unmark }
  end)
  for _, d in ipairs(opened) do d:close() end
  opened = {}
end

-- Kill a prestarted clang that no compile took.
function M.cancel() drop_prestarted() end

-- Compile C text (already transformed by csource) to an object. opts:
-- cflags (list), debug (bool), target ({btf = vmlinux or BTF file}:
-- compile for another kernel), file and line (where the text starts, for
-- clang errors without a location), text_key and text_info (an index of
-- the text before its transform, see text_hit), lite (try the lite
-- kernel header first). Returns the object's path (for messages),
-- whether it came from the cache, and its bytes (load them with
-- core.open_mem: they were read through the checked directory fd).
local compile, unmark
local function compile_once(source, opts)
  opened = {}
  local ok, path, was_cached, bytes = pcall(compile, source, opts)
  for _, d in ipairs(opened) do d:close() end
  opened = {}
  M.cancel() -- a prestarted clang left: a cache hit took its place
  if unmark then pcall(unmark); unmark = nil end
  return ok, path, was_cached, bytes
end

function M.compile(source, opts)
  opts = opts or {}
  local ok, path, was_cached, bytes = compile_once(source, opts)
  if not ok and path == LITE_FAILED then
    -- the text needs more of the kernel's types: the full vmlinux.h (a
    -- text index of the text then names this object, so a warm run goes
    -- straight to it)
    local full = setmetatable({ lite = false }, { __index = opts })
    ok, path, was_cached, bytes = compile_once(source, full)
  end
  if not ok then error(path, 0) end
  return path, was_cached, bytes
end

function compile(source, opts)
  local flags, nbase = compile_flags(opts)
  local phash = prelude_id()
  local kid = M.kernel_id(opts.target)
  local odir
  odir, odir_path = cache.sub("obj")
  opened[#opened + 1] = odir
  local pkey = core.hash(source, table.concat(flags, "\1"), kid, phash)
  local ok_clang, clang, clang_id = pcall(M.clang)
  if not ok_clang then
    -- no compiler here: an object built elsewhere for this kernel will do
    local bytes = cached(odir, "p-" .. pkey .. ".o", "p-" .. pkey .. ".sum")
    if bytes then return shown("p-" .. pkey .. ".o"), true, bytes end
    if opts.lite then error(LITE_FAILED, 0) end -- the other build's may be there
    error(clang, 0)
  end
  local key = core.hash(source, table.concat(flags, "\1"), clang_id, kid, phash)
  local oname, sname = key .. ".o", key .. ".sum"
  local bytes = cached(odir, oname, sname)
  if bytes then note_text(odir, opts, oname); return shown(oname), true, bytes end

  unmark = cache.mark_writing()
  local pdir = prelude_dir()
  local header = opts.lite and LITE_HEADER or "vmlinux.h"
  local kdir, kname, ensure_header = kernel_dir(opts.target, header)
  odir:write(key .. ".c", source)
  local tmp = oname .. ".tmp." .. core.getpid()
  local function attempt(pch_name)
    if not pch_name then ensure_header() end
    local p = take_prestarted(prestart_key(clang, flags, pch_name, kid), odir)
    if p then
      local code, out = core.exec_finish(p.handle, source)
      if code == 0 then odir:rename(p.tmp, tmp) else odir:unlink(p.tmp) end
      D.check_stopped(code)
      if code then return code, out end -- (nil: it could not start; run one now)
    end
    return run_clang(clang_argv(clang, flags, pch_name, OFD .. "/" .. key .. ".c", OFD .. "/" .. tmp),
      kdir, pdir, odir, tmp)
  end
  local kkeep = {}
  local pargs = { clang = clang, clang_id = clang_id, flags = flags, nbase = nbase, kdir = kdir,
    pdir = pdir, odir = odir, phash = phash, debug = opts.debug, run = run_clang, keep = kkeep,
    before_build = ensure_header }
  local pch = require "luatrace.pch" -- a compile only (startup cost)
  local pch_name = pch.get(pargs)
  local code, out = attempt(pch_name)
  if code ~= 0 and pch_name and pch.damaged(out, pch_name) then
    -- a truncated or stale PCH (or a vmlinux.h changed under it): rebuild
    -- it once instead of failing forever
    kdir:unlink(pch_name)
    ensure_header()
    pch_name = pch.get(pargs)
    code, out = attempt(pch_name)
  end
  if opts.debug and out ~= "" then io.stderr:write(out) end
  if code ~= 0 then
    odir:unlink(tmp)
    if opts.lite and not core.interrupted() then
      if opts.debug then io.stderr:write("luatrace: vmlinux-lite.h is not enough for this text: compiling with vmlinux.h\n") end
      error(LITE_FAILED, 0)
    end
    error(M.first_error(out, opts.file and ("%s:%d: "):format(opts.file, opts.line or 1)), 0)
  end
  odir:rename(tmp, oname)
  bytes = odir:read(oname)
  if not bytes then fail("compile BPF program: cannot read back %s", shown(oname)) end
  local h = core.hash(bytes)
  odir:write(sname, h)
  odir:write("p-" .. pkey .. ".o", bytes)
  odir:write("p-" .. pkey .. ".sum", h)
  note_text(odir, opts, oname)
  local keep = { ["obj/" .. oname] = true, ["obj/" .. sname] = true,
    [kname .. "/" .. header] = true, [kname .. "/" .. header .. ".sum"] = true }
  if pch_name then keep[kname .. "/" .. pch_name] = true end
  if opts.text_key then keep["obj/t-" .. opts.text_key .. ".idx"] = true end
  for n in pairs(kkeep) do keep[kname .. "/" .. n] = true end
  -- the prelude's headers: never touched (a PCH checks their mtime), so
  -- the oldest files of all, yet in use
  for n in pairs(core.prelude) do keep["prelude-" .. phash .. "/" .. n] = true end
  -- what this compile added: the source, the object twice, small files;
  -- a new PCH or vmlinux.h (rare) makes the prune count everything
  cache.prune(keep, nil, not pargs.built and (#source + 2 * #bytes + 256) or nil)
  return shown(oname), false, bytes
end

return M
