// SPDX-License-Identifier: GPL-2.0
/* softirqs: soft interrupts by vector: counts (targ_count), total time or
 * time histograms (targ_dist), from softirq_entry/exit (raw_tp; why not
 * tp_btf: docs/TOOLS.md). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "lt_tool.h"
#include "softirqs.h"

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
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SOFTIRQS_NR);
	__type(key, __u32);
	__type(value, struct softirqs_info);
} infos SEC(".maps");

static __always_inline int entry(unsigned int vec)
{
	if (targ_count) {
		struct softirqs_info *i = bpf_map_lookup_elem(&infos, &vec);
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

static __always_inline int leave(unsigned int vec)
{
	if (targ_count)
		return 0;
	__u32 zero = 0;
	__u64 *ts = bpf_map_lookup_elem(&start, &zero);
	if (!ts || !*ts)
		return 0;
	__u64 delta = bpf_ktime_get_ns() - *ts;
	*ts = 0;
	if (!targ_ns)
		delta /= 1000U;
	struct softirqs_info *i = bpf_map_lookup_elem(&infos, &vec);
	if (!i)
		return 0;
	if (targ_dist)
		__sync_fetch_and_add(&i->slots[lt_hist_slot(delta)], 1);
	else
		__sync_fetch_and_add(&i->count, delta);
	return 0;
}

SEC("raw_tp/softirq_entry")
int BPF_PROG(raw_entry, unsigned int vec_nr) { return entry(vec_nr); }

SEC("raw_tp/softirq_exit")
int BPF_PROG(raw_exit, unsigned int vec_nr) { return leave(vec_nr); }

char LICENSE[] SEC("license") = "GPL";
