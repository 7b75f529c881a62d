/* lineedit.c: the console's line editor, on libedit (BSD licensed; see
 * docs/ARCHITECTURE.md for why not GNU readline).
 *
 * libedit reads characters through our own function (EL_GETCFN), which
 * polls the terminal together with the signal pipe of sig.c (and the fds
 * of the event buffers the console drains while it waits). So Ctrl-C at
 * the prompt is the ordinary SIGINT of the host: the handler writes the
 * pipe, the read function sees it and the line is dropped. While a read is
 * under way the host counts as "polling", so the handler never arms the
 * Lua hook or the hard-exit alarm at the prompt.
 *
 * Tab calls a Lua completer (one call per Tab press) with the text before
 * the cursor; it returns the text to insert and, optionally, a block of
 * candidates to show under the line.
 *
 * History: entries live in libedit's history; the file is
 * lineedit_history.c's. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>
#include "lt.h"
#include "lineedit.h"
#include "lineedit_lib.h"

static EditLine *el;
static History *hist;
static lua_State *el_L;
static const char *el_prompt_text = "> ";
static int el_interrupted;  /* the read ended by a signal (signo) */
#define MAX_WATCH 32
static int el_watch_fds[MAX_WATCH]; /* background fds (events) */
static int el_nwatch;
static int el_watch_ms = -1;  /* also call it this often (latency ticks) */
static int el_output_started; /* the callback printed: redraw the line */
static int el_watch_ref = LUA_NOREF;
static int el_complete_ref = LUA_NOREF;

static char *prompt_fn(EditLine *e)
{
	(void)e;
	return (char *)el_prompt_text;
}

/* Call the background callback (events of running tools), then redraw
 * the line it may have scrolled away. */
static void run_watch(void)
{
	el_output_started = 0;
	lua_rawgeti(el_L, LUA_REGISTRYINDEX, el_watch_ref);
	if (lua_pcall(el_L, 0, 0, 0)) {
		fprintf(stderr, "\nluatrace: %s\n", lua_tostring(el_L, -1));
		lua_pop(el_L, 1);
		el_output_started = 1;
	}
	fflush(stdout);
	if (el_output_started)
		lt_le.el_set(el, EL_REFRESH);
}

/* lineedit.begin_output(): the watch callback is about to print: clear
 * the prompt's line once, so the output starts where the prompt was. */
static int l_begin_output(lua_State *L)
{
	(void)L;
	if (!el_output_started) {
		fputs("\r\033[K", stdout);
		fflush(stdout);
		el_output_started = 1;
	}
	return 0;
}

/* libedit's read function: one character from the terminal, decoding
 * UTF-8; a signal makes it return the end-of-line after marking the read
 * interrupted. */
static int getc_fn(EditLine *e, wchar_t *wc)
{
	mbstate_t mbs;
	char buf[MB_LEN_MAX];
	size_t have = 0;
	memset(&mbs, 0, sizeof(mbs));
	for (;;) {
		struct pollfd p[2 + MAX_WATCH] = {
			{.fd = 0, .events = POLLIN},
			{.fd = lt_sig_pipe_fd(), .events = POLLIN},
		};
		int nw = have ? 0 : el_nwatch; /* not inside a character */
		for (int i = 0; i < nw; i++)
			p[2 + i] = (struct pollfd){.fd = el_watch_fds[i], .events = POLLIN};
		if (lt_sig_pending()) {
			el_interrupted = lt_sig_pending();
			*wc = 3; /* bound to interrupt_fn */
			return 1;
		}
		int n = poll(p, 2 + nw, nw ? el_watch_ms : -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			run_watch(); /* a latency tick: records below the wakeup size */
			continue;
		}
		if (p[1].revents) {
			/* lt_sig_pending() says which; a byte left by a signal
			 * that lt_sig_reset() raced with is only a wakeup */
			char junk[64];
			if (!lt_sig_pending())
				while (read(p[1].fd, junk, sizeof(junk)) > 0)
					;
			continue;
		}
		int ready = 0, kept = 0;
		for (int i = 0; i < nw; i++) {
			ready |= p[2 + i].revents != 0;
			/* a buffer closed meanwhile (its object was closed) */
			if (!(p[2 + i].revents & POLLNVAL))
				el_watch_fds[kept++] = el_watch_fds[i];
		}
		el_nwatch = kept;
		if (ready) {
			run_watch();
			continue;
		}
		if (!p[0].revents)
			continue;
		char c;
		ssize_t r = read(0, &c, 1);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return r == 0 ? 0 : -1;
		buf[have++] = c;
		wchar_t w;
		size_t k = mbrtowc(&w, buf, have, &mbs);
		if (k == (size_t)-2 && have < sizeof(buf))
			continue; /* more bytes of this character */
		if (k == (size_t)-1 || k == (size_t)-2) {
			memset(&mbs, 0, sizeof(mbs));
			w = (unsigned char)buf[0]; /* not UTF-8: take the byte */
		}
		*wc = w;
		(void)e;
		return 1;
	}
}

/* A signal at the prompt (getc_fn hands in ^C): show "^C" at the end of
 * the line and end it, as typed keys would; l_read drops the text. */
static unsigned char interrupt_fn(EditLine *e, int ch)
{
	(void)ch;
	lt_le.el_push(e, "\005^C\n"); /* ^E: to the end of the line (emacs) */
	return CC_NORM;
}

/* Tab: ask Lua. completer(text_before_cursor) -> insert, listing, delete
 * (bytes before the cursor to replace; the line is ASCII there). */
static unsigned char complete_fn(EditLine *e, int ch)
{
	(void)ch;
	if (el_complete_ref == LUA_NOREF)
		return CC_ERROR;
	const LineInfo *li = lt_le.el_line(e);
	lua_rawgeti(el_L, LUA_REGISTRYINDEX, el_complete_ref);
	lua_pushlstring(el_L, li->buffer, (size_t)(li->cursor - li->buffer));
	if (lua_pcall(el_L, 1, 3, 0)) {
		fprintf(stderr, "\nluatrace: completion: %s\n", lua_tostring(el_L, -1));
		lua_pop(el_L, 1);
		return CC_REDISPLAY;
	}
	int rc = CC_REFRESH_BEEP;
	int del = (int)lua_tointeger(el_L, -1);
	lua_pop(el_L, 1);
	if (del > 0 && del <= li->cursor - li->buffer) {
		lt_le.el_deletestr(e, del);
		rc = CC_REFRESH;
	}
	const char *ins = lua_tostring(el_L, -2);
	if (ins && *ins) {
		lt_le.el_insertstr(e, ins);
		rc = CC_REFRESH;
	}
	const char *show = lua_tostring(el_L, -1);
	if (show && *show) {
		fputs("\n", stdout);
		fputs(show, stdout);
		fflush(stdout);
		rc = CC_REDISPLAY;
	}
	lua_pop(el_L, 2);
	return (unsigned char)rc;
}

/* lineedit.open() : set up the editor on stdin/stdout (a terminal). */
static int l_open(lua_State *L)
{
	if (el)
		return 0;
	char why[256];
	if (lt_libedit_load(why, sizeof(why)))
		return lt_failf(L, "start the console's line editor: %s", why);
	setlocale(LC_CTYPE, "");
	el_L = L;
	el = lt_le.el_init("luatrace", stdin, stdout, stderr);
	if (!el)
		return lt_fail(L, "set up", "the line editor", errno, NULL);
	hist = lt_le.history_init();
	HistEvent ev;
	lt_le.history(hist, &ev, H_SETSIZE, 1000);
	lt_le.history(hist, &ev, H_SETUNIQUE, 1);
	lt_le.el_set(el, EL_HIST, lt_le.history, hist);
	lt_le.el_set(el, EL_EDITOR, "emacs");
	lt_le.el_set(el, EL_PROMPT, prompt_fn);
	lt_le.el_set(el, EL_GETCFN, getc_fn);
	lt_le.el_set(el, EL_ADDFN, "lt-complete", "complete a name or probe", complete_fn);
	lt_le.el_set(el, EL_BIND, "^I", "lt-complete", NULL);
	lt_le.el_set(el, EL_ADDFN, "lt-interrupt", "drop the line (a signal)", interrupt_fn);
	lt_le.el_set(el, EL_BIND, "^C", "lt-interrupt", NULL);
	/* No el_source(): as root, a ~/.editrc from a HOME kept by sudo could
	 * bind keys to text of another user's choosing. */
	return 0;
}

/* lineedit.read(prompt) -> line | nil (end of input) | false, signo
 * (a signal ended the read: the typed text is dropped). */
static int l_read(lua_State *L)
{
	if (!el)
		return luaL_error(L, "lineedit.read: the editor is not open");
	el_prompt_text = luaL_optstring(L, 1, "> ");
	lua_pushvalue(L, 1);
	lua_setfield(L, LUA_REGISTRYINDEX, "luatrace.lineedit.prompt"); /* keep it */
	el_interrupted = 0;
	lt_le.el_resize(el);
	lt_sig_set_polling(1);
	int n = 0;
	const char *line = lt_le.el_gets(el, &n);
	lt_sig_set_polling(0);
	if (el_interrupted) {
		/* The text stays on screen, as in a shell; a fresh prompt follows. */
		lua_pushboolean(L, 0);
		lua_pushinteger(L, el_interrupted);
		return 2;
	}
	if (!line || n <= 0) {
		fputs("\n", stdout);
		fflush(stdout);
		lua_pushnil(L);
		return 1;
	}
	if (n > 0 && line[n - 1] == '\n')
		n--;
	lua_pushlstring(L, line, (size_t)n);
	return 1;
}

static int l_add_history(lua_State *L)
{
	HistEvent ev;
	if (hist)
		lt_le.history(hist, &ev, H_ENTER, luaL_checkstring(L, 1));
	return 0;
}

static void set_ref(lua_State *L, int idx, int *ref)
{
	luaL_unref(L, LUA_REGISTRYINDEX, *ref);
	*ref = LUA_NOREF;
	if (!lua_isnoneornil(L, idx)) {
		luaL_checktype(L, idx, LUA_TFUNCTION);
		lua_pushvalue(L, idx);
		*ref = luaL_ref(L, LUA_REGISTRYINDEX);
	}
}

/* lineedit.set_completer(fn | nil) */
static int l_set_completer(lua_State *L)
{
	set_ref(L, 1, &el_complete_ref);
	return 0;
}

/* lineedit.watch({fds}, fn[, every_ms]) / lineedit.watch(nil): while at
 * the prompt, call fn when one of the fds is readable (events of running
 * probes), and every every_ms. */
static int l_watch(lua_State *L)
{
	el_nwatch = 0;
	if (lua_isnoneornil(L, 1)) {
		set_ref(L, 3, &el_watch_ref); /* none */
		return 0;
	}
	luaL_checktype(L, 1, LUA_TTABLE);
	set_ref(L, 2, &el_watch_ref);
	el_watch_ms = (int)luaL_optinteger(L, 3, -1);
	for (int i = 1; i <= MAX_WATCH; i++) {
		lua_rawgeti(L, 1, i);
		if (lua_isnil(L, -1)) {
			lua_pop(L, 1);
			break;
		}
		el_watch_fds[el_nwatch++] = (int)luaL_checkinteger(L, -1);
		lua_pop(L, 1);
	}
	if (el_watch_ref == LUA_NOREF)
		el_nwatch = 0;
	return 0;
}

static int l_close(lua_State *L)
{
	(void)L;
	if (el)
		lt_le.el_end(el);
	if (hist)
		lt_le.history_end(hist);
	el = NULL;
	hist = NULL;
	return 0;
}

/* lineedit.pending_signal() -> the signal that asked to stop, or 0 */
static int l_pending_signal(lua_State *L)
{
	lua_pushinteger(L, lt_sig_pending());
	return 1;
}

/* lineedit.console_mode(on): the signal handling of the console (sig.c). */
static int l_console_mode(lua_State *L)
{
	lt_sig_set_console(lua_toboolean(L, 1));
	return 0;
}

void lt_open_lineedit(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{"open", l_open},
		{"read", l_read},
		{"add_history", l_add_history},
		{"set_completer", l_set_completer},
		{"watch", l_watch},
		{"begin_output", l_begin_output},
		{"close", l_close},
		{"history_load", lt_l_history_load},
		{"history_write", lt_l_history_write},
		{"console_mode", l_console_mode},
		{"pending_signal", l_pending_signal},
		{NULL, NULL},
	};
	lua_newtable(L);
	lt_setfuncs(L, fns);
	lua_setfield(L, -2, "lineedit");
}
