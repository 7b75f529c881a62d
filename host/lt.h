/* lt.h: declarations shared by the host's C files.
 *
 * The host owns kernel objects (BPF objects, links, maps, event channels)
 * and hands them to Lua as userdata; everything else is Lua's. */
#ifndef LT_H
#define LT_H

#include <stddef.h>
#include <lua.h>
#include <lauxlib.h>

#define LT_VERSION "0.1.0"

/* The kernel's internal "not supported" errno, which BPF syscalls leak. */
#ifndef ENOTSUPP
#define ENOTSUPP 524
#endif

/* Metatable names of the userdata types. */
#define LT_OBJ_MT "luatrace.obj"
#define LT_LINK_MT "luatrace.link"
#define LT_MAP_MT "luatrace.map"
#define LT_CHAN_MT "luatrace.chan"
#define LT_POLLER_MT "luatrace.poller"
#define LT_USYMS_MT "luatrace.usyms"

/* sys.c: the GC's pause while starting, and the normal one (see there) */
void lt_gc_startup(lua_State *L);
void lt_gc_normal(lua_State *L);

/* err.c: errors that name the operation, the target and the cause. */
int lt_fail(lua_State *L, const char *op, const char *target, int err,
	    const char *hint);
/* (lt_fail's message, pushed instead of raised) */
void lt_push_fail(lua_State *L, const char *op, const char *target, int err,
		  const char *hint);
int lt_failf(lua_State *L, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void lt_log_init(int verbose);
void lt_log_reset(void);
const char *lt_log_text(void);
const char *lt_verifier_log(void);
int lt_verbose(void);
/* a hint for a verifier refusal; type: enum bpf_prog_type */
const char *lt_verifier_hint(const char *reason, int err, int type,
			     const char *section);

/* safefs.c: is a directory (and every one above it) safe to trust? */
#include <stdbool.h>
bool lt_safe_dir_ok(const char *path, char *why, size_t n);
/* the private directory at path (created 0700), an O_PATH fd, or -1 */
int lt_safe_open_dir(const char *path, char *why, size_t n);
struct stat;
bool lt_dir_private(const struct stat *st, char *why, size_t n);

/* sig.c: SIGINT/SIGTERM as a mode of the host. */
void lt_sig_install(lua_State *L);
int lt_sig_pipe_fd(void);
int lt_sig_pending(void);
void lt_sig_set_polling(int on);
void lt_sig_reset(void);
/* A wait primitive exists (poller, trace_pipe) or probes are attached:
 * the first signal is left for the next wait to report. */
void lt_sig_will_wait(void);
/* A wait saw the signal: returns the first time (the wait returns false),
 * raises "interrupted" after that. */
int lt_sig_report(lua_State *L);
void lt_sig_set_console(int on);
void lt_sig_request_stop(void);

/* Registration of each area's functions into the core module table. */
void lt_open_obj(lua_State *L);
void lt_open_btf_min(lua_State *L);
void lt_open_link(lua_State *L);
void lt_open_map(lua_State *L);
void lt_open_chan(lua_State *L);
void lt_open_features(lua_State *L);
void lt_open_btf(lua_State *L);
void lt_open_ksym(lua_State *L);
void lt_open_usym(lua_State *L);
void lt_open_libpath(lua_State *L);
void lt_open_sys(lua_State *L);
void lt_open_safefs(lua_State *L);
void lt_open_exec(lua_State *L);
void lt_open_vmlinux_h(lua_State *L);
void lt_open_usdt_notes(lua_State *L);
void lt_open_tracepipe(lua_State *L);
void lt_open_poller(lua_State *L);
/* chan.c: a channel's epoll fd (and name), for the poller. */
int lt_chan_epoll_fd(lua_State *L, int idx, const char **name);
void lt_open_net(lua_State *L);
void lt_open_lineedit(lua_State *L);
void lt_open_btf_list(lua_State *L);
void lt_open_probe_list(lua_State *L);
void lt_open_proc(lua_State *L);
void lt_open_libbpf_features(lua_State *L);

/* usym.c: every function symbol of an ELF file, through fn(ctx, name). */
int lt_elf_function_names(const char *path, void (*fn)(void *, const char *),
			  void *ctx);

/* proc.c: the -c command, held until every probe is attached; the first
 * wait releases it (sig.c's lt_sig_set_polling). */
void lt_proc_release_held(void);

/* obj.c: access to an object from another area. */
struct bpf_object;
struct bpf_program;
struct bpf_object *lt_check_obj(lua_State *L, int idx);
struct bpf_program *lt_check_prog(lua_State *L, int obj_idx, int name_idx);
int lt_map_get(lua_State *L, int idx, const char **name, int *type);

/* Named options of a core call (err.c): the value of key k in the table at
 * idx, or def when the table or the key is absent. A present value of the
 * wrong type raises a clear error naming the option. */
int lt_opt_int(lua_State *L, int idx, const char *k, int def);
long long lt_opt_ll(lua_State *L, int idx, const char *k, long long def);
int lt_opt_bool(lua_State *L, int idx, const char *k);
const char *lt_opt_str(lua_State *L, int idx, const char *k);

/* The kernel lays per-CPU map values out in 8-byte aligned slots, one per
 * possible CPU: this is the slot size (map.c, chan.c; maps.lua reads it
 * back as value_bytes / possible CPUs). */
static inline unsigned lt_percpu_stride(unsigned value_size)
{
	return (value_size + 7) & ~7u;
}

/* Userdata helpers. */
void lt_new_metatable(lua_State *L, const char *name, const luaL_Reg *methods);
/* Keep the value at keep_idx alive as long as the userdata on top. */
void lt_keep_alive(lua_State *L, int keep_idx);

/* A ring buffer map mapped for reading in place (ringview.c). */
struct lt_ringview {
	void *cons;  /* consumer page: u64 consumer position (writable) */
	void *prod;  /* producer page: u64 producer position */
	void *data;  /* data area, mapped twice in a row */
	size_t size; /* data area size (a power of two) */
	size_t page;
};
int lt_ringview_map(int fd, struct lt_ringview *v);
void lt_ringview_unmap(struct lt_ringview *v);
int lt_ringview_consume(struct lt_ringview *v,
			int (*fn)(void *ctx, void *data, size_t size), void *ctx);
void lt_setfuncs(lua_State *L, const luaL_Reg *fns);

int luaopen_luatrace_core(lua_State *L);

#endif
