/* capable.h: one capability check (bpf/capable.bpf.c). */
#ifndef CAPABLE_H
#define CAPABLE_H

struct capable_event {
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__s32 cap;
	__s32 audit;
	__s32 insetid;
	__s32 ret;      /* 0: allowed, else -errno (denied) */
	__u32 pad;
	char comm[16];
};

#endif
