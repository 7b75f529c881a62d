/* pool.c: a pool of threads for blocking kernel calls that share their
 * waits when made concurrently (see pool.h). The threads are joined by
 * lt_pool_finish, so nothing runs on once the caller goes on. */
#define _GNU_SOURCE
#include <signal.h>
#include "pool.h"

static void *worker(void *arg)
{
	struct lt_pool *p = arg;
	for (;;) {
		int i = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED);
		if (i >= p->n)
			return NULL;
		p->fn(p->ctx, i);
	}
}

void lt_pool_start(struct lt_pool *p, int n, void (*fn)(void *ctx, int i),
		   void *ctx, int caller_busy)
{
	p->fn = fn;
	p->ctx = ctx;
	p->n = n;
	p->next = 0;
	p->nt = 0;
	/* (an idle caller takes a share in lt_pool_finish) */
	int want = caller_busy ? n : n - 1;
	if (want > LT_POOL_MAX)
		want = LT_POOL_MAX;
	if (want <= 0)
		return;
	/* the workers take no signals: SIGINT stays with the main thread */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	while (p->nt < want && !pthread_create(&p->tids[p->nt], NULL, worker, p))
		p->nt++;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void lt_pool_finish(struct lt_pool *p)
{
	worker(p);
	for (int i = 0; i < p->nt; i++)
		pthread_join(p->tids[i], NULL);
	p->nt = 0;
}
