-- Errors as the command line shows them (issue 8, items 17 and 18): a -e
-- chunk's compile error names its line and quotes it; a stack overflow is
-- reported as such, with -v too.

test("a -e chunk's compile error names the chunk's line and quotes it", function()
  local chunk = 'local lt = require "luatrace"\nlt.BPF{text = [[\n'
    .. 'TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {\n  return nope;\n}\n]]}'
  local out, err, code = sh(("%s -e %s"):format(q(luatrace()), q(chunk)))
  eq(code, 1)
  eq(out, "")
  eq(err, "luatrace: (command line):4: compile BPF program: use of undeclared identifier "
    .. "'nope' (in: return nope;)\n")
end)

test("a stack overflow is reported as such, with its place, also under -v", function()
  local chunk = "local function f(n) return 1 + f(n + 1) end\nf(1)"
  local _, err, code = sh(("%s -e %s"):format(q(luatrace()), q(chunk)))
  eq(code, 1)
  eq(err, "luatrace: (command line):1: stack overflow\n")
  -- under -v the traceback handler may itself find the stack full: then
  -- the message still says what happened
  _, err, code = sh(("%s -v -e %s"):format(q(luatrace()), q(chunk)))
  eq(code, 1)
  local first = err:match("^[^\n]*")
  if first == "luatrace: (command line):1: stack overflow" then
    ok(err:find("\nstack traceback:\n", 1, true), "-v adds the traceback")
  else
    eq(err, "luatrace: stack overflow (too deep to show a traceback; run without -v to see where)\n")
  end
end)
