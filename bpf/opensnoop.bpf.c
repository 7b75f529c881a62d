// SPDX-License-Identifier: GPL-2.0
/* opensnoop: open(), openat() and openat2() with their results. The file
 * name pointer and flags are kept by thread at sys_enter_* and read at
 * sys_exit_* (the name is still mapped; reading at exit sees the final
 * result). Lua loads only the programs whose tracepoints exist here
 * (open is absent on arm64, openat2 before 5.6). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "lt_export.h"
#include "lt_tool.h"
#include "opensnoop.h"

const volatile __u32 targ_uid = (__u32)-1;
const volatile bool targ_failed = false;

struct args {
	const char *fname;
	__s32 flags;
	__u32 mode;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct args);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

LT_EXPORT_TYPE(struct opensnoop_event, events);

static int enter(const char *fname, __s32 flags, __u32 mode)
{
	if (!lt_tool_wanted())
		return 0;
	if (targ_uid != (__u32)-1 && (__u32)bpf_get_current_uid_gid() != targ_uid)
		return 0;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct args a = {.fname = fname, .flags = flags, .mode = mode};
	bpf_map_update_elem(&start, &tid, &a, BPF_ANY);
	return 0;
}

static int leave(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct args *a = bpf_map_lookup_elem(&start, &tid);
	if (!a)
		return 0;
	if (targ_failed && ret >= 0)
		goto out;
	struct opensnoop_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		goto out;
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = id >> 32;
	e->tid = tid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->ret = ret;
	e->flags = a->flags;
	e->mode = a->mode;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (bpf_probe_read_user_str(e->fname, sizeof(e->fname), a->fname) < 0)
		e->fname[0] = '\0';
	bpf_ringbuf_submit(e, 0);
out:
	bpf_map_delete_elem(&start, &tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_open")
int open_enter(struct trace_event_raw_sys_enter *ctx)
{
	return enter((const char *)ctx->args[0], (__s32)ctx->args[1], (__u32)ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_exit_open")
int open_exit(struct trace_event_raw_sys_exit *ctx) { return leave(ctx->ret); }

SEC("tracepoint/syscalls/sys_enter_openat")
int openat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return enter((const char *)ctx->args[1], (__s32)ctx->args[2], (__u32)ctx->args[3]);
}

SEC("tracepoint/syscalls/sys_exit_openat")
int openat_exit(struct trace_event_raw_sys_exit *ctx) { return leave(ctx->ret); }

/* openat2(dfd, filename, struct open_how *how, size) */
SEC("tracepoint/syscalls/sys_enter_openat2")
int openat2_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct open_how how = {};
	bpf_probe_read_user(&how, sizeof(how), (void *)ctx->args[2]);
	return enter((const char *)ctx->args[1], (__s32)how.flags, (__u32)how.mode);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int openat2_exit(struct trace_event_raw_sys_exit *ctx) { return leave(ctx->ret); }

char LICENSE[] SEC("license") = "GPL";
