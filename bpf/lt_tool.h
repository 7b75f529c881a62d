/* lt_tool.h: filters shared by the tool programs (bpf/<tool>.bpf.c), set
 * from Lua as globals before load:
 *   targ_tgid  process to trace (0: all)      -p PID
 *   targ_tid   thread to trace (0: all)       -L TID
 *   filter_cg  trace only the cgroup in cgroup_map[0]   -c PATH
 * The cgroup test is BCC's: bpf_current_task_under_cgroup; until Lua has
 * put the cgroup in the map (after load) nothing passes. Also the task
 * helpers the scheduler tools share (they look at tasks other than the
 * current one). Include after vmlinux.h. */
#ifndef LT_TOOL_H
#define LT_TOOL_H

#include <bpf/bpf_core_read.h>

const volatile __u32 targ_tgid = 0;
const volatile __u32 targ_tid = 0;
const volatile bool filter_cg = false;

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cgroup_map SEC(".maps");

/* True when the current task passes the pid/tid/cgroup filters. */
static __always_inline bool lt_tool_wanted(void)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (targ_tgid && (id >> 32) != targ_tgid)
		return false;
	if (targ_tid && (__u32)id != targ_tid)
		return false;
	if (filter_cg && bpf_current_task_under_cgroup(&cgroup_map, 0) != 1)
		return false;
	return true;
}

/* The pid/tid filters for the ids of any task (prev/next of a switch). */
static __always_inline bool lt_tool_ids_wanted(__u32 tgid, __u32 pid)
{
	return (!targ_tgid || tgid == targ_tgid) && (!targ_tid || pid == targ_tid);
}

/* A task's state; kernels before 5.14 call the field "state". */
struct task_struct___lt_o {
	volatile long state;
} __attribute__((preserve_access_index));

static __always_inline long lt_task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___lt_o *)t, state);
}

#endif
