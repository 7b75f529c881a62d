/* link_uprobes.c: attaching uprobes and uretprobes, one or many at once.
 *
 * Opening a uprobe perf event waits for an RCU grace period in the kernel
 * (uprobe_register -> register_for_each_vma -> percpu_down_write(
 * &dup_mmap_sem) -> rcu_sync_enter -> synchronize_rcu: 9-16 ms here).
 * rcu_sync waits only when idle: writers that enter while another waits,
 * or within a grace period after the last one left, do not. So the
 * uprobes of one attach step are opened together, from a pool of threads
 * (pool.c), and share one grace period instead of paying up to one each.
 *
 * Everything that can fail with a clear message before the kernel is
 * asked (program, binary, options) is checked in the calling thread, and
 * symbols are looked up there too, in the symbol tables usym.c has read
 * once per file (core.uprobe_sym_offset): the threads then only call
 * libbpf's attach (perf_event_open, link). A symbol that table cannot
 * place for sure is left to libbpf's own lookup (and error) in the thread. core.attach_uprobes returns, per request, its link or its error
 * message: the Lua side (bpf/attach.lua) decides what a failure means and
 * closes the rest. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "lt.h"
#include "lt_link.h"
#include "pool.h"
#include "usym.h"

struct up_req {
	struct bpf_program *prog;
	const char *sym; /* NULL: offset is a file offset */
	long long off, cookie;
	int resolved; /* sym is placed: off is its file offset (sym_offset=) */
	int pid, ret;
	const char *path; /* resolved; the string is kept in a Lua table */
	struct bpf_link *link; /* the result: a link, or err (positive errno) */
	int err;
};

/* Read one request: the program (obj_idx, prog_idx), the binary and the
 * options at opt_idx {sym=, offset=, pid=, retprobe=, cookie=}. Raises on
 * bad input (nothing is attached yet). Strings stay owned by Lua: the
 * resolved path goes to table keep_idx at index i. */
static void req_read(lua_State *L, int obj_idx, int prog_idx, int bin_idx,
		     int opt_idx, int keep_idx, int i, struct up_req *r)
{
	r->prog = lt_check_prog(L, obj_idx, prog_idx);
	luaL_checktype(L, opt_idx, LUA_TTABLE);
	r->sym = lt_opt_str(L, opt_idx, "sym");
	r->off = lt_opt_ll(L, opt_idx, "offset", 0);
	r->pid = lt_opt_int(L, opt_idx, "pid", -1);
	r->ret = lt_opt_bool(L, opt_idx, "retprobe");
	r->cookie = lt_opt_ll(L, opt_idx, "cookie", 0);
	long long so = lt_opt_ll(L, opt_idx, "sym_offset", -1);
	if (r->sym && so >= 0) {
		r->resolved = 1;
		r->off = so;
	}
	char path[4096];
	lt_binary_path(L, "uprobe", luaL_checkstring(L, bin_idx), r->pid, path,
		       sizeof(path));
	lua_pushstring(L, path);
	r->path = lua_tostring(L, -1);
	lua_rawseti(L, keep_idx, i);
}

/* "uprobe PATH:SYM" or "uretprobe PATH:0xOFF" */
static void req_desc(const struct up_req *r, char *buf, size_t n)
{
	const char *kind = r->ret ? "uretprobe" : "uprobe";
	if (r->sym)
		snprintf(buf, n, "%s %s:%s", kind, r->path, r->sym);
	else
		snprintf(buf, n, "%s %s:0x%llx", kind, r->path, r->off);
}

/* (may run in a pool thread: touches only r, and libbpf) */
static void req_attach(struct up_req *r)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = r->ret,
		    .func_name = r->resolved ? NULL : r->sym, .bpf_cookie = r->cookie);
	struct bpf_link *l = bpf_program__attach_uprobe_opts(r->prog, r->pid,
							     r->path, r->off, &opts);
	int err = libbpf_get_error(l);
	r->link = err ? NULL : l;
	r->err = err < 0 ? -err : err;
}

static void attach_one(void *ctx, int i)
{
	req_attach(&((struct up_req *)ctx)[i]);
}

/* Push the message of a failed request. */
static void req_push_error(lua_State *L, const struct up_req *r)
{
	char desc[4096 + 512];
	req_desc(r, desc, sizeof(desc));
	if (r->sym && r->err == ENOENT)
		lua_pushfstring(L, "attach %s: no such function symbol %s in %s",
				desc, r->sym, r->path);
	else
		lt_push_fail(L, "attach", desc, r->err, NULL);
}

/* Push the link of a request that attached, keeping object obj_idx alive. */
static void req_push_link(lua_State *L, int obj_idx, struct up_req *r)
{
	char desc[256];
	req_desc(r, desc, sizeof(desc));
	struct bpf_link *l = r->link;
	r->link = NULL;
	lt_link_push_one(L, obj_idx, l, desc);
}

/* core.attach_uprobe(obj, prog, binary, {sym=, offset=, pid=, retprobe=, cookie=}):
 * binary is a path or a library short name ("c" for libc). */
int lt_l_attach_uprobe(lua_State *L)
{
	struct up_req *r = lua_newuserdata(L, sizeof(*r)); /* (freed by the GC) */
	memset(r, 0, sizeof(*r));
	lua_newtable(L);
	req_read(L, 1, 2, 3, 4, lua_gettop(L), 1, r);
	lt_log_reset();
	req_attach(r);
	if (r->err) {
		req_push_error(L, r);
		return lua_error(L);
	}
	req_push_link(L, 1, r);
	return 1;
}

/* core.attach_uprobes({{obj, prog, binary, sym=, offset=, pid=, retprobe=,
 * cookie=}, ...}) -> {link or error message, ...}: every request attached
 * at once. */
int lt_l_attach_uprobes(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	int n = (int)lua_objlen(L, 1);
	struct up_req *reqs = lua_newuserdata(L, (n ? n : 1) * sizeof(*reqs));
	memset(reqs, 0, (n ? n : 1) * sizeof(*reqs));
	lua_createtable(L, n, 0);
	int keep = lua_gettop(L);
	for (int i = 0; i < n; i++) {
		lua_rawgeti(L, 1, i + 1);
		int item = lua_gettop(L);
		if (!lua_istable(L, item))
			return luaL_error(L, "attach_uprobes: request %d is not a table", i + 1);
		lua_rawgeti(L, item, 1);
		lua_rawgeti(L, item, 2);
		lua_rawgeti(L, item, 3);
		req_read(L, item + 1, item + 2, item + 3, item, keep, i + 1, &reqs[i]);
		lua_settop(L, item - 1);
	}
	lt_log_reset();
	struct lt_pool pool;
	lt_pool_start(&pool, n, attach_one, reqs, 0);
	lt_pool_finish(&pool);
	/* (each link's userdata closes it when collected) */
	lua_createtable(L, n, 0);
	int out = lua_gettop(L);
	for (int i = 0; i < n; i++) {
		if (reqs[i].err) {
			req_push_error(L, &reqs[i]);
		} else {
			lua_rawgeti(L, 1, i + 1);
			lua_rawgeti(L, -1, 1);
			req_push_link(L, lua_gettop(L), &reqs[i]);
			lua_replace(L, -3);
			lua_pop(L, 1);
		}
		lua_rawseti(L, out, i + 1);
	}
	return 1;
}

/* core.uprobe_sym_offset(path, sym) -> the file offset of function sym, or
 * nil when the symbol tables do not place it for sure: no such function,
 * two addresses, or versioned names (sym@VER) libbpf would also match. */
int lt_l_uprobe_sym_offset(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	const char *sym = luaL_checkstring(L, 2);
	size_t len = strlen(sym);
	const struct elf_syms *es = lt_elf_syms(path);
	const struct sym *found = NULL;
	for (size_t i = 0; es && i < es->n; i++) {
		const struct sym *s = &es->syms[i];
		if (strncmp(s->name, sym, len) || (s->name[len] && s->name[len] != '@'))
			continue;
		if (s->name[len] || s->type != STT_FUNC ||
		    (found && found->addr != s->addr)) {
			found = NULL;
			break;
		}
		found = s;
	}
	for (size_t i = 0; found && i < es->nsegs; i++) {
		const struct seg *g = &es->segs[i];
		if (found->addr >= g->vaddr && found->addr < g->vaddr + g->filesz) {
			lua_pushinteger(L, (lua_Integer)(found->addr - g->vaddr + g->off));
			return 1;
		}
	}
	lua_pushnil(L);
	return 1;
}
