/* libbpf_features.c: libbpf's answers about the kernel, read and preset.
 *
 * libbpf 1.1 learns what the kernel supports (program names, BTF kinds,
 * mmapable arrays, perf links, ...) by trying each: a program, a BTF or a
 * map loaded and closed, about 15 bpf() calls in every process (~0.3 ms
 * of a 4.5 ms warm one-liner). It keeps the answers in a static table,
 * feature_probes, and has no API to give them in advance. The Makefile
 * links a copy of libbpf.a where that symbol is global; its size there
 * gives the entry count (LT_LIBBPF_FEAT_BYTES, 0 when absent).
 *
 * Entries are matched by their description string, never by position
 * alone, so a libbpf whose table differs presets nothing it does not
 * name. lua/luatrace/bpf/features.lua keeps the answers per kernel and
 * boot. */
#include <string.h>
#include "lt.h"

/* libbpf 1.1's struct kern_feature_desc */
struct lt_feat {
	const char *desc;
	int (*probe)(void);
	int res; /* 0 unknown, 1 supported, 2 missing */
};

#if LT_LIBBPF_FEAT_BYTES > 0 && LT_LIBBPF_FEAT_BYTES % 24 == 0
_Static_assert(sizeof(struct lt_feat) == 24, "libbpf 1.1 kern_feature_desc layout");
extern struct lt_feat feature_probes[];
#define NFEAT (LT_LIBBPF_FEAT_BYTES / 24)
#else
static struct lt_feat *feature_probes;
#define NFEAT 0
#endif

/* core.libbpf_features() -> { [desc] = 1 | 2, ... }: what libbpf knows
 * so far (entries it has not probed are left out) */
static int l_features(lua_State *L)
{
	lua_createtable(L, 0, NFEAT);
	for (int i = 0; i < NFEAT; i++) {
		const struct lt_feat *f = &feature_probes[i];
		if (!f->desc || (f->res != 1 && f->res != 2))
			continue;
		lua_pushinteger(L, f->res);
		lua_setfield(L, -2, f->desc);
	}
	return 1;
}

/* core.libbpf_features_preset({ [desc] = 1 | 2, ... }) -> how many of
 * libbpf's unknown entries were set */
static int l_preset(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	int n = 0;
	for (int i = 0; i < NFEAT; i++) {
		struct lt_feat *f = &feature_probes[i];
		if (!f->desc || f->res)
			continue;
		lua_getfield(L, 1, f->desc);
		int v = (int)lua_tointeger(L, -1);
		lua_pop(L, 1);
		if (v == 1 || v == 2) {
			f->res = v;
			n++;
		}
	}
	lua_pushinteger(L, n);
	return 1;
}

void lt_open_libbpf_features(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{"libbpf_features", l_features},
		{"libbpf_features_preset", l_preset},
		{NULL, NULL},
	};
	lt_setfuncs(L, fns);
}
