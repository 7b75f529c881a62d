-- sleeplat: a histogram of clock_nanosleep latency, in microseconds.
--
--   luatrace examples/sleeplat.lua [PID]
--
-- Runs until Ctrl-C, then prints BCC's log2 histogram.
local lt = require "luatrace"

local pid = tonumber(arg[1]) or 0
local b = lt.BPF{text = [[
const volatile u32 target_pid = 0; /* set from Lua: globals = {...} */
BPF_HISTOGRAM(dist);
BPF_HASH(start, u32);
TRACEPOINT_PROBE(syscalls, sys_enter_clock_nanosleep) {
	if (target_pid && lt_pid() != target_pid) return 0;
	u32 tid = lt_tid();
	u64 ts = bpf_ktime_get_ns();
	start.update(&tid, &ts);
	return 0;
}
TRACEPOINT_PROBE(syscalls, sys_exit_clock_nanosleep) {
	u32 tid = lt_tid();
	u64 *ts = start.lookup(&tid);
	if (!ts) return 0;
	dist.increment(bpf_log2l((bpf_ktime_get_ns() - *ts) / 1000));
	start.delete(&tid);
	return 0;
}
]], globals = { target_pid = pid }}
print("Tracing clock_nanosleep... Ctrl-C to end.")
io.stdout:flush()
lt.sleep(-1) -- returns at Ctrl-C
b["dist"]:print_log2_hist("usecs")
