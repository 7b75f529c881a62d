-- Bad input: each case gives its clear one-line error and leaves nothing
-- attached (the runner's leak check covers fds and tracefs entries).
local core = require "luatrace.core"

test("a missing object file", function()
  raises(function() core.open_file("/nonexistent/x.bpf.o") end,
    "open BPF object /nonexistent/x.bpf.o: No such file or directory (check the path)")
end)

test("a corrupt object file", function()
  local f = os.tmpname()
  local fh = io.open(f, "wb"); fh:write(("\127ELF garbage"):rep(10)); fh:close()
  local err = raises(function() core.open_file(f) end, "open BPF object " .. f .. ": ")
  os.remove(f)
  ok(err:find("not a BPF ELF object", 1, true), err)
end)

test("a program the verifier rejects: its reason and a hint", function()
  local o = core.open_file(test_obj("bad"))
  -- the source line first; the pointer of a syscall argument is user memory
  local err = raises(function() o:load() end)
  eq(err, "bad.bpf.c:11: load BPF program bad_deref of " .. test_obj("bad") .. ": Permission "
    .. "denied: verifier: R1 invalid mem access 'scalar' (return p[0];) (this is a user-space "
    .. "pointer: read it with bpf_probe_read_user() or bpf_probe_read_user_str())")
  o:close()
end)

test("a nonexistent tracepoint", function()
  local o = load("events")
  raises(function() core.attach_tracepoint(o, "on_openat", "syscalls", "sys_enter_nope") end,
    "attach tracepoint syscalls:sys_enter_nope: No such file or directory "
    .. "(list them with luatrace -l 'syscalls:*')")
  o:close()
end)

test("a nonexistent uprobe symbol", function()
  local o = load("probes")
  local path = test_prog("lt_target")
  raises(function() core.attach_uprobe(o, "on_add", path, { sym = "no_such_fn" }) end,
    "attach uprobe " .. path .. ":no_such_fn: no such function symbol no_such_fn in " .. path)
  raises(function() core.attach_uprobe(o, "on_add", "/nonexistent/bin", { sym = "f" }) end,
    "attach uprobe /nonexistent/bin: No such file or directory (no such binary or library)")
  raises(function() core.attach_uprobe(o, "on_add", "no_such_lib_xyz", { sym = "f" }) end,
    "attach uprobe no_such_lib_xyz: No such file or directory (no such library in the process, "
    .. "ld.so.cache or the library directories)")
  o:close()
end)

test("an unknown program name", function()
  local o = load("events")
  raises(function() core.attach_tracepoint(o, "nope", "syscalls", "sys_enter_openat") end,
    "find program nope in " .. test_obj("events") .. ": no such program")
  o:close()
end)

test("globals: unknown name, after load, wrong size", function()
  local o = core.open_file(test_obj("events"))
  raises(function() o:set_global("nope", 1) end, "set global nope of " .. test_obj("events")
    .. ": no such global variable")
  raises(function() o:set_global("target_pid", "toolongvalue") end,
    "set global target_pid of " .. test_obj("events") .. ": 12 bytes given, the variable has 4")
  o:load()
  raises(function() o:set_global("target_pid", 1) end,
    "the object is already loaded (set globals before load)")
  o:close()
end)

test("a closed object refuses use", function()
  local o = load("events")
  o:close()
  raises(function() o:load() end, "use of BPF object " .. test_obj("events") .. ": it is closed")
end)
