/* memleak.h: what bpf/memleak.bpf.c keeps per outstanding allocation and
 * per stack, and the -t trace records; modules/memleak.lua reads them
 * through BTF. */
#ifndef MEMLEAK_H
#define MEMLEAK_H

/* allocs: address -> this */
struct memleak_alloc {
	__u64 size;
	__u64 timestamp_ns;
	__s64 stack_id;
};

/* combined: stack id -> this (-C) */
struct memleak_combined {
	__u64 total_size;
	__u64 nr_allocs;
};

enum { MEMLEAK_ALLOC = 1, MEMLEAK_FREE = 2 };

/* -t: one record per allocation (its result) and per free */
struct memleak_event {
	__u64 addr;
	__u64 size; /* of the freed allocation: 0 when it was not tracked */
	__u32 pid;
	__u32 kind;
};

#endif
