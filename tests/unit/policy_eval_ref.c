/*
 * policy_eval_ref.c — the evaluation as policy_eval did it before the
 * compact form (policy_format.h): a tree walk over the blob's own tables.
 * Tests only: the oracle that policy_eval must agree with, answer for
 * answer (test_policy_eval.c).
 *
 * No allocation, lock, log or system call. Work is bounded by the record's
 * tree (policy_open checked it is a tree of at most POLICY_MAX_TREE
 * members and POLICY_MAX_DEPTH levels). Randomness comes only from the
 * caller's 64-bit number, stretched with splitmix64, so that the result is
 * a function of the input (tests replay it).
 */
#include <math.h>
#include <string.h>

#include "geo.h"
#include "policy.h"
#include "policy_eval_ref.h"
#include "policy_format.h"
#include "rdata.h"

#define EARTH_KM 6371.0

struct ectx {
	const struct policy *p;
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

static bool check_up(const struct ectx *c, uint32_t check)
{
	if (check == POL_NONE || !c->in->health || check >= c->in->nhealth)
		return true;
	return __atomic_load_n(&c->in->health[check], __ATOMIC_ACQUIRE) != 0;
}

static bool node_up(struct ectx *c, uint32_t ni);
static void eval_node(struct ectx *c, uint32_t ni);

/* A member is up when its own check is and, for a nested policy, when
 * that policy has something healthy to answer for this client. */
static bool member_up(struct ectx *c, uint32_t mi)
{
	const struct pol_member *m = &c->p->mem[mi];

	if (!check_up(c, m->check))
		return false;
	return m->kind == POL_MEM_ENDPOINT || node_up(c, m->target);
}

static void eval_member(struct ectx *c, uint32_t mi)
{
	const struct pol_member *m = &c->p->mem[mi];

	if (m->kind == POL_MEM_NODE)
		eval_node(c, m->target);
	else if (c->out->n < POLICY_MAX_ANSWER)
		c->out->ep[c->out->n++] = m->target;
}

/* ---- geolocation ---------------------------------------------------------- */

/* The member's location as a packed code (as policy_open computes it). */
static uint32_t member_loc(const struct pol_member *m)
{
	char a[3] = { 0 }, b[3] = { 0 }, s[4] = { 0 };
	uint32_t code = GEO_LOC_NONE;

	if (m->loc_kind == POL_LOC_CONTINENT) {
		memcpy(a, m->loc, 2);
	} else if (m->loc_kind == POL_LOC_COUNTRY || m->loc_kind == POL_LOC_SUBDIVISION) {
		memcpy(b, m->loc, 2);
		memcpy(s, m->loc + 2, 3);
	} else {
		return GEO_LOC_NONE;
	}
	return geo_loc_pack(a, b, s, &code) < 0 ? GEO_LOC_NONE : code;
}

/* Whether the client's location code matches member mi's rule: only the
 * rule's level is compared (and the levels it depends on). */
static bool loc_matches(const struct ectx *c, uint32_t mi)
{
	uint32_t g = c->in->geo, m = member_loc(&c->p->mem[mi]);

	switch (c->p->mem[mi].loc_kind) {
	case POL_LOC_DEFAULT:
		return true;
	case POL_LOC_CONTINENT:
		return GEO_LOC_CONTINENT(g) && GEO_LOC_CONTINENT(g) == GEO_LOC_CONTINENT(m);
	case POL_LOC_COUNTRY:
		return GEO_LOC_COUNTRY(g) && GEO_LOC_COUNTRY(g) == GEO_LOC_COUNTRY(m);
	case POL_LOC_SUBDIVISION:
		return GEO_LOC_SUBDIV(g) && GEO_LOC_COUNTRY(g) &&
		       GEO_LOC_COUNTRY_SUBDIV(g) == GEO_LOC_COUNTRY_SUBDIV(m);
	}
	return false;
}

/* The matching member of each level (POL_LOC_DEFAULT .. _SUBDIVISION),
 * POL_NONE where none matches. */
static void geo_candidates(const struct ectx *c, const struct pol_node *n, uint32_t best[5])
{
	for (int l = 0; l < 5; l++)
		best[l] = POL_NONE;
	for (uint32_t mi = n->first; mi < n->first + n->count; mi++) {
		const struct pol_member *m = &c->p->mem[mi];
		if (best[m->loc_kind] == POL_NONE && loc_matches(c, mi))
			best[m->loc_kind] = mi;
	}
}

/* The member to answer with: the most specific healthy match (only the most
 * specific one without fallback); *top is the most specific match. */
static uint32_t geo_choice(struct ectx *c, const struct pol_node *n, uint32_t *top)
{
	uint32_t best[5];

	geo_candidates(c, n, best);
	*top = POL_NONE;
	for (int l = POL_LOC_SUBDIVISION; l >= POL_LOC_DEFAULT; l--) {
		if (best[l] == POL_NONE)
			continue;
		if (*top == POL_NONE)
			*top = best[l];
		if (member_up(c, best[l]))
			return best[l];
		if (!(n->flags & POL_NODE_FALLBACK))
			break;
	}
	return POL_NONE;
}

static bool geo_client_dependent(const struct ectx *c, const struct pol_node *n)
{
	for (uint32_t mi = n->first; mi < n->first + n->count; mi++)
		if (c->p->mem[mi].loc_kind != POL_LOC_DEFAULT)
			return true;
	return false;
}

static void eval_geolocation(struct ectx *c, const struct pol_node *n)
{
	uint32_t top, mi = geo_choice(c, n, &top);

	if (geo_client_dependent(c, n))
		depends(c, c->in->geo_prefix);
	if (mi == POL_NONE && top != POL_NONE && (n->flags & POL_NODE_FAIL_OPEN)) {
		c->out->flags |= POLICY_FAIL_OPEN;
		mi = top;
	}
	if (mi != POL_NONE)
		eval_member(c, mi);
}

/* ---- closest: latency and geoproximity ------------------------------------- */

static double member_cost(const struct ectx *c, const struct pol_node *n,
			  const struct pol_member *m, const double cv[3])
{
	if (n->kind == POL_LATENCY) {
		const struct policy_input *in = c->in;
		return in->latency && m->region < in->nlatency ? (double)in->latency[m->region] :
		       (double)POLICY_NO_LATENCY;
	}
	if (!cv)
		return 0;   /* unknown client position: list order decides */
	double dot = (m->vec[0] * cv[0] + m->vec[1] * cv[1] + m->vec[2] * cv[2]) / (1 << 30);
	dot = dot > 1 ? 1 : dot < -1 ? -1 : dot;
	return policy_biased_km(acos(dot) * EARTH_KM, m->bias);
}

/* The member with the lowest cost among the healthy ones (all of them when
 * all_members), earliest on ties; POL_NONE if none is healthy. */
static uint32_t closest(struct ectx *c, const struct pol_node *n, const double *cv,
			bool all_members)
{
	uint32_t best = POL_NONE;
	double best_cost = 0;

	for (uint32_t mi = n->first; mi < n->first + n->count; mi++) {
		double cost;
		if (!all_members && !member_up(c, mi))
			continue;
		cost = member_cost(c, n, &c->p->mem[mi], cv);
		if (best == POL_NONE || cost < best_cost) {
			best = mi;
			best_cost = cost;
		}
	}
	return best;
}

static void eval_closest(struct ectx *c, const struct pol_node *n)
{
	const struct policy_input *in = c->in;
	double cv[3], *cvp = NULL;
	uint32_t mi;

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
	if (mi == POL_NONE && (n->flags & POL_NODE_FAIL_OPEN)) {
		c->out->flags |= POLICY_FAIL_OPEN;
		mi = closest(c, n, cvp, true);
	}
	if (mi != POL_NONE)
		eval_member(c, mi);
}

/* ---- weighted --------------------------------------------------------------- */

/* Who may be drawn: the healthy members with a weight, else the healthy
 * ones without (equally likely), else (fail open) the same over everyone. */
enum pool { POOL_UP_WEIGHTED, POOL_UP_ZERO, POOL_ALL_WEIGHTED, POOL_ALL_ZERO, POOL_NONE };

static bool in_pool(struct ectx *c, uint32_t mi, enum pool pool)
{
	bool zero = c->p->mem[mi].weight == 0;

	if (zero != (pool == POOL_UP_ZERO || pool == POOL_ALL_ZERO))
		return false;
	return pool >= POOL_ALL_WEIGHTED || member_up(c, mi);
}

static uint64_t pool_weight(const struct ectx *c, uint32_t mi, enum pool pool)
{
	return pool == POOL_UP_ZERO || pool == POOL_ALL_ZERO ? 1 : c->p->mem[mi].weight;
}

static enum pool choose_pool(struct ectx *c, const struct pol_node *n)
{
	for (enum pool pool = POOL_UP_WEIGHTED; pool < POOL_NONE; pool++) {
		if (pool == POOL_ALL_WEIGHTED && !(n->flags & POL_NODE_FAIL_OPEN))
			return POOL_NONE;
		for (uint32_t mi = n->first; mi < n->first + n->count; mi++)
			if (in_pool(c, mi, pool)) {
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
static void eval_weighted_any(struct ectx *c, const struct pol_node *n)
{
	enum pool pool = choose_pool(c, n);
	uint32_t chosen[POLICY_MAX_ANSWER], k = 0;

	while (pool != POOL_NONE && k < n->pick) {
		uint64_t total = 0, r;
		uint32_t mi;
		for (mi = n->first; mi < n->first + n->count; mi++)
			if (!taken(chosen, k, mi) && in_pool(c, mi, pool))
				total += pool_weight(c, mi, pool);
		if (total == 0)
			break;
		r = below(c, total);
		for (mi = n->first; mi < n->first + n->count; mi++) {
			uint64_t w;
			if (taken(chosen, k, mi) || !in_pool(c, mi, pool))
				continue;
			if (r < (w = pool_weight(c, mi, pool)))
				break;
			r -= w;
		}
		chosen[k++] = mi;
	}
	for (uint32_t i = 0; i < k; i++)
		eval_member(c, chosen[i]);
}

/* The pool as member bits (members [first, first + 64) at most): what
 * choose_pool picks, each member's health asked once; *unit when the
 * pool's members all weigh 1 (the weight-0 pools). */
static uint64_t pool_bits(struct ectx *c, const struct pol_node *n, bool *unit)
{
	uint64_t up = 0, zero = 0, all = n->count == 64 ? ~0ull : (1ull << n->count) - 1;

	for (uint32_t j = 0; j < n->count; j++) {
		zero |= (uint64_t)(c->p->mem[n->first + j].weight == 0) << j;
		up |= (uint64_t)member_up(c, n->first + j) << j;
	}
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

/* eval_weighted_any for the usual sizes: the same draws from the same
 * random numbers, with the pool kept as bits. */
static void eval_weighted(struct ectx *c, const struct pol_node *n)
{
	uint32_t chosen[POLICY_MAX_ANSWER], k = 0, j = 0;
	bool unit;
	uint64_t pool;

	if (n->count > 64) {
		eval_weighted_any(c, n);
		return;
	}
	pool = pool_bits(c, n, &unit);
	while (pool && k < n->pick) {
		uint64_t total = 0, r;

		for (uint64_t m = pool; m; m &= m - 1)
			total += unit ? 1 : c->p->mem[n->first + __builtin_ctzll(m)].weight;
		r = below(c, total);
		for (uint64_t m = pool; m; m &= m - 1) {
			uint64_t w;

			j = (uint32_t)__builtin_ctzll(m);
			w = unit ? 1 : c->p->mem[n->first + j].weight;
			if (r < w)
				break;
			r -= w;
		}
		chosen[k++] = n->first + j;
		pool &= ~(1ull << j);
	}
	for (uint32_t i = 0; i < k; i++)
		eval_member(c, chosen[i]);
}

/* ---- simple, multivalue, failover ------------------------------------------ */

static uint32_t count_up(struct ectx *c, const struct pol_node *n)
{
	uint32_t k = 0;

	for (uint32_t mi = n->first; mi < n->first + n->count; mi++)
		k += member_up(c, mi);
	return k;
}

static void rotate(uint32_t *v, uint32_t n, uint32_t by)
{
	uint32_t tmp[POLICY_MAX_ANSWER];

	if (n < 2 || !(by %= n))
		return;
	memcpy(tmp, v, by * sizeof(*v));
	memmove(v, v + by, (n - by) * sizeof(*v));
	memcpy(v + n - by, tmp, by * sizeof(*v));
}

/* Simple: every healthy member, the answer rotated per query. Multivalue:
 * up to pick healthy members, the window starting at a rotating one. */
static void eval_all(struct ectx *c, const struct pol_node *n)
{
	uint32_t up = count_up(c, n), start = c->out->n, limit, first = 0, k = 0;
	bool everyone = false;

	if (up == 0) {
		if (!(n->flags & POL_NODE_FAIL_OPEN))
			return;
		c->out->flags |= POLICY_FAIL_OPEN;
		everyone = true;
		up = n->count;
	}
	limit = n->kind == POL_MULTIVALUE ? n->pick : up;
	if (n->kind == POL_MULTIVALUE)
		first = (uint32_t)(c->in->rotation % up);
	for (uint32_t pass = 0; pass < 2; pass++) {
		uint32_t u = 0;
		for (uint32_t mi = n->first; mi < n->first + n->count && k < limit; mi++) {
			if (!everyone && !member_up(c, mi))
				continue;
			if (pass == 0 ? u >= first : u < first) {
				eval_member(c, mi);
				k++;
			}
			u++;
		}
	}
	if (n->kind == POL_SIMPLE)
		rotate(c->out->ep + start, c->out->n - start,
		       (uint32_t)(c->in->rotation % (c->out->n - start ? c->out->n - start : 1)));
}

static void eval_failover(struct ectx *c, const struct pol_node *n)
{
	for (uint32_t mi = n->first; mi < n->first + n->count; mi++) {
		if (member_up(c, mi)) {
			eval_member(c, mi);
			return;
		}
	}
	if (n->lr_count) {
		c->out->flags |= POLICY_LAST_RESORT;
		for (uint32_t mi = n->lr_first; mi < n->lr_first + n->lr_count; mi++)
			eval_member(c, mi);
	} else if (n->flags & POL_NODE_FAIL_OPEN) {
		c->out->flags |= POLICY_FAIL_OPEN;
		eval_member(c, n->first);
	}
}

/* ---- nodes ------------------------------------------------------------------ */

static bool node_up(struct ectx *c, uint32_t ni)
{
	const struct pol_node *n = &c->p->nodes[ni];
	uint32_t top;

	if (n->kind == POL_GEOLOCATION)
		return geo_choice(c, n, &top) != POL_NONE;
	for (uint32_t mi = n->first; mi < n->first + n->count; mi++)
		if (member_up(c, mi))
			return true;
	return false;
}

static void eval_node(struct ectx *c, uint32_t ni)
{
	const struct pol_node *n = &c->p->nodes[ni];

	switch (n->kind) {
	case POL_SIMPLE:
	case POL_MULTIVALUE:
		eval_all(c, n);
		break;
	case POL_WEIGHTED:
		eval_weighted(c, n);
		break;
	case POL_LATENCY:
	case POL_GEOPROXIMITY:
		eval_closest(c, n);
		break;
	case POL_GEOLOCATION:
		eval_geolocation(c, n);
		break;
	case POL_FAILOVER:
		eval_failover(c, n);
		break;
	}
}

/* A CNAME cannot share its owner with other data: a name first in the
 * selection is the whole answer, names later on are dropped. */
static void cname_alone(const struct policy *p, struct policy_output *out)
{
	uint32_t k = 0;

	if (out->n && p->eps[out->ep[0]].type == RRTYPE_CNAME) {
		out->n = 1;
		return;
	}
	for (uint32_t i = 0; i < out->n; i++)
		if (p->eps[out->ep[i]].type != RRTYPE_CNAME)
			out->ep[k++] = out->ep[i];
	out->n = k;
}

void policy_eval_reference(const struct policy *p, uint32_t ri, const struct policy_input *in,
		 struct policy_output *out)
{
	struct ectx c = { .p = p, .in = in, .out = out, .rng = in->random };

	out->n = 0;
	out->scope = 0;
	out->flags = 0;
	if (ri >= p->h->nrecords)
		return;
	eval_node(&c, p->recs[ri].root);
	cname_alone(p, out);
}

