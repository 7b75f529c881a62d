// SPDX-License-Identifier: GPL-2.0
/* A program the verifier must reject: it dereferences a user pointer
 * directly instead of using bpf_probe_read_user(). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("tracepoint/syscalls/sys_enter_openat")
int bad_deref(struct trace_event_raw_sys_enter *ctx)
{
	const char *p = (const char *)ctx->args[1];
	return p[0];
}

char LICENSE[] SEC("license") = "GPL";
