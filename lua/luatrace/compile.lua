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

local read_file = require("luatrace.files").read

-- Child fds of clang: each cache directory at a fixed number, so paths
-- recorded in a PCH (/proc/self/fd/4/luatrace.bpf.h) mean the same thing
-- in every run.
local KFD, PFD, OFD = "/proc/self/fd/3", "/proc/self/fd/4", "/proc/self/fd/5"

-- opts.lite: the prelude includes this header instead of vmlinux.h; a
-- text it is not enough for is compiled again with vmlinux.h.
local LITE_HEADER, LITE_FLAG = "vmlinux-lite.h", "-DLT_VMLINUX_LITE"
local LITE_FAILED = {}

-- A kernel build, cheaply: its GNU build id; failing that, its release,
-- version string (build time included) and BTF size. For a target, the
-- build id of its vmlinux file, else the hash of the BTF file.
local kernel_id
function M.kernel_id(target)
  if target and target.btf == "/sys/kernel/btf/vmlinux" then target = nil end -- this kernel
  if target then
    local id = core.kernel_build_id(target.btf)
    if id then return id end
    local h, err = core.hash_file(target.btf)
    if not h then fail("read target BTF %s: %s", target.btf, err) end
    return h
  end
  if kernel_id then return kernel_id end
  local st = core.stat("/sys/kernel/btf/vmlinux")
  if not st then
    fail("compile BPF program: this kernel has no BTF (/sys/kernel/btf/vmlinux); "
      .. "CONFIG_DEBUG_INFO_BTF is needed for CO-RE")
  end
  kernel_id = core.kernel_build_id() or core.hash(read_file("/proc/sys/kernel/osrelease") or "",
    read_file("/proc/version") or "", tostring(st.size))
  return kernel_id
end

-- clang: $LUATRACE_CLANG or "clang" found in PATH; its identity.
local clang_cache
-- Is the program at path one root may run: the binary, and the directory
-- of the name and of the file it resolves to, safe (host/safefs.c rules:
-- owned by root or us, nobody else can write them)? true | false, why
local function trusted_program(path)
  local real = core.realpath(path)
  if not real then return false, "cannot resolve it" end
  for _, p in ipairs({ path, real }) do
    local dir = core.realpath(p:match("^(.*)/[^/]*$") or ".")
    if not dir then return false, "its directory cannot be resolved" end
    local ok, why = core.safe_path_ok(dir == "" and "/" or dir)
    if not ok then return false, why end
  end
  local st = core.stat(real)
  if not st or (st.uid ~= 0 and st.uid ~= core.geteuid()) then
    return false, ("%s is owned by uid %s, not by root or you"):format(real, st and st.uid)
  end
  if bit.band(st.mode, 18) ~= 0 then
    return false, ("%s is writable by others (mode %o)"):format(real, st.mode)
  end
  return true
end

function M.clang()
  if clang_cache then return clang_cache.path, clang_cache.id end
  local name = os.getenv("LUATRACE_CLANG")
  if not name or name == "" then name = "clang" end
  local path
  if name:find("/") then
    if core.stat(name) then
      local ok, why = trusted_program(name)
      if not ok then fail("compile BPF program: refusing to run %s: %s", name, why) end
      path = name
    end
  else
    -- PATH entries root should not run from (., a directory others can
    -- write, as sudo may keep a user's PATH) are passed over
    for dir in (os.getenv("PATH") or "/usr/bin:/bin"):gmatch("[^:]+") do
      local p = dir .. "/" .. name
      local st = core.stat(p)
      if st and not st.dir and dir:sub(1, 1) == "/" and trusted_program(p) then path = p; break end
    end
  end
  if not path then
    fail("compile BPF program: %s not found (install clang: apt-get install clang, or "
      .. "set LUATRACE_CLANG); AOT tools (luatrace -m ...) need no compiler", name)
  end
  -- follow a symlink chain to the real binary for its identity
  local real = core.realpath(path) or path
  local st = core.stat(real) or {}
  clang_cache = { path = path, id = ("%s:%s:%s"):format(real, st.size, st.mtime) }
  return path, clang_cache.id
end

-- Flags shared with the Makefile (core.bpf_cflags), as a list.
function M.base_flags()
  local flags = {}
  for f in core.bpf_cflags:gmatch("%S+") do flags[#flags + 1] = f end
  -- BCC-style code trips these often; they are noise for on-demand text
  for _, w in ipairs({ "-Wno-unused-variable", "-Wno-unused-value",
                       "-Wno-pointer-sign", "-Wno-compare-distinct-pointer-types",
                       "-Wno-gnu-variable-sized-type-not-at-end",
                       "-Wno-address-of-packed-member", "-Wno-unknown-warning-option" }) do
    flags[#flags + 1] = w
  end
  return flags
end

-- The cache directories this compile opened (closed when it ends).
local opened = {}

-- The hash of the embedded prelude headers (names and texts).
local prelude_hash
local function prelude_id()
  if not prelude_hash then
    local names = {}
    for name in pairs(core.prelude) do names[#names + 1] = name end
    table.sort(names)
    local parts = {}
    for _, n in ipairs(names) do parts[#parts + 1] = n; parts[#parts + 1] = core.prelude[n] end
    prelude_hash = core.hash(unpack(parts))
  end
  return prelude_hash
end

-- prelude-<h>/ with the embedded headers; returns its dir and hash.
local function prelude_dir()
  prelude_id()
  local dir = cache.sub("prelude-" .. prelude_hash)
  opened[#opened + 1] = dir
  for n, text in pairs(core.prelude) do
    if dir:read(n) ~= text then dir:write(n, text) end
  end
  return dir, prelude_hash
end

-- kernel-<id>/ (of the target's BTF when given), and a function that
-- makes a header of it intact (vmlinux.h, or vmlinux-lite.h: see
-- host/vmlinux_h.c): a missing or damaged one (its .sum differs: a crash,
-- a full disk) is rebuilt. Only a build of the PCH or a compile without
-- one reads the header, so only they pay for reading and hashing its
-- megabytes (a PCH notices a changed header by itself: clang refuses it,
-- and the PCH is rebuilt).
local function kernel_dir(target, header)
  if target and target.btf == "/sys/kernel/btf/vmlinux" then target = nil end
  local name = "kernel-" .. M.kernel_id(target)
  local dir = cache.sub(name)
  opened[#opened + 1] = dir
  local checked = false
  local function ensure_header()
    if checked then return end
    checked = true
    local text, sum = dir:read(header), dir:read(header .. ".sum")
    if not text or not sum or core.hash(text) ~= sum then
      local tmp = header .. ".tmp." .. core.getpid()
      dir:unlink(tmp)
      core.write_vmlinux_h(dir:path() .. "/" .. tmp, target and target.btf,
        header == LITE_HEADER and "lite" or "full")
      text = dir:read(tmp)
      if not text then fail("write %s in the compile cache: cannot read it back", header) end
      dir:write(header .. ".sum", core.hash(text))
      dir:rename(tmp, header)
    end
  end
  return dir, name, ensure_header
end

-- Run clang with the cache directories as fds 3, 4, 5.
local function run_clang(args, kdir, pdir, odir)
  local code, out = core.exec(args, { kdir:fd(), pdir:fd(), odir:fd() })
  if not code then fail("compile BPF program: cannot run %s: %s", args[1], out) end
  -- Ctrl-C reaches clang too (same process group): a stop, not an error
  if code > 128 and core.interrupted() then error("interrupted", 0) end
  return code, out
end

-- Where the user's text came from (for messages that quote its line):
-- a `-e` chunk has no file to look in, the CLI keeps its text.
local function source_line(file, line)
  local text
  if file == "(command line)" then
    local ok, cli = pcall(require, "luatrace.cli")
    text = ok and cli.code_text
  end
  if not text or not line then return nil end
  local n = 0
  for l in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    if n == line then
      l = l:gsub("^%s+", ""):gsub("%s+$", "")
      if #l > 100 then l = l:sub(1, 97) .. "..." end
      return l
    end
  end
end

-- clang's first error as one line, "file:line: compile BPF program: what"
-- (the user's file first). The column is dropped: it counts in the
-- rewritten text (map method calls change lengths), while the line number
-- is the user's own. An error without a location is shown as clang said
-- it (never only "1 error generated"), after `where` (the text's origin).
function M.first_error(out, where)
  for line in out:gmatch("[^\n]+") do
    local file, ln, what = line:match("^(.-):(%d+):%d+: (.*)$")
    if not file then file, ln, what = line:match("^(.-):(%d+): (.*)$") end
    local err = what and (what:match("^fatal error: (.*)") or what:match("^error: (.*)"))
    if not err then -- no location: "error: ...", "clang: error: ..."
      file, ln, err = nil, nil, line:match("^[%w%-%.]*:? ?f?a?t?a?l? ?error: (.*)")
    end
    if file and file:match("^<.*>$") then file = nil end -- <built-in>, <command line>
    if err then
      local hint = ""
      if err:find("bpf/bpf_helpers.h' file not found", 1, true) then
        hint = " (install libbpf-dev)"
      elseif err:find("asm/", 1, true) and err:find("file not found", 1, true) then
        hint = " (install linux-libc-dev)"
      end
      local quote = file and source_line(file, tonumber(ln))
      if quote then hint = (" (in: %s)"):format(quote) .. hint end
      if file then
        return ("%s:%s: compile BPF program: %s%s"):format(file, ln, err, hint)
      end
      return ("%scompile BPF program: %s%s"):format(where or "", err, hint)
    end
  end
  return ("%scompile BPF program: %s"):format(where or "", out:match("([^\n]+)\n*$") or "clang failed")
end

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
  local flags = M.base_flags()
  if opts.lite then flags[#flags + 1] = LITE_FLAG end
  local nbase = #flags
  for _, f in ipairs(opts.cflags or {}) do flags[#flags + 1] = f end
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
  local kdir, kname, ensure_vmlinux = kernel_dir(opts.target, header)
  odir:write(key .. ".c", source)
  local tmp = oname .. ".tmp." .. core.getpid()
  local function attempt(pch_name)
    local args = { clang }
    for _, f in ipairs(flags) do args[#args + 1] = f end
    for _, f in ipairs({ "-I" .. KFD, "-I" .. PFD }) do args[#args + 1] = f end
    if pch_name then
      args[#args + 1] = "-include-pch"; args[#args + 1] = KFD .. "/" .. pch_name
    else
      ensure_vmlinux()
      args[#args + 1] = "-include"; args[#args + 1] = "luatrace.bpf.h"
    end
    for _, f in ipairs({ "-c", OFD .. "/" .. key .. ".c", "-o", OFD .. "/" .. tmp }) do
      args[#args + 1] = f
    end
    return run_clang(args, kdir, pdir, odir)
  end
  local kkeep = {}
  local pch_args = { clang = clang, clang_id = clang_id, flags = flags, nbase = nbase, kdir = kdir,
    pdir = pdir, odir = odir, phash = phash, debug = opts.debug, run = run_clang, keep = kkeep,
    before_build = ensure_vmlinux }
  local pch = require "luatrace.pch" -- a compile only (startup cost)
  local pch_name = pch.get(pch_args)
  local code, out = attempt(pch_name)
  if code ~= 0 and pch_name and pch.damaged(out, pch_name) then
    -- a truncated or stale PCH (or a vmlinux.h changed under it): rebuild
    -- it once instead of failing forever
    kdir:unlink(pch_name)
    ensure_vmlinux()
    pch_name = pch.get(pch_args)
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
  cache.prune(keep, nil, not pch_args.built and (#source + 2 * #bytes + 256) or nil)
  return shown(oname), false, bytes
end

return M
