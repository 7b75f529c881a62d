/* lt_link.h: the link userdata (link.c) and closing many links at once
 * (link_close.c), attaching uprobes (link_uprobes.c). */
#ifndef LT_LINK_HDR_H
#define LT_LINK_HDR_H
#include <bpf/libbpf.h>
#include "lt.h"

struct lt_link {
	struct bpf_link **links; /* NULL once closed */
	int n;
	char desc[256];
};

/* Push a new link owning `links` (taken over), keeping object obj_idx
 * (an absolute index) alive; _one: a single bpf_link (destroyed if the
 * push fails). */
void lt_link_push(lua_State *L, int obj_idx, struct bpf_link **links, int n,
		  const char *desc);
void lt_link_push_one(lua_State *L, int obj_idx, struct bpf_link *l,
		      const char *desc);
/* The path of binary `name` (a path or a library short name, "c") for a
 * probe of kind `what`; raises a clear error when there is none. */
const char *lt_binary_path(lua_State *L, const char *what, const char *name,
			   int pid, char *buf, size_t n);
/* core.attach_uprobe(...), core.attach_uprobes({...}) (link_uprobes.c) */
int lt_l_attach_uprobe(lua_State *L);
int lt_l_attach_uprobes(lua_State *L);
int lt_l_uprobe_sym_offset(lua_State *L);

/* Destroy n links, overlapping their detaches; returns once all are gone. */
void lt_links_destroy(struct bpf_link **links, int n);
/* core.close_links({link, ...}) */
int lt_l_close_links(lua_State *L);

#endif
