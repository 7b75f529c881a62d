// SPDX-License-Identifier: GPL-2.0
/* tcpstates: every TCP state change (tracepoint sock:inet_sock_set_state)
 * with the time spent in the previous state, filtered by family and
 * ports. The pid is whoever runs at the change (softirq context for many
 * transitions), as libbpf-tools reports it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "lt_export.h"
#include "lt_tool.h"
#include "tcpstates.h"

const volatile __u16 target_family = 0;
const volatile __u16 target_sports[LT_TCP_MAX_PORTS] = {};
const volatile __u16 target_dports[LT_TCP_MAX_PORTS] = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, __u64);
} timestamps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

LT_EXPORT_TYPE(struct tcpstates_event, events);

SEC("tracepoint/sock/inet_sock_set_state")
int handle_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (!lt_tcp_state_wanted(ctx, target_family, target_sports, target_dports))
		return 0;
	__u64 sk = (__u64)ctx->skaddr;
	__u64 ts = bpf_ktime_get_ns();
	__u64 *tsp = bpf_map_lookup_elem(&timestamps, &sk);
	__u64 delta = tsp ? (ts - *tsp) / 1000 : 0;
	if (ctx->newstate == 7 /* TCP_CLOSE */)
		bpf_map_delete_elem(&timestamps, &sk);
	else
		bpf_map_update_elem(&timestamps, &sk, &ts, BPF_ANY);
	if (!lt_tool_wanted())
		return 0;
	struct tcpstates_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->skaddr = sk;
	e->ts_us = ts / 1000;
	e->delta_us = delta;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->oldstate = ctx->oldstate;
	e->newstate = ctx->newstate;
	lt_tcp_addr(&e->addr, ctx);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
