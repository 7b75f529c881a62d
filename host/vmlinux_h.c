/* vmlinux_h.c: write vmlinux.h for the running kernel from its BTF, in
 * process (libbpf's btf_dump), for on-demand compiles. The Lua side caches
 * it per kernel (keyed by the BTF's hash). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "lt.h"

static void to_file(void *ctx, const char *fmt, va_list args)
{
	vfprintf(ctx, fmt, args);
}

/* core.write_vmlinux_h(path[, btf_path]) */
static int l_write_vmlinux_h(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	const char *src = luaL_optstring(L, 2, "/sys/kernel/btf/vmlinux");
	struct btf *btf = btf__parse(src, NULL);
	int err = libbpf_get_error(btf);
	if (err)
		return lt_fail(L, "read kernel BTF", src, err,
			       "the kernel needs CONFIG_DEBUG_INFO_BTF");
	FILE *f = fopen(path, "we");
	if (!f) {
		err = errno;
		btf__free(btf);
		return lt_fail(L, "write", path, err, NULL);
	}
	struct btf_dump *d = btf_dump__new(btf, to_file, f, NULL);
	err = libbpf_get_error(d);
	if (err) {
		fclose(f);
		btf__free(btf);
		return lt_fail(L, "dump BTF of", src, err, NULL);
	}
	fprintf(f, "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n"
		   "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n"
		   "#pragma clang attribute push (__attribute__((preserve_access_index)), "
		   "apply_to = record)\n#endif\n\n");
	int n = btf__type_cnt(btf);
	for (int id = 1; id < n && !err; id++)
		err = btf_dump__dump_type(d, id);
	fprintf(f, "\n#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n"
		   "#pragma clang attribute pop\n#endif\n\n#endif\n");
	btf_dump__free(d);
	btf__free(btf);
	if (fclose(f) && !err)
		err = -errno;
	if (err)
		return lt_fail(L, "write", path, err, NULL);
	return 0;
}

void lt_open_vmlinux_h(lua_State *L)
{
	lua_pushcfunction(L, l_write_vmlinux_h);
	lua_setfield(L, -2, "write_vmlinux_h");
}
