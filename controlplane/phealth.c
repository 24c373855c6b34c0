/*
 * phealth.c — the served snapshot's policy checks run by one hcheck set.
 *
 * The policy blob stores each check as the file said it; this turns them
 * into hcheck definitions in the same order (index i = health word i,
 * which is what policy_eval reads) and keeps one set alive across
 * snapshots, so that a push that leaves a check unchanged does not reset
 * its verdict, its fall/rise counts or the votes it has.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "phealth.h"
#include "policy.h"

/* hcheck's own floor when none is given (hcheck.h: interval_ms). */
#define PH_MIN_INTERVAL_MS 1000

struct ctl_phealth {
	struct event_base *base;
	struct ctl_phealth_opts o;
	struct hcheck_set *set;      /* NULL until a snapshot had checks */
};

/* The definitions of one policy: defs[i] is check i; the members of
 * calculated checks point into members. Strings point into the blob. */
struct defs {
	struct hcheck_def *d;
	size_t *members;
	size_t n;
};

static void defs_free(struct defs *x)
{
	free(x->d);
	free(x->members);
	memset(x, 0, sizeof(*x));
}

static uint32_t min_interval(const struct ctl_phealth_opts *o)
{
	return o && o->min_interval_ms ? o->min_interval_ms : PH_MIN_INTERVAL_MS;
}

static FILE *log_of(const struct ctl_phealth_opts *o)
{
	return o && o->log ? o->log : stderr;
}

static bool is_address(const char *s)
{
	uint8_t a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

static const char *or_null(const char *s)
{
	return s && *s ? s : NULL;
}

/* A tcp/http/https check. The policy format accepts intervals down to
 * 100 ms and a timeout equal to the interval; the checker does not, so
 * those are adapted rather than refused (notes: where to say so). */
static int probe_def(const struct policy_check *c, uint32_t i, uint32_t min_iv,
		     struct hcheck_def *d, FILE *notes, char *err, size_t errlen)
{
	static const enum hcheck_kind kind[] = {
		[POLICY_CHECK_TCP] = HCHECK_TCP, [POLICY_CHECK_HTTP] = HCHECK_HTTP,
		[POLICY_CHECK_HTTPS] = HCHECK_HTTPS,
	};
	uint32_t iv = c->interval_ms, to = c->timeout_ms;

	if (!is_address(c->target)) {
		snprintf(err, errlen, "policy check %u (%s): target '%s' is a host name: pop53d "
			 "probes IP addresses only (resolve it when compiling the policy)", i,
			 c->name, c->target);
		return P53_EINVAL;
	}
	if (iv < min_iv) {
		if (notes)
			fprintf(notes, "pop53d: policy check %s: interval %u ms raised to pop53d's "
				"minimum of %u ms\n", c->name, iv, min_iv);
		iv = min_iv;
	}
	if (to >= iv) {
		if (notes)
			fprintf(notes, "pop53d: policy check %s: timeout %u ms lowered to %u ms "
				"(below the %u ms interval)\n", c->name, to, iv / 2, iv);
		to = iv / 2;
	}
	*d = (struct hcheck_def){
		.name = c->name, .kind = kind[c->type], .address = c->target, .port = c->port,
		.interval_ms = iv, .timeout_ms = to, .fall = c->fall, .rise = c->rise,
		.quorum_pct = c->quorum, .start = HCHECK_START_HEALTHY,
	};
	if (c->type != POLICY_CHECK_TCP) {
		d->host = or_null(c->host);
		d->path = or_null(c->path);
		d->status_min = c->status_lo;
		d->status_max = c->status_hi;
		d->body = or_null(c->body);
	}
	return 0;
}

static void calc_def(const struct policy *p, const struct policy_check *c, uint32_t i,
		     size_t *members, struct hcheck_def *d)
{
	static const enum hcheck_op op[] = {
		[POLICY_OP_AND] = HCHECK_AND, [POLICY_OP_OR] = HCHECK_OR,
		[POLICY_OP_AT_LEAST] = HCHECK_AT_LEAST,
	};

	for (uint32_t j = 0; j < c->nmembers; j++)
		members[j] = policy_check_member(p, i, j);
	*d = (struct hcheck_def){
		.name = c->name, .kind = HCHECK_CALCULATED, .op = op[c->op], .at_least = c->n,
		.members = members, .nmembers = c->nmembers,
	};
}

/* Every check of s's policy (none without a policy) into *x. */
static int build(const struct snap *s, uint32_t min_iv, FILE *notes, struct defs *x,
		 char *err, size_t errlen)
{
	const struct policy *p = snap_policy(s);
	uint32_t n = p ? policy_check_count(p) : 0;
	struct policy_check c;
	size_t nm = 0, at = 0;
	int ret = P53_ENOMEM;

	memset(x, 0, sizeof(*x));
	if (!n)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		policy_check_get(p, i, &c);
		nm += c.type == POLICY_CHECK_CALCULATED ? c.nmembers : 0;
	}
	if (!(x->d = calloc(n, sizeof(*x->d))) ||
	    !(x->members = calloc(nm ? nm : 1, sizeof(*x->members))))
		goto fail;
	x->n = n;
	for (uint32_t i = 0; i < n; i++) {
		policy_check_get(p, i, &c);
		if (c.type == POLICY_CHECK_CALCULATED) {
			calc_def(p, &c, i, x->members + at, &x->d[i]);
			at += c.nmembers;
		} else if ((ret = probe_def(&c, i, min_iv, &x->d[i], notes, err, errlen)) < 0) {
			goto fail;
		}
	}
	return 0;
fail:
	if (ret == P53_ENOMEM)
		snprintf(err, errlen, "policy checks: %s", p53_strerror(ret));
	defs_free(x);
	return ret;
}

/* ---- the word log ---------------------------------------------------------------- */

/* One line per change, the same shape every time, so that logs can be
 * counted and grouped by check. */
static void on_change(void *arg, size_t index, const char *name, bool was_healthy,
		      bool healthy, const char *reason)
{
	struct ctl_phealth *ph = arg;

	fprintf(log_of(&ph->o), "pop53d: policy-check %s %s (was %s, word %zu): %s\n", name,
		healthy ? "healthy" : "unhealthy", was_healthy ? "healthy" : "unhealthy", index,
		reason ? reason : "");
}

/* ---- public ------------------------------------------------------------------------ */

int ctl_phealth_new(struct event_base *base, const struct ctl_phealth_opts *o,
		    struct ctl_phealth **out)
{
	struct ctl_phealth *ph = calloc(1, sizeof(*ph));

	*out = NULL;
	if (!ph)
		return P53_ENOMEM;
	ph->base = base;
	if (o)
		ph->o = *o;
	*out = ph;
	return 0;
}

void ctl_phealth_free(struct ctl_phealth *ph)
{
	if (!ph)
		return;
	hcheck_set_destroy(ph->set);
	free(ph);
}

int ctl_phealth_check(const struct snap *s, const struct ctl_phealth_opts *o,
		      char *err, size_t errlen)
{
	struct hcheck_opts ho = { .min_interval_ms = min_interval(o), .seed = 1 };
	struct hcheck_set *set = NULL;
	struct event_base *base = NULL;
	struct defs x;
	int ret;

	if ((ret = build(s, ho.min_interval_ms, NULL, &x, err, errlen)) < 0 || !x.n)
		return ret;
	/* The checker's own validation, on a loop that never runs: the
	 * probes it arms are dropped with it. */
	ret = P53_ENOMEM;
	if (!(base = event_base_new())) {
		snprintf(err, errlen, "policy checks: no event base");
		goto fail;
	}
	ret = hcheck_set_create(base, x.d, x.n, &ho, err, errlen, &set);
	hcheck_set_destroy(set);
fail:
	if (base)
		event_base_free(base);
	defs_free(&x);
	return ret;
}

int ctl_phealth_attach(struct ctl_phealth *ph, struct snap *s, uint8_t **old_words,
		       char *err, size_t errlen)
{
	struct hcheck_opts ho = { .on_change = on_change, .arg = ph,
				  .min_interval_ms = min_interval(&ph->o) };
	struct defs x;
	size_t n;
	int ret;

	*old_words = NULL;
	if ((ret = build(s, ho.min_interval_ms, log_of(&ph->o), &x, err, errlen)) < 0)
		return ret;
	n = x.n;
	if (!ph->set && n)
		ret = hcheck_set_create(ph->base, x.d, n, &ho, err, errlen, &ph->set);
	else if (ph->set)
		ret = hcheck_set_update(ph->set, x.d, n, err, errlen, old_words);
	defs_free(&x);
	if (ret < 0)
		return ret;
	snap_set_health(s, n ? hcheck_words(ph->set) : NULL, (uint32_t)n);
	if (ph->set)
		fprintf(log_of(&ph->o), "pop53d: policy checks: %zu running\n",
			hcheck_count(ph->set));
	return 0;
}

size_t ctl_phealth_count(const struct ctl_phealth *ph)
{
	return ph && ph->set ? hcheck_count(ph->set) : 0;
}

int ctl_phealth_stats(const struct ctl_phealth *ph, size_t i, struct hcheck_stats *out)
{
	return ph && ph->set ? hcheck_stats(ph->set, i, out) : P53_EINVAL;
}

int ctl_phealth_vote(struct ctl_phealth *ph, const char *name, uint32_t source_id,
		     bool healthy, uint32_t ttl_ms, char *err, size_t errlen)
{
	int i = ph && ph->set ? hcheck_index(ph->set, name) : P53_ENOTFOUND;
	int ret;

	if (i < 0) {
		snprintf(err, errlen, "no policy check named '%s' in the served snapshot", name);
		return P53_ENOTFOUND;
	}
	/* ttl 0: an expiry already past, which withdraws the vote */
	ret = hcheck_vote(ph->set, (size_t)i, source_id, healthy,
			  ttl_ms ? hcheck_now_ms() + ttl_ms : 0);
	if (ret == P53_EINVAL)
		snprintf(err, errlen, "policy check '%s' is calculated: it has no votes", name);
	else if (ret == P53_ELIMIT)
		snprintf(err, errlen, "policy check '%s': more than %d sources vote on it", name,
			 HCHECK_MAX_VOTES);
	return ret;
}
