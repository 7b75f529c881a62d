-- Structs the program defines (`struct item { ... }` at top level): casts
-- and member reads (->, ., nested structs, arrays, pointers to other
-- program structs and to kernel types), on memory this test lays out and
-- hands to a libc function it probes.
local B = dofile(root .. "/tests/bt_helpers.lua")
local ffi = require "ffi"

pcall(ffi.cdef, [[
struct lt_point { int x; unsigned long y; };
struct lt_item { char name[8]; struct lt_point pt; struct lt_point *next; uint16_t vals[3]; int neg; };
int mblen(const char *s, unsigned long n);
]])

local PROG = [[
struct point { int x; unsigned long y; };
struct item {
  char name[8];
  struct point pt;    // by value
  struct point *next;
  u16 vals[3];
  int neg;
};
uprobe:libc:mblen {
  $p = (struct item *)arg0;
  printf("%s %d %lu %d %d %d %d\n", $p->name, $p->pt.x, $p->pt.y, $p->next->x, $p->vals[2], (*$p).pt.x, $p->neg);
  @[$p->name] = sizeof(struct item);
}]]

test("program structs: members, nested structs, arrays and pointers read from user memory", function()
  local other = ffi.new("struct lt_point", { x = 99, y = 5 })
  local it = ffi.new("struct lt_item")
  ffi.copy(it.name, "widget")
  it.pt.x, it.pt.y, it.next, it.neg = 7, 123456789012, other, -3
  it.vals[0], it.vals[1], it.vals[2] = 1, 2, 65535
  local out = B.run(PROG, function() B.C.mblen(ffi.cast("const char *", it), 0) end)
  eq(out, "Attaching 1 probe...\nwidget 7 123456789012 99 65535 7 -3\n\n\n@[widget]: "
    .. ffi.sizeof("struct lt_item") .. "\n")
end)

test("program structs: member sizes from #defines (TASK_COMM_LEN from <linux/sched.h>)", function()
  local it = ffi.new("char[24]")
  ffi.copy(it, "0123456789abcdefXYZ")
  local out = B.run([[
#include <linux/sched.h>
#define EXTRA 4
struct named { char comm[TASK_COMM_LEN]; char more[EXTRA]; };
uprobe:libc:mblen { $n = (struct named *)arg0; printf("%s|%s|%d\n", $n->comm, $n->more, sizeof(struct named)); }]],
    function() B.C.mblen(it, 0) end)
  eq(out, "Attaching 1 probe...\n0123456789abcdef|XYZ|20\n\n\n")
end)

test("program structs: unknown members and types are located errors", function()
  local cases = {
    { "struct a { int x; } BEGIN { $p = (struct a *)0; @ = $p->y; }", "stdin:1:53-58: ERROR: Struct/union of type 'struct a' does not contain a field named 'y'" },
    { "struct a { nosuchtype x; } BEGIN { $p = (struct a *)0; }", "stdin:1:1-27: ERROR: unknown type 'nosuchtype' in a struct definition" },
    { "struct a { struct { int y; } in; } BEGIN { $p = (struct a *)0; }", "stdin:1:1-35: ERROR: struct a: nested struct or union definitions are not supported by luatrace" },
    { "struct a { int x : 3; } BEGIN { $p = (struct a *)0; }", "stdin:1:1-24: ERROR: struct a: bit-field x is not supported by luatrace" },
  }
  for _, c in ipairs(cases) do
    eq(B.lines(B.error_of(c[1]) .. "\n")[1], c[2], c[1])
  end
end)

-- offsetof(struct X, a.b) (bpftrace 0.20): kernel structs from BTF, the
-- values checked by clang against vmlinux.h (__builtin_offsetof); the
-- program's own structs by C's layout.
test("offsetof: kernel struct members (nested, in anonymous unions) and the program's structs", function()
  local core = require "luatrace.core"
  local out = B.run([[
struct Foo { int a; u64 b; struct task_struct *t; }
struct Bar { char c; struct Foo f; }
BEGIN {
  printf("%d %d %d %d\n", offsetof(struct task_struct, pid), offsetof(struct path, dentry),
    offsetof(struct sk_buff, tstamp), offsetof(struct task_struct, se.vruntime));
  printf("%d %d %d\n", offsetof(struct Foo, b), offsetof(struct Bar, f.t), offsetof(struct Bar, c));
  exit();
}]])
  local lines = B.lines(out)
  eq(lines[1], "Attaching 1 probe...")
  local pid, dentry, tstamp, vruntime = lines[2]:match("^(%d+) (%d+) (%d+) (%d+)$")
  ok(pid, "kernel offsets printed: " .. tostring(lines[2]))
  eq(lines[3], "8 24 0", "the program's structs")
  -- clang's own answer for this kernel
  local dir = unique_path("offsetof")
  assert(os.execute("mkdir -m 0700 " .. dir) == 0)
  core.write_vmlinux_h(dir .. "/vmlinux.h", nil, "full")
  local c = io.open(dir .. "/check.c", "w")
  c:write('#include "vmlinux.h"\n')
  for _, t in ipairs({ { "struct task_struct, pid", pid }, { "struct path, dentry", dentry },
      { "struct sk_buff, tstamp", tstamp }, { "struct task_struct, se.vruntime", vruntime } }) do
    c:write(("_Static_assert(__builtin_offsetof(%s) == %s, \"%s\");\n"):format(t[1], t[2], t[1]))
  end
  c:close()
  local res, err, code = sh(("clang -target bpf -fsyntax-only -I%s %s/check.c"):format(q(dir), q(dir)))
  os.execute("rm -rf " .. q(dir))
  eq(code, 0, "clang agrees: " .. res .. err)
end)

-- A kernel enumerator by name (tcpstates.bt's TCP_* states): from BTF,
-- UAPI and long-stable values; an unknown name stays an error.
test("kernel enumerators by name: TCP_FIN_WAIT1, BPF_MAP_TYPE_RINGBUF", function()
  local out = B.run([[BEGIN { printf("%d %d %d\n", TCP_FIN_WAIT1, BPF_MAP_TYPE_RINGBUF, TCP_CLOSE); exit(); }]])
  eq(B.lines(out)[2], "4 27 7")
  local err = B.error_of("BEGIN { @ = TCP_NO_SUCH_STATE; }")
  eq(B.lines(err .. "\n")[1], "stdin:1:13-30: ERROR: Unknown identifier: 'TCP_NO_SUCH_STATE'")
end)
