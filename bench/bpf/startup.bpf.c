// SPDX-License-Identifier: GPL-2.0
/* Startup workload: count openat by comm; every one also reaches user
 * space, so a tracer sees its first event as soon as it is attached. Small
 * maps and no CO-RE relocations: what a lean AOT tool loads. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "lt_export.h"
#include "comm_count.h"

struct startup_ev {
	u32 pid;
};
LT_EXPORT_TYPE(struct startup_ev, ev);

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} ring SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int open_by_comm(void *ctx)
{
	count_comm();
	struct startup_ev e = {.pid = bpf_get_current_pid_tgid() >> 32};
	bpf_ringbuf_output(&ring, &e, sizeof(e), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
