/* gen: the workloads' event generators (one process, its own pid and comm
 * "gen", so tracers can filter on it).
 *
 *   gen getppid N   N getppid() calls; prints ns per call
 *   gen close N     close(100000 + i) for i < N (EBADF): N distinct fds
 *   gen uloop N     N calls of bench_target(); prints calls per second
 *   gen uring N     N io_uring NOP requests, submitted URING_BATCH per
 *                   io_uring_enter: the io_uring:io_uring_submit_req
 *                   tracepoint fires once per request, many times per
 *                   syscall (a producer faster than one syscall per event)
 *   gen opener      open /etc/hostname every 200 us until killed
 * With -w first, it waits for a line on stdin before the work. It pins
 * itself to the last CPU. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/syscall.h>

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* The uprobe target: a real call with a normal prologue (push rbp, from
 * the Makefile's frame-pointer flags), the cheap case for uprobes; a first
 * instruction like lea or endbr64 is single-stepped, ten times slower. */
__attribute__((noinline, used))
long bench_target(long x)
{
	volatile long v = x; /* a stack slot, so the frame (push rbp) is kept */
	return v + 1;
}

/* N NOP requests through one io_uring, URING_BATCH per io_uring_enter
 * (which also waits for their completions). Raw syscalls: liburing is not
 * needed for NOPs. Returns 0, or -1 with errno when the kernel refuses. */
#define URING_BATCH 256
static int uring_nops(long n)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	int fd = syscall(__NR_io_uring_setup, URING_BATCH, &p);
	if (fd < 0)
		return -1;
	size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(__u32);
	size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP)
		sq_len = cq_len = sq_len > cq_len ? sq_len : cq_len;
	char *sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
			fd, IORING_OFF_SQ_RING);
	char *cq = (p.features & IORING_FEAT_SINGLE_MMAP) ? sq :
		   mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
			IORING_OFF_CQ_RING);
	struct io_uring_sqe *sqes = mmap(NULL, p.sq_entries * sizeof(*sqes),
					 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
					 fd, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		return -1;
	/* Every round submits from a tail that is a multiple of the ring
	 * size, so ring slot i always holds request i: set them up once. */
	__u32 *array = (__u32 *)(sq + p.sq_off.array);
	for (__u32 i = 0; i < p.sq_entries; i++) {
		array[i] = i;
		memset(&sqes[i], 0, sizeof(sqes[i]));
		sqes[i].opcode = IORING_OP_NOP;
		sqes[i].user_data = i;
	}
	__u32 *sq_tail = (__u32 *)(sq + p.sq_off.tail);
	__u32 *cq_head = (__u32 *)(cq + p.cq_off.head);
	__u32 *cq_tail = (__u32 *)(cq + p.cq_off.tail);
	__u32 cq_mask = *(__u32 *)(cq + p.cq_off.ring_mask);
	struct io_uring_cqe *cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	for (long left = n; left > 0;) {
		__u32 k = left < (long)p.sq_entries ? (__u32)left : p.sq_entries;
		__atomic_store_n(sq_tail, *sq_tail + k, __ATOMIC_RELEASE);
		long got = syscall(__NR_io_uring_enter, fd, k, k, IORING_ENTER_GETEVENTS, NULL, 0);
		if (got != (long)k)
			return -1;
		__u32 head = *cq_head, tail = __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE);
		for (; head != tail; head++) {
			if (cqes[head & cq_mask].res < 0) {
				errno = -cqes[head & cq_mask].res;
				return -1;
			}
		}
		__atomic_store_n(cq_head, head, __ATOMIC_RELEASE);
		left -= k;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	int a = 1;
	if (a < argc && !strcmp(argv[a], "-w")) {
		char line[16];
		a++;
		if (!fgets(line, sizeof(line), stdin))
			return 1;
	}
	if (a >= argc)
		return 2;
	const char *mode = argv[a];
	long n = a + 1 < argc ? atol(argv[a + 1]) : 0;
	/* The generator runs on the last CPU it may use, so the tracer's
	 * consumer has the others to itself (as issue #12 measured). No
	 * sysconf(): it opens and closes a file, which the close workload
	 * would count. */
	cpu_set_t set;
	if (!sched_getaffinity(0, sizeof(set), &set) && CPU_COUNT(&set) > 1) {
		int last = -1;
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set))
				last = c;
		CPU_ZERO(&set);
		CPU_SET(last, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	double t0 = now_ns();
	if (!strcmp(mode, "getppid")) {
		for (long i = 0; i < n; i++)
			getppid();
		double dt = now_ns() - t0;
		printf("ns_per_call=%.2f total_ms=%.3f\n", dt / n, dt / 1e6);
	} else if (!strcmp(mode, "close")) {
		for (long i = 0; i < n; i++)
			close(100000 + i);
		printf("closed=%ld\n", n);
	} else if (!strcmp(mode, "uloop")) {
		long s = 0;
		for (long i = 0; i < n; i++)
			s += bench_target(i);
		double dt = now_ns() - t0;
		printf("calls_per_s=%.0f ns_per_call=%.2f sum=%ld\n", n / (dt / 1e9), dt / n, s);
	} else if (!strcmp(mode, "uring")) {
		if (uring_nops(n)) {
			perror("gen: io_uring");
			return 1;
		}
		double dt = now_ns() - t0;
		printf("ns_per_event=%.2f total_ms=%.3f\n", dt / n, dt / 1e6);
	} else if (!strcmp(mode, "opener")) {
		for (;;) {
			int fd = open("/etc/hostname", O_RDONLY);
			if (fd >= 0)
				close(fd);
			usleep(200);
		}
	} else {
		return 2;
	}
	return 0;
}
