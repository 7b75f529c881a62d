-- luatrace.compile_dirs: what a compile (compile.lua) runs clang with:
-- the kernel's and the prelude's directories in the cache (the headers
-- made there from the kernel's BTF and from luatrace itself), the flags,
-- and clang's command line on the directories' fds.
local core = require "luatrace.core"
local cache = require "luatrace.cache"

local M = {}

local function fail(fmt, ...) error(fmt:format(...), 0) end

local read_file = require("luatrace.files").read

-- Child fds of clang: each cache directory at a fixed number, so paths
-- recorded in a PCH (/proc/self/fd/4/luatrace.bpf.h) mean the same thing
-- in every run.
local KFD, PFD, OFD = "/proc/self/fd/3", "/proc/self/fd/4", "/proc/self/fd/5"

-- opts.lite: the prelude includes this header instead of vmlinux.h
-- (compile.lua compiles a text it is not enough for again with vmlinux.h).
local LITE_HEADER, LITE_FLAG = "vmlinux-lite.h", "-DLT_VMLINUX_LITE"
M.KFD, M.PFD, M.OFD, M.LITE_HEADER = KFD, PFD, OFD, LITE_HEADER

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

-- The hash of the embedded prelude headers (names and texts).
local prelude_hash
function M.prelude_id()
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

-- prelude-<h>/ with the embedded headers (added to opened); returns its
-- dir and hash.
function M.prelude_dir(opened)
  M.prelude_id()
  local dir = cache.sub("prelude-" .. prelude_hash)
  opened[#opened + 1] = dir
  for n, text in pairs(core.prelude) do
    if dir:read(n) ~= text then dir:write(n, text) end
  end
  return dir, prelude_hash
end

-- kernel-<id>/ (of the target's BTF when given; added to opened), its
-- name, and a function that
-- makes a header of it intact (vmlinux.h, or vmlinux-lite.h: see
-- host/vmlinux_h.c): a missing or damaged one (its .sum differs: a crash,
-- a full disk) is rebuilt. Only a build of the PCH or a compile without
-- one reads the header, so only they pay for reading and hashing its
-- megabytes (a PCH notices a changed header by itself: clang refuses it,
-- and the PCH is rebuilt).
function M.kernel_dir(target, header, opened)
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

-- Run clang with the cache directories as fds 3, 4, 5. output: the name
-- in odir it writes, when done as soon as it is there (host/exec.c).
function M.run_clang(args, kdir, pdir, odir, output)
  local code, out = core.exec(args, { kdir:fd(), pdir:fd(), odir:fd() },
    output and { fd = odir:fd(), name = output } or nil)
  if not code then fail("compile BPF program: cannot run %s: %s", args[1], out) end
  M.check_stopped(code)
  return code, out
end

-- Ctrl-C reaches clang too (same process group): a stop, not an error.
function M.check_stopped(code)
  if code and code > 128 and core.interrupted() then error("interrupted", 0) end
end

-- clang's argv compiling input (a path, or "-": stdin) to output.
function M.clang_argv(clang, flags, pch_name, input, output)
  local args = { clang }
  for _, f in ipairs(flags) do args[#args + 1] = f end
  for _, f in ipairs({ "-I" .. KFD, "-I" .. PFD }) do args[#args + 1] = f end
  if pch_name then
    args[#args + 1] = "-include-pch"; args[#args + 1] = KFD .. "/" .. pch_name
  else
    args[#args + 1] = "-include"; args[#args + 1] = "luatrace.bpf.h"
  end
  for _, f in ipairs({ "-c", "-x", "c", input, "-o", output }) do args[#args + 1] = f end
  return args
end

-- The flags of a compile with opts, and how many of them are the base's.
function M.flags(opts)
  local flags = M.base_flags()
  if opts.lite then flags[#flags + 1] = LITE_FLAG end
  local nbase = #flags
  for _, f in ipairs(opts.cflags or {}) do flags[#flags + 1] = f end
  return flags, nbase
end

return M
