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
#include "rdata.h"

_Static_assert((uint64_t)POLICY_MAX_MEMBERS * POLICY_MAX_WEIGHT < UINT32_MAX,
	       "a weighted policy's running total fits pol_cmem.aux");

static uint32_t record_members(const struct policy *p, const struct pol_record *r)
{
	const struct pol_node *last = &p->nodes[r->root + r->node_count - 1];

	return last->lr_first + last->lr_count - p->nodes[r->root].first;
}

/* The nodes follow the pol_crec and the quick answers (qbytes, a multiple
 * of 4), the members the nodes. */
static size_t nodes_at(size_t qbytes)
{
	return sizeof(struct pol_crec) + qbytes;
}

static size_t members_at(const struct pol_record *r, size_t qbytes)
{
	return (nodes_at(qbytes) + r->node_count * sizeof(struct pol_cnode) + 3) & ~(size_t)3;
}

static size_t cep_size(const struct pol_endpoint *e)
{
	return sizeof(struct pol_cep) + (e->rdlen <= POL_CEP_INLINE ? (e->rdlen + 3u) & ~3u : 4);
}

/* Bytes of record r's block, unpadded, with qbytes of quick answers. */
static uint64_t block_bytes(const struct policy *p, const struct pol_record *r, size_t qbytes)
{
	uint32_t first = p->nodes[r->root].first, n = record_members(p, r);
	uint64_t at = members_at(r, qbytes) + (uint64_t)n * sizeof(struct pol_cmem);

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

/* ---- quick answers (policy_format.h) ------------------------------------------ */

/* One quick answer: the checks it reads while they are up, the RRs of
 * its wire in order (endpoint indexes) and how they make outcomes. */
struct qplan {
	bool draw;
	uint32_t nchecks, check[POL_QUICK_MAX_CHECKS];
	uint32_t nrr, rr[2 * POL_QUICK_MAX_OUT];
	uint32_t nout, per;         /* outcomes, RRs in each */
	uint32_t cum[POL_QUICK_MAX_OUT], total;
	uint32_t wire;              /* wire bytes */
};

/* A record's: one answer, or for a geolocation root one per member
 * (ok[i] false where the member has none). */
struct rplan {
	uint32_t ngeo;              /* 0: not a geolocation */
	bool client;                /* a geolocation rule other than the default */
	bool ok[POL_QUICK_MAX_OUT];
	uint32_t aux[POL_QUICK_MAX_OUT];
	uint8_t loc[POL_QUICK_MAX_OUT];
	struct qplan q[POL_QUICK_MAX_OUT];
};

/* The checks are kept highest first: when the first is within the
 * health words, all are (policy_quick then compares none). */
static bool add_check(struct qplan *q, uint32_t check)
{
	uint32_t i = 0;

	if (check == POL_NONE)
		return true;
	while (i < q->nchecks && q->check[i] > check)
		i++;
	if (i < q->nchecks && q->check[i] == check)
		return true;
	if (q->nchecks == POL_QUICK_MAX_CHECKS)
		return false;
	memmove(&q->check[i + 1], &q->check[i], (q->nchecks - i) * sizeof(q->check[0]));
	q->check[i] = check;
	q->nchecks++;
	return true;
}

static bool add_rr(const struct policy *p, struct qplan *q, uint32_t epi)
{
	const struct pol_endpoint *e = &p->eps[epi];

	/* a name is answered alone, an alias from the target's data */
	if (e->type == RRTYPE_CNAME || e->type == POLICY_ALIAS)
		return false;
	q->rr[q->nrr++] = epi;
	q->wire += 12u + e->rdlen;
	return q->wire <= POL_QUICK_MAX_BYTES;
}

/* Node n's members as the end of the walk: every one an endpoint, every
 * check up. */
static bool plan_leaf(const struct policy *p, const struct pol_node *n, struct qplan *q)
{
	uint32_t run = 0;

	if (n->count == 0 || n->count > POL_QUICK_MAX_OUT)
		return false;
	for (uint32_t k = n->first; k < n->first + n->count; k++)
		if (p->mem[k].kind != POL_MEM_ENDPOINT || !add_check(q, p->mem[k].check))
			return false;
	if (n->kind == POL_WEIGHTED) {
		/* policy_eval's draw_full: only members of weight > 0 are drawn */
		q->draw = true;
		q->per = 1;
		for (uint32_t k = n->first; k < n->first + n->count; k++) {
			if (!p->mem[k].weight)
				continue;
			run += p->mem[k].weight;
			q->cum[q->nout++] = run;
			if (!add_rr(p, q, p->mem[k].target))
				return false;
		}
		q->total = run;
		return n->pick == 1 && run > 0;
	}
	/* simple: all of them rotated; multivalue: a window of pick from a
	 * rotating start (eval_all with every member up) */
	q->nout = n->count;
	q->per = n->kind == POL_MULTIVALUE && n->pick < n->count ? n->pick : n->count;
	for (uint32_t i = 0; i < n->count + q->per - 1; i++)
		if (!add_rr(p, q, p->mem[n->first + i % n->count].target))
			return false;
	return q->per > 0;
}

/* The answer of member m while its checks are up: the walk through
 * failovers' first members (policy_eval takes the first while it is up)
 * to an endpoint or a leaf policy of endpoints, none depending on the
 * client, drawing more than once or answering a name. */
static bool plan_member(const struct policy *p, const struct pol_member *m, struct qplan *q)
{
	for (uint32_t depth = 0; depth <= POLICY_MAX_DEPTH; depth++) {
		const struct pol_node *n;

		if (!add_check(q, m->check))
			return false;
		if (m->kind == POL_MEM_ENDPOINT) {
			q->nout = q->per = 1;
			return add_rr(p, q, m->target);
		}
		n = &p->nodes[m->target];
		switch (n->kind) {
		case POL_WEIGHTED:
		case POL_SIMPLE:
		case POL_MULTIVALUE:
			return plan_leaf(p, n, q);
		case POL_FAILOVER:
			if (n->count == 0)
				return false;
			m = &p->mem[n->first];
			break;
		default:
			return false;
		}
	}
	return false;
}

/* The root as a member without a check of its own. */
static bool plan_root(const struct policy *p, const struct pol_record *r, struct qplan *q)
{
	struct pol_member root = { .kind = POL_MEM_NODE, .target = r->root, .check = POL_NONE };

	memset(q, 0, sizeof(*q));
	return plan_member(p, &root, q);
}

static size_t quick_bytes(const struct qplan *q)
{
	return (sizeof(struct pol_quick) + q->nchecks * 4u + q->nout * sizeof(struct pol_qout) +
		q->wire + 3) & ~(size_t)3;
}

static size_t geo_head_bytes(uint32_t ngeo)
{
	return sizeof(struct pol_quick) + ngeo * sizeof(struct pol_qgeo);
}

/* Record r's quick answers into *rp; their bytes, 0 when it has none. A
 * geolocation root has them when a member does: its own answer then
 * comes from its subtree's, the client's rule picking it. */
static size_t record_quick(const struct policy *p, const struct pol_record *r, struct rplan *rp)
{
	const struct pol_node *n = &p->nodes[r->root];
	size_t bytes;
	bool any = false;

	rp->ngeo = 0;
	if (n->kind != POL_GEOLOCATION)
		return plan_root(p, r, &rp->q[0]) ? quick_bytes(&rp->q[0]) : 0;
	if (n->count == 0 || n->count > POL_QUICK_MAX_OUT)
		return 0;
	rp->ngeo = n->count;
	rp->client = false;
	bytes = geo_head_bytes(n->count);
	for (uint32_t i = 0; i < n->count; i++) {
		const struct pol_member *m = &p->mem[n->first + i];

		memset(&rp->q[i], 0, sizeof(rp->q[i]));
		rp->ok[i] = plan_member(p, m, &rp->q[i]) &&
			    bytes + quick_bytes(&rp->q[i]) <= POL_QUICK_MAX_GEO_BYTES;
		rp->aux[i] = member_aux(p, n, n->first + i);
		rp->loc[i] = m->loc_kind;
		rp->client |= m->loc_kind != POL_LOC_DEFAULT;
		if (rp->ok[i])
			bytes += quick_bytes(&rp->q[i]);
		any |= rp->ok[i];
	}
	return any ? bytes : 0;
}

/* Endpoint epi as an RR of a snapshot's wire form at w; the bytes. */
static uint32_t put_quick_rr(const struct policy *p, uint32_t epi, uint32_t ttl, uint8_t *w)
{
	const struct pol_endpoint *e = &p->eps[epi];
	uint8_t h[12] = { 0xc0, 12, (uint8_t)(e->type >> 8), (uint8_t)e->type, 0, 1,
			  (uint8_t)(ttl >> 24), (uint8_t)(ttl >> 16), (uint8_t)(ttl >> 8),
			  (uint8_t)ttl, (uint8_t)(e->rdlen >> 8), (uint8_t)e->rdlen };

	memcpy(w, h, sizeof(h));
	memcpy(w + sizeof(h), p->b + e->rdata, e->rdlen);
	return 12u + e->rdlen;
}

static void fill_quick(const struct policy *p, const struct pol_record *r,
		       const struct qplan *q, uint8_t *at)
{
	struct pol_quick *h = (struct pol_quick *)at;
	struct pol_qout *o = (struct pol_qout *)(at + sizeof(*h) + q->nchecks * 4u);
	uint32_t wire = (uint32_t)((uint8_t *)(o + q->nout) - at), off[2 * POL_QUICK_MAX_OUT + 1];

	*h = (struct pol_quick){ .draw = q->draw, .nchecks = (uint8_t)q->nchecks,
				 .nout = (uint8_t)q->nout, .total = q->total };
	memcpy(h + 1, q->check, q->nchecks * 4u);
	off[0] = wire;
	for (uint32_t i = 0; i < q->nrr; i++)
		off[i + 1] = off[i] + put_quick_rr(p, q->rr[i], r->ttl, at + off[i]);
	for (uint32_t i = 0; i < q->nout; i++)
		o[i] = (struct pol_qout){ .cum = q->cum[i], .at = (uint16_t)off[i],
					  .len = (uint16_t)(off[i + q->per] - off[i]),
					  .count = (uint16_t)q->per };
}

static void fill_record_quick(const struct policy *p, const struct pol_record *r,
			      const struct rplan *rp, uint8_t *at)
{
	struct pol_quick *h = (struct pol_quick *)at;
	struct pol_qgeo *g = (struct pol_qgeo *)(h + 1);
	size_t sub = geo_head_bytes(rp->ngeo);

	if (!rp->ngeo) {
		fill_quick(p, r, &rp->q[0], at);
		return;
	}
	*h = (struct pol_quick){ .draw = rp->client, .ngeo = (uint8_t)rp->ngeo };
	for (uint32_t i = 0; i < rp->ngeo; i++) {
		g[i] = (struct pol_qgeo){ .aux = rp->aux[i], .loc = rp->loc[i] };
		if (!rp->ok[i])
			continue;
		g[i].at = (uint16_t)sub;
		fill_quick(p, r, &rp->q[i], at + sub);
		sub += quick_bytes(&rp->q[i]);
	}
}

static void fill_block(const struct policy *p, const struct pol_record *r, uint8_t *blk,
		       struct rplan *q)
{
	size_t qbytes = record_quick(p, r, q), mat = members_at(r, qbytes);
	size_t at = mat + record_members(p, r) * sizeof(struct pol_cmem);
	struct pol_crec *c = (struct pol_crec *)blk;
	struct pol_cnode *cn = (struct pol_cnode *)(blk + nodes_at(qbytes));
	uint32_t base = p->nodes[r->root].first;
	struct pol_cmem *cm = (struct pol_cmem *)(blk + mat);

	*c = (struct pol_crec){ .ttl = r->ttl, .type = r->type,
				.flags = (uint8_t)(r->flags | (qbytes ? POL_CREC_QUICK : 0)),
				.nodes_at = (uint16_t)nodes_at(qbytes), .mem_at = (uint16_t)mat,
				.mem_base = base };
	if (qbytes)
		fill_record_quick(p, r, q, (uint8_t *)(c + 1));
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
	struct rplan *q;
	int ret = P53_ENOMEM;

	/* the plans of one record (tens of KiB), made twice: sizes, then
	 * the blocks */
	if (!(q = malloc(sizeof(*q))) || !(p->cat = calloc((size_t)n + 1, sizeof(*p->cat))))
		goto fail;
	ret = P53_ELIMIT;
	for (uint32_t i = 0; i < n; i++) {
		size_t qbytes = record_quick(p, &p->recs[i], q);
		uint64_t bytes = block_bytes(p, &p->recs[i], qbytes);

		/* the fields' reach: mem_at (16 bits), a pol_cep's offset
		 * (28 bits of 4 bytes), the block starts (31 bits of lines) */
		if (members_at(&p->recs[i], qbytes) > UINT16_MAX || bytes / 4 > POL_CREF_INDEX(~0u))
			goto fail;
		p->cat[i] = (uint32_t)lines | (qbytes ? POL_CAT_QUICK : 0) |
			    (p->recs[i].flags & POL_REC_CLIENT ? POL_CAT_CLIENT : 0);
		if ((lines += (bytes + POL_LINE - 1) / POL_LINE) >= POL_CAT_QUICK)
			goto fail;
	}
	p->cat[n] = (uint32_t)lines;
	ret = P53_ENOMEM;
	if (!(p->cb = aligned_alloc(POL_LINE, (lines ? lines : 1) * POL_LINE)))
		goto fail;
	memset(p->cb, 0, (lines ? lines : 1) * POL_LINE);
	for (uint32_t i = 0; i < n; i++)
		fill_block(p, &p->recs[i], (uint8_t *)policy_block(p, i), q);
	ret = 0;
fail:
	free(q);
	return ret;
}
