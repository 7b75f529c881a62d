/* opensnoop.h: one open, from bpf/opensnoop.bpf.c to modules/opensnoop.lua. */
#ifndef OPENSNOOP_H
#define OPENSNOOP_H

#define OPENSNOOP_NAME_MAX 255

struct opensnoop_event {
	__u64 ts_ns;
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__s32 ret;   /* fd, or -errno */
	__s32 flags; /* open flags */
	__u32 mode;
	char comm[16];
	char fname[OPENSNOOP_NAME_MAX];
};

#endif
