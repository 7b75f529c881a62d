/* usym.h: ELF symbol tables of user binaries, read once per file (usym.c),
 * shared with the IFUNC resolution of uprobes (ifunc.c). */
#ifndef LT_USYM_H
#define LT_USYM_H
#include <stddef.h>
#include <stdint.h>
#include <lua.h>

struct sym {
	uint64_t addr, size;
	const char *name;
	unsigned char type; /* STT_FUNC or STT_GNU_IFUNC */
};

/* A PT_LOAD segment: ELF virtual address <-> file offset. */
struct seg {
	uint64_t vaddr, off, filesz;
};

struct elf_syms {
	char *path;
	struct sym *syms; /* function symbols, by address */
	size_t n;
	struct seg *segs;
	size_t nsegs;
	char *strs; /* owns the names */
	struct elf_syms *next;
};

/* The table of a file (cached, also when unreadable: then empty), or NULL
 * when out of memory. */
const struct elf_syms *lt_elf_syms(const char *path);
/* The function symbol at ELF virtual address v, or NULL. */
const struct sym *lt_elf_sym_at(const struct elf_syms *es, uint64_t v);

/* core.uprobe_ifunc(path, sym) (ifunc.c) */
int lt_l_uprobe_ifunc(lua_State *L);
#endif
