-- bpftrace front end: bad programs give one located error in bpftrace's
-- shape (file:line:col-col: ERROR: message, the line, ~ under the place),
-- exit 1 from the CLI, and attach nothing.
local B = dofile(root .. "/tests/bt_helpers.lua")

-- { program, first line of the error }
local corpus = {
  { 'BEGIN { printf("x" }', 'stdin:1:20-21: ERROR: syntax error, unexpected }, expecting ) or ","' },
  { 'BEGIN { @x = 1 + ; }', "stdin:1:18-19: ERROR: syntax error, unexpected ;" },
  { "BEGIN { @ = 1", "stdin:1:14-15: ERROR: syntax error, unexpected end of file, expecting ; or }" },
  { 'BEGIN { "unterminated }', "stdin:1:9-24: ERROR: unterminated string" },
  { "BEGIN { @ = 0x; }", "stdin:1:13-15: ERROR: syntax error, invalid number 0x" },
  { "BEGIN { foo(1); }", "stdin:1:9-15: ERROR: Unknown function: foo" },
  { "BEGIN { $x; }", "stdin:1:9-11: ERROR: Undefined or undeclared variable: $x" },
  { "BEGIN { @x = count(); @x = 1; }", "stdin:1:23-25: ERROR: Type mismatch for @x: trying to assign value of type 'int64' when map already contains a value of type 'count'" },
  { 'BEGIN { printf("%d\\n", "s"); }', "stdin:1:9-28: ERROR: printf: %d specifier expects a value of type integer (string supplied)" },
  { 'BEGIN { printf("%s %d\\n", 1); }', "stdin:1:9-29: ERROR: printf: Expected 2 arguments to match format string but only 1 were given" },
  { "nosuch:foo { }", "stdin:1:1-11: ERROR: Invalid probe type: nosuch" },
  { "t:nosuchcat:nosuchev { }", "stdin:1:1-21: ERROR: tracepoint not found: nosuchcat:nosuchev (list them with luatrace -l 'tracepoint:nosuchcat:*')" },
  { "BEGIN { @x = count(5); }", "stdin:1:14-22: ERROR: count() requires 0 arguments (1 provided)" },
  { "BEGIN { count(); }", "stdin:1:9-16: ERROR: count() should be directly assigned to a map" },
  { 'BEGIN { $x = 1; $x = "s"; }', "stdin:1:17-19: ERROR: Type mismatch for $x: trying to assign value of type 'string[2]' when variable already contains a value of type 'int64'" },
  { 'BEGIN { system("ls"); }', "stdin:1:9-21: ERROR: system() is an unsafe function being used in safe mode (run with --unsafe)" },
  { "BEGIN { signal(9); }", "stdin:1:9-18: ERROR: signal() is an unsafe function being used in safe mode (run with --unsafe)" },
  { "BEGIN { print(@x[1]); }", "stdin:1:15-20: ERROR: The map passed to print() should not be indexed by a key" },
  { "BEGIN { @x = arg0; }", "stdin:1:14-18: ERROR: The arg0 builtin can only be used with 'kprobes', 'uprobes' and 'usdt' probes" },
  { "BEGIN { @x = retval; }", "stdin:1:14-20: ERROR: The retval builtin can only be used with 'kretprobe' and 'uretprobe' and 'kfunc' probes" },
  { "t:syscalls:sys_enter_read { @ = args->nosuch; }", "stdin:1:33-45: ERROR: Can not access field 'nosuch' on type 'struct syscalls:sys_enter_read_t'" },
  { "BEGIN { $p = (struct nosuch *)0; }", "stdin:1:14-32: ERROR: Unknown struct/union: 'struct nosuch'" },
  { "BEGIN { $p = (struct path *)0; @ = $p->nosuch; }", "stdin:1:36-46: ERROR: Struct/union of type 'struct path' does not contain a field named 'nosuch'" },
  { "BEGIN { @ = lhist(1, 0, 10); }", "stdin:1:13-28: ERROR: lhist() requires 4 arguments (3 provided)" },
  { "BEGIN { @x = hist(1); @y = @x; }", "stdin:1:28-30: ERROR: a hist() map cannot be read as a value" },
  { 'BEGIN { @ = "a" + 1; }', "stdin:1:13-20: ERROR: Type mismatch for '+': comparing 'string[2]' with 'int64'" },
  { 'BEGIN { if ("a") { } }', "stdin:1:13-16: ERROR: a condition must be an integer or pointer, not string[2]" },
  { "BEGIN { cpid; }", "stdin:1:9-13: ERROR: cpid cannot be used without a child command (-c)" },
  { 'BEGIN { @ = percpu_kaddr("x"); }', "stdin:1:13-30: ERROR: the function percpu_kaddr() is not supported by luatrace" },
  { "BEGIN { @ = offsetof(struct task_struct, nosuch); }", "stdin:1:13-49: ERROR: Struct/union of type 'struct task_struct' does not contain a field named 'nosuch'" },
  { "BEGIN { @ = offsetof(struct nosuchstruct, x); }", "stdin:1:13-45: ERROR: Unknown struct/union: 'struct nosuchstruct'" },
  { "BEGIN { @ = offsetof(struct task_struct, pid.x); }", "stdin:1:13-48: ERROR: Can not access field 'x' on a non-struct type" },
  { "BEGIN { @ = offsetof(curtask, pid); }", "stdin:1:13-35: ERROR: offsetof() of an expression is not supported by luatrace; name its type: offsetof(struct task_struct, comm)" },
  { "BEGIN { @ = offsetof(u64, x); }", "stdin:1:13-29: ERROR: offsetof() takes a struct or union type, not 'u64'" },
  { "struct a { int x; } BEGIN { @ = offsetof(struct a, y); }", "stdin:1:33-54: ERROR: Struct/union of type 'struct a' does not contain a field named 'y'" },
  { "BEGIN { @[1] = 1; @[1, 2] = 2; }", "stdin:1:19-26: ERROR: Argument mismatch for @: trying to access with 2 arguments when map expects 1 arguments" },
  { "watchpoint:0x10:8:rw { }", "stdin:1:1-21: ERROR: probe type watchpoint is not supported by luatrace" },
  { 'import "x"; BEGIN { }', "stdin:1:1-7: ERROR: 'import' is not supported by luatrace's bpftrace front end" },
  { "let @a = lruhash(100); BEGIN { }", "stdin:1:1-4: ERROR: 'let' is not supported by luatrace's bpftrace front end" },
  { "BEGIN { break; }", "stdin:1:9-14: ERROR: break outside of a loop" },
  { "i:s:0 { }", "stdin:1:1-6: ERROR: interval probes take interval:unit:N (unit: hz, s, ms, us, ns)" },
  { "s:nosuch:1 {}", "stdin:1:1-11: ERROR: unknown software event: nosuch" },
  { "u:nosuchlib:foo {}", "stdin:1:1-16: ERROR: library nosuchlib not found (give its path)" },
  { 'BEGIN { @ = kaddr("no_such_symbol_xx"); }', "stdin:1:19-38: ERROR: kaddr(): unknown kernel symbol no_such_symbol_xx" },
}

test("bpftrace errors: every bad program gives its located error", function()
  for _, c in ipairs(corpus) do
    local err = B.error_of(c[1])
    local lines = B.lines(err .. "\n")
    eq(lines[1], c[2], c[1])
    eq(lines[2], c[1], "the program's line")
    local col, col2 = c[2]:match("^stdin:%d+:(%d+)%-(%d+):")
    eq(lines[3], (" "):rep(col - 1) .. ("~"):rep(col2 - col), "the marker under " .. c[1])
  end
end)

test("bpftrace errors: a .bt file names its path and line", function()
  local path = unique_path("bad") .. ".bt"
  local fh = io.open(path, "w")
  fh:write("BEGIN {\n  @x = 1 +;\n}\n")
  fh:close()
  local out, err, code = sh(q(luatrace()) .. " " .. q(path))
  os.remove(path)
  eq(code, 1, "exit status")
  eq(out, "", "nothing on stdout (nothing attached)")
  -- (bpftrace 0.17 says 2:10-12 here: its columns after the first line
  -- are off by one; ours point at the ';')
  eq(err, path .. ":2:11-12: ERROR: syntax error, unexpected ;\n  @x = 1 +;\n          ~\n")
end)

test("bpftrace errors: the CLI exits 1 with the error and attaches nothing", function()
  for _, c in ipairs({ corpus[1], corpus[8], corpus[12], corpus[16] }) do
    local out, err, code = sh(q(luatrace()) .. " -e " .. q(c[1]))
    eq(code, 1, c[1])
    eq(out, "", "no 'Attaching' line for " .. c[1])
    eq(B.lines(err)[1], c[2])
  end
end)

test("bpftrace: -e chooses bpftrace by its first token, else Lua", function()
  local cli = require "luatrace.bpftrace.cli"
  for _, s in ipairs({ "BEGIN { }", "  END{}", "// c\nt:syscalls:sys_enter_read {}", "tracepoint:a:b /1/ {}",
      "u:libc:malloc {}", "#include <linux/fs.h>\nk:vfs_read {}", "interval:s:1 { exit(); }" }) do
    ok(cli.is_program(s), "bpftrace: " .. s)
  end
  for _, s in ipairs({ "print(1)", "t:foo()", "local k = 1", "profile = 1", "x:y()", "BEGINNER()" }) do
    ok(not cli.is_program(s), "Lua: " .. s)
  end
end)
