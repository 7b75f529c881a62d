-- luatrace.target's command line handling: words and quotes, PATH lookup.
local target = require "luatrace.target"

test("split: blanks separate words, quotes group them", function()
  local function s(cmd) return table.concat(assert(target.split(cmd)), "|") end
  eq(s("ls -l /tmp"), "ls|-l|/tmp")
  eq(s("  a   b\tc "), "a|b|c")
  eq(s([[sh -c 'echo $$; exit 3']]), "sh|-c|echo $$; exit 3")
  eq(s([[printf "%s\n" 'it''s']]), [[printf|%s\n|its]])
  eq(s([[a "" b]]), "a||b")
  local words, err = target.split("sh -c 'unterminated")
  eq(words, nil)
  eq(err, "unterminated quote")
end)

test("which: paths as given, names through PATH", function()
  eq(target.which("/bin/sh"), "/bin/sh")
  eq(target.which("/nonexistent/x"), nil)
  eq(target.which("/tmp"), nil, "a directory is no program")
  local p = target.which("sh")
  ok(p and p:match("/sh$"), tostring(p))
  eq(target.which("no-such-program-xyz"), nil)
  eq(target.which("/etc/passwd"), nil, "not executable")
end)
