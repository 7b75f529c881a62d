-- bpftrace `for` loops: over a map's entries (bpf_for_each_map_elem) and
-- over an integer range (bpf_loop), with break/continue and the probe's
-- scratch variables shared with the body, on events the test makes.
local B = dofile(root .. "/tests/bt_helpers.lua")
local core = require "luatrace.core"

test("for over a map: $kv.0 key, $kv.1 value; outer variables read and changed", function()
  local out = B.run([[
BEGIN { @m[7] = 70; $tot = 5; $n = 0;
  for ($kv : @m) { $tot += $kv.1; $n++; printf("k%d v%d\n", $kv.0, $kv.1); }
  printf("tot %d n %d\n", $tot, $n); exit(); }]])
  eq(out, "Attaching 1 probe...\nk7 v70\ntot 75 n 1\n\n\n@m[7]: 70\n")
end)

test("for over a map: several keys are a tuple; count() values; entries summed", function()
  local out = B.run([[
BEGIN { @s["a", 3] = count(); @s["a", 3] = count(); @t[1] = 1; @t[2] = 2; @t[3] = 3; $sum = 0; $keys = 0;
  for ($kv : @s) { printf("%s %d %d\n", $kv.0.0, $kv.0.1, $kv.1); }
  for ($kv : @t) { $sum += $kv.1; $keys += $kv.0; }
  printf("%d %d\n", $sum, $keys); delete(@s["a", 3]); clear(@t); exit(); }]])
  eq(out, "Attaching 1 probe...\na 3 2\n6 6\n\n\n\n\n") -- two emptied maps: a blank line each
end)

test("for over a range: start inclusive, end exclusive, continue and break", function()
  local out = B.run([[
BEGIN { $end = 4;
  for ($i : 1..$end) { if ($i == 2) { continue; } printf("i=%d\n", $i); $end = 0; }
  for ($i : 0..100) { if ($i == 2) { break; } printf("j=%d\n", $i); }
  for ($i : 5..5) { printf("never\n"); }
  printf("end %d\n", $end); exit(); }]])
  eq(out, "Attaching 1 probe...\ni=1\ni=3\nj=0\nj=1\nend 0\n\n\n")
end)

test("for in a tracepoint: args, comm and nested loops in the body", function()
  local out = B.run([[
t:syscalls:sys_enter_getppid { @c[comm] = count(); $s = comm; $x = 0;
  for ($kv : @c) { for ($i : 0..3) { $x += $i; } printf("%s %s %d %d %d\n", $s, $kv.0, $kv.1, $x, args->__syscall_nr); } }]],
    function() getppid_calls(2) end)
  local nr = 110 -- x86_64 getppid
  eq(out, ("Attaching 1 probe...\nluatrace luatrace 1 3 %d\nluatrace luatrace 2 3 %d\n\n\n@c[luatrace]: 2\n"):format(nr, nr))
end)

test("for: bad loops are located errors", function()
  local cases = {
    { 'BEGIN { @c[1] = count(); for ($kv : @c) { return; } }', "stdin:1:43-49: ERROR: 'return' statements are not allowed in for loops" },
    { "BEGIN { @a = hist(1); for ($kv : @a) { } }", "stdin:1:34-36: ERROR: Loop expression does not support type: hist" },
    { "BEGIN { for ($kv : @nope) { } }", "stdin:1:20-25: ERROR: Undefined map: @nope" },
    { 'BEGIN { for ($i : 0.."a") { } }', "stdin:1:22-25: ERROR: a for range needs integer bounds" },
    { "BEGIN { @x = 1; for ($kv : @x) { } }", "stdin:1:28-30: ERROR: for loops iterate over maps with keys (@x has none)" },
    { "kfunc:vfs_read { @n[1] = count(); for ($kv : @n) { @tot = sum(args->count); } }", "stdin:1:63-74: ERROR: a kfunc's args cannot be read inside a for loop: copy args.count to a variable before the loop" },
    { "kretfunc:vfs_read { @n[1] = count(); for ($kv : @n) { @tot = sum(retval); } }", "stdin:1:66-72: ERROR: retval of a kretfunc cannot be read inside a for loop: copy it to a variable before the loop" },
    { "BEGIN { for ($i : 0 3) { } }", "stdin:1:21-22: ERROR: syntax error, unexpected integer, expecting .." },
  }
  for _, c in ipairs(cases) do
    eq(B.lines(B.error_of(c[1]) .. "\n")[1], c[2], c[1])
  end
end)
