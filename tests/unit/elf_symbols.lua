-- ELF symbol tables read through libelf, checked against nm(1).
local core = require "luatrace.core"
local ffi = require "ffi"

test("elf_symbol finds a function's address as nm does", function()
  local prog = test_prog("lt_target")
  local out, _, code = sh("nm " .. q(prog) .. " | awk '$3 == \"lt_target_add\" {print $1}'")
  if code ~= 0 or out == "" then skip("nm (binutils) is not installed") end
  local addr, size = core.elf_symbol(prog, "lt_target_add")
  ok(addr, "symbol found")
  eq(("%x"):format(tonumber(ffi.cast("uint64_t", addr))), (out:gsub("^0+", ""):gsub("\n", "")))
  ok(size > 0, "sized symbol")
  eq(core.elf_symbol(prog, "no_such_function_here"), nil)
end)
