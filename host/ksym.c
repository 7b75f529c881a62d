/* ksym.c: kernel symbols from /proc/kallsyms, read once and kept sorted by
 * address (for address -> name+offset+module) and by name (name -> address). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include "lt.h"
#include "addr.h"
#include "ksym.h"

struct ksym {
	uint64_t addr;
	char *name;
	char *module; /* NULL for vmlinux */
	char type;
};

static struct ksym *ks_by_addr;
static struct ksym **ks_by_name;
static size_t ks_n;
static int ks_loaded, ks_err;

static int cmp_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp((*(struct ksym *const *)a)->name,
		      (*(struct ksym *const *)b)->name);
}

static int ksym_load(void)
{
	if (ks_loaded)
		return ks_err;
	ks_loaded = 1;
	FILE *f = fopen("/proc/kallsyms", "re");
	if (!f)
		return ks_err = errno;
	size_t cap = 1 << 16;
	ks_by_addr = malloc(cap * sizeof(*ks_by_addr));
	char line[512], name[256], mod[128], type;
	unsigned long long addr;
	while (ks_by_addr && fgets(line, sizeof(line), f)) {
		mod[0] = 0;
		int n = sscanf(line, "%llx %c %255s [%127[^]]]", &addr, &type, name,
			       mod);
		if (n < 3)
			continue;
		if (ks_n == cap) {
			cap *= 2;
			struct ksym *nk = realloc(ks_by_addr, cap * sizeof(*nk));
			if (!nk)
				break;
			ks_by_addr = nk;
		}
		struct ksym *k = &ks_by_addr[ks_n++];
		k->addr = addr;
		k->type = type;
		k->name = strdup(name);
		k->module = n == 4 && *mod ? strdup(mod) : NULL;
	}
	fclose(f);
	if (!ks_by_addr)
		return ks_err = ENOMEM;
	if (ks_n && ks_by_addr[0].addr == 0 && ks_by_addr[ks_n - 1].addr == 0)
		ks_err = EPERM; /* kptr_restrict hides addresses */
	qsort(ks_by_addr, ks_n, sizeof(*ks_by_addr), cmp_addr);
	ks_by_name = malloc(ks_n * sizeof(*ks_by_name));
	for (size_t i = 0; ks_by_name && i < ks_n; i++)
		ks_by_name[i] = &ks_by_addr[i];
	if (ks_by_name)
		qsort(ks_by_name, ks_n, sizeof(*ks_by_name), cmp_name);
	return ks_err;
}

static const struct ksym *ksym_find_name(const char *name)
{
	if (ksym_load() || !ks_by_name)
		return NULL;
	struct ksym key = {.name = (char *)name}, *kp = &key;
	struct ksym **r = bsearch(&kp, ks_by_name, ks_n, sizeof(*ks_by_name),
				  cmp_name);
	return r ? *r : NULL;
}

static int is_text(char t)
{
	return t == 't' || t == 'T' || t == 'w' || t == 'W';
}

bool lt_ksym_exists(const char *name)
{
	if (ksym_load())
		return true; /* cannot tell: let the kernel decide */
	const struct ksym *k = ksym_find_name(name);
	return k && is_text(k->type);
}

/* Edit distance of a and b, giving up (returning max+1) beyond max. */
static int edit_distance(const char *a, const char *b, int max)
{
	int la = strlen(a), lb = strlen(b);
	if (abs(la - lb) > max || la > 127 || lb > 127)
		return max + 1;
	int prev[128], cur[128];
	for (int j = 0; j <= lb; j++)
		prev[j] = j;
	for (int i = 1; i <= la; i++) {
		cur[0] = i;
		int rowmin = cur[0];
		for (int j = 1; j <= lb; j++) {
			int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			int del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
			if (cur[j] < rowmin)
				rowmin = cur[j];
		}
		if (rowmin > max)
			return max + 1;
		memcpy(prev, cur, sizeof(int) * (lb + 1));
	}
	return prev[lb];
}

/* Up to three kernel functions close to name: near misses (edit distance
 * up to 2) first, then names containing it; shorter names first. */
void lt_ksym_suggest(const char *name, char *out, size_t n)
{
	const char *best[3] = {0};
	long score[3] = {LONG_MAX, LONG_MAX, LONG_MAX};
	out[0] = 0;
	if (ksym_load())
		return;
	for (size_t i = 0; i < ks_n; i++) {
		const struct ksym *k = &ks_by_addr[i];
		if (!is_text(k->type))
			continue;
		long sc;
		int d = edit_distance(name, k->name, 2);
		if (d <= 2)
			sc = d * 1000 + strlen(k->name);
		else if (strstr(k->name, name))
			sc = 10000 + strlen(k->name);
		else
			continue;
		int dup = 0;
		for (int j = 0; j < 3; j++)
			dup |= best[j] && !strcmp(best[j], k->name);
		if (dup)
			continue;
		for (int j = 0; j < 3; j++)
			if (sc < score[j]) {
				for (int m = 2; m > j; m--) {
					best[m] = best[m - 1];
					score[m] = score[m - 1];
				}
				best[j] = k->name;
				score[j] = sc;
				break;
			}
	}
	size_t used = 0;
	for (int j = 0; j < 3 && best[j]; j++)
		used += snprintf(out + used, used < n ? n - used : 0, "%s%s",
				 j ? ", " : "", best[j]);
}

/* core.ksym(addr) -> name, offset, module | nil */
static int l_ksym(lua_State *L)
{
	uint64_t a = lt_check_addr(L, 1);
	int err = ksym_load();
	if (err)
		return lt_fail(L, "read", "/proc/kallsyms", err,
			       err == EPERM ? "addresses are hidden; run as root "
					      "or lower kernel.kptr_restrict" : NULL);
	size_t lo = 0, hi = ks_n;
	while (lo < hi) { /* first entry with addr > a */
		size_t mid = (lo + hi) / 2;
		if (ks_by_addr[mid].addr <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0) {
		lua_pushnil(L);
		return 1;
	}
	const struct ksym *k = &ks_by_addr[lo - 1];
	lua_pushstring(L, k->name);
	lua_pushinteger(L, (lua_Integer)(a - k->addr));
	if (k->module)
		lua_pushstring(L, k->module);
	else
		lua_pushstring(L, "kernel");
	return 3;
}

/* core.ksym_addr(name) -> address (light userdata) | nil */
static int l_ksym_addr(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	int err = ksym_load();
	if (err)
		return lt_fail(L, "read", "/proc/kallsyms", err, NULL);
	const struct ksym *k = ksym_find_name(name);
	if (!k)
		lua_pushnil(L);
	else
		lt_push_addr(L, k->addr);
	return 1;
}

/* core.ksym_suggest(name) -> "a, b, c" (kernel functions close to name) */
static int l_ksym_suggest(lua_State *L)
{
	char out[512];
	lt_ksym_suggest(luaL_checkstring(L, 1), out, sizeof(out));
	lua_pushstring(L, out);
	return 1;
}

void lt_open_ksym(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{"ksym", l_ksym},
		{"ksym_suggest", l_ksym_suggest},
		{"ksym_addr", l_ksym_addr},
		{NULL, NULL},
	};
	lt_setfuncs(L, fns);
}
