/* err.c: error messages and libbpf's log.
 *
 * Every kernel or environment failure becomes one Lua error string:
 * "<operation> <target>: <cause> (<hint>)". libbpf's own log is captured
 * into a buffer so a failed load can carry the verifier's words; with -v it
 * is also echoed to stderr. libbpf may log from the threads that attach
 * uprobes together (link_uprobes.c): the buffer has a lock. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "lt.h"
#include "kfeatures.h"

static struct {
	char *buf;
	size_t len, cap;
	int verbose;
} lt_log;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void log_append_locked(const char *s, size_t n)
{
	if (lt_log.len + n + 1 > lt_log.cap) {
		size_t cap = lt_log.cap ? lt_log.cap : 4096;
		while (cap < lt_log.len + n + 1)
			cap *= 2;
		char *nb = realloc(lt_log.buf, cap);
		if (!nb)
			return;
		lt_log.buf = nb;
		lt_log.cap = cap;
	}
	memcpy(lt_log.buf + lt_log.len, s, n);
	lt_log.len += n;
	lt_log.buf[lt_log.len] = 0;
}

static void log_append(const char *s, size_t n)
{
	pthread_mutex_lock(&log_lock);
	log_append_locked(s, n);
	pthread_mutex_unlock(&log_lock);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	char line[4096];
	va_list cp;
	/* Debug lines are dropped unless -v: not even formatted (an object
	 * with hundreds of programs makes thousands at open). */
	if (level == LIBBPF_DEBUG && !lt_log.verbose)
		return 0;
	va_copy(cp, ap);
	int n = vsnprintf(line, sizeof(line), fmt, cp);
	va_end(cp);
	if (n < 0)
		return 0;
	if ((size_t)n >= sizeof(line)) {
		/* The verifier log arrives as one huge string: keep it whole. */
		char *big = malloc(n + 1);
		if (big) {
			vsnprintf(big, n + 1, fmt, ap);
			log_append(big, n);
			if (lt_log.verbose)
				fputs(big, stderr);
			free(big);
		}
		return 0;
	}
	if (level != LIBBPF_DEBUG || lt_log.verbose)
		log_append(line, n);
	if (lt_log.verbose)
		fputs(line, stderr);
	return 0;
}

void lt_log_init(int verbose)
{
	lt_log.verbose = verbose;
	libbpf_set_print(libbpf_print);
}

int lt_verbose(void)
{
	return lt_log.verbose;
}

void lt_log_reset(void)
{
	lt_log.len = 0;
	if (lt_log.buf)
		lt_log.buf[0] = 0;
}

const char *lt_log_text(void)
{
	return lt_log.buf ? lt_log.buf : "";
}

/* The verifier's log, as libbpf prints it between its BEGIN/END markers,
 * or NULL when the last load printed none. */
const char *lt_verifier_log(void)
{
	static char *copy;
	const char *b = lt_log_text();
	const char *s = strstr(b, "-- BEGIN PROG LOAD LOG --");
	if (!s)
		return NULL;
	s = strchr(s, '\n');
	if (!s)
		return NULL;
	s++;
	const char *e = strstr(s, "-- END PROG LOAD LOG --");
	size_t n = e ? (size_t)(e - s) : strlen(s);
	free(copy);
	copy = strndup(s, n);
	return copy;
}

/* The name of the extern libbpf could not resolve in the last open or
 * load (an undefined function or variable the program refers to), copied
 * into name; 0 when the captured log names none. */
static int unresolved_extern(char *name, size_t n)
{
	static const char *const marks[] = {
		"failed to find BTF for extern '", /* open: no declaration */
		"extern (func ksym) '",            /* load: no such kfunc */
		"extern (var ksym) '",             /* load: no such ksym */
		"extern (kcfg) '",                 /* load: unknown kconfig */
	};
	const char *log = lt_log_text();
	for (size_t i = 0; i < sizeof(marks) / sizeof(*marks); i++) {
		const char *s = strstr(log, marks[i]);
		if (!s)
			continue;
		s += strlen(marks[i]);
		size_t len = strcspn(s, "'\n");
		if (!len || s[len] != '\'')
			continue;
		snprintf(name, n, "%.*s", (int)(len < n ? len : n - 1), s);
		return 1;
	}
	return 0;
}

void lt_push_fail(lua_State *L, const char *op, const char *target, int err,
		  const char *hint)
{
	char text[128] = "failed", sym[128];
	if (err < 0)
		err = -err;
	/* libbpf reports an unresolved extern as a bare ENOENT/ESRCH from
	 * open or load: name the symbol instead. */
	if ((!strncmp(op, "open BPF object", 15) || !strncmp(op, "load", 4)) &&
	    unresolved_extern(sym, sizeof(sym))) {
		lua_pushfstring(L, "%s %s: unresolved symbol '%s' (neither defined "
				"in the program nor a BPF helper, kfunc or "
				"kernel symbol)", op, target ? target : "", sym);
		return;
	}
	if (err == ENOTSUPP) /* kernel-internal, unknown to strerror */
		snprintf(text, sizeof(text), "Not supported");
	else if (err)
		libbpf_strerror(err, text, sizeof(text)); /* errno and libbpf's own */
	lua_pushfstring(L, "%s %s: %s", op, target ? target : "", text);
	if (hint && *hint) {
		lua_pushfstring(L, " (%s)", hint);
		lua_concat(L, 2);
	}
}

int lt_fail(lua_State *L, const char *op, const char *target, int err,
	    const char *hint)
{
	lt_push_fail(L, op, target, err, hint);
	return lua_error(L);
}

int lt_failf(lua_State *L, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lua_pushstring(L, msg);
	return lua_error(L);
}

static int opt_push(lua_State *L, int idx, const char *k)
{
	if (!lua_istable(L, idx))
		return 0;
	lua_getfield(L, idx, k);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return 0;
	}
	return 1;
}

static void opt_type_error(lua_State *L, const char *k, const char *want)
{
	lt_failf(L, "option %s: expected %s, got %s", k, want,
		 luaL_typename(L, -1));
}

int lt_opt_int(lua_State *L, int idx, const char *k, int def)
{
	long long v = lt_opt_ll(L, idx, k, def);
	if (v < INT_MIN || v > INT_MAX)
		lt_failf(L, "option %s: %lld is out of range", k, v);
	return (int)v;
}

long long lt_opt_ll(lua_State *L, int idx, const char *k, long long def)
{
	if (!opt_push(L, idx, k))
		return def;
	if (lua_type(L, -1) != LUA_TNUMBER)
		opt_type_error(L, k, "a number");
	lua_Number n = lua_tonumber(L, -1);
	lua_pop(L, 1);
	if (n != (lua_Number)(long long)n)
		lt_failf(L, "option %s: %g is not an integer", k, (double)n);
	return (long long)n;
}

int lt_opt_bool(lua_State *L, int idx, const char *k)
{
	if (!opt_push(L, idx, k))
		return 0;
	int v = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return v;
}

const char *lt_opt_str(lua_State *L, int idx, const char *k)
{
	if (!opt_push(L, idx, k))
		return NULL;
	if (lua_type(L, -1) != LUA_TSTRING)
		opt_type_error(L, k, "a string");
	const char *v = lua_tostring(L, -1);
	lua_pop(L, 1); /* still anchored by the options table */
	return v;
}

void lt_new_metatable(lua_State *L, const char *name, const luaL_Reg *methods)
{
	luaL_newmetatable(L, name);
	lua_pushvalue(L, -1);
	lua_setfield(L, -2, "__index");
	lt_setfuncs(L, methods);
	lua_pop(L, 1);
}

void lt_setfuncs(lua_State *L, const luaL_Reg *fns)
{
	for (; fns->name; fns++) {
		lua_pushcfunction(L, fns->func);
		lua_setfield(L, -2, fns->name);
	}
}

/* A userdata's environment table holds the values it must keep alive
 * (its object, for a link or a map), so __gc order follows ownership. */
void lt_keep_alive(lua_State *L, int keep_idx)
{
	if (keep_idx < 0)
		keep_idx = lua_gettop(L) + keep_idx + 1;
	lua_createtable(L, 1, 0);
	lua_pushvalue(L, keep_idx);
	lua_rawseti(L, -2, 1);
	lua_setfenv(L, -2);
}

/* Is this program reading user memory when it dereferences what it was
 * given? Syscall tracepoints (their pointer arguments are user pointers),
 * uprobes and USDT probes. */
static int user_side(int type, const char *section)
{
	if (!section)
		return 0;
	if (type == BPF_PROG_TYPE_TRACEPOINT)
		return strstr(section, "syscalls/sys_") != NULL;
	return !strncmp(section, "uprobe", 6) || !strncmp(section, "uretprobe", 9) ||
	       !strncmp(section, "usdt", 4);
}

/* A hint for a verifier refusal (reason: its last meaningful line), or
 * NULL. section: the program's ELF section (which side it reads). */
const char *lt_verifier_hint(const char *reason, int err, int type,
			     const char *section)
{
	if (strstr(reason, "invalid mem access") ||
	    strstr(reason, "invalid bpf_context access")) {
		if (user_side(type, section))
			return "this is a user-space pointer: read it with "
			       "bpf_probe_read_user() or bpf_probe_read_user_str()";
		return "read kernel memory with bpf_probe_read_kernel() or "
		       "BPF_CORE_READ()";
	}
	if (strstr(reason, "back-edge") || strstr(reason, "infinite loop") ||
	    strstr(reason, "jumps is too complex") ||
	    strstr(reason, "too large") || strstr(reason, "BPF program is too"))
		return "bound every loop with a constant or use bpf_loop()";
	if (strstr(reason, "stack") &&
	    (strstr(reason, "size") || strstr(reason, "limit")))
		return "the BPF stack holds 512 bytes; use a per-CPU array as "
		       "scratch space";
	if (strstr(reason, "GPL-restricted"))
		return "declare a GPL-compatible license: char LICENSE[] "
		       "SEC(\"license\") = \"GPL\";";
	if (strstr(reason, "unknown func") || strstr(reason, "not allowed") ||
	    strstr(reason, "cannot call") || strstr(reason, "cannot use helper") ||
	    strstr(reason, "not supported for program type"))
		return "this helper is not allowed for this program type";
	if (type == BPF_PROG_TYPE_TRACING && (err == EPERM || err == EACCES ||
					      err == ENOTSUPP || err == EINVAL))
		return lt_has_kprobes() ?
			       "fentry/fexit programs are refused by this kernel "
			       "(has_fentry() is false); use a kprobe or a tracepoint" :
			       "fentry/fexit programs are refused by this kernel "
			       "(has_fentry() is false), and it has no kprobes either; "
			       "use a tracepoint or a raw tracepoint";
	if (err == EPERM)
		return "loading BPF needs root or CAP_BPF with CAP_PERFMON";
	return NULL;
}
