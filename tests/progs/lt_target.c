/* lt_target: the user-space side of the uprobe, USDT and symbol tests.
 *
 *   lt_target calls N   call lt_target_add(i, 100) and hit the USDT probe
 *                       luatrace_test:tick(i, i*1000, "tick") for i = 1..N
 *   lt_target wait S    print "PID ADDR" (ADDR = &lt_target_add), then sleep
 *                       S seconds (the symbol test resolves ADDR meanwhile)
 *   lt_target faults N  print its pid, wait for a line on stdin, touch N
 *                       fresh pages in lt_target_touch (N user page
 *                       faults), print "done", then wait for stdin EOF
 * Every mode prints its pid first so tests can filter on it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/sdt.h>

__attribute__((noinline, used)) int lt_target_add(int a, int b)
{
	/* Keep a real body so the compiler emits a normal prologue. */
	__asm__ volatile("" ::: "memory");
	return a + b;
}

__attribute__((noinline, used)) void lt_target_touch(char *p, int pages)
{
	for (int i = 0; i < pages; i++)
		((volatile char *)p)[(long)i * 4096] = 1;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: lt_target calls N | wait SECONDS | faults N\n");
		return 2;
	}
	int n = atoi(argv[2]);
	if (!strcmp(argv[1], "calls")) {
		long sum = 0;
		printf("%d\n", getpid());
		for (int i = 1; i <= n; i++) {
			sum += lt_target_add(i, 100);
			DTRACE_PROBE3(luatrace_test, tick, i, (long)i * 1000, "tick");
		}
		printf("%ld\n", sum);
		return 0;
	}
	if (!strcmp(argv[1], "faults")) {
		char line[64];
		char *p = mmap(NULL, (size_t)n * 4096, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return 1;
		printf("%d\n", getpid());
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			return 1;
		lt_target_touch(p, n);
		printf("done\n");
		fflush(stdout);
		while (fgets(line, sizeof(line), stdin))
			;
		return 0;
	}
	if (!strcmp(argv[1], "wait")) {
		printf("%d %p\n", getpid(), (void *)lt_target_add);
		fflush(stdout);
		sleep(n);
		return 0;
	}
	return 2;
}
