// match: ^luatrace: unbounded_loop%.c:%d+: load BPF program tracepoint__syscalls__sys_enter_getppid: .*verifier: .*%(bound every loop with a constant or use bpf_loop%(%)%)$
// exit: 1
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
	volatile int i = 0;
	while (i < bpf_get_prandom_u32())
		i++;
	return i;
}
