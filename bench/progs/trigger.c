/* trigger: the events the tool benchmark (bench/tools.lua) waits for, made
 * over and over until killed, by a process whose comm is "trigger":
 *
 *   trigger        every millisecond an open and a stat of a missing file
 *                  (/tmp/lt-bench-trigger), a SIGUSR1 to itself (kill), a
 *                  failing mount, a TCP connection over loopback to its own
 *                  listener (connect, accept, close) and a getaddrinfo
 *                  ("localhost")
 *   trigger exec   /bin/true started every millisecond (execsnoop,
 *                  exitsnoop)
 *
 * Execs are their own process, run only while a tool that waits for them
 * is measured: in the main loop an exec came every ~20-30 ms (a round
 * takes a few ms), so execsnoop and exitsnoop measured that wait, not the
 * tool; an exec every millisecond costs about a third of a CPU
 * (/bin/true's own start), load the other tools need not share. Each
 * tool's first event line then comes within a few ms. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MISSING "/tmp/lt-bench-trigger"

extern char **environ;

static void on_usr1(int sig) { (void)sig; }

static void tcp_round(int lfd, const struct sockaddr_in *sa)
{
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0)
		return;
	if (!connect(c, (const struct sockaddr *)sa, sizeof(*sa))) {
		int s = accept(lfd, NULL, NULL);
		if (s >= 0)
			close(s);
	}
	close(c);
}

/* trigger exec: /bin/true every millisecond (posix_spawn: vfork, no page
 * table copy). */
static __attribute__((noreturn)) void exec_loop(void)
{
	char *argv[] = {"true", NULL};
	for (;;) {
		pid_t p;
		if (posix_spawn(&p, "/bin/true", NULL, NULL, argv, environ) == 0)
			waitpid(p, NULL, 0);
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "exec"))
		exec_loop();
	signal(SIGUSR1, on_usr1);
	signal(SIGCHLD, SIG_DFL);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 16) ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len)) {
		perror("trigger: listen");
		return 1;
	}
	for (;;) {
		int fd = open(MISSING, O_RDONLY);
		if (fd >= 0)
			close(fd);
		struct stat st;
		stat(MISSING, &st);
		kill(getpid(), SIGUSR1);
		mount("none", MISSING, "tmpfs", 0, NULL);
		tcp_round(lfd, &sa);
		struct addrinfo *ai = NULL;
		if (!getaddrinfo("localhost", NULL, NULL, &ai))
			freeaddrinfo(ai);
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
}
