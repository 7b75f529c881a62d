// SPDX-License-Identifier: GPL-2.0
/* runqlat: how long tasks wait on a run queue, from wakeup (or preemption)
 * to running, as log2 histograms. raw_tp programs with CO-RE reads, not
 * tp_btf: the same kernel path per event, but a tp_btf target makes libbpf
 * 1.1 parse the whole kernel BTF at load (docs/TOOLS.md, "raw_tp"). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "lt_tool.h"
#include "lt_hist.h"

#define TASK_RUNNING 0

const volatile bool targ_per_process = false;
const volatile bool targ_per_thread = false;
const volatile bool targ_per_pidns = false;
const volatile bool targ_ms = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct lt_log2_hist);
} hists SEC(".maps");

static __always_inline bool task_wanted(struct task_struct *t)
{
	if (filter_cg && bpf_current_task_under_cgroup(&cgroup_map, 0) != 1)
		return false;
	return lt_tool_ids_wanted(BPF_CORE_READ(t, tgid), BPF_CORE_READ(t, pid));
}

static __always_inline int enqueue(struct task_struct *t)
{
	__u32 pid = BPF_CORE_READ(t, pid);
	if (!pid || !task_wanted(t))
		return 0;
	__u64 ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
	return 0;
}

static __always_inline int on_switch(struct task_struct *prev, struct task_struct *next)
{
	if (lt_task_state(prev) == TASK_RUNNING)
		enqueue(prev);
	__u32 pid = BPF_CORE_READ(next, pid);
	__u64 *tsp = bpf_map_lookup_elem(&start, &pid);
	if (!tsp)
		return 0;
	__u64 delta = bpf_ktime_get_ns() - *tsp;
	bpf_map_delete_elem(&start, &pid);
	if ((__s64)delta < 0)
		return 0;
	__u32 key = 0;
	if (targ_per_process)
		key = BPF_CORE_READ(next, tgid);
	else if (targ_per_thread)
		key = pid;
	else if (targ_per_pidns)
		key = BPF_CORE_READ(next, nsproxy, pid_ns_for_children, ns.inum);
	struct lt_log2_hist *h = bpf_map_lookup_elem(&hists, &key);
	if (!h) {
		struct lt_log2_hist zero = {};
		if (targ_per_process || targ_per_thread)
			BPF_CORE_READ_STR_INTO(&zero.comm, next, comm);
		bpf_map_update_elem(&hists, &key, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hists, &key);
		if (!h)
			return 0;
	}
	delta /= targ_ms ? 1000000U : 1000U;
	__sync_fetch_and_add(&h->slots[lt_hist_slot(delta)], 1);
	return 0;
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(raw_wakeup, struct task_struct *p) { return enqueue(p); }

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(raw_wakeup_new, struct task_struct *p) { return enqueue(p); }

SEC("raw_tp/sched_switch")
int BPF_PROG(raw_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return on_switch(prev, next);
}

char LICENSE[] SEC("license") = "GPL";
