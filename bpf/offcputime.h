/* offcputime.h: a blocked stack's key and its summed off-CPU time
 * (bpf/offcputime.bpf.c). */
#ifndef OFFCPUTIME_H
#define OFFCPUTIME_H

struct offcputime_key {
	__u32 pid;             /* thread (the CPU number for idle threads) */
	__u32 tgid;            /* process: whose user symbols */
	__s32 user_stack_id;   /* -1: kernel thread */
	__s32 kern_stack_id;
};

struct offcputime_val {
	__u64 delta;           /* microseconds off CPU, summed */
	char comm[16];
};

#endif
