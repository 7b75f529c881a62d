/* hardirqs.h: per interrupt handler name, its count or time and a log2
 * histogram (bpf/hardirqs.bpf.c). */
#ifndef HARDIRQS_H
#define HARDIRQS_H

#include "lt_hist.h"

struct hardirqs_key {
	char name[32];
};

struct hardirqs_info {
	__u64 count;     /* events, or total time with time on */
	__u32 slots[LT_HIST_SLOTS];
};

#endif
