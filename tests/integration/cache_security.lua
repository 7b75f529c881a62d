-- The compile cache as root meets other users (issue 8, item 1): every
-- directory from / to the cache is checked, nothing is created in a
-- directory another user owns, and clang works on the directories opened
-- and checked, so swapping a path after the check changes nothing.
local core = require "luatrace.core"

local USER = "luatrace-sec"

-- An ordinary user with a home of their own (created once).
local function user()
  if not core.stat("/home/" .. USER) then
    sh("useradd -m -s /bin/sh " .. USER)
  end
  local out = sh("id -u " .. USER)
  return assert(tonumber(out), "useradd " .. USER .. " failed")
end

local SCRIPT = [[
local b = require("luatrace").BPF{text = "BPF_ARRAY(a, u64, 1);\n"
  .. "TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { a.increment(0); return 0; }\n"
  .. "/* " .. (arg[1] or "") .. " */"}
print(b:cached())
]]

local function tmpdir()
  local dir = os.tmpname(); os.remove(dir)
  os.execute("mkdir -m 755 " .. q(dir))
  local fh = io.open(dir .. "/prog.lua", "w"); fh:write(SCRIPT); fh:close()
  return dir
end

local function run(env, script, extra)
  return sh(("env -u LUATRACE_CACHE_DIR -u XDG_CACHE_HOME %s %s %s %s"):format(
    env, q(luatrace()), q(script), extra or ""))
end

test("a cache below a directory another user owns is refused, nothing created there", function()
  local uid = user()
  local dir = tmpdir()
  os.execute(("mkdir -m 755 %s/u && chown %s %s/u"):format(q(dir), USER, q(dir)))
  local _, err, code = run("LUATRACE_CACHE_DIR=" .. q(dir .. "/u/cache"), dir .. "/prog.lua")
  eq(code, 1, "exit code")
  eq(err, ("luatrace: use compile cache %s/u/cache: %s/u is owned by uid %d, not by root "
    .. "or you (uid 0)\n"):format(dir, dir, uid))
  eq(core.stat(dir .. "/u/cache"), nil, "no cache created in the user's directory")
  os.execute("rm -rf " .. q(dir))
end)

test("a directory others can write, or another user's symlink, on the way is refused", function()
  user()
  local dir = tmpdir()
  os.execute(("mkdir -m 777 %s/w && chmod 777 %s/w"):format(q(dir), q(dir)))
  local _, err, code = run("LUATRACE_CACHE_DIR=" .. q(dir .. "/w/cache"), dir .. "/prog.lua")
  eq(code, 1)
  eq(err, ("luatrace: use compile cache %s/w/cache: %s/w is writable by others (mode 777)\n")
    :format(dir, dir))
  os.execute(("mkdir -m 755 %s/real && ln -s real %s/link && chown -h %s %s/link"):format(
    q(dir), q(dir), USER, q(dir)))
  _, err, code = run("LUATRACE_CACHE_DIR=" .. q(dir .. "/link/cache"), dir .. "/prog.lua")
  eq(code, 1)
  ok(err:find(("%s/link is a symbolic link owned by uid"):format(dir), 1, true), err)
  -- a symlink of our own on the way is followed (it cannot change under us)
  os.execute(("ln -s real %s/mylink"):format(q(dir)))
  local out
  out, err, code = run("LUATRACE_CACHE_DIR=" .. q(dir .. "/mylink/cache"), dir .. "/prog.lua")
  eq(code, 0, err)
  eq(out, "false\n")
  ok(core.stat(dir .. "/real/cache/obj"), "the cache is in the link's target")
  -- the cache directory itself as a symlink is refused
  os.execute(("ln -s real/cache %s/cachelink"):format(q(dir)))
  _, err, code = run("LUATRACE_CACHE_DIR=" .. q(dir .. "/cachelink"), dir .. "/prog.lua")
  eq(code, 1)
  eq(err, ("luatrace: use compile cache %s/cachelink: a symbolic link (refused for a "
    .. "private directory)\n"):format(dir))
  os.execute("rm -rf " .. q(dir))
end)

test("root with another user's HOME (sudo -E) uses its own home's cache, creates nothing there", function()
  user()
  local home = "/home/" .. USER
  os.execute("rm -rf " .. q(home .. "/.cache"))
  local dir = tmpdir()
  local out, err, code = run("HOME=" .. q(home), dir .. "/prog.lua")
  eq(code, 0, err)
  ok(out == "true\n" or out == "false\n", out)
  eq(core.stat(home .. "/.cache"), nil, "no ~/.cache made in the user's home")
  -- the same with XDG_CACHE_HOME pointing into the user's home
  out, err, code = sh(("env -u LUATRACE_CACHE_DIR XDG_CACHE_HOME=%s %s %s"):format(
    q(home .. "/.cache"), q(luatrace()), q(dir .. "/prog.lua")))
  eq(code, 0, err)
  eq(core.stat(home .. "/.cache"), nil, "nothing made for XDG_CACHE_HOME either")
  os.execute("rm -rf " .. q(dir))
end)

test("clang works on the checked directories: a cache path swapped mid-compile is not used", function()
  local dir = tmpdir()
  -- a clang that, before compiling, moves the cache away and puts another
  -- directory (with the same layout) in its place, as an attacker racing
  -- the check would
  local wrapper = dir .. "/clang-swap"
  local fh = io.open(wrapper, "w")
  fh:write(([[#!/bin/sh
if [ ! -e %s/swapped ]; then
  touch %s/swapped
  mv %s/cache %s/cache.real
  cp -a %s/cache.real %s/cache
  rm -f %s/cache/obj/*
fi
exec clang "$@"
]]):gsub("%%s", q(dir)))
  fh:close()
  os.execute("chmod 755 " .. q(wrapper))
  -- warm the PCH first so the swap happens before the program's compile
  local out, err, code = sh(("LUATRACE_CACHE_DIR=%s %s %s warm"):format(q(dir .. "/cache"),
    q(luatrace()), q(dir .. "/prog.lua")))
  eq(code, 0, err)
  out, err, code = sh(("LUATRACE_CACHE_DIR=%s LUATRACE_CLANG=%s %s %s swapped"):format(
    q(dir .. "/cache"), q(wrapper), q(luatrace()), q(dir .. "/prog.lua")))
  eq(code, 0, err)
  eq(out, "false\n")
  ok(core.stat(dir .. "/swapped"), "the wrapper swapped the directories")
  local swapped = sh("ls " .. q(dir .. "/cache/obj"))
  eq(swapped, "", "nothing written into the swapped-in directory")
  local real = sh("ls " .. q(dir .. "/cache.real/obj"))
  eq(select(2, real:gsub("%.o\n", "")), 4, "both objects (and their p- copies) in the checked one")
  os.execute("rm -rf " .. q(dir))
end)

test("cache objects are read through the fd: a symlinked or foreign object is not loaded", function()
  local dir = tmpdir()
  local env = "LUATRACE_CACHE_DIR=" .. q(dir .. "/cache")
  local out, err, code = run(env, dir .. "/prog.lua")
  eq(code, 0, err)
  local obj = sh("ls " .. q(dir .. "/cache/obj") .. "/[0-9a-f]*.o"):match("[^\n]+")
  os.execute(("mv %s %s/planted.o && ln -s %s/planted.o %s"):format(q(obj), q(dir), q(dir), q(obj)))
  out, err, code = run(env, dir .. "/prog.lua")
  eq(code, 0, err)
  eq(out, "false\n", "a symlink is not a cache hit")
  eq(core.stat(obj).link, false, "replaced by a real object")
  os.execute(("chown %s %s"):format(USER, q(obj)))
  out = run(env, dir .. "/prog.lua")
  eq(out, "false\n", "an object owned by another user is not a hit")
  os.execute("rm -rf " .. q(dir))
end)

test("a lazily typed program's instance comes from the bytes read once, not the path again", function()
  local dir = tmpdir()
  local script = dir .. "/lazy.lua"
  local fh = io.open(script, "w")
  fh:write([[
local lt = require "luatrace"
local ffi = require "ffi"
ffi.cdef "int getppid(void); int getpid(void);"
-- our own getppid calls only (other processes call it too)
local b = lt.BPF{text = ("BPF_ARRAY(n, u64, 1);\nint f(void *ctx) { if ((bpf_get_current_pid_tgid() >> 32) != %d) return 0; n.increment(0); return 0; }\n"):format(ffi.C.getpid())}
-- what an attacker swapping the file after the check would do
local o = io.open(b._path, "wb"); o:write("not an object"); o:close()
b:attach_tracepoint{tp = "syscalls:sys_enter_getppid", fn_name = "f"}
for _ = 1, 3 do ffi.C.getppid() end
print(b.n[0])
]])
  fh:close()
  local out, err, code = sh(("LUATRACE_CACHE_DIR=%s %s %s"):format(q(dir .. "/cache"), q(luatrace()), q(script)))
  eq(code, 0, err)
  eq(out, "3\n")
  os.execute("rm -rf " .. q(dir))
end)

test("clang is never run from a directory others can write (PATH or LUATRACE_CLANG)", function()
  local dir = tmpdir()
  os.execute(("mkdir -m 777 %s/bin && chmod 777 %s/bin"):format(q(dir), q(dir)))
  local fake = dir .. "/bin/clang"
  local fh = io.open(fake, "w")
  fh:write(("#!/bin/sh\ntouch %s/ran\nexec clang \"$@\"\n"):format(q(dir)))
  fh:close()
  os.execute("chmod 755 " .. q(fake))
  local out, err, code = sh(("PATH=%s:$PATH LUATRACE_CACHE_DIR=%s %s %s"):format(
    q(dir .. "/bin"), q(dir .. "/cache"), q(luatrace()), q(dir .. "/prog.lua")))
  eq(code, 0, err)
  eq(out, "false\n", "compiled by the real clang")
  eq(core.stat(dir .. "/ran"), nil, "the clang in a world-writable PATH entry did not run")
  _, err, code = sh(("LUATRACE_CLANG=%s LUATRACE_CACHE_DIR=%s %s %s other"):format(
    q(fake), q(dir .. "/cache"), q(luatrace()), q(dir .. "/prog.lua")))
  eq(code, 1)
  eq(err, ("luatrace: compile BPF program: refusing to run %s: %s/bin is "
    .. "writable by others (mode 777)\n"):format(fake, dir))
  eq(core.stat(dir .. "/ran"), nil, "nor as LUATRACE_CLANG")
  os.execute("rm -rf " .. q(dir))
end)

test("AOT objects are not taken from a directory others can write", function()
  local dir = tmpdir()
  os.execute(("mkdir -m 777 %s/bpf && chmod 777 %s/bpf && cp %s %s/bpf/"):format(
    q(dir), q(dir), q(build("bpf/syscount.bpf.o")), q(dir)))
  local _, err, code = sh(("LUATRACE_BPF_DIR=%s %s -e %s"):format(q(dir .. "/bpf"), q(luatrace()),
    q("require('luatrace').BPF{obj = 'syscount'}")))
  eq(code, 1)
  eq(err, ("luatrace: find BPF object syscount.bpf.o: refusing %s/bpf: %s/bpf is writable by "
    .. "others (mode 777)\n"):format(dir, dir))
  os.execute("chmod 755 " .. q(dir .. "/bpf"))
  local out
  out, err, code = sh(("LUATRACE_BPF_DIR=%s %s -e %s"):format(q(dir .. "/bpf"), q(luatrace()),
    q("print(require('luatrace').BPF{obj = 'syscount'}:num_open_tracepoints() > 0)")))
  eq(code, 0, err)
  eq(out, "true\n", "a safe directory is used")
  os.execute("rm -rf " .. q(dir))
end)
