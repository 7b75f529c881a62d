/* ksym.c: kernel symbols from /proc/kallsyms, read once and kept sorted by
 * address (for address -> name+offset+module) and by name (name -> address).
 *
 * Compact, because symbolizing one kernel stack loads all of it: 16 bytes
 * a symbol with its name in one shared pool (strdup'ed names and pointer
 * tables took ~10 MB here, most of offcputime's and profile's peak RSS),
 * and the __pfx_ symbols left out: they name the padding before each
 * function (CONFIG_FUNCTION_PADDING_ALIGNMENT), half of the table, and no
 * stack frame or probe is ever there. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include "lt.h"
#include "addr.h"
#include "ksym.h"

struct ksym {
	uint64_t addr;
	uint32_t name;	 /* offset in ks_pool */
	uint16_t module; /* offset of its name in ks_mods; 0: vmlinux */
	char type;
};

static struct ksym *ks_by_addr;
static uint32_t *ks_by_name; /* indexes into ks_by_addr */
static size_t ks_n;
static char *ks_pool;	      /* the names, NUL-terminated */
static size_t ks_pool_len;
static char ks_mods[1 << 16]; /* module names, from offset 1 */
static size_t ks_mods_len = 1;
static int ks_loaded, ks_err;

static const char *ks_name(const struct ksym *k) { return ks_pool + k->name; }

static const char *ks_module(const struct ksym *k)
{
	return k->module ? ks_mods + k->module : NULL;
}

static int cmp_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(ks_name(&ks_by_addr[*(const uint32_t *)a]),
		      ks_name(&ks_by_addr[*(const uint32_t *)b]));
}

/* Grow *p (n elements of size sz, cap *cap) to hold need; 0 or ENOMEM.
 * Big blocks are mmapped by malloc, so realloc moves no bytes. */
static int grow(void *p, size_t *cap, size_t need, size_t sz)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 4096;
	while (c < need)
		c *= 2;
	void *n = realloc(*(void **)p, c * sz);
	if (!n)
		return ENOMEM;
	*(void **)p = n;
	*cap = c;
	return 0;
}

/* The offset of module name m (length len) in ks_mods, added if new; 0
 * if the table is full (the symbol then reads as vmlinux's). */
static uint16_t module_index(const char *m, size_t len)
{
	static uint16_t last;
	if (last && !strncmp(ks_mods + last, m, len) && !ks_mods[last + len])
		return last; /* a module's symbols come together */
	for (size_t i = 1; i < ks_mods_len; i += strlen(ks_mods + i) + 1)
		if (!strncmp(ks_mods + i, m, len) && !ks_mods[i + len])
			return last = (uint16_t)i;
	if (ks_mods_len + len + 1 > sizeof(ks_mods))
		return 0;
	memcpy(ks_mods + ks_mods_len, m, len);
	ks_mods[ks_mods_len + len] = 0;
	last = (uint16_t)ks_mods_len;
	ks_mods_len += len + 1;
	return last;
}

/* One line: "ADDR T NAME[\t[MODULE]]". */
static int add_line(char *line, size_t *cap, size_t *pool_cap)
{
	char *p = line, *end;
	unsigned long long addr = strtoull(p, &end, 16);
	if (end == p || *end != ' ' || !end[1] || end[2] != ' ')
		return 0;
	char type = end[1];
	char *name = end + 3;
	size_t nlen = strcspn(name, " \t\n");
	if (!nlen || !strncmp(name, "__pfx_", 6))
		return 0;
	uint16_t mod = 0;
	char *m = strchr(name + nlen, '[');
	if (m) {
		char *me = strchr(++m, ']');
		if (me)
			mod = module_index(m, me - m);
	}
	if (grow(&ks_by_addr, cap, ks_n + 1, sizeof(*ks_by_addr)) ||
	    grow(&ks_pool, pool_cap, ks_pool_len + nlen + 1, 1) ||
	    ks_pool_len + nlen + 1 > UINT32_MAX)
		return ENOMEM;
	struct ksym *k = &ks_by_addr[ks_n++];
	k->addr = addr;
	k->type = type;
	k->module = mod;
	k->name = (uint32_t)ks_pool_len;
	memcpy(ks_pool + ks_pool_len, name, nlen);
	ks_pool[ks_pool_len + nlen] = 0;
	ks_pool_len += nlen + 1;
	return 0;
}

static int ksym_load(void)
{
	if (ks_loaded)
		return ks_err;
	ks_loaded = 1;
	FILE *f = fopen("/proc/kallsyms", "re");
	if (!f)
		return ks_err = errno;
	setvbuf(f, NULL, _IOFBF, 1 << 16); /* procfs says 1 KiB: 5000 reads */
	size_t cap = 0, pool_cap = 0;
	char line[512];
	while (fgets(line, sizeof(line), f))
		if ((ks_err = add_line(line, &cap, &pool_cap)))
			break;
	fclose(f);
	if (ks_err)
		return ks_err;
	if (ks_n && ks_by_addr[0].addr == 0 && ks_by_addr[ks_n - 1].addr == 0)
		ks_err = EPERM; /* kptr_restrict hides addresses */
	qsort(ks_by_addr, ks_n, sizeof(*ks_by_addr), cmp_addr);
	return ks_err;
}

/* The by-name index, built on the first lookup by name (symbolizing a
 * stack needs only the addresses). */
static int by_name_index(void)
{
	if (ks_by_name)
		return 0;
	ks_by_name = malloc((ks_n ? ks_n : 1) * sizeof(*ks_by_name));
	if (!ks_by_name)
		return ENOMEM;
	for (size_t i = 0; i < ks_n; i++)
		ks_by_name[i] = (uint32_t)i;
	qsort(ks_by_name, ks_n, sizeof(*ks_by_name), cmp_name);
	return 0;
}

static const struct ksym *ksym_find_name(const char *name)
{
	if (ksym_load() || by_name_index())
		return NULL;
	size_t lo = 0, hi = ks_n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct ksym *k = &ks_by_addr[ks_by_name[mid]];
		int c = strcmp(ks_name(k), name);
		if (!c)
			return k;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
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
		const char *kn = ks_name(k);
		int d = edit_distance(name, kn, 2);
		if (d <= 2)
			sc = d * 1000 + strlen(kn);
		else if (strstr(kn, name))
			sc = 10000 + strlen(kn);
		else
			continue;
		int dup = 0;
		for (int j = 0; j < 3; j++)
			dup |= best[j] && !strcmp(best[j], kn);
		if (dup)
			continue;
		for (int j = 0; j < 3; j++)
			if (sc < score[j]) {
				for (int m = 2; m > j; m--) {
					best[m] = best[m - 1];
					score[m] = score[m - 1];
				}
				best[j] = kn;
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
	lua_pushstring(L, ks_name(k));
	lua_pushinteger(L, (lua_Integer)(a - k->addr));
	if (ks_module(k))
		lua_pushstring(L, ks_module(k));
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
