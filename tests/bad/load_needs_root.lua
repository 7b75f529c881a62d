-- expect: luatrace: load BPF object load_needs_root.lua: permission denied (luatrace needs root, or CAP_BPF with CAP_PERFMON)
-- exit: 1
-- as: user
require("luatrace").BPF{text = [[
SEC("raw_tracepoint/sys_enter") int on_enter(void *ctx) { return 0; }
]]}
