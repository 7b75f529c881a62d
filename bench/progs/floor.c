/* floor: the plain libbpf C baseline for every benchmark workload, on the
 * same kernel programs as luatrace (bench/bpf/bench.bpf.o).
 *
 *   floor startup              count openat by comm; exit at the first event
 *   floor events-ring PID [CAT:EVENT | raw:EVENT]   consume PID's hits of
 *                              a tracepoint or raw tracepoint
 *                              (default syscalls:sys_enter_getppid; ring
 *                              buffer, batched wakeups; events-ring-default:
 *                              flags 0)
 *   floor mapfill              100k entries with one batch update
 *   floor events-perf PID [TRACEPOINT]   the same through a perf buffer
 *   floor count-percpu PID     per-CPU counter of PID's getppid calls
 *   floor count-comm PID       hash count by comm of PID's getppid calls
 *   floor mapread PID          fill a hash from PID's close(fd), then read it
 *                              back with BPF_MAP_LOOKUP_BATCH
 *   floor uprobe BINARY        count calls of bench_target in BINARY
 * All but startup print READY once attached and report at SIGINT. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static volatile sig_atomic_t stop;
static void on_sig(int s) { (void)s; stop = 1; }

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static struct { unsigned long n; double first, last; } ev;

static int on_ring(void *ctx, void *data, size_t size)
{
	(void)ctx; (void)data; (void)size;
	double t = now_ns();
	if (!ev.n++)
		ev.first = t;
	ev.last = t;
	return 0;
}

static void on_perf(void *ctx, int cpu, void *data, __u32 size)
{
	(void)cpu;
	on_ring(ctx, data, size);
}

static unsigned long long perf_lost;
static void on_lost(void *ctx, int cpu, __u64 n) { (void)ctx; (void)cpu; perf_lost += n; }

static int first_event(void *ctx, void *data, size_t size)
{
	(void)ctx; (void)data; (void)size;
	return 1; /* stop consuming: seen */
}

static struct bpf_object *open_only(const char *file, const char *prog, int pid)
{
	char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	if (n < 0)
		return NULL;
	path[n] = 0;
	strcpy(strrchr(path, '/') + 1, file);
	struct bpf_object *o = bpf_object__open_file(path, NULL);
	if (!o)
		return NULL;
	struct bpf_program *p;
	bpf_object__for_each_program(p, o)
		bpf_program__set_autoload(p, !strcmp(bpf_program__name(p), prog));
	struct bpf_map *m;
	bpf_object__for_each_map(m, o) {
		size_t sz;
		if (strstr(bpf_map__name(m), ".rodata")) {
			int *init = (int *)bpf_map__initial_value(m, &sz);
			if (init)
				init[0] = pid; /* target_pid is the first rodata var */
		}
	}
	if (bpf_object__load(o)) {
		fprintf(stderr, "floor: load failed\n");
		exit(1);
	}
	return o;
}

/* Attach prog where its SEC() says, to tracepoint tp ("cat:event"), or,
 * for tp "raw:event", to that raw tracepoint (prog is then a raw_tp one). */
static struct bpf_link *attach_to(struct bpf_object *o, const char *prog, const char *tp)
{
	struct bpf_program *p = bpf_object__find_program_by_name(o, prog);
	struct bpf_link *l;
	char cat[64];
	const char *ev = tp ? strchr(tp, ':') : NULL;
	if (ev && !strncmp(tp, "raw:", 4)) {
		l = bpf_program__attach_raw_tracepoint(p, ev + 1);
	} else if (ev && (size_t)(ev - tp) < sizeof(cat)) {
		memcpy(cat, tp, ev - tp);
		cat[ev - tp] = 0;
		l = bpf_program__attach_tracepoint(p, cat, ev + 1);
	} else {
		l = bpf_program__attach(p);
	}
	if (!l) {
		fprintf(stderr, "floor: attach %s failed\n", prog);
		exit(1);
	}
	return l;
}

static struct bpf_link *attach(struct bpf_object *o, const char *prog)
{
	return attach_to(o, prog, NULL);
}

static void ready(void)
{
	printf("READY\n");
	fflush(stdout);
}

static void wait_stop(void)
{
	while (!stop)
		pause();
}

static unsigned long long sum_percpu(int fd, __u32 key)
{
	int ncpu = libbpf_num_possible_cpus();
	unsigned long long v[ncpu], s = 0;
	if (bpf_map_lookup_elem(fd, &key, v))
		return 0;
	for (int i = 0; i < ncpu; i++)
		s += v[i];
	return s;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	const char *mode = argv[1];
	int pid = argc > 2 ? atoi(argv[2]) : 0;
	if (!strcmp(mode, "startup")) {
		struct bpf_object *o = open_only("startup.bpf.o", "open_by_comm", 0);
		struct bpf_link *l = attach(o, "open_by_comm");
		struct ring_buffer *rb = ring_buffer__new(
			bpf_map__fd(bpf_object__find_map_by_name(o, "ring")), first_event, NULL, NULL);
		while (ring_buffer__poll(rb, 100) == 0)
			;
		printf("FIRST\n");
		fflush(stdout);
		ring_buffer__free(rb);
		bpf_link__destroy(l);
		bpf_object__close(o);
		return 0;
	}
	if (!strcmp(mode, "events-ring") || !strcmp(mode, "events-perf") ||
	    !strcmp(mode, "events-ring-default")) {
		int ring = strcmp(mode, "events-perf") != 0;
		const char *tp = argc > 3 ? argv[3] : NULL;
		char prog[64];
		snprintf(prog, sizeof(prog), "%s%s",
			 !ring ? "ev_perf" : !strcmp(mode, "events-ring") ? "ev_ring" : "ev_ring_default",
			 tp && !strncmp(tp, "raw:", 4) ? "_raw" : "");
		struct bpf_object *o = open_only("bench.bpf.o", prog, pid);
		struct bpf_link *l = attach_to(o, prog, tp);
		struct ring_buffer *rb = NULL;
		struct perf_buffer *pb = NULL;
		if (ring)
			rb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(o, "ring")),
					      on_ring, NULL, NULL);
		else
			pb = perf_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(o, "perf")),
					      256, on_perf, on_lost, NULL, NULL);
		ready();
		while (!stop) {
			if (ring)
				ring_buffer__poll(rb, 100);
			else
				perf_buffer__poll(pb, 100);
		}
		if (ring)
			ring_buffer__consume(rb);
		else
			perf_buffer__consume(pb);
		printf("received=%lu span_ns=%.0f lost=%llu\n", ev.n, ev.last - ev.first, perf_lost);
		bpf_link__destroy(l);
		return 0;
	}
	if (!strcmp(mode, "count-percpu") || !strcmp(mode, "count-comm")) {
		int percpu = !strcmp(mode, "count-percpu");
		const char *prog = percpu ? "cnt_percpu" : "cnt_comm";
		struct bpf_object *o = open_only("bench.bpf.o", prog, pid);
		struct bpf_link *l = attach(o, prog);
		ready();
		wait_stop();
		if (percpu)
			printf("count=%llu\n",
			       sum_percpu(bpf_map__fd(bpf_object__find_map_by_name(o, "counter")), 0));
		else
			printf("counted\n");
		bpf_link__destroy(l);
		return 0;
	}
	if (!strcmp(mode, "mapread")) {
		struct bpf_object *o = open_only("bench.bpf.o", "fill_big", pid);
		struct bpf_link *l = attach(o, "fill_big");
		ready();
		wait_stop();
		bpf_link__destroy(l);
		int fd = bpf_map__fd(bpf_object__find_map_by_name(o, "big"));
		__u32 max = 131072, *keys = malloc(max * 4), count, total = 0;
		__u64 *vals = malloc(max * 8), in = 0, out = 0;
		double t0 = now_ns();
		int first = 1;
		for (;;) {
			count = max - total;
			int err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys + total,
						       vals + total, &count, NULL);
			total += count;
			if (err)
				break;
			in = out;
			first = 0;
		}
		double dt = now_ns() - t0;
		unsigned long long check = 0;
		for (__u32 i = 0; i < total; i++)
			check += vals[i];
		printf("entries=%u read_ms=%.3f check=%llu\n", total, dt / 1e6, check);
		return 0;
	}
	if (!strcmp(mode, "mapfill")) {
		/* 100k entries into `big` with one BPF_MAP_UPDATE_BATCH */
		struct bpf_object *o = open_only("bench.bpf.o", "fill_big", 0);
		int fd = bpf_map__fd(bpf_object__find_map_by_name(o, "big"));
		__u32 n = 100000, *keys = malloc(n * 4);
		__u64 *vals = malloc(n * 8);
		ready();
		double t0 = now_ns();
		for (__u32 i = 0; i < n; i++) {
			keys[i] = i + 1;
			vals[i] = 3ull * (i + 1);
		}
		__u32 count = n;
		int err = bpf_map_update_batch(fd, keys, vals, &count, NULL);
		double dt = now_ns() - t0;
		printf("entries=%u fill_ms=%.3f err=%d\n", count, dt / 1e6, err);
		return 0;
	}
	if (!strcmp(mode, "uprobe") && argc > 2) {
		struct bpf_object *o = open_only("bench.bpf.o", "count_uprobe", 0);
		LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = "bench_target");
		struct bpf_link *l = bpf_program__attach_uprobe_opts(
			bpf_object__find_program_by_name(o, "count_uprobe"), -1, argv[2], 0, &uo);
		if (!l)
			return 1;
		ready();
		wait_stop();
		printf("count=%llu\n",
		       sum_percpu(bpf_map__fd(bpf_object__find_map_by_name(o, "counter")), 0));
		bpf_link__destroy(l);
		return 0;
	}
	return 2;
}
