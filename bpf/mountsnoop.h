/* mountsnoop.h: one mount() or umount(), bpf/mountsnoop.bpf.c -> Lua. */
#ifndef MOUNTSNOOP_H
#define MOUNTSNOOP_H

enum mountsnoop_op { MOUNTSNOOP_MOUNT = 0, MOUNTSNOOP_UMOUNT = 1 };

struct mountsnoop_event {
	__u64 delta_ns;  /* syscall latency */
	__u64 flags;
	__u32 pid;
	__u32 tid;
	__u32 mnt_ns;    /* mount namespace inode */
	__s32 ret;
	__u32 op;        /* enum mountsnoop_op */
	char comm[16];
	char fs[16];
	char src[4096];
	char dest[4096];
	char data[512];
};

#endif
