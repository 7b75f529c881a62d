/* chan.c: event channels (ring buffer, perf buffer); poller.c waits on them.
 *
 * C drains records into a batch buffer (struct lt_record headers from
 * lt_abi.h, each followed by its data); Lua pulls the batch with drain() and
 * walks it through FFI, so no C-to-Lua callback runs per event. A poller is
 * one epoll over several channels plus the signal pipe: SIGINT/SIGTERM end
 * a wait cleanly. Lost records are counted, never dropped silently: perf
 * buffers report them to us; ring buffers cannot, so a program counts its
 * failed reservations in a map that the channel reads (lost_map). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lt.h"
#include "lt_abi.h"

enum { CHAN_RING = 1, CHAN_PERF = 2 };

/* A ring-buffer drain stops after this many bytes so one busy channel
 * cannot starve the others; perf buffers drain whole (libbpf offers no
 * early stop). */
#define BATCH_SOFT_LIMIT (4u << 20)
#define BATCH_FULL (-ENOBUFS)

struct lt_chan {
	int kind;
	struct ring_buffer *rb;
	struct perf_buffer *pb;
	char *buf;
	size_t len, cap;
	unsigned count;
	int failed; /* ENOMEM while copying: reported by drain */
	unsigned long long lost;
	int lost_map_fd;
	int lost_ncpu;		      /* the lost map's layout, read once */
	unsigned lost_vsize, lost_stride;
	unsigned long long lost_map_seen; /* its sum at the last read */
	struct lt_ringview view; /* ring buffers: mapped for in-place reads */
	int epfd;		 /* ring buffers read through the view: their epoll */
	char name[64];
};

static struct lt_chan *chan_check(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, LT_CHAN_MT);
}

static int batch_add(struct lt_chan *c, int cpu, const void *data, size_t size)
{
	size_t need = (sizeof(struct lt_record) + size + 7) & ~(size_t)7;
	if (c->len + need > c->cap) {
		size_t cap = c->cap ? c->cap : 65536;
		while (cap < c->len + need)
			cap *= 2;
		char *nb = realloc(c->buf, cap);
		if (!nb) {
			c->failed = ENOMEM;
			c->lost++;
			return -ENOMEM;
		}
		c->buf = nb;
		c->cap = cap;
	}
	struct lt_record *r = (struct lt_record *)(c->buf + c->len);
	r->len = size;
	r->next = need;
	r->cpu = cpu;
	r->pad = 0;
	memcpy(r + 1, data, size);
	c->len += need;
	c->count++;
	return 0;
}

static int ring_sample(void *ctx, void *data, size_t size)
{
	struct lt_chan *c = ctx;
	if (batch_add(c, -1, data, size))
		return BATCH_FULL;
	return c->len >= BATCH_SOFT_LIMIT ? BATCH_FULL : 0;
}

/* Raw perf records (we open the perf events ourselves to choose their
 * wakeup policy): samples carry u32 size + data, LOST records a count. */
static enum bpf_perf_event_ret perf_record(void *ctx, int cpu,
					   struct perf_event_header *e)
{
	struct lt_chan *c = ctx;
	if (e->type == PERF_RECORD_SAMPLE) {
		struct {
			struct perf_event_header h;
			__u32 size;
			char data[];
		} *s = (void *)e;
		batch_add(c, cpu, s->data, s->size);
	} else if (e->type == PERF_RECORD_LOST) {
		struct {
			struct perf_event_header h;
			__u64 id;
			__u64 lost;
		} *l = (void *)e;
		c->lost += l->lost;
	}
	return LIBBPF_PERF_EVENT_CONT;
}

static struct lt_chan *chan_new(lua_State *L, int kind, const char *name)
{
	struct lt_chan *c = lua_newuserdata(L, sizeof(*c));
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->lost_map_fd = -1;
	c->epfd = -1;
	snprintf(c->name, sizeof(c->name), "%s", name);
	luaL_getmetatable(L, LT_CHAN_MT);
	lua_setmetatable(L, -2);
	return c;
}

/* core.ring_buffer(map[, {lost_map = map}]) -> channel */
static int l_ring_buffer(lua_State *L)
{
	const char *name;
	int type;
	int fd = lt_map_get(L, 1, &name, &type);
	if (type != BPF_MAP_TYPE_RINGBUF)
		return lt_failf(L, "open ring buffer %s: the map is a %s, not a "
				"ringbuf", name, libbpf_bpf_map_type_str(type));
	int lost_fd = -1;
	if (lua_istable(L, 2)) {
		lua_getfield(L, 2, "lost_map");
		if (!lua_isnil(L, -1))
			lost_fd = lt_map_get(L, -1, NULL, NULL);
		lua_pop(L, 1);
	}
	struct lt_chan *c = chan_new(L, CHAN_RING, name);
	c->lost_map_fd = lost_fd;
	if (lost_fd >= 0) {
		struct bpf_map_info info;
		__u32 len = sizeof(info);
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(lost_fd, &info, &len))
			return lt_fail(L, "open ring buffer", name, errno, NULL);
		c->lost_ncpu = info.type == BPF_MAP_TYPE_PERCPU_ARRAY ?
				       libbpf_num_possible_cpus() : 1;
		c->lost_vsize = info.value_size < 8 ? info.value_size : 8;
		c->lost_stride = lt_percpu_stride(info.value_size);
	}
	/* One mapping, read in place by Lua (luatrace.events) and by drain();
	 * the kernel wakes the epoll on the map fd as libbpf's ring_buffer's.
	 * libbpf's ring_buffer only where the view cannot be mapped (never
	 * seen): it would map the ring again. */
	if (lt_ringview_map(fd, &c->view) == 0) {
		struct epoll_event ev = {.events = EPOLLIN};
		c->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (c->epfd < 0 || epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			int err = -errno;
			lt_ringview_unmap(&c->view);
			if (c->epfd >= 0)
				close(c->epfd);
			c->epfd = -1;
			return lt_fail(L, "open ring buffer", name, err, NULL);
		}
	} else {
		c->rb = ring_buffer__new(fd, ring_sample, c, NULL);
		int err = libbpf_get_error(c->rb);
		if (err) {
			c->rb = NULL;
			return lt_fail(L, "open ring buffer", name, err, NULL);
		}
	}
	/* The channel keeps its map (and so the object) alive. */
	lt_keep_alive(L, 1);
	return 1;
}

/* core.perf_buffer(map[, page_cnt[, wakeup_bytes]]) -> channel
 * The consumer is woken when a CPU's buffer holds wakeup_bytes (default: a
 * quarter of it), not per event as libbpf's perf_buffer__new does; the
 * Lua poll drains on its latency tick whatever is below that. A
 * wakeup_bytes of 0 asks for a wakeup per event. */
static int l_perf_buffer(lua_State *L)
{
	const char *name;
	int fd = lt_map_get(L, 1, &name, NULL);
	int pages = (int)luaL_optinteger(L, 2, 64);
	if (pages <= 0 || (pages & (pages - 1)))
		return lt_failf(L, "open perf buffer %s: page_cnt %d is not a "
				"power of two", name, pages);
	long page = sysconf(_SC_PAGESIZE);
	lua_Integer wakeup = luaL_optinteger(L, 3, (lua_Integer)pages * page / 4);
	if (wakeup < 0 || wakeup >= (lua_Integer)pages * page)
		return lt_failf(L, "open perf buffer %s: wakeup_bytes %lld is not "
				"below the buffer size (%d pages)", name,
				(long long)wakeup, pages);
	struct perf_event_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_BPF_OUTPUT;
	attr.sample_type = PERF_SAMPLE_RAW;
	attr.sample_period = 1;
	if (wakeup > 0) {
		attr.watermark = 1;
		attr.wakeup_watermark = (__u32)wakeup;
	} else {
		attr.wakeup_events = 1;
	}
	struct lt_chan *c = chan_new(L, CHAN_PERF, name);
	c->pb = perf_buffer__new_raw(fd, pages, &attr, perf_record, c, NULL);
	int err = libbpf_get_error(c->pb);
	if (err) {
		c->pb = NULL;
		return lt_fail(L, "open perf buffer", name, err,
			       -err == EINVAL ? "is it a BPF_MAP_TYPE_PERF_EVENT_ARRAY?"
					      : NULL);
	}
	lt_keep_alive(L, 1);
	return 1;
}

static int chan_open(const struct lt_chan *c)
{
	return c->rb || c->pb || c->view.cons;
}

static void chan_require_open(lua_State *L, struct lt_chan *c)
{
	if (!chan_open(c))
		lt_failf(L, "use channel %s: it is closed", c->name);
}

/* chan:drain() -> ptr, count, bytes, more: the batch stays valid until the
 * next drain or close. more is true when records were left for later. */
static int l_drain(lua_State *L)
{
	struct lt_chan *c = chan_check(L, 1);
	chan_require_open(L, c);
	c->len = 0;
	c->count = 0;
	c->failed = 0;
	int err, more = 0;
	if (c->kind == CHAN_RING) {
		err = c->rb ? ring_buffer__consume(c->rb)
			    : lt_ringview_consume(&c->view, ring_sample, c);
		if (err == BATCH_FULL) {
			more = !c->failed;
			err = 0;
		}
	} else {
		err = perf_buffer__consume(c->pb);
	}
	if (err < 0)
		return lt_fail(L, "read channel", c->name, err, NULL);
	if (c->failed && !c->count)
		return lt_fail(L, "read channel", c->name, c->failed, NULL);
	lua_pushlightuserdata(L, c->buf);
	lua_pushinteger(L, c->count);
	lua_pushinteger(L, c->len);
	lua_pushboolean(L, more);
	return 4;
}

/* Sum of the u64 at key 0 of c's lost-counter map (over CPUs if
 * per-CPU): one lookup, the layout was read at open. */
static unsigned long long lost_map_sum(struct lt_chan *c)
{
	char stackbuf[1024];
	size_t need = (size_t)c->lost_ncpu * c->lost_stride;
	char *v = need <= sizeof(stackbuf) ? stackbuf : calloc(1, need);
	__u32 key = 0;
	unsigned long long sum = 0;
	if (v && bpf_map_lookup_elem(c->lost_map_fd, &key, v) == 0)
		for (int i = 0; i < c->lost_ncpu; i++) {
			unsigned long long x = 0;
			memcpy(&x, v + (size_t)i * c->lost_stride, c->lost_vsize);
			sum += x;
		}
	else
		sum = c->lost_map_seen;
	if (v != stackbuf)
		free(v);
	return sum;
}

/* chan:lost([cached]) -> records lost so far. The lost map (rings whose
 * reservations failed) costs a syscall to read; with cached, its value
 * from the last read is used instead (a poll loop reads it on its latency
 * tick, not on every drain). */
static int l_lost(lua_State *L)
{
	struct lt_chan *c = chan_check(L, 1);
	unsigned long long n = c->lost;
	if (c->lost_map_fd >= 0) {
		if (!lua_toboolean(L, 2))
			c->lost_map_seen = lost_map_sum(c);
		n += c->lost_map_seen;
	}
	lua_pushnumber(L, (lua_Number)n);
	return 1;
}

static int chan_epoll_fd(struct lt_chan *c)
{
	if (c->epfd >= 0)
		return c->epfd;
	return c->rb ? ring_buffer__epoll_fd(c->rb) : perf_buffer__epoll_fd(c->pb);
}

static int l_epoll_fd(lua_State *L)
{
	struct lt_chan *c = chan_check(L, 1);
	chan_require_open(L, c);
	lua_pushinteger(L, chan_epoll_fd(c));
	return 1;
}

/* chan:view() -> consumer page, producer page, data, size (pointers as
 * light userdata), or nothing for a perf buffer or a closed channel. */
static int l_view(lua_State *L)
{
	struct lt_chan *c = chan_check(L, 1);
	if (!c->view.cons)
		return 0;
	lua_pushlightuserdata(L, c->view.cons);
	lua_pushlightuserdata(L, c->view.prod);
	lua_pushlightuserdata(L, c->view.data);
	lua_pushnumber(L, (lua_Number)c->view.size);
	return 4;
}

static int l_chan_close(lua_State *L)
{
	struct lt_chan *c = chan_check(L, 1);
	lt_ringview_unmap(&c->view);
	if (c->epfd >= 0)
		close(c->epfd);
	c->epfd = -1;
	ring_buffer__free(c->rb);
	perf_buffer__free(c->pb);
	c->rb = NULL;
	c->pb = NULL;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
	return 0;
}

static int l_chan_tostring(lua_State *L)
{
	struct lt_chan *c = chan_check(L, 1);
	lua_pushfstring(L, "%s channel %s%s",
			c->kind == CHAN_RING ? "ring buffer" : "perf buffer",
			c->name, chan_open(c) ? "" : " (closed)");
	return 1;
}

/* The channel's epoll fd, for the poller (poller.c); raises if closed. */
int lt_chan_epoll_fd(lua_State *L, int idx, const char **name)
{
	struct lt_chan *c = chan_check(L, idx);
	chan_require_open(L, c);
	if (name)
		*name = c->name;
	return chan_epoll_fd(c);
}

void lt_open_chan(lua_State *L)
{
	static const luaL_Reg chan_methods[] = {
		{"drain", l_drain},
		{"lost", l_lost},
		{"epoll_fd", l_epoll_fd},
		{"view", l_view},
		{"close", l_chan_close},
		{"__gc", l_chan_close},
		{"__tostring", l_chan_tostring},
		{NULL, NULL},
	};
	static const luaL_Reg fns[] = {
		{"ring_buffer", l_ring_buffer},
		{"perf_buffer", l_perf_buffer},
		{NULL, NULL},
	};
	lt_new_metatable(L, LT_CHAN_MT, chan_methods);
	lt_setfuncs(L, fns);
}
