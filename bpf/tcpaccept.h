/* tcpaccept: one accepted TCP connection (bpf/tcpaccept.bpf.c). */
#ifndef TCPACCEPT_H
#define TCPACCEPT_H

#include "lt_tcp.h"

struct tcpaccept_event {
	__u64 ts_us;
	__u32 pid;
	__u32 pad;
	struct lt_tcp_addr addr; /* saddr/sport: local (the listener's side), daddr/dport: remote */
	char comm[16];
};

#endif
