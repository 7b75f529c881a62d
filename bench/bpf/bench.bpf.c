// SPDX-License-Identifier: GPL-2.0
/* The kernel side of luatrace's and the C floor's benchmark programs (one
 * object, several programs; each run enables the ones it needs). The
 * startup workload has its own small object (startup.bpf.c): every map of
 * an object is created at load, and this one's 16 MiB ring buffer would
 * dominate a startup measurement.
 *
 * No CO-RE relocations on purpose: an object with any makes libbpf parse
 * the kernel's whole BTF at load (about 20 ms and 30 MB here), which would
 * swamp the startup and memory numbers of both luatrace and the C floor.
 * The tracepoint context is read at its fixed offsets instead. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "lt_export.h"
#include "comm_count.h"

const volatile int target_pid = 0;
const volatile int wakeup_every = 64;

/* The 16 bytes luatrace's documented probe emits (bench/luatrace/tracer.lua),
 * with the same work: the consumer reads as many bytes per record, the
 * producer pays the same clock read. */
struct bench_ev {
	u32 pid;
	u32 seq;
	u64 ts;
};
LT_EXPORT_TYPE(struct bench_ev, ev);

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} counter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 131072);
	__type(key, u32);
	__type(value, u64);
} big SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 512 << 10); /* the size issue #12 measured with */
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} perf SEC(".maps");

u32 seq = 0;

/* Throughput: one small event per hit of the target, through the ring
 * buffer with batched wakeups (a forced wakeup every wakeup_every
 * records), with the kernel's default wakeups (flags 0: what a libbpf user
 * writes first), or through a perf buffer. Each as a tracepoint program
 * (sys_enter_getppid, or any tracepoint the floor attaches it to) and as a
 * raw tracepoint program (the _raw twins, attached by name). */
static __always_inline int ev_ring_body(void)
{
	if ((bpf_get_current_pid_tgid() >> 32) != (u32)target_pid)
		return 0;
	u32 s = seq++;
	struct bench_ev e = {.pid = target_pid, .seq = s, .ts = bpf_ktime_get_ns()};
	bpf_ringbuf_output(&ring, &e, sizeof(e),
			   s % wakeup_every ? BPF_RB_NO_WAKEUP : BPF_RB_FORCE_WAKEUP);
	return 0;
}

static __always_inline int ev_ring_default_body(void)
{
	if ((bpf_get_current_pid_tgid() >> 32) != (u32)target_pid)
		return 0;
	struct bench_ev e = {.pid = target_pid, .seq = seq++, .ts = bpf_ktime_get_ns()};
	bpf_ringbuf_output(&ring, &e, sizeof(e), 0);
	return 0;
}

static __always_inline int ev_perf_body(void *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) != (u32)target_pid)
		return 0;
	struct bench_ev e = {.pid = target_pid, .seq = seq++, .ts = bpf_ktime_get_ns()};
	bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int ev_ring(void *ctx) { return ev_ring_body(); }
SEC("tracepoint/syscalls/sys_enter_getppid")
int ev_ring_default(void *ctx) { return ev_ring_default_body(); }
SEC("tracepoint/syscalls/sys_enter_getppid")
int ev_perf(void *ctx) { return ev_perf_body(ctx); }
SEC("raw_tp")
int ev_ring_raw(void *ctx) { return ev_ring_body(); }
SEC("raw_tp")
int ev_ring_default_raw(void *ctx) { return ev_ring_default_body(); }
SEC("raw_tp")
int ev_perf_raw(void *ctx) { return ev_perf_body(ctx); }

/* In-kernel overhead: a per-CPU counter, a hash by comm. */
SEC("tracepoint/syscalls/sys_enter_getppid")
int cnt_percpu(void *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) != (u32)target_pid)
		return 0;
	u32 zero = 0;
	u64 *v = bpf_map_lookup_elem(&counter, &zero);
	if (v)
		*v += 1;
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int cnt_comm(void *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) != (u32)target_pid)
		return 0;
	count_comm();
	return 0;
}

/* Map read-out: fill `big` with one key per close(fd) of the target. */
/* sys_enter_* records: 8 bytes of common fields, the syscall number, then
 * the arguments as longs from offset 16. */
#define SYSCALL_ARG(ctx, i) (((const u64 *)(ctx))[2 + (i)])

SEC("tracepoint/syscalls/sys_enter_close")
int fill_big(void *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) != (u32)target_pid)
		return 0;
	u32 k = SYSCALL_ARG(ctx, 0);
	u64 v = k;
	bpf_map_update_elem(&big, &k, &v, BPF_ANY);
	return 0;
}

/* uprobe overhead: count calls. */
SEC("uprobe")
int count_uprobe(void *ctx)
{
	u32 zero = 0;
	u64 *v = bpf_map_lookup_elem(&counter, &zero);
	if (v)
		*v += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
