-- The minimized BTF on stock kernels: built from the guest's own kernel
-- BTF (other type layouts than the host's), cached, and the tools that
-- load with it relocate right (tools.lua's cases check their counts).
local core = require "luatrace.core"
local objects = require "luatrace.objects"

local function read(path)
  local fh = assert(io.open(path, "rb"))
  local s = fh:read("*a")
  fh:close()
  return s
end

test("btf_min on this kernel: opensnoop's tracepoint records and runqlen's cfs_rq", function()
  local raw = core.btf_min(read(objects.find("opensnoop")))
  ok(type(raw) == "string" and raw:find("trace_event_raw_sys_enter", 1, true), "opensnoop's types")
  raw = core.btf_min(read(objects.find("runqlen")))
  ok(type(raw) == "string" and raw:find("cfs_rq", 1, true), "runqlen's types")
end)

test("BPF{obj=} with the cached minimized BTF: exitsnoop loads and its file is in the cache", function()
  local b = require("luatrace").BPF{ obj = "exitsnoop" }
  b:cleanup()
  local dir = require("luatrace.cache").sub("btf")
  local name = require("luatrace.bpf.minbtf").name(objects.find("exitsnoop"))
  local st = dir:stat(name)
  dir:close()
  ok(st and st.size > 0, "cached " .. name)
end)
