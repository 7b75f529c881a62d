// SPDX-License-Identifier: GPL-2.0
/* exitsnoop: process exits (or every thread's with trace_by_process off)
 * from the sched:sched_process_exit tracepoint, with the task's age and
 * how it ended (exit code, or signal and core dump). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "lt_export.h"
#include "lt_tool.h"
#include "exitsnoop.h"

const volatile bool trace_failed_only = false;
const volatile bool trace_by_process = true;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18);
} events SEC(".maps");

LT_EXPORT_TYPE(struct exitsnoop_event, events);

SEC("tracepoint/sched/sched_process_exit")
int sched_process_exit(void *ctx)
{
	if (!lt_tool_wanted())
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32, tid = (__u32)id;
	if (trace_by_process && pid != tid)
		return 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	int code = BPF_CORE_READ(task, exit_code);
	if (trace_failed_only && code == 0)
		return 0;
	struct exitsnoop_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->start_time = BPF_CORE_READ(task, start_time);
	e->exit_time = bpf_ktime_get_ns();
	e->pid = pid;
	e->tid = tid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->sig = code & 0xff;
	e->exit_code = code >> 8;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
