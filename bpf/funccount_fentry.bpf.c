// SPDX-License-Identifier: GPL-2.0
/* funccount_fentry: funccount on kernel functions by fentry. fe_k:
 * fentry programs, their targets set at run time through
 * BPF{attach_targets=} (attached at load). The counters: bpf/funccount.h. */
#include "funccount.h"

#define FC_SLOT(k) SEC("fentry") int fe_##k(void *ctx) { return count(k); }
#include "funccount_slots.h"
