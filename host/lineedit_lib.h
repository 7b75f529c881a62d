/* lineedit_lib.h: libedit's functions, loaded when the console opens
 * (lineedit_lib.c). */
#ifndef LT_LINEEDIT_LIB_H
#define LT_LINEEDIT_LIB_H

#include <stddef.h>
#include <stdio.h>
#include <histedit.h>

struct lt_libedit {
	EditLine *(*el_init)(const char *, FILE *, FILE *, FILE *);
	void (*el_end)(EditLine *);
	int (*el_set)(EditLine *, int, ...);
	const char *(*el_gets)(EditLine *, int *);
	void (*el_push)(EditLine *, const char *);
	const LineInfo *(*el_line)(EditLine *);
	int (*el_insertstr)(EditLine *, const char *);
	void (*el_deletestr)(EditLine *, int);
	void (*el_resize)(EditLine *);
	History *(*history_init)(void);
	void (*history_end)(History *);
	int (*history)(History *, HistEvent *, int, ...);
};

/* Filled by lt_libedit_load(); all NULL before. */
extern struct lt_libedit lt_le;

/* Load libedit once. 0, or -1 with the reason in err. */
int lt_libedit_load(char *err, size_t errlen);

#endif
