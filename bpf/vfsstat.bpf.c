// SPDX-License-Identifier: GPL-2.0
/* vfsstat: count VFS calls (read, write, fsync, open, create) per second.
 * Two program sets on the same functions: fentry where the kernel allows
 * it, kprobes otherwise; Lua loads one set (BPF{obj=, programs=}). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "lt_tool.h"

enum { S_READ, S_WRITE, S_FSYNC, S_OPEN, S_CREATE, S_MAXSTAT };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, S_MAXSTAT);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline int inc(__u32 key)
{
	if (!lt_tool_wanted())
		return 0;
	__u64 *v = bpf_map_lookup_elem(&stats, &key);
	if (v)
		*v += 1;
	return 0;
}

SEC("kprobe/vfs_read") int kprobe_vfs_read(void *ctx) { return inc(S_READ); }
SEC("kprobe/vfs_write") int kprobe_vfs_write(void *ctx) { return inc(S_WRITE); }
SEC("kprobe/vfs_fsync") int kprobe_vfs_fsync(void *ctx) { return inc(S_FSYNC); }
SEC("kprobe/vfs_open") int kprobe_vfs_open(void *ctx) { return inc(S_OPEN); }
SEC("kprobe/vfs_create") int kprobe_vfs_create(void *ctx) { return inc(S_CREATE); }

SEC("fentry/vfs_read") int fentry_vfs_read(void *ctx) { return inc(S_READ); }
SEC("fentry/vfs_write") int fentry_vfs_write(void *ctx) { return inc(S_WRITE); }
SEC("fentry/vfs_fsync") int fentry_vfs_fsync(void *ctx) { return inc(S_FSYNC); }
SEC("fentry/vfs_open") int fentry_vfs_open(void *ctx) { return inc(S_OPEN); }
SEC("fentry/vfs_create") int fentry_vfs_create(void *ctx) { return inc(S_CREATE); }

char LICENSE[] SEC("license") = "GPL";
