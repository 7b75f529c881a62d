/* tcplife.h: one closed TCP session (bpf/tcplife.bpf.c). */
#ifndef TCPLIFE_H
#define TCPLIFE_H

#include "lt_tcp.h"

struct tcplife_event {
	__u64 ts_us;
	__u64 span_us;
	__u64 rx_b;
	__u64 tx_b;
	__u32 pid;
	__u32 pad;
	struct lt_tcp_addr addr;
	char comm[16];
};

#endif
