/* link_close.c: closing many links at once.
 *
 * The kernel detaches a probe synchronously and each detach waits for RCU
 * grace periods (~60-140 ms per uprobe or tracepoint here), so closing 20
 * links one after another takes seconds. Detaches from several threads
 * share their grace periods: each link is destroyed by one of a pool of
 * threads, and the call returns only after every thread is joined, so
 * nothing stays attached once it returns (tests and the runner's leak
 * check rely on that). If a thread cannot be started the caller destroys
 * what is left itself. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include "lt_link.h"

/* Enough to overlap the grace periods of a wildcard's probes; the threads
 * sleep in the kernel, so the CPU count does not bound them. */
#define MAX_THREADS 32

struct pool {
	struct bpf_link **links;
	int n;
	int next; /* taken with __atomic_fetch_add */
};

static void *destroyer(void *arg)
{
	struct pool *p = arg;
	for (;;) {
		int i = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED);
		if (i >= p->n)
			return NULL;
		bpf_link__destroy(p->links[i]);
	}
}

void lt_links_destroy(struct bpf_link **links, int n)
{
	struct pool p = { .links = links, .n = n, .next = 0 };
	pthread_t tids[MAX_THREADS];
	int nt = 0;
	if (n > 1) {
		/* the workers take no signals: SIGINT stays with the main thread */
		sigset_t all, old;
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		int want = n - 1 < MAX_THREADS ? n - 1 : MAX_THREADS;
		while (nt < want && !pthread_create(&tids[nt], NULL, destroyer, &p))
			nt++;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	destroyer(&p);
	for (int i = 0; i < nt; i++)
		pthread_join(tids[i], NULL);
}

/* core.close_links(list): close every link of the array list together
 * (each becomes closed, as link:close() leaves it). Checked before any is
 * touched, so a bad element closes nothing. */
int lt_l_close_links(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	int len = (int)lua_objlen(L, 1), total = 0;
	for (int i = 1; i <= len; i++) {
		lua_rawgeti(L, 1, i);
		struct lt_link *lk = luaL_testudata(L, -1, LT_LINK_MT);
		if (!lk)
			return luaL_error(L, "close_links: element %d is not a link", i);
		total += lk->n;
		lua_pop(L, 1);
	}
	struct bpf_link **all = malloc((total ? total : 1) * sizeof(*all));
	int k = 0;
	for (int i = 1; i <= len; i++) {
		lua_rawgeti(L, 1, i);
		struct lt_link *lk = lua_touserdata(L, -1);
		lua_pop(L, 1);
		if (!all) { /* no memory for the list: one link at a time */
			lt_links_destroy(lk->links, lk->n);
		} else {
			for (int j = 0; j < lk->n; j++)
				all[k++] = lk->links[j];
		}
		free(lk->links);
		lk->links = NULL;
		lk->n = 0;
	}
	if (all) {
		lt_links_destroy(all, k);
		free(all);
	}
	return 0;
}
