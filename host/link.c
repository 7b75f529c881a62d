/* link.c: attaching programs. Each attach returns one link userdata that
 * owns one or more bpf_links (a perf event program has one per CPU).
 *
 * Attachments are fd-owned (bpf_link or perf event fds), so even SIGKILL
 * leaves nothing in the kernel. Before asking the kernel, each attach checks
 * what it can (feature present, tracepoint exists, function exists) so the
 * error says what is wrong and what to use instead. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/perf_event.h>
#include <bpf/libbpf.h>
#include "lt.h"
#include "kfeatures.h"
#include "ksym.h"
#include "libpath.h"
#include <stdbool.h>
#include "lt_link.h"

static struct lt_link *link_check(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, LT_LINK_MT);
}

void lt_link_push(lua_State *L, int obj_idx, struct bpf_link **links,
		      int n, const char *desc)
{
	/* A script that attaches probes will wait for their events: from
	 * now on the first SIGINT ends its next wait (sig.c). */
	lt_sig_will_wait();
	struct lt_link *lk = lua_newuserdata(L, sizeof(*lk));
	lk->links = links;
	lk->n = n;
	snprintf(lk->desc, sizeof(lk->desc), "%s", desc);
	luaL_getmetatable(L, LT_LINK_MT);
	lua_setmetatable(L, -2);
	lt_keep_alive(L, obj_idx);
}

void lt_link_push_one(lua_State *L, int obj_idx, struct bpf_link *l,
			  const char *desc)
{
	struct bpf_link **v = malloc(sizeof(*v));
	if (!v) {
		bpf_link__destroy(l);
		lt_fail(L, "attach", desc, ENOMEM, NULL);
	}
	v[0] = l;
	lt_link_push(L, obj_idx, v, 1, desc);
}

/* The tail every single-link attach shares: push the link and return 0,
 * or return the error (a positive errno) for the caller to explain. */
static int link_result(lua_State *L, struct bpf_link *l, const char *desc)
{
	int err = libbpf_get_error(l);
	if (err)
		return err < 0 ? -err : err;
	lt_link_push_one(L, 1, l, desc);
	return 0;
}

static int link_close(lua_State *L)
{
	struct lt_link *lk = link_check(L, 1);
	/* (a perf event link holds one per CPU: they detach together) */
	lt_links_destroy(lk->links, lk->n);
	free(lk->links);
	lk->links = NULL;
	lk->n = 0;
	return 0;
}

static int link_tostring(lua_State *L)
{
	struct lt_link *lk = link_check(L, 1);
	lua_pushfstring(L, "link %s%s", lk->desc, lk->links ? "" : " (closed)");
	return 1;
}

static int link_describe(lua_State *L)
{
	lua_pushstring(L, link_check(L, 1)->desc);
	return 1;
}

/* link:count(): kernel attachments held (0 once closed). */
static int link_count(lua_State *L)
{
	lua_pushinteger(L, link_check(L, 1)->n);
	return 1;
}

/* core.attach_tracepoint(obj, prog, category, event[, {cookie=}]) */
static int l_attach_tracepoint(lua_State *L)
{
	struct bpf_program *p = lt_check_prog(L, 1, 2);
	const char *cat = luaL_checkstring(L, 3), *ev = luaL_checkstring(L, 4);
	char desc[256];
	snprintf(desc, sizeof(desc), "tracepoint %s:%s", cat, ev);
	if (!lt_tracepoint_exists(cat, ev)) {
		char hint[128];
		snprintf(hint, sizeof(hint), "list them with luatrace -l '%s:*'", cat);
		return lt_fail(L, "attach", desc, ENOENT, hint);
	}
	lt_log_reset();
	LIBBPF_OPTS(bpf_tracepoint_opts, opts, .bpf_cookie = lt_opt_ll(L, 5, "cookie", 0));
	int err = link_result(L, bpf_program__attach_tracepoint_opts(p, cat, ev, &opts), desc);
	return err ? lt_fail(L, "attach", desc, err, NULL) : 1;
}

/* core.attach_raw_tracepoint(obj, prog, name) */
static int l_attach_raw_tracepoint(lua_State *L)
{
	struct bpf_program *p = lt_check_prog(L, 1, 2);
	const char *name = luaL_checkstring(L, 3);
	char desc[256];
	snprintf(desc, sizeof(desc), "raw tracepoint %s", name);
	lt_log_reset();
	int err = link_result(L, bpf_program__attach_raw_tracepoint(p, name), desc);
	return err ? lt_fail(L, "attach", desc, err,
			     err == ENOENT ? "no such raw tracepoint" : NULL) : 1;
}

/* core.attach_trace(obj, prog): tp_btf, fentry, fexit (and fmod_ret): the
 * target was fixed at load (section name or set_attach_target). */
static int l_attach_trace(lua_State *L)
{
	struct bpf_program *p = lt_check_prog(L, 1, 2);
	char desc[256];
	snprintf(desc, sizeof(desc), "%s", bpf_program__section_name(p));
	lt_log_reset();
	int err = link_result(L, bpf_program__attach_trace(p), desc);
	if (err) {
		const char *hint = NULL;
		if (!strncmp(desc, "fentry", 6) || !strncmp(desc, "fexit", 5))
			hint = lt_has_fentry() ? NULL :
				"fentry/fexit are not available in this kernel; "
				"use a kprobe or a tracepoint";
		return lt_fail(L, "attach", desc, err, hint);
	}
	return 1;
}

/* core.attach_kprobe(obj, prog, func, {retprobe=, offset=, cookie=}) */
static int l_attach_kprobe(lua_State *L)
{
	struct bpf_program *p = lt_check_prog(L, 1, 2);
	const char *func = luaL_checkstring(L, 3);
	int ret = lt_opt_bool(L, 4, "retprobe");
	long long off = lt_opt_ll(L, 4, "offset", 0);
	char desc[256];
	snprintf(desc, sizeof(desc), "%s %s", ret ? "kretprobe" : "kprobe", func);
	if (!lt_has_kprobes())
		return lt_failf(L, "attach %s: kprobes are not available in this "
				"kernel (no kprobe PMU and no kprobe_events); use a "
				"tracepoint%s", desc,
				lt_has_fentry() ? " or fentry/fexit" : "");
	if (!lt_ksym_exists(func)) {
		char hint[256];
		lt_ksym_suggest(func, hint, sizeof(hint));
		return lt_failf(L, "attach %s: no such kernel function%s%s", desc,
				*hint ? "; did you mean " : "", hint);
	}
	LIBBPF_OPTS(bpf_kprobe_opts, opts, .retprobe = ret, .offset = off,
		    .bpf_cookie = lt_opt_ll(L, 4, "cookie", 0));
	lt_log_reset();
	int err = link_result(L, bpf_program__attach_kprobe_opts(p, func, &opts), desc);
	return err ? lt_fail(L, "attach", desc, err,
			     err == ENOENT || err == EINVAL ?
				     "the function may be inlined or blacklisted "
				     "for kprobes" : NULL) : 1;
}

/* Resolve a binary argument: a path, or a library short name ("c"). */
const char *lt_binary_path(lua_State *L, const char *what, const char *name,
			       int pid, char *buf, size_t n)
{
	int err = lt_find_library(name, pid, buf, n);
	if (err) {
		char target[512];
		snprintf(target, sizeof(target), "%s %s", what, name);
		lt_fail(L, "attach", target, err, strchr(name, '/') ?
			"no such binary or library" :
			"no such library in the process, ld.so.cache or the library "
			"directories");
	}
	return buf;
}

/* core.attach_usdt(obj, prog, binary, provider, name, {pid=, cookie=}) */
static int l_attach_usdt(lua_State *L)
{
	struct bpf_program *p = lt_check_prog(L, 1, 2);
	const char *prov = luaL_checkstring(L, 4);
	const char *name = luaL_checkstring(L, 5);
	int pid = lt_opt_int(L, 6, "pid", -1);
	char pathbuf[4096];
	const char *path = lt_binary_path(L, "usdt", luaL_checkstring(L, 3), pid,
				       pathbuf, sizeof(pathbuf));
	long long cookie = lt_opt_ll(L, 6, "cookie", 0);
	char desc[512];
	snprintf(desc, sizeof(desc), "usdt %s:%s:%s", path, prov, name);
	LIBBPF_OPTS(bpf_usdt_opts, opts, .usdt_cookie = cookie);
	lt_log_reset();
	int err = link_result(L, bpf_program__attach_usdt(p, pid, path, prov, name, &opts), desc);
	if (err == ENOENT)
		return lt_failf(L, "attach %s: no such USDT probe in %s (list "
				"them with luatrace -l 'usdt:%s:*')", desc, path, path);
	return err ? lt_fail(L, "attach", desc, err, NULL) : 1;
}

static int perf_open(struct perf_event_attr *a, int pid, int cpu)
{
	return syscall(__NR_perf_event_open, a, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/* core.attach_perf_event(obj, prog, {type=, config=, period=|freq=, pid=,
 * cpu=}): without pid and cpu, one event per online CPU. */
static int l_attach_perf_event(lua_State *L)
{
	struct bpf_program *p = lt_check_prog(L, 1, 2);
	luaL_checktype(L, 3, LUA_TTABLE);
	struct perf_event_attr a;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = lt_opt_int(L, 3, "type", PERF_TYPE_SOFTWARE);
	a.config = lt_opt_ll(L, 3, "config", PERF_COUNT_SW_CPU_CLOCK);
	long long freq = lt_opt_ll(L, 3, "freq", 0);
	long long period = lt_opt_ll(L, 3, "period", 0);
	if (freq && period)
		return luaL_argerror(L, 3, "give freq or period, not both");
	if (freq) {
		a.freq = 1;
		a.sample_freq = freq;
	} else {
		a.sample_period = period ? period : 1000000;
	}
	int pid = lt_opt_int(L, 3, "pid", -1);
	int cpu = lt_opt_int(L, 3, "cpu", -1);
	char desc[256];
	snprintf(desc, sizeof(desc), "perf_event type %u config %llu%s", a.type,
		 (unsigned long long)a.config,
		 pid >= 0 ? " for a pid" : cpu >= 0 ? " on a CPU" : " on every CPU");
	bool *online = NULL;
	int ncpu = 1;
	if (pid < 0 && cpu < 0) {
		int err = lt_parse_cpu_mask_file("/sys/devices/system/cpu/online",
					      &online, &ncpu);
		if (err)
			return lt_fail(L, "attach", desc, err, "reading online CPUs");
	}
	struct bpf_link **links = calloc(ncpu, sizeof(*links));
	int n = 0;
	for (int c = 0; c < ncpu; c++) {
		if (online && !online[c])
			continue;
		int fd = perf_open(&a, pid, online ? c : cpu);
		if (fd < 0) {
			int err = errno;
			for (int i = 0; i < n; i++)
				bpf_link__destroy(links[i]);
			free(links);
			free(online);
			const char *hint = NULL;
			if (a.type == PERF_TYPE_HARDWARE && (err == ENOENT ||
							     err == EOPNOTSUPP))
				hint = "hardware perf events are not available here "
				       "(a VM?); use the software cpu-clock event";
			else if (err == ESRCH)
				hint = "no such process";
			return lt_fail(L, "attach", desc, err, hint);
		}
		lt_log_reset();
		struct bpf_link *l = bpf_program__attach_perf_event(p, fd);
		int err = libbpf_get_error(l);
		if (err) {
			close(fd);
			for (int i = 0; i < n; i++)
				bpf_link__destroy(links[i]);
			free(links);
			free(online);
			return lt_fail(L, "attach", desc, err, NULL);
		}
		links[n++] = l;
	}
	free(online);
	lt_link_push(L, 1, links, n, desc);
	return 1;
}

/* obj:set_program_type(prog, section): before load, give a program the
 * type libbpf derives from a section name ("kprobe", "tracepoint", ...).
 * A BCC-style `int f(void *ctx)` has no type of its own: it takes the one
 * of the attach call that needs it (lua/luatrace/bpf/attach.lua). */
static int l_set_program_type(lua_State *L)
{
	struct bpf_program *p = lt_check_prog(L, 1, 2);
	const char *sec = luaL_checkstring(L, 3);
	enum bpf_prog_type type;
	enum bpf_attach_type at;
	int err = libbpf_prog_type_by_name(sec, &type, &at);
	if (!err)
		err = bpf_program__set_type(p, type);
	if (!err)
		err = bpf_program__set_expected_attach_type(p, at);
	if (err)
		return lt_fail(L, "set the program type of", bpf_program__name(p),
			       err, sec);
	return 0;
}

void lt_open_link(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"close", link_close},
		{"count", link_count},
		{"describe", link_describe},
		{"__gc", link_close},
		{"__tostring", link_tostring},
		{NULL, NULL},
	};
	static const luaL_Reg fns[] = {
		{"attach_tracepoint", l_attach_tracepoint},
		{"attach_raw_tracepoint", l_attach_raw_tracepoint},
		{"attach_trace", l_attach_trace},
		{"attach_kprobe", l_attach_kprobe},
		{"attach_uprobe", lt_l_attach_uprobe},
		{"attach_uprobes", lt_l_attach_uprobes},
		{"uprobe_sym_offset", lt_l_uprobe_sym_offset},
		{"attach_usdt", l_attach_usdt},
		{"attach_perf_event", l_attach_perf_event},
		{"close_links", lt_l_close_links},
		{NULL, NULL},
	};
	static const luaL_Reg obj_methods[] = {
		{"set_program_type", l_set_program_type},
		{NULL, NULL},
	};
	lt_new_metatable(L, LT_LINK_MT, methods);
	lt_setfuncs(L, fns);
	luaL_getmetatable(L, LT_OBJ_MT);
	lt_setfuncs(L, obj_methods);
	lua_pop(L, 1);
}
