// SPDX-License-Identifier: GPL-2.0
/* cpudist: how long tasks run on a CPU before switching out (or, with
 * targ_offcpu, how long they stay off it), as log2 histograms, from
 * sched_switch (raw_tp with CO-RE reads; why not tp_btf: docs/TOOLS.md). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "lt_tool.h"
#include "lt_hist.h"

const volatile bool targ_per_process = false;
const volatile bool targ_per_thread = false;
const volatile bool targ_offcpu = false;
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

static __always_inline void store_start(__u32 tgid, __u32 pid, __u64 ts)
{
	if (pid && lt_tool_ids_wanted(tgid, pid))
		bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
}

static __always_inline void update_hist(struct task_struct *t, __u32 tgid, __u32 pid, __u64 ts)
{
	__u64 *tsp = bpf_map_lookup_elem(&start, &pid);
	if (!tsp)
		return;
	__u64 delta = ts - *tsp;
	bpf_map_delete_elem(&start, &pid);
	if ((__s64)delta < 0)
		return;
	__u32 key = targ_per_process ? tgid : targ_per_thread ? pid : 0;
	struct lt_log2_hist *h = bpf_map_lookup_elem(&hists, &key);
	if (!h) {
		struct lt_log2_hist zero = {};
		if (targ_per_process || targ_per_thread)
			BPF_CORE_READ_STR_INTO(&zero.comm, t, comm);
		bpf_map_update_elem(&hists, &key, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hists, &key);
		if (!h)
			return;
	}
	delta /= targ_ms ? 1000000U : 1000U;
	__sync_fetch_and_add(&h->slots[lt_hist_slot(delta)], 1);
}

static __always_inline int on_switch(struct task_struct *prev, struct task_struct *next)
{
	if (filter_cg && bpf_current_task_under_cgroup(&cgroup_map, 0) != 1)
		return 0;
	__u32 prev_tgid = BPF_CORE_READ(prev, tgid), prev_pid = BPF_CORE_READ(prev, pid);
	__u32 tgid = BPF_CORE_READ(next, tgid), pid = BPF_CORE_READ(next, pid);
	__u64 ts = bpf_ktime_get_ns();
	if (targ_offcpu) {
		store_start(prev_tgid, prev_pid, ts);
		update_hist(next, tgid, pid, ts);
	} else {
		update_hist(prev, prev_tgid, prev_pid, ts);
		store_start(tgid, pid, ts);
	}
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(raw_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return on_switch(prev, next);
}

char LICENSE[] SEC("license") = "GPL";
