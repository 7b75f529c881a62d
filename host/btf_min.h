/* btf_min.h: what btf_min.c (the object's relocations, the Lua entry)
 * and btf_min_types.c (which kernel types to keep, the new BTF) share. */
#ifndef LT_BTF_MIN_H
#define LT_BTF_MIN_H
#include <bpf/btf.h>

/* .BTF.ext layout (kernel ABI, include/uapi/linux/btf.h's neighbours in
 * libbpf: struct btf_ext_header and struct bpf_core_relo). */
struct ext_header {
	__u16 magic;
	__u8 version, flags;
	__u32 hdr_len;
	__u32 func_info_off, func_info_len, line_info_off, line_info_len;
	__u32 core_relo_off, core_relo_len;
};

struct core_relo {
	__u32 insn_off, type_id, access_str_off, kind;
};


struct minbtf {
	const struct btf *local, *kern;
	__u32 n;	  /* kernel type count */
	__u8 *marked;	  /* kernel type id -> kept */
	__u8 **members;	  /* kernel struct id -> kept member flags */
	int uncovered;	  /* a type not in vmlinux, or a kernel type id asked */
};

/* Mark what one relocation needs from the kernel BTF. 0 or -errno. */
int lt_minbtf_relo(struct minbtf *m, const struct core_relo *r);
/* The new BTF of the marked types (ids renumbered), or NULL (*errp). */
struct btf *lt_minbtf_emit(struct minbtf *m, int *errp);
#endif
