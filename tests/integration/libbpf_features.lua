-- libbpf's kernel feature probes answered from the cache
-- (lua/luatrace/bpf/features.lua, host/libbpf_features.c): a run keeps
-- what libbpf found in btf/features-KEY of the cache, and the next run
-- gives those answers to libbpf before its first load, so it probes
-- nothing it has an answer for. Each case runs a child with a cache of
-- its own that loads an AOT object and prints two of libbpf's answers.
local features = require "luatrace.bpf.features"

local function setup()
  local dir = unique_path("feat")
  os.execute("mkdir -m 700 " .. q(dir) .. " && mkdir -m 700 " .. q(dir .. "/cache") .. " " .. q(dir .. "/cache/btf"))
  local script = dir .. "/load.lua"
  local fh = io.open(script, "w")
  fh:write(([[
local core = require "luatrace.core"
local b = require("luatrace").BPF{ obj = %q }
local f = core.libbpf_features()
print(f["BPF program name"], f["minimal BTF"])
b:cleanup()
]]):format(test_obj("events")))
  fh:close()
  local file = dir .. "/cache/btf/" .. features.file_name()
  local function run()
    local out, err, code = sh(("LUATRACE_CACHE_DIR=%s %s %s"):format(q(dir .. "/cache"), q(luatrace()), q(script)))
    eq(code, 0, err)
    return out
  end
  return dir, file, run
end

local function slurp(path)
  local fh = io.open(path)
  if not fh then return nil end
  local s = fh:read("*a")
  fh:close()
  return s
end

local function write(path, s)
  local fh = assert(io.open(path, "w"))
  fh:write(s)
  fh:close()
end

test("libbpf features: a run keeps the answers libbpf found, per kernel and boot", function()
  local dir, file, run = setup()
  eq(run(), "1\t1\n", "probed by libbpf: both supported on this kernel")
  local text = slurp(file)
  ok(text, "the answers file exists")
  ok(text:find("BPF program name=1\n", 1, true), text)
  ok(text:find("minimal BTF=1\n", 1, true), text)
  for line in text:gmatch("([^\n]*)\n") do ok(line:match("^[^=]+=[12]$"), "a desc=answer line: " .. line) end
  os.execute("rm -rf " .. q(dir))
end)

test("libbpf features: the next run presets them (a kept answer wins over a probe)", function()
  local dir, file, run = setup()
  -- a false answer for the program name: libbpf takes it without probing
  write(file, "BPF program name=2\nminimal BTF=1\n")
  eq(run(), "2\t1\n")
  local text = slurp(file)
  ok(text:find("BPF program name=2\n", 1, true), "the kept answer stays: " .. text)
  os.execute("rm -rf " .. q(dir))
end)

test("libbpf features: lines that are no answer are ignored", function()
  local dir, file, run = setup()
  write(file, "junk\nBPF program name=7\n=1\nminimal BTF=2x\n")
  eq(run(), "1\t1\n", "nothing preset: libbpf probed both")
  os.execute("rm -rf " .. q(dir))
end)
