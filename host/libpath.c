/* libpath.c: resolve a library short name ("c", "libc", "libc.so.6") to a
 * path, as BCC does: first in the target process's own mappings (pid > 0),
 * then in the dynamic linker's cache (/etc/ld.so.cache, the format ldconfig
 * writes), then in the usual library directories. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lt.h"
#include "libpath.h"

/* "c" -> "libc"; "libc.so.6" stays as is. */
static void soname_prefix(const char *name, char *out, size_t n)
{
	if (!strncmp(name, "lib", 3))
		snprintf(out, n, "%s", name);
	else
		snprintf(out, n, "lib%s", name);
}

/* Does file name `base` name library `pfx` (libc -> libc.so, libc.so.6,
 * libc-2.36.so)? */
static int matches(const char *base, const char *pfx)
{
	size_t n = strlen(pfx);
	if (strncmp(base, pfx, n))
		return 0;
	return !strncmp(base + n, ".so", 3) || base[n] == '-' || base[n] == 0;
}

static int from_maps(int pid, const char *pfx, char *out, size_t n)
{
	char p[64], line[4096];
	snprintf(p, sizeof(p), "/proc/%d/maps", pid);
	FILE *f = fopen(p, "re");
	if (!f)
		return -errno;
	int found = -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		char *path = strchr(line, '/');
		if (!path)
			continue;
		path[strcspn(path, "\n")] = 0;
		const char *base = strrchr(path, '/') + 1;
		if (matches(base, pfx)) {
			snprintf(out, n, "/proc/%d/root%s", pid, path);
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

/* glibc's ld.so.cache, new format: header, then entries whose key/value
 * are string offsets from the start of the file. */
struct cache_hdr {
	char magic[17]; /* "glibc-ld.so.cache" */
	char version[3]; /* "1.1" */
	uint32_t nlibs;
	uint32_t len_strings;
	uint8_t flags;
	uint8_t pad[3];
	uint32_t extension_offset;
	uint32_t unused[3];
};

struct cache_entry {
	int32_t flags;
	uint32_t key, value;
	uint32_t osversion;
	uint64_t hwcap;
};

#define CACHE_FLAG_X8664 0x0300 /* FLAG_X8664_LIB64 */
#define CACHE_FLAG_ELF_LIBC6 0x0003

static int from_ld_cache(const char *pfx, char *out, size_t n)
{
	FILE *f = fopen("/etc/ld.so.cache", "re");
	if (!f)
		return -errno;
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	rewind(f);
	char *buf = size > 0 ? malloc(size) : NULL;
	int found = -ENOENT;
	if (!buf || fread(buf, 1, size, f) != (size_t)size)
		goto out;
	/* The old format may come first; the new one follows it. */
	char *h = memmem(buf, size, "glibc-ld.so.cache1.1", 20);
	if (!h || (size_t)(h - buf) + sizeof(struct cache_hdr) > (size_t)size)
		goto out;
	const struct cache_hdr *hdr = (const void *)h;
	const struct cache_entry *e = (const void *)(hdr + 1);
	if ((const char *)(e + hdr->nlibs) > buf + size)
		goto out;
	for (uint32_t i = 0; i < hdr->nlibs; i++) {
		if (e[i].key >= (uint32_t)size || e[i].value >= (uint32_t)size)
			continue;
#if defined(__x86_64__)
		if ((e[i].flags & 0xff00) != CACHE_FLAG_X8664)
			continue; /* skip 32-bit libraries */
#endif
		const char *key = buf + e[i].key, *val = buf + e[i].value;
		if (!memchr(key, 0, size - e[i].key) || !memchr(val, 0, size - e[i].value))
			continue;
		if (matches(key, pfx)) {
			snprintf(out, n, "%s", val);
			found = 0;
			break;
		}
	}
out:
	free(buf);
	fclose(f);
	return found;
}

static int from_dirs(const char *pfx, char *out, size_t n)
{
	static const char *dirs[] = {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
				     "/lib64", "/usr/lib64", "/lib", "/usr/lib",
				     "/usr/local/lib"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs); i++) {
		DIR *d = opendir(dirs[i]);
		if (!d)
			continue;
		struct dirent *e;
		while ((e = readdir(d))) {
			if (matches(e->d_name, pfx) && strstr(e->d_name, ".so")) {
				snprintf(out, n, "%s/%s", dirs[i], e->d_name);
				closedir(d);
				return 0;
			}
		}
		closedir(d);
	}
	return -ENOENT;
}

int lt_find_library(const char *name, int pid, char *out, size_t n)
{
	char pfx[256];
	if (strchr(name, '/')) {
		snprintf(out, n, "%s", name);
		return access(name, R_OK) ? -errno : 0;
	}
	soname_prefix(name, pfx, sizeof(pfx));
	if (pid > 0 && from_maps(pid, pfx, out, n) == 0)
		return 0;
	if (from_ld_cache(pfx, out, n) == 0)
		return 0;
	return from_dirs(pfx, out, n);
}

/* core.find_library(name[, pid]) -> path | nil */
static int l_find_library(lua_State *L)
{
	char path[4096];
	if (lt_find_library(luaL_checkstring(L, 1), (int)luaL_optinteger(L, 2, -1),
			    path, sizeof(path)))
		lua_pushnil(L);
	else
		lua_pushstring(L, path);
	return 1;
}

void lt_open_libpath(lua_State *L)
{
	lua_pushcfunction(L, l_find_library);
	lua_setfield(L, -2, "find_library");
}
