-- luatrace compile: build objects on one machine for a kernel that runs on
-- another (a small target without clang).
--
--   luatrace compile --btf VMLINUX [--cache DIR] [--fentry] [-DNAME=V]... FILE.c...
--
-- Each FILE.c is BCC-dialect C, as BPF{src_file = FILE.c} takes it. The
-- objects go into the compile cache (DIR, else the usual one) under keys
-- for the target kernel (its build id, from VMLINUX); copy the cache to the
-- target and point LUATRACE_CACHE_DIR at it: BPF{src_file = FILE.c} there
-- finds the object without clang. FILE.c must be named by the same path
-- on both sides (it is part of the source, for error locations). --fentry
-- says the target takes fentry programs (FUNC_PROBE); tracepoint args
-- structs are generated from this machine's tracefs formats.
local M = {}

local USAGE = "usage: luatrace compile --btf VMLINUX [--cache DIR] [--fentry] [-DNAME=V]... FILE.c..."

function M.main(...)
  require("luatrace.core").gc_normal()
  local args = { ... }
  local btf, cache, fentry, cflags, files = nil, nil, false, {}, {}
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--btf" or a == "--cache" then
      local v = args[i + 1]
      if not v then error(("compile: %s needs a value (%s)"):format(a, USAGE), 0) end
      if a == "--btf" then btf = v else cache = v end
      i = i + 2
    elseif a == "--fentry" then
      fentry = true; i = i + 1
    elseif a:match("^%-D") or a:match("^%-I") then
      cflags[#cflags + 1] = a; i = i + 1
    elseif a:sub(1, 1) == "-" then
      error(("compile: unknown option %s (%s)"):format(a, USAGE), 0)
    else
      files[#files + 1] = a; i = i + 1
    end
  end
  if not btf or #files == 0 then error("compile: " .. USAGE, 0) end
  if cache then
    -- the compile module reads the variable when it first needs the cache
    require("luatrace.core").setenv("LUATRACE_CACHE_DIR", cache)
  end
  local BPF = require("luatrace.bpf")
  local kid = require("luatrace.compile").kernel_id({ btf = btf })
  for _, f in ipairs(files) do
    local fh, err = io.open(f)
    if not fh then error(("compile: read %s: %s"):format(f, err), 0) end
    local text = fh:read("*a")
    fh:close()
    local path, was_cached = BPF.build(text, { file = f, line = 1, cflags = cflags,
      target = { btf = btf }, has_fentry = fentry })
    print(("%s -> %s%s (kernel %s)"):format(f, path, was_cached and " (cached)" or "", kid))
  end
end

return M
