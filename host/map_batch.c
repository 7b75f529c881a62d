/* map_batch.c: whole maps in one call: reads (BPF_MAP_LOOKUP_BATCH and
 * its lookup-and-delete twin, with an iterating fallback where the kernel
 * or map type lacks them) and batch updates (BPF_MAP_UPDATE_BATCH, element
 * by element where it is missing). A batch returns all keys in one string
 * and all values in another, so reading a 100k map is one C call. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lt.h"
#include "map.h"

/* map:update_batch(keys, values, count[, flags]): count entries whose keys
 * and values lie back to back in two strings, in one BPF_MAP_UPDATE_BATCH
 * (one syscall instead of count); element by element where the kernel has
 * no batch operation for the map type. */
int lt_map_update_batch(lua_State *L)
{
	struct lt_map *m = lt_map_check(L, 1);
	size_t kn, vn;
	const char *k = luaL_checklstring(L, 2, &kn);
	const char *v = luaL_checklstring(L, 3, &vn);
	lua_Integer count = luaL_checkinteger(L, 4);
	__u64 flags = (__u64)luaL_optnumber(L, 5, BPF_ANY);
	if (count < 0 || kn != (size_t)count * m->key_size ||
	    vn != (size_t)count * m->vbytes)
		return lt_failf(L, "update map %s in a batch: %lld entries need "
				"%llu key and %llu value bytes, got %zu and %zu",
				m->name, (long long)count,
				(unsigned long long)count * m->key_size,
				(unsigned long long)count * m->vbytes, kn, vn);
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = flags);
	__u32 done = (__u32)count;
	int err = count ? bpf_map_update_batch(m->fd, k, v, &done, &opts) : 0;
	if (err && (errno == EINVAL || errno == ENOTSUPP || errno == EOPNOTSUPP) &&
	    done == 0) {
		for (lua_Integer i = 0; i < count; i++)
			if (bpf_map_update_elem(m->fd, k + i * m->key_size,
						v + i * m->vbytes, flags))
				return lt_fail(L, "update map", m->name, errno,
					       errno == E2BIG ? "the map is full" : NULL);
		return 0;
	}
	if (err) {
		const char *hint = NULL;
		if (errno == E2BIG && lt_map_is_array(m->type))
			hint = "an index is out of range: the array has max_entries entries";
		else if (errno == E2BIG || errno == ENOSPC)
			hint = "the map is full";
		return lt_fail(L, "update map in a batch", m->name, errno, hint);
	}
	return 0;
}

/* Read every entry by get_next_key + lookup (and delete) into keys/vals.
 * Returns the count or -errno. */
static long iterate_all(struct lt_map *m, char *keys, char *vals, bool del)
{
	long n = 0;
	char *prev = NULL;
	while (n < m->max_entries) {
		char *k = keys + (size_t)n * m->key_size;
		if (bpf_map_get_next_key(m->fd, prev, k)) {
			if (errno == ENOENT)
				break;
			return -errno;
		}
		if (bpf_map_lookup_elem(m->fd, k, vals + (size_t)n * m->vbytes)) {
			if (errno == ENOENT) /* deleted meanwhile */
				continue;
			return -errno;
		}
		prev = k;
		n++;
	}
	if (del) {
		for (long i = 0; i < n; i++) {
			char *k = keys + (size_t)i * m->key_size;
			if (lt_map_is_array(m->type)) {
				char *zero = calloc(1, m->vbytes);
				if (!zero)
					return -ENOMEM;
				bpf_map_update_elem(m->fd, k, zero, BPF_ANY);
				free(zero);
			} else {
				bpf_map_delete_elem(m->fd, k);
			}
		}
	}
	return n;
}

/* Read the whole map with the batch syscalls. Returns the count or
 * -errno; -EINVAL/-ENOTSUPP mean the kernel or map type lacks them. */
static long batch_all(struct lt_map *m, char *keys, char *vals, bool del)
{
	__u64 in_tok = 0, out_tok = 0;
	bool first = true;
	long n = 0;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	for (;;) {
		__u32 count = m->max_entries - n;
		if (!count)
			break;
		int err = (del ? bpf_map_lookup_and_delete_batch :
				 bpf_map_lookup_batch)(
			m->fd, first ? NULL : &in_tok, &out_tok,
			keys + (size_t)n * m->key_size,
			vals + (size_t)n * m->vbytes, &count, &opts);
		err = err ? errno : 0;
		if (err && err != ENOENT)
			return -err;
		n += count;
		if (err == ENOENT)
			break;
		in_tok = out_tok;
		first = false;
	}
	return n;
}

static int read_all(lua_State *L, bool del)
{
	struct lt_map *m = lt_map_check(L, 1);
	bool iterate = lt_opt_bool(L, 2, "iterate");
	char *keys = malloc((size_t)m->max_entries * m->key_size + 1);
	char *vals = malloc((size_t)m->max_entries * m->vbytes + 1);
	if (!keys || !vals) {
		free(keys);
		free(vals);
		return lt_fail(L, "read map", m->name, ENOMEM, NULL);
	}
	long n = -EINVAL;
	bool batched = false;
	if (!iterate && m->type != BPF_MAP_TYPE_PERF_EVENT_ARRAY &&
	    m->type != BPF_MAP_TYPE_RINGBUF) {
		n = batch_all(m, keys, vals, del);
		batched = n >= 0;
	}
	if (n == -EINVAL || n == -ENOTSUPP || n == -EOPNOTSUPP || n == -EPERM)
		n = iterate_all(m, keys, vals, del);
	if (n < 0) {
		free(keys);
		free(vals);
		return lt_fail(L, del ? "read and clear map" : "read map", m->name,
			       -n, NULL);
	}
	lua_pushlstring(L, keys, (size_t)n * m->key_size);
	lua_pushlstring(L, vals, (size_t)n * m->vbytes);
	lua_pushinteger(L, n);
	lua_pushboolean(L, batched);
	free(keys);
	free(vals);
	return 4;
}

/* map:read_all([{iterate=true}]) -> keys, values, count, batched */
int lt_map_read_all(lua_State *L)
{
	return read_all(L, false);
}

/* map:take_all([{iterate=true}]) -> keys, values, count, batched: read and
 * delete (arrays: zero) every entry. */
int lt_map_take_all(lua_State *L)
{
	return read_all(L, true);
}
