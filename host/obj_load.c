/* obj_load.c: why a BPF object failed to load, in one line: the program
 * libbpf named, the verifier's reason (the last log line that is not an
 * instruction or state dump), the user's file:line from the object's line
 * info, and a hint. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "lt.h"
#include "obj.h"

/* Is this verifier log line noise around the reason (instruction dumps,
 * state dumps, summaries)? */
static int verifier_noise(const char *p, size_t len)
{
	static const char *const prefixes[] = {
		"processed ", "verification time", "stack depth", "-- END",
		"old state:", "cur state:", "from ", "mark_precise", "last_idx",
		"regs=", "parent ", "Func#", "func#", "Validating", "caller:",
		"callee:", "returning from", "propagating",
	};
	if (!len)
		return 1;
	if (p[0] >= '0' && p[0] <= '9') { /* "12: (85) call ..." */
		const char *q = p;
		while (q < p + len && *q >= '0' && *q <= '9')
			q++;
		if (q < p + len && *q == ':')
			return 1;
	}
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(*prefixes); i++)
		if (!strncmp(p, prefixes[i], strlen(prefixes[i])))
			return 1;
	return 0;
}

/* The verifier's reason: the last line of its log that is not noise, and
 * where: the last source line annotation before it ("; code @ file:N",
 * from the object's BTF line info) as " at file:N (code)". */
static void verifier_reason(const char *log, char *out, size_t n, char *where,
			    size_t wn)
{
	out[0] = where[0] = 0;
	if (!log)
		return;
	/* Reasons the verifier appends to an instruction line. */
	static const char *const embedded[] = {"infinite loop detected",
					       "back-edge from insn"};
	const char *p = log, *best = NULL, *src = NULL, *best_src = NULL;
	size_t bestlen = 0, srclen = 0, best_srclen = 0;
	int pinned = 0; /* an embedded reason wins over later noise */
	while (*p) {
		const char *e = strchrnul(p, '\n');
		size_t len = e - p;
		const char *hit = NULL;
		for (size_t i = 0; i < sizeof(embedded) / sizeof(*embedded); i++) {
			const char *h = memmem(p, len, embedded[i], strlen(embedded[i]));
			if (h)
				hit = h;
		}
		if (len > 2 && p[0] == ';' && p[1] == ' ') {
			src = p;
			srclen = len;
		} else if (hit) {
			best = hit;
			bestlen = e - hit;
			best_src = src;
			best_srclen = srclen;
			pinned = 1;
		} else if (!pinned && !verifier_noise(p, len)) {
			best = p;
			bestlen = len;
			best_src = src;
			best_srclen = srclen;
		}
		p = *e ? e + 1 : e;
	}
	if (best)
		snprintf(out, n, "%.*s", (int)bestlen, best);
	if (best_src) {
		/* "; return p[0]; @ prog.c:11" */
		const char *at = NULL;
		for (const char *q = best_src; q + 3 <= best_src + best_srclen; q++)
			if (!strncmp(q, " @ ", 3))
				at = q;
		if (at)
			snprintf(where, wn, " at %.*s (%.*s)",
				 (int)(best_src + best_srclen - at - 3), at + 3,
				 (int)(at - best_src - 2), best_src + 2);
	}
}

/* Raise the error for a failed bpf_object__load (err positive). */
int lt_obj_load_fail(lua_State *L, struct bpf_object *o, const char *objname, int err)
{
	/* Name the program that failed, if libbpf said which. */
	char progname[128] = "";
	enum bpf_prog_type type = BPF_PROG_TYPE_UNSPEC;
	const char *section = "";
	const char *log = lt_log_text();
	const char *pp = strstr(log, "prog '");
	if (pp && sscanf(pp, "prog '%127[^']'", progname) == 1) {
		struct bpf_program *p =
			bpf_object__find_program_by_name(o, progname);
		if (p) {
			type = bpf_program__type(p);
			section = bpf_program__section_name(p);
		}
	}
	char reason[512], where[512];
	verifier_reason(lt_verifier_log(), reason, sizeof(reason), where,
			sizeof(where));
	const char *hint = lt_verifier_hint(reason, err, type, section);
	char target[512];
	snprintf(target, sizeof(target), "%s%s%s", objname,
		 *progname ? " program " : "", progname);
	if (*reason) {
		/* the user's file:line first (where: " at FILE:N (code)", FILE
		 * the base name the line info keeps; objname is the full one) */
		char loc[512] = "", code[512] = "";
		const char *file = NULL, *colon = NULL;
		if (!strncmp(where, " at ", 4)) {
			file = where + 4;
			colon = strchr(file, ':');
		}
		if (colon) {
			const char *base = strrchr(objname, '/');
			base = base ? base + 1 : objname;
			int flen = (int)(colon - file);
			int same = (int)strlen(base) == flen && !strncmp(base, file, flen);
			const char *paren = strchr(colon, ' ');
			snprintf(loc, sizeof(loc), "%s%.*s: ", same ? objname : "",
				 same ? (int)(paren ? paren - colon : (long)strlen(colon)) :
					(int)(paren ? paren - file : (long)strlen(file)),
				 same ? colon : file);
			if (paren)
				snprintf(code, sizeof(code), "%s", paren);
		}
		int named = *loc && strncmp(loc, objname, strlen(objname));
		lua_pushfstring(L, "%sload BPF program %s%s%s: %s: verifier: %s%s%s%s%s%s",
				loc, *progname ? progname : objname,
				named && *progname ? " of " : "",
				named && *progname ? objname : "",
				err == ENOTSUPP ? "Not supported" : strerror(err),
				reason, *loc ? code : where, *loc ? "" : "",
				hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
		return lua_error(L);
	}
	if (err == EPERM && !hint)
		hint = "loading BPF needs root or CAP_BPF with CAP_PERFMON";
	return lt_fail(L, "load BPF object", target, err, hint);
}
