/* usym.c: user-space symbols: /proc/PID/maps + ELF symbol tables (symtab and
 * dynsym, through libelf) + /tmp/perf-PID.map for JIT code.
 *
 * core.usyms(pid) returns a resolver for one process; ELF tables are read
 * once per file and shared by all resolvers. An address that falls in no
 * known mapping makes the resolver re-read the maps once (the process may
 * have loaded a library since). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lt.h"
#include "addr.h"
#include "usym.h"

static struct elf_syms *elf_cache;

static int cmp_sym(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void add_section_syms(Elf *e, Elf_Scn *scn, GElf_Shdr *sh,
			     struct elf_syms *es, size_t *cap)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t cnt = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;
	for (size_t i = 0; d && i < cnt; i++) {
		GElf_Sym s;
		if (!gelf_getsym(d, i, &s) || !s.st_value)
			continue;
		int type = GELF_ST_TYPE(s.st_info);
		if (type != STT_FUNC && type != STT_GNU_IFUNC)
			continue;
		const char *name = elf_strptr(e, sh->sh_link, s.st_name);
		if (!name || !*name)
			continue;
		if (es->n == *cap) {
			*cap = *cap ? *cap * 2 : 256;
			struct sym *ns = realloc(es->syms, *cap * sizeof(*ns));
			if (!ns)
				return;
			es->syms = ns;
		}
		es->syms[es->n].addr = s.st_value;
		es->syms[es->n].size = s.st_size;
		es->syms[es->n].type = (unsigned char)type;
		es->syms[es->n].name = strdup(name);
		es->n++;
	}
}

const struct elf_syms *lt_elf_syms(const char *path)
{
	for (struct elf_syms *es = elf_cache; es; es = es->next)
		if (!strcmp(es->path, path))
			return es;
	struct elf_syms *es = calloc(1, sizeof(*es));
	if (!es)
		return NULL;
	es->path = strdup(path);
	es->next = elf_cache;
	elf_cache = es; /* cached even when unreadable: do not retry */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return es;
	elf_version(EV_CURRENT);
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e) {
		close(fd);
		return es;
	}
	size_t phnum = 0, cap = 0;
	elf_getphdrnum(e, &phnum);
	es->segs = calloc(phnum ? phnum : 1, sizeof(*es->segs));
	for (size_t i = 0; es->segs && i < phnum; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(e, i, &ph) && ph.p_type == PT_LOAD) {
			es->segs[es->nsegs].vaddr = ph.p_vaddr;
			es->segs[es->nsegs].off = ph.p_offset;
			es->segs[es->nsegs].filesz = ph.p_filesz;
			es->nsegs++;
		}
	}
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		if (gelf_getshdr(scn, &sh) &&
		    (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM))
			add_section_syms(e, scn, &sh, es, &cap);
	}
	elf_end(e);
	close(fd);
	if (es->n)
		qsort(es->syms, es->n, sizeof(*es->syms), cmp_sym);
	return es;
}

/* The symbol at ELF virtual address v, or NULL. */
const struct sym *lt_elf_sym_at(const struct elf_syms *es, uint64_t v)
{
	size_t lo = 0, hi = es->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (es->syms[mid].addr <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Sized symbols must contain v; zero-sized ones are taken as the
	 * nearest preceding. Walk back over aliases at the same address. */
	for (size_t i = lo; i > 0; i--) {
		const struct sym *s = &es->syms[i - 1];
		if (!s->size || v < s->addr + s->size)
			return s;
		if (i < lo && s->addr != es->syms[lo - 1].addr)
			break;
	}
	return NULL;
}

struct mapping {
	uint64_t start, end, pgoff;
	char *path;
};

struct perf_sym {
	uint64_t addr, size;
	char *name;
};

struct lt_usyms {
	int pid;
	struct mapping *maps;
	size_t nmaps;
	struct perf_sym *perf;
	size_t nperf;
};

static void usyms_free_maps(struct lt_usyms *u)
{
	for (size_t i = 0; i < u->nmaps; i++)
		free(u->maps[i].path);
	free(u->maps);
	u->maps = NULL;
	u->nmaps = 0;
	for (size_t i = 0; i < u->nperf; i++)
		free(u->perf[i].name);
	free(u->perf);
	u->perf = NULL;
	u->nperf = 0;
}

static int cmp_perf(const void *a, const void *b)
{
	const struct perf_sym *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int usyms_read(struct lt_usyms *u)
{
	char p[64], line[4096];
	usyms_free_maps(u);
	snprintf(p, sizeof(p), "/proc/%d/maps", u->pid);
	FILE *f = fopen(p, "re");
	if (!f)
		return errno;
	size_t cap = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e, off;
		char perms[8];
		int pathpos = 0;
		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &s, &e, perms, &off,
			   &pathpos) < 4 || perms[2] != 'x')
			continue;
		char *path = pathpos ? line + pathpos : (char *)"";
		path[strcspn(path, "\n")] = 0;
		if (u->nmaps == cap) {
			cap = cap ? cap * 2 : 64;
			struct mapping *nm = realloc(u->maps, cap * sizeof(*nm));
			if (!nm)
				break;
			u->maps = nm;
		}
		struct mapping *m = &u->maps[u->nmaps++];
		m->start = s;
		m->end = e;
		m->pgoff = off;
		if (*path == '/') {
			/* Through the process's root, so containers resolve. */
			char *full;
			if (asprintf(&full, "/proc/%d/root%s", u->pid, path) < 0)
				full = NULL;
			m->path = full;
		} else {
			m->path = strdup(path);
		}
	}
	fclose(f);
	/* JIT runtimes (perf map convention): "START SIZE name" per line. */
	snprintf(p, sizeof(p), "/tmp/perf-%d.map", u->pid);
	f = fopen(p, "re");
	cap = 0;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long a, sz;
		int pos = 0;
		if (sscanf(line, "%llx %llx %n", &a, &sz, &pos) < 2 || !pos)
			continue;
		if (u->nperf == cap) {
			cap = cap ? cap * 2 : 64;
			struct perf_sym *np = realloc(u->perf, cap * sizeof(*np));
			if (!np)
				break;
			u->perf = np;
		}
		line[strcspn(line, "\n")] = 0;
		u->perf[u->nperf].addr = a;
		u->perf[u->nperf].size = sz;
		u->perf[u->nperf].name = strdup(line + pos);
		u->nperf++;
	}
	if (f) {
		fclose(f);
		qsort(u->perf, u->nperf, sizeof(*u->perf), cmp_perf);
	}
	return 0;
}

/* The module name to show: the path as the process sees it. */
static const char *shown_path(const struct lt_usyms *u, const char *path)
{
	char pfx[48];
	int n = snprintf(pfx, sizeof(pfx), "/proc/%d/root", u->pid);
	return strncmp(path, pfx, n) ? path : path + n;
}

/* Resolve: returns 1 and pushes name, offset, module; 0 if unknown. */
static int usyms_resolve(lua_State *L, struct lt_usyms *u, uint64_t a)
{
	for (size_t i = 0; i < u->nmaps; i++) {
		const struct mapping *m = &u->maps[i];
		if (a < m->start || a >= m->end)
			continue;
		if (m->path[0] != '/')
			break; /* anonymous: maybe JIT code */
		const struct elf_syms *es = lt_elf_syms(m->path);
		if (!es)
			return 0;
		uint64_t foff = a - m->start + m->pgoff, v = foff;
		for (size_t s = 0; s < es->nsegs; s++)
			if (foff >= es->segs[s].off &&
			    foff < es->segs[s].off + es->segs[s].filesz) {
				v = foff - es->segs[s].off + es->segs[s].vaddr;
				break;
			}
		const struct sym *sym = lt_elf_sym_at(es, v);
		lua_pushstring(L, sym ? sym->name : NULL);
		lua_pushinteger(L, sym ? (lua_Integer)(v - sym->addr) :
					 (lua_Integer)v);
		lua_pushstring(L, shown_path(u, m->path));
		return 1;
	}
	for (size_t i = 0; i < u->nperf; i++) {
		const struct perf_sym *p = &u->perf[i];
		if (a >= p->addr && a < p->addr + p->size) {
			lua_pushstring(L, p->name);
			lua_pushinteger(L, (lua_Integer)(a - p->addr));
			/* the map file is the module, as BCC shows it */
			lua_pushfstring(L, "/tmp/perf-%d.map", u->pid);
			return 1;
		}
	}
	return 0;
}

static struct lt_usyms *usyms_check(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, LT_USYMS_MT);
}

/* core.usyms(pid) -> resolver */
static int l_usyms(lua_State *L)
{
	int pid = (int)luaL_checkinteger(L, 1);
	struct lt_usyms *u = lua_newuserdata(L, sizeof(*u));
	memset(u, 0, sizeof(*u));
	u->pid = pid;
	luaL_getmetatable(L, LT_USYMS_MT);
	lua_setmetatable(L, -2);
	int err = usyms_read(u);
	if (err) {
		char target[32];
		snprintf(target, sizeof(target), "process %d", pid);
		return lt_fail(L, "read memory maps of", target, err,
			       err == ENOENT ? "the process has exited" : NULL);
	}
	return 1;
}

/* resolver:resolve(addr) -> name|nil, offset, module | nil */
static int l_resolve(lua_State *L)
{
	struct lt_usyms *u = usyms_check(L, 1);
	uint64_t a = lt_check_addr(L, 2);
	if (usyms_resolve(L, u, a))
		return 3;
	/* Unknown address: the process may have mapped something new. */
	if (usyms_read(u) == 0 && usyms_resolve(L, u, a))
		return 3;
	lua_pushnil(L);
	return 1;
}

static int l_refresh(lua_State *L)
{
	struct lt_usyms *u = usyms_check(L, 1);
	int err = usyms_read(u);
	if (err)
		return lt_fail(L, "read memory maps of", "process", err, NULL);
	return 0;
}

static int l_usyms_gc(lua_State *L)
{
	usyms_free_maps(usyms_check(L, 1));
	return 0;
}

/* core.elf_symbol(path, name) -> ELF virtual address, size, file offset
 * (nil outside the file's segments), number of symbols of that name (glibc
 * defines pthread_create twice, one per symbol version, which libbpf 1.1
 * refuses as ambiguous) | nil */
static int l_elf_symbol(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	const char *name = luaL_checkstring(L, 2);
	const struct elf_syms *es = lt_elf_syms(path);
	const struct sym *s = NULL;
	int count = 0;
	for (size_t i = 0; es && i < es->n; i++)
		if (!strcmp(es->syms[i].name, name)) {
			if (!s)
				s = &es->syms[i];
			count++;
		}
	if (!s) {
		lua_pushnil(L);
		return 1;
	}
	lt_push_addr(L, s->addr);
	lua_pushinteger(L, (lua_Integer)s->size);
	lua_pushnil(L);
	for (size_t i = 0; i < es->nsegs; i++) {
		const struct seg *g = &es->segs[i];
		if (s->addr >= g->vaddr && s->addr < g->vaddr + g->filesz) {
			lua_pop(L, 1);
			lua_pushinteger(L, (lua_Integer)(s->addr - g->vaddr + g->off));
			break;
		}
	}
	lua_pushinteger(L, count);
	return 4;
}

void lt_open_usym(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"resolve", l_resolve},
		{"refresh", l_refresh},
		{"__gc", l_usyms_gc},
		{NULL, NULL},
	};
	static const luaL_Reg fns[] = {
		{"usyms", l_usyms},
		{"elf_symbol", l_elf_symbol},
		{"uprobe_ifunc", lt_l_uprobe_ifunc},
		{NULL, NULL},
	};
	lt_new_metatable(L, LT_USYMS_MT, methods);
	lt_setfuncs(L, fns);
}

/* Every function symbol of an ELF file (for `luatrace -l uprobe:PATH:*`),
 * from the same per-file cache. 0, or the errno of opening the file. */
int lt_elf_function_names(const char *path, void (*fn)(void *, const char *),
			  void *ctx)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	close(fd);
	const struct elf_syms *es = lt_elf_syms(path);
	for (size_t i = 0; es && i < es->n; i++)
		fn(ctx, es->syms[i].name);
	return 0;
}
