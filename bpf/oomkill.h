/* oomkill.h: one OOM kill, as bpf/oomkill.bpf.c reports it. */
#ifndef OOMKILL_H
#define OOMKILL_H

struct oomkill_event {
	__u32 fpid;       /* the process whose allocation triggered the kill */
	__u32 tpid;       /* the process killed */
	__u64 pages;      /* oom_control's totalpages: the memory (or memcg limit) in pages */
	char fcomm[16];
	char tcomm[16];
};

#endif
