-- expect: luatrace: user_pointer.lua:6: load BPF program tracepoint__syscalls__sys_enter_openat: Permission denied: verifier: R1 invalid mem access 'scalar' (return p[0];) (this is a user-space pointer: read it with bpf_probe_read_user() or bpf_probe_read_user_str())
-- exit: 1
require("luatrace").BPF{text = [[
TRACEPOINT_PROBE(syscalls, sys_enter_openat) {
	const char *p = args->filename;
	return p[0];
}
]]}
