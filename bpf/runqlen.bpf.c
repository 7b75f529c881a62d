// SPDX-License-Identifier: GPL-2.0
/* runqlen: sample each CPU's CFS run queue length on a timed perf event
 * (attached from Lua on every CPU): the current task's cfs_rq length,
 * less the running task. One histogram per CPU (targ_per_cpu) or all in
 * slot 0 of the array. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "runqlen.h"

const volatile bool targ_per_cpu = false;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct runqlen_hist);
} hists SEC(".maps");

/* The queue length field: nr_running before 6.13, nr_queued since. */
struct cfs_rq___old {
	unsigned int nr_running;
} __attribute__((preserve_access_index));

static __always_inline __u64 queued(struct cfs_rq *rq)
{
	if (bpf_core_field_exists(rq->nr_queued))
		return BPF_CORE_READ(rq, nr_queued);
	return BPF_CORE_READ((struct cfs_rq___old *)rq, nr_running);
}

SEC("perf_event")
int do_sample(struct bpf_perf_event_data *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 slot = queued(BPF_CORE_READ(task, se.cfs_rq));
	if (slot > 0)
		slot--;
	if (slot >= RUNQLEN_SLOTS)
		slot = RUNQLEN_SLOTS - 1;
	__u32 cpu = targ_per_cpu ? bpf_get_smp_processor_id() : 0;
	struct runqlen_hist *h = bpf_map_lookup_elem(&hists, &cpu);
	if (h)
		__sync_fetch_and_add(&h->slots[slot], 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
