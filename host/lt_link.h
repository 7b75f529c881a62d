/* lt_link.h: the link userdata (link.c) and closing many links at once
 * (link_close.c). */
#ifndef LT_LINK_HDR_H
#define LT_LINK_HDR_H
#include <bpf/libbpf.h>
#include "lt.h"

struct lt_link {
	struct bpf_link **links; /* NULL once closed */
	int n;
	char desc[256];
};

/* Destroy n links, overlapping their detaches; returns once all are gone. */
void lt_links_destroy(struct bpf_link **links, int n);
/* core.close_links({link, ...}) */
int lt_l_close_links(lua_State *L);

#endif
