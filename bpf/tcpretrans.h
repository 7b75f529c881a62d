/* tcpretrans.h: one TCP retransmission (bpf/tcpretrans.bpf.c). */
#ifndef TCPRETRANS_H
#define TCPRETRANS_H

#include "lt_tcp.h"

struct tcpretrans_event {
	__u32 pid;   /* whoever runs at the retransmit (often a timer: 0) */
	__s32 state;
	__u32 seq;
	__u32 pad;
	struct lt_tcp_addr addr;
};

#endif
