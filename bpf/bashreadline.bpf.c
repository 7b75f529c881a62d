// SPDX-License-Identifier: GPL-2.0
/* bashreadline: the lines interactive bash shells read, from a uretprobe on
 * readline() (in /bin/bash or libreadline; Lua attaches it), only for
 * tasks named "bash". */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "lt_export.h"
#include "lt_tool.h"
#include "bashreadline.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18);
} events SEC(".maps");

LT_EXPORT_TYPE(struct bashreadline_event, events);

SEC("uretprobe")
int BPF_KRETPROBE(printret, const void *ret)
{
	if (!ret || !lt_tool_wanted())
		return 0;
	char comm[16];
	bpf_get_current_comm(comm, sizeof(comm));
	if (comm[0] != 'b' || comm[1] != 'a' || comm[2] != 's' || comm[3] != 'h' || comm[4])
		return 0;
	struct bashreadline_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_probe_read_user_str(e->str, sizeof(e->str), ret);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
