-- tests/helpers.lua: assertions and fixtures shared by the test files
-- (the runner puts every field of this table in each test file's scope).
local core = require "luatrace.core"
local ffi = require "ffi"

local H = {}

-- A cheap syscall no other part of the tests makes: a precise trigger.
ffi.cdef [[ int getppid(void); ]]
function H.getppid_calls(n)
  for _ = 1, n do ffi.C.getppid() end
end

local function fmt(v)
  if type(v) == "string" then return ("%q"):format(v) end
  return tostring(v)
end

function H.eq(got, want, what)
  if got ~= want then
    error(("%sexpected %s, got %s"):format(what and (what .. ": ") or "",
      fmt(want), fmt(got)), 2)
  end
end

function H.ok(cond, what)
  if not cond then error("assertion failed: " .. (what or "?"), 2) end
  return cond
end

-- Call fn, which must raise an error matching every (plain) fragment.
function H.raises(fn, ...)
  local ok, err = pcall(fn)
  if ok then error("expected an error, none was raised", 2) end
  err = tostring(err)
  for _, frag in ipairs({ ... }) do
    if not err:find(frag, 1, true) then
      error(("error %q does not contain %q"):format(err, frag), 2)
    end
  end
  return err
end

-- Build products of the source tree.
function H.build(rel) return H.root .. "/build/" .. rel end
function H.test_obj(name) return H.build("tests/" .. name .. ".bpf.o") end
function H.test_prog(name) return H.build("tests/" .. name) end

-- Open, set target_pid to ours (when the object has it), and load.
function H.load(name, globals)
  local o = core.open_file(H.test_obj(name))
  for k, v in pairs(globals or { target_pid = core.getpid() }) do
    o:set_global(k, v)
  end
  o:load()
  return o
end

-- A file name nobody else will open.
local counter = 0
function H.unique_path(tag)
  counter = counter + 1
  return ("/tmp/luatrace-test-%d-%s-%d"):format(core.getpid(), tag, counter)
end

-- openat(2) on a path, whether or not it exists.
function H.touch_open(path)
  local f = io.open(path, "r")
  if f then f:close() end
end

-- Run a shell command; returns stdout, stderr, exit code.
function H.sh(cmd)
  local out, err = os.tmpname(), os.tmpname()
  local p = io.popen(("(%s) >%s 2>%s; echo $?"):format(cmd, out, err))
  local code = tonumber(p:read("*a"))
  p:close()
  local function slurp(f)
    local fh = io.open(f); local s = fh:read("*a"); fh:close(); os.remove(f)
    return s
  end
  return slurp(out), slurp(err), code
end

-- The luatrace binary under test, and a shell-quoted form.
function H.luatrace() return core.exe_path() end

function H.q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- Count records drained from a channel, passing each (typed) to fn.
function H.drain(chan, ptrtype, fn)
  return require("luatrace.events").drain_all(chan, ptrtype, fn or function() end)
end

-- Value at an array map index as a Lua number.
function H.array_value(obj, mapname, idx)
  local maps = require "luatrace.maps"
  local m = obj:map(mapname)
  local kt, vt = maps.key_value_types(obj, m)
  local v = m:lookup(maps.bytes(kt, idx))
  return maps.decode(vt, v, #v)
end

-- trace_pipe takes one reader at a time (the kernel answers EBUSY to the
-- others, e.g. a test run of another worktree): open b's, waiting for our
-- turn. Reads (and drops) at most one pending line.
function H.open_trace_pipe(b)
  local deadline = core.monotonic_ns() + 30e9
  while true do
    local opened, err = pcall(b.trace_fields, b, { nonblocking = true })
    if opened then return end
    if not tostring(err):find("busy", 1, true) or core.monotonic_ns() > deadline then
      error(err, 0)
    end
    core.sleep(50)
  end
end

-- How many perf event and BPF link fds this process holds (probes left
-- attached: close_links, attach_uprobes, bt_api, the VM's kprobes).
function H.probe_fds()
  local n = 0
  for _, target in pairs(core.open_fds()) do
    if target == "anon_inode:[perf_event]" or target == "anon_inode:bpf_link" then n = n + 1 end
  end
  return n
end

-- memleak in kernel mode while this process holds n pipes open: the
-- allocations from alloc_pipe_info it reports while they are open, and
-- after they are closed (tool_memleak.lua, tests/vm/cases/tools_mem.lua).
function H.memleak_pipes(n)
  pcall(ffi.cdef, "int pipe(int fds[2]); int close(int fd);")
  local ml = require("luatrace.tool").load("memleak")
  local running = ml.start(ml.parse{ "-o", "0", "-T", "100000" })
  local fds = ffi.new("int[?]", 2 * n)
  for i = 0, n - 1 do assert(ffi.C.pipe(fds + 2 * i) == 0) end
  local function pipe_allocs()
    local count = 0
    for _, s in ipairs(running.report()) do
      for _, f in ipairs(s.frames) do
        if f:match("^%d+ %[<%x+>%] alloc_pipe_info%+0x%x+$") then count = count + s.count; break end
      end
    end
    return count
  end
  local held = pipe_allocs()
  for i = 0, 2 * n - 1 do ffi.C.close(fds[i]) end
  local after = pipe_allocs()
  running:stop()
  return held, after
end

return H
