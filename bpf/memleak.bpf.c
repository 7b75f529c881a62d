// SPDX-License-Identifier: GPL-2.0
/* memleak: outstanding allocations and the stacks that made them.
 * User mode: uprobes/uretprobes on the C library's allocator (attached
 * from Lua with the target's pid). Kernel mode: the kmem tracepoints
 * (kmalloc, kmem_cache_alloc, page and percpu allocations and their
 * frees). An allocation is remembered by address with its size, time and
 * stack id; a free forgets it. Lua reports what is left. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lt_export.h"
#include "memleak.h"

const volatile __u64 min_size = 0;
const volatile __u64 max_size = (__u64)-1;
const volatile __u64 page_size = 4096;
const volatile __u64 sample_rate = 1;
const volatile bool trace_all = false;
const volatile __u64 stack_flags = 0; /* BPF_F_USER_STACK in user mode */
const volatile bool wa_missing_free = false;

/* The hashes are preallocated, as memleak's kernel mode needs: a hash
 * that allocates its entries on the fly refills its per-CPU cache of free
 * entries with kmalloc from irq_work (bpf_mem_refill), and the kmalloc
 * program records each of those allocations in allocs, taking one entry
 * from that same cache: the refill fed itself until allocs was full (a
 * million kmallocs, ~170 MB, ~5 s of one CPU in hard interrupt context,
 * the whole machine waiting on RCU) in 2-3 starts of 20 (bench/tools.lua's
 * loop). Even without that loop the report would list the tool's own
 * allocations. User mode (uprobes: nothing traces the refill's kmalloc)
 * sets BPF_F_NO_PREALLOC at load (modules/memleak.lua), as preallocating
 * allocs' million entries (97 MB) takes ~15 ms of BPF_MAP_CREATE.
 * docs/STARTUP.md, "memleak's start stall". */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32); /* tid */
	__type(value, __u64);
} sizes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1000000);
	__type(key, __u64); /* address */
	__type(value, struct memleak_alloc);
} allocs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64); /* stack id */
	__type(value, struct memleak_combined);
} combined SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32); /* tid */
	__type(value, __u64); /* posix_memalign's memptr */
} memptrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 10240);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 127 * sizeof(__u64));
} stack_traces SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

LT_EXPORT_TYPE(struct memleak_event, events);

static __always_inline void trace(__u32 kind, __u64 addr, __u64 size)
{
	if (!trace_all)
		return;
	struct memleak_event e = {.addr = addr, .size = size, .kind = kind,
				  .pid = bpf_get_current_pid_tgid() >> 32};
	bpf_ringbuf_output(&events, &e, sizeof(e), 0);
}

static __always_inline void combined_add(__s64 stack_id, __u64 size, int sign)
{
	__u64 key = stack_id;
	struct memleak_combined *c = bpf_map_lookup_elem(&combined, &key);
	if (!c) {
		if (sign < 0)
			return;
		struct memleak_combined zero = {};
		bpf_map_update_elem(&combined, &key, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&combined, &key);
		if (!c)
			return;
	}
	__sync_fetch_and_add(&c->total_size, sign * size);
	__sync_fetch_and_add(&c->nr_allocs, sign);
}

static __always_inline int alloc_enter(__u64 size)
{
	if (size < min_size || size > max_size)
		return 0;
	if (sample_rate > 1 && bpf_ktime_get_ns() % sample_rate != 0)
		return 0;
	__u32 tid = bpf_get_current_pid_tgid();
	bpf_map_update_elem(&sizes, &tid, &size, BPF_ANY);
	return 0;
}

static __always_inline int alloc_exit(void *ctx, __u64 address)
{
	__u32 tid = bpf_get_current_pid_tgid();
	__u64 *size = bpf_map_lookup_elem(&sizes, &tid);
	if (!size)
		return 0; /* filtered at entry, or nested (realloc(NULL) -> malloc) */
	struct memleak_alloc a = {.size = *size, .timestamp_ns = bpf_ktime_get_ns()};
	bpf_map_delete_elem(&sizes, &tid);
	if (address && address != (__u64)-1 /* MAP_FAILED */) {
		a.stack_id = bpf_get_stackid(ctx, &stack_traces, stack_flags);
		bpf_map_update_elem(&allocs, &address, &a, BPF_ANY);
		combined_add(a.stack_id, a.size, 1);
	}
	trace(MEMLEAK_ALLOC, address, a.size);
	return 0;
}

static __always_inline int free_enter(__u64 address)
{
	struct memleak_alloc *a = bpf_map_lookup_elem(&allocs, &address);
	if (!a)
		return 0;
	__u64 size = a->size;
	combined_add(a->stack_id, size, -1);
	bpf_map_delete_elem(&allocs, &address);
	trace(MEMLEAK_FREE, address, size);
	return 0;
}

/* ---- user mode: the C library's allocator ---- */

SEC("uprobe") int BPF_KPROBE(malloc_enter, size_t size) { return alloc_enter(size); }
SEC("uretprobe") int BPF_KRETPROBE(malloc_exit) { return alloc_exit(ctx, PT_REGS_RC(ctx)); }
SEC("uprobe") int BPF_KPROBE(free_enter_u, void *address) { return free_enter((__u64)address); }
SEC("uprobe") int BPF_KPROBE(calloc_enter, size_t nmemb, size_t size) { return alloc_enter(nmemb * size); }
SEC("uretprobe") int BPF_KRETPROBE(calloc_exit) { return alloc_exit(ctx, PT_REGS_RC(ctx)); }

SEC("uprobe")
int BPF_KPROBE(realloc_enter, void *ptr, size_t size)
{
	free_enter((__u64)ptr);
	return alloc_enter(size);
}
SEC("uretprobe") int BPF_KRETPROBE(realloc_exit) { return alloc_exit(ctx, PT_REGS_RC(ctx)); }

SEC("uprobe") int BPF_KPROBE(mmap_enter, void *addr, size_t size) { return alloc_enter(size); }
SEC("uretprobe") int BPF_KRETPROBE(mmap_exit) { return alloc_exit(ctx, PT_REGS_RC(ctx)); }

SEC("uprobe")
int BPF_KPROBE(mremap_enter, void *old, size_t old_size, size_t new_size)
{
	free_enter((__u64)old);
	return alloc_enter(new_size);
}
SEC("uretprobe") int BPF_KRETPROBE(mremap_exit) { return alloc_exit(ctx, PT_REGS_RC(ctx)); }
SEC("uprobe") int BPF_KPROBE(munmap_enter, void *addr) { return free_enter((__u64)addr); }

SEC("uprobe")
int BPF_KPROBE(posix_memalign_enter, void **memptr, size_t alignment, size_t size)
{
	__u64 p = (__u64)memptr;
	__u32 tid = bpf_get_current_pid_tgid();
	bpf_map_update_elem(&memptrs, &tid, &p, BPF_ANY);
	return alloc_enter(size);
}

SEC("uretprobe")
int BPF_KRETPROBE(posix_memalign_exit)
{
	__u32 tid = bpf_get_current_pid_tgid();
	__u64 *memptr = bpf_map_lookup_elem(&memptrs, &tid);
	if (!memptr)
		return 0;
	__u64 p = *memptr, addr = 0;
	bpf_map_delete_elem(&memptrs, &tid);
	/* a failed call (non-zero result) leaves *memptr alone */
	if (PT_REGS_RC(ctx) == 0 && bpf_probe_read_user(&addr, sizeof(addr), (void *)p))
		addr = 0;
	return alloc_exit(ctx, addr);
}

SEC("uprobe") int BPF_KPROBE(aligned_alloc_enter, size_t alignment, size_t size) { return alloc_enter(size); }
SEC("uretprobe") int BPF_KRETPROBE(aligned_alloc_exit) { return alloc_exit(ctx, PT_REGS_RC(ctx)); }
SEC("uprobe") int BPF_KPROBE(memalign_enter, size_t alignment, size_t size) { return alloc_enter(size); }
SEC("uretprobe") int BPF_KRETPROBE(memalign_exit) { return alloc_exit(ctx, PT_REGS_RC(ctx)); }
SEC("uprobe") int BPF_KPROBE(valloc_enter, size_t size) { return alloc_enter(size); }
SEC("uretprobe") int BPF_KRETPROBE(valloc_exit) { return alloc_exit(ctx, PT_REGS_RC(ctx)); }

SEC("uprobe")
int BPF_KPROBE(pvalloc_enter, size_t size)
{
	/* pvalloc rounds up to whole pages */
	return alloc_enter((size + page_size - 1) / page_size * page_size);
}
SEC("uretprobe") int BPF_KRETPROBE(pvalloc_exit) { return alloc_exit(ctx, PT_REGS_RC(ctx)); }

/* ---- kernel mode: the kmem tracepoints ---- */

/* Before 6.1, kmalloc and kmem_cache_alloc (and their _node variants)
 * shared one record, trace_event_raw_kmem_alloc(_node), whose layout
 * stayed this one from 2.6.32 to 6.0 (trace_entry, call_site, ptr,
 * bytes_req, bytes_alloc, ...). It is read at these fixed offsets rather
 * than relocated by name: a relocation against a type the running kernel
 * lacks keeps libbpf on the whole kernel BTF (luatrace.bpf.minbtf), ~10 MB
 * and ~15 ms of every start on 6.1+ kernels. */
struct kmem_alloc_pre61 {
	__u64 ent;
	unsigned long call_site;
	const void *ptr;
	__u64 bytes_req;
	__u64 bytes_alloc;
};

static __always_inline int kernel_alloc(void *ctx, const void *ptr, __u64 bytes)
{
	if (wa_missing_free)
		free_enter((__u64)ptr);
	alloc_enter(bytes);
	return alloc_exit(ctx, (__u64)ptr);
}

static __always_inline int kernel_alloc_pre61(void *ctx)
{
	struct kmem_alloc_pre61 *a = ctx;
	return kernel_alloc(ctx, a->ptr, a->bytes_alloc);
}

SEC("tracepoint/kmem/kmalloc")
int kmalloc(void *ctx)
{
	if (bpf_core_type_exists(struct trace_event_raw_kmalloc)) {
		struct trace_event_raw_kmalloc *a = ctx;
		return kernel_alloc(ctx, BPF_CORE_READ(a, ptr), BPF_CORE_READ(a, bytes_alloc));
	}
	return kernel_alloc_pre61(ctx);
}

SEC("tracepoint/kmem/kmem_cache_alloc")
int kmem_cache_alloc(void *ctx)
{
	if (bpf_core_type_exists(struct trace_event_raw_kmem_cache_alloc)) {
		struct trace_event_raw_kmem_cache_alloc *a = ctx;
		return kernel_alloc(ctx, BPF_CORE_READ(a, ptr), BPF_CORE_READ(a, bytes_alloc));
	}
	return kernel_alloc_pre61(ctx);
}

/* Kernels before 6.1 only (Lua loads them when the tracepoints exist). */
SEC("tracepoint/kmem/kmalloc_node")
int kmalloc_node(void *ctx)
{
	return kernel_alloc_pre61(ctx);
}

SEC("tracepoint/kmem/kmem_cache_alloc_node")
int kmem_cache_alloc_node(void *ctx)
{
	return kernel_alloc_pre61(ctx);
}

SEC("tracepoint/kmem/kfree")
int kfree(struct trace_event_raw_kfree *a)
{
	return free_enter((__u64)BPF_CORE_READ(a, ptr));
}

SEC("tracepoint/kmem/kmem_cache_free")
int kmem_cache_free(struct trace_event_raw_kmem_cache_free *a)
{
	return free_enter((__u64)BPF_CORE_READ(a, ptr));
}

/* pages: the page frame number stands for the address */
SEC("tracepoint/kmem/mm_page_alloc")
int mm_page_alloc(struct trace_event_raw_mm_page_alloc *a)
{
	alloc_enter(page_size << BPF_CORE_READ(a, order));
	return alloc_exit(a, BPF_CORE_READ(a, pfn));
}

SEC("tracepoint/kmem/mm_page_free")
int mm_page_free(struct trace_event_raw_mm_page_free *a)
{
	return free_enter(BPF_CORE_READ(a, pfn));
}

SEC("tracepoint/percpu/percpu_alloc_percpu")
int percpu_alloc_percpu(struct trace_event_raw_percpu_alloc_percpu *a)
{
	alloc_enter(BPF_CORE_READ(a, size));
	return alloc_exit(a, (__u64)BPF_CORE_READ(a, ptr));
}

SEC("tracepoint/percpu/percpu_free_percpu")
int percpu_free_percpu(struct trace_event_raw_percpu_free_percpu *a)
{
	return free_enter((__u64)BPF_CORE_READ(a, ptr));
}

char LICENSE[] SEC("license") = "GPL";
