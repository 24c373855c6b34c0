/*
 * Signed answers of traffic policies (zones/policy_sig.h): every answer
 * policy_eval gives over many random inputs (health words, locations,
 * latency rows, coordinates, random numbers) is among the sets
 * policy_sig_answers enumerates; every set's RRSIG and every NODATA
 * denial verifies with OpenSSL from data rebuilt here, the denial's type
 * bitmap lacks the record's type; what cannot be signed is refused with
 * its reason; a damaged signature blob does not open.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dname.h"
#include "dnssec.h"
#include "dnssec_verify.h"
#include "error.h"
#include "geo.h"
#include "policy.h"
#include "policy_sig.h"
#include "rdata.h"
#include "snap.h"
#include "zone.h"

#define NOW 1790000000

static const char zone_text[] =
	"$ORIGIN pol.test.\n$TTL 300\n"
	"@ SOA ns1 hostmaster 1 7200 900 1209600 60\n@ NS ns1\n"
	"ns1 A 192.0.2.1\nweb A 192.0.2.80\nweb A 192.0.2.81\nweb AAAA 2001:db8::80\n";

/* Every kind, nested, with checks that can fail and ones that cannot. */
static const char policy_text[] =
	"version: 1\n"
	"checks:\n"
	"  a: { type: tcp, target: 127.0.0.1, port: 1 }\n"
	"  b: { type: tcp, target: 127.0.0.1, port: 2 }\n"
	"  c: { type: tcp, target: 127.0.0.1, port: 3 }\n"
	"  ab: { type: calculated, op: and, members: [ a, b ] }\n"
	"latency:\n  regions: [ eu, us ]\n"
	"records:\n"
	"  - name: w.pol.test.\n    type: A\n    ttl: 30\n    policy:\n"
	"      routing: weighted\n      members:\n"
	"        - { address: 10.0.0.1, weight: 1, check: a }\n"
	"        - { address: 10.0.0.2, weight: 3, check: b }\n"
	"        - { address: 10.0.0.3, weight: 0, check: c }\n"
	"        - { address: 10.0.0.4, weight: 0 }\n"
	"  - name: w2.pol.test.\n    type: A\n    ttl: 30\n    policy:\n"
	"      routing: weighted\n      pick: 2\n      fail_open: false\n      members:\n"
	"        - { address: 10.0.1.1, weight: 1, check: a }\n"
	"        - { address: 10.0.1.2, weight: 1, check: b }\n"
	"        - { address: 10.0.1.3, weight: 1, check: c }\n"
	"  - name: f.pol.test.\n    type: A\n    ttl: 30\n    policy:\n"
	"      routing: failover\n      fail_open: false\n      members:\n"
	"        - { address: 10.0.2.1, check: a }\n"
	"        - { alias: web.pol.test., check: b }\n"
	"  - name: m.pol.test.\n    type: A\n    ttl: 30\n    policy:\n"
	"      routing: multivalue\n      max: 2\n      members:\n"
	"        - { address: 10.0.3.1, check: a }\n"
	"        - { address: 10.0.3.2, check: b }\n"
	"        - { address: 10.0.3.3 }\n"
	"        - { address: 10.0.3.4, check: c }\n"
	"  - name: s.pol.test.\n    type: AAAA\n    ttl: 30\n    policy:\n"
	"      routing: simple\n      members:\n"
	"        - { address: 2001:db8::1, check: a }\n"
	"        - { address: 2001:db8::2 }\n"
	"        - { alias: web.pol.test., check: ab }\n"
	"  - name: g.pol.test.\n    type: A\n    ttl: 30\n    policy:\n"
	"      routing: geolocation\n      fallback: true\n      members:\n"
	"        - continent: EU\n          check: a\n          policy:\n"
	"            routing: failover\n            members:\n"
	"              - { address: 10.0.4.1, check: b }\n"
	"              - check: c\n                policy:\n"
	"                  routing: weighted\n                  pick: 2\n                  members:\n"
	"                    - { address: 10.0.4.2, weight: 1 }\n"
	"                    - { address: 10.0.4.3, weight: 1, check: a }\n"
	"                    - { address: 10.0.4.4, weight: 2 }\n"
	"            last_resort:\n              - address: 10.0.4.9\n"
	"        - { country: DE, address: 10.0.4.10, check: b }\n"
	"        - { subdivision: US-CA, address: 10.0.4.11, check: c }\n"
	"        - { default: true, address: 10.0.4.12, check: a }\n"
	"  - name: g2.pol.test.\n    type: A\n    ttl: 30\n    policy:\n"
	"      routing: geolocation\n      fail_open: false\n      members:\n"
	"        - { continent: NA, address: 10.0.5.1, check: a }\n"
	"        - { country: JP, address: 10.0.5.2 }\n"
	"  - name: l.pol.test.\n    type: A\n    ttl: 30\n    policy:\n"
	"      routing: latency\n      members:\n"
	"        - { region: eu, address: 10.0.6.1, check: a }\n"
	"        - { region: us, address: 10.0.6.2, check: b }\n"
	"  - name: p.pol.test.\n    type: A\n    ttl: 30\n    policy:\n"
	"      routing: geoproximity\n      fail_open: false\n      members:\n"
	"        - { lat: 50.1, lon: 8.7, address: 10.0.7.1, check: a }\n"
	"        - { lat: 38.9, lon: -77.4, bias: 20, address: 10.0.7.2, check: b }\n"
	"  - name: c.pol.test.\n    type: CNAME\n    ttl: 30\n    policy:\n"
	"      routing: weighted\n      members:\n"
	"        - { name: web.pol.test., weight: 1, check: a }\n"
	"        - { name: elsewhere.example., weight: 1 }\n"
	"  - name: mix.pol.test.\n    type: A\n    ttl: 30\n    policy:\n"
	"      routing: simple\n      members:\n"
	"        - { name: web.pol.test., check: a }\n"
	"        - { address: 10.0.8.1, check: b }\n"
	"        - { address: 10.0.8.2 }\n"
	"  - name: t.pol.test.\n    type: TXT\n    ttl: 30\n    policy:\n"
	"      routing: failover\n      members:\n"
	"        - { text: blue, check: a }\n"
	"        - { text: green }\n";

static uint8_t *compile(const char *text, size_t *len)
{
	struct diag d;
	uint8_t *blob = NULL;

	diag_init(&d, stderr);
	d.hide_warnings = 1;
	assert_int_equal(policy_compile_text("p.yaml", text, strlen(text), &d, &blob, len), 0);
	return blob;
}

/* ---- the enumeration covers every answer ----------------------------------- */

struct sets {
	uint32_t n;
	uint32_t len[POLICY_SIG_MAX_SETS];
	uint32_t ep[POLICY_SIG_MAX_SETS][POLICY_MAX_ANSWER];
};

static int collect(void *arg, const uint32_t *eps, uint32_t n)
{
	struct sets *s = arg;

	assert_true(n <= POLICY_MAX_ANSWER && s->n < POLICY_SIG_MAX_SETS);
	for (uint32_t i = 1; i < n; i++)
		assert_true(eps[i - 1] < eps[i]);
	s->len[s->n] = n;
	memcpy(s->ep[s->n++], eps, n * sizeof(*eps));
	return 0;
}

static bool among(const struct sets *s, const uint32_t *eps, uint32_t n)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (s->len[i] == n && !memcmp(s->ep[i], eps, n * sizeof(*eps)))
			return true;
	return false;
}

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint32_t loc(const char *cont, const char *country, const char *sub)
{
	uint32_t v = 0;

	assert_int_equal(geo_loc_pack(cont, country, sub, &v), 0);
	return v;
}

/* A random client and random health. */
static void random_input(const struct policy *p, struct policy_input *in, uint8_t *health,
			 uint32_t *row)
{
	const uint32_t locs[] = { GEO_LOC_NONE, loc("EU", "DE", NULL), loc("EU", "FR", NULL),
				  loc("NA", "US", "CA"), loc("NA", "US", "TX"),
				  loc("AS", "JP", NULL), loc("EU", NULL, NULL) };

	memset(in, 0, sizeof(*in));
	in->family = 4;
	in->prefix_len = 24;
	for (uint32_t i = 0; i < policy_check_count(p); i++)
		health[i] = rnd() % 3 != 0;
	in->health = health;
	in->nhealth = policy_check_count(p);
	in->geo = locs[rnd() % (sizeof(locs) / sizeof(locs[0]))];
	in->geo_prefix = 24;
	if (rnd() % 4) {
		in->has_coords = true;
		in->lat = (double)(rnd() % 180) - 90;
		in->lon = (double)(rnd() % 360) - 180;
	}
	if (rnd() % 4) {
		for (uint32_t i = 0; i < policy_region_count(p); i++)
			row[i] = rnd() % 5 ? (uint32_t)(rnd() % 200) : POLICY_NO_LATENCY;
		in->latency = row;
		in->nlatency = policy_region_count(p);
	}
	in->random = rnd();
	in->rotation = rnd();
}

static void covers(const char *text)
{
	static struct sets s;
	size_t len;
	uint8_t *blob = compile(text, &len);
	struct policy *p;
	uint8_t health[64];
	uint32_t row[16], sorted[POLICY_MAX_ANSWER];

	assert_int_equal(policy_open(blob, len, NULL, &p), 0);
	assert_true(policy_check_count(p) <= 64 && policy_region_count(p) <= 16);
	for (uint32_t ri = 0; ri < policy_record_count(p); ri++) {
		s.n = 0;
		assert_int_equal(policy_sig_answers(p, ri, collect, &s), 0);
		assert_true(s.n > 0);
		for (int k = 0; k < 20000; k++) {
			struct policy_input in;
			struct policy_output out;
			random_input(p, &in, health, row);
			policy_eval(p, ri, &in, &out);
			for (uint32_t i = 0; i < out.n; i++) {
				uint32_t v = out.ep[i], j = i;
				for (; j && sorted[j - 1] > v; j--)
					sorted[j] = sorted[j - 1];
				sorted[j] = v;
			}
			if (!among(&s, sorted, out.n)) {
				struct policy_record r;
				policy_record_get(p, ri, &r);
				fail_msg("record %u (type %u): an answer of %u endpoints (first %u) "
					 "is not among the %u enumerated", ri, r.type, out.n,
					 out.n ? sorted[0] : 0, s.n);
			}
		}
	}
	policy_close(p);
	free(blob);
}

static void test_answers_cover_eval(void **st)
{
	char path[4096];
	const char *root = getenv("SOURCE_ROOT");
	FILE *f;
	char *text;
	long n;

	(void)st;
	covers(policy_text);
	snprintf(path, sizeof(path), "%s/zones/examples/policy.yaml", root ? root : ".");
	assert_non_null(f = fopen(path, "rb"));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	assert_non_null(text = calloc(1, (size_t)n + 1));
	assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	covers(text);
	free(text);
}

/* The enumeration stays small where policy_eval has few outcomes. */
static void test_answer_counts(void **st)
{
	static struct sets s;
	size_t len;
	uint8_t *blob = compile(policy_text, &len);
	struct policy *p;
	/* w: 10.0.0.1 or .2 by weight, .3 or .4 (weight 0) when both are
	 * down; never fail-open (.4 has no check); f: the first, the alias
	 * or nothing; t: the first or the second (which cannot be down) */
	static const struct { const char *name; uint32_t n; } want[] = {
		{ "\1w\3pol\4test", 4 },
		{ "\1f\3pol\4test", 3 },
		{ "\1t\3pol\4test", 2 },
	};

	(void)st;
	assert_int_equal(policy_open(blob, len, NULL, &p), 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		int ri = policy_find(p, (const uint8_t *)want[i].name, strlen(want[i].name) + 1, 0);
		assert_true(ri >= 0);
		s.n = 0;
		assert_int_equal(policy_sig_answers(p, (uint32_t)ri, collect, &s), 0);
		assert_int_equal(s.n, want[i].n);
	}
	policy_close(p);
	free(blob);
}

/* ---- signatures ------------------------------------------------------------- */

struct signed_setup {
	uint8_t *pblob, *sblob;
	size_t plen, slen;
	struct zone *zone;
	struct dnssec_key *key;
	struct policy *p;
	struct policy_sig *ps;
	struct policy_sig_stats st;
};

static int sign_all(struct signed_setup *t, const char *zt, const char *pt, int nsec3,
		    struct diag *d)
{
	struct dnssec_sign_opts o = { .now = NOW, .nsec3 = nsec3, .threads = 1,
				      .unsigned_set = policy_sig_placeholder };
	struct zone *z = NULL;
	struct policy *p;
	bool signing = true;
	int err;

	memset(t, 0, sizeof(*t));
	t->pblob = compile(pt, &t->plen);
	assert_int_equal(policy_open(t->pblob, t->plen, d, &p), 0);
	o.unsigned_arg = p;
	assert_int_equal(zone_parse_string(zt, strlen(zt), "test", NULL, d, &z), 0);
	if ((err = snap_policy_prepare_signing(&z, 1, t->pblob, t->plen, &signing, d)) < 0) {
		zone_free(z);
		policy_close(p);
		return err;
	}
	assert_int_equal(dnssec_key_generate(13, DNSSEC_CSK, zone_origin(z), d, &t->key), 0);
	assert_int_equal(dnssec_sign_zone(z, &t->key, 1, &o, d, &t->zone, NULL), 0);
	zone_free(z);
	policy_close(p);
	struct policy_sig_zone pz = { t->zone, &t->key, 1 };
	return policy_sig_build(t->pblob, t->plen, &pz, 1, &o, d, &t->sblob, &t->slen, &t->st);
}

static void free_signed(struct signed_setup *t)
{
	policy_sig_close(t->ps);
	policy_close(t->p);
	zone_free(t->zone);
	dnssec_key_free(t->key);
	free(t->pblob);
	free(t->sblob);
}

struct rr { uint8_t rd[512]; uint16_t len; };

static int rr_cmp(const void *a, const void *b)
{
	const struct rr *x = a, *y = b;
	int c = memcmp(x->rd, y->rd, x->len < y->len ? x->len : y->len);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* RFC 4034 3.1.8.1 from the RRSIG RR (wire form) and the RRs. */
static size_t signed_data(const uint8_t *sig_rr, const uint8_t *owner, struct rr *rrs, size_t n,
			  uint16_t type, uint8_t *msg)
{
	const uint8_t *srd = sig_rr + 12;
	size_t len = 18 + (size_t)dname_wire_len(srd + 18, 255), k = 0;
	uint8_t lower[DNAME_MAXLEN];
	size_t olen = dname_copy_lower(lower, owner);

	memcpy(msg, srd, len);
	for (size_t i = 0; i < n; i++)
		dnssec_canonical_rdata(type, rrs[i].rd, rrs[i].len);
	qsort(rrs, n, sizeof(*rrs), rr_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i && !rr_cmp(&rrs[i - 1], &rrs[i]))
			continue;
		uint8_t hdr[10] = { (uint8_t)(type >> 8), (uint8_t)type, 0, 1, srd[4], srd[5],
				    srd[6], srd[7], (uint8_t)(rrs[i].len >> 8), (uint8_t)rrs[i].len };
		memcpy(msg + len, lower, olen);
		memcpy(msg + len + olen, hdr, 10);
		memcpy(msg + len + olen + 10, rrs[i].rd, rrs[i].len);
		len += olen + 10 + rrs[i].len;
		k++;
	}
	assert_true(k > 0);
	return len;
}

static void verify_sigs(struct signed_setup *t, const struct policy_sig_rrs *sig,
			const uint8_t *owner, struct rr *rrs, size_t n, uint16_t type)
{
	static uint8_t msg[65536];
	size_t dlen;
	const uint8_t *dk = dnssec_key_dnskey(t->key, &dlen);
	EVP_PKEY *pk = tdnssec_pkey(dk, dlen);
	const uint8_t *rr = sig->wire;

	assert_int_equal(sig->count, 1);
	assert_int_equal((rr[12] << 8 | rr[13]), type);     /* type covered */
	size_t len = signed_data(rr, owner, rrs, n, type, msg);
	uint16_t rdlen = (uint16_t)(rr[10] << 8 | rr[11]);
	assert_true(tdnssec_verify(pk, rr[14], msg, len, rr + 12 + rdlen - 64));
	msg[len - 1] ^= 1;
	assert_false(tdnssec_verify(pk, rr[14], msg, len, rr + 12 + rdlen - 64));
	EVP_PKEY_free(pk);
}

/* The RRs a set of endpoints answers with (aliases from the zone). */
static size_t answer_rrs(struct signed_setup *t, const struct policy_record *r,
			 const uint32_t *eps, uint32_t n, struct rr *out, uint16_t *type)
{
	size_t k = 0, nrr;
	const struct zone_rr *zr = zone_rrs(t->zone, &nrr);

	*type = r->type;
	for (uint32_t i = 0; i < n; i++) {
		struct policy_endpoint ep;
		policy_endpoint_get(t->p, eps[i], &ep);
		if (ep.type == RRTYPE_CNAME)
			*type = RRTYPE_CNAME;
		if (ep.type != POLICY_ALIAS) {
			memcpy(out[k].rd, ep.rdata, ep.rdlen);
			out[k++].len = ep.rdlen;
			continue;
		}
		for (size_t j = 0; j < nrr; j++)
			if (zr[j].type == r->type &&
			    dname_equal(zone_rr_owner(t->zone, &zr[j]), ep.rdata)) {
				memcpy(out[k].rd, zone_rr_rdata(t->zone, &zr[j]), zr[j].rdlen);
				out[k++].len = zr[j].rdlen;
			}
	}
	return k;
}

static bool bitmap_has(const uint8_t *rd, size_t at, size_t len, uint16_t t)
{
	while (at + 2 <= len) {
		unsigned win = rd[at], blen = rd[at + 1];
		if (win == t >> 8 && (t & 0xff) / 8 < blen)
			return rd[at + 2 + (t & 0xff) / 8] & (0x80 >> (t % 8));
		at += 2 + blen;
	}
	return false;
}

static void check_record(struct signed_setup *t, uint32_t ri, int nsec3)
{
	static struct sets s;
	static struct rr rrs[64];
	struct policy_record r;
	struct policy_sig_rrs sig, nsec;
	bool empty = false;
	uint16_t type;

	policy_record_get(t->p, ri, &r);
	assert_true(policy_sig_signed(t->ps, ri));
	s.n = 0;
	assert_int_equal(policy_sig_answers(t->p, ri, collect, &s), 0);
	for (uint32_t i = 0; i < s.n; i++) {
		size_t n = answer_rrs(t, &r, s.ep[i], s.len[i], rrs, &type);
		if (!n) {
			empty = true;
			continue;
		}
		assert_true(policy_sig_find(t->ps, ri, s.ep[i], s.len[i], &sig));
		verify_sigs(t, &sig, r.name, rrs, n, type);
	}
	const uint8_t *name;
	uint32_t nlen;
	assert_int_equal(policy_sig_denial(t->ps, ri, &name, &nlen, &nsec, &sig), empty);
	if (!empty)
		return;
	/* the denial: the owner's (or its hash's) NSEC(3), without the type */
	const uint8_t *rd = nsec.wire + 12;
	size_t rdlen = (size_t)(nsec.wire[10] << 8 | nsec.wire[11]), at;
	uint16_t dtype = (uint16_t)(nsec.wire[2] << 8 | nsec.wire[3]);
	assert_int_equal(dtype, nsec3 ? RRTYPE_NSEC3 : RRTYPE_NSEC);
	if (!nsec3) {
		assert_true(dname_equal(name, r.name));
		at = (size_t)dname_wire_len(rd, rdlen);
	} else {
		at = 5u + rd[4];
		at += 1u + rd[at];
	}
	assert_false(bitmap_has(rd, at, rdlen, r.type));
	assert_true(bitmap_has(rd, at, rdlen, RRTYPE_RRSIG));
	memcpy(rrs[0].rd, rd, rdlen);
	rrs[0].len = (uint16_t)rdlen;
	verify_sigs(t, &sig, name, rrs, 1, dtype);
}

static void signed_round(int nsec3)
{
	struct signed_setup t;
	struct diag d;
	uint32_t bogus[2] = { 0, 1 };
	struct policy_sig_rrs sig;

	diag_init(&d, stderr);
	d.hide_warnings = 1;
	assert_int_equal(sign_all(&t, zone_text, policy_text, nsec3, &d), 0);
	assert_non_null(t.sblob);
	assert_int_equal(policy_open(t.pblob, t.plen, &d, &t.p), 0);
	assert_int_equal(policy_sig_open(t.sblob, t.slen, t.p, &d, &t.ps), 0);
	assert_int_equal(t.st.records, policy_record_count(t.p));
	/* the placeholders are never signed: a signature over their data
	 * would let anyone replay a false answer */
	size_t nrr;
	const struct zone_rr *rr = zone_rrs(t.zone, &nrr);
	for (size_t i = 0; i < nrr; i++) {
		const uint8_t *rd = zone_rr_rdata(t.zone, &rr[i]);
		uint8_t owner[DNAME_MAXLEN];
		dname_copy_lower(owner, zone_rr_owner(t.zone, &rr[i]));
		if (rr[i].type == RRTYPE_RRSIG)
			assert_int_equal(policy_find(t.p, owner, (size_t)dname_wire_len(owner, 255),
						     (uint16_t)(rd[0] << 8 | rd[1])), P53_ENOTFOUND);
	}
	assert_true(t.st.empty >= 4);      /* f, w2, g2, p */
	for (uint32_t ri = 0; ri < policy_record_count(t.p); ri++)
		check_record(&t, ri, nsec3);
	/* a set no policy can answer with has no signature */
	assert_false(policy_sig_find(t.ps, 0, bogus, 2, &sig));
	free_signed(&t);
}

static void test_signatures_verify(void **st)
{
	(void)st;
	signed_round(0);
	signed_round(1);
}

/* ---- refusals ------------------------------------------------------------------ */

static void refused(const char *policy, const char *why)
{
	struct signed_setup t;
	struct diag d;

	diag_init(&d, NULL);
	assert_int_equal(sign_all(&t, zone_text, policy, 0, &d), P53_EZONE);
	if (!strstr(d.first, why))
		fail_msg("message '%s' lacks '%s'", d.first, why);
	assert_null(t.sblob);
	free_signed(&t);
}

static void test_refusals(void **st)
{
	static char big[8192];
	int n;

	(void)st;
	refused("version: 1\nrecords:\n  - name: x.pol.test.\n    type: A\n    policy:\n"
		"      routing: simple\n      members:\n        - { alias: www.example.net. }\n",
		"outside the zones compiled");
	/* 13 members that can each be down: 8191 possible answers */
	n = snprintf(big, sizeof(big), "version: 1\nchecks:\n");
	for (int i = 0; i < 13; i++)
		n += snprintf(big + n, sizeof(big) - (size_t)n,
			      "  k%d: { type: tcp, target: 127.0.0.1, port: %d }\n", i, i + 1);
	n += snprintf(big + n, sizeof(big) - (size_t)n, "records:\n  - name: x.pol.test.\n"
		      "    type: A\n    policy:\n      routing: simple\n      members:\n");
	for (int i = 0; i < 13; i++)
		n += snprintf(big + n, sizeof(big) - (size_t)n,
			      "        - { address: 10.1.0.%d, check: k%d }\n", i + 1, i);
	refused(big, "more than 4096 different RRsets");
}

/* A policy of one simple record, x.pol.test. A. */
static const char one_record[] =
	"version: 1\nrecords:\n  - name: x.pol.test.\n    type: A\n"
	"    policy:\n      routing: simple\n      members:\n"
	"        - { address: 10.0.0.1 }\n";

/* A zone signed before the compile, whose keys the compile does not hold,
 * gets no policy records. */
static void test_presigned_refused(void **st)
{
	struct signed_setup t;
	struct diag d;
	struct zone *z;
	size_t plen;
	uint8_t *p = compile(one_record, &plen);

	(void)st;
	diag_init(&d, NULL);
	assert_int_equal(sign_all(&t, zone_text, "version: 1\nrecords: []\n", 0, &d), 0);
	z = t.zone;
	assert_int_equal(snap_policy_prepare(&z, 1, p, plen, &d), P53_EZONE);
	assert_non_null(strstr(d.first, "signed already"));
	free(p);
	free_signed(&t);
}

/* ---- a damaged blob does not open ------------------------------------------------ */

static void damaged(struct signed_setup *t, size_t at, uint8_t xor, int want)
{
	uint8_t *copy = aligned_alloc(8, (t->slen + 7) & ~(size_t)7);
	struct policy_sig *ps = NULL;

	memcpy(copy, t->sblob, t->slen);
	copy[at] ^= xor;
	assert_int_equal(policy_sig_open(copy, t->slen, t->p, NULL, &ps), want);
	assert_null(ps);
	free(copy);
}

static void test_damaged(void **st)
{
	struct signed_setup t;
	struct diag d;
	struct policy *other;
	struct policy_sig *ps = NULL;
	size_t olen;
	uint8_t *oblob = compile(one_record, &olen);

	(void)st;
	diag_init(&d, NULL);
	assert_int_equal(sign_all(&t, zone_text, policy_text, 0, &d), 0);
	assert_int_equal(policy_open(t.pblob, t.plen, &d, &t.p), 0);
	damaged(&t, 0, 1, P53_EFORMAT);                 /* magic */
	damaged(&t, 8, 1, P53_EVERSION);                /* major version */
	damaged(&t, 16, 1, P53_EFORMAT);                /* record count */
	/* the first set's hash, its first endpoint, its RRSIG's first byte */
	uint32_t sets;
	memcpy(&sets, t.sblob + 28, 4);
	damaged(&t, sets, 1, P53_EFORMAT);
	uint32_t eps;
	memcpy(&eps, t.sblob + 36, 4);
	damaged(&t, eps + 3, 0x80, P53_EFORMAT);
	uint32_t sig;
	memcpy(&sig, t.sblob + sets + 16, 4);
	damaged(&t, sig, 1, P53_EFORMAT);
	/* another policy's signatures */
	assert_int_equal(policy_open(oblob, olen, &d, &other), 0);
	assert_int_equal(policy_sig_open(t.sblob, t.slen, other, NULL, &ps), P53_EFORMAT);
	policy_close(other);
	free(oblob);
	free_signed(&t);
}

/* Whatever a flipped bit or a cut leaves, opening never reads outside the
 * blob (ASan in CI), and what opens answers lookups within it. */
static void test_every_flip(void **st)
{
	static struct sets sets;
	struct signed_setup t;
	struct diag d;
	size_t len;
	uint8_t *copy;
	unsigned opened = 0;

	(void)st;
	diag_init(&d, NULL);
	assert_int_equal(sign_all(&t, zone_text, policy_text, 1, &d), 0);
	assert_int_equal(policy_open(t.pblob, t.plen, &d, &t.p), 0);
	len = t.slen;
	assert_non_null(copy = aligned_alloc(8, (len + 7) & ~(size_t)7));
	for (size_t cut = 0; cut < len; cut += 1 + cut / 64) {
		struct policy_sig *ps = NULL;
		memcpy(copy, t.sblob, len);
		assert_int_not_equal(policy_sig_open(copy, cut, t.p, NULL, &ps), 0);
	}
	for (size_t bit = 0; bit < len * 8; bit++) {
		struct policy_sig *ps = NULL;
		struct policy_sig_rrs a, b;
		const uint8_t *name;
		uint32_t nlen;
		memcpy(copy, t.sblob, len);
		copy[bit / 8] ^= (uint8_t)(1u << bit % 8);
		if (policy_sig_open(copy, len, t.p, NULL, &ps) < 0)
			continue;
		opened++;
		for (uint32_t ri = 0; ri < policy_record_count(t.p); ri++) {
			sets.n = 0;
			assert_int_equal(policy_sig_answers(t.p, ri, collect, &sets), 0);
			for (uint32_t i = 0; i < sets.n; i++)
				if (policy_sig_find(ps, ri, sets.ep[i], sets.len[i], &a))
					assert_true(a.wire >= copy && a.wire + a.len <= copy + len);
			if (policy_sig_denial(ps, ri, &name, &nlen, &a, &b))
				assert_true(b.wire >= copy && b.wire + b.len <= copy + len &&
					    name + nlen <= copy + len);
		}
		policy_sig_close(ps);
	}
	/* flips inside signature bytes are data, not structure */
	assert_true(opened > 0);
	free(copy);
	free_signed(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers_cover_eval),
		cmocka_unit_test(test_answer_counts),
		cmocka_unit_test(test_signatures_verify),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_presigned_refused),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_every_flip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
