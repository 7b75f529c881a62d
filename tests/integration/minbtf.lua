-- Minimized kernel BTF (host/btf_min.c, luatrace.bpf.minbtf): the types an
-- object's CO-RE relocations need, byte for byte what Debian's bpftool
-- (`gen min_core_btf`, a declared dependency) makes for the same object;
-- BPF{obj=} loads against it from the cache without libbpf reading the
-- kernel's BTF; an unusable cache falls back to the kernel's BTF.
local core = require "luatrace.core"

local function read(path)
  local fh = assert(io.open(path, "rb"))
  local s = fh:read("*a")
  fh:close()
  return s
end

-- Field relocations through anonymous members and arrays (biosnoop,
-- runqlat, tcplife), bitfields and enums (runqlen, execsnoop), plain
-- tracepoint records (opensnoop).
local OBJECTS = { "opensnoop", "execsnoop", "runqlat", "runqlen", "biosnoop", "tcplife" }

test("core.btf_min: the same bytes as bpftool gen min_core_btf, object by object", function()
  local dir = unique_path("minbtf")
  assert(os.execute("mkdir -p " .. q(dir)))
  for _, name in ipairs(OBJECTS) do
    local obj = build("bpf/" .. name .. ".bpf.o")
    local want = dir .. "/" .. name .. ".btf"
    local _, err, code = sh(("bpftool gen min_core_btf /sys/kernel/btf/vmlinux %s %s"):format(q(want), q(obj)))
    eq(code, 0, "bpftool on " .. name .. ": " .. err)
    local got = core.btf_min(read(obj))
    ok(type(got) == "string" and #got > 24, name .. ": a BTF with types")
    eq(got == read(want), true, name .. ": same bytes as bpftool (" .. #got .. " vs " .. #read(want) .. ")")
  end
  os.execute("rm -rf " .. q(dir))
end)

test("core.btf_min: an object without CO-RE relocations needs none (false)", function()
  eq(core.btf_min(read(build("bpf/funccount_tp.bpf.o"))), false)
  eq(core.btf_min(read(build("bpf/funccount_tp.bpf.o")), "/sys/kernel/btf/vmlinux"), false)
  raises(function() core.btf_min("not an object") end, "minimize BTF for BPF object: ")
end)

-- Load opensnoop's object verbosely in a child with its own cache
-- directory; returns the child's stderr and exit code.
local SCRIPT = [[
local lt = require "luatrace"
lt.core.set_verbose(true)
lt.BPF{ obj = "opensnoop" }:cleanup()
]]
local function load_verbose(cache, env)
  local script = unique_path("minbtf") .. ".lua"
  local fh = assert(io.open(script, "w")); fh:write(SCRIPT); fh:close()
  local _, err, code = sh(("env LUATRACE_CACHE_DIR=%s %s %s %s"):format(q(cache), env or "", q(luatrace()), q(script)))
  os.remove(script)
  return err, code
end

test("BPF{obj=}: loads against the cached minimized BTF, not the kernel's", function()
  local cache = unique_path("cache")
  local err, code = load_verbose(cache) -- a miss: btf_min reads the kernel BTF once
  eq(code, 0, err)
  err, code = load_verbose(cache) -- a hit: nothing reads it
  eq(code, 0, err)
  ok(not err:find("loading kernel BTF", 1, true), "libbpf read the kernel BTF on a cache hit")
  local list = sh("cd " .. q(cache .. "/btf") .. " && ls *.btf") -- (features-KEY: bpf/features.lua)
  ok(list:match("^%x+%.btf\n$"), "one cached BTF: " .. list)
  eq(#read(cache .. "/btf/" .. list:match("%S+")), #core.btf_min(read(build("bpf/opensnoop.bpf.o"))))
  err = load_verbose(cache, "LUATRACE_MIN_BTF=0")
  ok(err:find("loading kernel BTF '/sys/kernel/btf/vmlinux'", 1, true), "LUATRACE_MIN_BTF=0 reads the kernel BTF")
  os.execute("rm -rf " .. q(cache))
end)

test("BPF{obj=}: an unusable cache directory falls back to the kernel's BTF", function()
  local cache = unique_path("opencache")
  assert(os.execute("mkdir -m 0777 " .. q(cache)))
  local err, code = load_verbose(cache)
  eq(code, 0, err)
  ok(err:find("loading kernel BTF", 1, true), "fell back to the kernel BTF")
  os.execute("rm -rf " .. q(cache))
end)

test("core.btf_min: a type vmlinux lacks, or a kernel type id, keeps the kernel's BTF (false)", function()
  local BPF = require("luatrace").BPF
  local _, _, _, bytes = BPF.build([[
struct lt_minbtf_absent { int a; int b; };
BPF_ARRAY(seen, u64, 1);
SEC("tracepoint/syscalls/sys_enter_getppid")
int probe(void *ctx) {
	struct lt_minbtf_absent *p = 0;
	if (bpf_core_field_exists(p->b)) seen.increment(0);
	return 0;
}
]], { file = "minbtf_absent.c", line = 1 })
  eq(core.btf_min(bytes), false)
  -- a kernel type id must be vmlinux's own: not minimized either
  _, _, _, bytes = BPF.build([[
BPF_ARRAY(seen, u64, 1);
SEC("tracepoint/syscalls/sys_enter_getppid")
int probe(void *ctx) {
	if (bpf_core_type_id_kernel(struct task_struct) > 0) seen.increment(0);
	return 0;
}
]], { file = "minbtf_typeid.c", line = 1 })
  eq(core.btf_min(bytes), false)
  -- the control: the same program on a type vmlinux has is minimized
  _, _, _, bytes = BPF.build([[
BPF_ARRAY(seen, u64, 1);
SEC("tracepoint/syscalls/sys_enter_getppid")
int probe(void *ctx) {
	struct task_struct *p = 0;
	if (bpf_core_field_exists(p->pid)) seen.increment(0);
	return 0;
}
]], { file = "minbtf_present.c", line = 1 })
  local raw = core.btf_min(bytes)
  ok(type(raw) == "string" and raw:find("task_struct", 1, true) and raw:find("pid", 1, true), "task_struct.pid kept")
end)
