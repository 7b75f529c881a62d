-- expect: luatrace: use compile cache /dev/null/cache: /dev/null is not a directory
-- exit: 1
-- env: LUATRACE_CACHE_DIR=/dev/null/cache
require("luatrace").BPF{text = [[
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { return 0; }
]]}
