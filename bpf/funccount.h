/* funccount.h: what the three funccount objects share (bpf/funccount_tp,
 * funccount_kprobe, funccount_fentry .bpf.c): the per-slot counters and
 * count(). Up to FUNCCOUNT_SLOTS functions, tracepoints or user functions:
 * program k counts into slot k; Lua attaches the k-th matched function to
 * it and loads only the programs it uses (BPF{obj=, programs=}). One
 * program per slot, not one program with a cookie: the kernels this must
 * run on include ones without bpf_get_attach_cookie. One object per kind
 * (256 programs each, not 768 in one): libbpf opens, and luatrace reads
 * and hashes, a third of it at start. */
#ifndef FUNCCOUNT_H
#define FUNCCOUNT_H
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "lt_tool.h"

#define FUNCCOUNT_SLOTS 256

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FUNCCOUNT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

static __always_inline int count(__u32 slot)
{
	if (!lt_tool_wanted())
		return 0;
	__u64 *v = bpf_map_lookup_elem(&counts, &slot);
	if (v)
		*v += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

#endif
