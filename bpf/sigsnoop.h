/* sigsnoop.h: one signal sent, bpf/sigsnoop.bpf.c -> Lua. */
#ifndef SIGSNOOP_H
#define SIGSNOOP_H

struct sigsnoop_event {
	__u32 pid;  /* sender */
	__u32 tpid; /* target */
	__s32 sig;
	__s32 ret;  /* kill(2)'s result, or the generation result */
	char comm[16];
};

#endif
