-- expect: luatrace: clang_flag.lua:5: compile BPF program: unknown argument: '-fno-such-flag'
-- exit: 1
-- clang's own error line, not only "1 error generated"
require("luatrace").BPF{cflags = { "-fno-such-flag" }, text = [[
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { return 0; }
]]}
