-- The test runner's per-test timeout: a hanging test fails as timed out
-- and the run goes on (tests/fixtures/hang.lua).
test("a hanging test times out and the next one runs", function()
  local out, _, code = sh(("cd %s && LUATRACE_TEST_TIMEOUT=2 %s tests/run.lua tests/fixtures/hang.lua")
    :format(q(root), q(luatrace())))
  ok(out:find("FAIL  fixtures/hang: hangs in a wait\n      timed out after 2 s (LUATRACE_TEST_TIMEOUT)", 1, true), out)
  ok(out:find("FAIL  fixtures/hang: hangs in Lua code\n      timed out after 2 s", 1, true), out)
  ok(out:find("ok    fixtures/hang: the next test still runs", 1, true), out)
  ok(out:find("1 passed, 2 failed, 0 skipped\n$"), out)
  eq(code, 1)
end)
