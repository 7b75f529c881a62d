/* lt_spin: burn CPU in known user functions, for the profile tests.
 *
 *   lt_spin MS [LINGER_MS]   print the pid, stop itself (SIGSTOP: the test
 *                attaches, then sends SIGCONT), spin in lt_spin_inner
 *                (called by lt_spin_outer, called by main) for MS
 *                milliseconds, then sleep LINGER_MS (so a profiler can
 *                still read its symbols when it prints)
 *
 * Frame pointers are kept in these functions so a sampled user stack
 * walks main -> lt_spin_outer -> lt_spin_inner. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <signal.h>
#include <unistd.h>

#define KEEP_FP __attribute__((noinline, used, optimize("no-omit-frame-pointer")))

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

KEEP_FP unsigned long lt_spin_inner(unsigned long n)
{
	volatile unsigned long x = 0;
	for (unsigned long i = 0; i < n; i++)
		x += i;
	return x;
}

KEEP_FP void lt_spin_outer(double ms)
{
	double end = now_ms() + ms;
	while (now_ms() < end)
		lt_spin_inner(200000);
}

KEEP_FP int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: lt_spin MS\n");
		return 2;
	}
	printf("%d\n", getpid());
	fflush(stdout);
	raise(SIGSTOP);
	lt_spin_outer(atof(argv[1]));
	if (argc > 2)
		usleep((useconds_t)(atof(argv[2]) * 1000));
	return 0;
}
