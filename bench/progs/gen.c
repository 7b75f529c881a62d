/* gen: the workloads' event generators (one process, its own pid and comm
 * "gen", so tracers can filter on it).
 *
 *   gen getppid N   N getppid() calls; prints ns per call
 *   gen close N     close(100000 + i) for i < N (EBADF): N distinct fds
 *   gen uloop N     N calls of bench_target(); prints calls per second
 *   gen opener      open /etc/hostname every 200 us until killed
 * With -w first, it waits for a line on stdin before the work. It pins
 * itself to the last CPU. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
