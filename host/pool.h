/* pool.h: run n blocking kernel calls from a pool of threads (pool.c).
 * Used where each call waits for RCU grace periods that concurrent calls
 * share: detaching links (link_close.c), opening uprobes (link_uprobes.c). */
#ifndef LT_POOL_H
#define LT_POOL_H
#include <pthread.h>

/* Enough to overlap the grace periods of a wildcard's probes; the threads
 * sleep in the kernel, so the CPU count does not bound them. */
#define LT_POOL_MAX 32

struct lt_pool {
	void (*fn)(void *ctx, int i);
	void *ctx;
	int n;
	int next; /* taken with __atomic_fetch_add */
	int nt;
	pthread_t tids[LT_POOL_MAX];
};

/* Start threads that call fn(ctx, i) for every i in [0, n), each i once.
 * caller_busy: the caller has other work to do before lt_pool_finish (so
 * one more thread is worth starting). Threads take no signals. */
void lt_pool_start(struct lt_pool *p, int n, void (*fn)(void *ctx, int i),
		   void *ctx, int caller_busy);
/* Take a share of what is left, then join every thread: when it returns,
 * every fn(ctx, i) has returned. If no thread could be started, the
 * caller does all of them here. */
void lt_pool_finish(struct lt_pool *p);
#endif
