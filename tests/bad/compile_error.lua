-- expect: luatrace: compile_error.lua:7: compile BPF program: use of undeclared identifier 'nope'
-- exit: 1
local lt = require "luatrace"
lt.BPF{text = [[
BPF_ARRAY(counts, u64, 1);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
	counts.increment(nope);
	return 0;
}
]]}
