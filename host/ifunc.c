/* ifunc.c: uprobes on GNU IFUNCs.
 *
 * glibc's strlen, memcpy, strcmp ... are IFUNCs: the symbol is a resolver
 * that the dynamic linker runs once to pick an implementation for this CPU
 * (__strlen_avx2, __strlen_evex, ...). A probe on the symbol would fire
 * only when the resolver runs, never on a call. As BCC does, we ask the
 * dynamic linker for the implementation: dlsym() of an IFUNC returns the
 * resolver's choice. Only for a library this process has already loaded
 * and that is the same file (device and inode): dlopen(RTLD_NOLOAD) runs
 * no new code as root. libc and libm, where IFUNCs live, are always
 * loaded here. The choice depends on the CPU only, so it is the one every
 * process on this machine makes. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <gelf.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <lauxlib.h>
#include "lt.h"
#include "usym.h"

struct loaded {
	dev_t dev;
	ino_t ino;
	char name[4096];
	uintptr_t bias; /* load address - ELF virtual address */
	int found;
};

static int find_loaded(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct loaded *l = arg;
	struct stat st;
	if (!info->dlpi_name || !*info->dlpi_name || stat(info->dlpi_name, &st))
		return 0;
	if (st.st_dev != l->dev || st.st_ino != l->ino)
		return 0;
	snprintf(l->name, sizeof(l->name), "%s", info->dlpi_name);
	l->bias = info->dlpi_addr;
	l->found = 1;
	return 1;
}

/* The implementations an IFUNC may pick, by glibc's naming (__strlen_*),
 * for the error's hint. */
static void candidates(const struct elf_syms *es, const char *sym, char *out,
		       size_t n)
{
	char pfx[256];
	size_t used = 0, plen;
	snprintf(pfx, sizeof(pfx), "__%s_", sym);
	plen = strlen(pfx);
	out[0] = 0;
	for (size_t i = 0; i < es->n && used + 1 < n; i++) {
		const char *name = es->syms[i].name;
		if (strncmp(name, pfx, plen) || es->syms[i].type != STT_FUNC)
			continue;
		if (used && strstr(out, name)) /* aliases share an address */
			continue;
		used += snprintf(out + used, n - used, "%s%s", used ? ", " : "", name);
	}
	if (used >= n)
		snprintf(out + n - 5, 5, "...");
}

/* core.uprobe_ifunc(path, sym) -> file offset, implementation name (nil
 * when the library has no symbol for it) | nil when sym is no IFUNC of
 * path (attach by name then). Raises an error when
 * it is one that cannot be resolved here. */
int lt_l_uprobe_ifunc(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	const char *sym = luaL_checkstring(L, 2);
	const struct elf_syms *es = lt_elf_syms(path);
	const struct sym *s = NULL;
	for (size_t i = 0; es && i < es->n; i++)
		if (es->syms[i].type == STT_GNU_IFUNC && !strcmp(es->syms[i].name, sym)) {
			s = &es->syms[i];
			break;
		}
	if (!s) {
		lua_pushnil(L);
		return 1;
	}
	char hint[512];
	struct loaded l = {0};
	struct stat st;
	if (!stat(path, &st)) {
		l.dev = st.st_dev;
		l.ino = st.st_ino;
		dl_iterate_phdr(find_loaded, &l);
	}
	void *impl = NULL;
	if (l.found) {
		void *h = dlopen(l.name, RTLD_LAZY | RTLD_NOLOAD);
		if (h) {
			impl = dlsym(h, sym);
			dlclose(h);
		}
	}
	uint64_t v = impl ? (uint64_t)(uintptr_t)impl - l.bias : 0;
	for (size_t i = 0; impl && i < es->nsegs; i++) {
		const struct seg *g = &es->segs[i];
		if (v >= g->vaddr && v < g->vaddr + g->filesz) {
			const struct sym *is = lt_elf_sym_at(es, v);
			lua_pushinteger(L, (lua_Integer)(v - g->vaddr + g->off));
			if (is && is->addr == v) /* stripped libraries: none */
				lua_pushstring(L, is->name);
			else
				lua_pushnil(L);
			return 2;
		}
	}
	candidates(es, sym, hint, sizeof(hint));
	return lt_failf(L, "attach uprobe %s:%s: %s is a GNU IFUNC (its "
			"implementation is picked at run time) in a library "
			"luatrace has not loaded itself, so it cannot ask which one "
			"(attach an implementation%s%s, or give addr= its file "
			"offset)", path, sym, sym, *hint ? ": " : "", hint);
}
