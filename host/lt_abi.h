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

#endif
