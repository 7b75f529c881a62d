/* gethostlatency.h: one host name lookup (bpf/gethostlatency.bpf.c). */
#ifndef GETHOSTLATENCY_H
#define GETHOSTLATENCY_H

struct gethostlatency_event {
	__u64 time;     /* entry ktime, then the latency in ns */
	__u32 pid;
	__u32 pad;
	char comm[16];
	char host[80];
};

#endif
