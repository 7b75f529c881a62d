/* statsnoop.h: one stat-family call, bpf/statsnoop.bpf.c -> Lua. */
#ifndef STATSNOOP_H
#define STATSNOOP_H

#define STATSNOOP_NAME_MAX 255

struct statsnoop_event {
	__u64 ts_ns;
	__u32 pid;
	__s32 ret;
	__u32 call; /* index in statsnoop.lua's CALLS */
	char comm[16];
	char pathname[STATSNOOP_NAME_MAX];
};

#endif
