/* bashreadline.h: one line bash read (bpf/bashreadline.bpf.c). */
#ifndef BASHREADLINE_H
#define BASHREADLINE_H

struct bashreadline_event {
	__u32 pid;
	char str[80];
};

#endif
