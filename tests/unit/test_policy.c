/*
 * test_policy.c — traffic policies: the file format and its messages, the
 * compiled blob's validation (truncations, byte flips), and evaluation:
 * weighted distribution, rotation, failover, multivalue, geolocation,
 * geoproximity, latency, fail-open, and the GDPR example under health flips.
 */
#include <arpa/inet.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dname.h"
#include "error.h"
#include "geo.h"
#include "policy.h"
#include "rdata.h"

struct compiled {
	uint8_t *blob;
	size_t len;
	struct policy *p;
	struct diag d;
};

static struct compiled *compile_ok(const char *yaml)
{
	struct compiled *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	diag_init(&c->d, NULL);
	if (policy_compile_text("t.yaml", yaml, strlen(yaml), &c->d, &c->blob, &c->len) != 0)
		fail_msg("compile failed: %s", c->d.first);
	if (policy_open(c->blob, c->len, &c->d, &c->p) != 0)
		fail_msg("open failed: %s", c->d.first);
	return c;
}

static void release(struct compiled *c)
{
	policy_close(c->p);
	free(c->blob);
	free(c);
}

/* The first error must be want (exactly, position included). */
static void compile_bad(const char *yaml, const char *want)
{
	struct diag d;
	uint8_t *blob = (uint8_t *)"x";
	size_t len = 1;

	diag_init(&d, NULL);
	assert_true(policy_compile_text("t.yaml", yaml, strlen(yaml), &d, &blob, &len) < 0);
	assert_null(blob);
	assert_true(d.errors >= 1);
	if (strcmp(d.first, want))
		fail_msg("got  '%s'\nwant '%s'", d.first, want);
}

static uint32_t rec(const struct compiled *c, const char *name, uint16_t type)
{
	uint8_t w[DNAME_MAXLEN];
	int len = dname_from_text(name, strlen(name), NULL, w), i;

	assert_true(len > 0);
	dname_lower(w);
	i = policy_find(c->p, w, (size_t)len, type);
	if (i < 0)
		fail_msg("no record %s", name);
	return (uint32_t)i;
}

/* An endpoint as text: the address, the name, or the first TXT string. */
static const char *ep_text(const struct compiled *c, uint32_t ep)
{
	static char buf[8][300];
	static int k;
	struct policy_endpoint e;
	char *b = buf[k = (k + 1) % 8];

	policy_endpoint_get(c->p, ep, &e);
	if (e.type == RRTYPE_A || e.type == RRTYPE_AAAA)
		inet_ntop(e.type == RRTYPE_A ? AF_INET : AF_INET6, e.rdata, b, 300);
	else if (e.type == RRTYPE_CNAME)
		dname_to_text(e.rdata, b, 300);
	else
		snprintf(b, 300, "%.*s", e.rdata[0], (const char *)e.rdata + 1);
	return b;
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static const char *eval1(const struct compiled *c, uint32_t ri, const struct policy_input *in,
			 struct policy_output *out)
{
	policy_eval(c->p, ri, in, out);
	return out->n ? ep_text(c, out->ep[0]) : "(none)";
}

/* ---- the example file -------------------------------------------------------------- */

static struct compiled *example(void)
{
	const char *root = getenv("SOURCE_ROOT");
	char path[512];
	struct compiled *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	snprintf(path, sizeof(path), "%s/zones/examples/policy.yaml", root ? root : ".");
	diag_init(&c->d, NULL);
	if (policy_compile_file(path, &c->d, &c->blob, &c->len) != 0)
		fail_msg("%s: %s", path, c->d.first);
	assert_int_equal(c->d.warnings, 0);
	if (policy_open(c->blob, c->len, &c->d, &c->p) != 0)
		fail_msg("open failed: %s", c->d.first);
	return c;
}

static void test_example(void **state)
{
	struct compiled *c = example();
	struct policy_check k;
	struct policy_record r;

	(void)state;
	assert_int_equal(policy_record_count(c->p), 7);
	assert_int_equal(policy_check_count(c->p), 9);
	policy_check_get(c->p, 2, &k);
	assert_string_equal(k.name, "fra-db");
	assert_int_equal(k.type, POLICY_CHECK_TCP);
	assert_string_equal(k.target, "192.0.2.19");
	assert_int_equal(k.port, 5432);
	assert_int_equal(k.interval_ms, 5000);
	assert_int_equal(k.timeout_ms, 1000);
	assert_int_equal(k.fall, 3);
	assert_int_equal(k.rise, 3);
	policy_check_get(c->p, 4, &k);
	assert_string_equal(k.name, "fra");
	assert_int_equal(k.type, POLICY_CHECK_CALCULATED);
	assert_int_equal(k.op, POLICY_OP_AND);
	assert_int_equal(k.nmembers, 2);
	assert_int_equal(policy_check_member(c->p, 4, 0), 3);
	assert_int_equal(policy_check_member(c->p, 4, 1), 2);
	policy_check_get(c->p, 3, &k);
	assert_int_equal(k.op, POLICY_OP_AT_LEAST);
	assert_int_equal(k.n, 1);
	policy_check_get(c->p, 5, &k);
	assert_int_equal(k.type, POLICY_CHECK_HTTPS);
	assert_int_equal(k.port, 443);
	assert_string_equal(k.host, "www.example.com");
	assert_string_equal(k.body, "OK");
	assert_int_equal(k.status_lo, 200);
	assert_int_equal(k.status_hi, 299);
	assert_int_equal(k.quorum, 60);
	assert_int_equal(k.fall, 2);
	policy_check_get(c->p, 6, &k);
	assert_int_equal(k.port, 80);
	assert_string_equal(k.path, "/health");
	assert_int_equal(k.status_lo, 200);
	assert_int_equal(k.status_hi, 399);
	assert_string_equal(k.host, "");
	assert_int_equal(policy_region_count(c->p), 3);
	assert_string_equal(policy_region_name(c->p, 1), "us-east");
	policy_record_get(c->p, rec(c, "www.example.com.", RRTYPE_A), &r);
	assert_int_equal(r.ttl, 60);
	assert_true(r.client);
	policy_record_get(c->p, rec(c, "static.example.com.", 0), &r);
	assert_int_equal(r.type, RRTYPE_AAAA);
	assert_false(r.client);
	policy_record_get(c->p, rec(c, "hello.example.com.", RRTYPE_TXT), &r);
	assert_int_equal(r.ttl, 60);
	assert_int_equal(policy_find(c->p, r.name, r.name_len, RRTYPE_A), P53_ENOTFOUND);
	assert_int_equal(policy_find(c->p, (const uint8_t *)"\3xyz\0", 5, 0), P53_ENOTFOUND);
	release(c);
}

/* ---- weighted ------------------------------------------------------------------------- */

static const char weighted4[] =
	"records:\n"
	"  - name: w.example.\n"
	"    type: A\n"
	"    policy:\n"
	"      routing: weighted\n"
	"      pick: %d\n"
	"      members:\n"
	"        - { address: 192.0.2.1, weight: 1 }\n"
	"        - { address: 192.0.2.2, weight: 2 }\n"
	"        - { address: 192.0.2.3, weight: 3 }\n"
	"        - { address: 192.0.2.4, weight: 4 }\n";

static struct compiled *weighted(int pick)
{
	char y[sizeof(weighted4) + 8];

	snprintf(y, sizeof(y), weighted4, pick);
	return compile_ok(y);
}

#define DRAWS 1000000

static void test_weighted_distribution(void **state)
{
	struct compiled *c = weighted(1);
	struct policy_input in = { 0 };
	struct policy_output out;
	uint64_t seed = 42, count[4] = { 0 };

	(void)state;
	for (int i = 0; i < DRAWS; i++) {
		in.random = splitmix(&seed);
		policy_eval(c->p, 0, &in, &out);
		assert_int_equal(out.n, 1);
		count[out.ep[0]]++;
	}
	for (int i = 0; i < 4; i++) {
		double want = DRAWS * (i + 1) / 10.0;
		if (fabs((double)count[i] - want) > 0.01 * want)
			fail_msg("endpoint %d: %llu draws, want %.0f", i,
				 (unsigned long long)count[i], want);
	}
	release(c);
}

/* Two of four without replacement: P(i drawn) = w_i/W + sum_j w_j/W * w_i/(W - w_j). */
static void test_weighted_n_of_m(void **state)
{
	struct compiled *c = weighted(2);
	struct policy_input in = { 0 };
	struct policy_output out;
	uint64_t seed = 7, count[4] = { 0 };

	(void)state;
	for (int i = 0; i < DRAWS; i++) {
		in.random = splitmix(&seed);
		policy_eval(c->p, 0, &in, &out);
		assert_int_equal(out.n, 2);
		assert_int_not_equal(out.ep[0], out.ep[1]);
		count[out.ep[0]]++;
		count[out.ep[1]]++;
	}
	for (int i = 0; i < 4; i++) {
		double wi = i + 1, p = wi / 10;
		for (int j = 0; j < 4; j++)
			if (j != i)
				p += (j + 1) / 10.0 * wi / (10 - (j + 1));
		if (fabs((double)count[i] - DRAWS * p) > 0.01 * DRAWS * p)
			fail_msg("endpoint %d: %llu, want %.0f", i, (unsigned long long)count[i],
				 DRAWS * p);
	}
	release(c);
}

static void test_weight_zero(void **state)
{
	struct compiled *c = compile_ok(
		"checks:\n"
		"  a: { type: tcp, target: 192.0.2.1, port: 80 }\n"
		"  b: { type: tcp, target: 192.0.2.2, port: 80 }\n"
		"  z: { type: tcp, target: 192.0.2.9, port: 80 }\n"
		"records:\n"
		"  - name: w.example.\n    type: A\n    policy:\n"
		"      routing: weighted\n      members:\n"
		"        - { address: 192.0.2.1, weight: 5, check: a }\n"
		"        - { address: 192.0.2.2, weight: 5, check: b }\n"
		"        - { address: 192.0.2.9, weight: 0, check: z }\n"
		"  - name: strict.example.\n    type: A\n    policy:\n"
		"      routing: weighted\n      fail_open: false\n      members:\n"
		"        - { address: 192.0.2.1, weight: 5, check: a }\n");
	uint8_t h[3] = { 1, 1, 1 };
	struct policy_input in = { .health = h, .nhealth = 3 };
	struct policy_output out;
	uint64_t seed = 1;
	int seen[3] = { 0 };
	uint32_t w = rec(c, "w.example.", RRTYPE_A), strict = rec(c, "strict.example.", RRTYPE_A);

	(void)state;
	for (int i = 0; i < 10000; i++) {
		in.random = splitmix(&seed);
		policy_eval(c->p, w, &in, &out);
		assert_int_equal(out.n, 1);
		seen[out.ep[0]]++;
		assert_int_equal(out.flags, 0);
	}
	assert_int_equal(seen[2], 0);          /* weight 0 never while others are up */
	assert_true(seen[0] > 4500 && seen[1] > 4500);
	h[0] = 0;
	for (int i = 0; i < 100; i++) {
		in.random = splitmix(&seed);
		assert_string_equal(eval1(c, w, &in, &out), "192.0.2.2");
	}
	h[1] = 0;                              /* only the weight-0 one is up */
	assert_string_equal(eval1(c, w, &in, &out), "192.0.2.9");
	assert_int_equal(out.flags, 0);
	h[2] = 0;                              /* all down: fail open over the weighted ones */
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < 1000; i++) {
		in.random = splitmix(&seed);
		policy_eval(c->p, w, &in, &out);
		assert_int_equal(out.n, 1);
		assert_int_equal(out.flags, POLICY_FAIL_OPEN);
		seen[out.ep[0]]++;
	}
	assert_int_equal(seen[2], 0);
	assert_true(seen[0] > 400 && seen[1] > 400);
	policy_eval(c->p, strict, &in, &out);  /* fail_open: false */
	assert_int_equal(out.n, 0);
	assert_int_equal(out.flags, 0);
	release(c);
}

/* ---- simple, multivalue ------------------------------------------------------------------ */

static void test_simple_rotation(void **state)
{
	struct compiled *c = compile_ok(
		"checks:\n  c: { type: tcp, target: 192.0.2.3, port: 80 }\n"
		"records:\n  - name: s.example.\n    type: A\n    policy:\n"
		"      routing: simple\n      members:\n"
		"        - address: 192.0.2.1\n        - address: 192.0.2.2\n"
		"        - { address: 192.0.2.3, check: c }\n        - address: 192.0.2.4\n");
	uint8_t h[1] = { 1 };
	struct policy_input in = { .health = h, .nhealth = 1 };
	struct policy_output out;
	int first[4] = { 0 };

	(void)state;
	for (in.rotation = 0; in.rotation < 4000; in.rotation++) {
		unsigned mask = 0;
		policy_eval(c->p, 0, &in, &out);
		assert_int_equal(out.n, 4);
		for (uint32_t i = 0; i < 4; i++) {
			mask |= 1u << out.ep[i];
			assert_int_equal(out.ep[i], (out.ep[0] + i) % 4);   /* order kept, rotated */
		}
		assert_int_equal(mask, 15);
		first[out.ep[0]]++;
	}
	for (int i = 0; i < 4; i++)
		assert_int_equal(first[i], 1000);
	h[0] = 0;
	policy_eval(c->p, 0, &in, &out);
	assert_int_equal(out.n, 3);
	for (uint32_t i = 0; i < 3; i++)
		assert_int_not_equal(out.ep[i], 2);
	release(c);
}

static void test_multivalue(void **state)
{
	char y[2048];
	size_t n = (size_t)snprintf(y, sizeof(y), "checks:\n");
	struct compiled *c, *c3;
	uint8_t h[10];
	struct policy_input in = { .health = h, .nhealth = 10 };
	struct policy_output out;
	int first[10] = { 0 };

	(void)state;
	for (int i = 0; i < 10; i++)
		n += (size_t)snprintf(y + n, sizeof(y) - n, "  c%d: { type: tcp, target: 192.0.2.%d, "
				      "port: 80 }\n", i, i + 1);
	n += (size_t)snprintf(y + n, sizeof(y) - n, "records:\n  - name: m.example.\n    type: A\n"
			      "    policy:\n      routing: multivalue\n      members:\n");
	for (int i = 0; i < 10; i++)
		n += (size_t)snprintf(y + n, sizeof(y) - n, "        - { address: 192.0.2.%d, "
				      "check: c%d }\n", i + 1, i);
	c = compile_ok(y);
	memset(h, 1, sizeof(h));
	for (in.rotation = 0; in.rotation < 1000; in.rotation++) {
		unsigned mask = 0;
		policy_eval(c->p, 0, &in, &out);
		assert_int_equal(out.n, 8);            /* default cap */
		for (uint32_t i = 0; i < 8; i++)
			mask |= 1u << out.ep[i];
		assert_int_equal(__builtin_popcount(mask), 8);
		first[out.ep[0]]++;
	}
	for (int i = 0; i < 10; i++)
		assert_int_equal(first[i], 100);
	h[1] = h[4] = h[7] = 0;
	for (in.rotation = 0; in.rotation < 50; in.rotation++) {
		policy_eval(c->p, 0, &in, &out);
		assert_int_equal(out.n, 7);
		for (uint32_t i = 0; i < 7; i++)
			assert_true(h[out.ep[i]]);
		assert_int_equal(out.flags, 0);
	}
	memset(h, 0, sizeof(h));
	policy_eval(c->p, 0, &in, &out);
	assert_int_equal(out.n, 8);
	assert_int_equal(out.flags, POLICY_FAIL_OPEN);
	release(c);
	c3 = compile_ok("records:\n  - name: m.example.\n    type: A\n    policy:\n"
			"      routing: multivalue\n      max: 3\n      members:\n"
			"        - address: 192.0.2.1\n        - address: 192.0.2.2\n"
			"        - address: 192.0.2.3\n        - address: 192.0.2.4\n");
	in.health = NULL;
	policy_eval(c3->p, 0, &in, &out);
	assert_int_equal(out.n, 3);
	release(c3);
}

/* ---- failover --------------------------------------------------------------------------- */

static const char failover_yaml[] =
	"checks:\n"
	"  p: { type: tcp, target: 192.0.2.1, port: 80 }\n"
	"  s: { type: tcp, target: 192.0.2.2, port: 80 }\n"
	"  t: { type: tcp, target: 192.0.2.3, port: 80 }\n"
	"records:\n"
	"  - name: f.example.\n    type: A\n    policy:\n"
	"      routing: failover\n      members:\n"
	"        - { address: 192.0.2.1, check: p }\n"
	"        - { address: 192.0.2.2, check: s }\n"
	"        - { address: 192.0.2.3, check: t }\n"
	"      last_resort:\n        - address: 192.0.2.99\n        - address: 192.0.2.98\n"
	"  - name: g.example.\n    type: A\n    policy:\n"
	"      routing: failover\n      members:\n"
	"        - { address: 192.0.2.1, check: p }\n"
	"        - { address: 192.0.2.2, check: s }\n"
	"  - name: h.example.\n    type: A\n    policy:\n"
	"      routing: failover\n      fail_open: false\n      members:\n"
	"        - { address: 192.0.2.1, check: p }\n"
	"        - { address: 192.0.2.2, check: s }\n";

static void test_failover(void **state)
{
	struct compiled *c = compile_ok(failover_yaml);
	uint8_t h[3];
	struct policy_input in = { .health = h, .nhealth = 3 };
	struct policy_output out;
	uint32_t f = rec(c, "f.example.", RRTYPE_A), g = rec(c, "g.example.", RRTYPE_A);
	uint32_t hh = rec(c, "h.example.", RRTYPE_A);

	(void)state;
	for (int combo = 0; combo < 8; combo++) {
		for (int i = 0; i < 3; i++)
			h[i] = (uint8_t)((combo >> i) & 1);
		policy_eval(c->p, f, &in, &out);
		if (combo == 0) {
			assert_int_equal(out.n, 2);
			assert_string_equal(ep_text(c, out.ep[0]), "192.0.2.99");
			assert_string_equal(ep_text(c, out.ep[1]), "192.0.2.98");
			assert_int_equal(out.flags, POLICY_LAST_RESORT);
			continue;
		}
		int want = h[0] ? 1 : h[1] ? 2 : 3;
		char buf[16];
		snprintf(buf, sizeof(buf), "192.0.2.%d", want);
		assert_int_equal(out.n, 1);
		assert_string_equal(ep_text(c, out.ep[0]), buf);
		assert_int_equal(out.flags, 0);
		assert_int_equal(out.scope, 0);
	}
	h[0] = h[1] = 0;
	assert_string_equal(eval1(c, g, &in, &out), "192.0.2.1");   /* fail open: the primary */
	assert_int_equal(out.flags, POLICY_FAIL_OPEN);
	policy_eval(c->p, hh, &in, &out);
	assert_int_equal(out.n, 0);
	h[1] = 1;
	assert_string_equal(eval1(c, hh, &in, &out), "192.0.2.2");
	in.nhealth = 1;                       /* words beyond nhealth count as healthy */
	h[0] = 0;
	assert_string_equal(eval1(c, g, &in, &out), "192.0.2.2");
	release(c);
}

/* ---- geolocation -------------------------------------------------------------------------- */

static const char geo_yaml[] =
	"checks:\n"
	"  sub: { type: tcp, target: 192.0.2.1, port: 80 }\n"
	"  cty: { type: tcp, target: 192.0.2.2, port: 80 }\n"
	"  con: { type: tcp, target: 192.0.2.3, port: 80 }\n"
	"records:\n"
	"  - name: geo.example.\n    type: A\n    policy:\n"
	"      routing: geolocation\n      members:\n"
	"        - { default: true, address: 192.0.2.4 }\n"
	"        - { continent: na, address: 192.0.2.3, check: con }\n"
	"        - { country: US, address: 192.0.2.2, check: cty }\n"
	"        - { subdivision: us-ca, address: 192.0.2.1, check: sub }\n"
	"  - name: strict.example.\n    type: A\n    policy:\n"
	"      routing: geolocation\n      fallback: false\n      members:\n"
	"        - { default: true, address: 192.0.2.4 }\n"
	"        - { country: US, address: 192.0.2.2, check: cty }\n"
	"  - name: nodefault.example.\n    type: A\n    policy:\n"
	"      routing: geolocation\n      members:\n"
	"        - { country: DE, address: 192.0.2.5 }\n";

static void set_geo(struct policy_input *in, const char *cont, const char *cty, const char *sub)
{
	assert_int_equal(geo_loc_pack(cont, cty, sub, &in->geo), 0);
}

static void test_geolocation(void **state)
{
	struct compiled *c = compile_ok(geo_yaml);
	uint8_t h[3] = { 1, 1, 1 };
	struct policy_input in = { .health = h, .nhealth = 3, .geo_prefix = 22 };
	struct policy_output out;
	uint32_t g = rec(c, "geo.example.", RRTYPE_A), s = rec(c, "strict.example.", RRTYPE_A);
	uint32_t nd = rec(c, "nodefault.example.", RRTYPE_A);

	(void)state;
	set_geo(&in, "NA", "US", "CA");
	assert_string_equal(eval1(c, g, &in, &out), "192.0.2.1");
	assert_int_equal(out.scope, 22);
	set_geo(&in, "NA", "US", "NY");
	assert_string_equal(eval1(c, g, &in, &out), "192.0.2.2");
	set_geo(&in, "NA", "CA", "QC");
	assert_string_equal(eval1(c, g, &in, &out), "192.0.2.3");
	set_geo(&in, "EU", "FR", "");
	assert_string_equal(eval1(c, g, &in, &out), "192.0.2.4");
	assert_int_equal(out.scope, 22);
	set_geo(&in, "", "", "");              /* unknown client: the default */
	assert_string_equal(eval1(c, g, &in, &out), "192.0.2.4");
	set_geo(&in, "NA", "US", "CA");        /* unhealthy: the next less specific */
	h[0] = 0;
	assert_string_equal(eval1(c, g, &in, &out), "192.0.2.2");
	h[1] = 0;
	assert_string_equal(eval1(c, g, &in, &out), "192.0.2.3");
	h[2] = 0;
	assert_string_equal(eval1(c, g, &in, &out), "192.0.2.4");
	assert_int_equal(out.flags, 0);
	set_geo(&in, "NA", "US", "TX");        /* without fallback: the match fails open */
	assert_string_equal(eval1(c, s, &in, &out), "192.0.2.2");
	assert_int_equal(out.flags, POLICY_FAIL_OPEN);
	h[1] = 1;
	assert_string_equal(eval1(c, s, &in, &out), "192.0.2.2");
	assert_int_equal(out.flags, 0);
	set_geo(&in, "EU", "FR", "");          /* no rule and no default: no answer */
	policy_eval(c->p, nd, &in, &out);
	assert_int_equal(out.n, 0);
	assert_int_equal(out.scope, 22);
	release(c);
}

/* ---- geoproximity ------------------------------------------------------------------------- */

static const char prox_yaml[] =
	"records:\n  - name: p.example.\n    type: A\n    policy:\n"
	"      routing: geoproximity\n      members:\n"
	"        - { lat: 51.5074, lon: -0.1278, address: 192.0.2.1 }\n"    /* London */
	"        - { lat: 40.7128, lon: -74.0060, address: 192.0.2.2%s }\n" /* New York */
	"        - { lat: 35.6762, lon: 139.6503, address: 192.0.2.3 }\n";  /* Tokyo */

static const char *prox(const char *bias, double lat, double lon)
{
	char y[sizeof(prox_yaml) + 32];
	struct policy_input in = { .has_coords = true, .lat = lat, .lon = lon, .coords_prefix = 20 };
	struct policy_output out;
	struct compiled *c;
	static char res[32];

	snprintf(y, sizeof(y), prox_yaml, bias);
	c = compile_ok(y);
	snprintf(res, sizeof(res), "%s", eval1(c, 0, &in, &out));
	assert_int_equal(out.scope, 20);
	release(c);
	return res;
}

static void test_geoproximity(void **state)
{
	(void)state;
	/* great-circle distances of known city pairs */
	assert_true(fabs(policy_distance_km(51.5074, -0.1278, 48.8566, 2.3522) - 343.5) < 2);
	assert_true(fabs(policy_distance_km(40.7128, -74.0060, 34.0522, -118.2437) - 3936) < 10);
	assert_true(fabs(policy_distance_km(35.6762, 139.6503, 51.5074, -0.1278) - 9560) < 20);
	assert_true(fabs(policy_biased_km(1000, 50) - 500) < 1e-9);
	assert_true(fabs(policy_biased_km(1000, -50) - 2000) < 1e-9);
	assert_true(fabs(policy_biased_km(1000, 0) - 1000) < 1e-9);
	/* nearest without bias */
	assert_string_equal(prox("", 48.8566, 2.3522), "192.0.2.1");     /* Paris */
	assert_string_equal(prox("", 42.3601, -71.0589), "192.0.2.2");   /* Boston */
	assert_string_equal(prox("", 37.5665, 126.9780), "192.0.2.3");   /* Seoul */
	/* Reykjavik: London ~1890 km, New York ~4200 km; +60 makes New York ~1680 km */
	assert_string_equal(prox("", 64.1466, -21.9426), "192.0.2.1");
	assert_string_equal(prox(", bias: 50", 64.1466, -21.9426), "192.0.2.1");
	assert_string_equal(prox(", bias: 60", 64.1466, -21.9426), "192.0.2.2");
	/* a negative bias shrinks New York's area: Boston (~306 km) goes to London at -99 */
	assert_string_equal(prox(", bias: -90", 42.3601, -71.0589), "192.0.2.2");
	assert_string_equal(prox(", bias: -99", 42.3601, -71.0589), "192.0.2.1");
}

/* ---- latency -------------------------------------------------------------------------------- */

static void test_latency(void **state)
{
	struct compiled *c = compile_ok(
		"checks:\n"
		"  a: { type: tcp, target: 192.0.2.1, port: 80 }\n"
		"  b: { type: tcp, target: 192.0.2.2, port: 80 }\n"
		"  c: { type: tcp, target: 192.0.2.3, port: 80 }\n"
		"latency:\n  regions: [ ra, rb, rc ]\n"
		"records:\n  - name: l.example.\n    type: A\n    policy:\n"
		"      routing: latency\n      members:\n"
		"        - { region: ra, address: 192.0.2.1, check: a }\n"
		"        - { region: rb, address: 192.0.2.2, check: b }\n"
		"        - { region: rc, address: 192.0.2.3, check: c }\n");
	uint8_t h[3] = { 1, 1, 1 };
	uint32_t row[3] = { 50, 20, 80 };
	struct policy_input in = { .health = h, .nhealth = 3, .latency = row, .nlatency = 3,
				   .latency_prefix = 24 };
	struct policy_output out;

	(void)state;
	assert_string_equal(eval1(c, 0, &in, &out), "192.0.2.2");
	assert_int_equal(out.scope, 24);
	h[1] = 0;
	assert_string_equal(eval1(c, 0, &in, &out), "192.0.2.1");
	h[0] = 0;
	assert_string_equal(eval1(c, 0, &in, &out), "192.0.2.3");
	h[2] = 0;                               /* all down: fail open to the lowest */
	assert_string_equal(eval1(c, 0, &in, &out), "192.0.2.2");
	assert_int_equal(out.flags, POLICY_FAIL_OPEN);
	memset(h, 1, 3);
	row[2] = 10;
	row[1] = POLICY_NO_LATENCY;             /* unknown values lose to known ones */
	assert_string_equal(eval1(c, 0, &in, &out), "192.0.2.3");
	in.nlatency = 1;                        /* a short row: the rest are unknown */
	assert_string_equal(eval1(c, 0, &in, &out), "192.0.2.1");
	in.latency = NULL;                      /* no row: the first healthy member */
	h[0] = 0;
	assert_string_equal(eval1(c, 0, &in, &out), "192.0.2.2");
	release(c);
}

/* ---- the GDPR example ------------------------------------------------------------------------ */

enum { FRA_WEB1, FRA_WEB2, FRA_DB, FRA_WEB, FRA, AMS, IAD1, IAD2, PDX, NCHECKS };

static void test_gdpr(void **state)
{
	struct compiled *c = example();
	uint32_t www = rec(c, "www.example.com.", RRTYPE_A);
	uint8_t h[NCHECKS];
	struct policy_input in = { .health = h, .nhealth = NCHECKS, .geo_prefix = 16 };
	struct policy_output out;
	uint64_t seed = 99;
	int fra1 = 0;

	(void)state;
	memset(h, 1, sizeof(h));
	set_geo(&in, "EU", "DE", "BE");
	for (int i = 0; i < 4000; i++) {        /* Frankfurt, weighted 3:1 */
		in.random = splitmix(&seed);
		const char *a = eval1(c, www, &in, &out);
		assert_true(!strcmp(a, "192.0.2.11") || !strcmp(a, "192.0.2.12"));
		fra1 += !strcmp(a, "192.0.2.11");
		assert_int_equal(out.scope, 16);
		assert_int_equal(out.flags, 0);
	}
	assert_true(fra1 > 2800 && fra1 < 3200);
	h[FRA_WEB1] = 0;                         /* one web server down: the other takes all */
	for (int i = 0; i < 100; i++) {
		in.random = splitmix(&seed);
		assert_string_equal(eval1(c, www, &in, &out), "192.0.2.12");
	}
	h[FRA] = 0;                              /* database down: the region is down */
	assert_string_equal(eval1(c, www, &in, &out), "198.51.100.11");
	h[AMS] = 0;                              /* all of Europe down: last resort, not the US */
	assert_string_equal(eval1(c, www, &in, &out), "sorry.example.net.");
	assert_int_equal(out.n, 1);
	/* geolocation had no healthy match (fail open), the failover's last resort answered */
	assert_int_equal(out.flags, POLICY_LAST_RESORT | POLICY_FAIL_OPEN);
	memset(h, 1, sizeof(h));
	set_geo(&in, "NA", "US", "VA");
	for (int i = 0; i < 100; i++) {
		in.random = splitmix(&seed);
		const char *a = eval1(c, www, &in, &out);
		assert_true(!strcmp(a, "203.0.113.11") || !strcmp(a, "203.0.113.12"));
	}
	h[IAD1] = h[IAD2] = 0;
	assert_string_equal(eval1(c, www, &in, &out), "203.0.113.71");
	h[PDX] = 0;                              /* everything down: the primary pool, failed open */
	in.random = splitmix(&seed);
	const char *a = eval1(c, www, &in, &out);
	assert_true(!strcmp(a, "203.0.113.11") || !strcmp(a, "203.0.113.12"));
	assert_int_equal(out.flags, POLICY_FAIL_OPEN);
	h[IAD2] = 1;                             /* one comes back */
	assert_string_equal(eval1(c, www, &in, &out), "203.0.113.12");
	assert_int_equal(out.flags, 0);
	set_geo(&in, "EU", "FR", "");            /* Europe unaffected by the US */
	memset(h, 1, sizeof(h));
	h[IAD1] = h[IAD2] = h[PDX] = 0;
	a = eval1(c, www, &in, &out);
	assert_true(!strcmp(a, "192.0.2.11") || !strcmp(a, "192.0.2.12"));
	release(c);
}

/* ---- fail open, CNAME members ------------------------------------------------------------------ */

static void test_fail_open(void **state)
{
	struct compiled *c = compile_ok(
		"checks:\n  a: { type: tcp, target: 192.0.2.1, port: 80 }\n"
		"  b: { type: tcp, target: 192.0.2.2, port: 80 }\n"
		"records:\n"
		"  - name: open.example.\n    type: A\n    policy:\n      routing: simple\n"
		"      members:\n        - { address: 192.0.2.1, check: a }\n"
		"        - { address: 192.0.2.2, check: b }\n"
		"  - name: closed.example.\n    type: A\n    policy:\n      routing: simple\n"
		"      fail_open: false\n      members:\n        - { address: 192.0.2.1, check: a }\n"
		"        - { address: 192.0.2.2, check: b }\n");
	uint8_t h[2] = { 0, 0 };
	struct policy_input in = { .health = h, .nhealth = 2 };
	struct policy_output out;

	(void)state;
	policy_eval(c->p, rec(c, "open.example.", RRTYPE_A), &in, &out);
	assert_int_equal(out.n, 2);
	assert_int_equal(out.flags, POLICY_FAIL_OPEN);
	policy_eval(c->p, rec(c, "closed.example.", RRTYPE_A), &in, &out);
	assert_int_equal(out.n, 0);
	h[1] = 1;
	policy_eval(c->p, rec(c, "closed.example.", RRTYPE_A), &in, &out);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.flags, 0);
	release(c);
}

static void test_cname_members(void **state)
{
	struct compiled *c = compile_ok(
		"records:\n  - name: c.example.\n    type: A\n    policy:\n      routing: simple\n"
		"      members:\n        - name: Target.Example.NET.\n        - address: 192.0.2.1\n"
		"        - address: 192.0.2.2\n");
	struct policy_input in = { 0 };
	struct policy_output out;

	(void)state;
	in.rotation = 0;                       /* the name first: answered alone */
	assert_string_equal(eval1(c, 0, &in, &out), "Target.Example.NET.");
	assert_int_equal(out.n, 1);
	in.rotation = 1;                       /* an address first: the name is dropped */
	assert_string_equal(eval1(c, 0, &in, &out), "192.0.2.1");
	assert_int_equal(out.n, 2);
	assert_string_equal(ep_text(c, out.ep[1]), "192.0.2.2");
	release(c);
}

/* An alias is an address-like endpoint: it is not answered alone as a
 * name is, and it keeps its target in the blob for the engine. */
static void test_alias_members(void **state)
{
	struct compiled *c = compile_ok(
		"records:\n  - name: example.\n    type: AAAA\n    policy:\n      routing: simple\n"
		"      members:\n        - alias: LB.example.\n        - address: 2001:db8::1\n");
	struct policy_input in = { 0 };
	struct policy_output out;
	struct policy_endpoint ep;

	(void)state;
	in.rotation = 0;
	eval1(c, 0, &in, &out);
	assert_int_equal(out.n, 2);
	policy_endpoint_get(c->p, out.ep[0], &ep);
	assert_int_equal(ep.type, POLICY_ALIAS);
	assert_int_equal(ep.rdlen, 12);
	assert_memory_equal(ep.rdata, "\002LB\007example", 12);
	policy_endpoint_get(c->p, out.ep[1], &ep);
	assert_int_equal(ep.type, RRTYPE_AAAA);
	release(c);
}

/* ---- diagnostics --------------------------------------------------------------------------- */

#define REC(body) "records:\n  - name: x.example.\n    type: A\n    policy:\n" body

static void test_parse_errors(void **state)
{
	static const struct { const char *yaml, *want; } cases[] = {
		{ "records: [ { name: a., type: A, policy: { routing: simple, members: [ { address: 1.2.3.4 } ] } } ]\n"
		  "extra: 1\n",
		  "t.yaml:2:1: unknown key 'extra' (known: version, checks, latency, records)" },
		{ "records:\n  - name: x.example.\n    type: MX\n",
		  "t.yaml:3:11: 'type' must be A, AAAA, CNAME or TXT, got \"MX\"" },
		{ "records:\n  - name: bad..name.\n    type: A\n",
		  "t.yaml:2:11: 'name' must be a domain name, got \"bad..name.\" (syntax error)" },
		{ REC("      routing: random\n      members: []\n"),
		  "t.yaml:5:16: 'routing' must be simple, weighted, latency, geolocation, "
		  "geoproximity, failover or multivalue, got \"random\"" },
		{ REC("      routing: simple\n"), "t.yaml:5:7: a policy needs 'members'" },
		{ REC("      routing: simple\n      members: []\n"),
		  "t.yaml:6:16: 'members' must list 1..1024 members" },
		{ REC("      routing: simple\n      members:\n        - address: 1.2.3\n"),
		  "t.yaml:7:20: 'address' must be an IPv4 or IPv6 address, got \"1.2.3\"" },
		{ REC("      routing: simple\n      members:\n        - address: 2001:db8::1\n"),
		  "t.yaml:7:20: an IPv6 address in an A record" },
		{ REC("      routing: simple\n      members:\n        - text: hi\n"),
		  "t.yaml:7:17: 'text' only fits a TXT record, this is an A record" },
		{ REC("      routing: simple\n      members:\n        - { address: 1.2.3.4, name: a. }\n"),
		  "t.yaml:7:37: 'name' and 'address' exclude each other: a member is one endpoint "
		  "or one policy" },
		{ REC("      routing: simple\n      members:\n        - { check: nope }\n"),
		  "t.yaml:7:11: a member needs 'address', 'name', 'alias', 'text' or 'policy'" },
		{ "records:\n  - name: x.example.\n    type: TXT\n    policy:\n"
		  "      routing: simple\n      members:\n        - alias: a.example.\n",
		  "t.yaml:7:18: 'alias' only fits an A or AAAA record, this is a TXT record" },
		{ REC("      routing: simple\n      members:\n        - alias: a..b\n"),
		  "t.yaml:7:18: 'alias' must be a domain name, got \"a..b\" (syntax error)" },
		{ REC("      routing: simple\n      members:\n        - { address: 1.2.3.4, check: nope }\n"),
		  "t.yaml:7:38: no check named 'nope' in 'checks'" },
		{ REC("      routing: failover\n      members:\n        - { address: 1.2.3.4, weight: 2 }\n"),
		  "t.yaml:7:39: 'weight' only applies to members of a weighted policy, this one is "
		  "failover" },
		{ REC("      routing: weighted\n      pick: 3\n      members:\n        - address: 1.2.3.4\n"),
		  "t.yaml:6:13: 'pick' (3) is more than the 1 members" },
		{ REC("      routing: latency\n      members:\n        - { address: 1.2.3.4, region: eu }\n"),
		  "t.yaml:7:39: no latency region named 'eu' (the 'latency' section lists them)" },
		{ REC("      routing: latency\n      members:\n        - { address: 1.2.3.4 }\n"),
		  "t.yaml:7:11: a latency member needs 'region'" },
		{ REC("      routing: geolocation\n      members:\n        - { country: DEU, address: 1.2.3.4 }\n"),
		  "t.yaml:7:22: 'country' must be an ISO 3166-1 alpha-2 code like DE, got \"DEU\"" },
		{ REC("      routing: geolocation\n      members:\n        - { continent: XX, address: 1.2.3.4 }\n"),
		  "t.yaml:7:24: 'continent' must be one of AF, AN, AS, EU, NA, OC or SA, got \"XX\"" },
		{ REC("      routing: geolocation\n      members:\n        - { country: DE, address: 1.2.3.4 }\n"
		      "        - { country: de, address: 1.2.3.5 }\n"),
		  "t.yaml:8:11: this location is already taken by member 1 (line 7)" },
		{ REC("      routing: geolocation\n      members:\n        - { address: 1.2.3.4 }\n"),
		  "t.yaml:7:11: a geolocation member needs 'continent', 'country', 'subdivision' or "
		  "'default: true'" },
		{ REC("      routing: geoproximity\n      members:\n        - { lat: 91, lon: 0, address: 1.2.3.4 }\n"),
		  "t.yaml:7:18: 'lat' must be a number -90..90, got \"91\"" },
		{ REC("      routing: geoproximity\n      members:\n"
		      "        - { lat: 1, lon: 0, bias: 100, address: 1.2.3.4 }\n"),
		  "t.yaml:7:35: 'bias' must be an integer -99..99, got \"100\"" },
		{ "checks:\n  a: { type: http, target: 192.0.2.1, timeout_ms: 20000 }\n",
		  "t.yaml:2:51: 'timeout_ms' (20000) must not exceed 'interval_ms' (10000)" },
		{ "checks:\n  a: { type: tcp, target: 192.0.2.1 }\n", "t.yaml:2:6: a tcp check needs 'port'" },
		{ "checks:\n  a: { type: tcp, target: 192.0.2.1, port: 80, path: /x }\n",
		  "t.yaml:2:48: unknown key 'path' in 'a' (known: type, target, port, interval_ms, "
		  "timeout_ms, fall, rise, quorum)" },
		{ "checks:\n  a: { type: http, target: 192.0.2.1, status: 600 }\n",
		  "t.yaml:2:47: 'status' must be a status code or a range like 200-399 (within "
		  "100..599), got \"600\"" },
		{ "checks:\n  a: { type: ping, target: 192.0.2.1 }\n",
		  "t.yaml:2:14: 'type' must be tcp, http, https or calculated, got \"ping\"" },
		{ "checks:\n  a: { type: calculated, op: and, members: [ b ] }\n"
		  "  b: { type: calculated, op: or, members: [ a ] }\n",
		  "t.yaml:2:3: calculated check 'a' is part of a cycle (through 'b')" },
		{ "checks:\n  a: { type: calculated, op: and, members: [ a ] }\n",
		  "t.yaml:2:46: a calculated check cannot use itself" },
		{ "checks:\n  a: { type: calculated, op: and, members: [ zz ] }\n",
		  "t.yaml:2:46: no check named 'zz' in 'checks'" },
		{ "checks:\n  t: { type: tcp, target: h, port: 1 }\n"
		  "  a: { type: calculated, op: at_least, n: 2, members: [ t ] }\n",
		  "t.yaml:3:43: 'n' must be an integer 1..1, got \"2\"" },
		{ "records:\n  - { name: a., type: A, policy: { routing: simple, members: [ { address: 1.2.3.4 } ] } }\n"
		  "  - { name: A., type: A, policy: { routing: simple, members: [ { address: 1.2.3.5 } ] } }\n",
		  "t.yaml:3:5: a second A policy for this name (the first is at line 2)" },
		{ "records:\n  - { name: a., type: A, policy: { routing: simple, members: [ { address: 1.2.3.4 } ] } }\n"
		  "  - { name: a., type: CNAME, policy: { routing: simple, members: [ { name: b. } ] } }\n",
		  "t.yaml:3:5: a CNAME policy cannot share its name with other types (line 2)" },
		{ "latency:\n  regions: [ a, a ]\n", "t.yaml:2:17: region 'a' is listed twice (first at line 2)" },
		{ "records:\n  - name: a.\n    type: A\n    policy: { routing: simple, members: [ { address: 1.2.3.4 ] }\n",
		  "t.yaml:4:62: YAML syntax: did not find expected ',' or '}' (while parsing a flow "
		  "mapping at 4:43)" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		compile_bad(cases[i].yaml, cases[i].want);
}

static void test_nesting_limit(void **state)
{
	char y[8192];
	size_t n = (size_t)snprintf(y, sizeof(y), "records:\n  - name: d.example.\n    type: A\n"
				    "    policy:\n");
	int levels;

	(void)state;
	for (levels = 1; levels <= 9; levels++) {
		int ind = 6 + (levels - 1) * 6;
		n += (size_t)snprintf(y + n, sizeof(y) - n, "%*srouting: simple\n%*smembers:\n",
				      ind, "", ind, "");
		if (levels < 9)
			n += (size_t)snprintf(y + n, sizeof(y) - n, "%*s- policy:\n", ind + 2, "");
		else
			n += (size_t)snprintf(y + n, sizeof(y) - n, "%*s- address: 1.2.3.4\n",
					      ind + 2, "");
	}
	compile_bad(y, "t.yaml:29:55: policies nested deeper than 8 levels");
}

static void test_ttl_warnings(void **state)
{
	struct diag d;
	uint8_t *blob;
	size_t len;
	const char *geo = REC("      routing: geolocation\n      members:\n"
			      "        - { default: true, address: 1.2.3.4 }\n");
	char y[512];

	(void)state;
	snprintf(y, sizeof(y), "%s    ttl: 3600\n", geo);
	diag_init(&d, NULL);
	assert_int_equal(policy_compile_text("t.yaml", y, strlen(y), &d, &blob, &len), 0);
	assert_int_equal(d.warnings, 1);    /* a warning, not an error: the blob exists */
	free(blob);
	snprintf(y, sizeof(y), "%s    ttl: 300\n", geo);
	diag_init(&d, NULL);
	assert_int_equal(policy_compile_text("t.yaml", y, strlen(y), &d, &blob, &len), 0);
	assert_int_equal(d.warnings, 0);
	free(blob);
	snprintf(y, sizeof(y), "%s    ttl: 3600\n", geo);
	diag_init(&d, NULL);
	d.werror = 1;                        /* -Werror style: the warning fails the file */
	assert_true(policy_compile_text("t.yaml", y, strlen(y), &d, &blob, &len) < 0);
	assert_string_equal(d.first, "t.yaml:8:10: TTL 3600 on an answer that depends on the "
			    "client's location: a resolver serves one client's answer to all its "
			    "clients that long (at most 300 advised)");
	/* a failover that nothing checks never fails over */
	snprintf(y, sizeof(y), REC("      routing: failover\n      members:\n"
				   "        - address: 1.2.3.4\n        - address: 1.2.3.5\n"));
	diag_init(&d, NULL);
	d.werror = 1;
	assert_true(policy_compile_text("t.yaml", y, strlen(y), &d, &blob, &len) < 0);
	assert_string_equal(d.first, "t.yaml:7:9: a failover policy without health checks always "
			    "answers its first member");
	/* a static answer may keep a long TTL */
	snprintf(y, sizeof(y), REC("      routing: simple\n      members:\n"
				   "        - address: 1.2.3.4\n") "    ttl: 86400\n");
	diag_init(&d, NULL);
	assert_int_equal(policy_compile_text("t.yaml", y, strlen(y), &d, &blob, &len), 0);
	assert_int_equal(d.warnings, 0);
	free(blob);
}

/* ---- the blob against corruption ------------------------------------------------------------ */

/* Evaluate every record with a few inputs and read everything open let
 * through: under ASan an out-of-bounds read fails the test. */
static void exercise(const struct policy *p, uint64_t *seed)
{
	uint8_t h[16];
	uint32_t row[4] = { 5, 1, 9, 3 };
	struct policy_input in = { .health = h, .nhealth = 16, .latency = row, .nlatency = 4,
				   .has_coords = true, .lat = 10, .lon = 20 };
	struct policy_output out;
	struct policy_check k;
	struct policy_record r;
	struct policy_endpoint e;

	assert_int_equal(geo_loc_pack("EU", "DE", NULL, &in.geo), 0);
	for (uint32_t i = 0; i < policy_record_count(p); i++) {
		policy_record_get(p, i, &r);
		assert_true(policy_find(p, r.name, r.name_len, r.type) >= 0);
		for (int t = 0; t < 4; t++) {
			uint64_t x = splitmix(seed);
			memcpy(h, &x, 8);
			memcpy(h + 8, &x, 8);
			in.random = splitmix(seed);
			in.rotation = x;
			policy_eval(p, i, &in, &out);
			assert_true(out.n <= POLICY_MAX_ANSWER);
			for (uint32_t j = 0; j < out.n; j++) {
				assert_true(out.ep[j] < policy_endpoint_count(p));
				policy_endpoint_get(p, out.ep[j], &e);
			}
		}
	}
	for (uint32_t i = 0; i < policy_check_count(p); i++) {
		policy_check_get(p, i, &k);
		assert_true(strlen(k.name) + strlen(k.target) + strlen(k.body) < (1u << 20));
		for (uint32_t j = 0; j < k.nmembers; j++)
			assert_true(policy_check_member(p, i, j) < policy_check_count(p));
	}
	for (uint32_t i = 0; i < policy_region_count(p); i++)
		assert_true(strlen(policy_region_name(p, i)) > 0);
}

static void test_blob_truncation(void **state)
{
	struct compiled *c = example();
	uint8_t *copy = malloc(c->len);
	struct policy *p;

	(void)state;
	assert_non_null(copy);
	for (size_t len = 0; len < c->len; len++) {
		memcpy(copy, c->blob, len);
		int ret = policy_open(copy, len, NULL, &p);
		if (ret != P53_EFORMAT)
			fail_msg("length %zu: %d", len, ret);
		assert_null(p);
	}
	assert_int_equal(policy_open(c->blob + 4, c->len - 8, NULL, &p), P53_EINVAL);
	free(copy);
	release(c);
}

static void test_blob_flips(void **state)
{
	struct compiled *c = example();
	uint8_t *copy = malloc(c->len);
	uint64_t seed = 2026, opened = 0;
	struct policy *p;
	struct diag d;

	(void)state;
	assert_non_null(copy);
	diag_init(&d, NULL);
	/* every single-bit flip, then random multi-byte damage */
	for (size_t bit = 0; bit < c->len * 8; bit++) {
		memcpy(copy, c->blob, c->len);
		copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		int ret = policy_open(copy, c->len, &d, &p);
		if (ret == 0) {
			exercise(p, &seed);
			policy_close(p);
		} else {
			assert_true(ret == P53_EFORMAT || ret == P53_EVERSION);
		}
	}
	for (int iter = 0; iter < 30000; iter++) {
		memcpy(copy, c->blob, c->len);
		int flips = 1 + (int)(splitmix(&seed) % 4);
		for (int f = 0; f < flips; f++) {
			uint64_t r = splitmix(&seed);
			size_t at = (size_t)(r % c->len);
			/* half of the flips hit the tables, where damage is subtle */
			if (iter % 2 && c->len > 200)
				at = 88 + (size_t)(r % (c->len / 2));
			copy[at] ^= (uint8_t)(1u << ((r >> 32) % 8));
		}
		int ret = policy_open(copy, c->len, &d, &p);
		if (ret == 0) {
			opened++;
			exercise(p, &seed);
			policy_close(p);
		} else {
			assert_true(ret == P53_EFORMAT || ret == P53_EVERSION);
		}
	}
	/* many flips land on bytes that do not matter (addresses, strings) */
	assert_true(opened > 100);
	assert_true(d.errors > 1000);
	free(copy);
	release(c);
}

static void test_blob_roundtrip_checks(void **state)
{
	struct compiled *c = example();
	uint64_t seed = 5;
	struct policy *p;

	(void)state;
	exercise(c->p, &seed);
	/* a foreign major version is refused as such */
	c->blob[8] = 2;
	assert_int_equal(policy_open(c->blob, c->len, NULL, &p), P53_EVERSION);
	c->blob[8] = 1;
	c->blob[0] = 'X';
	assert_int_equal(policy_open(c->blob, c->len, NULL, &p), P53_EFORMAT);
	release(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_weighted_distribution),
		cmocka_unit_test(test_weighted_n_of_m),
		cmocka_unit_test(test_weight_zero),
		cmocka_unit_test(test_simple_rotation),
		cmocka_unit_test(test_multivalue),
		cmocka_unit_test(test_failover),
		cmocka_unit_test(test_geolocation),
		cmocka_unit_test(test_geoproximity),
		cmocka_unit_test(test_latency),
		cmocka_unit_test(test_gdpr),
		cmocka_unit_test(test_fail_open),
		cmocka_unit_test(test_cname_members),
		cmocka_unit_test(test_alias_members),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_nesting_limit),
		cmocka_unit_test(test_ttl_warnings),
		cmocka_unit_test(test_blob_truncation),
		cmocka_unit_test(test_blob_flips),
		cmocka_unit_test(test_blob_roundtrip_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
