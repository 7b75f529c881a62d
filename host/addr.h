/* addr.h: 64-bit addresses across the Lua boundary. Lua numbers lose bits
 * above 2^53, so addresses come in as numbers, uint64 cdata, light userdata
 * or strings, and go out as light userdata (Lua casts them to uint64_t). */
#ifndef LT_ADDR_H
#define LT_ADDR_H
#include <stdint.h>
#include <stdlib.h>
#include <lua.h>
#include <lauxlib.h>

#define LT_LUA_TCDATA 10 /* LuaJIT's type tag for cdata */

static inline uint64_t lt_check_addr(lua_State *L, int idx)
{
	switch (lua_type(L, idx)) {
	case LUA_TNUMBER:
		return (uint64_t)lua_tonumber(L, idx);
	case LUA_TLIGHTUSERDATA:
		return (uint64_t)(uintptr_t)lua_touserdata(L, idx);
	case LT_LUA_TCDATA: /* a uint64_t/int64_t or pointer cdata */
		return *(const uint64_t *)lua_topointer(L, idx);
	case LUA_TSTRING:
		return strtoull(lua_tostring(L, idx), NULL, 0);
	}
	luaL_argerror(L, idx, "address expected (number, uint64 or string)");
	return 0;
}

static inline void lt_push_addr(lua_State *L, uint64_t a)
{
	lua_pushlightuserdata(L, (void *)(uintptr_t)a);
}
#endif
