-- Whole structs as values: print(*ptr), print(args), @m = *ptr, $v = *ptr
-- (then $v.member), in bpftrace's `{ .field = value, ... }` shape (checked
-- against Debian's bpftrace 0.17 by hand: the same text but for pointer
-- members, which 0.17 prints as a signed decimal and we print in hex as
-- current bpftrace does).
local B = dofile(root .. "/tests/bt_helpers.lua")
local ffi = require "ffi"

pcall(ffi.cdef, [[
struct lt_rq { short z; };
struct lt_rp { int x; char n[4]; uint64_t y; struct lt_rq in; int arr[2]; struct lt_rq *ptr; };
int mblen(const char *s, unsigned long n);
]])

local function sample()
  local inner = ffi.new("struct lt_rq", { z = -2 })
  local s = ffi.new("struct lt_rp")
  s.x, s.y, s["in"].z, s.arr[0], s.arr[1], s.ptr = 7, 2 ^ 40, 12, 1, -1, ffi.cast("void *", 0xdeadbeef)
  ffi.copy(s.n, "abc")
  return s, inner
end

local PROG = [[
struct q { short z; };
struct p { int x; char n[4]; u64 y; struct q in; int arr[2]; struct q *ptr; };
uprobe:libc:mblen { $s = (struct p *)arg0; print(*$s); @[$s->x] = *$s; $v = *$s; printf("%d %s\n", $v.in.z, $v.n); }
]]

test("print(*ptr), a map of structs, a struct variable's members", function()
  local s = sample()
  local out = B.run(PROG, function() B.C.mblen(ffi.cast("const char *", s), 0) end)
  local text = "{ .x = 7, .n = abc, .y = 1099511627776, .in = { .z = 12 }, .arr = [1,-1], .ptr = 0xdeadbeef }"
  eq(out, "Attaching 1 probe...\n" .. text .. "\n12 abc\n\n\n@[7]: " .. text .. "\n")
end)

test("print(struct) in -f json is an object", function()
  local s = sample()
  local out = B.run(PROG, function() B.C.mblen(ffi.cast("const char *", s), 0) end, { format = "json" })
  local line = out:match('\n({"type": "value"[^\n]*)\n')
  eq(line, '{"type": "value", "data": {"x": 7, "n": "abc", "y": 1099511627776, "in": {"z": 12}, "arr": [1,-1], "ptr": 3735928559}}')
end)

test("print(args) and @m = args of a tracepoint: its fields without the common_ ones", function()
  local out = B.run([[t:syscalls:sys_enter_close /args->fd == 987/ { print(args); @a = args; }]],
    function() ffi.C.close(987) end)
  eq(out, "Attaching 1 probe...\n{ .__syscall_nr = 3, .fd = 987 }\n\n\n@a: { .__syscall_nr = 3, .fd = 987 }\n")
end)

test("whole structs: too big for a map, args where there are none: located errors", function()
  local cases = {
    { "BEGIN { @ = *curtask; }", "stdin:1:13-21: ERROR: struct task_struct is" },
    { "BEGIN { print(args); }", "stdin:1:15-19: ERROR: The args builtin can only be used with" },
  }
  for _, c in ipairs(cases) do
    local first = B.lines(B.error_of(c[1]) .. "\n")[1]
    eq(first:sub(1, #c[2]), c[2], c[1] .. ": " .. first)
  end
end)

test("print(*curtask): a kernel struct with cache-line aligned members, our pid in it", function()
  local me = require("luatrace.core").getpid()
  local out = B.run("uprobe:libc:mblen { print(*curtask); }", function()
    B.C.mblen(nil, 0)
  end)
  ok(out:find("^Attaching 1 probe%.%.%.\n{ %.thread_info = { "), out:sub(1, 200))
  ok(out:find((", %%.pid = %d, %%.tgid = %d, "):format(me, me)), "our pid and tgid in the record")
end)
