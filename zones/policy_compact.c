/*
 * policy_compact.c — the compact form of an opened policy (policy_format.h):
 * one block per record holding its whole tree in a few adjacent cache
 * lines, so that an answer touches the lines of its own record and little
 * else. Built once by policy_open from the validated blob; read by
 * policy_eval and policy_prefetch.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "geo.h"
#include "policy.h"
#include "policy_format.h"

struct range { uint64_t lo, hi; };

static void widen(struct range *r, uint64_t lo, uint64_t hi)
{
	if (lo < r->lo)
		r->lo = lo;
	if (hi > r->hi)
		r->hi = hi;
}

static uint16_t capped(const struct range *r)
{
	uint64_t n = r->hi > r->lo ? r->hi - r->lo : 0;

	return (uint16_t)(n < POL_PREFETCH_MAX ? n : POL_PREFETCH_MAX);
}

static uint32_t record_members(const struct policy *p, const struct pol_record *r)
{
	const struct pol_node *last = &p->nodes[r->root + r->node_count - 1];

	return last->lr_first + last->lr_count - p->nodes[r->root].first;
}

static size_t block_size(const struct policy *p, const struct pol_record *r)
{
	size_t at = sizeof(struct pol_crec) + r->node_count * sizeof(struct pol_cnode);

	at = (at + 3) & ~(size_t)3;
	at += record_members(p, r) * sizeof(struct pol_cmem);
	return (at + POL_LINE - 1) / POL_LINE;
}

/* Where the endpoints and the RDATA the record may answer lie (usually
 * one run each, in file order). */
static void set_runs(const struct policy *p, const struct pol_record *r, struct pol_crec *c)
{
	struct range ep = { UINT64_MAX, 0 }, dat = { UINT64_MAX, 0 };
	uint32_t n = record_members(p, r);

	for (uint32_t k = c->mem_base; k < c->mem_base + n; k++) {
		const struct pol_member *m = &p->mem[k];
		const struct pol_endpoint *e = &p->eps[m->target];

		if (m->kind != POL_MEM_ENDPOINT)
			continue;
		widen(&ep, (uint64_t)m->target * sizeof(*e), (uint64_t)(m->target + 1) * sizeof(*e));
		widen(&dat, e->rdata, (uint64_t)e->rdata + e->rdlen);
	}
	c->ep_off = ep.hi ? (uint32_t)(p->h->endpoints + ep.lo) : 0;
	c->ep_len = capped(&ep);
	c->data_off = dat.hi ? (uint32_t)dat.lo : 0;
	c->data_len = capped(&dat);
}

/* A geolocation member's location as its rule compares it: a rule whose
 * own bits are missing matches no client (a client must have them too). */
static uint32_t loc_value(const struct pol_member *m, uint32_t code)
{
	uint32_t v = code & pol_loc_mask[m->loc_kind < 5 ? m->loc_kind : POL_LOC_NONE];

	switch (m->loc_kind) {
	case POL_LOC_DEFAULT:
		return 0;
	case POL_LOC_CONTINENT:
	case POL_LOC_COUNTRY:
		return v ? v : POL_LOC_NEVER;
	case POL_LOC_SUBDIVISION:
		return GEO_LOC_SUBDIV(code) && GEO_LOC_COUNTRY(code) ? v : POL_LOC_NEVER;
	}
	return POL_LOC_NEVER;
}

_Static_assert((uint64_t)POLICY_MAX_MEMBERS * POLICY_MAX_WEIGHT < UINT32_MAX,
	       "a weighted policy's running total fits pol_cmem.aux");

/* What member k of node n carries in pol_cmem.aux; weighted members get
 * their running total in fill_block. */
static uint32_t member_aux(const struct policy *p, const struct pol_node *n, uint32_t k)
{
	switch (n->kind) {
	case POL_GEOLOCATION: return loc_value(&p->mem[k], p->mloc[k]);
	case POL_LATENCY:     return p->mem[k].region;
	default:              return 0;
	}
}

static uint8_t geo_client(const struct policy *p, const struct pol_node *n)
{
	if (n->kind != POL_GEOLOCATION)
		return 0;
	for (uint32_t k = n->first; k < n->first + n->count; k++)
		if (p->mem[k].loc_kind != POL_LOC_DEFAULT)
			return POL_CNODE_CLIENT;
	return 0;
}

static void fill_block(const struct policy *p, const struct pol_record *r, uint8_t *blk)
{
	struct pol_crec *c = (struct pol_crec *)blk;
	struct pol_cnode *cn = (struct pol_cnode *)(c + 1);
	uint32_t base = p->nodes[r->root].first;
	size_t at = (sizeof(*c) + r->node_count * sizeof(*cn) + 3) & ~(size_t)3;
	struct pol_cmem *cm = (struct pol_cmem *)(blk + at);

	*c = (struct pol_crec){ .ttl = r->ttl, .type = r->type, .flags = (uint8_t)r->flags,
				.nnodes = (uint16_t)r->node_count, .mem_at = (uint16_t)at,
				.mem_base = base };
	set_runs(p, r, c);
	for (uint32_t i = 0; i < r->node_count; i++) {
		const struct pol_node *n = &p->nodes[r->root + i];

		cn[i] = (struct pol_cnode){ .kind = n->kind, .flags = n->flags | geo_client(p, n),
					    .pick = (uint8_t)n->pick, .lr_count = (uint8_t)n->lr_count,
					    .count = (uint16_t)n->count,
					    .first = (uint16_t)(n->first - base) };
		uint32_t run = 0;

		for (uint32_t k = n->first; k < n->lr_first + n->lr_count; k++) {
			const struct pol_member *m = &p->mem[k];
			bool weighted = n->kind == POL_WEIGHTED && k < n->first + n->count;

			run += weighted ? m->weight : 0;
			cm[k - base] = (struct pol_cmem){
				.target = m->kind == POL_MEM_NODE ? m->target - r->root : m->target,
				.check = m->check, .aux = weighted ? run : member_aux(p, n, k),
				.kind = m->kind, .loc_kind = m->loc_kind };
		}
	}
}

int policy_compact_build(struct policy *p)
{
	uint32_t n = p->h->nrecords;
	uint64_t lines = 0;

	if (!(p->cat = calloc((size_t)n + 1, sizeof(*p->cat))))
		return P53_ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		p->cat[i] = (uint32_t)lines;
		lines += block_size(p, &p->recs[i]);
		if (lines > UINT32_MAX)
			return P53_ENOMEM;
	}
	p->cat[n] = (uint32_t)lines;
	if (!(p->cb = aligned_alloc(POL_LINE, (lines ? lines : 1) * POL_LINE)))
		return P53_ENOMEM;
	memset(p->cb, 0, (lines ? lines : 1) * POL_LINE);
	for (uint32_t i = 0; i < n; i++)
		fill_block(p, &p->recs[i], p->cb + (size_t)p->cat[i] * POL_LINE);
	return 0;
}
