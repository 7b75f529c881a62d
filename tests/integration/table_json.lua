-- Tables as JSON (t:json()) and BCC's print_json_hist, checked against
-- BCC's own _print_json_hist (python3-bpfcc) on the same slots.
local lt = require "luatrace"
local BPF = lt.BPF
local core = lt.core

local SRC = [[
struct key_t { u32 pid; char comm[16]; };
struct hist_key { char name[8]; u64 slot; };
BPF_HASH(h, struct key_t, u64, 16);
BPF_HASH(big, u32, u64, 4);
BPF_PERCPU_ARRAY(pc, u64, 2);
BPF_HISTOGRAM(dist);
BPF_HISTOGRAM(sdist, struct hist_key);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
	if (lt_pid() != TARGET) return 0;
	struct key_t k = { .pid = lt_pid() };
	bpf_get_current_comm(&k.comm, sizeof(k.comm));
	h.increment(k);
	pc.increment(0, 2);
	dist.increment(bpf_log2l(100));
	dist.increment(bpf_log2l(1));
	struct hist_key hk = { .name = "a", .slot = bpf_log2l(5) };
	sdist.increment(hk);
	hk.slot = bpf_log2l(1000);
	__builtin_memcpy(hk.name, "b", 2);
	sdist.increment(hk, 2);
	return 0;
}
]]

local function load() return BPF{text = SRC, cflags = { "-DTARGET=" .. core.getpid() }} end

test("t:json(): struct keys as objects, per-CPU arrays, u64 exact, bytes escaped", function()
  local b = load()
  getppid_calls(3)
  eq(b.h:json(), ('[{"key":{"comm":"luatrace","pid":%d},"value":3}]'):format(core.getpid()))
  local ncpu = core.possible_cpus()
  local per = b.pc:json()
  ok(per:find('^%[{"key":0,"value":%['), per)
  eq(b.pc:json{ sum = true }, '[{"key":0,"value":6},{"key":1,"value":0}]')
  b.big[7] = 18446744073709551615ULL
  b.big[2] = 5
  eq(b.big:json(), '[{"key":2,"value":5},{"key":7,"value":18446744073709551615}]')
  b.h:set({ pid = 1, comm = "a\"\255" }, 1)
  ok(b.h:json():find('{"key":{"comm":"a\\"\\u00ff","pid":1},"value":1}', 1, true), b.h:json())
  eq(#b.pc[0], ncpu)
  b:cleanup()
end)

local BCC = [[
import sys, json, ast
import bcc.table as t
t.strftime = lambda f: "TS"
vals = json.loads(sys.argv[1])
section = tuple(json.loads(sys.argv[2])) if len(sys.argv) > 2 else None
t._print_json_hist(vals + [0] * (65 - len(vals)), "usecs", section)
]]

-- BCC prints a Python dict; compare as data.
local COMPARE = [[
import sys, json, ast
bcc = [ast.literal_eval(l) for l in open(sys.argv[1]).read().splitlines()]
ours = [json.loads(l) for l in open(sys.argv[2]).read().splitlines()]
print("same" if bcc == ours else "differ:\n%r\n%r" % (bcc, ours))
]]

local function write(path, s) local f = io.open(path, "w"); f:write(s); f:close() end

test("print_json_hist matches BCC's, plain and sectioned", function()
  if not core.stat("/usr/lib/python3/dist-packages/bcc/table.py") then skip("python3-bpfcc is not installed") end
  local b = load()
  getppid_calls(3)
  local lines = {}
  b.dist:print_json_hist("usecs", nil, nil, { ts = "TS", write = function(l) lines[#lines + 1] = l end })
  b.sdist:print_json_hist("usecs", "name", nil, { ts = "TS", write = function(l) lines[#lines + 1] = l end })
  eq(#lines, 3)
  eq(lines[1]:sub(1, 82), '{"ts":"TS","val_type":"usecs","data":[{"interval-start":0,"interval-end":1,"count"')
  -- the same slots through BCC
  local bcc_out = {}
  local function slots(vals)
    local a = {}
    for i = 0, 64 do a[i + 1] = vals[i] or 0 end
    return require("luatrace.json").encode(a)
  end
  local data, _ = b.dist:buckets()
  local secs, _, order = b.sdist:buckets()
  local script, f1, f2 = unique_path("bcc.py"), unique_path("bcc.out"), unique_path("ours.out")
  write(script, BCC)
  local o = sh(("/usr/bin/python3 %s %s"):format(q(script), q(slots(data))))
  bcc_out[#bcc_out + 1] = o
  for _, name in ipairs(order) do
    bcc_out[#bcc_out + 1] = sh(("/usr/bin/python3 %s %s %s"):format(q(script), q(slots(secs[name])),
      q('["name", "' .. name .. '"]')))
  end
  write(f1, table.concat(bcc_out))
  write(f2, table.concat(lines, "\n") .. "\n")
  write(script, COMPARE)
  local out, err = sh(("/usr/bin/python3 %s %s %s"):format(q(script), q(f1), q(f2)))
  os.remove(script); os.remove(f1); os.remove(f2)
  eq(out, "same\n", err)
  b:cleanup()
end)

test("decoded struct keys own their memory: still right after garbage collection", function()
  local b = load()
  getppid_calls(2)
  for i = 1, 12 do b.h:set({ pid = 1000 + i, comm = "k" .. i }, i) end
  local es = b.h:entries()
  for _ = 1, 3 do
    for _ = 1, 100000 do local _ = require("ffi").new("char[64]", 7) end
    collectgarbage()
  end
  local n = 0
  for _, e in ipairs(es) do
    if e[1].pid ~= core.getpid() then
      n = n + 1
      eq(e[1].comm, "k" .. (e[1].pid - 1000)); eq(e[2], e[1].pid - 1000)
    end
  end
  eq(n, 12)
  b:cleanup()
end)
