-- cachestat and oomkill trace kernel functions: here (no kprobes, no
-- fentry) each refuses with one clear line and exit 1, attaching nothing;
-- tests/vm/cases/tools_mem.lua runs them for real on stock kernels.
local lt = require "luatrace"

local function without_kernel_functions()
  if lt.has_kprobes() or lt.has_fentry() then
    skip("this kernel has kprobes or fentry (tests/vm/cases/tools_mem.lua runs the tools)")
  end
end

test("cachestat without fentry or kprobes: one clear line, exit 1", function()
  without_kernel_functions()
  local out, err, code = sh(q(luatrace()) .. " -m cachestat 1 1")
  eq(code, 1); eq(out, "")
  eq(err, "luatrace: cachestat: needs fentry or kprobes on the page cache functions (filemap_add_folio, "
    .. "folio_mark_accessed, ...), which this kernel lacks (no tracepoint counts cache hits; "
    .. "run it on a kernel with kprobes)\n")
end)

test("oomkill without fentry or kprobes: one clear line with the tracepoint alternative, exit 1", function()
  without_kernel_functions()
  local out, err, code = sh(q(luatrace()) .. " -m oomkill")
  eq(code, 1); eq(out, "")
  eq(err, "luatrace: oomkill: needs fentry or kprobes on oom_kill_process, which this kernel lacks "
    .. "(the oom:mark_victim tracepoint names the victim only: luatrace -e 'tracepoint:oom:mark_victim "
    .. "{ printf(\"OOM kill of PID %d (%s)\\n\", args->pid, str(args->comm)); }')\n")
end)

test("cachestat and oomkill usage: libbpf-tools' flags, unknown ones refused (exit 2)", function()
  local out, _, code = sh(q(luatrace()) .. " -m cachestat -h")
  eq(code, 0)
  ok(out:find("\n  -T, --timestamp ", 1, true), out)
  ok(out:find("\n  interval ", 1, true) and out:find("\n  count ", 1, true), out)
  local _, err
  _, err, code = sh(q(luatrace()) .. " -m cachestat -x")
  eq(code, 2); eq(err:match("^[^\n]*"), "luatrace: cachestat: unknown option -x")
  _, err, code = sh(q(luatrace()) .. " -m oomkill 5")
  eq(code, 2); eq(err:match("^[^\n]*"), "luatrace: oomkill: unexpected argument 5")
end)
