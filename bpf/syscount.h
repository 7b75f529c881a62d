/* syscount.h: the per-key value syscount's kernel side keeps (key: the
 * syscall number, or the pid with -P). */
#ifndef SYSCOUNT_H
#define SYSCOUNT_H

struct syscount_value {
	__u64 count;
	__u64 total_ns; /* with -L */
	char comm[16];  /* with -P: the process's name */
};

#endif
