// SPDX-License-Identifier: GPL-2.0
/* syscount: count system calls by number (or by process with by_process),
 * optionally only failed ones (filter_failed, filter_errno) and with their
 * total latency (measure_latency). Tracepoints raw_syscalls:sys_enter and
 * sys_exit, as libbpf-tools' syscount uses. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "lt_tool.h"
#include "syscount.h"

#define MAX_ENTRIES 10240

const volatile bool measure_latency = false;
const volatile bool filter_failed = false;
const volatile int filter_errno = 0;
const volatile bool by_process = false;
const volatile char filter_comm[16] = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u32);
	__type(value, struct syscount_value);
} data SEC(".maps");

static __always_inline bool comm_wanted(void)
{
	if (!filter_comm[0])
		return true;
	char comm[16];
	bpf_get_current_comm(comm, sizeof(comm));
	for (int i = 0; i < 16; i++) {
		if (filter_comm[i] != comm[i])
			return false;
		if (!comm[i])
			break;
	}
	return true;
}

SEC("tracepoint/raw_syscalls/sys_enter")
int sys_enter(struct trace_event_raw_sys_enter *args)
{
	if (!lt_tool_wanted() || !comm_wanted())
		return 0;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	if (measure_latency) {
		__u64 ts = bpf_ktime_get_ns();
		bpf_map_update_elem(&start, &tid, &ts, BPF_ANY);
	}
	return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int sys_exit(struct trace_event_raw_sys_exit *args)
{
	if (!lt_tool_wanted() || !comm_wanted())
		return 0;
	if (args->id < 0) /* a task's first return after fork or exec */
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	__u64 dur = 0;
	if (measure_latency) {
		__u64 *ts = bpf_map_lookup_elem(&start, &tid);
		if (!ts)
			return 0;
		dur = bpf_ktime_get_ns() - *ts;
		bpf_map_delete_elem(&start, &tid);
	}
	if (filter_failed && args->ret >= 0)
		return 0;
	if (filter_errno && args->ret != -filter_errno)
		return 0;
	__u32 key = by_process ? (__u32)(id >> 32) : (__u32)args->id;
	struct syscount_value *v = bpf_map_lookup_elem(&data, &key);
	if (!v) {
		struct syscount_value zero = {};
		if (by_process)
			bpf_get_current_comm(zero.comm, sizeof(zero.comm));
		bpf_map_update_elem(&data, &key, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&data, &key);
		if (!v)
			return 0;
	}
	__sync_fetch_and_add(&v->count, 1);
	if (measure_latency)
		__sync_fetch_and_add(&v->total_ns, dur);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
