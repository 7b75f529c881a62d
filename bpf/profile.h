/* profile.h: the key of one sampled stack count (bpf/profile.bpf.c). */
#ifndef PROFILE_H
#define PROFILE_H

struct profile_key {
	__u32 pid;              /* process (tgid): whose user symbols */
	__s32 user_stack_id;    /* in stack_traces, or -errno */
	__s32 kernel_stack_id;
	char name[16];
};

#endif
