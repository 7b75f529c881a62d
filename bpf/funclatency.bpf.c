// SPDX-License-Identifier: GPL-2.0
/* funclatency: the time spent in one function (kernel: fentry/fexit where
 * the kernel allows them, their target set at run time through
 * BPF{attach_targets=}, else kprobe/kretprobe; user: uprobe/uretprobe;
 * Lua attaches the pair) as a log2 histogram in the unit Lua chose. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "lt_tool.h"
#include "lt_hist.h"

#define FUNCLATENCY_SLOTS 64

const volatile __u64 units = 1; /* ns per unit: 1, 1000 or 1000000 */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FUNCLATENCY_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} hist SEC(".maps");

static __always_inline int entry(void)
{
	if (!lt_tool_wanted())
		return 0;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&starts, &tid, &ts, BPF_ANY);
	return 0;
}

static __always_inline int ret(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *ts = bpf_map_lookup_elem(&starts, &tid);
	if (!ts)
		return 0;
	__u64 delta = (bpf_ktime_get_ns() - *ts) / units;
	bpf_map_delete_elem(&starts, &tid);
	__u32 slot = lt_log2l(delta);
	if (slot >= FUNCLATENCY_SLOTS)
		slot = FUNCLATENCY_SLOTS - 1;
	__u64 *v = bpf_map_lookup_elem(&hist, &slot);
	if (v)
		*v += 1;
	return 0;
}

SEC("kprobe") int fl_entry(void *ctx) { return entry(); }
SEC("kretprobe") int fl_return(void *ctx) { return ret(); }
SEC("fentry") int fl_fentry(void *ctx) { return entry(); }
SEC("fexit") int fl_fexit(void *ctx) { return ret(); }

char LICENSE[] SEC("license") = "GPL";
