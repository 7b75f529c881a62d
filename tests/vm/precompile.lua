-- precompile.lua --btf VMLINUX --cache DIR [--fentry]: compile the programs
-- that tests/vm/cases declare with program(...) for the target kernel, into
-- a cache the guest uses without clang. Run from the source root, as the
-- guest runs the cases (program origins are paths relative to the root).
local BPF = require("luatrace").BPF
local core = require "luatrace.core"

local btf, cache, fentry
local i = 1
while i <= #arg do
  if arg[i] == "--btf" then btf = arg[i + 1]; i = i + 2
  elseif arg[i] == "--cache" then cache = arg[i + 1]; i = i + 2
  elseif arg[i] == "--fentry" then fentry = true; i = i + 1
  else error("precompile: unknown argument " .. arg[i], 0) end
end
assert(btf and cache, "usage: precompile.lua --btf VMLINUX --cache DIR [--fentry]")
core.setenv("LUATRACE_CACHE_DIR", cache)

package.path = "tests/?.lua;" .. package.path
local vm = require "vm.lib"
local n = 0
local p = io.popen("ls tests/vm/cases/*.lua")
for file in p:lines() do
  for _, prog in ipairs(vm.programs_of(file)) do
    BPF.build(prog.text, { file = prog.origin.file, line = prog.origin.line,
      cflags = prog.cflags, target = { btf = btf }, has_fentry = fentry })
    n = n + 1
  end
end
p:close()
print(("precompiled %d programs for %s"):format(n, btf))
