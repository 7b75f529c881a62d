/* lt_abi.h: the layout of event batches, shared by C and Lua.
 *
 * This file is the single source of truth: the C host includes it, and
 * the build embeds its text so that Lua's ffi.cdef reads the same
 * declarations (core.abi_cdef, with the # lines stripped). Keep it plain C
 * that LuaJIT's FFI parses: no macros, no includes. */
#ifndef LT_ABI_H
#define LT_ABI_H

/* One record of a drained batch. Records are packed one after another;
 * the next record starts `next` bytes after this header's start, which is
 * always a multiple of 8 so the data of every record is 8-byte aligned. */
struct lt_record {
	unsigned int len;   /* bytes of data that follow this header */
	unsigned int next;  /* offset from this header to the next one */
	int cpu;            /* CPU of the perf buffer it came from, or -1 */
	unsigned int pad;
};

/* The header of each record in a BPF ring buffer's data area (kernel ABI:
 * kernel/bpf/ringbuf.c, bits from uapi linux/bpf.h). Lua's in-place reader
 * (luatrace.events) walks records by it. */
struct lt_ringbuf_hdr {
	unsigned int len;   /* data bytes, | busy bit while not committed,
			       | discard bit for a discarded record */
	int pg_off;
};
enum {
	LT_RINGBUF_BUSY_BIT = 2147483648u, /* 1 << 31 */
	LT_RINGBUF_DISCARD_BIT = 1073741824, /* 1 << 30 */
	LT_RINGBUF_HDR_SZ = 8
};

#endif
