-- BPF{obj=..., attach_targets={prog="func"}}: an AOT object's fentry/fexit
-- program gets its kernel function at run time (before load). Here fentry
-- is refused, so the load fails with the one-line reason; a function the
-- kernel's BTF lacks and malformed tables are refused before any load.
-- tests/vm/cases/tools.lua attaches them for real (funccount/funclatency).
local lt = require "luatrace"
local BPF = lt.BPF
local ok_ = ok

test("attach_targets: a function missing from the kernel's BTF is named", function()
  raises(function()
    BPF{ obj = "funclatency", programs = { "fl_fentry" }, attach_targets = { fl_fentry = "no_such_function_xyz" } }
  end, "set attach target of fl_fentry to no_such_function_xyz: the kernel's BTF has no function "
    .. "no_such_function_xyz (fentry/fexit need one)")
end)

test("attach_targets: names must be strings, programs must exist", function()
  raises(function()
    BPF{ obj = "funclatency", programs = { "fl_fentry" }, attach_targets = { fl_fentry = 3 } }
  end, "BPF: attach_targets maps program names to kernel function names, got string = number")
  raises(function()
    BPF{ obj = "funclatency", programs = { "fl_entry" }, attach_targets = { nope = "vfs_read" } }
  end, "find program nope in ", "funclatency.bpf.o: no such program")
end)

test("attach_targets: fentry on vfs_read where the kernel refuses fentry: the clear refusal", function()
  if lt.has_fentry() then return skip("this kernel takes fentry (tests/vm/cases/tools.lua attaches it)") end
  local ok, err = pcall(BPF, { obj = "funclatency", programs = { "fl_fentry", "fl_fexit" },
    attach_targets = { fl_fentry = "vfs_read", fl_fexit = "vfs_read" } })
  eq(ok, false)
  ok_(err:match("^load BPF object .*/funclatency%.bpf%.o program fl_fentry: Operation not permitted %(fentry/fexit "
    .. "programs are refused by this kernel"), err)
end)
