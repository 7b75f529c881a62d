-- The warm path of BPF{text=}: a text seen before finds its object by a
-- key over the text itself (obj/t-<key>.idx), without csource's transform
-- and without clang; the record types the transform learnt come back from
-- the index; an index whose object is gone falls back to a compile.
local core = require "luatrace.core"

-- The script disables the transform when its first argument is "notf", so
-- a run that still needs it fails; it prints whether the object came from
-- the cache and the pid of one typed getppid record read back.
local SCRIPT = [[
local lt = require "luatrace"
if arg[1] == "notf" then
  require("luatrace.csource").transform = function() error("transform ran", 0) end
end
local b = lt.BPF{text = [=[
struct ev_t { u32 pid; u32 magic; };
const volatile u32 target = 0;
BPF_RINGBUF_OUTPUT(ring, 4);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
	struct ev_t e = { .pid = lt_pid(), .magic = 4242 };
	if (e.pid != target) return 0;
	ring.ringbuf_output(&e, sizeof(e), 0);
	return 0;
}
/* ]=] .. (arg[2] or "") .. " */", globals = { target = lt.core.getpid() }}
local got
b.ring:open_ring_buffer(function(e) got = got or (e.pid .. " " .. e.magic) end)
require("ffi").cdef("int getppid(void);")
require("ffi").C.getppid()
b:ring_buffer_poll(1000)
print(b:cached(), got)
]]

local C = dofile(root .. "/tests/cache_helpers.lua")
local function setup() return C.setup(SCRIPT) end
local runs, run = C.runs, C.run

local function ls(dir, pattern)
  local p = io.popen("ls " .. q(dir) .. " 2>/dev/null")
  local out = {}
  for name in p:lines() do if name:match(pattern) then out[#out + 1] = name end end
  p:close()
  return out
end

-- what the script printed: cached or not, and its record (pid, magic)
local function check(out, cached, what)
  local c, pid, magic = out:match("^(%a+)\t(%d+) (%d+)\n$")
  eq(c, tostring(cached), what .. ": cached (output " .. out .. ")")
  ok(tonumber(pid) and tonumber(pid) > 1, what .. ": record's pid")
  eq(magic, "4242", what .. ": record decoded through the remembered type")
end

test("a known text skips the transform and clang; its record type comes from the index", function()
  local dir, log, wrapper, script = setup()
  local out, err, code = run(dir, wrapper, script)
  eq(code, 0, "first run: " .. err)
  check(out, false, "first run")
  local idx = ls(dir .. "/cache/obj", "^t%-%x+%.idx$")
  eq(#idx, 1, "one text index")
  local fh = io.open(dir .. "/cache/obj/" .. idx[1])
  local text = fh:read("*a"); fh:close()
  local oname = text:match("^(%x+%.o)\n")
  ok(oname and core.stat(dir .. "/cache/obj/" .. oname), "the index names an object in the cache")
  eq(text:match("\n(.*)$"), "ring\tstruct ev_t", "the record type of ring")
  local before = runs(log)
  out, err, code = run(dir, wrapper, script, "notf")
  eq(code, 0, "second run, transform disabled: " .. err)
  check(out, true, "second run")
  eq(runs(log), before, "no clang on a hit")
  -- a text never seen needs the transform: the disabled one says so
  out, err, code = run(dir, wrapper, script, "notf other")
  eq(code, 1, "a new text with the transform disabled fails")
  ok(err:find("transform ran", 1, true), "it reached the transform: " .. err)
  os.execute("rm -rf " .. q(dir))
end)

test("an index whose object is gone falls back to a compile", function()
  local dir, log, wrapper, script = setup()
  run(dir, wrapper, script)
  local idx = ls(dir .. "/cache/obj", "^t%-%x+%.idx$")[1]
  local fh = io.open(dir .. "/cache/obj/" .. idx)
  local oname = fh:read("*l"); fh:close()
  os.remove(dir .. "/cache/obj/" .. oname)
  local before = runs(log)
  local out, err, code = run(dir, wrapper, script)
  eq(code, 0, "rebuilt run: " .. err)
  check(out, false, "rebuilt run")
  eq(runs(log), before + 1, "clang ran once")
  out = run(dir, wrapper, script, "notf")
  check(out, true, "then found by its text again")
  os.execute("rm -rf " .. q(dir))
end)
