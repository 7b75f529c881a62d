/* lt_block.h: what the block I/O tools (biolatency, biosnoop, bitesize)
 * read from a struct request, the same way on every kernel: its disk's
 * device number, and its operation and flags in one normalized word (the
 * kernel's __REQ_* bit numbers move between versions; CO-RE enum values
 * find them). Lua decodes the word (luatrace.toolkit's block helpers). */
#ifndef LT_BLOCK_H
#define LT_BLOCK_H

#include <bpf/bpf_core_read.h>

/* Normalized flags: the low byte is the kernel's REQ_OP_* value. */
#define LT_BIO_SYNC       (1u << 8)
#define LT_BIO_META       (1u << 9)
#define LT_BIO_FUA        (1u << 10)
#define LT_BIO_RAHEAD     (1u << 11)
#define LT_BIO_PREFLUSH   (1u << 12)
#define LT_BIO_NOWAIT     (1u << 13)
#define LT_BIO_BACKGROUND (1u << 14)
#define LT_BIO_INTEGRITY  (1u << 15)
#define LT_BIO_IDLE       (1u << 16)
#define LT_BIO_NOMERGE    (1u << 17)
#define LT_BIO_PRIO       (1u << 18)

/* Before 5.17 a request named its disk itself. */
struct request___old {
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

static __always_inline struct gendisk *lt_rq_disk(struct request *rq)
{
	if (bpf_core_field_exists(((struct request___old *)rq)->rq_disk))
		return BPF_CORE_READ((struct request___old *)rq, rq_disk);
	return BPF_CORE_READ(rq, q, disk);
}

/* The kernel's dev_t of the request's disk (MKDEV: major << 20 | minor). */
static __always_inline __u32 lt_rq_dev(struct request *rq)
{
	struct gendisk *disk = lt_rq_disk(rq);
	if (!disk)
		return 0;
	return ((__u32)BPF_CORE_READ(disk, major) << 20) | BPF_CORE_READ(disk, first_minor);
}

#define LT_BIO_BIT(name, out)                                                     \
	if (bpf_core_enum_value_exists(enum req_flag_bits, name) &&                 \
	    (f & (1u << bpf_core_enum_value(enum req_flag_bits, name))))            \
		r |= out;

static __always_inline __u32 lt_rq_flags(struct request *rq)
{
	__u32 f = BPF_CORE_READ(rq, cmd_flags);
	__u32 r = f & 0xff;
	LT_BIO_BIT(__REQ_SYNC, LT_BIO_SYNC)
	LT_BIO_BIT(__REQ_META, LT_BIO_META)
	LT_BIO_BIT(__REQ_FUA, LT_BIO_FUA)
	LT_BIO_BIT(__REQ_RAHEAD, LT_BIO_RAHEAD)
	LT_BIO_BIT(__REQ_PREFLUSH, LT_BIO_PREFLUSH)
	LT_BIO_BIT(__REQ_NOWAIT, LT_BIO_NOWAIT)
	LT_BIO_BIT(__REQ_BACKGROUND, LT_BIO_BACKGROUND)
	LT_BIO_BIT(__REQ_INTEGRITY, LT_BIO_INTEGRITY)
	LT_BIO_BIT(__REQ_IDLE, LT_BIO_IDLE)
	LT_BIO_BIT(__REQ_NOMERGE, LT_BIO_NOMERGE)
	LT_BIO_BIT(__REQ_PRIO, LT_BIO_PRIO)
	return r;
}

#endif
