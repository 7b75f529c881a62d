/* trigger: the events the tool benchmark (bench/tools.lua) waits for, made
 * over and over until killed, by one process whose comm is "trigger":
 * every millisecond an open and a stat of a missing file
 * (/tmp/lt-bench-trigger), a SIGUSR1 to itself (kill), a failing mount,
 * a TCP connection over loopback to its own listener (connect, accept,
 * close) and a getaddrinfo("localhost"). A second process (a fork, comm
 * "trigger" too) forks and execs /bin/true every millisecond: in the main
 * loop an exec came only every ~20-30 ms (a round takes a few ms), so
 * execsnoop/exitsnoop measured that wait, not the tool. Each tool's first
 * event line then comes within a few ms. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MISSING "/tmp/lt-bench-trigger"

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

/* The exec loop: a fork and exec of /bin/true every millisecond, until the
 * parent (the main loop) is gone. */
static void exec_loop(pid_t parent)
{
	while (getppid() == parent) {
		pid_t p = fork();
		if (p == 0) {
			execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		if (p > 0)
			waitpid(p, NULL, 0);
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	_exit(0);
}

int main(void)
{
	signal(SIGUSR1, on_usr1);
	signal(SIGCHLD, SIG_DFL);
	pid_t self = getpid();
	if (fork() == 0)
		exec_loop(self);
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
