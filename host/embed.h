/* embed.h: the Lua library compiled into the binary (see tools/bcgen.c). */
#ifndef LT_EMBED_H
#define LT_EMBED_H
#include <stddef.h>

struct lt_embedded {
	const char *name; /* module name, e.g. "luatrace.events" */
	const char *code; /* LuaJIT bytecode */
	size_t size;
};

extern const struct lt_embedded lt_embedded[];

#endif
