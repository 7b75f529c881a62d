// SPDX-License-Identifier: GPL-2.0
/* funccount_kprobe: funccount on kernel and user functions by kprobe or
 * uprobe. fc_k: kprobe-type programs (attached from Lua). The counters: bpf/funccount.h. */
#include "funccount.h"

#define FC_SLOT(k) SEC("kprobe") int fc_##k(void *ctx) { return count(k); }
#include "funccount_slots.h"
