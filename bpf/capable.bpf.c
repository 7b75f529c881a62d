// SPDX-License-Identifier: GPL-2.0
/* capable: security capability checks (cap_capable) with their verdicts:
 * arguments at entry, the result at return, as fentry/fexit where the
 * kernel allows them, else kprobe/kretprobe (Lua loads one pair). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "lt_export.h"
#include "lt_tool.h"
#include "capable.h"

#define CAP_OPT_NOAUDIT 0x2
#define CAP_OPT_INSETID 0x4

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct capable_event);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

LT_EXPORT_TYPE(struct capable_event, events);

static __always_inline int enter(int cap, unsigned int opt)
{
	if (!lt_tool_wanted())
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct capable_event e = {.pid = id >> 32, .tid = tid,
		.uid = (__u32)bpf_get_current_uid_gid(), .cap = cap,
		.audit = (opt & CAP_OPT_NOAUDIT) == 0, .insetid = (opt & CAP_OPT_INSETID) != 0};
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	bpf_map_update_elem(&start, &tid, &e, BPF_ANY);
	return 0;
}

static __always_inline int leave(int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct capable_event *e = bpf_map_lookup_elem(&start, &tid);
	if (!e)
		return 0;
	e->ret = ret;
	bpf_ringbuf_output(&events, e, sizeof(*e), 0);
	bpf_map_delete_elem(&start, &tid);
	return 0;
}

SEC("kprobe/cap_capable")
int BPF_KPROBE(kprobe_cap_capable, const struct cred *cred, struct user_namespace *ns, int cap,
	       unsigned int opt)
{
	return enter(cap, opt);
}

SEC("kretprobe/cap_capable")
int BPF_KRETPROBE(kretprobe_cap_capable, int ret) { return leave(ret); }

SEC("fentry/cap_capable")
int BPF_PROG(fentry_cap_capable, const struct cred *cred, struct user_namespace *ns, int cap,
	     unsigned int opt)
{
	return enter(cap, opt);
}

SEC("fexit/cap_capable")
int BPF_PROG(fexit_cap_capable, const struct cred *cred, struct user_namespace *ns, int cap,
	     unsigned int opt, int ret)
{
	return leave(ret);
}

char LICENSE[] SEC("license") = "GPL";
