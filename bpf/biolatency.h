/* biolatency.h: the key of one block I/O latency histogram
 * (bpf/biolatency.bpf.c): per disk with -D, per flags with -F. */
#ifndef BIOLATENCY_H
#define BIOLATENCY_H

struct biolatency_key {
	__u32 dev;   /* kernel dev_t, 0 unless per disk */
	__u32 flags; /* lt_block.h's word, 0 unless per flags */
};

#endif
