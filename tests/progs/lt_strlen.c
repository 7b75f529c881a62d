/* lt_strlen: calls of libc's strlen (a GNU IFUNC) for the IFUNC uprobe test.
 *
 *   lt_strlen N   print its pid, wait for a line on stdin, call strlen N
 *                 times, write "done", then wait for stdin EOF
 * Nothing else between the line and "done" calls strlen (no stdio output:
 * puts and printf call it), so a probe counts exactly N. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Through a volatile pointer: the compiler may neither fold nor inline
 * the calls; the pointer is the implementation the dynamic linker picked. */
static size_t (*volatile len_fn)(const char *) = strlen;

int main(int argc, char **argv)
{
	char line[64];
	int n = argc > 1 ? atoi(argv[1]) : 0;
	long sum = 0;
	printf("%d\n", getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	for (int i = 0; i < n; i++)
		sum += len_fn(argv[0] + (i % 4));
	if (write(1, "done\n", 5) != 5)
		return 1;
	while (fgets(line, sizeof(line), stdin))
		;
	return sum > 0 ? 0 : 1;
}
