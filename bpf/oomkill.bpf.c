// SPDX-License-Identifier: GPL-2.0
/* oomkill: the OOM killer's victims, from oom_kill_process(oc, message):
 * who triggered it (the current task), whom it kills (oc->chosen) and
 * the memory it had to work with (oc->totalpages). fentry where the
 * kernel allows it, else a kprobe; Lua loads one of the two. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lt_export.h"
#include "oomkill.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
} events SEC(".maps");

LT_EXPORT_TYPE(struct oomkill_event, events);

static __always_inline int report(struct oom_control *oc)
{
	struct oomkill_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->fpid = bpf_get_current_pid_tgid() >> 32;
	e->tpid = BPF_CORE_READ(oc, chosen, tgid);
	e->pages = BPF_CORE_READ(oc, totalpages);
	bpf_get_current_comm(e->fcomm, sizeof(e->fcomm));
	BPF_CORE_READ_STR_INTO(&e->tcomm, oc, chosen, comm);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("kprobe/oom_kill_process")
int BPF_KPROBE(kprobe_oom_kill_process, struct oom_control *oc) { return report(oc); }

SEC("fentry/oom_kill_process")
int BPF_PROG(fentry_oom_kill_process, struct oom_control *oc) { return report(oc); }

char LICENSE[] SEC("license") = "GPL";
