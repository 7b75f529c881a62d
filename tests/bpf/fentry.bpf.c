// SPDX-License-Identifier: GPL-2.0
/* fentry/fexit test program with BTF-typed arguments. Kernels that refuse
 * fentry fail its load; the test checks that the error says so. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

const volatile int target_pid = 0;
__u64 entries = 0, exits = 0, last_count = 0;
__s64 last_ret = 0;

SEC("fentry/vfs_read")
int BPF_PROG(on_fentry_read, struct file *file, char *buf, size_t count)
{
	if ((bpf_get_current_pid_tgid() >> 32) == (__u32)target_pid) {
		__sync_fetch_and_add(&entries, 1);
		last_count = count;
	}
	return 0;
}

SEC("fexit/vfs_read")
int BPF_PROG(on_fexit_read, struct file *file, char *buf, size_t count,
	     loff_t *pos, ssize_t ret)
{
	if ((bpf_get_current_pid_tgid() >> 32) == (__u32)target_pid) {
		__sync_fetch_and_add(&exits, 1);
		last_ret = ret;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
