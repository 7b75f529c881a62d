-- match: ^luatrace: .*fentry/fexit programs are refused by this kernel %(has_fentry%(%) is false%), and it has no kprobes either; use a tracepoint or a raw tracepoint%)$
-- exit: 1
-- when: no_fentry_no_kprobes
require("luatrace").BPF{text = [[
KFUNC_PROBE(vfs_read, struct file *file) { return 0; }
]]}
