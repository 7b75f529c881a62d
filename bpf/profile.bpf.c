// SPDX-License-Identifier: GPL-2.0
/* profile: count stacks sampled by a timed perf event (software
 * cpu-clock at a frequency, attached from Lua on every CPU), by process
 * name, user stack and kernel stack, as BCC's profile does. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "lt_tool.h"
#include "profile.h"

const volatile bool user_stacks_only = false;
const volatile bool kernel_stacks_only = false;
const volatile bool include_idle = false;

/* libbpf-tools' sizes (--stack-storage-size 1024, 10240 counts): the
 * kernel allocates and touches both maps whole at load (perf_event
 * programs need preallocated hash maps): 16384 stacks and 40960 counts
 * were 21 MB and ~4.5 ms of its start. */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1024);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 127 * sizeof(__u64));
} stack_traces SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct profile_key);
	__type(value, __u64);
} counts SEC(".maps");

SEC("perf_event")
int do_perf_event(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (!include_idle && (__u32)id == 0)
		return 0;
	if (!lt_tool_wanted())
		return 0;
	struct profile_key key = {.pid = id >> 32};
	bpf_get_current_comm(key.name, sizeof(key.name));
	key.user_stack_id = kernel_stacks_only ? -1 :
		bpf_get_stackid(ctx, &stack_traces, BPF_F_USER_STACK);
	key.kernel_stack_id = user_stacks_only ? -1 :
		bpf_get_stackid(ctx, &stack_traces, 0);
	__u64 one = 1, *v = bpf_map_lookup_elem(&counts, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
