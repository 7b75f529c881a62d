// SPDX-License-Identifier: GPL-2.0
/* syscount: count system calls by number, optionally for one process.
 * A per-CPU array indexed by syscall number: no hashing, no atomics. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define SYSCOUNT_MAX 1024

const volatile int target_pid = 0; /* 0: every process */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SYSCOUNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} syscall_counts SEC(".maps");

SEC("raw_tracepoint/sys_enter")
int count_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	if (target_pid &&
	    (bpf_get_current_pid_tgid() >> 32) != (__u32)target_pid)
		return 0;
	__u32 id = ctx->args[1];
	__u64 *v = bpf_map_lookup_elem(&syscall_counts, &id);
	if (v)
		*v += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
