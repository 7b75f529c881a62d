/* btf_list.c: probe and type names from the kernel's BTF, for `luatrace -l`
 * and `-lv`: kernel functions (kfunc/fentry targets), raw tracepoints
 * (the btf_trace_* typedefs), struct/union/enum names, a function's typed
 * arguments and a type's C definition.
 *
 * vmlinux's BTF (/sys/kernel/btf/vmlinux) and each module's split BTF
 * (/sys/kernel/btf/MODULE) are parsed once per process and kept: the
 * listing walks them several times. Names are matched with fnmatch(3)
 * (probe_list.c's lt_glob_match) and come back sorted and unique. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "lt.h"
#include "probe_list.h"

#define BTF_DIR "/sys/kernel/btf"

struct btf_mod {
	char name[256];
	struct btf *btf;
	int *funcs; /* FUNC ids sorted by name (built at first lookup) */
	size_t nfuncs;
	struct btf_dump *decl; /* declarations of argument types, kept */
};

static struct btf_mod *mods; /* mods[0] is vmlinux */
static size_t nmods;
static int mods_err;

static void load_mods(void)
{
	if (mods || mods_err)
		return;
	struct btf *vm = btf__parse(BTF_DIR "/vmlinux", NULL);
	if (libbpf_get_error(vm)) {
		mods_err = errno ? errno : ENOENT;
		return;
	}
	size_t cap = 16;
	mods = calloc(cap, sizeof(*mods));
	if (!mods) {
		btf__free(vm);
		mods_err = ENOMEM;
		return;
	}
	snprintf(mods[0].name, sizeof(mods[0].name), "vmlinux");
	mods[0].btf = vm;
	nmods = 1;
	DIR *d = opendir(BTF_DIR);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "vmlinux"))
			continue;
		char path[512];
		snprintf(path, sizeof(path), BTF_DIR "/%s", e->d_name);
		struct btf *b = btf__parse_split(path, vm);
		if (libbpf_get_error(b))
			continue;
		if (nmods == cap) {
			struct btf_mod *n = realloc(mods, 2 * cap * sizeof(*mods));
			if (!n) {
				btf__free(b);
				break;
			}
			mods = n;
			cap *= 2;
		}
		snprintf(mods[nmods].name, sizeof(mods[nmods].name), "%s", e->d_name);
		mods[nmods++].btf = b;
	}
	if (d)
		closedir(d);
}

static void check_mods(lua_State *L)
{
	load_mods();
	if (!mods)
		lt_fail(L, "read kernel BTF", BTF_DIR "/vmlinux", mods_err,
			"the kernel needs CONFIG_DEBUG_INFO_BTF");
}

/* The types a module adds: ids from the split start (vmlinux: 1). */
static int first_id(size_t m)
{
	return m == 0 ? 1 : (int)btf__type_cnt(mods[0].btf);
}

static const char *kind_word(const struct btf_type *t)
{
	if (btf_is_struct(t))
		return "struct";
	if (btf_is_union(t))
		return "union";
	if (btf_is_enum(t) || btf_kind(t) == 19 /* BTF_KIND_ENUM64 */)
		return "enum";
	return NULL;
}

/* core.btf_names(what, glob[, any_suffix]) -> sorted unique names:
 *   "func"   "MODULE:function" of every BTF FUNC (kfunc targets)
 *   "rawtp"  raw tracepoint names (typedef btf_trace_NAME)
 *   "type"   "struct NAME", "union NAME", "enum NAME"
 * glob is matched against the name as returned. */
static int l_btf_names(lua_State *L)
{
	const char *what = luaL_checkstring(L, 1);
	const char *glob = luaL_optstring(L, 2, "*");
	int any_suffix = lua_toboolean(L, 3);
	int mode = !strcmp(what, "func") ? 0 : !strcmp(what, "rawtp") ? 1
		 : !strcmp(what, "type") ? 2 : -1;
	if (mode < 0)
		return luaL_argerror(L, 1, "func, rawtp or type");
	check_mods(L);
	struct lt_names names = {0};
	char buf[512];
	for (size_t m = 0; m < nmods; m++) {
		const struct btf *b = mods[m].btf;
		int n = (int)btf__type_cnt(b);
		for (int id = first_id(m); id < n; id++) {
			const struct btf_type *t = btf__type_by_id(b, id);
			const char *name = btf__name_by_offset(b, t->name_off);
			if (!name || !*name)
				continue;
			if (mode == 0 && btf_is_func(t)) {
				snprintf(buf, sizeof(buf), "%s:%s", mods[m].name, name);
			} else if (mode == 1 && btf_is_typedef(t) &&
				   !strncmp(name, "btf_trace_", 10)) {
				snprintf(buf, sizeof(buf), "%s", name + 10);
			} else if (mode == 2 && kind_word(t)) {
				snprintf(buf, sizeof(buf), "%s %s", kind_word(t), name);
			} else {
				continue;
			}
			if (lt_glob_match(glob, buf, any_suffix))
				lt_names_add(&names, buf);
		}
	}
	lt_names_push(L, &names);
	return 1;
}

struct text {
	char *s;
	size_t len, cap;
};

static void to_text(void *ctx, const char *fmt, va_list args)
{
	struct text *t = ctx;
	va_list c;
	va_copy(c, args);
	int n = vsnprintf(NULL, 0, fmt, c);
	va_end(c);
	if (n < 0)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = (t->len + n + 1) * 2;
		char *s = realloc(t->s, cap);
		if (!s)
			return;
		t->s = s;
		t->cap = cap;
	}
	vsnprintf(t->s + t->len, t->cap - t->len, fmt, args);
	t->len += n;
}

/* FUNC lookup by name: libbpf's btf__find_by_name_kind scans every type,
 * too slow for `-lv 'kfunc:*'` (tens of thousands of lookups); each
 * module's FUNC ids are sorted by name once. */
static const struct btf *sort_btf;

static int cmp_func_id(const void *a, const void *b)
{
	const struct btf_type *x = btf__type_by_id(sort_btf, *(const int *)a);
	const struct btf_type *y = btf__type_by_id(sort_btf, *(const int *)b);
	return strcmp(btf__name_by_offset(sort_btf, x->name_off),
		      btf__name_by_offset(sort_btf, y->name_off));
}

static void index_funcs(struct btf_mod *m, size_t mi)
{
	int n = (int)btf__type_cnt(m->btf);
	m->funcs = malloc(sizeof(int) * (n > 0 ? n : 1));
	if (!m->funcs)
		return;
	for (int id = first_id(mi); id < n; id++)
		if (btf_is_func(btf__type_by_id(m->btf, id)))
			m->funcs[m->nfuncs++] = id;
	sort_btf = m->btf;
	qsort(m->funcs, m->nfuncs, sizeof(int), cmp_func_id);
}

static int lookup_func(struct btf_mod *m, size_t mi, const char *name)
{
	if (!m->funcs)
		index_funcs(m, mi);
	size_t lo = 0, hi = m->nfuncs;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct btf_type *t = btf__type_by_id(m->btf, m->funcs[mid]);
		int c = strcmp(btf__name_by_offset(m->btf, t->name_off), name);
		if (c == 0)
			return m->funcs[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Find a FUNC by name in module mod (NULL: any). Returns its module. */
static int find_func(const char *mod, const char *name, int *id)
{
	for (size_t m = 0; m < nmods; m++) {
		if (mod && strcmp(mod, mods[m].name))
			continue;
		int r = lookup_func(&mods[m], m, name);
		if (r > 0) {
			*id = r;
			return (int)m;
		}
	}
	return -1;
}

/* core.btf_func(module|nil, name) -> { module=, types = {...}, names = {...},
 *   ret = "type" (absent for void) } | nil. Types as btf_dump declares them
 *   ("struct file *"). */
static int l_btf_func(lua_State *L)
{
	const char *mod = luaL_optstring(L, 1, NULL);
	const char *name = luaL_checkstring(L, 2);
	check_mods(L);
	int id;
	int m = find_func(mod, name, &id);
	if (m < 0) {
		lua_pushnil(L);
		return 1;
	}
	const struct btf *b = mods[m].btf;
	const struct btf_type *proto = btf__type_by_id(b, btf__type_by_id(b, id)->type);
	/* one dumper per module (creating one sizes it by every type) */
	static struct text t;
	if (!mods[m].decl) {
		struct btf_dump *d = btf_dump__new(b, to_text, &t, NULL);
		if (libbpf_get_error(d))
			return lt_fail(L, "dump BTF of", name, (int)libbpf_get_error(d), NULL);
		mods[m].decl = d;
	}
	struct btf_dump *d = mods[m].decl;
	struct btf_dump_emit_type_decl_opts o = {.sz = sizeof(o), .field_name = ""};
	lua_createtable(L, 0, 3);
	lua_pushstring(L, mods[m].name);
	lua_setfield(L, -2, "module");
	const struct btf_param *p = btf_params(proto);
	int n = btf_vlen(proto);
	lua_createtable(L, n, 0);
	for (int i = 0; i < n; i++) {
		t.len = 0;
		btf_dump__emit_type_decl(d, p[i].type, &o);
		lua_pushlstring(L, t.s ? t.s : "", t.len);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "types");
	lua_createtable(L, n, 0);
	for (int i = 0; i < n; i++) {
		const char *an = btf__name_by_offset(b, p[i].name_off);
		lua_pushstring(L, an ? an : "");
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "names");
	if (proto->type) {
		t.len = 0;
		btf_dump__emit_type_decl(d, proto->type, &o);
		lua_pushlstring(L, t.s ? t.s : "", t.len);
		lua_setfield(L, -2, "ret");
	}
	return 1;
}

/* The length of the definition block at s (through its closing line,
 * "};" or "} __attribute__((packed));" at the line start), or 0. */
static size_t block_len(const char *s)
{
	for (const char *p = strchr(s, '\n'); p; p = strchr(p + 1, '\n')) {
		if (p[1] == '}') {
			const char *e = strchr(p + 1, '\n');
			return e ? (size_t)(e - s + 1) : 0;
		}
	}
	return 0;
}

/* core.btf_type_def("struct path") -> its C definition (btf_dump's text,
 * "struct path {\n\t...\n};") | nil when BTF has no such type. */
static int l_btf_type_def(lua_State *L)
{
	const char *full = luaL_checkstring(L, 1);
	check_mods(L);
	char kind[16], name[256];
	if (sscanf(full, "%15s %255s", kind, name) != 2) {
		lua_pushnil(L);
		return 1;
	}
	int bk = !strcmp(kind, "struct") ? BTF_KIND_STRUCT
	       : !strcmp(kind, "union") ? BTF_KIND_UNION
	       : !strcmp(kind, "enum") ? BTF_KIND_ENUM : -1;
	for (size_t m = 0; bk >= 0 && m < nmods; m++) {
		int id = btf__find_by_name_kind(mods[m].btf, name, bk);
		if (id <= 0 && bk == BTF_KIND_ENUM)
			id = btf__find_by_name_kind(mods[m].btf, name, 19 /* ENUM64 */);
		if (id <= 0)
			continue;
		struct text t = {0};
		struct btf_dump *d = btf_dump__new(mods[m].btf, to_text, &t, NULL);
		if (libbpf_get_error(d))
			return lt_fail(L, "dump BTF of", full, (int)libbpf_get_error(d), NULL);
		int err = btf_dump__dump_type(d, id);
		btf_dump__free(d);
		if (err || !t.s) {
			free(t.s);
			return lt_fail(L, "dump BTF of", full, err ? err : ENOMEM, NULL);
		}
		/* The dump holds the types it depends on first; ours is the
		 * block that opens with "<kind> <name> {" at the line start. */
		char head[300];
		snprintf(head, sizeof(head), "%s %s {\n", kind, name);
		const char *s = t.s;
		while (s && strncmp(s, head, strlen(head))) {
			s = strchr(s, '\n');
			s = s ? s + 1 : NULL;
		}
		size_t n = s ? block_len(s) : 0;
		if (n)
			lua_pushlstring(L, s, n);
		else
			lua_pushnil(L);
		free(t.s);
		return 1;
	}
	lua_pushnil(L);
	return 1;
}

/* core.btf_type_defs(glob) -> { "struct x {...};\n", ... } sorted by name:
 * the definitions of every struct/union/enum whose "kind name" matches,
 * from one dump of all types (as bpftrace's -lv 'struct *' does). */
static int l_btf_type_defs(lua_State *L)
{
	const char *glob = luaL_checkstring(L, 1);
	check_mods(L);
	struct lt_names defs = {0};
	for (size_t m = 0; m < nmods; m++) {
		struct text t = {0};
		struct btf_dump *d = btf_dump__new(mods[m].btf, to_text, &t, NULL);
		if (libbpf_get_error(d))
			return lt_fail(L, "dump BTF of", mods[m].name, (int)libbpf_get_error(d), NULL);
		int n = (int)btf__type_cnt(mods[m].btf);
		for (int id = first_id(m); id < n; id++)
			btf_dump__dump_type(d, id);
		btf_dump__free(d);
		char name[512];
		for (const char *s = t.s; s && *s;) {
			const char *eol = strchr(s, '\n');
			size_t ll = eol ? (size_t)(eol - s) : strlen(s);
			size_t bl;
			if (ll > 2 && ll < sizeof(name) && !strncmp(s + ll - 2, " {", 2) &&
			    (!strncmp(s, "struct ", 7) || !strncmp(s, "union ", 6) ||
			     !strncmp(s, "enum ", 5)) && (bl = block_len(s))) {
				memcpy(name, s, ll - 2);
				name[ll - 2] = 0;
				/* the sort key is the name: "name\1definition" */
				if (lt_glob_match(glob, name, 0)) {
					char *e = malloc(ll - 2 + 1 + bl + 1);
					if (e) {
						memcpy(e, name, ll - 2);
						e[ll - 2] = 1;
						memcpy(e + ll - 1, s, bl);
						e[ll - 1 + bl] = 0;
						lt_names_add(&defs, e);
						free(e);
					}
				}
				s += bl;
				continue;
			}
			s = eol ? eol + 1 : NULL;
		}
		free(t.s);
	}
	lt_names_push(L, &defs);
	/* drop the sort keys */
	int k = (int)lua_objlen(L, -1);
	for (int i = 1; i <= k; i++) {
		lua_rawgeti(L, -1, i);
		const char *e = lua_tostring(L, -1);
		lua_pushstring(L, strchr(e, 1) + 1);
		lua_rawseti(L, -3, i);
		lua_pop(L, 1);
	}
	return 1;
}

void lt_open_btf_list(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{"btf_names", l_btf_names},
		{"btf_func", l_btf_func},
		{"btf_type_def", l_btf_type_def},
		{"btf_type_defs", l_btf_type_defs},
		{NULL, NULL},
	};
	lt_setfuncs(L, fns);
}
