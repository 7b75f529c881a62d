/* luatrace.bpf.h: the prelude of every program compiled on demand
 * (BPF{text=...}, BPF{src_file=...}). It gives BCC's vocabulary on top of
 * libbpf and CO-RE: vmlinux.h of the running kernel instead of kernel
 * headers, BTF-defined maps instead of BPF_TABLE, and SEC() sections that
 * the Lua side adds from function names (kprobe__vfs_read, ...).
 *
 * Map methods: BCC's `counts.increment(key)` is rewritten by the Lua side
 * into `lt_m_increment(&counts, key)` for maps declared with the macros
 * below (or as libbpf `SEC(".maps")` structs), so both spellings work.
 * The differences from BCC's C dialect are listed in docs/BPF_C.md. */
#ifndef LUATRACE_BPF_H
#define LUATRACE_BPF_H

/* BPF{vmlinux="lite"} (bpftrace programs that read no kernel struct):
 * scalar typedefs, BPF's enums and context structs only, which clang
 * reads much faster (host/vmlinux_h.c). */
#ifdef LT_VMLINUX_LITE
#include "vmlinux-lite.h"
#else
#include "vmlinux.h"
#endif
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "lt_export.h"
/* <bpf/usdt.bpf.h> is included by the Lua side only into programs that use
 * USDT: clang 14 drops the BTF of its extern (LINUX_HAS_BPF_COOKIE) when it
 * comes from a precompiled header, and libbpf then refuses the object. */

/* ---- argument counting, for BCC's macros with optional arguments ---- */
#define LT_NARG(...) LT_NARG_(__VA_ARGS__, 6, 5, 4, 3, 2, 1, 0)
#define LT_NARG_(a, b, c, d, e, f, N, ...) N
#define LT_CAT(a, b) LT_CAT_(a, b)
#define LT_CAT_(a, b) a##b
#define LT_OVERLOAD(m, ...) LT_CAT(m, LT_NARG(__VA_ARGS__))(__VA_ARGS__)

/* ---- maps ---- */
#define LT_MAP(_type, _name, _key, _val, _size)                               \
	struct {                                                               \
		__uint(type, _type);                                           \
		__uint(max_entries, _size);                                    \
		__type(key, _key);                                             \
		__type(value, _val);                                           \
	} _name SEC(".maps")

#define LT_DEFAULT_SIZE 10240

/* BPF_HASH(name[, key_type[, leaf_type[, size]]]) */
#define BPF_HASH(...) LT_OVERLOAD(LT_HASH, BPF_MAP_TYPE_HASH, __VA_ARGS__)
#define BPF_PERCPU_HASH(...) LT_OVERLOAD(LT_HASH, BPF_MAP_TYPE_PERCPU_HASH, __VA_ARGS__)
#define BPF_LRU_HASH(...) LT_OVERLOAD(LT_HASH, BPF_MAP_TYPE_LRU_HASH, __VA_ARGS__)
#define LT_HASH2(t, n) LT_MAP(t, n, u64, u64, LT_DEFAULT_SIZE)
#define LT_HASH3(t, n, k) LT_MAP(t, n, k, u64, LT_DEFAULT_SIZE)
#define LT_HASH4(t, n, k, v) LT_MAP(t, n, k, v, LT_DEFAULT_SIZE)
#define LT_HASH5(t, n, k, v, s) LT_MAP(t, n, k, v, s)

/* BPF_ARRAY(name[, leaf_type[, size]]): keys are int, as in BCC */
#define BPF_ARRAY(...) LT_OVERLOAD(LT_ARRAY, BPF_MAP_TYPE_ARRAY, __VA_ARGS__)
#define BPF_PERCPU_ARRAY(...) LT_OVERLOAD(LT_ARRAY, BPF_MAP_TYPE_PERCPU_ARRAY, __VA_ARGS__)
#define LT_ARRAY2(t, n) LT_MAP(t, n, int, u64, LT_DEFAULT_SIZE)
#define LT_ARRAY3(t, n, v) LT_MAP(t, n, int, v, LT_DEFAULT_SIZE)
#define LT_ARRAY4(t, n, v, s) LT_MAP(t, n, int, v, s)

/* BPF_HISTOGRAM(name[, key_type[, size]]), 64 slots by default: as in BCC
 * an array when the key is int (the default; typedefs of int count), a
 * hash for any other key (BCC's secondary keys), so `dist.lookup(&slot)`
 * finds a zeroed slot of an int-keyed histogram. */
#define BPF_HISTOGRAM(...) LT_OVERLOAD(LT_HIST, __VA_ARGS__)
#define LT_HIST_TYPE(k)                                                       \
	(__builtin_types_compatible_p(k, int) ? BPF_MAP_TYPE_ARRAY             \
					       : BPF_MAP_TYPE_HASH)
#define LT_HIST1(n) LT_MAP(BPF_MAP_TYPE_ARRAY, n, int, u64, 64)
#define LT_HIST2(n, k) LT_MAP(LT_HIST_TYPE(k), n, k, u64, 64)
#define LT_HIST3(n, k, s) LT_MAP(LT_HIST_TYPE(k), n, k, u64, s)

/* BPF_STACK_TRACE(name, size): stack ids from get_stackid(), frames read
 * by the Lua side's walk(). */
#define LT_STACK_DEPTH 127
typedef u64 lt_stack_t[LT_STACK_DEPTH];
#define BPF_STACK_TRACE(n, s) LT_MAP(BPF_MAP_TYPE_STACK_TRACE, n, u32, lt_stack_t, s)

/* BPF_PERF_OUTPUT(name): a perf buffer, one ring per CPU. */
#define BPF_PERF_OUTPUT(n)                                                    \
	struct {                                                               \
		__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);                   \
		__uint(key_size, sizeof(u32));                                 \
		__uint(value_size, sizeof(u32));                               \
	} n SEC(".maps")

/* BPF_RINGBUF_OUTPUT(name, page_cnt): a ring buffer, and beside it
 * name__lost counting records that did not fit, so the Lua side can report
 * losses (a ring buffer has no kernel lost count). */
#define BPF_RINGBUF_OUTPUT(n, pages)                                          \
	struct {                                                               \
		__uint(type, BPF_MAP_TYPE_RINGBUF);                            \
		__uint(max_entries, (pages) * 4096);                           \
	} n SEC(".maps");                                                      \
	LT_MAP(BPF_MAP_TYPE_PERCPU_ARRAY, n##__lost, u32, u64, 1)

/* ---- map methods (BCC's map.method(...) after the Lua rewrite) ---- */
#define LT_KEY_T(map) __typeof__(*(map)->key)
#define LT_VAL_T(map) __typeof__(*(map)->value)

#define lt_m_lookup(map, kp) bpf_map_lookup_elem(map, kp)
#define lt_m_update(map, kp, vp) bpf_map_update_elem(map, kp, vp, BPF_ANY)
#define lt_m_insert(map, kp, vp) bpf_map_update_elem(map, kp, vp, BPF_NOEXIST)
#define lt_m_delete(map, kp) bpf_map_delete_elem(map, kp)

/* lookup_or_try_init(&key, &zero): the value, inserting zero if absent */
#define lt_m_lookup_or_try_init(map, kp, zp)                                  \
	({                                                                     \
		LT_VAL_T(map) *__lt_v = bpf_map_lookup_elem(map, kp);          \
		if (!__lt_v) {                                                 \
			bpf_map_update_elem(map, kp, zp, BPF_NOEXIST);         \
			__lt_v = bpf_map_lookup_elem(map, kp);                 \
		}                                                              \
		__lt_v;                                                        \
	})
#define lt_m_lookup_or_init lt_m_lookup_or_try_init

/* increment(key[, n]): key by value, as in BCC */
#define lt_m_increment(...) LT_OVERLOAD(LT_INCR, __VA_ARGS__)
#define lt_m_atomic_increment lt_m_increment
#define LT_INCR2(map, key) lt_incr_by(map, key, 1)
#define LT_INCR3(map, key, n) lt_incr_by(map, key, n)
#define lt_incr_by(map, keyexpr, n)                                           \
	({                                                                     \
		LT_KEY_T(map) __lt_k = (keyexpr);                              \
		LT_VAL_T(map) *__lt_v = bpf_map_lookup_elem(map, &__lt_k);     \
		if (__lt_v) {                                                  \
			__sync_fetch_and_add(__lt_v, (n));                     \
		} else {                                                       \
			LT_VAL_T(map) __lt_init = (n);                         \
			if (bpf_map_update_elem(map, &__lt_k, &__lt_init,      \
						BPF_NOEXIST)) {                \
				/* another CPU inserted it first */            \
				__lt_v = bpf_map_lookup_elem(map, &__lt_k);    \
				if (__lt_v)                                    \
					__sync_fetch_and_add(__lt_v, (n));     \
			}                                                      \
		}                                                              \
	})

/* perf_submit(ctx, &data, size) */
#define lt_m_perf_submit(map, ctx, data, size)                                \
	bpf_perf_event_output(ctx, map, BPF_F_CURRENT_CPU, data, size)

/* Count a lost ring-buffer record in <map>__lost. */
#define lt_ringbuf_lost(map)                                                  \
	({                                                                     \
		u32 __lt_zero = 0;                                             \
		u64 *__lt_l = bpf_map_lookup_elem(&LT_CAT(map, __lost),        \
						  &__lt_zero);                 \
		if (__lt_l)                                                    \
			*__lt_l += 1;                                          \
	})

/* Ring buffer wakeups are batched by default: a record submitted with
 * flags 0 wakes the consumer only when at least 1/LT_RB_WAKEUP_DIV of the
 * ring is waiting (BPF_RB_AVAIL_DATA), and never otherwise; the consumer
 * bounds the latency with its own poll timeout (open_ring_buffer's
 * latency_ms). One wakeup per event costs the producer an irq_work and the
 * consumer a context switch, which capped a Lua consumer near 1 M events/s
 * and lost events at full rate. Explicit flags (BPF_RB_FORCE_WAKEUP for a
 * wakeup per event, BPF_RB_NO_WAKEUP) are passed through. */
#ifndef LT_RB_WAKEUP_DIV
#define LT_RB_WAKEUP_DIV 8
#endif
#define LT_RB_SIZE(map) (sizeof(*(map).max_entries) / sizeof(int))
#define lt_rb_flags(map, flags)                                               \
	({                                                                     \
		u64 __lt_f = (flags);                                          \
		if (!__lt_f)                                                   \
			__lt_f = bpf_ringbuf_query(&map, BPF_RB_AVAIL_DATA) >=  \
					 LT_RB_SIZE(map) / LT_RB_WAKEUP_DIV    \
				 ? BPF_RB_FORCE_WAKEUP                         \
				 : BPF_RB_NO_WAKEUP;                           \
		__lt_f;                                                        \
	})

/* ringbuf_output(&data, size, flags); ringbuf_reserve(size);
 * ringbuf_submit(ptr, flags); ringbuf_discard(ptr, flags). The Lua rewrite
 * passes the map by name for these, so the lost counter can be found. */
#define lt_r_ringbuf_output(map, data, size, flags)                           \
	({                                                                     \
		long __lt_r = bpf_ringbuf_output(&map, data, size,             \
						 lt_rb_flags(map, flags));     \
		if (__lt_r)                                                    \
			lt_ringbuf_lost(map);                                  \
		__lt_r;                                                        \
	})
#define lt_r_ringbuf_reserve(map, size)                                       \
	({                                                                     \
		void *__lt_p = bpf_ringbuf_reserve(&map, size, 0);             \
		if (!__lt_p)                                                   \
			lt_ringbuf_lost(map);                                  \
		__lt_p;                                                        \
	})
#define lt_r_ringbuf_submit(map, p, flags)                                    \
	bpf_ringbuf_submit(p, lt_rb_flags(map, flags))
#define lt_r_ringbuf_discard(map, p, flags) bpf_ringbuf_discard(p, flags)

/* get_stackid(ctx, flags) */
#define lt_m_get_stackid(map, ctx, flags) bpf_get_stackid(ctx, map, flags)

/* ---- probes ---- */
/* TRACEPOINT_PROBE(category, event) { ... args->field ... }: the args
 * struct is generated from the tracepoint's format file. */
#define TRACEPOINT_PROBE(category, event)                                     \
	SEC("tracepoint/" #category "/" #event)                                \
	int tracepoint__##category##__##event(                                 \
		struct tracepoint__##category##__##event *args)

/* RAW_TRACEPOINT_PROBE(event) { ... ctx->args[i] ... } */
#define RAW_TRACEPOINT_PROBE(event)                                           \
	SEC("raw_tracepoint/" #event)                                          \
	int raw_tracepoint__##event(struct bpf_raw_tracepoint_args *ctx)

/* KFUNC_PROBE(func, typed args...) / KRETFUNC_PROBE(func, args..., ret) */
#define KFUNC_PROBE(event, ...)                                               \
	SEC("fentry/" #event) int BPF_PROG(kfunc__##event, ##__VA_ARGS__)
#define KRETFUNC_PROBE(event, ...)                                            \
	SEC("fexit/" #event) int BPF_PROG(kretfunc__##event, ##__VA_ARGS__)

/* FUNC_PROBE(func, typed args...) { ... }: entry of a kernel function, as
 * fentry where the kernel allows it (the Lua side defines LT_HAVE_FENTRY
 * after probing) and as a kprobe elsewhere; the body reads the same typed
 * arguments either way. */
#ifdef LT_HAVE_FENTRY
#define FUNC_PROBE(func, ...)                                                 \
	SEC("fentry/" #func) int BPF_PROG(func_probe__##func, ##__VA_ARGS__)
#else
#define FUNC_PROBE(func, ...)                                                 \
	SEC("kprobe/" #func) int BPF_KPROBE(func_probe__##func, ##__VA_ARGS__)
#endif

/* ---- helpers ---- */
/* BCC's log2 slots: bpf_log2l(0) == bpf_log2l(1) == 1, then floor+1. */
static __always_inline unsigned int bpf_log2(unsigned int v)
{
	unsigned int r, shift;
	r = (v > 0xFFFF) << 4;
	v >>= r;
	shift = (v > 0xFF) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xF) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline unsigned int bpf_log2l(unsigned long v)
{
	unsigned int hi = v >> 32;
	if (hi)
		return bpf_log2(hi) + 32 + 1;
	return bpf_log2(v) + 1;
}

/* BCC's bpf_trace_printk(fmt, ...) with a literal format, and libbpf's
 * bpf_printk() beside it. libbpf's __bpf_printk calls the helper by the
 * name our macro takes; redefined here to call the helper through a
 * parenthesized name (never macro-expanded), so neither spelling leaves an
 * unresolved call behind. */
#undef __bpf_printk
#define __bpf_printk(fmt, ...)                                                \
	({                                                                     \
		BPF_PRINTK_FMT_MOD char ____fmt[] = fmt;                       \
		(bpf_trace_printk)(____fmt, sizeof(____fmt), ##__VA_ARGS__);   \
	})
#undef bpf_trace_printk
#define bpf_trace_printk(fmt, ...) bpf_printk(fmt, ##__VA_ARGS__)

/* BCC's USDT argument reader: bpf_usdt_readarg(1-based n, ctx, &dst). */
#define bpf_usdt_readarg(n, ctx, addr)                                        \
	({                                                                     \
		long __lt_a = 0;                                               \
		int __lt_r = bpf_usdt_arg(ctx, (n)-1, &__lt_a);                \
		*(addr) = (__typeof__(*(addr)))__lt_a;                         \
		__lt_r;                                                        \
	})

/* The running process's tgid and tid. */
#define lt_pid() ((u32)(bpf_get_current_pid_tgid() >> 32))
#define lt_tid() ((u32)bpf_get_current_pid_tgid())

#endif
