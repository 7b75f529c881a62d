/* runner: run one tracer and measure it.
 *
 *   runner [-m MARKER] [-x SHELL_CMD] [-i] [-c LINEMARK] [-t] [-w SECONDS] -- COMMAND [ARGS...]
 *
 * Starts COMMAND with stdout and stderr on a pipe, echoes its lines, and
 * notes the time from exec to the first line containing MARKER. Then it
 * runs SHELL_CMD (the workload, e.g. a generator) if given, and with -i
 * sends SIGINT to COMMAND. It keeps reading until COMMAND exits and ends
 * with one line:
 *   RUNNER first_ms=F exit_ms=E int_to_exit_ms=I maxrss_kb=R utime_ms=U
 *          stime_ms=S lines=N span_ms=P status=X
 * maxrss and CPU times are COMMAND's own (wait4), not the runner's. With
 * -c, lines containing LINEMARK are counted (not echoed) and span_ms is the
 * time from the marker (when the workload starts) to the last of them: a
 * tracer that prints one line per event (bpftrace's printf) is measured by
 * the lines it delivers, however its output is buffered. With -t, COMMAND
 * runs on a pseudo-terminal (raw mode) instead of a pipe: C tools that
 * printf to stdout then flush each line, as on a user's terminal. With
 * -w, COMMAND is killed (SIGKILL) if it still runs SECONDS after exec. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pty.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

static pid_t child;

static void on_alarm(int sig)
{
	(void)sig;
	if (child > 0)
		kill(child, SIGKILL);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	const char *marker = NULL, *onmark = NULL, *linemark = NULL;
	int interrupt = 0, tty = 0, deadline = 0, opt;
	while ((opt = getopt(argc, argv, "m:x:ic:tw:")) != -1) {
		if (opt == 't')
			tty = 1;
		else if (opt == 'w')
			deadline = atoi(optarg);
		else if (opt == 'c')
			linemark = optarg;
		else if (opt == 'm')
			marker = optarg;
		else if (opt == 'x')
			onmark = optarg;
		else if (opt == 'i')
			interrupt = 1;
		else
			return 2;
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: runner [-m MARKER] [-x CMD] [-i] -- COMMAND...\n");
		return 2;
	}
	int pfd[2];
	if (!tty && pipe(pfd))
		return 1;
	double t0 = now_ms();
	pid_t pid;
	if (tty) {
		struct termios raw;
		memset(&raw, 0, sizeof(raw));
		cfmakeraw(&raw);
		pid = forkpty(&pfd[0], NULL, &raw, NULL);
	} else {
		pid = fork();
	}
	if (pid < 0)
		return 1;
	if (pid == 0) {
		if (!tty) {
			dup2(pfd[1], 1);
			dup2(pfd[1], 2);
			close(pfd[0]);
			close(pfd[1]);
		}
		execvp(argv[optind], argv + optind);
		perror(argv[optind]);
		_exit(127);
	}
	if (!tty)
		close(pfd[1]);
	child = pid;
	if (deadline > 0) {
		struct sigaction sa = {.sa_handler = on_alarm};
		sigaction(SIGALRM, &sa, NULL); /* no SA_RESTART: the read returns */
		alarm(deadline);
	}
	FILE *in = fdopen(pfd[0], "r");
	char line[65536];
	double first = -1, sent = -1, lfirst = -1, llast = -1, tmark = -1;
	long lines = 0;
	int acted = 0;
	while (fgets(line, sizeof(line), in)) {
		if (linemark && strstr(line, linemark)) {
			double t = now_ms();
			if (!lines++)
				lfirst = t;
			llast = t;
			continue;
		}
		fputs(line, stdout);
		if (first < 0 && (!marker || strstr(line, marker))) {
			tmark = now_ms();
			first = tmark - t0;
			fflush(stdout);
			if (onmark && system(onmark) != 0)
				fprintf(stderr, "runner: workload failed\n");
			if (interrupt) {
				sent = now_ms();
				kill(pid, SIGINT);
			}
			acted = 1;
		}
	}
	if (!acted && interrupt) {
		sent = now_ms();
		kill(pid, SIGINT);
	}
	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
		;
	double end = now_ms();
	printf("RUNNER first_ms=%.3f exit_ms=%.3f int_to_exit_ms=%.3f maxrss_kb=%ld "
	       "utime_ms=%.3f stime_ms=%.3f lines=%ld span_ms=%.3f status=%d\n",
	       first, end - t0, sent < 0 ? -1 : end - sent, ru.ru_maxrss,
	       ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3,
	       ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3, lines,
	       lines ? llast - (tmark >= 0 ? tmark : lfirst) : 0,
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}
