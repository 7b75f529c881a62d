-- luatrace compile: objects built for a target kernel's BTF are used on the
-- target without clang. Here the target is this kernel itself.
local core = require "luatrace.core"

test("compile --btf fills a cache that a machine without clang uses", function()
  local dir = os.tmpname(); os.remove(dir)
  os.execute("mkdir -m 700 " .. q(dir))
  local src = dir .. "/count.bpf.c"
  local fh = io.open(src, "w")
  fh:write("BPF_ARRAY(n, u64, 1);\nconst volatile int target_pid = 0;\n"
    .. "TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {\n"
    .. "\tif (lt_pid() == target_pid) n.increment(0);\n\treturn 0;\n}\n")
  fh:close()
  local out, err, code = sh(("%s compile --btf /sys/kernel/btf/vmlinux --cache %s %s"):format(
    q(luatrace()), q(dir .. "/cache"), q(src)))
  eq(code, 0, "compile: " .. err)
  ok(out:find("^" .. src:gsub("%p", "%%%0") .. " %-> " .. dir:gsub("%p", "%%%0") .. "/cache/obj/%x+%.o %(kernel %x+%)\n$"), out)
  -- the "target": no clang at all, the cache from the build host
  local script = dir .. "/run.lua"
  fh = io.open(script, "w")
  fh:write(([[
local lt = require "luatrace"
local b = lt.BPF{src_file = %q, globals = { target_pid = lt.core.getpid() }}
local ffi = require "ffi"
ffi.cdef "int getppid(void);"
for _ = 1, 5 do ffi.C.getppid() end
print(b:cached(), b.n[0])
]]):format(src))
  fh:close()
  out, err, code = sh(("LUATRACE_CLANG=/nonexistent/clang LUATRACE_CACHE_DIR=%s %s %s"):format(
    q(dir .. "/cache"), q(luatrace()), q(script)))
  eq(code, 0, "target run: " .. err)
  eq(out, "true\t5\n")
  -- a text the build host did not compile still needs clang there
  fh = io.open(src, "a"); fh:write("/* changed */\n"); fh:close()
  _, err, code = sh(("LUATRACE_CLANG=/nonexistent/clang LUATRACE_CACHE_DIR=%s %s %s"):format(
    q(dir .. "/cache"), q(luatrace()), q(script)))
  eq(code, 1)
  ok(err:find("compile BPF program: /nonexistent/clang not found", 1, true), err)
  os.execute("rm -rf " .. q(dir))
end)

test("compile usage errors", function()
  local _, err, code = sh(q(luatrace()) .. " compile --bogus")
  eq(code, 1)
  eq(err, "luatrace: compile: unknown option --bogus (usage: luatrace compile --btf VMLINUX "
    .. "[--cache DIR] [--fentry] [-DNAME=V]... FILE.c...)\n")
  _, err = sh(q(luatrace()) .. " compile")
  eq(err, "luatrace: compile: usage: luatrace compile --btf VMLINUX [--cache DIR] [--fentry] "
    .. "[-DNAME=V]... FILE.c...\n")
end)

test("kernel function suggestions: near misses first", function()
  local s = core.ksym_suggest("vfs_reed")
  eq(s:match("^[^,]+"), "vfs_read")
  eq(core.ksym_suggest("zzzzqqqq_nothing_like_it"), "")
end)
