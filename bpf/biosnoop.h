/* biosnoop.h: one block I/O, bpf/biosnoop.bpf.c -> modules/biosnoop.lua. */
#ifndef BIOSNOOP_H
#define BIOSNOOP_H

struct biosnoop_event {
	__u64 ts;      /* completion, ns */
	__u64 delta;   /* issue -> completion, ns */
	__s64 qdelta;  /* insert -> issue, ns; -1 when not queued */
	__u64 sector;
	__u32 len;
	__u32 pid;     /* who started the I/O (0: unknown) */
	__u32 dev;     /* kernel dev_t: major << 20 | minor */
	__u32 flags;   /* lt_block.h's normalized op and flags */
	char comm[16];
};

#endif
