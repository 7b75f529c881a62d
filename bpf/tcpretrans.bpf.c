// SPDX-License-Identifier: GPL-2.0
/* tcpretrans: TCP retransmissions from the tcp:tcp_retransmit_skb
 * tracepoint (BCC's tracepoint mode): addresses, ports, state and the
 * segment's first sequence number. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "lt_export.h"
#include "lt_tcp.h"
#include "tcpretrans.h"

const volatile __u16 target_family = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18);
} events SEC(".maps");

LT_EXPORT_TYPE(struct tcpretrans_event, events);

SEC("tracepoint/tcp/tcp_retransmit_skb")
int tcp_retransmit_skb(struct trace_event_raw_tcp_retransmit_skb *ctx)
{
	__u16 family = ctx->family;
	if (target_family && family != target_family)
		return 0;
	struct tcpretrans_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->state = ctx->state;
	struct sk_buff *skb = (struct sk_buff *)ctx->skbaddr;
	/* the address of skb->cb (CO-RE relocated), read through probe_read */
	struct tcp_skb_cb *tcb = (struct tcp_skb_cb *)&skb->cb[0];
	e->seq = BPF_CORE_READ(tcb, seq);
	e->pad = 0;
	e->addr.sport = ctx->sport;
	e->addr.dport = ctx->dport;
	e->addr.family = family;
	e->addr.pad = 0;
	if (family == LT_AF_INET) {
		bpf_probe_read_kernel(e->addr.saddr, 4, ctx->saddr);
		bpf_probe_read_kernel(e->addr.daddr, 4, ctx->daddr);
	} else {
		bpf_probe_read_kernel(e->addr.saddr, 16, ctx->saddr_v6);
		bpf_probe_read_kernel(e->addr.daddr, 16, ctx->daddr_v6);
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
