-- luatrace.compile: C text -> BPF object, through clang, cached.
--
-- The cache lives in one per-user directory ($LUATRACE_CACHE_DIR, else
-- $XDG_CACHE_HOME/luatrace, else ~/.cache/luatrace), created 0700 and
-- checked to be ours and closed to others before anything in it is used:
-- a cache that someone else can write would let them load BPF as root.
--
--   kernel-<id>/vmlinux.h        from the kernel's BTF, in process
--   kernel-<id>/prelude-<h>.pch  the prelude precompiled for this clang
--   prelude-<h>/                 the prelude headers (embedded in luatrace)
--   obj/<key>.o, .sum            objects by hash of everything that shapes
--                                them; .sum guards against corruption
--   obj/p-<key>.o, .sum          the same object by a key without the
--                                compiler, for machines that have none
--
-- A hit runs no clang at all: the compiler is identified by the path, size
-- and mtime of its binary, not by running it. The kernel is identified by
-- its GNU build id (/sys/kernel/notes, or the notes of a vmlinux file), so
-- a build host can fill a cache for a target kernel (opts.target) that the
-- target then uses without clang: `luatrace compile --btf vmlinux ...`.
local core = require "luatrace.core"

local M = {}

local function fail(fmt, ...) error(fmt:format(...), 0) end

local function read_file(p)
  local fh = io.open(p, "rb")
  if not fh then return nil end
  local s = fh:read("*a")
  fh:close()
  return s
end

-- Write atomically (temp file + rename) so a crash leaves no torn file.
local function write_file(p, data)
  local tmp = ("%s.tmp.%d"):format(p, core.getpid())
  local fh, err = io.open(tmp, "wb")
  if not fh then fail("write %s: %s", tmp, err) end
  fh:write(data)
  fh:close()
  local ok, rerr = os.rename(tmp, p)
  if not ok then os.remove(tmp); fail("write %s: %s", p, rerr) end
end

-- The directory, made 0700 if absent, and refused unless it is a real
-- directory owned by us and closed to group and others.
local function private_dir(p)
  local st = core.stat(p)
  if not st then
    local ok, err = core.mkdir(p, tonumber("700", 8))
    if not ok then fail("create compile cache %s: %s", p, err) end
    st = core.stat(p)
  end
  local uid = core.geteuid()
  if st.link or not st.dir then
    fail("use compile cache %s: not a directory (a symlink or file is refused)", p)
  end
  if st.uid ~= uid then
    fail("use compile cache %s: owned by uid %d, not by you (uid %d); remove it or "
      .. "set LUATRACE_CACHE_DIR", p, st.uid, uid)
  end
  if st.mode % 64 ~= 0 then -- any group/other permission bit
    fail("use compile cache %s: mode %o lets others in; chmod 700 it", p, st.mode)
  end
  return p
end

function M.cache_root()
  local dir = os.getenv("LUATRACE_CACHE_DIR")
  if not dir or dir == "" then
    local base = os.getenv("XDG_CACHE_HOME")
    if not base or base == "" then
      local home = os.getenv("HOME")
      if (not home or home == "") and core.geteuid() == 0 then home = "/root" end
      if not home or home == "" then fail("find compile cache: HOME is not set (set LUATRACE_CACHE_DIR)") end
      base = home .. "/.cache"
      if not core.stat(base) then core.mkdir(base, tonumber("700", 8)) end
    end
    dir = base .. "/luatrace"
  end
  return private_dir(dir)
end

local function subdir(name)
  return private_dir(M.cache_root() .. "/" .. name)
end

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

local function machine()
  local m = (read_file("/proc/sys/kernel/arch") or "x86_64"):gsub("%s+", "")
  return m
end

-- clang: $LUATRACE_CLANG or "clang" found in PATH; its identity.
local clang_cache
function M.clang()
  if clang_cache then return clang_cache.path, clang_cache.id end
  local name = os.getenv("LUATRACE_CLANG")
  if not name or name == "" then name = "clang" end
  local path
  if name:find("/") then
    if core.stat(name) then path = name end
  else
    for dir in (os.getenv("PATH") or "/usr/bin:/bin"):gmatch("[^:]+") do
      local p = dir .. "/" .. name
      local st = core.stat(p)
      if st and not st.dir then path = p; break end
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

-- prelude-<h>/ with the embedded headers; returns dir and hash.
local prelude_cache
local function prelude_dir()
  if prelude_cache then return prelude_cache.dir, prelude_cache.hash end
  local names = {}
  for name in pairs(core.prelude) do names[#names + 1] = name end
  table.sort(names)
  local parts = {}
  for _, n in ipairs(names) do parts[#parts + 1] = n; parts[#parts + 1] = core.prelude[n] end
  local h = core.hash(unpack(parts))
  local dir = subdir("prelude-" .. h)
  for _, n in ipairs(names) do
    if read_file(dir .. "/" .. n) ~= core.prelude[n] then write_file(dir .. "/" .. n, core.prelude[n]) end
  end
  prelude_cache = { dir = dir, hash = h }
  return dir, h
end

-- kernel-<id>/ with vmlinux.h (of the target's BTF when given).
local function kernel_dir(target)
  if target and target.btf == "/sys/kernel/btf/vmlinux" then target = nil end
  local dir = subdir("kernel-" .. M.kernel_id(target))
  local vh = dir .. "/vmlinux.h"
  if not core.stat(vh) then
    local tmp = vh .. ".tmp." .. core.getpid()
    core.write_vmlinux_h(tmp, target and target.btf)
    os.rename(tmp, vh)
  end
  return dir
end

local function run_clang(args)
  local code, out = core.exec(args)
  if not code then fail("compile BPF program: cannot run %s: %s", args[1], out) end
  return code, out
end

-- The first error line of clang's output, for a one-line message. The
-- column is dropped: it counts in the rewritten text (map method calls
-- change lengths), while the line number is the user's own.
local function first_error(out)
  for line in out:gmatch("[^\n]+") do
    if line:find(": error: ", 1, true) or line:find(": fatal error: ", 1, true) then
      line = line:gsub("^(.-:%d+):%d+: ", "%1: ", 1)
      local hint = ""
      if line:find("bpf/bpf_helpers.h' file not found", 1, true) then
        hint = " (install libbpf-dev)"
      elseif line:find("asm/", 1, true) and line:find("file not found", 1, true) then
        hint = " (install linux-libc-dev)"
      end
      return line .. hint
    end
  end
  return (out:match("([^\n]+)\n*$") or "clang failed")
end

-- The precompiled prelude for these flags, building it once. nil when
-- clang cannot build it (the prelude is then included as text).
local function pch(clang, clang_id, flags, kdir, pdir, phash, debug)
  local key = core.hash(clang_id, table.concat(flags, " "), phash)
  local path = ("%s/prelude-%s.pch"):format(kdir, key)
  if core.stat(path) then return path end
  local tmp = path .. ".tmp." .. core.getpid()
  local args = { clang }
  for _, f in ipairs(flags) do args[#args + 1] = f end
  for _, f in ipairs({ "-I" .. kdir, "-I" .. pdir, "-x", "c-header",
                       pdir .. "/luatrace.bpf.h", "-o", tmp }) do
    args[#args + 1] = f
  end
  local code, out = run_clang(args)
  if code ~= 0 then
    os.remove(tmp)
    if debug then io.stderr:write("luatrace: precompiling the prelude failed:\n", out) end
    return nil
  end
  os.rename(tmp, path)
  return path
end

-- An intact cache entry: ours, not a link, content matching its .sum.
-- A damaged one is removed (and rebuilt by the caller).
local function cached(obj, sum)
  local st = core.stat(obj)
  if not st then return false end
  if st.uid == core.geteuid() and not st.link then
    local want = read_file(sum)
    if want and want == core.hash_file(obj) then return true end
  end
  os.remove(obj); os.remove(sum)
  return false
end

-- Compile C text (already transformed by csource) to an object file.
-- opts: cflags (list), debug (bool), target ({btf = vmlinux or BTF file}:
-- compile for another kernel). Returns the object path and whether it came
-- from the cache.
function M.compile(source, opts)
  opts = opts or {}
  local flags = M.base_flags()
  for _, f in ipairs(opts.cflags or {}) do flags[#flags + 1] = f end
  local pdir, phash = prelude_dir()
  local kid = M.kernel_id(opts.target)
  local odir = subdir("obj")
  local pkey = core.hash(source, table.concat(flags, "\1"), kid, phash)
  local pobj, psum = ("%s/p-%s.o"):format(odir, pkey), ("%s/p-%s.sum"):format(odir, pkey)
  local ok_clang, clang, clang_id = pcall(M.clang)
  if not ok_clang then
    -- no compiler here: an object built elsewhere for this kernel will do
    if cached(pobj, psum) then
      return pobj, true
    end
    error(clang, 0)
  end
  local key = core.hash(source, table.concat(flags, "\1"), clang_id, kid, phash)
  local obj, sum = ("%s/%s.o"):format(odir, key), ("%s/%s.sum"):format(odir, key)
  if cached(obj, sum) then
    return obj, true
  end
  local kdir = kernel_dir(opts.target)
  local src = ("%s/%s.c"):format(odir, key)
  write_file(src, source)
  local args = { clang }
  for _, f in ipairs(flags) do args[#args + 1] = f end
  args[#args + 1] = "-I" .. kdir
  args[#args + 1] = "-I" .. pdir
  local p = pch(clang, clang_id, flags, kdir, pdir, phash, opts.debug)
  if p then
    args[#args + 1] = "-include-pch"; args[#args + 1] = p
  else
    args[#args + 1] = "-include"; args[#args + 1] = "luatrace.bpf.h"
  end
  local tmp = obj .. ".tmp." .. core.getpid()
  for _, f in ipairs({ "-c", src, "-o", tmp }) do args[#args + 1] = f end
  local code, out = run_clang(args)
  if opts.debug and out ~= "" then io.stderr:write(out) end
  if code ~= 0 then
    os.remove(tmp)
    fail("compile BPF program: %s", first_error(out))
  end
  os.rename(tmp, obj)
  local h = core.hash_file(obj)
  write_file(sum, h)
  write_file(pobj, read_file(obj))
  write_file(psum, h)
  return obj, false
end

return M
