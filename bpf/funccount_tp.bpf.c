// SPDX-License-Identifier: GPL-2.0
/* funccount_tp: funccount on tracepoints. ft_k: tracepoint programs
 * (attached from Lua). The counters: bpf/funccount.h. */
#include "funccount.h"

#define FC_SLOT(k) SEC("tracepoint") int ft_##k(void *ctx) { return count(k); }
#include "funccount_slots.h"
