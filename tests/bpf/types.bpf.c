// SPDX-License-Identifier: GPL-2.0
/* Layout test program: structs whose FFI translation is easy to get wrong
 * (bitfields with gaps, packed, over-aligned, nested anonymous unions). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "lt_export.h"

struct lt_test_bits {
	__u8 a;
	__u32 b : 3;
	__u32 c : 5;
	__u32 : 4;
	__u32 d : 20;
	__u64 e;
	__s32 f : 7;
};

struct lt_test_packed {
	__u8 a;
	__u32 b;
	__u16 c;
} __attribute__((packed));

enum lt_test_color { LT_RED = 1, LT_BLUE = 2 };

struct lt_test_nested {
	struct lt_test_packed p[2];
	union {
		__u32 word;
		__u8 bytes[4];
	};
	__s16 neg;
	void *ptr;
	enum lt_test_color color;
	char name[5];
	__u64 grid[2][3];
};

struct lt_test_aligned {
	__u8 a;
	__u64 b __attribute__((aligned(16)));
	__u8 c;
};

/* A member aligned past its natural alignment (the kernel's
 * ____cacheline_aligned): the struct ends well after its last member. */
struct lt_test_cacheline {
	__u64 x;
	struct { __u32 y; } __attribute__((aligned(64))) z;
	__u32 w;
};

struct lt_test_cacheline_outer {
	struct lt_test_cacheline in;
	__u8 t;
};

LT_EXPORT_TYPE(struct lt_test_bits, bits);
LT_EXPORT_TYPE(struct lt_test_cacheline_outer, cacheline);
LT_EXPORT_TYPE(struct lt_test_packed, packed);
LT_EXPORT_TYPE(struct lt_test_nested, nested);
LT_EXPORT_TYPE(struct lt_test_aligned, aligned);

SEC("tracepoint/syscalls/sys_enter_getppid")
int types_noop(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
