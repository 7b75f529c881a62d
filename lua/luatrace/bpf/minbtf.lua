-- luatrace.bpf.minbtf: the minimized kernel BTF an object's CO-RE
-- relocations need, cached per kernel and object.
--
-- An object with CO-RE relocations makes libbpf parse the whole kernel
-- BTF at load (~20 ms and ~30 MB here). core.btf_min (host/btf_min.c)
-- keeps just the types the relocations resolve against (what `bpftool gen
-- min_core_btf` makes; tests/integration/minbtf.lua compares the two);
-- libbpf gets it as btf_custom_path. It lives in the compile cache's
-- "btf" directory (luatrace.cache: a checked private directory, reached
-- through its fd, never by re-resolving a path), named by the kernel's
-- identity (compile.kernel_id) and the object's hash, so a new kernel or
-- a rebuilt object makes a new one. An object without CO-RE relocations
-- gets an empty file (it needs no kernel BTF at all), and so does one that
-- relocates a type vmlinux lacks: libbpf then searches the modules' BTF,
-- which a custom BTF would turn off.
--
-- Programs that attach by BTF id (tp_btf, fentry, fexit) still make
-- libbpf read the kernel BTF itself; the custom BTF only serves CO-RE.
-- LUATRACE_MIN_BTF=0 turns it off (benchmarks compare both).
local core = require "luatrace.core"

local M = {}

function M.enabled()
  return os.getenv("LUATRACE_MIN_BTF") ~= "0"
end

-- The cache entry's name for an object (its bytes, or the file at path).
function M.name(path, bytes)
  local h = bytes and core.hash(bytes) or core.hash_file(path)
  if not h then return nil end
  return core.hash(require("luatrace.compile").kernel_id(), h) .. ".btf"
end

local function lookup(path, bytes)
  local name = M.name(path, bytes)
  if not name then return nil end
  local dir = require("luatrace.cache").sub("btf")
  local ok, res, done = pcall(function()
    local st = dir:stat(name)
    if st and not st.reg then return nil end
    if st then
      dir:touch(name) -- used: the cache's pruning drops the least recent
    else
      if not bytes then -- a miss: the object's bytes for btf_min
        local fh = io.open(path, "rb")
        bytes = fh and fh:read("*a")
        if fh then fh:close() end
      end
      local raw = bytes and core.btf_min(bytes)
      if raw == nil then return nil end
      dir:write(name, raw or "")
      st = { size = raw and #raw or 0 }
    end
    if st.size == 0 then return nil end
    return dir:path() .. "/" .. name, function() dir:close() end
  end)
  if ok and res then return res, done end
  dir:close()
  return nil
end

-- For an object (file path, or its bytes): the path of its minimized
-- kernel BTF and a function to call after the load (the path goes through
-- an open directory fd). nil when it needs none, when turned off, or when
-- the cache cannot be used (the load then reads the kernel's BTF, as
-- without this).
function M.for_object(path, bytes)
  if not M.enabled() then return nil end
  local ok, p, done = pcall(lookup, path, bytes)
  if ok and p then return p, done end
  if not ok and core.verbose and core.verbose() then
    io.stderr:write("luatrace: minimized BTF not used: ", tostring(p), "\n")
  end
  return nil
end

return M
