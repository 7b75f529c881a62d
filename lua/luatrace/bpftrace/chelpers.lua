-- luatrace.bpftrace.chelpers: C helpers every generated program carries
-- (what bpftrace's codegen emits as LLVM IR: string reads and compares,
-- histogram buckets, map updates).
return [[
/* str(): kernel pointers first, user pointers when that faults */
static __always_inline long lt_bt_read_str(void *dst, u32 size, const void *src)
{
	long r = bpf_probe_read_kernel_str(dst, size, src);
	if (r < 0)
		r = bpf_probe_read_user_str(dst, size, src);
	if (r < 0)
		((char *)dst)[0] = 0;
	return r;
}
static __always_inline long lt_bt_read(void *dst, u32 size, const void *src)
{
	long r = bpf_probe_read_kernel(dst, size, src);
	if (r < 0)
		r = bpf_probe_read_user(dst, size, src);
	return r;
}
/* bpftrace's string ==: equal up to the first NUL, within n bytes */
static __always_inline int lt_bt_strneq(const char *a, const char *b, u32 n)
{
	for (u32 i = 0; i < n && i < 256; i++) {
		if (a[i] != b[i])
			return 0;
		if (a[i] == 0)
			return 1;
	}
	return 1;
}
/* strcontains() with a needle that is not a literal */
static __always_inline int lt_bt_strcontains(const char *h, u32 hn, const char *n, u32 nn)
{
	for (u32 i = 0; i < hn && i < 64; i++) {
		int found = 1;
		for (u32 j = 0; j < nn && j < 64; j++) {
			if (n[j] == 0)
				break;
			if (i + j >= hn || h[i + j] != n[j]) {
				found = 0;
				break;
			}
		}
		if (found)
			return 1;
		if (h[i] == 0)
			return 0;
	}
	return 0;
}
/* hist(): bucket 0 for negatives, 1 for 0, 2 for 1, k+2 for [2^k, 2^(k+1)) */
static __always_inline u64 lt_bt_log2_bucket(s64 v)
{
	if (v < 0)
		return 0;
	if (v == 0)
		return 1;
	u64 n = v, r = 0;
	if (n >> 32) { n >>= 32; r += 32; }
	if (n >> 16) { n >>= 16; r += 16; }
	if (n >> 8) { n >>= 8; r += 8; }
	if (n >> 4) { n >>= 4; r += 4; }
	if (n >> 2) { n >>= 2; r += 2; }
	if (n >> 1) { r += 1; }
	return r + 2;
}
/* lhist(): 0 below min, 1 + (v - min) / step inside, last at or above max */
static __always_inline u64 lt_bt_linear_bucket(s64 v, s64 min, s64 max, s64 step)
{
	if (v < min)
		return 0;
	if (v >= max)
		return 1 + (max - min) / step;
	return 1 + (v - min) / step;
}
/* add n to the u64/s64 at key (count, sum, ++, +=) */
#define lt_bt_add(map, kp, n, vtype)                                         \
	({                                                                     \
		vtype *__p = bpf_map_lookup_elem(map, kp);                     \
		if (__p) {                                                     \
			__sync_fetch_and_add(__p, (n));                        \
		} else {                                                       \
			vtype __z = (n);                                       \
			if (bpf_map_update_elem(map, kp, &__z, BPF_NOEXIST)) { \
				__p = bpf_map_lookup_elem(map, kp);            \
				if (__p)                                       \
					__sync_fetch_and_add(__p, (n));        \
			}                                                      \
		}                                                              \
	})
/* the value at key, inserted zeroed if absent */
#define lt_bt_lookup_init(map, kp, vtype)                                    \
	({                                                                     \
		vtype *__p = bpf_map_lookup_elem(map, kp);                     \
		if (!__p) {                                                    \
			vtype __z;                                             \
			__builtin_memset(&__z, 0, sizeof(__z));                \
			bpf_map_update_elem(map, kp, &__z, BPF_NOEXIST);       \
			__p = bpf_map_lookup_elem(map, kp);                    \
		}                                                              \
		__p;                                                           \
	})
]]
