/* ringview.c: a BPF ring buffer mapped into our address space, so Lua can
 * read records in place (no copy into a batch) and advance the consumer
 * position itself.
 *
 * The layout is kernel ABI (kernel/bpf/ringbuf.c): page 0 holds the
 * consumer position (we may write it), page 1 the producer position, and
 * the data area follows, mapped twice in a row so a record that wraps at
 * the end is still contiguous. Each record starts with an 8-byte header:
 * u32 len (bit 31 busy: not yet committed; bit 30 discarded) and u32 page
 * offset; records are 8-byte aligned. luatrace.events walks it; C walks
 * it too (lt_ringview_consume) for chan:drain(). The channel maps the ring
 * only here: libbpf's ring_buffer would map it a second time (the kernel
 * populates every page of a mapping: 2 MB more resident for a 1 MB ring). */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include "lt.h"
#include "lt_abi.h"

int lt_ringview_map(int fd, struct lt_ringview *v)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	memset(v, 0, sizeof(*v));
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	long page = sysconf(_SC_PAGESIZE);
	void *cons = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (cons == MAP_FAILED)
		return -errno;
	size_t span = page + 2 * (size_t)info.max_entries;
	void *prod = mmap(NULL, span, PROT_READ, MAP_SHARED, fd, page);
	if (prod == MAP_FAILED) {
		int err = -errno;
		munmap(cons, page);
		return err;
	}
	v->cons = cons;
	v->prod = prod;
	v->data = (char *)prod + page;
	v->size = info.max_entries;
	v->page = page;
	return 0;
}

void lt_ringview_unmap(struct lt_ringview *v)
{
	if (v->cons)
		munmap(v->cons, v->page);
	if (v->prod)
		munmap(v->prod, v->page + 2 * v->size);
	memset(v, 0, sizeof(*v));
}

/* Hand each committed record to fn(ctx, data, size), as libbpf's
 * ring_buffer__consume does, moving the consumer position past it. A
 * negative return from fn stops the walk (the record counts as consumed)
 * and is returned; else the number of records handed out. */
int lt_ringview_consume(struct lt_ringview *v,
			int (*fn)(void *ctx, void *data, size_t size), void *ctx)
{
	unsigned long *cons_p = v->cons, *prod_p = v->prod;
	unsigned long cons = __atomic_load_n(cons_p, __ATOMIC_ACQUIRE);
	unsigned long prod = __atomic_load_n(prod_p, __ATOMIC_ACQUIRE);
	int n = 0;
	while (cons < prod) {
		struct lt_ringbuf_hdr *h =
			(void *)((char *)v->data + (cons & (v->size - 1)));
		unsigned int len = __atomic_load_n(&h->len, __ATOMIC_ACQUIRE);
		if (len & LT_RINGBUF_BUSY_BIT)
			break;
		unsigned int dlen = len & ~(LT_RINGBUF_BUSY_BIT | LT_RINGBUF_DISCARD_BIT);
		cons += (dlen + LT_RINGBUF_HDR_SZ + 7) & ~7u;
		if (!(len & LT_RINGBUF_DISCARD_BIT)) {
			int err = fn(ctx, h + 1, dlen);
			n++;
			if (err < 0) {
				__atomic_store_n(cons_p, cons, __ATOMIC_RELEASE);
				return err;
			}
		}
		__atomic_store_n(cons_p, cons, __ATOMIC_RELEASE);
	}
	return n;
}
