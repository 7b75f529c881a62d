// SPDX-License-Identifier: GPL-2.0
/* hardirqs: hard interrupt handlers by name (irqaction->name): counts
 * (targ_count), total time, or time histograms (targ_dist), from
 * irq_handler_entry/exit (raw_tp with CO-RE reads; why not tp_btf:
 * docs/TOOLS.md). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "lt_tool.h"
#include "hardirqs.h"

const volatile bool targ_count = false;
const volatile bool targ_dist = false;
const volatile bool targ_ns = false;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct hardirqs_key);
	__type(value, struct hardirqs_info);
} infos SEC(".maps");

static __always_inline struct hardirqs_info *info_of(struct irqaction *action)
{
	struct hardirqs_key key = {};
	bpf_probe_read_kernel_str(key.name, sizeof(key.name), BPF_CORE_READ(action, name));
	struct hardirqs_info *i = bpf_map_lookup_elem(&infos, &key);
	if (i)
		return i;
	struct hardirqs_info zero = {};
	bpf_map_update_elem(&infos, &key, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&infos, &key);
}

static __always_inline int entry(struct irqaction *action)
{
	if (filter_cg && bpf_current_task_under_cgroup(&cgroup_map, 0) != 1)
		return 0;
	if (targ_count) {
		struct hardirqs_info *i = info_of(action);
		if (i)
			__sync_fetch_and_add(&i->count, 1);
		return 0;
	}
	__u32 zero = 0;
	__u64 *ts = bpf_map_lookup_elem(&start, &zero);
	if (ts)
		*ts = bpf_ktime_get_ns();
	return 0;
}

static __always_inline int leave(struct irqaction *action)
{
	if (targ_count)
		return 0;
	if (filter_cg && bpf_current_task_under_cgroup(&cgroup_map, 0) != 1)
		return 0;
	__u32 zero = 0;
	__u64 *ts = bpf_map_lookup_elem(&start, &zero);
	if (!ts || !*ts)
		return 0;
	__u64 delta = bpf_ktime_get_ns() - *ts;
	*ts = 0;
	if (!targ_ns)
		delta /= 1000U;
	struct hardirqs_info *i = info_of(action);
	if (!i)
		return 0;
	if (targ_dist)
		__sync_fetch_and_add(&i->slots[lt_hist_slot(delta)], 1);
	else
		__sync_fetch_and_add(&i->count, delta);
	return 0;
}

SEC("raw_tp/irq_handler_entry")
int BPF_PROG(raw_entry, int irq, struct irqaction *action) { return entry(action); }

SEC("raw_tp/irq_handler_exit")
int BPF_PROG(raw_exit, int irq, struct irqaction *action) { return leave(action); }

char LICENSE[] SEC("license") = "GPL";
