-- expect: luatrace: no_tracepoint.lua:4: read tracepoint format syscalls:sys_enter_no_such_call: no such tracepoint (list them with luatrace -l 'syscalls:*')
-- exit: 1
require("luatrace").BPF{text = [[
TRACEPOINT_PROBE(syscalls, sys_enter_no_such_call) { return 0; }
]]}
