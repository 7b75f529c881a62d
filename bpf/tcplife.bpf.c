// SPDX-License-Identifier: GPL-2.0
/* tcplife: TCP sessions when they close, with their duration and bytes,
 * from sock:inet_sock_set_state: birth at the first state before
 * FIN_WAIT1, the owning process at SYN_SENT (connect) or LAST_ACK
 * (passive close), the record at TCP_CLOSE. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "lt_export.h"
#include "lt_tool.h"
#include "tcplife.h"

#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_FIN_WAIT1 4
#define TCP_CLOSE 7
#define TCP_LAST_ACK 9

const volatile __u16 target_family = 0;
const volatile __u16 target_sports[LT_TCP_MAX_PORTS] = {};
const volatile __u16 target_dports[LT_TCP_MAX_PORTS] = {};

struct ident {
	__u32 pid;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, __u64);
} birth SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, struct ident);
} idents SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

LT_EXPORT_TYPE(struct tcplife_event, events);

SEC("tracepoint/sock/inet_sock_set_state")
int inet_sock_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (!lt_tcp_state_wanted(ctx, target_family, target_sports, target_dports))
		return 0;
	__u64 sk = (__u64)ctx->skaddr;
	int newstate = ctx->newstate;
	if (newstate < TCP_FIN_WAIT1) {
		__u64 ts = bpf_ktime_get_ns();
		bpf_map_update_elem(&birth, &sk, &ts, BPF_ANY);
	}
	if (newstate == TCP_SYN_SENT || newstate == TCP_LAST_ACK) {
		struct ident id = {.pid = bpf_get_current_pid_tgid() >> 32};
		bpf_get_current_comm(id.comm, sizeof(id.comm));
		bpf_map_update_elem(&idents, &sk, &id, BPF_ANY);
	}
	if (newstate != TCP_CLOSE)
		return 0;
	__u64 *start = bpf_map_lookup_elem(&birth, &sk);
	if (!start)
		goto out;
	struct ident *id = bpf_map_lookup_elem(&idents, &sk);
	__u32 pid = id ? id->pid : bpf_get_current_pid_tgid() >> 32;
	if (targ_tgid && pid != targ_tgid)
		goto out;
	struct tcplife_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		goto out;
	__u64 ts = bpf_ktime_get_ns();
	struct tcp_sock *tp = (struct tcp_sock *)ctx->skaddr;
	e->ts_us = ts / 1000;
	e->span_us = (ts - *start) / 1000;
	e->rx_b = BPF_CORE_READ(tp, bytes_received);
	e->tx_b = BPF_CORE_READ(tp, bytes_acked);
	e->pid = pid;
	e->pad = 0;
	lt_tcp_addr(&e->addr, ctx);
	if (id)
		__builtin_memcpy(e->comm, id->comm, sizeof(e->comm));
	else
		bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
out:
	bpf_map_delete_elem(&birth, &sk);
	bpf_map_delete_elem(&idents, &sk);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
