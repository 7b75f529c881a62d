/* btf_min.c: a minimized kernel BTF for one BPF object: just the kernel
 * types its CO-RE relocations resolve against (what `bpftool gen
 * min_core_btf` makes), built with libbpf's public BTF API.
 *
 * Why: an object with CO-RE relocations makes libbpf parse the whole
 * kernel BTF at load (~20 ms, ~30 MB here). Given this small BTF as
 * btf_custom_path, libbpf resolves the same relocations against it in
 * well under a millisecond. Lua caches the result per kernel and object
 * (luatrace.bpf.minbtf), so the kernel BTF is parsed once, on a miss.
 *
 * What is kept, per relocation (the record in .BTF.ext names the local
 * root type, an access string "0:2:1" and a kind):
 *  - field relocations: every kernel type of the same kind and essential
 *    name (libbpf's candidates), and along the access path the members
 *    named (found by name, through anonymous structs and unions as libbpf
 *    does) and the types they lead to; a struct or union reached keeps
 *    its name and size but only the members some relocation used, and a
 *    pointer whose target nothing used points to void;
 *  - type relocations (exists, size, matches): the candidates with all
 *    their members;
 *  - enum value relocations: the candidate enums whole.
 * Type ids of the result are not the kernel's: an object asking for one
 * (bpf_core_type_id_kernel) is not minimized. */
#define _GNU_SOURCE
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "lt.h"

#include "btf_min.h"

/* The .BTF and .BTF.ext sections of an ELF object in memory. */
static int elf_sections(const char *buf, size_t n, Elf_Data **btf, Elf_Data **ext)
{
	*btf = *ext = NULL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	Elf *e = elf_memory((char *)buf, n);
	size_t shstrndx;
	if (!e)
		return -ENOEXEC;
	if (elf_getshdrstrndx(e, &shstrndx)) {
		elf_end(e);
		return -ENOEXEC;
	}
	for (Elf_Scn *s = elf_nextscn(e, NULL); s; s = elf_nextscn(e, s)) {
		GElf_Shdr sh;
		if (!gelf_getshdr(s, &sh))
			continue;
		const char *name = elf_strptr(e, shstrndx, sh.sh_name);
		if (name && !strcmp(name, ".BTF"))
			*btf = elf_getdata(s, NULL);
		else if (name && !strcmp(name, ".BTF.ext"))
			*ext = elf_getdata(s, NULL);
	}
	/* the data point into buf, which outlives the Elf handle */
	elf_end(e);
	return 0;
}

/* core.btf_min(object_bytes [, kernel_btf_path]) -> raw BTF bytes, or
 * false when the object has no CO-RE relocations (it needs no kernel
 * BTF at all), relocates a type vmlinux lacks (libbpf would look in the
 * modules' BTF, which a custom BTF turns off) or asks for a kernel type
 * id (bpf_core_type_id_kernel): load those as before. */
static int l_btf_min(lua_State *L)
{
	size_t n;
	const char *buf = luaL_checklstring(L, 1, &n);
	const char *kpath = luaL_optstring(L, 2, NULL);
	Elf_Data *bd, *xd;
	int err = elf_sections(buf, n, &bd, &xd);
	if (err)
		return lt_fail(L, "minimize BTF for", "BPF object", -err, "not an ELF object");
	const struct ext_header *h = xd ? xd->d_buf : NULL;
	if (!bd || !h || xd->d_size < sizeof(*h) || h->hdr_len < sizeof(*h) ||
	    !h->core_relo_len) {
		lua_pushboolean(L, 0);
		return 1;
	}
	const char *relos = (const char *)h + h->hdr_len + h->core_relo_off;
	const char *end = relos + h->core_relo_len;
	if (end > (const char *)h + xd->d_size || h->core_relo_len < 4)
		return lt_failf(L, "minimize BTF: the object's .BTF.ext is truncated");
	struct btf *local = btf__new(bd->d_buf, bd->d_size);
	struct btf *kern = kpath ? btf__parse(kpath, NULL) : btf__load_vmlinux_btf();
	if (libbpf_get_error(local) || libbpf_get_error(kern)) {
		err = libbpf_get_error(local) ? (int)libbpf_get_error(local) : (int)libbpf_get_error(kern);
		if (!libbpf_get_error(local))
			btf__free(local);
		if (!libbpf_get_error(kern))
			btf__free(kern);
		return lt_fail(L, "minimize BTF: read", libbpf_get_error(local) ? "the object's BTF" :
			       (kpath ? kpath : "the kernel's BTF"), -err, NULL);
	}
	struct minbtf m = {.local = local, .kern = kern, .n = btf__type_cnt(kern)};
	m.marked = calloc(m.n, 1);
	m.members = calloc(m.n, sizeof(*m.members));
	err = !m.marked || !m.members ? -ENOMEM : 0;
	__u32 rec = *(const __u32 *)relos;
	const char *p = relos + 4;
	while (!err && rec >= sizeof(struct core_relo) && p + 8 <= end) {
		__u32 cnt = ((const __u32 *)p)[1];
		p += 8;
		for (__u32 i = 0; !err && i < cnt && p + rec <= end; i++, p += rec)
			err = lt_minbtf_relo(&m, (const struct core_relo *)p);
	}
	int uncovered = !err && m.uncovered;
	struct btf *out = err || uncovered ? NULL : lt_minbtf_emit(&m, &err);
	for (__u32 i = 0; m.members && i < m.n; i++)
		free(m.members[i]);
	free(m.members);
	free(m.marked);
	btf__free(local);
	btf__free(kern);
	if (uncovered) {
		lua_pushboolean(L, 0);
		return 1;
	}
	if (!out)
		return lt_fail(L, "minimize BTF for", "BPF object", -err, NULL);
	__u32 size;
	const void *raw = btf__raw_data(out, &size);
	if (raw)
		lua_pushlstring(L, raw, size);
	btf__free(out);
	if (!raw)
		return lt_fail(L, "minimize BTF for", "BPF object", ENOMEM, NULL);
	return 1;
}

void lt_open_btf_min(lua_State *L)
{
	lua_pushcfunction(L, l_btf_min);
	lua_setfield(L, -2, "btf_min");
}
