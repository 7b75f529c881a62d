-- Symbols: kernel (kallsyms) and user (ELF + /proc/PID/maps, perf map).
local core = require "luatrace.core"
local sym = require "luatrace.sym"
local ffi = require "ffi"

test("ksym of a known kernel address, with offsets", function()
  local a = sym.ksymname("vfs_read")
  ok(a, "vfs_read has an address")
  ok(a > 0xffff000000000000ULL, "a kernel address (above 2^53: kept as uint64)")
  eq(select("#", sym.ksym(a)), 3)
  local name, off, mod = sym.ksym(a)
  eq(name, "vfs_read"); eq(off, 0); eq(mod, "kernel")
  local name2, off2 = sym.ksym(a + 5)
  eq(name2, "vfs_read"); eq(off2, 5)
  eq(sym.format(name2, off2, mod, { show_offset = true, show_module = true }),
    "vfs_read+0x5 [kernel]")
  eq(sym.ksymname("no_such_kernel_symbol_xyz"), nil)
end)

test("ksym agrees with /proc/kallsyms: every 97th symbol, module names; __pfx_ padding is left out", function()
  local lines, pfx = {}, nil
  for l in io.lines("/proc/kallsyms") do
    local addr, name, mod = l:match("^(%x+) [tTwW] (%S+)%s*%[?([^%]]*)")
    if addr and name:find("^__pfx_") then pfx = pfx or { addr = addr, name = name:sub(7) }
    -- BPF programs and trampolines come and go (the table is read once
    -- per process): only vmlinux and modules
    elseif addr and not mod:find("^bpf") and not mod:find("^__builtin") then lines[#lines + 1] = { addr = addr, name = name, mod = mod ~= "" and mod or "kernel" } end
  end
  local checked = 0
  for i = 1, #lines, 97 do
    local l = lines[i]
    local a = ffi.cast("uint64_t", tonumber(l.addr:sub(1, 8), 16)) * 2^32 + tonumber(l.addr:sub(9), 16)
    -- aliases share an address: the name is one of them, at offset 0
    local name, off, mod = sym.ksym(a)
    eq(off, 0, l.name .. " at offset 0")
    ok(name == l.name or sym.ksymname(name) == a, ("%s: got %s"):format(l.name, tostring(name)))
    eq(mod, l.mod, "module of " .. l.name)
    checked = checked + 1
  end
  ok(checked > 100, "symbols checked: " .. checked)
  if pfx then
    eq(sym.ksymname("__pfx_" .. pfx.name), nil, "no __pfx_ symbol by name")
    local a = sym.ksymname(pfx.name)
    if a then ok(select(1, sym.ksym(a - 1)) ~= "__pfx_" .. pfx.name, "the padding is not named __pfx_") end
  end
end)

test("sym of a function in a running test program", function()
  local path = test_prog("lt_target")
  local p = io.popen("exec " .. q(path) .. " wait 3")
  local line = p:read("*l")
  local pid, addr = line:match("^(%d+) (0x%x+)$")
  pid = tonumber(pid)
  local name, off, mod = sym.usym(addr, pid)
  local name2, off2 = sym.usym(ffi.cast("uint64_t", tonumber(addr)) + 3, pid)
  sym.forget(pid)
  os.execute("kill " .. pid)
  p:close()
  eq(name, "lt_target_add"); eq(off, 0)
  eq(mod, path)
  eq(name2, "lt_target_add"); eq(off2, 3)
end)

test("sym of a libc function in this process", function()
  getppid_calls(0) -- declares getppid (tests/helpers.lua)
  local a = ffi.cast("uint64_t", ffi.cast("void *", ffi.C.getppid))
  local name, _, mod = sym.usym(a, core.getpid())
  sym.forget(core.getpid())
  ok(name == "getppid" or name == "__getppid", "name " .. tostring(name))
  ok(mod:find("libc", 1, true), "module " .. tostring(mod))
end)

test("perf-PID.map names JIT code in anonymous mappings", function()
  local pid = core.getpid()
  -- LuaJIT's machine code lives in anonymous executable mappings; a hot
  -- loop makes sure one exists.
  local x = 0
  for i = 1, 10000 do x = x + i end
  local start
  local fh = io.open("/proc/self/maps")
  local maps = fh:read("*a")
  fh:close()
  for l in maps:gmatch("[^\n]+") do
    local s, perms, rest = l:match("^(%x+)%-%x+ (%S+) %x+ %S+ %d+%s*(.*)$")
    if s and perms:sub(3, 3) == "x" and rest == "" then start = s; break end
  end
  if not start then skip("no anonymous executable mapping (JIT off?)") end
  local f = ("/tmp/perf-%d.map"):format(pid)
  local fh = io.open(f, "w")
  fh:write(("%s 100 jitted_fn\n"):format(start))
  fh:close()
  sym.forget(pid)
  local name, off, mod = sym.usym(tonumber(start, 16) + 0x10, pid)
  sym.forget(pid)
  os.remove(f)
  eq(name, "jitted_fn"); eq(off, 0x10); eq(mod, f)
  eq(sym.format(name, off, mod, { show_offset = true, show_module = true }),
    ("jitted_fn+0x10 [perf-%d.map]"):format(pid))
end)

test("an exited process is a clear error", function()
  raises(function() core.usyms(999999999) end,
    "read memory maps of process 999999999: No such file or directory (the process has exited)")
end)
