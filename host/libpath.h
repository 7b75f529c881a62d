/* libpath.h: library short names ("c") to paths, as BCC resolves them. */
#ifndef LT_LIBPATH_H
#define LT_LIBPATH_H
#include <stddef.h>

/* 0 and the path in out, or -errno. A name with a '/' is taken as a path. */
int lt_find_library(const char *name, int pid, char *out, size_t n);

#endif
