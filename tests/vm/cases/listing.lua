-- luatrace -l on stock kernels: kprobes listed from tracefs's
-- available_filter_functions (unreadable on the development machine,
-- which has no kprobes), kfunc arguments from the guest's BTF.
local core = require "luatrace.core"
local listing = require "luatrace.listing"

test("-l kprobe: names from available_filter_functions", function()
  if not core.has_kprobes() then skip("no kprobes in this kernel") end
  local afo = core.tracefs() .. "/available_filter_functions"
  local names, err = core.glob_lines(afo, "words", "vfs_rea?")
  ok(names, "available_filter_functions is readable: " .. tostring(err))
  eq(table.concat(names, " "), "vfs_read")
  eq(table.concat(listing.names("kprobe:vfs_rea?"), " "), "kprobe:vfs_read")
  eq(table.concat(listing.names("kr:vfs_read"), " "), "kretprobe:vfs_read")
  local all = listing.names("kprobe:*")
  ok(#all > 10000, #all .. " kernel functions")
  for _, n in ipairs(all) do
    ok(not n:find("[%s%[]"), "no module suffix: " .. n)
  end
end)

test("-lv kfunc: vfs_read's typed arguments from the guest's BTF", function()
  eq(table.concat(listing.describe("kfunc:vmlinux:vfs_read"), "|"),
    "kfunc:vmlinux:vfs_read|    struct file * file|    char * buf|    size_t count|"
    .. "    loff_t * pos|    ssize_t retval")
end)
