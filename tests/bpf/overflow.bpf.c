// SPDX-License-Identifier: GPL-2.0
/* Overflow test program: large records into deliberately small buffers, so
 * a burst of openat calls overflows both the ring buffer (counted in
 * small_lost by the program) and the perf buffer (counted by the kernel). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "lt_export.h"

const volatile int target_pid = 0;

struct lt_test_big {
	__u32 pid;
	__u32 pad;
	char data[1000];
};
LT_EXPORT_TYPE(struct lt_test_big, big);


struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} small_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} small_lost SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} small_perf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lt_test_big);
} scratch SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int on_openat(void *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32, zero = 0;
	if (pid != target_pid)
		return 0;
	struct lt_test_big *e = bpf_ringbuf_reserve(&small_ring, sizeof(*e), 0);
	if (e) {
		e->pid = pid;
		bpf_ringbuf_submit(e, 0);
	} else {
		__u64 *lost = bpf_map_lookup_elem(&small_lost, &zero);
		if (lost)
			__sync_fetch_and_add(lost, 1);
	}
	struct lt_test_big *s = bpf_map_lookup_elem(&scratch, &zero);
	if (s) {
		s->pid = pid;
		bpf_perf_event_output(ctx, &small_perf, BPF_F_CURRENT_CPU, s,
				      sizeof(*s));
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
