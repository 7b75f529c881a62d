// SPDX-License-Identifier: GPL-2.0
/* sigsnoop: signals as they are generated (tracepoint signal:signal_generate,
 * every source), or only those sent by kill/tkill/tgkill with their result
 * (syscall tracepoints; Lua loads one set or the other). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "lt_export.h"
#include "lt_tool.h"
#include "sigsnoop.h"

const volatile int target_signal = 0;
const volatile bool failed_only = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct sigsnoop_event);
} values SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18);
} events SEC(".maps");

LT_EXPORT_TYPE(struct sigsnoop_event, events);

static int kill_enter(__u32 tpid, int sig)
{
	if (target_signal && sig != target_signal)
		return 0;
	if (!lt_tool_wanted())
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct sigsnoop_event e = {.pid = id >> 32, .tpid = tpid, .sig = sig};
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	bpf_map_update_elem(&values, &tid, &e, BPF_ANY);
	return 0;
}

static int kill_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct sigsnoop_event *e = bpf_map_lookup_elem(&values, &tid);
	if (!e)
		return 0;
	if (!failed_only || ret < 0) {
		e->ret = ret;
		bpf_ringbuf_output(&events, e, sizeof(*e), 0);
	}
	bpf_map_delete_elem(&values, &tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_kill")
int kill_entry(struct trace_event_raw_sys_enter *ctx)
{
	return kill_enter((__u32)ctx->args[0], (int)ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_exit_kill")
int kill_return(struct trace_event_raw_sys_exit *ctx) { return kill_exit(ctx->ret); }

SEC("tracepoint/syscalls/sys_enter_tkill")
int tkill_entry(struct trace_event_raw_sys_enter *ctx)
{
	return kill_enter((__u32)ctx->args[0], (int)ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_exit_tkill")
int tkill_return(struct trace_event_raw_sys_exit *ctx) { return kill_exit(ctx->ret); }

SEC("tracepoint/syscalls/sys_enter_tgkill")
int tgkill_entry(struct trace_event_raw_sys_enter *ctx)
{
	return kill_enter((__u32)ctx->args[1], (int)ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_exit_tgkill")
int tgkill_return(struct trace_event_raw_sys_exit *ctx) { return kill_exit(ctx->ret); }

SEC("tracepoint/signal/signal_generate")
int signal_generate(struct trace_event_raw_signal_generate *ctx)
{
	int sig = ctx->sig, ret = ctx->errno;
	if (failed_only && ret == 0)
		return 0;
	if (target_signal && sig != target_signal)
		return 0;
	if (!lt_tool_wanted())
		return 0;
	struct sigsnoop_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->tpid = ctx->pid;
	e->sig = sig;
	e->ret = ret;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
