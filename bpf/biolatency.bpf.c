// SPDX-License-Identifier: GPL-2.0
/* biolatency: block I/O latency as log2 histograms, from issue (or insert,
 * with targ_queued) to completion: raw_tp block_rq_insert/issue/complete
 * (TP_PROTO (struct request *) and, for complete, (rq, blk_status_t error,
 * unsigned int nr_bytes) since 5.11; CO-RE reads of the request, not
 * tp_btf: docs/TOOLS.md). Keys: all, per disk, per operation and flags. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "lt_tool.h"
#include "lt_hist.h"
#include "lt_block.h"
#include "biolatency.h"

const volatile bool targ_per_disk = false;
const volatile bool targ_per_flag = false;
const volatile bool targ_queued = false;
const volatile bool targ_ms = false;
const volatile bool filter_dev = false;
const volatile __u32 targ_dev = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct request *);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct biolatency_key);
	__type(value, struct lt_log2_hist);
} hists SEC(".maps");

static __always_inline int rq_start(struct request *rq, bool issue)
{
	if (filter_cg && bpf_current_task_under_cgroup(&cgroup_map, 0) != 1)
		return 0;
	/* with -Q the insert time counts; an issue without insert (no
	 * scheduler) still starts the clock */
	if (issue && targ_queued && bpf_map_lookup_elem(&start, &rq))
		return 0;
	if (filter_dev && lt_rq_dev(rq) != targ_dev)
		return 0;
	__u64 ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &rq, &ts, BPF_ANY);
	return 0;
}

SEC("raw_tp/block_rq_insert")
int BPF_PROG(rq_insert, struct request *rq) { return rq_start(rq, false); }

SEC("raw_tp/block_rq_issue")
int BPF_PROG(rq_issue, struct request *rq) { return rq_start(rq, true); }

SEC("raw_tp/block_rq_complete")
int BPF_PROG(rq_complete, struct request *rq, int error, unsigned int nr_bytes)
{
	__u64 *tsp = bpf_map_lookup_elem(&start, &rq);
	if (!tsp)
		return 0;
	__s64 delta = bpf_ktime_get_ns() - *tsp;
	bpf_map_delete_elem(&start, &rq);
	if (delta < 0)
		return 0;
	struct biolatency_key key = {};
	if (targ_per_disk)
		key.dev = lt_rq_dev(rq);
	if (targ_per_flag)
		key.flags = lt_rq_flags(rq);
	struct lt_log2_hist *h = bpf_map_lookup_elem(&hists, &key);
	if (!h) {
		struct lt_log2_hist zero = {};
		bpf_map_update_elem(&hists, &key, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hists, &key);
		if (!h)
			return 0;
	}
	delta /= targ_ms ? 1000000 : 1000;
	__sync_fetch_and_add(&h->slots[lt_hist_slot(delta)], 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
