/* usdt_notes.c: list the USDT (SystemTap SDT) probes of a binary from its
 * .note.stapsdt ELF notes: provider, name and argument spec. Used to find a
 * probe's provider when only its name is given (as BCC allows) and to list
 * probes. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <string.h>
#include <unistd.h>
#include "lt.h"

/* core.usdt_probes(path) -> { {provider=, name=, args=}, ... } */
static int l_usdt_probes(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lt_fail(L, "read USDT notes of", path, errno, NULL);
	elf_version(EV_CURRENT);
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e) {
		close(fd);
		return lt_failf(L, "read USDT notes of %s: not an ELF file", path);
	}
	size_t shstrndx;
	elf_getshdrstrndx(e, &shstrndx);
	lua_newtable(L);
	int k = 0;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		const char *name = elf_strptr(e, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".note.stapsdt"))
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t off = 0, noff, doff;
		GElf_Nhdr nh;
		while (d && (off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
			if (nh.n_type != 3 || nh.n_descsz < 24)
				continue;
			const char *desc = (const char *)d->d_buf + doff;
			const char *end = desc + nh.n_descsz;
			const char *prov = desc + 24; /* after pc, base, semaphore */
			const char *pname = memchr(prov, 0, end - prov);
			if (!pname++ || pname >= end)
				continue;
			const char *args = memchr(pname, 0, end - pname);
			if (!args++ || args > end)
				continue;
			lua_createtable(L, 0, 3);
			lua_pushstring(L, prov);
			lua_setfield(L, -2, "provider");
			lua_pushstring(L, pname);
			lua_setfield(L, -2, "name");
			lua_pushlstring(L, args, strnlen(args, end - args));
			lua_setfield(L, -2, "args");
			lua_rawseti(L, -2, ++k);
		}
	}
	elf_end(e);
	close(fd);
	return 1;
}

void lt_open_usdt_notes(lua_State *L)
{
	lua_pushcfunction(L, l_usdt_probes);
	lua_setfield(L, -2, "usdt_probes");
}
