// SPDX-License-Identifier: GPL-2.0
/* mountsnoop: mount(2) and umount2(2) with their arguments, latency,
 * result and mount namespace; arguments kept by thread from sys_enter_* to
 * sys_exit_* and read there. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "lt_export.h"
#include "lt_tool.h"
#include "mountsnoop.h"

struct margs {
	__u64 ts;
	__u64 flags;
	const char *src, *dest, *fs, *data;
	__u32 op;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct margs);
} args SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

LT_EXPORT_TYPE(struct mountsnoop_event, events);

static int enter(const char *src, const char *dest, const char *fs, __u64 flags,
		 const char *data, __u32 op)
{
	if (!lt_tool_wanted())
		return 0;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct margs a = {.ts = bpf_ktime_get_ns(), .flags = flags, .src = src,
			  .dest = dest, .fs = fs, .data = data, .op = op};
	bpf_map_update_elem(&args, &tid, &a, BPF_ANY);
	return 0;
}

static void read_str(char *dst, __u32 size, const char *src)
{
	if (!src || bpf_probe_read_user_str(dst, size, src) < 0)
		dst[0] = '\0';
}

static int leave(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct margs *a = bpf_map_lookup_elem(&args, &tid);
	if (!a)
		return 0;
	struct mountsnoop_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		goto out;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	e->delta_ns = bpf_ktime_get_ns() - a->ts;
	e->flags = a->flags;
	e->pid = id >> 32;
	e->tid = tid;
	e->mnt_ns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	e->ret = ret;
	e->op = a->op;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	read_str(e->fs, sizeof(e->fs), a->fs);
	read_str(e->src, sizeof(e->src), a->src);
	read_str(e->dest, sizeof(e->dest), a->dest);
	read_str(e->data, sizeof(e->data), a->data);
	bpf_ringbuf_submit(e, 0);
out:
	bpf_map_delete_elem(&args, &tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_mount")
int mount_entry(struct trace_event_raw_sys_enter *ctx)
{
	return enter((const char *)ctx->args[0], (const char *)ctx->args[1],
		     (const char *)ctx->args[2], ctx->args[3], (const char *)ctx->args[4],
		     MOUNTSNOOP_MOUNT);
}

SEC("tracepoint/syscalls/sys_exit_mount")
int mount_exit(struct trace_event_raw_sys_exit *ctx) { return leave(ctx->ret); }

SEC("tracepoint/syscalls/sys_enter_umount")
int umount_entry(struct trace_event_raw_sys_enter *ctx)
{
	return enter(NULL, (const char *)ctx->args[0], NULL, ctx->args[1], NULL,
		     MOUNTSNOOP_UMOUNT);
}

SEC("tracepoint/syscalls/sys_exit_umount")
int umount_exit(struct trace_event_raw_sys_exit *ctx) { return leave(ctx->ret); }

char LICENSE[] SEC("license") = "GPL";
