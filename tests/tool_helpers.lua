-- tests/tool_helpers.lua: run a tool (ours or a peer's binary) in the
-- background around a workload, for tests/integration/tool_*.lua.
local core = require "luatrace.core"
local H = require "helpers"
local ffi = require "ffi"
pcall(ffi.cdef, "int kill(int pid, int sig);")

local T = {}

local function slurp(f)
  local fh = io.open(f)
  if not fh then return "" end
  local s = fh:read("*a")
  fh:close()
  return s
end

local function alive(pid) return ffi.C.kill(pid, 0) == 0 end

-- Start each command line (shell words) in the background; once every one
-- has printed something (its header, or "Tracing..." on stderr), run
-- workload(), give the tools `settle_ms` to read, SIGINT them and wait for
-- them to exit. Returns {out=, err=} per command.
function T.around(cmds, workload, settle_ms)
  local runs = {}
  for i, cmd in ipairs(cmds) do
    local out, err = H.unique_path("tool-out" .. i), H.unique_path("tool-err" .. i)
    local p = io.popen(("%s >%s 2>%s & echo $!"):format(cmd, out, err))
    local pid = tonumber(p:read("*l"))
    p:close()
    runs[i] = { pid = pid, out = out, err = err, cmd = cmd }
  end
  for _, r in ipairs(runs) do
    for _ = 1, 400 do
      -- stat, not open: the tools under test may be tracing our opens
      local so, se = core.stat(r.out), core.stat(r.err)
      if (so and so.size > 0) or (se and se.size > 0) or not alive(r.pid) then break end
      core.sleep(25)
    end
  end
  local ok, e = pcall(workload)
  core.sleep(settle_ms or 200)
  for _, r in ipairs(runs) do ffi.C.kill(r.pid, 2) end
  local res = {}
  for i, r in ipairs(runs) do
    for _ = 1, 400 do
      if not alive(r.pid) then break end
      core.sleep(25)
    end
    if alive(r.pid) then ffi.C.kill(r.pid, 9) end
    res[i] = { out = slurp(r.out), err = slurp(r.err) }
    os.remove(r.out); os.remove(r.err)
  end
  if not ok then error(e, 0) end
  return res
end

-- One luatrace tool: `luatrace -m NAME args` around workload.
function T.tool(args, workload, settle_ms)
  return T.around({ ("exec %s -m %s"):format(H.q(H.luatrace()), args) }, workload, settle_ms)[1]
end

-- Lines of text containing `needle` (plain).
function T.lines_with(text, needle)
  local t = {}
  for line in text:gmatch("[^\n]+") do
    if line:find(needle, 1, true) then t[#t + 1] = line end
  end
  return t
end

-- What the kernel says of a loaded map (BPF{} table t): {flags=, memlock=
-- bytes it charged, preallocated elements included} from its fd's fdinfo.
function T.map_kernel_info(t)
  local s = slurp("/proc/self/fdinfo/" .. t:info().fd)
  return { flags = tonumber(s:match("map_flags:%s*(%S+)")), memlock = tonumber(s:match("memlock:%s*(%d+)")) }
end

-- The peer binary (Debian's libbpf-tools), or nil.
function T.peer(name)
  local p = "/usr/sbin/" .. name
  if core.stat(p) then return p end
  return nil
end

return T
