// SPDX-License-Identifier: GPL-2.0
/* tcpconnect: active TCP connects, from sock:inet_sock_set_state (no
 * kprobes needed): the process at CLOSE -> SYN_SENT (connect(2) runs it),
 * the record when the socket leaves SYN_SENT (then the source port is
 * bound): established, refused or reset alike, as BCC prints a connect
 * once its SYN is sent. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "lt_export.h"
#include "lt_tool.h"
#include "tcpconnect.h"

#define TCP_SYN_SENT 2

const volatile __u16 target_family = 0;
const volatile __u16 target_dports[LT_TCP_MAX_PORTS] = {};
const volatile __u32 targ_uid = (__u32)-1;

struct ident {
	__u64 ts_us;
	__u32 pid;
	__u32 uid;
	char comm[16];
};

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

LT_EXPORT_TYPE(struct tcpconnect_event, events);

SEC("tracepoint/sock/inet_sock_set_state")
int inet_sock_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol != LT_IPPROTO_TCP)
		return 0;
	__u64 sk = (__u64)ctx->skaddr;
	if (ctx->newstate == TCP_SYN_SENT) {
		if (target_family && ctx->family != target_family)
			return 0;
		if (!lt_port_in(target_dports, ctx->dport))
			return 0;
		if (!lt_tool_wanted())
			return 0;
		__u32 uid = (__u32)bpf_get_current_uid_gid();
		if (targ_uid != (__u32)-1 && uid != targ_uid)
			return 0;
		struct ident id = {.ts_us = bpf_ktime_get_ns() / 1000,
				   .pid = bpf_get_current_pid_tgid() >> 32, .uid = uid};
		bpf_get_current_comm(id.comm, sizeof(id.comm));
		bpf_map_update_elem(&idents, &sk, &id, BPF_ANY);
		return 0;
	}
	if (ctx->oldstate != TCP_SYN_SENT)
		return 0;
	struct ident *id = bpf_map_lookup_elem(&idents, &sk);
	if (!id)
		return 0;
	struct tcpconnect_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		e->ts_us = id->ts_us;
		e->pid = id->pid;
		e->uid = id->uid;
		e->newstate = ctx->newstate;
		e->pad = 0;
		lt_tcp_addr(&e->addr, ctx);
		__builtin_memcpy(e->comm, id->comm, sizeof(e->comm));
		bpf_ringbuf_submit(e, 0);
	}
	bpf_map_delete_elem(&idents, &sk);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
