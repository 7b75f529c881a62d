/* runqlen.h: run queue length samples of one CPU (bpf/runqlen.bpf.c). */
#ifndef RUNQLEN_H
#define RUNQLEN_H

#define RUNQLEN_SLOTS 32

struct runqlen_hist {
	__u32 slots[RUNQLEN_SLOTS]; /* slot n: n tasks waiting (0: idle or just one running) */
};

#endif
