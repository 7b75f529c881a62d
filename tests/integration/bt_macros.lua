-- bpftrace macros (current bpftrace's hygienic macros), expanded inline:
-- the examples of bpftrace's language reference, with their printed
-- values, and the misuses it forbids as located errors.
local B = dofile(root .. "/tests/bt_helpers.lua")

test("macros: expression, variable and map parameters, bare names, nesting, own variables", function()
  local out = B.run([[
macro one() { 1 }
macro add_one(x) { x + 1 }
macro add_one_to_each($a, @b) { $a += 1; @b += 1; }
macro side_effects(x) { x; x; x; }
macro add_two(x) { add_one(x) + 1 }
macro local_var(x) { let $t = x * 10; $t + 1 }
BEGIN {
  print(one()); print(one);
  $a = 10;
  print(add_one($a)); print(add_one(1 + 1));
  @b = 5;
  add_one_to_each($a, @b);
  print($a + @b);
  side_effects(printf("hi")); printf("\n");
  print(add_two(1));
  $t = 3;
  print(local_var($t) + $t);
  exit();
}]])
  eq(out, "Attaching 1 probe...\n1\n1\n11\n3\n17\nhihihi\n3\n34\n\n\n@b: 6\n")
end)

test("macros: used in a tracepoint filter and body", function()
  local out = B.run([[
macro is_fd(x, n) { x == n }
macro tally(@m, k) { @m[k] = count(); }
t:syscalls:sys_enter_close /is_fd(args->fd, 987)/ { tally(@closes, comm); }]],
    function() B.C.close(987); B.C.close(987); B.C.close(986) end)
  eq(out, "Attaching 1 probe...\n\n\n@closes[luatrace]: 2\n")
end)

test("macros: misuse is a located error", function()
  local cases = {
    { "macro m() { @x++ } BEGIN { m(); }", "stdin:1:13-15: ERROR: macro m: map @x is not one of its parameters (a macro reaches only the maps passed to it)" },
    { "macro m($x) { $x++ } BEGIN { @x = 1; m(@x); }", "stdin:1:40-42: ERROR: macro m: argument 1 must be a scratch variable ($x)" },
    { "macro m(a) { a } BEGIN { m(); }", "stdin:1:26-29: ERROR: macro m takes 1 argument (0 given)" },
    { "macro m() { m() } BEGIN { m(); }", "stdin:1:13-16: ERROR: macro m: expansions nest too deep (recursion?)" },
    { "macro m() { 1 } macro m() { 2 } BEGIN { }", "stdin:1:23-24: ERROR: macro m is defined twice" },
    { "macro m() { $t = 1; } BEGIN { m(); print($t); }", "stdin:1:42-44: ERROR: Undefined or undeclared variable: $t" },
    { "fn f($a: int64): int64 { return $a; } BEGIN { }", "stdin:1:1-3: ERROR: 'fn' is not supported by luatrace's bpftrace front end (write a macro instead)" },
  }
  for _, c in ipairs(cases) do
    eq(B.lines(B.error_of(c[1]) .. "\n")[1], c[2], c[1])
  end
end)
