/*
 * test_policy_eval.c — policy_eval over the compact form answers exactly
 * as the tree walk over the blob did (policy_eval_ref.c): random policy
 * files of every kind, nested, with checks, weights of 0, fail-open,
 * fallback, last resorts and names, evaluated for random clients under
 * random and flipping health, compared answer for answer (endpoints in
 * order, scope and flags), small policies and ones of more than 64
 * members alike, and under health mostly up. policy_quick, wherever it
 * answers, answers what policy_eval does, byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "error.h"
#include "geo.h"
#include "policy.h"
#include "policy_eval_ref.h"

#define NCHECKS   12
#define NREGIONS  4
#define NRECORDS  24

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(splitmix(s) % n);
}

/* ---- random policy files ------------------------------------------------------------ */

struct text {
	char *s;
	size_t len, cap;
};

static void __attribute__((format(printf, 3, 4))) put(struct text *t, int indent,
						      const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->cap - t->len < 512) {
		t->cap = t->cap * 2 + 4096;
		assert_non_null(t->s = realloc(t->s, t->cap));
	}
	t->len += (size_t)snprintf(t->s + t->len, t->cap - t->len, "%*s", indent, "");
	va_start(ap, fmt);
	n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < t->cap - t->len);
	t->len += (size_t)n;
}

static const char *const kinds[] = { "simple", "weighted", "latency", "geolocation",
				     "geoproximity", "failover", "multivalue" };
static const char *const places[] = { "continent: EU", "continent: NA", "continent: AS",
				      "country: DE", "country: US", "country: FR",
				      "subdivision: US-CA", "subdivision: DE-BE", "default: true" };

/* An endpoint's keys: mostly addresses, sometimes a name (short enough
 * to be kept inline in the compact form, or not). */
static void endpoint(struct text *t, uint64_t *s)
{
	if (below(s, 8) == 0)
		put(t, 0, "name: n%u.%s.", below(s, 6), below(s, 2) ? "ex.net" : "longer.example.net");
	else
		put(t, 0, "address: 192.0.2.%u", 1 + below(s, 40));
}

static void policy(struct text *t, int indent, int depth, uint64_t *s);

/* Member j of a policy of kind k; places[] is used in order by geolocation
 * so that no location repeats. */
static void member(struct text *t, int indent, int depth, int k, uint32_t j, uint64_t *s)
{
	bool nested = depth < 4 && below(s, 4) == 0;

	put(t, indent, "- ");
	if (below(s, 3) != 0)
		put(t, 0, "check: c%u\n%*s", below(s, NCHECKS), indent + 2, "");
	if (k == 1)
		put(t, 0, "weight: %u\n%*s", below(s, 4) == 0 ? 0 : below(s, 5), indent + 2, "");
	else if (k == 2)
		put(t, 0, "region: r%u\n%*s", below(s, NREGIONS), indent + 2, "");
	else if (k == 3 && j >= 9)   /* a big one: made-up countries after the places */
		put(t, 0, "country: %c%c\n%*s", 'A' + j / 26 % 26, 'A' + j % 26, indent + 2, "");
	else if (k == 3)
		put(t, 0, "%s\n%*s", places[j], indent + 2, "");
	else if (k == 4)
		put(t, 0, "lat: %d.%u\n%*slon: %d.%u\n%*sbias: %d\n%*s", (int)below(s, 170) - 85,
		    below(s, 10), indent + 2, "", (int)below(s, 350) - 175, below(s, 10), indent + 2,
		    "", (int)below(s, 199) - 99, indent + 2, "");
	if (nested) {
		put(t, 0, "policy:\n");
		policy(t, indent + 4, depth + 1, s);
	} else {
		endpoint(t, s);
		put(t, 0, "\n");
	}
}

/* Policies of more than 64 members (evaluated another way) when set. */
static bool big;

static void policy(struct text *t, int indent, int depth, uint64_t *s)
{
	int k = (int)below(s, 7);
	uint32_t n = big && depth == 1 ? 65 + below(s, 8) : k == 3 ? 1 + below(s, 9) : 1 + below(s, 5);

	put(t, indent, "routing: %s\n", kinds[k]);
	if (below(s, 3) == 0)
		put(t, indent, "fail_open: false\n");
	if (k == 1)
		put(t, indent, "pick: %u\n", 1 + below(s, n < 3 ? n : 3));
	if (k == 6)
		put(t, indent, "max: %u\n", 1 + below(s, 4));
	if (k == 3 && below(s, 2))
		put(t, indent, "fallback: false\n");
	if (k == 5 && below(s, 2)) {
		put(t, indent, "last_resort:\n");
		for (uint32_t i = 0, m = 1 + below(s, 2); i < m; i++) {
			put(t, indent + 2, "- ");
			endpoint(t, s);
			put(t, 0, "\n");
		}
	}
	put(t, indent, "members:\n");
	for (uint32_t j = 0; j < n; j++)
		member(t, indent + 2, depth, k, k == 3 && n <= 9 ? 9 - n + j : j, s);
}

static char *random_file(uint64_t *s)
{
	struct text t = { 0 };

	put(&t, 0, "checks:\n");
	for (int i = 0; i < NCHECKS; i++)
		put(&t, 2, "c%d: { type: tcp, target: 192.0.2.%d, port: 80 }\n", i, 100 + i);
	put(&t, 0, "latency:\n  regions: [ r0, r1, r2, r3 ]\nrecords:\n");
	for (int i = 0; i < NRECORDS; i++) {
		put(&t, 2, "- name: r%d.example.\n", i);
		put(&t, 4, "type: A\n    ttl: 30\n    policy:\n");
		policy(&t, 6, 1, s);
	}
	return t.s;
}

/* ---- random clients ------------------------------------------------------------------ */

/* The share of checks up, in percent, in each client's health words. */
static uint32_t up_pct = 60;

struct client {
	struct policy_input in;
	uint8_t health[NCHECKS];
	uint32_t row[NREGIONS];
};

static void random_client(struct client *c, uint64_t *s, const uint32_t *locs, size_t nlocs)
{
	memset(&c->in, 0, sizeof(c->in));
	for (int i = 0; i < NCHECKS; i++)
		c->health[i] = below(s, 100) < up_pct;
	for (int i = 0; i < NREGIONS; i++)
		c->row[i] = below(s, 6) == 0 ? POLICY_NO_LATENCY : below(s, 100);
	c->in.health = below(s, 10) ? c->health : NULL;
	c->in.nhealth = below(s, 8) ? NCHECKS : below(s, NCHECKS);
	c->in.geo = locs[below(s, (uint32_t)nlocs)];
	c->in.geo_prefix = (uint8_t)below(s, 25);
	c->in.has_coords = below(s, 4) != 0;
	c->in.lat = (double)below(s, 18000) / 100 - 90;
	c->in.lon = (double)below(s, 36000) / 100 - 180;
	c->in.coords_prefix = (uint8_t)below(s, 25);
	c->in.latency = below(s, 4) ? c->row : NULL;
	c->in.nlatency = below(s, 4) ? NREGIONS : below(s, NREGIONS);
	c->in.latency_prefix = (uint8_t)below(s, 25);
	c->in.random = splitmix(s);
	c->in.rotation = splitmix(s);
}

static size_t locations(uint32_t *out)
{
	static const char *const l[][3] = {
		{ "EU", "DE", "BE" }, { "EU", "FR", "" }, { "EU", "", "" }, { "NA", "US", "CA" },
		{ "NA", "US", "VA" }, { "AS", "JP", "" }, { "", "DE", "" }, { "OC", "AU", "" },
	};
	size_t n = 0;

	out[n++] = GEO_LOC_NONE;
	for (size_t i = 0; i < sizeof(l) / sizeof(l[0]); i++)
		assert_int_equal(geo_loc_pack(l[i][0], l[i][1], l[i][2], &out[n++]), 0);
	return n;
}

/* a from policy_eval, b from the reference; a's endpoints as the answer
 * reads them (policy_output_endpoint) are the blob's. */
static void same(const struct policy *p, const struct policy_output *a,
		 const struct policy_output *b, const char *file, uint32_t ri)
{
	bool ok = a->n == b->n && a->scope == b->scope && a->flags == b->flags &&
		  !memcmp(a->ep, b->ep, a->n * sizeof(a->ep[0]));

	if (!ok)
		fail_msg("record %u: n %u/%u scope %u/%u flags %u/%u\n%s", ri, a->n, b->n, a->scope,
			 b->scope, a->flags, b->flags, file);
	for (uint32_t i = 0; i < a->n; i++) {
		struct policy_endpoint x, y;

		policy_output_endpoint(p, a, i, &x);
		policy_endpoint_get(p, a->ep[i], &y);
		assert_int_equal(x.type, y.type);
		assert_int_equal(x.rdlen, y.rdlen);
		assert_memory_equal(x.rdata, y.rdata, x.rdlen);
	}
}

/* policy_quick for the input policy_eval answered a with: when it
 * answers, the RRs of a's endpoints in order (owner pointer, type, class
 * IN, the record's TTL, RDATA), a's scope, and a had no flag. Whether it
 * answered. */
static bool same_quick(const struct policy *p, uint32_t ri, const struct policy_input *in,
		       const struct policy_output *a, const char *file)
{
	struct policy_quick q;
	struct policy_record r;
	uint8_t want[8192];
	size_t n = 0;

	if (!policy_quick(p, ri, in, &q))
		return false;
	policy_record_get(p, ri, &r);
	if (a->flags || q.scope != a->scope || q.count != a->n)
		fail_msg("record %u: quick count %u scope %u, eval n %u scope %u flags %u\n%s", ri,
			 q.count, q.scope, a->n, a->scope, a->flags, file);
	for (uint32_t i = 0; i < a->n; i++) {
		struct policy_endpoint e;
		uint8_t h[12] = { 0xc0, 12, 0, 0, 0, 1 };

		policy_output_endpoint(p, a, i, &e);
		h[2] = (uint8_t)(e.type >> 8);
		h[3] = (uint8_t)e.type;
		h[6] = (uint8_t)(r.ttl >> 24);
		h[7] = (uint8_t)(r.ttl >> 16);
		h[8] = (uint8_t)(r.ttl >> 8);
		h[9] = (uint8_t)r.ttl;
		h[10] = (uint8_t)(e.rdlen >> 8);
		h[11] = (uint8_t)e.rdlen;
		assert_true(n + sizeof(h) + e.rdlen <= sizeof(want));
		memcpy(want + n, h, sizeof(h));
		memcpy(want + n + sizeof(h), e.rdata, e.rdlen);
		n += sizeof(h) + e.rdlen;
	}
	assert_int_equal(q.len, n);
	assert_memory_equal(q.wire, want, n);
	return true;
}

/* What the answer reads of a record from the compact form is the blob's. */
static void same_records(const struct policy *p)
{
	for (uint32_t i = 0; i < policy_record_count(p); i++) {
		struct policy_record a, b;

		policy_record_get(p, i, &a);
		policy_record_brief(p, i, &b);
		assert_int_equal(a.type, b.type);
		assert_int_equal(a.ttl, b.ttl);
		assert_int_equal(a.client, b.client);
		assert_int_equal(a.client, policy_record_client(p, i));
	}
}

/* The share of compare_files' queries policy_quick answered, in percent. */
static unsigned quick_pct;

static void compare_files(uint64_t seed, int files)
{
	uint32_t locs[16];
	size_t nlocs = locations(locs);
	unsigned compared = 0, answered = 0, quick = 0;

	for (int f = 0; f < files; f++) {
		char *file = random_file(&seed);
		uint8_t *blob;
		size_t len;
		struct policy *p;
		struct diag d;

		diag_init(&d, NULL);
		if (policy_compile_text("r.yaml", file, strlen(file), &d, &blob, &len) != 0)
			fail_msg("compile: %s\n%s", d.first, file);
		assert_int_equal(policy_open(blob, len, &d, &p), 0);
		same_records(p);
		for (int q = 0; q < 3000; q++) {
			struct client c;
			struct policy_output a, b;
			uint32_t ri = below(&seed, policy_record_count(p));

			random_client(&c, &seed, locs, nlocs);
			policy_eval(p, ri, &c.in, &a);
			policy_eval_reference(p, ri, &c.in, &b);
			same(p, &a, &b, file, ri);
			quick += same_quick(p, ri, &c.in, &a, file);
			compared++;
			answered += a.n > 0;
		}
		policy_close(p);
		free(blob);
		free(file);
	}
	/* the files exercise answers and empty ones alike */
	assert_true(answered > compared / 2 && answered < compared);
	quick_pct = 100 * quick / compared;
}

static void test_same_answers(void **state)
{
	(void)state;
	big = false;
	compare_files(8, 60);
	assert_true(quick_pct >= 10);
}

/* Records whose own policy has more than 64 members. */
static void test_same_answers_big(void **state)
{
	(void)state;
	big = true;
	compare_files(9, 10);
	big = false;
}

/* Health mostly up, a check flipping here and there: policy_eval's
 * chains (POL_CNODE_CHAIN) answer without the walk when every check they
 * read is up, and must answer what it would. */
static void test_same_answers_healthy(void **state)
{
	(void)state;
	up_pct = 95;
	compare_files(10, 60);
	up_pct = 60;
	/* with the checks up, the common shapes answer quick */
	assert_true(quick_pct >= 20);
}

/* The example file (issue 8's GDPR shape) under every health combination
 * of its checks, for clients in and out of Europe. */
static void test_example_all_health(void **state)
{
	const char *root = getenv("SOURCE_ROOT");
	char path[512];
	uint8_t *blob, h[32];
	size_t len;
	struct policy *p;
	struct diag d;
	uint32_t locs[16], nchecks;
	size_t nlocs = locations(locs);
	uint64_t seed = 53;
	unsigned quick = 0, up_quick = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/zones/examples/policy.yaml", root ? root : ".");
	diag_init(&d, NULL);
	if (policy_compile_file(path, &d, &blob, &len) != 0)
		fail_msg("%s: %s", path, d.first);
	assert_int_equal(policy_open(blob, len, &d, &p), 0);
	same_records(p);
	nchecks = policy_check_count(p);
	assert_true(nchecks <= 16);
	for (uint32_t bits = 0; bits < (1u << nchecks); bits++) {
		for (uint32_t i = 0; i < nchecks; i++)
			h[i] = (bits >> i) & 1;
		for (uint32_t ri = 0; ri < policy_record_count(p); ri++) {
			struct policy_input in = { .health = h, .nhealth = nchecks,
						   .geo = locs[below(&seed, (uint32_t)nlocs)],
						   .geo_prefix = 20, .random = splitmix(&seed),
						   .rotation = splitmix(&seed) };
			struct policy_output a, b;

			policy_eval(p, ri, &in, &a);
			policy_eval_reference(p, ri, &in, &b);
			same(p, &a, &b, path, ri);
			if (same_quick(p, ri, &in, &a, path)) {
				quick++;
				up_quick += bits == (1u << nchecks) - 1;
			}
		}
	}
	/* all up, www (geolocation over failover over weighted), pool
	 * (multivalue), static (simple) and hello (weighted TXT) answer
	 * quick; api and cdn depend on latency and coordinates, canary
	 * answers names. Some answer quick with checks down (those they do
	 * not read). */
	assert_int_equal(up_quick, 4);
	assert_true(quick > up_quick);
	policy_close(p);
	free(blob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_answers),
		cmocka_unit_test(test_same_answers_big),
		cmocka_unit_test(test_same_answers_healthy),
		cmocka_unit_test(test_example_all_health),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
