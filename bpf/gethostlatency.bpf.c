// SPDX-License-Identifier: GPL-2.0
/* gethostlatency: latency of getaddrinfo(), gethostbyname() and
 * gethostbyname2() calls, from uprobes on the C library (attached from
 * Lua, which finds the library): the host name at entry, the time at
 * return. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "lt_export.h"
#include "lt_tool.h"
#include "gethostlatency.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct gethostlatency_event);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18);
} events SEC(".maps");

LT_EXPORT_TYPE(struct gethostlatency_event, events);

SEC("uprobe")
int BPF_KPROBE(handle_entry, const char *host)
{
	if (!host || !lt_tool_wanted())
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct gethostlatency_event e = {.time = bpf_ktime_get_ns(), .pid = id >> 32};
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	bpf_probe_read_user_str(e.host, sizeof(e.host), host);
	bpf_map_update_elem(&starts, &tid, &e, BPF_ANY);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(handle_return)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct gethostlatency_event *e = bpf_map_lookup_elem(&starts, &tid);
	if (!e)
		return 0;
	e->time = bpf_ktime_get_ns() - e->time;
	bpf_ringbuf_output(&events, e, sizeof(*e), 0);
	bpf_map_delete_elem(&starts, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
