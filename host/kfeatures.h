/* kfeatures.h: what this kernel can do, asked once and cached. */
#ifndef LT_KFEATURES_H
#define LT_KFEATURES_H
#include <stdbool.h>

const char *lt_tracefs(void);
bool lt_tracepoint_exists(const char *cat, const char *ev);
bool lt_has_kprobes(void);
bool lt_has_fentry(void);
bool lt_has_bpf_caps(void);
int lt_parse_cpu_mask_file(const char *path, bool **mask, int *n);

#endif
