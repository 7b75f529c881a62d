/* tcpconnect.h: one active TCP connect (bpf/tcpconnect.bpf.c). */
#ifndef TCPCONNECT_H
#define TCPCONNECT_H

#include "lt_tcp.h"

struct tcpconnect_event {
	__u64 ts_us;   /* when the SYN was sent */
	__u32 pid;
	__u32 uid;
	__s32 newstate; /* the state after SYN_SENT: ESTABLISHED, or CLOSE (refused, reset) */
	__u32 pad;
	struct lt_tcp_addr addr;
	char comm[16];
};

#endif
