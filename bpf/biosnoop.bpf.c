// SPDX-License-Identifier: GPL-2.0
/* biosnoop: every block I/O with the process that started it, its disk,
 * operation, sector, size and latency. The process is taken where the
 * request starts in its context: block:block_io_start (6.5+) or, where
 * that tracepoint is missing, block_rq_insert (Lua loads one). Times:
 * insert and issue, completion emits the record. All raw_tp, each taking
 * struct request * as arg0 (block_io_start too: it is of the block_rq
 * class, not block_bio); CO-RE reads, not tp_btf: docs/TOOLS.md. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "lt_export.h"
#include "lt_tool.h"
#include "lt_block.h"
#include "biosnoop.h"

const volatile bool filter_dev = false;
const volatile __u32 targ_dev = 0;
const volatile bool targ_queued = false;

struct piddata {
	char comm[16];
	__u32 pid;
};

struct stage {
	__u64 insert;
	__u64 issue;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct request *);
	__type(value, struct piddata);
} infobyreq SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct request *);
	__type(value, struct stage);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

LT_EXPORT_TYPE(struct biosnoop_event, events);

static __always_inline bool dev_wanted(struct request *rq)
{
	return !filter_dev || lt_rq_dev(rq) == targ_dev;
}

static __always_inline int note_pid(struct request *rq)
{
	if (!lt_tool_wanted() || !dev_wanted(rq))
		return 0;
	struct piddata p = {.pid = bpf_get_current_pid_tgid() >> 32};
	bpf_get_current_comm(p.comm, sizeof(p.comm));
	bpf_map_update_elem(&infobyreq, &rq, &p, BPF_ANY);
	return 0;
}

static __always_inline int stage(struct request *rq, bool insert)
{
	if (!dev_wanted(rq))
		return 0;
	struct stage *s = bpf_map_lookup_elem(&start, &rq);
	struct stage n = {};
	if (!s) {
		s = &n;
	}
	if (insert)
		s->insert = bpf_ktime_get_ns();
	else
		s->issue = bpf_ktime_get_ns();
	if (s == &n)
		bpf_map_update_elem(&start, &rq, &n, BPF_ANY);
	return 0;
}

SEC("raw_tp/block_io_start")
int BPF_PROG(io_start, struct request *rq) { return note_pid(rq); }

SEC("raw_tp/block_rq_insert")
int BPF_PROG(rq_insert_pid, struct request *rq)
{
	note_pid(rq);
	return stage(rq, true);
}

SEC("raw_tp/block_rq_insert")
int BPF_PROG(rq_insert, struct request *rq) { return stage(rq, true); }

SEC("raw_tp/block_rq_issue")
int BPF_PROG(rq_issue, struct request *rq) { return stage(rq, false); }

SEC("raw_tp/block_rq_complete")
int BPF_PROG(rq_complete, struct request *rq, int error, unsigned int nr_bytes)
{
	struct stage *s = bpf_map_lookup_elem(&start, &rq);
	if (!s)
		return 0;
	struct piddata *p = bpf_map_lookup_elem(&infobyreq, &rq);
	/* filtered (-p, cgroup): only I/O started by a wanted task */
	if (!p && (targ_tgid || targ_tid || filter_cg))
		goto out;
	if (!s->issue)
		goto out;
	struct biosnoop_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		goto out;
	__u64 ts = bpf_ktime_get_ns();
	e->ts = ts;
	e->delta = ts - s->issue;
	e->qdelta = s->insert ? (__s64)(s->issue - s->insert) : -1;
	if (targ_queued && s->insert)
		e->delta = ts - s->insert;
	e->sector = BPF_CORE_READ(rq, __sector);
	e->len = nr_bytes;
	e->dev = lt_rq_dev(rq);
	e->flags = lt_rq_flags(rq);
	if (p) {
		e->pid = p->pid;
		__builtin_memcpy(e->comm, p->comm, sizeof(e->comm));
	} else {
		e->pid = 0;
		e->comm[0] = '?';
		e->comm[1] = '\0';
	}
	bpf_ringbuf_submit(e, 0);
out:
	bpf_map_delete_elem(&start, &rq);
	bpf_map_delete_elem(&infobyreq, &rq);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
