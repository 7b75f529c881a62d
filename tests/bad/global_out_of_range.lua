-- expect: luatrace: set global target_pid of global_out_of_range.lua: 4294967301 does not fit its 4 bytes
-- exit: 1
-- a pid must not be truncated (2^32 + 5 would trace pid 5)
require("luatrace").BPF{globals = { target_pid = 2^32 + 5 }, text = [[
const volatile u32 target_pid = 0;
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { return lt_pid() == target_pid; }
]]}
