/*
 * policy_compact.c — the compact form of an opened policy (policy_format.h):
 * one block per record holding its whole tree and the endpoints it may
 * answer in a few adjacent cache lines, so that an answer touches the
 * lines of its own record and little else. Built once by policy_open from
 * the validated blob; read by policy_eval, policy_output_endpoint and
 * policy_prefetch.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "geo.h"
#include "policy.h"
#include "policy_format.h"

_Static_assert((uint64_t)POLICY_MAX_MEMBERS * POLICY_MAX_WEIGHT < UINT32_MAX,
	       "a weighted policy's running total fits pol_cmem.aux");

static uint32_t record_members(const struct policy *p, const struct pol_record *r)
{
	const struct pol_node *last = &p->nodes[r->root + r->node_count - 1];

	return last->lr_first + last->lr_count - p->nodes[r->root].first;
}

static size_t members_at(const struct pol_record *r)
{
	return (sizeof(struct pol_crec) + r->node_count * sizeof(struct pol_cnode) + 3) & ~(size_t)3;
}

static size_t cep_size(const struct pol_endpoint *e)
{
	return sizeof(struct pol_cep) + (e->rdlen <= POL_CEP_INLINE ? (e->rdlen + 3u) & ~3u : 4);
}

/* Bytes of record r's block, unpadded. */
static uint64_t block_bytes(const struct policy *p, const struct pol_record *r)
{
	uint32_t first = p->nodes[r->root].first, n = record_members(p, r);
	uint64_t at = members_at(r) + (uint64_t)n * sizeof(struct pol_cmem);

	for (uint32_t k = first; k < first + n; k++)
		if (p->mem[k].kind == POL_MEM_ENDPOINT)
			at += cep_size(&p->eps[p->mem[k].target]);
	return at;
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

/* What member k of node n carries in pol_cmem.aux; weighted members get
 * their running total in fill_members. */
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

/* Endpoint e as a pol_cep at blk + *at; *at moves past it. */
static uint32_t put_cep(const struct policy *p, uint32_t epi, uint8_t *blk, size_t *at)
{
	const struct pol_endpoint *e = &p->eps[epi];
	struct pol_cep *c = (struct pol_cep *)(blk + *at);
	uint32_t ref = (uint32_t)(*at / 4);

	*c = (struct pol_cep){ .type = e->type, .rdlen = e->rdlen, .ep = epi };
	if (e->rdlen <= POL_CEP_INLINE)
		memcpy(c + 1, p->b + e->rdata, e->rdlen);
	else
		memcpy(c + 1, &e->rdata, 4);
	*at += cep_size(e);
	return ref;
}

/* Node n's members into cm (local indexes from base); their endpoints go
 * to blk + *at. */
static void fill_members(const struct policy *p, const struct pol_record *r,
			 const struct pol_node *n, uint32_t base, struct pol_cmem *cm,
			 uint8_t *blk, size_t *at)
{
	uint32_t run = 0;

	for (uint32_t k = n->first; k < n->lr_first + n->lr_count; k++) {
		const struct pol_member *m = &p->mem[k];
		bool weighted = n->kind == POL_WEIGHTED && k < n->first + n->count;
		uint32_t ref = (uint32_t)m->loc_kind << 28;

		if (m->kind == POL_MEM_NODE)
			ref |= POL_CREF_NODE | (m->target - r->root);
		else
			ref |= put_cep(p, m->target, blk, at);
		run += weighted ? m->weight : 0;
		cm[k - base] = (struct pol_cmem){ .ref = ref, .check = m->check,
						  .aux = weighted ? run : member_aux(p, n, k) };
	}
}

/* Whether node cn[i] is a chain (POL_CNODE_CHAIN); its nested nodes,
 * which come after it, are marked already. */
static bool is_chain(const struct pol_cnode *cn, const struct pol_cmem *cm, uint32_t i)
{
	const struct pol_cnode *n = &cn[i];
	const struct pol_cmem *m = &cm[n->first];

	if (n->count == 0)
		return false;
	if (n->kind == POL_FAILOVER)
		return !(m->ref & POL_CREF_NODE) || (cn[POL_CREF_INDEX(m->ref)].flags & POL_CNODE_CHAIN);
	if (n->kind != POL_WEIGHTED || n->pick != 1 || n->count > 64 || m[n->count - 1].aux == 0)
		return false;
	for (uint32_t j = 0; j < n->count; j++)
		if (m[j].ref & POL_CREF_NODE)
			return false;
	return true;
}

static void fill_block(const struct policy *p, const struct pol_record *r, uint8_t *blk)
{
	struct pol_crec *c = (struct pol_crec *)blk;
	struct pol_cnode *cn = (struct pol_cnode *)(c + 1);
	uint32_t base = p->nodes[r->root].first;
	size_t mat = members_at(r), at = mat + record_members(p, r) * sizeof(struct pol_cmem);
	struct pol_cmem *cm = (struct pol_cmem *)(blk + mat);

	*c = (struct pol_crec){ .ttl = r->ttl, .type = r->type, .flags = (uint8_t)r->flags,
				.nnodes = (uint16_t)r->node_count, .mem_at = (uint16_t)mat,
				.mem_base = base };
	for (uint32_t i = 0; i < r->node_count; i++) {
		const struct pol_node *n = &p->nodes[r->root + i];

		cn[i] = (struct pol_cnode){ .kind = n->kind, .flags = n->flags | geo_client(p, n),
					    .pick = (uint8_t)n->pick, .lr_count = (uint8_t)n->lr_count,
					    .count = (uint16_t)n->count,
					    .first = (uint16_t)(n->first - base) };
		fill_members(p, r, n, base, cm, blk, &at);
	}
	for (uint32_t i = r->node_count; i-- > 0;)
		if (is_chain(cn, cm, i))
			cn[i].flags |= POL_CNODE_CHAIN;
}

int policy_compact_build(struct policy *p)
{
	uint32_t n = p->h->nrecords;
	uint64_t lines = 0;

	if (!(p->cat = calloc((size_t)n + 1, sizeof(*p->cat))))
		return P53_ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t bytes = block_bytes(p, &p->recs[i]);

		/* the fields' reach: mem_at (16 bits), a pol_cep's offset
		 * (28 bits of 4 bytes), the block starts (31 bits of lines) */
		if (members_at(&p->recs[i]) > UINT16_MAX || bytes / 4 > POL_CREF_INDEX(~0u))
			return P53_ELIMIT;
		p->cat[i] = (uint32_t)lines |
			    (p->recs[i].flags & POL_REC_CLIENT ? POL_CAT_CLIENT : 0);
		if ((lines += (bytes + POL_LINE - 1) / POL_LINE) >= POL_CAT_CLIENT)
			return P53_ELIMIT;
	}
	p->cat[n] = (uint32_t)lines;
	if (!(p->cb = aligned_alloc(POL_LINE, (lines ? lines : 1) * POL_LINE)))
		return P53_ENOMEM;
	memset(p->cb, 0, (lines ? lines : 1) * POL_LINE);
	for (uint32_t i = 0; i < n; i++)
		fill_block(p, &p->recs[i], (uint8_t *)policy_block(p, i));
	return 0;
}
