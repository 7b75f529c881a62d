// SPDX-License-Identifier: GPL-2.0
/* bitesize: block I/O sizes (Kbytes) as log2 histograms per process name,
 * counted at issue (raw_tp block_rq_issue(struct request *), in the issuing
 * context for direct and synchronous I/O; CO-RE reads, not tp_btf:
 * docs/TOOLS.md). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "lt_tool.h"
#include "lt_hist.h"
#include "lt_block.h"
#include "bitesize.h"

const volatile char targ_comm[16] = {};
const volatile bool filter_dev = false;
const volatile __u32 targ_dev = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct bitesize_key);
	__type(value, struct lt_log2_hist);
} hists SEC(".maps");

static __always_inline bool comm_allowed(const char *comm)
{
	for (int i = 0; i < 16 && targ_comm[i]; i++)
		if (comm[i] != targ_comm[i])
			return false;
	return true;
}

SEC("raw_tp/block_rq_issue")
int BPF_PROG(rq_issue, struct request *rq)
{
	if (!lt_tool_wanted())
		return 0;
	if (filter_dev && lt_rq_dev(rq) != targ_dev)
		return 0;
	struct bitesize_key key = {};
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	if (!comm_allowed(key.comm))
		return 0;
	struct lt_log2_hist *h = bpf_map_lookup_elem(&hists, &key);
	if (!h) {
		struct lt_log2_hist zero = {};
		bpf_map_update_elem(&hists, &key, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hists, &key);
		if (!h)
			return 0;
	}
	__u32 kb = BPF_CORE_READ(rq, __data_len) / 1024;
	__sync_fetch_and_add(&h->slots[lt_hist_slot(kb)], 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
