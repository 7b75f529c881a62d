/* lt_export.h: make a type visible in the object's BTF.
 *
 * clang writes BTF only for types reachable from globals, maps and function
 * signatures; a struct used only through a local pointer (the usual ring
 * buffer record) is left out, and Lua could not decode it. LT_EXPORT_TYPE
 * anchors it with an unused global pointer. */
#ifndef LT_EXPORT_H
#define LT_EXPORT_H

#define LT_EXPORT_TYPE(type, tag) \
	type *__lt_export_##tag __attribute__((used)) = (void *)0

#endif
