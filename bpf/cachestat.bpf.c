// SPDX-License-Identifier: GPL-2.0
/* cachestat: page cache accesses, additions (misses) and dirtied pages,
 * counted per CPU. The kernel functions changed names over the years
 * (page -> folio): for each role Lua picks the first name the running
 * kernel has, through fentry when the kernel allows it, else kprobes
 * (feature probing at run time, as libbpf-tools does). Dirtied pages come
 * from the writeback tracepoints on kernels where the function is
 * inlined. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

enum { C_TOTAL, C_MISSES, C_MBD, C_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, C_MAX);
	__type(key, __u32);
	__type(value, __s64);
} counts SEC(".maps");

static __always_inline void add(__u32 key, __s64 n)
{
	__s64 *v = bpf_map_lookup_elem(&counts, &key);
	if (v)
		*v += n;
}

/* a page entered the cache: a miss (reads), or a new page (writes) */
static __always_inline int added(void) { add(C_MISSES, 1); return 0; }
/* a cache access */
static __always_inline int accessed(void) { add(C_TOTAL, 1); return 0; }
/* a page dirtied: a write, not a read miss */
static __always_inline int dirtied(void) { add(C_MISSES, -1); return 0; }
/* a buffer dirtied: counted apart, not an access */
static __always_inline int buffer_dirtied(void) { add(C_TOTAL, -1); add(C_MBD, 1); return 0; }

/* One program per role and mode; Lua gives each its kernel function:
 * fentry through BPF{attach_targets=} before load, kprobes when it
 * attaches them. */
SEC("fentry") int fentry_added(void *ctx) { return added(); }
SEC("fentry") int fentry_accessed(void *ctx) { return accessed(); }
SEC("fentry") int fentry_dirtied(void *ctx) { return dirtied(); }
SEC("fentry") int fentry_buffer_dirtied(void *ctx) { return buffer_dirtied(); }

SEC("kprobe") int kprobe_added(void *ctx) { return added(); }
SEC("kprobe") int kprobe_accessed(void *ctx) { return accessed(); }
SEC("kprobe") int kprobe_dirtied(void *ctx) { return dirtied(); }
SEC("kprobe") int kprobe_buffer_dirtied(void *ctx) { return buffer_dirtied(); }

SEC("tracepoint/writeback/writeback_dirty_folio") int tp_writeback_dirty_folio(void *ctx) { return dirtied(); }
SEC("tracepoint/writeback/writeback_dirty_page") int tp_writeback_dirty_page(void *ctx) { return dirtied(); }

char LICENSE[] SEC("license") = "GPL";
