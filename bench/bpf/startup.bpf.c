// SPDX-License-Identifier: GPL-2.0
/* Startup workload: count openat by comm; every one also reaches user
 * space, so a tracer sees its first event as soon as it is attached. Small
 * maps and no CO-RE relocations: what a lean AOT tool loads. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "lt_export.h"

struct startup_key {
	char comm[16];
};

struct startup_ev {
	u32 pid;
};
LT_EXPORT_TYPE(struct startup_ev, ev);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct startup_key);
	__type(value, u64);
} by_comm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} ring SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int open_by_comm(void *ctx)
{
	struct startup_key k = {};
	bpf_get_current_comm(k.comm, sizeof(k.comm));
	u64 one = 1, *v = bpf_map_lookup_elem(&by_comm, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&by_comm, &k, &one, BPF_NOEXIST);
	struct startup_ev e = {.pid = bpf_get_current_pid_tgid() >> 32};
	bpf_ringbuf_output(&ring, &e, sizeof(e), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
