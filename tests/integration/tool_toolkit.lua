-- luatrace.toolkit: the shared option parser and the -m front door
-- (listing, usage errors, -h) of every tool.
local toolkit = require "luatrace.toolkit"
local LT = luatrace()

local def = {
  name = "demo", description = "A demo tool",
  options = {
    toolkit.opt.pid, toolkit.opt.timestamp, toolkit.opt.failed,
    { "-n", "--name", type = "string", help = "name" },
    { "-m", "--max", type = "uint", default = 10, help = "max" },
    { "-v", "--verbose", type = "count", help = "more" },
    toolkit.opt.interval, toolkit.opt.count,
  },
}

test("parser: short, bundled, long, --x=v, positionals, defaults", function()
  local o = assert(toolkit.parse(def, { "-p", "42", "-tx", "--name=bash", "-m5", "-vv", "2", "3" }))
  eq(o.pid, 42); eq(o.timestamp, true); eq(o.failed, true); eq(o.name, "bash")
  eq(o.max, 5); eq(o.verbose, 2); eq(o.interval, 2); eq(o.count, 3); eq(o.json, nil)
  o = assert(toolkit.parse(def, { "--pid", "7", "--json" }))
  eq(o.pid, 7); eq(o.max, 10, "default"); eq(o.json, true); eq(o.interval, nil)
end)

test("parser: errors name the tool, the flag and what was expected", function()
  local function err(argv) return select(2, toolkit.parse(def, argv)) end
  eq(err({ "--bogus" }), "demo: unknown option --bogus")
  eq(err({ "-q" }), "demo: unknown option -q")
  eq(err({ "-p" }), "demo: option -p needs a value")
  eq(err({ "-p", "0" }):match("^demo: %-p 0: expected a process id %(1%.%.%d+%)$") ~= nil, true)
  eq(err({ "-p", "99999999" }):match("expected a process id") ~= nil, true)
  eq(err({ "--max=-1" }), "demo: --max -1: expected a whole number >= 0")
  eq(err({ "--failed=yes" }), "demo: option --failed takes no value")
  eq(err({ "1", "2", "3" }), "demo: unexpected argument 3")
  eq(err({ "0" }), "demo: interval 0: expected a number > 0")
end)

test("usage lists every option, positionals and --json/-h", function()
  local u = toolkit.usage(def)
  ok(u:find("^usage: luatrace %-m demo %[options%] %[interval %[count%]%]\n\nA demo tool\n"), u)
  ok(u:find("\n  %-p, %-%-pid PID +trace this PID only\n"), u)
  ok(u:find("\n  %-m, %-%-max MAX +max %(default 10%)\n"), u)
  ok(u:find("\n  %-%-json +print JSON lines"), u)
  ok(u:find("\n  %-h, %-%-help +show this help and exit\n"), u)
end)

test("luatrace -m lists the tools with their descriptions", function()
  local out, err, code = sh(q(LT) .. " -m")
  eq(code, 0, "exit code"); eq(err, "")
  ok(out:find("^Tools %(luatrace %-m NAME"), out)
  ok(out:find("\n  syscount +Count system calls by name or process"), out)
end)

test("luatrace -m nosuch: exit 2, the list on stderr", function()
  local out, err, code = sh(q(LT) .. " -m nosuch")
  eq(code, 2, "exit code"); eq(out, "")
  ok(err:find("^luatrace: run tool nosuch: no such tool\nTools "), err)
  ok(err:find("\n  syscount "), err)
end)

test("luatrace -m syscount --bogus: exit 2 with the usage; -h: exit 0", function()
  local out, err, code = sh(q(LT) .. " -m syscount --bogus")
  eq(code, 2, "exit code"); eq(out, "")
  ok(err:find("^luatrace: syscount: unknown option %-%-bogus\nusage: luatrace %-m syscount %[options%]\n"), err)
  out, err, code = sh(q(LT) .. " -m syscount -h")
  eq(code, 0, "exit code"); eq(err, "")
  ok(out:find("^usage: luatrace %-m syscount"), out)
end)
