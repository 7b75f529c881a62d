-- The console's parts without a terminal: what a chunk is, how values
-- print, what Tab offers.
local eval = require "luatrace.console.eval"
local show = require "luatrace.console.show"
local complete = require "luatrace.console.complete"
local lt = require "luatrace"

test("a chunk is an expression, statements, incomplete, bpftrace or an error", function()
  eq(select(1, eval.parse("1 + 1")), "lua")
  eq(select(3, eval.parse("1 + 1")), true, "an expression")
  eq(select(3, eval.parse("x = 1")), false, "a statement")
  eq(select(3, eval.parse("=x")), true, "lua.c's =expr")
  eq(eval.parse("for i = 1, 3 do"), "incomplete")
  eq(eval.parse("x = {"), "incomplete")
  eq(eval.parse("x = [[abc"), "incomplete")
  eq(eval.parse("if true then", true), "error", "no more input")
  local kind, msg = eval.parse("x = = 1")
  eq(kind, "error")
  eq(msg, "stdin:1: unexpected symbol near '='")
  eq(eval.parse("t:syscalls:sys_enter_openat { @[comm] = count(); }"), "bpftrace")
  eq(eval.parse([[BEGIN { printf("hi\n"); exit(); }]]), "bpftrace", "valid Lua too, bpftrace as for -e")
  eq(eval.parse("BEGIN"), "incomplete", "the brace comes on the next line")
  eq(eval.parse("k:vfs_read {"), "incomplete")
  eq(eval.parse("k:vfs_read { @ = count(); /* } */"), "incomplete", "braces in comments do not count")
  eq(eval.parse('k:vfs_read { printf("}"); '), "incomplete", "braces in strings do not count")
  eq(select(1, eval.parse("t:items()")), "lua", "a method call on t stays Lua")
  eq(select(1, eval.parse("p:run{}")), "bpftrace", "as -e decides")
end)

test("a chunk runs with the JIT off for its own functions; errors are one line", function()
  local _, fn = eval.parse("(function() return 6 * 7 end)()")
  local r = { eval.call(fn) }
  eq(r[1], true)
  eq(r[2], 1)
  eq(r[3], 42)
  local _, bad = eval.parse("error('boom')")
  r = { eval.call(bad) }
  eq(r[1], false)
  eq(r[2], "stdin:1: boom")
  eq(r[3], false, "not an interrupt")
end)

test("values print as Lua, sorted and bounded", function()
  eq(show.text("top"), "top", "a string at the top is itself")
  eq(show.text({ "a", 1, true }), [[{ "a", 1, true }]])
  eq(show.text({ b = 1, a = { 2 }, [3.5] = "x" }), [[{ [3.5] = "x", a = { 2 }, b = 1 }]])
  local t = {}
  t.self = t
  eq(show.text(t), "{ self = <cycle> }")
  eq(show.text({}), "{}")
  eq(show.text(require("ffi").new("uint64_t", 18446744073709551615ULL)), "18446744073709551615")
  eq(show.text({ n = -5LL }), "{ n = -5 }")
  local long = {}
  for i = 1, 30 do long["key" .. i] = i end
  ok(show.text(long):find("^{\n  key1 = 1,\n  key10 = 10,\n"), "one entry a line when long")
  eq(show.text(setmetatable({}, { __show = function() return "shown" end })), "shown")
  local many = {}
  for i = 1, 150 do many[i] = i end
  ok(show.text(many):find("... 50 more", 1, true), "bounded")
end)

test("Tab: Lua names, fields and methods; keywords", function()
  local list, word = complete.candidates("string.for")
  eq(word, "for")
  eq(table.concat(list, ","), "format")
  eq((complete.line("string.for")), "mat")
  eq((complete.line("whil")), "e")
  _G.__console_test = { alpha = 1, alps = 2, beta = function() end }
  eq((complete.line("__console_test.al")), "p", "the common part first")
  list = complete.candidates("__console_test.alp")
  eq(table.concat(list, ","), "alpha,alps")
  local _, shown = complete.line("__console_test.alp")
  eq(shown, "alpha  alps\n", "listed when nothing can be added")
  eq(table.concat((complete.candidates("__console_test:")), ","), "beta", "methods after ':'")
  _G.__console_test = nil
end)

test("Tab: probe names in strings and on bpftrace lines", function()
  eq((complete.line('b:attach_tracepoint{tp = "syscalls:sys_enter_getpp')), 'id"')
  eq((complete.line("t:syscalls:sys_enter_getpp")), "id ")
  eq((complete.line("tracepoint:syscalls:sys_enter_getpp")), "id ")
  local list = complete.candidates("t:sched:sched_wak")
  ok(#list >= 2, "several sched_wak* tracepoints")
  for _, c in ipairs(list) do ok(c:find("^t:sched:sched_wak"), c) end
end)

test("Tab in named arguments: fn_name= the object's programs, sym= the library's functions", function()
  _G.__console_b = lt.BPF{text = "TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { return 0; } "
    .. "int on_exec(void *ctx) { return 0; }"}
  eq((complete.line('__console_b:attach_tracepoint{tp = "syscalls:sys_enter_getpid", fn_name = "on_')), 'exec"')
  eq((complete.line('__console_b:attach_uprobe{name = "c", sym = "malloc_st')), 'ats"')
  local list = complete.candidates('x:attach_uprobe{name = "c", sym = "mallo')
  ok(#list >= 3, "malloc and its neighbours")
  __console_b:close()
  _G.__console_b = nil
end)
