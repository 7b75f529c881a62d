/* ksym.h: kernel symbols from /proc/kallsyms, loaded once. */
#ifndef LT_KSYM_H
#define LT_KSYM_H
#include <stdbool.h>
#include <stddef.h>

bool lt_ksym_exists(const char *name);
/* Up to three kernel function names close to `name`, comma-separated. */
void lt_ksym_suggest(const char *name, char *out, size_t n);

#endif
