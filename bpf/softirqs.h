/* softirqs.h: per softirq vector, its count or time and a log2 histogram
 * (bpf/softirqs.bpf.c). */
#ifndef SOFTIRQS_H
#define SOFTIRQS_H

#include "lt_hist.h"

#define SOFTIRQS_NR 10

struct softirqs_info {
	__u64 count;     /* events, or total time with time on */
	__u32 slots[LT_HIST_SLOTS];
};

#endif
