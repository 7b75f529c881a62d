/* lineedit.h: the console's line editor (lineedit.c) and its history
 * file (lineedit_history.c). */
#ifndef LT_LINEEDIT_H
#define LT_LINEEDIT_H

#include <lua.h>

/* lineedit.history_load(path) -> { lines } | nil, err (nothing: no file) */
int lt_l_history_load(lua_State *L);
/* lineedit.history_write(path, text, append) -> true | nil, err */
int lt_l_history_write(lua_State *L);

#endif
