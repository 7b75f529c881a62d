/* lt_hist.h: log2 buckets for the histogram tools (runqlat, cpudist,
 * biolatency, ...): slot i holds values in [2^i, 2^(i+1) - 1], slot 0 also
 * 0, as libbpf-tools bucket them (and luatrace.hist.libbpf_log2_lines
 * prints them). */
#ifndef LT_HIST_H
#define LT_HIST_H

#define LT_HIST_SLOTS 26

static __always_inline __u64 lt_log2(__u32 v)
{
	__u32 shift, r;
	r = (v > 0xFFFF) << 4; v >>= r;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline __u64 lt_log2l(__u64 v)
{
	__u32 hi = v >> 32;
	return hi ? lt_log2(hi) + 32 : lt_log2(v);
}

/* One histogram, and the name of the task it is for (per-process or
 * per-thread keys). */
struct lt_log2_hist {
	__u32 slots[LT_HIST_SLOTS];
	char comm[16];
};

/* The slot of v, capped at the last one. The barrier hides that s fits
 * in 32 bits, so clang caps it with a 64-bit compare: after a 32-bit one
 * (jmp32) the 6.1 verifier leaves the 64-bit register unbounded and
 * refuses the index ("math between map_value pointer and register with
 * unbounded min value"); 6.18's carries the bound over. */
static __always_inline __u64 lt_hist_slot(__u64 v)
{
	__u64 s = lt_log2l(v);
	barrier_var(s);
	return s >= LT_HIST_SLOTS ? LT_HIST_SLOTS - 1 : s;
}

#endif
