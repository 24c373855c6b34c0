/*
 * snap_alias.h — the index of out-of-zone alias targets, private to the
 * snap module (snap_read.c builds it when a snapshot opens).
 *
 * Policy `alias:` members whose target lies outside every served zone are
 * answered from addresses the control plane resolves (snap.h, "Out-of-zone
 * alias targets"). The index gives each distinct target a slot number and
 * maps every policy endpoint to its slot, so that the engine finds the
 * addresses of a chosen endpoint with one array read.
 */
#ifndef POP53_SNAP_ALIAS_H
#define POP53_SNAP_ALIAS_H

#include <stdint.h>

#include "snap.h"

struct snap_alias_index {
	uint32_t *ep_slot;      /* per policy endpoint: slot + 1, 0 = none */
	uint32_t *target_ep;    /* per slot: an endpoint naming the target */
	uint32_t n;             /* slots */
};

/* Build x for s (its policy and zones already opened). x is zeroed when
 * the policy has no out-of-zone alias. 0 or P53_ENOMEM. */
int snap_alias_index_build(const struct snap *s, struct snap_alias_index *x);

/* Release what snap_alias_index_build allocated. */
void snap_alias_index_free(struct snap_alias_index *x);

#endif
