/* exitsnoop.h: one process (or thread) exit, bpf/exitsnoop.bpf.c -> Lua. */
#ifndef EXITSNOOP_H
#define EXITSNOOP_H

struct exitsnoop_event {
	__u64 start_time; /* task start, ns since boot (monotonic) */
	__u64 exit_time;  /* bpf_ktime_get_ns at exit */
	__u32 pid;
	__u32 tid;
	__u32 ppid;
	__u32 sig;        /* terminating signal, 0x80 set when core dumped */
	__s32 exit_code;  /* exit status when no signal */
	char comm[16];
};

#endif
