// SPDX-License-Identifier: GPL-2.0
/* Probe-type test program: one program per attach type. Counters go to
 * `hits`; uprobe, uretprobe and USDT send their arguments and return values
 * through the `probe_events` ring buffer. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "lt_export.h"
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

#define LT_NR_OPENAT 257 /* x86_64 */

enum { HIT_RAW_TP, HIT_TP_BTF, HIT_SAMPLE_OURS, HIT_SAMPLE_ANY, HIT_KPROBE,
       HIT_KRETPROBE, HIT_LIBC, HIT_MAX };

const volatile int target_pid = 0;

struct lt_test_probe {
	__u32 kind; /* 1 uprobe, 2 uretprobe, 3 usdt */
	__u32 pid;
	__s64 a;
	__s64 b;
	char str[32];
};
LT_EXPORT_TYPE(struct lt_test_probe, probe);


struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HIT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} probe_events SEC(".maps");

static __always_inline void hit(__u32 i)
{
	__u64 *v = bpf_map_lookup_elem(&hits, &i);
	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline int ours(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == (__u32)target_pid;
}

SEC("raw_tracepoint/sys_enter")
int on_raw_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	if (ours() && ctx->args[1] == LT_NR_OPENAT)
		hit(HIT_RAW_TP);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(on_btf_sys_enter, struct pt_regs *regs, long id)
{
	if (ours() && id == LT_NR_OPENAT)
		hit(HIT_TP_BTF);
	return 0;
}

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx)
{
	hit(HIT_SAMPLE_ANY);
	if (ours())
		hit(HIT_SAMPLE_OURS);
	return 0;
}

static __always_inline void send(__u32 kind, __s64 a, __s64 b, const char *s)
{
	struct lt_test_probe *e = bpf_ringbuf_reserve(&probe_events, sizeof(*e), 0);
	if (!e)
		return;
	e->kind = kind;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->a = a;
	e->b = b;
	e->str[0] = 0;
	if (s)
		bpf_probe_read_user_str(e->str, sizeof(e->str), s);
	bpf_ringbuf_submit(e, 0);
}

SEC("uprobe")
int BPF_KPROBE(on_add, int a, int b)
{
	send(1, a, b, NULL);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(on_add_ret, int ret)
{
	send(2, ret, 0, NULL);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(on_libc_call)
{
	if (ours())
		hit(HIT_LIBC);
	return 0;
}

SEC("usdt")
int BPF_USDT(on_tick, int i, long v, const char *s)
{
	send(3, i, v, s);
	return 0;
}

SEC("kprobe/vfs_read")
int BPF_KPROBE(on_vfs_read)
{
	if (ours())
		hit(HIT_KPROBE);
	return 0;
}

SEC("kretprobe/vfs_read")
int BPF_KRETPROBE(on_vfs_read_ret, long ret)
{
	if (ours())
		hit(HIT_KRETPROBE);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
