/* lt_tcp.h: what the TCP tools (tcpstates, tcplife, tcpconnect) read from
 * the sock:inet_sock_set_state tracepoint: one connection's addresses and
 * ports in one struct, IPv4 in the first 4 bytes of the address arrays,
 * as the tools' Lua side (toolkit/net.lua) formats them. */
#ifndef LT_TCP_H
#define LT_TCP_H

#define LT_AF_INET 2
#define LT_AF_INET6 10
#define LT_IPPROTO_TCP 6

struct lt_tcp_addr {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport; /* host order */
	__u16 dport;
	__u16 family;
	__u16 pad;
};

/* Tools filter ports with small arrays set from Lua (0 ends a list). */
#define LT_TCP_MAX_PORTS 8

static __always_inline bool lt_port_in(const volatile __u16 *ports, __u16 port)
{
	if (!ports[0])
		return true;
	for (int i = 0; i < LT_TCP_MAX_PORTS; i++) {
		if (!ports[i])
			return false;
		if (ports[i] == port)
			return true;
	}
	return false;
}

/* The filter tcpstates and tcplife share on sock:inet_sock_set_state:
 * TCP only, the -4/-6 family (0: any) and the -L/-D port lists. */
static __always_inline bool
lt_tcp_state_wanted(struct trace_event_raw_inet_sock_set_state *ctx, __u16 family,
		    const volatile __u16 *sports, const volatile __u16 *dports)
{
	if (ctx->protocol != LT_IPPROTO_TCP)
		return false;
	if (family && ctx->family != family)
		return false;
	return lt_port_in(sports, ctx->sport) && lt_port_in(dports, ctx->dport);
}

static __always_inline void lt_tcp_addr(struct lt_tcp_addr *a,
					struct trace_event_raw_inet_sock_set_state *ctx)
{
	a->sport = ctx->sport;
	a->dport = ctx->dport;
	a->family = ctx->family;
	/* the verifier refuses unaligned ctx loads: copy through probe_read */
	if (ctx->family == LT_AF_INET) {
		bpf_probe_read_kernel(a->saddr, 4, ctx->saddr);
		bpf_probe_read_kernel(a->daddr, 4, ctx->daddr);
	} else {
		bpf_probe_read_kernel(a->saddr, 16, ctx->saddr_v6);
		bpf_probe_read_kernel(a->daddr, 16, ctx->daddr_v6);
	}
}

#endif
