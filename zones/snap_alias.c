/*
 * snap_alias.c — out-of-zone alias targets: the index built at open and
 * the slots the control plane writes while the engine reads them.
 *
 * A slot is a sequence lock: the control plane is its only writer and
 * writes rarely (once per resolution that changed something); readers
 * copy the addresses and retry if a write overlapped, so the query path
 * neither locks nor waits on the control plane.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "dname.h"
#include "error.h"
#include "policy.h"
#include "snap_alias.h"

/* Readers give up after this many overlapping writes (the writer holds a
 * slot for a ~200-byte copy; this never happens in practice). */
#define READ_TRIES 64

static bool external(const struct snap *s, const struct policy_endpoint *ep)
{
	struct snap_qname q;

	if (ep->type != POLICY_ALIAS)
		return false;
	snap_qname_init(&q, ep->rdata, ep->rdlen);
	return snap_find_zone(s, &q) == NULL;
}

/* Endpoint indexes by target name (arg: the policy they index). */
static int by_target(const void *a, const void *b, void *arg)
{
	const struct policy *p = arg;
	struct policy_endpoint x, y;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	int c;

	policy_endpoint_get(p, i, &x);
	policy_endpoint_get(p, j, &y);
	c = dname_canonical_cmp(x.rdata, y.rdata);
	return c ? c : (i > j) - (i < j);
}

int snap_alias_index_build(const struct snap *s, struct snap_alias_index *x)
{
	const struct policy *p = snap_policy(s);
	uint32_t nep = p ? policy_endpoint_count(p) : 0, next = 0, *ext = NULL;
	struct policy_endpoint ep, prev = { 0 };

	memset(x, 0, sizeof(*x));
	for (uint32_t i = 0; i < nep; i++) {
		policy_endpoint_get(p, i, &ep);
		next += external(s, &ep);
	}
	if (!next)
		return 0;
	if (!(ext = malloc(next * sizeof(*ext))) ||
	    !(x->ep_slot = calloc(nep, sizeof(*x->ep_slot))) ||
	    !(x->target_ep = malloc(next * sizeof(*x->target_ep))))
		goto fail;
	next = 0;
	for (uint32_t i = 0; i < nep; i++) {
		policy_endpoint_get(p, i, &ep);
		if (external(s, &ep))
			ext[next++] = i;
	}
	/* one slot per name, whatever the case it was written in */
	qsort_r(ext, next, sizeof(*ext), by_target, (void *)p);
	for (uint32_t k = 0; k < next; k++) {
		policy_endpoint_get(p, ext[k], &ep);
		if (!x->n || dname_canonical_cmp(prev.rdata, ep.rdata) != 0)
			x->target_ep[x->n++] = ext[k];
		x->ep_slot[ext[k]] = x->n;
		prev = ep;
	}
	free(ext);
	return 0;
fail:
	free(ext);
	snap_alias_index_free(x);
	return P53_ENOMEM;
}

void snap_alias_index_free(struct snap_alias_index *x)
{
	free(x->ep_slot);
	free(x->target_ep);
	memset(x, 0, sizeof(*x));
}

bool snap_alias_read(const struct snap_alias *slot, struct snap_alias_addrs *out)
{
	for (int i = 0; i < READ_TRIES; i++) {
		uint32_t s1 = atomic_load_explicit(&slot->seq, memory_order_acquire);

		if (s1 & 1)
			continue;
		memcpy(out, &slot->v, sizeof(*out));
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&slot->seq, memory_order_relaxed) == s1)
			return true;
	}
	return false;
}

void snap_alias_write(struct snap_alias *slot, const struct snap_alias_addrs *in)
{
	uint32_t s = atomic_load_explicit(&slot->seq, memory_order_relaxed);

	atomic_store_explicit(&slot->seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	memcpy(&slot->v, in, sizeof(*in));
	atomic_store_explicit(&slot->seq, s + 2, memory_order_release);
}
