/* comm_count.h: "count by comm", shared by the startup and overhead
 * programs of the benchmark (one definition of the map and the update). */
#ifndef BENCH_COMM_COUNT_H
#define BENCH_COMM_COUNT_H

struct bench_key {
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct bench_key);
	__type(value, u64);
} by_comm SEC(".maps");

static __always_inline void count_comm(void)
{
	struct bench_key k = {};
	bpf_get_current_comm(k.comm, sizeof(k.comm));
	u64 one = 1, *v = bpf_map_lookup_elem(&by_comm, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&by_comm, &k, &one, BPF_NOEXIST);
}

#endif
