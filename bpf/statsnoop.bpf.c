// SPDX-License-Identifier: GPL-2.0
/* statsnoop: stat-family syscalls (statfs, newstat, statx, newfstatat,
 * newlstat) with their paths and results; the path pointer is kept by
 * thread from sys_enter_* to sys_exit_*. Lua loads the programs of the
 * tracepoints this kernel has. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "lt_export.h"
#include "lt_tool.h"
#include "statsnoop.h"

const volatile bool trace_failed_only = false;

struct start_t {
	const char *path;
	__u32 call;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct start_t);
} values SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

LT_EXPORT_TYPE(struct statsnoop_event, events);

static int enter(const char *path, __u32 call)
{
	if (!lt_tool_wanted())
		return 0;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct start_t s = {.path = path, .call = call};
	bpf_map_update_elem(&values, &tid, &s, BPF_ANY);
	return 0;
}

static int leave(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct start_t *s = bpf_map_lookup_elem(&values, &tid);
	if (!s)
		return 0;
	if (trace_failed_only && ret >= 0)
		goto out;
	struct statsnoop_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		goto out;
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = id >> 32;
	e->ret = ret;
	e->call = s->call;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (bpf_probe_read_user_str(e->pathname, sizeof(e->pathname), s->path) < 0)
		e->pathname[0] = '\0';
	bpf_ringbuf_submit(e, 0);
out:
	bpf_map_delete_elem(&values, &tid);
	return 0;
}

#define STAT_CALL(name, idx, arg)                                            \
	SEC("tracepoint/syscalls/sys_enter_" #name)                          \
	int name##_enter(struct trace_event_raw_sys_enter *ctx)              \
	{                                                                    \
		return enter((const char *)ctx->args[arg], idx);             \
	}                                                                    \
	SEC("tracepoint/syscalls/sys_exit_" #name)                           \
	int name##_exit(struct trace_event_raw_sys_exit *ctx)                \
	{                                                                    \
		return leave(ctx->ret);                                      \
	}

STAT_CALL(statfs, 1, 0)
STAT_CALL(newstat, 2, 0)
STAT_CALL(statx, 3, 1)
STAT_CALL(newfstatat, 4, 1)
STAT_CALL(newlstat, 5, 0)

char LICENSE[] SEC("license") = "GPL";
