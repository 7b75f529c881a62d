-- expect: luatrace: func_probe.lua:6: FUNC_PROBE(vfs_read): this kernel refuses fentry programs and has no kprobes (tried both); use a tracepoint or a raw tracepoint
-- exit: 1
-- when: no_fentry_no_kprobes
require("luatrace").BPF{text = [[
BPF_ARRAY(n, u64, 1);
FUNC_PROBE(vfs_read, struct file *file) { n.increment(0); return 0; }
]]}
