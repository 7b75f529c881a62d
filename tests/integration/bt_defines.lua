-- bpftrace #include / #define: constants of the included kernel headers
-- (luatrace.kheaders' lists for kernel-internal headers, the installed
-- UAPI headers for the rest) and the program's own object-like #defines,
-- expanded by the lexer; no compiler runs for them.
local B = dofile(root .. "/tests/bt_helpers.lua")
local C = B.C

test("#include and #define: header constants, expressions, strings, octal and C suffixes", function()
  local out = B.run([[
#include <linux/socket.h>
#include <linux/fcntl.h>
#include <linux/sched.h>
#include <linux/errno.h>
#define MAXN 3
#define GREETING "hi there"
#define BOTH (O_CREAT | \
  O_TRUNC)
BEGIN { printf("%d %d %d %d %d %s %d %d %d %d\n", AF_INET, AF_INET6, O_CREAT, BOTH,
  TASK_UNINTERRUPTIBLE, GREETING, MAXN * 2, ENOENT, 0x10UL + 010, O_DIRECTORY); exit(); }]])
  eq(out, "Attaching 1 probe...\n2 10 64 576 2 hi there 6 2 24 65536\n\n\n")
end)

test("#define in a filter: a tracepoint's flags against O_CREAT from <linux/fcntl.h>", function()
  local path = unique_path("defs")
  local out = B.run([[
#include <linux/fcntl.h>
t:syscalls:sys_enter_openat /(args->flags & O_CREAT) == O_CREAT/ { printf("%s\n", str(args->filename)); }]],
    function()
      C.close(C.open(path, 0x41)) -- O_WRONLY|O_CREAT
      C.close(C.open(path, 0))
    end)
  os.remove(path)
  eq(out, "Attaching 1 probe...\n" .. path .. "\n\n\n")
end)

test("#define: an error inside an expansion points at the name", function()
  local err = B.error_of("#define BAD (1 + )\nBEGIN { @ = BAD; }")
  eq(err, "stdin:2:13-16: ERROR: syntax error, unexpected )\nBEGIN { @ = BAD; }\n            ~~~")
  eq(B.lines(B.error_of("BEGIN { @ = NOT_DEFINED_ANYWHERE; }") .. "\n")[1],
    "stdin:1:13-33: ERROR: Unknown identifier: 'NOT_DEFINED_ANYWHERE'")
end)
