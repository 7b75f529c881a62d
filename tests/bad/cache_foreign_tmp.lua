-- expect: luatrace: use compile cache /tmp: mode 1777 lets others in; chmod 700 it
-- exit: 1
-- env: LUATRACE_CACHE_DIR=/tmp
-- a directory others can write is never the cache, even if root owns it
require("luatrace").BPF{text = [[
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) { return 0; }
]]}
