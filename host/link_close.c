/* link_close.c: closing many links at once.
 *
 * The kernel detaches a probe synchronously and each detach waits for RCU
 * grace periods (~60-140 ms per uprobe or tracepoint here), so closing 20
 * links one after another takes seconds. Detaches from several threads
 * share their grace periods: each link is destroyed by one of a pool of
 * threads (pool.c), and the call returns only after every thread is joined, so
 * nothing stays attached once it returns (tests and the runner's leak
 * check rely on that). If a thread cannot be started the caller destroys
 * what is left itself. USDT links are the exception: destroyed one after
 * another (see is_usdt). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include "lt_link.h"
#include "pool.h"

static void destroy_one(void *ctx, int i)
{
	bpf_link__destroy(((struct bpf_link **)ctx)[i]);
}

/* Destroy par[] from a pool of threads and, meanwhile, serial[] one
 * after another in this thread; return when all are gone. */
static void destroy_both(struct bpf_link **par, int np, struct bpf_link **serial,
			 int ns)
{
	struct lt_pool p;
	lt_pool_start(&p, np, destroy_one, par, ns > 0);
	for (int i = 0; i < ns; i++)
		bpf_link__destroy(serial[i]);
	lt_pool_finish(&p);
}

void lt_links_destroy(struct bpf_link **links, int n)
{
	destroy_both(links, n, NULL, 0);
}

/* libbpf 1.1's USDT links return their spec ids to the object's USDT
 * manager without a lock: two of them must not be destroyed at once. */
static int is_usdt(const struct lt_link *lk)
{
	return strncmp(lk->desc, "usdt ", 5) == 0;
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
	int np = 0, ns = total; /* parallel from the front, serial from the back */
	for (int i = 1; i <= len; i++) {
		lua_rawgeti(L, 1, i);
		struct lt_link *lk = lua_touserdata(L, -1);
		lua_pop(L, 1);
		if (!all) { /* no memory for the list: one link at a time */
			for (int j = 0; j < lk->n; j++)
				bpf_link__destroy(lk->links[j]);
		} else {
			for (int j = 0; j < lk->n; j++)
				if (is_usdt(lk))
					all[--ns] = lk->links[j];
				else
					all[np++] = lk->links[j];
		}
		free(lk->links);
		lk->links = NULL;
		lk->n = 0;
	}
	if (all) {
		destroy_both(all, np, all + ns, total - ns);
		free(all);
	}
	return 0;
}
