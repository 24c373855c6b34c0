/*
 * policy_eval.c — choose the answer of one query (the query path), from
 * the record's compact block (policy_format.h, built by policy_compact.c).
 *
 * No allocation, lock, log or system call. Work is bounded by the record's
 * tree (policy_open checked it is a tree of at most POLICY_MAX_TREE
 * members and POLICY_MAX_DEPTH levels). Randomness comes only from the
 * caller's 64-bit number, stretched with splitmix64, so that the result is
 * a function of the input (tests replay it).
 */
#include <math.h>
#include <string.h>

#include "policy.h"
#include "policy_format.h"
#include "rdata.h"

#define EARTH_KM 6371.0

/* The record being evaluated is its compact block (policy_format.h):
 * nodes and members by local index. */
struct ectx {
	const struct policy *p;
	const struct pol_cnode *nodes;
	const struct pol_cmem *mem;
	uint32_t mem_base;          /* blob index of local member 0 */
	const uint8_t *health;
	uint32_t nhealth;           /* 0 without health words */
	const struct policy_input *in;
	struct policy_output *out;
	uint64_t rng;
};

static uint64_t next_rand(struct ectx *c)
{
	uint64_t z = (c->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n) without a division on the common path. */
static uint64_t below(struct ectx *c, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)next_rand(c) * n) >> 64);
}

static void depends(struct ectx *c, uint8_t prefix)
{
	if (prefix > c->out->scope)
		c->out->scope = prefix;
}

/* POL_NONE is beyond every word: always healthy, as checks without one. */
static bool check_up(const struct ectx *c, uint32_t check)
{
	return check >= c->nhealth || __atomic_load_n(&c->health[check], __ATOMIC_ACQUIRE) != 0;
}

static bool node_up(struct ectx *c, uint32_t ni);
static bool eval_node(struct ectx *c, uint32_t ni);

/* A member is up when its own check is and, for a nested policy, when
 * that policy has something healthy to answer for this client. */
static bool member_up(struct ectx *c, uint32_t mi)
{
	const struct pol_cmem *m = &c->mem[mi];

	if (!check_up(c, m->check))
		return false;
	return !(m->ref & POL_CREF_NODE) || node_up(c, POL_CREF_INDEX(m->ref));
}

static void eval_member(struct ectx *c, uint32_t mi)
{
	const struct pol_cmem *m = &c->mem[mi];

	/* an endpoint is noted by its place in the block until policy_eval
	 * returns (finish reads its type there) */
	if (m->ref & POL_CREF_NODE)
		eval_node(c, POL_CREF_INDEX(m->ref));
	else if (c->out->n < POLICY_MAX_ANSWER)
		c->out->ep[c->out->n++] = POL_CREF_INDEX(m->ref);
}

/* What an evaluation changes, to take back one that found its policy
 * down (the random stream included: asking whether a policy is up draws
 * nothing). */
struct saved {
	uint64_t rng;
	uint32_t n, flags;
	uint8_t scope;
};

static struct saved save(const struct ectx *c)
{
	return (struct saved){ c->rng, c->out->n, c->out->flags, c->out->scope };
}

static void restore(struct ectx *c, const struct saved *s)
{
	c->rng = s->rng;
	c->out->n = s->n;
	c->out->flags = s->flags;
	c->out->scope = s->scope;
}

/* Member mi if it is up, as member_up then eval_member would, walking a
 * nested policy once instead of twice; nothing changed when it is down. */
static bool eval_if_up(struct ectx *c, uint32_t mi)
{
	const struct pol_cmem *m = &c->mem[mi];
	struct saved s;

	if (!check_up(c, m->check))
		return false;
	if (!(m->ref & POL_CREF_NODE)) {
		eval_member(c, mi);
		return true;
	}
	s = save(c);
	if (eval_node(c, POL_CREF_INDEX(m->ref)))
		return true;
	restore(c, &s);
	return false;
}

/* ---- geolocation ---------------------------------------------------------- */

/* Whether the client's location code matches member m's rule: the bits
 * of the rule's level (and of the levels it depends on) are equal to the
 * member's, which policy_compact.c made impossible to equal where the
 * member's own are missing. */
static bool loc_matches(const struct ectx *c, const struct pol_cmem *m)
{
	return (c->in->geo & pol_loc_mask[POL_CREF_LOC(m->ref)]) == m->aux;
}

/* geo_candidates for at most 64 members: the matches of each level as
 * member bits in registers, with no branch on the client's location (it
 * would be mispredicted as often as clients move) and no store a later
 * member's load would wait for. */
static unsigned geo_candidates64(const struct ectx *c, const struct pol_cnode *n, uint32_t best[5])
{
	uint64_t lv[5] = { 0 }, def = 0, con = 0, cty = 0, sub = 0;
	unsigned levels = 0;

	for (uint32_t j = 0; j < n->count; j++) {
		const struct pol_cmem *m = &c->mem[n->first + j];
		uint32_t lk = POL_CREF_LOC(m->ref);
		uint64_t bit = (uint64_t)loc_matches(c, m) << j;

		def |= lk == POL_LOC_DEFAULT ? bit : 0;
		con |= lk == POL_LOC_CONTINENT ? bit : 0;
		cty |= lk == POL_LOC_COUNTRY ? bit : 0;
		sub |= lk == POL_LOC_SUBDIVISION ? bit : 0;
	}
	lv[POL_LOC_DEFAULT] = def;
	lv[POL_LOC_CONTINENT] = con;
	lv[POL_LOC_COUNTRY] = cty;
	lv[POL_LOC_SUBDIVISION] = sub;
	for (unsigned l = POL_LOC_DEFAULT; l <= POL_LOC_SUBDIVISION; l++) {
		best[l] = n->first + (uint32_t)__builtin_ctzll(lv[l] | 1ull << 63);
		levels |= (unsigned)!!lv[l] << l;
	}
	return levels;
}

/* The matching members as level bits (1 << POL_LOC_*), the first match of
 * each level in best[] (where its bit is set). */
static unsigned geo_candidates(const struct ectx *c, const struct pol_cnode *n, uint32_t best[5])
{
	unsigned levels = 0;

	if (n->count <= 64)
		return geo_candidates64(c, n, best);
	for (uint32_t mi = n->first; mi < (uint32_t)n->first + n->count; mi++) {
		const struct pol_cmem *m = &c->mem[mi];
		unsigned lk = POL_CREF_LOC(m->ref);

		if (!(levels & 1u << lk) && loc_matches(c, m)) {
			best[lk] = mi;
			levels |= 1u << lk;
		}
	}
	return levels;
}

/* The most specific healthy match (only the most specific one without
 * fallback), evaluated when eval; *top is the most specific match. */
static uint32_t geo_choice(struct ectx *c, const struct pol_cnode *n, bool eval, uint32_t *top)
{
	uint32_t best[5];
	unsigned levels = geo_candidates(c, n, best);

	*top = levels ? best[31 - __builtin_clz(levels)] : POL_NONE;
	while (levels) {
		uint32_t mi = best[31 - __builtin_clz(levels)];

		if (eval ? eval_if_up(c, mi) : member_up(c, mi))
			return mi;
		if (!(n->flags & POL_NODE_FALLBACK))
			break;
		levels &= ~(1u << (31 - __builtin_clz(levels)));
	}
	return POL_NONE;
}

static bool geo_up(struct ectx *c, const struct pol_cnode *n)
{
	uint32_t top;

	return geo_choice(c, n, false, &top) != POL_NONE;
}

static bool eval_geolocation(struct ectx *c, const struct pol_cnode *n)
{
	uint32_t top;

	if (n->flags & POL_CNODE_CLIENT)
		depends(c, c->in->geo_prefix);
	if (geo_choice(c, n, true, &top) != POL_NONE)
		return true;
	if (top != POL_NONE && (n->flags & POL_NODE_FAIL_OPEN)) {
		c->out->flags |= POLICY_FAIL_OPEN;
		eval_member(c, top);
	}
	return false;
}

/* ---- closest: latency and geoproximity ------------------------------------- */

static double member_cost(const struct ectx *c, const struct pol_cnode *n, uint32_t mi,
			  const double cv[3])
{
	const struct pol_member *m;

	if (n->kind == POL_LATENCY) {
		const struct policy_input *in = c->in;
		uint32_t region = c->mem[mi].aux;
		return in->latency && region < in->nlatency ? (double)in->latency[region] :
		       (double)POLICY_NO_LATENCY;
	}
	if (!cv)
		return 0;   /* unknown client position: list order decides */
	m = &c->p->mem[c->mem_base + mi];
	double dot = (m->vec[0] * cv[0] + m->vec[1] * cv[1] + m->vec[2] * cv[2]) / (1 << 30);
	dot = dot > 1 ? 1 : dot < -1 ? -1 : dot;
	return policy_biased_km(acos(dot) * EARTH_KM, m->bias);
}

/* The member with the lowest cost among the healthy ones (all of them when
 * all_members), earliest on ties; POL_NONE if none is healthy. */
static uint32_t closest(struct ectx *c, const struct pol_cnode *n, const double *cv,
			bool all_members)
{
	uint32_t best = POL_NONE;
	double best_cost = 0;

	for (uint32_t mi = n->first; mi < (uint32_t)n->first + n->count; mi++) {
		double cost;
		if (!all_members && !member_up(c, mi))
			continue;
		cost = member_cost(c, n, mi, cv);
		if (best == POL_NONE || cost < best_cost) {
			best = mi;
			best_cost = cost;
		}
	}
	return best;
}

static bool eval_closest(struct ectx *c, const struct pol_cnode *n)
{
	const struct policy_input *in = c->in;
	double cv[3], *cvp = NULL;
	uint32_t mi;
	bool up;

	if (n->kind == POL_LATENCY) {
		depends(c, in->latency_prefix);
	} else {
		depends(c, in->coords_prefix);
		if (in->has_coords && isfinite(in->lat) && isfinite(in->lon)) {
			double la = in->lat * M_PI / 180, lo = in->lon * M_PI / 180;
			cv[0] = cos(la) * cos(lo);
			cv[1] = cos(la) * sin(lo);
			cv[2] = sin(la);
			cvp = cv;
		}
	}
	mi = closest(c, n, cvp, false);
	up = mi != POL_NONE;
	if (!up && (n->flags & POL_NODE_FAIL_OPEN)) {
		c->out->flags |= POLICY_FAIL_OPEN;
		mi = closest(c, n, cvp, true);
	}
	if (mi != POL_NONE)
		eval_member(c, mi);
	return up;
}

/* ---- weighted --------------------------------------------------------------- */

/* A weighted policy's members carry their running total of weights
 * (policy_compact.c): a member's own weight is the step from the one
 * before. */
static uint64_t weight_of(const struct ectx *c, const struct pol_cnode *n, uint32_t mi)
{
	return c->mem[mi].aux - (mi > n->first ? c->mem[mi - 1].aux : 0);
}

/* Who may be drawn: the healthy members with a weight, else the healthy
 * ones without (equally likely), else (fail open) the same over everyone. */
enum pool { POOL_UP_WEIGHTED, POOL_UP_ZERO, POOL_ALL_WEIGHTED, POOL_ALL_ZERO, POOL_NONE };

static bool in_pool(struct ectx *c, const struct pol_cnode *n, uint32_t mi, enum pool pool)
{
	bool zero = weight_of(c, n, mi) == 0;

	if (zero != (pool == POOL_UP_ZERO || pool == POOL_ALL_ZERO))
		return false;
	return pool >= POOL_ALL_WEIGHTED || member_up(c, mi);
}

static uint64_t pool_weight(const struct ectx *c, const struct pol_cnode *n, uint32_t mi,
			    enum pool pool)
{
	return pool == POOL_UP_ZERO || pool == POOL_ALL_ZERO ? 1 : weight_of(c, n, mi);
}

static enum pool choose_pool(struct ectx *c, const struct pol_cnode *n)
{
	for (enum pool pool = POOL_UP_WEIGHTED; pool < POOL_NONE; pool++) {
		if (pool == POOL_ALL_WEIGHTED && !(n->flags & POL_NODE_FAIL_OPEN))
			return POOL_NONE;
		for (uint32_t mi = n->first; mi < (uint32_t)n->first + n->count; mi++)
			if (in_pool(c, n, mi, pool)) {
				if (pool >= POOL_ALL_WEIGHTED)
					c->out->flags |= POLICY_FAIL_OPEN;
				return pool;
			}
	}
	return POOL_NONE;
}

static bool taken(const uint32_t *chosen, uint32_t k, uint32_t mi)
{
	for (uint32_t i = 0; i < k; i++)
		if (chosen[i] == mi)
			return true;
	return false;
}

/* Draw pick members without replacement, each with probability
 * proportional to its weight among those not drawn yet. */
static bool eval_weighted_any(struct ectx *c, const struct pol_cnode *n)
{
	enum pool pool = choose_pool(c, n);
	uint32_t chosen[POLICY_MAX_ANSWER], k = 0, end = (uint32_t)n->first + n->count;

	while (pool != POOL_NONE && k < n->pick) {
		uint64_t total = 0, r;
		uint32_t mi;
		for (mi = n->first; mi < end; mi++)
			if (!taken(chosen, k, mi) && in_pool(c, n, mi, pool))
				total += pool_weight(c, n, mi, pool);
		if (total == 0)
			break;
		r = below(c, total);
		for (mi = n->first; mi < end; mi++) {
			uint64_t w;
			if (taken(chosen, k, mi) || !in_pool(c, n, mi, pool))
				continue;
			if (r < (w = pool_weight(c, n, mi, pool)))
				break;
			r -= w;
		}
		chosen[k++] = mi;
	}
	for (uint32_t i = 0; i < k; i++)
		eval_member(c, chosen[i]);
	return pool < POOL_ALL_WEIGHTED;
}

/* The healthy members as bits (members [first, first + 64) at most); an
 * endpoint's is its check's, asked here without a call. */
static uint64_t up_bits(struct ectx *c, const struct pol_cnode *n)
{
	uint64_t up = 0;

	for (uint32_t j = 0; j < n->count; j++) {
		const struct pol_cmem *m = &c->mem[n->first + j];
		bool u = m->ref & POL_CREF_NODE ? member_up(c, n->first + j) : check_up(c, m->check);

		up |= (uint64_t)u << j;
	}
	return up;
}

/* The members of weight 0 as bits. */
static uint64_t zero_bits(const struct ectx *c, const struct pol_cnode *n)
{
	uint64_t zero = 0;

	for (uint32_t j = 0; j < n->count; j++)
		zero |= (uint64_t)(weight_of(c, n, n->first + j) == 0) << j;
	return zero;
}

/* The pool as member bits: what choose_pool picks given the healthy
 * members up; *unit when the pool's members all weigh 1 (the weight-0
 * pools). */
static uint64_t pool_bits(struct ectx *c, const struct pol_cnode *n, uint64_t up, uint64_t zero,
			  bool *unit)
{
	uint64_t all = n->count == 64 ? ~0ull : (1ull << n->count) - 1;

	*unit = false;
	if (up & ~zero)
		return up & ~zero;
	*unit = true;
	if (up & zero)
		return up & zero;
	if (!(n->flags & POL_NODE_FAIL_OPEN))
		return 0;
	c->out->flags |= POLICY_FAIL_OPEN;
	*unit = !(all & ~zero);
	return *unit ? all : all & ~zero;
}

/* One draw from the pool (member bits): the first member whose running
 * weight exceeds a uniform number below the total, as eval_weighted_any
 * walks them, without a branch on the number (it is random: every such
 * branch would be mispredicted half the time). */
static uint32_t draw(struct ectx *c, const struct pol_cnode *n, uint64_t pool, bool unit)
{
	uint64_t total = 0, r, run = 0;
	uint32_t j = 0;
	bool found = false;

	for (uint64_t b = pool; b; b &= b - 1)
		total += unit ? 1 : weight_of(c, n, n->first + (uint32_t)__builtin_ctzll(b));
	r = below(c, total);
	for (uint64_t b = pool; b; b &= b - 1) {
		uint32_t k = (uint32_t)__builtin_ctzll(b);
		bool hit;

		run += unit ? 1 : weight_of(c, n, n->first + k);
		hit = !found & (r < run);
		j = hit ? k : j;
		found |= hit;
	}
	return j;
}

/* draw() when the pool is every member with a weight (all of them up,
 * the usual case): the running totals are the members' own, so the
 * member drawn is the number of them not above the random number. */
static uint32_t draw_full(struct ectx *c, const struct pol_cnode *n)
{
	const struct pol_cmem *m = c->mem + n->first;
	uint64_t r = below(c, m[n->count - 1].aux);
	uint32_t j = 0;

	for (uint32_t k = 0; k < n->count; k++)
		j += m[k].aux <= r;
	return j;
}

/* eval_weighted_any for the usual sizes: the same draws from the same
 * random numbers, with the pool kept as bits. */
static bool eval_weighted(struct ectx *c, const struct pol_cnode *n)
{
	uint32_t chosen[POLICY_MAX_ANSWER], k = 0;
	uint64_t up, zero, pool, all;
	bool unit;

	if (n->count > 64)
		return eval_weighted_any(c, n);
	all = n->count == 64 ? ~0ull : (1ull << n->count) - 1;
	up = up_bits(c, n);
	zero = zero_bits(c, n);
	pool = pool_bits(c, n, up, zero, &unit);
	while (pool && k < n->pick) {
		uint32_t j = !unit && pool == (all & ~zero) ? draw_full(c, n) : draw(c, n, pool, unit);

		chosen[k++] = n->first + j;
		pool &= ~(1ull << j);
	}
	for (uint32_t i = 0; i < k; i++)
		eval_member(c, chosen[i]);
	return up != 0;
}

/* ---- simple, multivalue, failover ------------------------------------------ */

static void rotate(uint32_t *v, uint32_t n, uint32_t by)
{
	uint32_t tmp[POLICY_MAX_ANSWER];

	if (n < 2 || !(by %= n))
		return;
	memcpy(tmp, v, by * sizeof(*v));
	memmove(v, v + by, (n - by) * sizeof(*v));
	memcpy(v + n - by, tmp, by * sizeof(*v));
}

/* Whether member j of n is up: from the bits when n has at most 64
 * members (each asked once), else asked again. */
static bool up_at(struct ectx *c, const struct pol_cnode *n, uint64_t bits, uint32_t j)
{
	return n->count <= 64 ? (bits >> j) & 1 : member_up(c, n->first + j);
}

/* Simple: every healthy member, the answer rotated per query. Multivalue:
 * up to pick healthy members, the window starting at a rotating one. */
static bool eval_all(struct ectx *c, const struct pol_cnode *n)
{
	uint32_t up = 0, start = c->out->n, limit, first = 0, k = 0;
	uint64_t bits = 0;
	bool everyone = false;

	if (n->count <= 64)
		up = (uint32_t)__builtin_popcountll(bits = up_bits(c, n));
	else
		for (uint32_t j = 0; j < n->count; j++)
			up += member_up(c, n->first + j);
	if (up == 0) {
		if (!(n->flags & POL_NODE_FAIL_OPEN))
			return false;
		c->out->flags |= POLICY_FAIL_OPEN;
		everyone = true;
		up = n->count;
	}
	limit = n->kind == POL_MULTIVALUE ? n->pick : up;
	if (n->kind == POL_MULTIVALUE)
		first = (uint32_t)(c->in->rotation % up);
	for (uint32_t pass = 0; pass < 2; pass++) {
		uint32_t u = 0;
		for (uint32_t j = 0; j < n->count && k < limit; j++) {
			if (!everyone && !up_at(c, n, bits, j))
				continue;
			if (pass == 0 ? u >= first : u < first) {
				eval_member(c, n->first + j);
				k++;
			}
			u++;
		}
	}
	if (n->kind == POL_SIMPLE)
		rotate(c->out->ep + start, c->out->n - start,
		       (uint32_t)(c->in->rotation % (c->out->n - start ? c->out->n - start : 1)));
	return !everyone;
}

static bool eval_failover(struct ectx *c, const struct pol_cnode *n)
{
	uint32_t lr = (uint32_t)n->first + n->count;

	for (uint32_t mi = n->first; mi < lr; mi++)
		if (eval_if_up(c, mi))
			return true;
	if (n->lr_count) {
		c->out->flags |= POLICY_LAST_RESORT;
		for (uint32_t mi = lr; mi < lr + n->lr_count; mi++)
			eval_member(c, mi);
	} else if (n->flags & POL_NODE_FAIL_OPEN) {
		c->out->flags |= POLICY_FAIL_OPEN;
		eval_member(c, n->first);
	}
	return false;
}

/* ---- chains ----------------------------------------------------------------- */

/* A chain (POL_CNODE_CHAIN) whose checks are all up answers what the walk
 * would (eval_failover takes the first member, eval_weighted then draws
 * with draw_full from the same random number), without the walk. False,
 * with nothing changed, when a check on the way is down: the walk decides
 * then. */
static bool eval_chain(struct ectx *c, const struct pol_cnode *n)
{
	const struct pol_cmem *m;
	bool up = true;

	while (n->kind == POL_FAILOVER) {
		m = &c->mem[n->first];
		if (!check_up(c, m->check))
			return false;
		if (!(m->ref & POL_CREF_NODE)) {
			eval_member(c, n->first);
			return true;
		}
		n = &c->nodes[POL_CREF_INDEX(m->ref)];
	}
	m = &c->mem[n->first];
	for (uint32_t j = 0; j < n->count; j++)
		up &= check_up(c, m[j].check);
	if (!up)
		return false;
	eval_member(c, n->first + draw_full(c, n));
	return true;
}

/* ---- nodes ------------------------------------------------------------------ */

static bool node_up(struct ectx *c, uint32_t ni)
{
	const struct pol_cnode *n = &c->nodes[ni];

	if (n->kind == POL_GEOLOCATION)
		return geo_up(c, n);
	for (uint32_t mi = n->first; mi < (uint32_t)n->first + n->count; mi++)
		if (member_up(c, mi))
			return true;
	return false;
}

/* Evaluate node ni; true when it was up (node_up), false when it had
 * nothing healthy and answered its fallback, if any. */
static bool eval_node(struct ectx *c, uint32_t ni)
{
	const struct pol_cnode *n = &c->nodes[ni];

	if ((n->flags & POL_CNODE_CHAIN) && eval_chain(c, n))
		return true;
	switch (n->kind) {
	case POL_SIMPLE:
	case POL_MULTIVALUE:
		return eval_all(c, n);
	case POL_WEIGHTED:
		return eval_weighted(c, n);
	case POL_LATENCY:
	case POL_GEOPROXIMITY:
		return eval_closest(c, n);
	case POL_GEOLOCATION:
		return eval_geolocation(c, n);
	case POL_FAILOVER:
		return eval_failover(c, n);
	}
	return false;
}

static bool is_name(const struct pol_crec *r, uint32_t at)
{
	return policy_block_cep(r, at)->type == RRTYPE_CNAME;
}

/* A CNAME cannot share its owner with other data: a name first in the
 * selection is the whole answer, names later on are dropped. Then the
 * endpoints' places in the block become their indexes. */
static void finish(const struct pol_crec *r, struct policy_output *out)
{
	uint32_t k = 0;

	if (out->n && is_name(r, out->ep[0]))
		out->n = 1;
	for (uint32_t i = 0; i < out->n; i++)
		if (out->n == 1 || !is_name(r, out->ep[i]))
			out->at[k++] = out->ep[i];
	out->n = k;
	for (uint32_t i = 0; i < k; i++)
		out->ep[i] = policy_block_cep(r, out->at[i])->ep;
}

void policy_eval(const struct policy *p, uint32_t ri, const struct policy_input *in,
		 struct policy_output *out)
{
	struct ectx c = { .p = p, .in = in, .out = out, .rng = in->random };
	const struct pol_crec *r;

	out->n = 0;
	out->scope = 0;
	out->flags = 0;
	out->rec = NULL;
	if (ri >= p->h->nrecords)
		return;
	r = policy_block(p, ri);
	out->rec = (const uint8_t *)r;
	c.nodes = policy_block_nodes(r);
	c.mem = policy_block_members(r);
	c.mem_base = r->mem_base;
	c.health = in->health;
	c.nhealth = in->health ? in->nhealth : 0;
	eval_node(&c, 0);
	finish(r, out);
}

/* Answer q (no geolocation) if its checks are up. The health words are
 * read relaxed: each is a word of its own, and nothing read after it
 * depends on its being published first. */
static inline __attribute__((always_inline)) bool
quick_answer(const struct pol_quick *q, const struct policy_input *in, uint32_t nhealth,
	     struct policy_quick *out)
{
	const uint32_t *check = (const uint32_t *)(q + 1);
	const uint8_t *health = in->health;
	uint32_t nc = q->nchecks, nout = q->nout, j = 0;
	const struct pol_qout *o = (const struct pol_qout *)(check + nc);

	if (nc && check[0] < nhealth) {
		/* highest first (policy_compact.c): every word is there */
		unsigned up = 1;

		for (uint32_t i = 0; i < nc; i++)
			up &= __atomic_load_n(&health[check[i]], __ATOMIC_RELAXED) != 0;
		if (!up)
			return false;
	} else {
		for (uint32_t i = 0; i < nc; i++)
			if (check[i] < nhealth &&
			    !__atomic_load_n(&health[check[i]], __ATOMIC_RELAXED))
				return false;
	}
	if (q->draw) {
		/* draw_full's number: the first of the stream policy_eval
		 * starts from in->random */
		struct ectx c = { .rng = in->random };
		uint64_t v = below(&c, q->total);

		for (uint32_t k = 0; k < nout; k++)
			j += o[k].cum <= v;
	} else if (nout > 1) {
		j = (uint32_t)(in->rotation % nout);
	}
	out->wire = (const uint8_t *)q + o[j].at;
	out->len = o[j].len;
	out->count = o[j].count;
	return true;
}

/* A geolocation root: the first member of the most specific rule the
 * client matches (geo_candidates), answered if it is up. */
static bool quick_geo(const struct pol_quick *q, const struct policy_input *in,
		      uint32_t nhealth, struct policy_quick *out)
{
	const struct pol_qgeo *g = (const struct pol_qgeo *)(q + 1);
	uint32_t best = 0, level = 0;

	for (uint32_t i = 0; i < q->ngeo; i++) {
		bool hit = g[i].loc > level && (in->geo & pol_loc_mask[g[i].loc & 7]) == g[i].aux;

		best = hit ? i : best;
		level = hit ? g[i].loc : level;
	}
	if (!level || !g[best].at ||
	    !quick_answer((const struct pol_quick *)((const uint8_t *)q + g[best].at), in, nhealth,
			  out))
		return false;
	out->scope = q->draw ? in->geo_prefix : 0;
	return true;
}

bool policy_quick(const struct policy *p, uint32_t ri, const struct policy_input *in,
		  struct policy_quick *out)
{
	const struct pol_crec *r;
	const struct pol_quick *q;
	uint32_t nhealth = in->health ? in->nhealth : 0;

	if (ri >= p->h->nrecords)
		return false;
	r = policy_block(p, ri);
	if (!(r->flags & POL_CREC_QUICK))
		return false;
	q = (const struct pol_quick *)(r + 1);
	out->scope = 0;
	return q->ngeo ? quick_geo(q, in, nhealth, out) : quick_answer(q, in, nhealth, out);
}

double policy_distance_km(double lat1, double lon1, double lat2, double lon2)
{
	double p1 = lat1 * M_PI / 180, p2 = lat2 * M_PI / 180;
	double dp = p2 - p1, dl = (lon2 - lon1) * M_PI / 180;
	double a = sin(dp / 2) * sin(dp / 2) + cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2);

	return 2 * EARTH_KM * asin(sqrt(a > 1 ? 1 : a));
}

/* Route 53's rule: a positive bias shrinks the distance by bias percent, a
 * negative one divides it by (1 - |bias|/100), so +50 halves it and -50
 * doubles it. */
double policy_biased_km(double km, int bias)
{
	if (bias > 0)
		return km * (1 - bias / 100.0);
	if (bias < 0)
		return km / (1 + bias / 100.0);
	return km;
}
