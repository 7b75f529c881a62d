// SPDX-License-Identifier: GPL-2.0
/* Events test program: every openat of the target process becomes one ring
 * buffer record and one perf buffer record carrying the file name, and is
 * counted in maps (hash by pid+comm, per-CPU array, plain array). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "lt_export.h"
#include <bpf/bpf_core_read.h>

const volatile int target_pid = 0;

struct lt_test_open {
	__u32 pid;
	__u32 seq;
	__s32 dfd;
	__u8 flag;
	char comm[16];
	char fname[128];
};
LT_EXPORT_TYPE(struct lt_test_open, open);


struct lt_test_key {
	__u32 pid;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} pevents SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct lt_test_key);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} percpu_total SEC(".maps");

/* Lua fills this one for the batch-read tests. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} numbers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} events_lost SEC(".maps");

__u32 seq = 0;

SEC("tracepoint/syscalls/sys_enter_openat")
int on_openat(struct trace_event_raw_sys_enter *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (pid != target_pid)
		return 0;

	struct lt_test_key key = {.pid = pid};
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	__u64 one = 1, *c = bpf_map_lookup_elem(&counts, &key);
	if (c)
		__sync_fetch_and_add(c, 1);
	else
		bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);

	__u32 zero = 0;
	__u64 *t = bpf_map_lookup_elem(&percpu_total, &zero);
	if (t)
		*t += 1;

	__u32 s = __sync_fetch_and_add(&seq, 1);
	struct lt_test_open *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__u64 *lost = bpf_map_lookup_elem(&events_lost, &zero);
		if (lost)
			__sync_fetch_and_add(lost, 1);
		return 0;
	}
	e->pid = pid;
	e->seq = s;
	e->dfd = (__s32)ctx->args[0];
	e->flag = 7;
	__builtin_memcpy(e->comm, key.comm, sizeof(e->comm));
	bpf_probe_read_user_str(e->fname, sizeof(e->fname),
				(const char *)ctx->args[1]);
	/* The same record to the perf buffer, before the ring copy is gone. */
	bpf_perf_event_output(ctx, &pevents, BPF_F_CURRENT_CPU, e, sizeof(*e));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
