/* ringview.c: a BPF ring buffer mapped into our address space, so Lua can
 * read records in place (no copy into a batch) and advance the consumer
 * position itself.
 *
 * The layout is kernel ABI (kernel/bpf/ringbuf.c): page 0 holds the
 * consumer position (we may write it), page 1 the producer position, and
 * the data area follows, mapped twice in a row so a record that wraps at
 * the end is still contiguous. Each record starts with an 8-byte header:
 * u32 len (bit 31 busy: not yet committed; bit 30 discarded) and u32 page
 * offset; records are 8-byte aligned. luatrace.events walks it. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include "lt.h"

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
