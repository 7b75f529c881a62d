// SPDX-License-Identifier: GPL-2.0
/* tcpaccept: TCP connections accepted (inet_csk_accept's returned socket),
 * by the accepting process. No tracepoint reports an accept, so: fexit
 * where the kernel allows it (the return value through bpf_get_func_ret,
 * whatever the function's arguments are on this kernel), else kretprobe.
 * Lua loads one. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "lt_export.h"
#include "lt_tool.h"
#include "tcpaccept.h"

const volatile __u16 target_family = 0;
const volatile __u16 target_ports[LT_TCP_MAX_PORTS] = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18);
} events SEC(".maps");

LT_EXPORT_TYPE(struct tcpaccept_event, events);

static __always_inline int accepted(struct sock *sk)
{
	if (!sk || !lt_tool_wanted())
		return 0;
	if (BPF_CORE_READ(sk, sk_protocol) != LT_IPPROTO_TCP)
		return 0;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (target_family && family != target_family)
		return 0;
	__u16 lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (!lt_port_in(target_ports, lport))
		return 0;
	struct tcpaccept_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	__builtin_memset(&e->addr, 0, sizeof(e->addr));
	e->ts_us = bpf_ktime_get_ns() / 1000;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->pad = 0;
	e->addr.family = family;
	e->addr.sport = lport;
	e->addr.dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	/* BPF_CORE_READ_INTO copies sizeof(*dst): give it whole objects */
	if (family == LT_AF_INET) {
		__u32 s4 = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__u32 d4 = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(e->addr.saddr, &s4, 4);
		__builtin_memcpy(e->addr.daddr, &d4, 4);
	} else {
		BPF_CORE_READ_INTO(&e->addr.saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&e->addr.daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	}
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("kretprobe/inet_csk_accept")
int BPF_KRETPROBE(kretprobe_accept, struct sock *newsk) { return accepted(newsk); }

SEC("fexit/inet_csk_accept")
int fexit_accept(unsigned long long *ctx)
{
	__u64 ret = 0;
	if (bpf_get_func_ret(ctx, &ret))
		return 0;
	return accepted((struct sock *)ret);
}

char LICENSE[] SEC("license") = "GPL";
