/*
 * policy_sig_enum.c — every answer a policy record can give.
 *
 * The walk mirrors policy_eval (policy_eval.c) kind by kind, but over all
 * inputs at once: a member whose health can change (it has a check, or it
 * is a nested policy that can be down) may be in or out; location,
 * latency and random draws may pick any member they could pick. A
 * family is a set of endpoint sets; a node's family is built from its
 * members' by union (one member answers) or by product (several answer
 * together). Where following policy_eval exactly would cost more than it
 * saves, the family is a little larger than what can happen: an extra
 * signature is harmless, a missing one would make a validator reject an
 * answer.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "policy.h"
#include "policy_format.h"
#include "policy_sig.h"
#include "policy_sig_format.h"
#include "rdata.h"
#include "slots.h"

/* Pairs a product may form before duplicates are dropped. */
#define PRODUCT_MAX  (1u << 22)

struct eset {
	uint32_t n;
	uint32_t *v;             /* sorted, no repeats */
};

struct fam {
	struct eset *s;
	uint32_t n, cap;
	struct slots ix;
};

static void fam_free(struct fam *f)
{
	for (uint32_t i = 0; i < f->n; i++)
		free(f->s[i].v);
	free(f->s);
	slots_free(&f->ix);
	memset(f, 0, sizeof(*f));
}

static uint32_t eset_hash(const void *arg, uint32_t i)
{
	const struct eset *e = &((const struct fam *)arg)->s[i];

	return (uint32_t)psig_hash(e->v, e->n);
}

/* Twice the capacity, and slots for twice that (load at most one half). */
static int fam_grow(struct fam *f)
{
	uint32_t cap = f->cap ? f->cap * 2 : 8;
	struct eset *s = realloc(f->s, cap * sizeof(*s));

	if (!s)
		return P53_ENOMEM;
	f->s = s;
	if (slots_rebuild(&f->ix, cap * 2, f->n, eset_hash, f) < 0)
		return P53_ENOMEM;
	f->cap = cap;
	return 0;
}

/* Add a copy of v (sorted, n entries) unless the family has it. */
static int fam_add(struct fam *f, const uint32_t *v, uint32_t n)
{
	uint32_t pos, *copy;
	int err;

	if (f->n == f->cap && (err = fam_grow(f)) < 0)
		return err;
	for (pos = slots_first(&f->ix, (uint32_t)psig_hash(v, n)); f->ix.slot[pos];
	     pos = slots_next(&f->ix, pos)) {
		const struct eset *e = &f->s[f->ix.slot[pos] - 1];
		if (e->n == n && (!n || !memcmp(e->v, v, n * sizeof(*v))))
			return 0;
	}
	if (f->n == POLICY_SIG_MAX_SETS)
		return P53_ELIMIT;
	if (!(copy = malloc(n ? n * sizeof(*v) : 1)))
		return P53_ENOMEM;
	if (n)
		memcpy(copy, v, n * sizeof(*v));
	f->s[f->n] = (struct eset){ n, copy };
	f->ix.slot[pos] = ++f->n;
	return 0;
}

static int fam_union(struct fam *dst, const struct fam *src)
{
	int err = 0;

	for (uint32_t i = 0; i < src->n && !err; i++)
		err = fam_add(dst, src->s[i].v, src->s[i].n);
	return err;
}

/* The union of two sorted sets into out (room for a->n + b->n). */
static uint32_t merge(const struct eset *a, const struct eset *b, uint32_t *out)
{
	uint32_t i = 0, j = 0, k = 0;

	while (i < a->n || j < b->n) {
		if (j == b->n || (i < a->n && a->v[i] < b->v[j]))
			out[k++] = a->v[i++];
		else if (i == a->n || b->v[j] < a->v[i])
			out[k++] = b->v[j++];
		else
			out[k++] = a->v[i++], j++;
	}
	return k;
}

/* *acc = { x | y : x in *acc, y in b }. */
static int fam_product(struct fam *acc, const struct fam *b)
{
	struct fam out = { 0 };
	uint32_t *tmp = NULL;
	int err = 0;

	if ((uint64_t)acc->n * b->n > PRODUCT_MAX)
		return P53_ELIMIT;
	for (uint32_t i = 0; i < acc->n && !err; i++) {
		for (uint32_t j = 0; j < b->n && !err; j++) {
			uint32_t *t = realloc(tmp, ((size_t)acc->s[i].n + b->s[j].n + 1) *
					      sizeof(*t));
			if (!t) {
				err = P53_ENOMEM;
				break;
			}
			tmp = t;
			err = fam_add(&out, tmp, merge(&acc->s[i], &b->s[j], tmp));
		}
	}
	free(tmp);
	fam_free(acc);
	*acc = out;
	return err;
}

/* ---- the walk ------------------------------------------------------------ */

struct walk {
	const struct policy *p;
	struct fam *mem;          /* per member of the record's tree (index - lo):
				   * its family, computed once */
	uint8_t *done;            /* per member: mem[] filled */
	uint32_t lo;              /* the tree's first member index */
};

static bool node_can_down(const struct walk *w, uint32_t ni);

/* A member policy_eval may find down for some input. */
static bool member_can_down(const struct walk *w, uint32_t mi)
{
	const struct pol_member *m = &w->p->mem[mi];

	if (m->check != POL_NONE)
		return true;
	return m->kind == POL_MEM_NODE && node_can_down(w, m->target);
}

static bool has_default(const struct walk *w, const struct pol_node *n)
{
	for (uint32_t mi = n->first; mi < n->first + n->count; mi++)
		if (w->p->mem[mi].loc_kind == POL_LOC_DEFAULT)
			return true;
	return false;
}

/* node_up false for some input: every member down, or (geolocation) no
 * rule for the client or its most specific rule down. */
static bool node_can_down(const struct walk *w, uint32_t ni)
{
	const struct pol_node *n = &w->p->nodes[ni];
	bool any = false, all = true;

	for (uint32_t mi = n->first; mi < n->first + n->count; mi++) {
		bool d = member_can_down(w, mi);
		any |= d;
		all &= d;
	}
	if (n->kind == POL_GEOLOCATION)
		return !has_default(w, n) || any;
	return all;
}

static int node_family(struct walk *w, uint32_t ni, struct fam *out);

static int member_family(struct walk *w, uint32_t mi, const struct fam **out)
{
	const struct pol_member *m = &w->p->mem[mi];
	int err = 0;

	struct fam *f = &w->mem[mi - w->lo];

	if (!w->done[mi - w->lo]) {
		if (m->kind == POL_MEM_ENDPOINT)
			err = fam_add(f, &m->target, 1);
		else
			err = node_family(w, m->target, f);
		if (err < 0)
			return err;
		w->done[mi - w->lo] = 1;
	}
	*out = f;
	return 0;
}

/* Add to out the product of the families of members[0..k). */
static int add_together(struct walk *w, const uint32_t *members, uint32_t k, struct fam *out)
{
	struct fam acc = { 0 };
	int err = fam_add(&acc, NULL, 0);

	for (uint32_t i = 0; i < k && !err; i++) {
		const struct fam *f;
		if ((err = member_family(w, members[i], &f)) == 0)
			err = fam_product(&acc, f);
	}
	if (!err)
		err = fam_union(out, &acc);
	fam_free(&acc);
	return err;
}

/* ---- simple and multivalue ---- */

/* One healthy set H (members in order): what eval_all answers with it. */
static int all_answers(struct walk *w, const struct pol_node *n, const uint32_t *h,
		       uint32_t k, struct fam *out)
{
	uint32_t win[POLICY_MAX_MEMBERS], limit;
	int err = 0;

	if (n->kind != POL_MULTIVALUE)
		return add_together(w, h, k, out);
	/* a window of `pick` members starting at any of them, wrapping */
	limit = n->pick < k ? n->pick : k;
	for (uint32_t start = 0; start < k && !err; start++) {
		for (uint32_t i = 0; i < limit; i++)
			win[i] = h[(start + i) % k];
		err = add_together(w, win, limit, out);
		if (limit == k)
			break;
	}
	return err;
}

/* Healthy sets: the members that cannot be down plus any subset of those
 * that can (bit i of `mask` for optional member i). */
static int eval_all(struct walk *w, const struct pol_node *n, struct fam *out)
{
	uint32_t opt[POLICY_MAX_MEMBERS], h[POLICY_MAX_MEMBERS], nopt = 0;
	int err = 0;

	for (uint32_t mi = n->first; mi < n->first + n->count; mi++)
		if (member_can_down(w, mi))
			opt[nopt++] = mi;
	if (nopt > 12)
		return P53_ELIMIT;
	for (uint32_t mask = 0; mask < 1u << nopt && !err; mask++) {
		uint32_t k = 0, j = 0;
		for (uint32_t mi = n->first; mi < n->first + n->count; mi++) {
			bool optional = j < nopt && opt[j] == mi;
			if (!optional || (mask >> j & 1))
				h[k++] = mi;
			j += optional;
		}
		if (k == 0 && (n->flags & POL_NODE_FAIL_OPEN)) {
			for (uint32_t mi = n->first; mi < n->first + n->count; mi++)
				h[k++] = mi;
		}
		err = k ? all_answers(w, n, h, k, out) : fam_add(out, NULL, 0);
	}
	return err;
}

/* ---- weighted ---- */

struct draw {
	struct walk *w;
	const uint32_t *pool;     /* candidates, in member order */
	uint32_t npool, pick;
	const uint8_t *required;  /* per candidate: cannot be down */
	bool any_size;            /* fail open: the pool is all of them */
	uint32_t chosen[POLICY_MAX_ANSWER];
	struct fam *out;
};

/* A subset C of the candidates is a possible draw when it has `pick`
 * members (the pool held them and more), or fewer when C can be the
 * whole pool: it holds every member that cannot be down. Failing open,
 * the pool is every candidate. */
static int draw_ok(const struct draw *d, uint32_t k)
{
	uint32_t c = 0;

	if (k == 0)
		return 0;
	if (d->any_size)
		return k == (d->pick < d->npool ? d->pick : d->npool);
	if (k == d->pick)
		return 1;
	for (uint32_t i = 0; i < d->npool; i++) {
		if (!d->required[i])
			continue;
		while (c < k && d->chosen[c] < d->pool[i])
			c++;
		if (c == k || d->chosen[c] != d->pool[i])
			return 0;
	}
	return 1;
}

static int draws(struct draw *d, uint32_t from, uint32_t k)
{
	int err = 0;

	if (draw_ok(d, k) && (err = add_together(d->w, d->chosen, k, d->out)) < 0)
		return err;
	if (k == d->pick)
		return 0;
	for (uint32_t i = from; i < d->npool && !err; i++) {
		d->chosen[k] = d->pool[i];
		err = draws(d, i + 1, k + 1);
	}
	return err;
}

/* eval_weighted: the healthy weighted members, else the healthy ones of
 * weight 0, else (fail open) all weighted ones or all of weight 0. */
static int eval_weighted(struct walk *w, const struct pol_node *n, struct fam *out)
{
	uint32_t pool[2][POLICY_MAX_MEMBERS], np[2] = { 0, 0 };
	uint8_t req[2][POLICY_MAX_MEMBERS];
	bool all_down[2] = { true, true };
	uint32_t pick = n->pick < POLICY_MAX_ANSWER ? n->pick : POLICY_MAX_ANSWER;
	int err = 0;

	for (uint32_t mi = n->first; mi < n->first + n->count; mi++) {
		int z = w->p->mem[mi].weight == 0;
		bool d = member_can_down(w, mi);
		req[z][np[z]] = !d;
		pool[z][np[z]++] = mi;
		all_down[z] &= d;
	}
	for (int z = 0; z < 2 && !err; z++) {
		struct draw d = { .w = w, .pool = pool[z], .npool = np[z], .required = req[z],
				  .pick = pick, .out = out };
		if (z == 1 && np[0] && !all_down[0])
			break;     /* a weighted member is always up */
		err = draws(&d, 0, 0);
	}
	if (!err && all_down[0] && all_down[1]) {
		/* nobody up: fail open over one of the two groups, or nothing */
		if (n->flags & POL_NODE_FAIL_OPEN) {
			int z = np[0] ? 0 : 1;
			struct draw d = { .w = w, .pool = pool[z], .npool = np[z],
					  .required = req[z], .any_size = true,
					  .pick = pick, .out = out };
			err = draws(&d, 0, 0);
		} else {
			err = fam_add(out, NULL, 0);
		}
	}
	return err;
}

/* ---- one member answers ---- */

static int eval_failover(struct walk *w, const struct pol_node *n, struct fam *out)
{
	const struct fam *f;
	uint32_t lr[POLICY_MAX_ANSWER];
	int err = 0;

	for (uint32_t mi = n->first; mi < n->first + n->count; mi++) {
		if ((err = member_family(w, mi, &f)) < 0 || (err = fam_union(out, f)) < 0)
			return err;
		if (!member_can_down(w, mi))
			return 0;       /* the ones after it never answer */
	}
	if (n->lr_count) {
		for (uint32_t i = 0; i < n->lr_count && i < POLICY_MAX_ANSWER; i++)
			lr[i] = n->lr_first + i;
		return add_together(w, lr, n->lr_count < POLICY_MAX_ANSWER ? n->lr_count :
				    POLICY_MAX_ANSWER, out);
	}
	return n->flags & POL_NODE_FAIL_OPEN ? 0 : fam_add(out, NULL, 0);
}

/* Geolocation, latency, geoproximity: any member may be the one. */
static int eval_one_of(struct walk *w, const struct pol_node *n, struct fam *out)
{
	bool any = false, all = true, empty;
	const struct fam *f;
	int err;

	for (uint32_t mi = n->first; mi < n->first + n->count; mi++) {
		bool d = member_can_down(w, mi);
		any |= d;
		all &= d;
		if ((err = member_family(w, mi, &f)) < 0 || (err = fam_union(out, f)) < 0)
			return err;
	}
	if (n->kind == POL_GEOLOCATION)
		empty = !has_default(w, n) || (any && !(n->flags & POL_NODE_FAIL_OPEN));
	else
		empty = all && !(n->flags & POL_NODE_FAIL_OPEN);
	return empty ? fam_add(out, NULL, 0) : 0;
}

static int node_family(struct walk *w, uint32_t ni, struct fam *out)
{
	const struct pol_node *n = &w->p->nodes[ni];

	switch (n->kind) {
	case POL_SIMPLE:
	case POL_MULTIVALUE:
		return eval_all(w, n, out);
	case POL_WEIGHTED:
		return eval_weighted(w, n, out);
	case POL_FAILOVER:
		return eval_failover(w, n, out);
	default:
		return eval_one_of(w, n, out);
	}
}

/* policy_eval's cname_alone over a set: each name alone (it may come
 * first), and the rest without names. */
static int name_rule(const struct policy *p, const struct eset *e, struct fam *out)
{
	uint32_t rest[POLICY_SIG_MAX_SETS], k = 0;
	bool names = false;
	int err = 0;

	for (uint32_t i = 0; i < e->n && !err; i++) {
		struct policy_endpoint ep;
		policy_endpoint_get(p, e->v[i], &ep);
		if (ep.type == RRTYPE_CNAME) {
			names = true;
			err = fam_add(out, &e->v[i], 1);
		} else if (k < POLICY_SIG_MAX_SETS) {
			rest[k++] = e->v[i];
		}
	}
	if (!err && (k || !names))
		err = fam_add(out, rest, k);
	return err;
}

/* The members of record r's tree: [*lo, *hi) (policy_open checked that
 * its nodes' ranges, last resorts included, follow each other). */
static void tree_members(const struct policy *p, const struct pol_record *r, uint32_t *lo,
			 uint32_t *hi)
{
	*lo = UINT32_MAX;
	*hi = 0;
	for (uint32_t ni = r->root; ni < r->root + r->node_count; ni++) {
		const struct pol_node *n = &p->nodes[ni];
		uint32_t a = n->lr_count && n->lr_first < n->first ? n->lr_first : n->first;
		uint32_t b = n->lr_first + n->lr_count > n->first + n->count ?
			     n->lr_first + n->lr_count : n->first + n->count;
		*lo = a < *lo ? a : *lo;
		*hi = b > *hi ? b : *hi;
	}
	if (*lo > *hi)
		*lo = *hi;
}

int policy_sig_answers(const struct policy *p, uint32_t ri,
		       int (*fn)(void *arg, const uint32_t *eps, uint32_t n), void *arg)
{
	struct walk w = { .p = p };
	struct fam root = { 0 }, final = { 0 };
	uint32_t hi = 0;
	int err = P53_ENOMEM;

	if (ri >= p->h->nrecords)
		return P53_EINVAL;
	tree_members(p, &p->recs[ri], &w.lo, &hi);
	if (!(w.mem = calloc(hi - w.lo + 1, sizeof(*w.mem))) ||
	    !(w.done = calloc(hi - w.lo + 1, 1)))
		goto fail;
	if ((err = node_family(&w, p->recs[ri].root, &root)) < 0)
		goto fail;
	for (uint32_t i = 0; i < root.n && !err; i++)
		err = name_rule(p, &root.s[i], &final);
	for (uint32_t i = 0; i < final.n && !err; i++)
		err = fn(arg, final.s[i].v, final.s[i].n);
fail:
	if (w.mem)
		for (uint32_t i = 0; i < hi - w.lo; i++)
			fam_free(&w.mem[i]);
	free(w.mem);
	free(w.done);
	fam_free(&root);
	fam_free(&final);
	return err;
}
