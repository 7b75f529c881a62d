/* vmlinux_h.c: write vmlinux.h for the running kernel from its BTF, in
 * process (libbpf's btf_dump), for on-demand compiles. The Lua side caches
 * it per kernel (keyed by the BTF's hash).
 *
 * The "lite" header is the part of it a program that reads no kernel
 * struct's members needs: every enum and typedef (with what they need by
 * value), a few context structs, and every other struct and union only
 * declared. It is a quarter of the size, and clang's cost of a header it
 * precompiled grows with the header (DWARF 5 hashes it, debug locations
 * index its lines): a bpftrace one-liner compiles ~15 ms sooner. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "lt.h"

static void to_file(void *ctx, const char *fmt, va_list args)
{
	vfprintf(ctx, fmt, args);
}

/* The structs of program contexts (and of libbpf's macros on them), defined
 * in full in the lite header. */
static const char *lite_structs[] = {"pt_regs", "bpf_perf_event_data",
				     "bpf_raw_tracepoint_args", NULL};

static bool lite_struct(const char *name)
{
	for (const char **p = lite_structs; *p; p++)
		if (!strcmp(*p, name))
			return true;
	return false;
}

/* Does a typedef name an integer, float or enum (through typedefs and
 * qualifiers)? */
static bool scalar_typedef(const struct btf *btf, const struct btf_type *t)
{
	while (btf_is_typedef(t) || btf_is_const(t) || btf_is_volatile(t) ||
	       btf_is_restrict(t) || btf_is_type_tag(t))
		t = btf__type_by_id(btf, t->type);
	return t && (btf_is_int(t) || btf_is_float(t) || btf_is_enum(t) || btf_is_enum64(t));
}

/* Is this an enum of BPF's own constants (BPF_ANY, BPF_MAP_TYPE_HASH,
 * BPF_F_USER_STACK: the UAPI's, used by libbpf's and our macros)? */
static bool bpf_enum(const struct btf *btf, const struct btf_type *t)
{
	if (!btf_is_enum(t) || !btf_vlen(t))
		return false;
	const char *first = btf__name_by_offset(btf, btf_enum(t)->name_off);
	return first && !strncmp(first, "BPF_", 4);
}

/* The lite header's types: scalar typedefs, BPF's enums and the context
 * structs, with what they need (btf_dump emits each type once, and only a
 * declaration of a struct it reaches through a pointer). */
static int dump_lite(struct btf *btf, struct btf_dump *d)
{
	int n = btf__type_cnt(btf), err = 0;
	for (int id = 1; id < n && !err; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const char *name = btf__name_by_offset(btf, t->name_off);
		if ((btf_is_typedef(t) && scalar_typedef(btf, t)) || bpf_enum(btf, t) ||
		    (btf_is_struct(t) && name && lite_struct(name)))
			err = btf_dump__dump_type(d, id);
	}
	return err;
}

/* core.write_vmlinux_h(path[, btf_path[, "lite"]]) */
static int l_write_vmlinux_h(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	const char *src = luaL_optstring(L, 2, "/sys/kernel/btf/vmlinux");
	bool lite = !strcmp(luaL_optstring(L, 3, "full"), "lite");
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
	if (lite) {
		err = dump_lite(btf, d);
	} else {
		int n = btf__type_cnt(btf);
		for (int id = 1; id < n && !err; id++)
			err = btf_dump__dump_type(d, id);
	}
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

/* The GNU build id in a block of ELF notes, as hex into out. */
static int build_id_in_notes(const unsigned char *p, size_t n, char *out,
			     size_t on)
{
	size_t off = 0;
	while (off + 12 <= n) {
		unsigned namesz, descsz, type;
		memcpy(&namesz, p + off, 4);
		memcpy(&descsz, p + off + 4, 4);
		memcpy(&type, p + off + 8, 4);
		size_t name = off + 12, desc = name + ((namesz + 3) & ~3u);
		size_t next = desc + ((descsz + 3) & ~3u);
		if (next > n)
			break;
		if (type == NT_GNU_BUILD_ID && namesz == 4 &&
		    !memcmp(p + name, "GNU", 4) && descsz * 2 < on) {
			for (unsigned i = 0; i < descsz; i++)
				snprintf(out + 2 * i, 3, "%02x", p[desc + i]);
			return 0;
		}
		off = next;
	}
	return -ENOENT;
}

/* core.kernel_build_id([vmlinux]) -> hex | nil: of the running kernel
 * (/sys/kernel/notes) or of a vmlinux ELF file (its note sections). */
static int l_kernel_build_id(lua_State *L)
{
	const char *path = luaL_optstring(L, 1, NULL);
	char hex[129];
	int found = -ENOENT;
	if (!path) {
		unsigned char buf[4096];
		int fd = open("/sys/kernel/notes", O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			ssize_t n = read(fd, buf, sizeof(buf));
			close(fd);
			if (n > 0)
				found = build_id_in_notes(buf, n, hex, sizeof(hex));
		}
	} else {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return lt_fail(L, "read build id of", path, errno, NULL);
		elf_version(EV_CURRENT);
		Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
		Elf_Scn *scn = NULL;
		while (e && found && (scn = elf_nextscn(e, scn))) {
			GElf_Shdr sh;
			if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
				continue;
			Elf_Data *d = elf_getdata(scn, NULL);
			if (d && d->d_buf)
				found = build_id_in_notes(d->d_buf, d->d_size, hex,
							  sizeof(hex));
		}
		if (e)
			elf_end(e);
		close(fd);
	}
	if (found)
		lua_pushnil(L);
	else
		lua_pushstring(L, hex);
	return 1;
}

void lt_open_vmlinux_h(lua_State *L)
{
	lua_pushcfunction(L, l_write_vmlinux_h);
	lua_setfield(L, -2, "write_vmlinux_h");
	lua_pushcfunction(L, l_kernel_build_id);
	lua_setfield(L, -2, "kernel_build_id");
}
