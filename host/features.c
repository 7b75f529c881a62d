/* features.c: feature probes that tools use to choose between probe types,
 * and that attach uses to explain a refusal. Each answer is cached. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "lt.h"
#include "kfeatures.h"

static const char *tracefs_dirs[] = {"/sys/kernel/tracing",
				     "/sys/kernel/debug/tracing"};

/* The tracefs mount point, mounting it at /sys/kernel/tracing if needed:
 * libbpf needs it for tracepoint ids. */
const char *lt_tracefs(void)
{
	static const char *found;
	char p[128];
	if (found)
		return found;
	for (size_t i = 0; i < sizeof(tracefs_dirs) / sizeof(*tracefs_dirs); i++) {
		snprintf(p, sizeof(p), "%s/events", tracefs_dirs[i]);
		if (access(p, F_OK) == 0)
			return found = tracefs_dirs[i];
	}
	if (mount("nodev", tracefs_dirs[0], "tracefs", 0, NULL) == 0)
		return found = tracefs_dirs[0];
	return tracefs_dirs[0];
}

bool lt_tracepoint_exists(const char *cat, const char *ev)
{
	char p[512];
	if (strchr(cat, '/') || strchr(ev, '/') || !strcmp(cat, "..") ||
	    !strcmp(ev, ".."))
		return false;
	snprintf(p, sizeof(p), "%s/events/%s/%s/id", lt_tracefs(), cat, ev);
	return access(p, F_OK) == 0;
}

bool lt_has_kprobes(void)
{
	static int cached = -1;
	char p[256];
	if (cached < 0) {
		snprintf(p, sizeof(p), "%s/kprobe_events", lt_tracefs());
		cached = access("/sys/bus/event_source/devices/kprobe/type",
				F_OK) == 0 || access(p, F_OK) == 0;
	}
	return cached;
}

/* fentry works when the kernel loads and attaches a trivial fentry program
 * on a real kernel function. */
bool lt_has_fentry(void)
{
	static int cached = -1;
	if (cached >= 0)
		return cached;
	cached = 0;
	struct btf *vmlinux = btf__load_vmlinux_btf();
	if (libbpf_get_error(vmlinux))
		return cached;
	int id = btf__find_by_name_kind(vmlinux, "vfs_read", BTF_KIND_FUNC);
	if (id <= 0)
		id = btf__find_by_name_kind(vmlinux, "schedule", BTF_KIND_FUNC);
	btf__free(vmlinux);
	if (id <= 0)
		return cached;
	struct bpf_insn insns[] = {
		{.code = 0xb7, .dst_reg = 0, .imm = 0}, /* r0 = 0 */
		{.code = 0x95},                         /* exit */
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .expected_attach_type = BPF_TRACE_FENTRY,
		    .attach_btf_id = id);
	int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "lt_probe", "GPL", insns,
			       2, &opts);
	if (fd < 0)
		return cached;
	int lfd = bpf_link_create(fd, 0, BPF_TRACE_FENTRY, NULL);
	if (lfd >= 0) {
		cached = 1;
		close(lfd);
	}
	close(fd);
	return cached;
}

/* Parse a CPU list file like "0-3,5" into a mask. */
int lt_parse_cpu_mask_file(const char *path, bool **mask, int *n)
{
	char buf[4096];
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	size_t len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = 0;
	int max = -1;
	bool *m = calloc(4096, sizeof(bool));
	if (!m)
		return -ENOMEM;
	for (char *s = buf; *s && *s != '\n';) {
		char *e;
		long a = strtol(s, &e, 10), b = a;
		if (e == s)
			break;
		if (*e == '-')
			b = strtol(e + 1, &e, 10);
		for (long i = a; i <= b && i < 4096; i++)
			m[i] = true;
		if (b > max)
			max = b < 4096 ? b : 4095;
		s = *e == ',' ? e + 1 : e;
	}
	*mask = m;
	*n = max + 1;
	return 0;
}

/* Root, or CAP_BPF (39) with CAP_PERFMON (38), or CAP_SYS_ADMIN. */
bool lt_has_bpf_caps(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d))
		return true; /* cannot tell: let the kernel decide */
	unsigned long long eff = d[0].effective |
				 ((unsigned long long)d[1].effective << 32);
	return (eff >> 21 & 1) || ((eff >> 39 & 1) && (eff >> 38 & 1));
}

static int l_has_bpf_caps(lua_State *L)
{
	lua_pushboolean(L, lt_has_bpf_caps());
	return 1;
}

static int l_has_kprobes(lua_State *L)
{
	lua_pushboolean(L, lt_has_kprobes());
	return 1;
}

static int l_has_fentry(lua_State *L)
{
	lua_pushboolean(L, lt_has_fentry());
	return 1;
}

static int l_has_btf(lua_State *L)
{
	lua_pushboolean(L, access("/sys/kernel/btf/vmlinux", R_OK) == 0);
	return 1;
}

static int l_has_ringbuf(lua_State *L)
{
	lua_pushboolean(L, libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF,
						     NULL) == 1);
	return 1;
}

static int l_tracepoint_exists(lua_State *L)
{
	lua_pushboolean(L, lt_tracepoint_exists(luaL_checkstring(L, 1),
						luaL_checkstring(L, 2)));
	return 1;
}

static int l_tracefs(lua_State *L)
{
	lua_pushstring(L, lt_tracefs());
	return 1;
}

static int l_online_cpus(lua_State *L)
{
	bool *m;
	int n;
	int err = lt_parse_cpu_mask_file("/sys/devices/system/cpu/online", &m, &n);
	if (err)
		return lt_fail(L, "read", "/sys/devices/system/cpu/online", err, NULL);
	lua_newtable(L);
	int k = 0;
	for (int i = 0; i < n; i++)
		if (m[i]) {
			lua_pushinteger(L, i);
			lua_rawseti(L, -2, ++k);
		}
	free(m);
	return 1;
}

static int l_possible_cpus(lua_State *L)
{
	lua_pushinteger(L, libbpf_num_possible_cpus());
	return 1;
}

void lt_open_features(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{"has_kprobes", l_has_kprobes},
		{"has_bpf_caps", l_has_bpf_caps},
		{"has_fentry", l_has_fentry},
		{"has_btf", l_has_btf},
		{"has_ringbuf", l_has_ringbuf},
		{"tracepoint_exists", l_tracepoint_exists},
		{"tracefs", l_tracefs},
		{"online_cpus", l_online_cpus},
		{"possible_cpus", l_possible_cpus},
		{NULL, NULL},
	};
	lt_setfuncs(L, fns);
}
