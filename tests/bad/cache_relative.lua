-- expect: luatrace: use compile cache relative/cache: not an absolute path
-- exit: 1
-- env: LUATRACE_CACHE_DIR=relative/cache
require("luatrace").BPF{text = [[
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { return 0; }
]]}
