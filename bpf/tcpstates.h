/* tcpstates.h: one TCP state change (bpf/tcpstates.bpf.c). */
#ifndef TCPSTATES_H
#define TCPSTATES_H

#include "lt_tcp.h"

struct tcpstates_event {
	__u64 skaddr;
	__u64 ts_us;
	__u64 delta_us; /* time in the old state (0: first seen) */
	__u32 pid;
	__s32 oldstate;
	__s32 newstate;
	struct lt_tcp_addr addr;
	char comm[16];
};

#endif
