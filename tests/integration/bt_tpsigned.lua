-- Tracepoint fields take their signedness from the declared type: the
-- syscall tracepoints' format files say signed:0 for every field, but
-- `int dfd` is -100 (AT_FDCWD) to a bpftrace user, in maps, printf and
-- print(args) alike. (Debian's bpftrace 0.17 prints @a: 4294967196 here;
-- current bpftrace and we print -100: docs/BPFTRACE.md.)
local B = dofile(root .. "/tests/bt_helpers.lua")
local ffi = require "ffi"

pcall(ffi.cdef, "int openat(int dirfd, const char *path, int flags, ...);")

test("args->dfd of openat(AT_FDCWD, ...) is -100 in a map, printf and print(args)", function()
  local out = B.run([[
t:syscalls:sys_enter_openat /str(args->filename) == "/lt-no-such-file"/ {
  @a = args->dfd; @m = min(args->dfd); printf("%d %d\n", args->dfd, args->flags);
  print(args);
}]], function()
    eq(ffi.C.openat(-100, "/lt-no-such-file", 0), -1)
  end)
  local l = B.lines(out)
  eq(l[2], "-100 0")
  ok(l[3]:match("^{ %.__syscall_nr = 257, %.dfd = %-100, %.filename = 0x%x+, %.flags = 0, %.mode = 0 }$"), l[3])
  eq(table.concat(l, "\n", 4), "\n\n@a: -100\n@m: -100")
end)
