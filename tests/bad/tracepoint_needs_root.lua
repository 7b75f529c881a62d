-- expect: luatrace: tracepoint_needs_root.lua:5: read tracepoint format syscalls:sys_enter_getppid: permission denied (luatrace needs root, or CAP_BPF with CAP_PERFMON)
-- exit: 1
-- as: user
require("luatrace").BPF{text = [[
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { return 0; }
]]}
