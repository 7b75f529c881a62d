/* lt_leak: known leaks from known functions, for the memleak tests.
 *
 *   lt_leak wait N   print its pid, wait for a line on stdin, leak, print
 *                    "done", then wait for stdin EOF (memleak -p PID)
 *   lt_leak run N    leak at once, then sleep 3 s (memleak -c CMD)
 *
 * The leaks (N >= 1), each from its own function:
 *   lt_leak_malloc    N x malloc(100)                    N x 100 bytes
 *   lt_leak_calloc    2 x calloc(8, 64)                  2 x 512
 *   lt_leak_realloc   realloc(malloc(10), 3000)          1 x 3000
 *   lt_leak_memalign  posix_memalign(64, 256)            1 x 256
 *   lt_leak_freed     N x malloc(1000), each freed       nothing left
 * No stdio after the pid line: stdio buffers are allocations too. Frame
 * pointers kept so the user stacks walk through these functions. */
#pragma GCC optimize("no-omit-frame-pointer")
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *keep[4096]; /* not static: the compiler may not drop the calls */
int nkeep;

__attribute__((noinline)) void lt_leak_malloc(int n)
{
	for (int i = 0; i < n; i++)
		keep[nkeep++] = malloc(100);
}

__attribute__((noinline)) void lt_leak_calloc(void)
{
	for (int i = 0; i < 2; i++)
		keep[nkeep++] = calloc(8, 64);
}

__attribute__((noinline)) void lt_leak_realloc(void)
{
	void *p = malloc(10);
	keep[nkeep++] = realloc(p, 3000);
}

__attribute__((noinline)) void lt_leak_memalign(void)
{
	void *p = NULL;
	if (posix_memalign(&p, 64, 256) == 0)
		keep[nkeep++] = p;
}

__attribute__((noinline)) void lt_leak_freed(int n)
{
	for (int i = 0; i < n; i++) {
		void *volatile p = malloc(1000);
		free(p);
	}
}

static void leak(int n)
{
	lt_leak_malloc(n);
	lt_leak_calloc();
	lt_leak_realloc();
	lt_leak_memalign();
	lt_leak_freed(n);
}

int main(int argc, char **argv)
{
	if (argc < 3 || atoi(argv[2]) < 1 || atoi(argv[2]) > 4000) {
		fprintf(stderr, "usage: lt_leak wait|run N (1..4000)\n");
		return 2;
	}
	int n = atoi(argv[2]);
	char c;
	if (!strcmp(argv[1], "run")) {
		leak(n);
		sleep(3);
		return 0;
	}
	printf("%d\n", getpid());
	fflush(stdout);
	if (read(0, &c, 1) != 1)
		return 1;
	leak(n);
	write(1, "done\n", 5);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
