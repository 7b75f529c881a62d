/* bitesize.h: the key of one I/O size histogram (bpf/bitesize.bpf.c): the
 * name of the process that issued the I/O. */
#ifndef BITESIZE_H
#define BITESIZE_H

struct bitesize_key {
	char comm[16];
};

#endif
