/* lineedit_lib.c: libedit, opened only when the console starts.
 *
 * Linking libedit made every run of luatrace load it and the libraries it
 * needs (libtinfo, libbsd, libmd): four more objects to map and relocate,
 * ~0.3 ms of each start (docs/STARTUP.md), for a console most runs
 * never open. dlopen() by soname searches what the dynamic linker would
 * have searched at exec (ld.so.cache, the system directories), so nothing
 * is loaded from a place a link-time dependency could not come from. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include "lineedit_lib.h"

/* The soname of Debian's libedit2 (libedit-dev's libedit.so points here). */
#define LIBEDIT_SONAME "libedit.so.2"

struct lt_libedit lt_le;

int lt_libedit_load(char *err, size_t errlen)
{
	static void *handle;
	if (handle)
		return 0;
	void *h = dlopen(LIBEDIT_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen, "cannot load %s: %s (install Debian's libedit2)",
			 LIBEDIT_SONAME, dlerror());
		return -1;
	}
	struct lt_libedit le;
	struct { const char *name; void **slot; } syms[] = {
#define SYM(n) { #n, (void **)&le.n }
		SYM(el_init), SYM(el_end), SYM(el_set), SYM(el_gets),
		SYM(el_push), SYM(el_line), SYM(el_insertstr),
		SYM(el_deletestr), SYM(el_resize), SYM(history_init),
		SYM(history_end), SYM(history),
#undef SYM
	};
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (!*syms[i].slot) {
			snprintf(err, errlen, "%s lacks %s", LIBEDIT_SONAME, syms[i].name);
			dlclose(h);
			return -1;
		}
	}
	lt_le = le;
	handle = h;
	return 0;
}
