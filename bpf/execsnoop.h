/* execsnoop.h: one exec, as the kernel side sends it (bpf/execsnoop.bpf.c)
 * and Lua decodes it (modules/execsnoop.lua) through BTF. */
#ifndef EXECSNOOP_H
#define EXECSNOOP_H

#define EXECSNOOP_ARGSIZE 128      /* one argument, with its NUL */
#define EXECSNOOP_TOTAL_MAX_ARGS 60
#define EXECSNOOP_ARGS_BYTES (EXECSNOOP_TOTAL_MAX_ARGS * EXECSNOOP_ARGSIZE)

struct execsnoop_event {
	__u64 ts_ns;      /* bpf_ktime_get_ns at exec */
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	__s32 retval;     /* 0, or -errno of a failed exec (with -x) */
	__s32 args_count; /* max_args + 1 when more were cut off */
	__u32 args_size;  /* bytes used in args: NUL-terminated arguments */
	char comm[16];
	char args[EXECSNOOP_ARGS_BYTES];
};

#endif
