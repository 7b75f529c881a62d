// SPDX-License-Identifier: GPL-2.0
/* offcputime: time threads spend blocked (off CPU), summed by the stacks
 * they blocked in. At sched_switch the outgoing thread's stacks and the
 * time are saved; when it comes back the time off CPU is added to its
 * stacks' total. raw_tp with CO-RE reads (why not tp_btf: docs/TOOLS.md). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "lt_tool.h"
#include "offcputime.h"

#define PF_KTHREAD 0x00200000

const volatile bool kernel_threads_only = false;
const volatile bool user_threads_only = false;
const volatile bool user_stacks_only = false;
const volatile bool kernel_stacks_only = false;
const volatile __u64 max_block_us = (__u64)-1;
const volatile __u64 min_block_us = 1;
const volatile long targ_state = -1;

struct start_t {
	struct offcputime_key key;
	__u64 ts;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct start_t);
} start SEC(".maps");

/* libbpf-tools' --stack-storage-size (1024): a stack map is allocated and
 * touched whole at load (16384 stacks were 16 MB and ~3 ms). The hash
 * maps stay preallocated: allocating in sched_switch could deadlock on
 * kernels before 6.1. */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1024);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 127 * sizeof(__u64));
} stackmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct offcputime_key);
	__type(value, struct offcputime_val);
} info SEC(".maps");

static __always_inline bool allow_record(struct task_struct *t)
{
	__u32 flags = BPF_CORE_READ(t, flags);
	if (!lt_tool_ids_wanted(BPF_CORE_READ(t, tgid), BPF_CORE_READ(t, pid)))
		return false;
	if (user_threads_only && (flags & PF_KTHREAD))
		return false;
	if (kernel_threads_only && !(flags & PF_KTHREAD))
		return false;
	if (targ_state != -1 && lt_task_state(t) != targ_state)
		return false;
	if (filter_cg && bpf_current_task_under_cgroup(&cgroup_map, 0) != 1)
		return false;
	return true;
}

static __always_inline int on_switch(void *ctx, struct task_struct *prev, struct task_struct *next)
{
	if (allow_record(prev)) {
		struct start_t s = {};
		__u32 pid = BPF_CORE_READ(prev, pid);
		if (!pid) /* idle threads: one per CPU */
			pid = bpf_get_smp_processor_id();
		s.key.pid = pid;
		s.key.tgid = BPF_CORE_READ(prev, tgid);
		s.ts = bpf_ktime_get_ns();
		if ((BPF_CORE_READ(prev, flags) & PF_KTHREAD) || kernel_stacks_only)
			s.key.user_stack_id = -1;
		else
			s.key.user_stack_id = bpf_get_stackid(ctx, &stackmap, BPF_F_USER_STACK);
		s.key.kern_stack_id = user_stacks_only ? -1 : bpf_get_stackid(ctx, &stackmap, 0);
		bpf_map_update_elem(&start, &pid, &s, BPF_ANY);
		struct offcputime_val v = {};
		BPF_CORE_READ_STR_INTO(&v.comm, prev, comm);
		bpf_map_update_elem(&info, &s.key, &v, BPF_NOEXIST);
	}
	__u32 pid = BPF_CORE_READ(next, pid);
	struct start_t *sp = bpf_map_lookup_elem(&start, &pid);
	if (!sp)
		return 0;
	__s64 delta = (__s64)(bpf_ktime_get_ns() - sp->ts);
	if (delta < 0)
		goto out;
	delta /= 1000;
	if ((__u64)delta < min_block_us || (__u64)delta > max_block_us)
		goto out;
	struct offcputime_val *v = bpf_map_lookup_elem(&info, &sp->key);
	if (v)
		__sync_fetch_and_add(&v->delta, delta);
out:
	bpf_map_delete_elem(&start, &pid);
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(raw_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return on_switch(ctx, prev, next);
}

char LICENSE[] SEC("license") = "GPL";
