-- The console without a terminal: `luatrace -i` reads chunks from stdin
-- (no prompt), so it can be scripted; `luatrace < file` still runs stdin
-- as a script.

local function run(input, args)
  local f = unique_path("console-in")
  local fh = assert(io.open(f, "w"))
  fh:write(input)
  fh:close()
  local out, err, code = sh(("LUATRACE_HISTORY=/nonexistent %s %s < %s"):format(q(luatrace()), args or "-i", q(f)))
  os.remove(f)
  return out, err, code
end

test("-i from a pipe: expressions print, statements do not, chunks continue", function()
  local out, err, code = run([[
x = 20
x + 1
=x * 2, "s"
for i = 1,
  2 do io.write(i, " ") end
print()
{ a = { b = 1 } }
]])
  eq(err, "")
  eq(out, "21\n40\ts\n1 2 \n{ a = { b = 1 } }\n")
  eq(code, 0)
end)

test("-i from a pipe: an error prints one line, the next chunks run, exit 1", function()
  local out, err, code = run("nosuch()\nprint('after')\n")
  eq(out, "after\n")
  eq(err, "stdin:1: attempt to call global 'nosuch' (a nil value)\n")
  eq(code, 1)
end)

test("-i from a pipe: an incomplete last chunk is an error", function()
  local out, err, code = run("if true then\n")
  eq(out, "")
  eq(err, "stdin:1: 'end' expected near '<eof>'\n")
  eq(code, 1)
end)

test("exit(N) ends the console with N; .commands work", function()
  local out, _, code = run(".probes\nexit(3)\nprint('not reached')\n")
  eq(out, "nothing attached\n")
  eq(code, 3)
end)

test("-i script.lua: the script's globals stay for the console", function()
  local s = unique_path("console-script") .. ".lua"
  local fh = assert(io.open(s, "w"))
  fh:write("greeting = 'hello ' .. arg[1]\n")
  fh:close()
  local out, err, code = run("greeting\n", "-i " .. q(s) .. " world")
  os.remove(s)
  eq(err, "")
  eq(out, "hello world\n")
  eq(code, 0)
end)

test("-i -e CODE runs the code first", function()
  local out, _, code = run("y\n", "-i -e 'y = 7'")
  eq(out, "7\n")
  eq(code, 0)
end)

test("without -i, stdin is still a script", function()
  local out, _, code = run("x = 1\nx + 1\nprint(x)\n", "")
  eq(out, "")
  eq(code, 1) -- `x + 1` is no statement in a script
  out, _, code = run("print('script')\n", "")
  eq(out, "script\n")
  eq(code, 0)
end)

test(".probes in a scripted console lists each object and its links", function()
  local out, err, code = run([[
b = BPF{text = "BPF_ARRAY(a, u64, 1); TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { return 0; }"}
b:num_open_tracepoints()
.probes
]])
  eq(err, "")
  eq(out, "1\n[1] BPF BPF{text}: 1 attached\n    tracepoint:syscalls:sys_enter_getppid:tracepoint__syscalls__sys_enter_getppid\n")
  eq(code, 0)
end)

test("tools.NAME{opts} starts a tool; its lines print after each chunk; stop()", function()
  local path = unique_path("console-tool")
  local out, err, code = run(([[
r = tools.opensnoop{pid = lt.core.getpid()}
io.open(%q)
r:stop()
.probes
]]):format(path))
  eq(err, "")
  eq(code, 0)
  ok(out:find("^PID    COMM              FD ERR PATH\n"), "the header: " .. out)
  local p = path:gsub("%p", "%%%0")
  ok(out:find("\n%d+%s+luatrace%s+%-1%s+2 " .. p .. "\nnil\t" .. p .. ": No such file or directory\t2\n"),
    "the failed open, then the chunk's values: " .. out)
  ok(out:find("\nnothing attached\n$"), "stopped: " .. out)
end)

test("-i prog.bt: the bpftrace program runs first, its maps stay for the console", function()
  local s = unique_path("console-bt") .. ".bt"
  local fh = assert(io.open(s, "w"))
  fh:write('BEGIN { @n = 41 + $1; @h = hist(5); @h = hist(6); @h = hist(100); exit(); }\n')
  fh:close()
  local out, err, code = run('_bt.maps["@n"]\n.tools\n_bt.maps["@h"]\n_bt.maps["@h"][4]\n', "-i " .. q(s) .. " 1")
  os.remove(s)
  eq(err, "")
  ok(out:find("^Attaching 1 probe...\n"), out)
  ok(out:find("\n@n: 42\n", 1, true), out)
  ok(out:find("\n42\nTools (luatrace -m NAME", 1, true), "the map from Lua, then .tools: " .. out)
  -- a histogram prints as bpftrace draws it, and reads as a table
  ok(out:find("\n@h: \n[4, 8)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
    .. "[8, 16)                0 |                                                    |\n"
    .. "[16, 32)               0 |                                                    |\n"
    .. "[32, 64)               0 |                                                    |\n"
    .. "[64, 128)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n2\n", 1, true), out)
  eq(code, 0)
end)

test(".run FILE runs a script in the session; again, it reloads in place", function()
  local s = unique_path("console-run") .. ".lua"
  local fh = assert(io.open(s, "w"))
  fh:write('runs = (runs or 0) + 1\n'
    .. 'b = BPF{text = "TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { return 0; }"}\n'
    .. 'print("run " .. runs .. " " .. (...))\n')
  fh:close()
  local out, err, code = run((".run %s first\n.probes\n.run %s second\n.probes\nruns\n.run /nonexistent.lua\n"):format(s, s))
  os.remove(s)
  local link = "    tracepoint:syscalls:sys_enter_getppid:tracepoint__syscalls__sys_enter_getppid\n"
  eq(out, "run 1 first\n[1] BPF BPF{text}: 1 attached\n" .. link
    .. "closed 1 object of " .. s .. "'s last run\nrun 2 second\n[2] BPF BPF{text}: 1 attached\n" .. link
    .. "2\n")
  eq(err, "cannot open /nonexistent.lua: No such file or directory\n")
  eq(code, 1)
end)
