/*
 * test_geo.c — location codes; the prefix table against a brute-force
 * reference; the blob's verification under truncation, bit flips and
 * hand-made malice; MaxMind import from databases tests/tools/mkmmdb.py
 * writes (checked with mmdblookup first); CIDR maps; and a printed speed
 * line for a GeoLite2-sized table.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "diag.h"
#include "error.h"
#include "geo.h"
#include "yconf.h"

/* ---- helpers ------------------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A location from text; "*-CC" is a country without continent. */
static uint32_t loc(const char *text)
{
	uint32_t c = 0;

	if (!strncmp(text, "*-", 2))
		assert_int_equal(geo_loc_pack(NULL, text + 2, NULL, &c), 0);
	else
		assert_int_equal(geo_loc_parse(text, &c), 0);
	return c;
}

static void add(struct geo_builder *b, const char *prefix, uint32_t v, enum geo_layer layer)
{
	uint8_t a[16];
	unsigned plen;
	int fam;
	char err[128];

	if (geo_parse_prefix(prefix, &fam, a, &plen, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(geo_builder_add(b, fam, a, plen, v, layer), 0);
}

/* Serialize b into an 8-aligned buffer (freed by the caller) and open it. */
static uint8_t *build(struct geo_builder *b, struct geo_table *t, size_t *len)
{
	uint8_t *blob = NULL;
	size_t n = 0;
	struct diag d;

	diag_init(&d, stderr);
	assert_int_equal(geo_builder_serialize(b, &blob, &n), 0);
	assert_int_equal(geo_open(blob, n, t, &d), 0);
	if (len)
		*len = n;
	return blob;
}

/* Look addr (text) up; returns found, with value and length. */
static int look(const struct geo_table *t, const char *addr, uint32_t *v, unsigned *len)
{
	uint8_t a[16];
	int fam = strchr(addr, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(fam, addr, a), 1);
	return geo_lookup(t, fam, a, v, len);
}

static void expect(const struct geo_table *t, const char *addr, const char *want, unsigned wlen)
{
	uint32_t v;
	unsigned len;
	char got[16];

	if (!look(t, addr, &v, &len))
		fail_msg("%s: no match, want %s/%u", addr, want, wlen);
	if (v != loc(want) || len != wlen)
		fail_msg("%s: got %s/%u, want %s/%u", addr, geo_loc_format(v, got, sizeof(got)),
			 len, want, wlen);
}

static void expect_none(const struct geo_table *t, const char *addr)
{
	uint32_t v = 1;
	unsigned len = 1;

	assert_int_equal(look(t, addr, &v, &len), 0);
	assert_int_equal(v, 0);
	assert_int_equal(len, 0);
}

/* ---- location code ------------------------------------------------------ */

static void test_loc_code(void **state)
{
	static const char *const bad[] = {
		"", "XX", "E", "EUR", "EU-", "EU-F", "EU-FRA", "EU-F1", "EU-FR-", "EU-FR-ABCD",
		"EU-FR-I_", "EU--IDF", "EU-FR-IDF-X", "-FR", "EU FR", NULL };
	struct geo_loc_parts p;
	char buf[16];
	uint32_t c, c2;

	(void)state;
	c = loc("EU-FR-IDF");
	assert_int_equal(geo_loc_unpack(c, &p), 0);
	assert_string_equal(p.continent, "EU");
	assert_string_equal(p.country, "FR");
	assert_string_equal(p.subdivision, "IDF");
	assert_string_equal(geo_loc_format(c, buf, sizeof(buf)), "EU-FR-IDF");
	assert_int_equal(loc("eu-fr-idf"), c);
	assert_int_equal(GEO_LOC_CONTINENT(c), 4);
	assert_int_equal(GEO_LOC_COUNTRY(c), GEO_LOC_COUNTRY(loc("EU-FR")));
	assert_int_not_equal(GEO_LOC_COUNTRY(c), GEO_LOC_COUNTRY(loc("EU-DE")));
	assert_int_not_equal(GEO_LOC_COUNTRY_SUBDIV(c), GEO_LOC_COUNTRY_SUBDIV(loc("EU-FR-75")));
	assert_int_equal(GEO_LOC_COUNTRY_SUBDIV(c), GEO_LOC_COUNTRY_SUBDIV(loc("NA-FR-IDF")));
	/* Subdivisions of different countries with the same suffix differ. */
	assert_int_not_equal(GEO_LOC_COUNTRY_SUBDIV(loc("NA-US-CA")),
			     GEO_LOC_COUNTRY_SUBDIV(loc("NA-CA-CA")));
	assert_string_equal(geo_loc_format(loc("EU-FR-75"), buf, sizeof(buf)), "EU-FR-75");
	assert_string_equal(geo_loc_format(loc("OC-AU-1"), buf, sizeof(buf)), "OC-AU-1");
	assert_string_equal(geo_loc_format(loc("SA"), buf, sizeof(buf)), "SA");
	assert_string_equal(geo_loc_format(GEO_LOC_NONE, buf, sizeof(buf)), "none");
	for (const char *const *b = bad; *b; b++)
		if (geo_loc_parse(*b, &c2) != P53_EINVAL)
			fail_msg("'%s' parsed", *b);
	/* Every continent, every country letter pair round-trips. */
	for (const char *k = "AFANASEUNAOCSA"; *k; k += 2)
		for (char x = 'A'; x <= 'Z'; x++)
			for (char y = 'A'; y <= 'Z'; y += 5) {
				char in[12] = { k[0], k[1], '-', x, y, '-', y, '9', x, 0 };

				assert_string_equal(geo_loc_format(loc(in), buf, sizeof(buf)), in);
			}
	assert_int_equal(geo_loc_pack(NULL, "de", NULL, &c2), 0);
	assert_string_equal(geo_loc_format(c2, buf, sizeof(buf)), "*-DE");
	assert_int_equal(geo_loc_pack("EU", NULL, "IDF", &c2), P53_EINVAL);
	assert_int_equal(geo_loc_pack("EU", "F", NULL, &c2), P53_EINVAL);
	/* Words the packer cannot make. */
	assert_int_equal(geo_loc_unpack(27u << 24 | 1u << 19, &p), P53_EFORMAT);
	assert_int_equal(geo_loc_unpack(1u << 24, &p), P53_EFORMAT);         /* one letter */
	assert_int_equal(geo_loc_unpack(1u << 18, &p), P53_EFORMAT);         /* spare bit */
	assert_int_equal(geo_loc_unpack(1u << 24 | 1u << 19 | 37u << 12, &p), P53_EFORMAT);
	assert_int_equal(geo_loc_unpack(1u << 24 | 1u << 19 | 1u << 6, &p), P53_EFORMAT);
	assert_int_equal(geo_loc_unpack(1u << 12, &p), P53_EFORMAT);         /* no country */
	assert_string_equal(geo_loc_format(1u << 18, buf, sizeof(buf)), "invalid");
}

/* ---- table basics ------------------------------------------------------- */

static void test_table_basics(void **state)
{
	struct geo_builder *b;
	struct geo_table t;
	uint8_t *blob, a[16] = { 0 };
	uint32_t v;
	unsigned len;

	(void)state;
	assert_int_equal(geo_builder_new(&b), 0);
	add(b, "1.2.0.0/16", loc("EU-FR"), GEO_LAYER_DB);
	add(b, "1.2.3.0/24", loc("EU-FR-IDF"), GEO_LAYER_DB);
	add(b, "1.2.3.128/25", loc("EU-DE"), GEO_LAYER_DB);
	add(b, "1.2.3.128/25", loc("EU-DE-BY"), GEO_LAYER_DB);   /* replaces */
	add(b, "9.9.9.9", loc("NA-US"), GEO_LAYER_DB);
	add(b, "2001:db8::/32", loc("NA-US-CA"), GEO_LAYER_DB);
	add(b, "2001:db8:1::/48", loc("NA-US-NY"), GEO_LAYER_DB);
	add(b, "2001:db8:1::1/128", loc("NA-CA"), GEO_LAYER_DB);
	add(b, "::ffff:5.0.0.0/104", loc("AS-JP"), GEO_LAYER_DB);  /* stored as 5/8 */
	blob = build(b, &t, NULL);
	expect(&t, "1.2.3.4", "EU-FR-IDF", 24);
	expect(&t, "1.2.3.127", "EU-FR-IDF", 24);
	expect(&t, "1.2.3.128", "EU-DE-BY", 25);
	expect(&t, "1.2.3.255", "EU-DE-BY", 25);
	expect(&t, "1.2.4.0", "EU-FR", 16);
	expect(&t, "1.2.255.255", "EU-FR", 16);
	expect(&t, "1.2.0.0", "EU-FR", 16);
	expect_none(&t, "1.1.255.255");
	expect_none(&t, "1.3.0.0");
	expect(&t, "9.9.9.9", "NA-US", 32);
	expect_none(&t, "9.9.9.8");
	expect_none(&t, "9.9.9.10");
	expect(&t, "5.6.7.8", "AS-JP", 8);
	expect(&t, "::ffff:5.6.7.8", "AS-JP", 104);
	expect(&t, "::ffff:1.2.3.200", "EU-DE-BY", 121);
	expect_none(&t, "::ffff:6.0.0.0");
	expect(&t, "2001:db8::1", "NA-US-CA", 32);
	expect(&t, "2001:db8:1::1", "NA-CA", 128);
	expect(&t, "2001:db8:1::2", "NA-US-NY", 48);
	expect(&t, "2001:db8:1::", "NA-US-NY", 48);
	expect(&t, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "NA-US-CA", 32);
	expect_none(&t, "2001:db9::");
	expect_none(&t, "::");
	expect_none(&t, "::1.2.3.4");   /* IPv4-compatible is not IPv4-mapped */
	assert_int_equal(geo_lookup(&t, AF_UNIX, a, &v, &len), 0);
	free(blob);

	/* Defaults of length 0 match with a matched length of 0; bad input. */
	add(b, "0.0.0.0/0", loc("AN"), GEO_LAYER_DB);
	add(b, "::/0", loc("OC"), GEO_LAYER_DB);
	blob = build(b, &t, NULL);
	expect(&t, "1.3.0.0", "AN", 0);
	expect(&t, "255.255.255.255", "AN", 0);
	expect(&t, "::ffff:6.0.0.0", "AN", 96);
	expect(&t, "ffff::", "OC", 0);
	expect(&t, "::", "OC", 0);
	expect(&t, "1.2.3.4", "EU-FR-IDF", 24);
	free(blob);
	a[0] = 1;
	assert_int_equal(geo_builder_add(b, AF_INET, a, 7, 1, GEO_LAYER_DB), P53_EINVAL);
	assert_int_equal(geo_builder_add(b, AF_INET, a, 33, 1, GEO_LAYER_DB), P53_EINVAL);
	assert_int_equal(geo_builder_add(b, AF_INET6, a, 129, 1, GEO_LAYER_DB), P53_EINVAL);
	assert_int_equal(geo_builder_add(b, AF_UNIX, a, 8, 1, GEO_LAYER_DB), P53_EINVAL);
	assert_int_equal(geo_builder_add(b, AF_INET, a, 8, 1, 7), P53_EINVAL);
	geo_builder_free(b);

	/* An empty builder gives a table that matches nothing. */
	assert_int_equal(geo_builder_new(&b), 0);
	blob = build(b, &t, NULL);
	expect_none(&t, "1.2.3.4");
	expect_none(&t, "2001:db8::1");
	free(blob);
	geo_builder_free(b);
}

static void test_layers(void **state)
{
	struct geo_builder *b;
	struct geo_table t;
	uint8_t *blob;

	(void)state;
	assert_int_equal(geo_builder_new(&b), 0);
	add(b, "10.0.0.0/8", loc("EU-FR"), GEO_LAYER_DB);
	add(b, "10.1.0.0/16", loc("EU-DE"), GEO_LAYER_DB);
	add(b, "10.1.2.0/24", loc("EU-IT"), GEO_LAYER_DB);
	add(b, "10.0.0.0/15", loc("NA-US"), GEO_LAYER_MAP);   /* hides the /16 and /24 */
	add(b, "10.1.2.0/25", loc("NA-CA"), GEO_LAYER_MAP);   /* more specific map wins */
	add(b, "10.1.0.0/16", loc("EU-ES"), GEO_LAYER_DB);    /* later, but a lower layer */
	add(b, "2001:db8::/32", loc("AS-JP"), GEO_LAYER_DB);
	add(b, "2001:db8::/64", loc("AS-CN"), GEO_LAYER_DB);
	add(b, "2001:db8::/48", loc("AS-KR"), GEO_LAYER_MAP);
	blob = build(b, &t, NULL);
	expect(&t, "10.0.0.1", "NA-US", 15);
	expect(&t, "10.1.2.3", "NA-CA", 25);
	expect(&t, "10.1.2.200", "NA-US", 15);
	expect(&t, "10.1.9.9", "NA-US", 15);
	expect(&t, "10.0.255.255", "NA-US", 15);
	expect_none(&t, "9.255.255.255");
	expect(&t, "10.2.0.0", "EU-FR", 8);
	expect(&t, "2001:db8::1", "AS-KR", 48);
	expect(&t, "2001:db8:1::1", "AS-JP", 32);
	free(blob);
	geo_builder_free(b);
}

/* ---- against a brute-force reference ------------------------------------ */

struct ref {
	uint8_t a[16];
	unsigned plen, layer, fam;
	uint32_t v, seq;
};

static bool covers(const struct ref *r, const uint8_t *a)
{
	for (unsigned i = 0; i < r->plen; i++)
		if ((r->a[i / 8] ^ a[i / 8]) & (0x80 >> (i % 8)))
			return false;
	return true;
}

static int ref_lookup(const struct ref *r, size_t n, unsigned fam, const uint8_t *a,
		      uint32_t *v, unsigned *len)
{
	const struct ref *best = NULL;

	for (size_t i = 0; i < n; i++) {
		if (r[i].fam != fam || !covers(&r[i], a))
			continue;
		if (!best || r[i].layer > best->layer ||
		    (r[i].layer == best->layer && (r[i].plen > best->plen ||
		     (r[i].plen == best->plen && r[i].seq > best->seq))))
			best = &r[i];
	}
	if (!best)
		return 0;
	*v = best->v;
	*len = best->plen;
	return 1;
}

static void rand_prefix(struct ref *r, const struct ref *near, unsigned fam)
{
	unsigned bits = fam ? 128 : 32;

	memset(r->a, 0, 16);
	if (near && rnd() % 4) {
		/* Nest inside or beside an earlier prefix: dense, deep tries. */
		memcpy(r->a, near->a, 16);
		r->plen = near->plen + (unsigned)(rnd() % (bits - near->plen + 1));
		for (unsigned i = near->plen; i < bits; i++)
			if (rnd() & 1)
				r->a[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	} else {
		for (unsigned i = 0; i < bits / 8; i++)
			r->a[i] = (uint8_t)rnd();
		if (fam)
			r->a[0] = (uint8_t)(0x20 | (r->a[0] & 3));   /* crowd a corner */
		r->plen = (unsigned)(rnd() % (bits + 1));
	}
	for (unsigned i = r->plen; i < bits; i++)
		r->a[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	r->fam = fam;
}

/* A probe address: a prefix's first or last address, one past it, or
 * anything near it. */
static void probe(const struct ref *r, size_t n, unsigned fam, uint8_t *a)
{
	const struct ref *p = &r[rnd() % n];
	unsigned bits = fam ? 128 : 32, kind = (unsigned)(rnd() % 4);

	memcpy(a, p->a, 16);
	for (unsigned i = p->plen; i < bits; i++)
		if (kind == 1 || (kind == 3 && (rnd() & 1)))
			a[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	if (kind == 2) {   /* last address + 1 */
		for (unsigned i = p->plen; i < bits; i++)
			a[i / 8] |= (uint8_t)(0x80 >> (i % 8));
		for (int i = (int)bits / 8 - 1; i >= 0 && ++a[i] == 0; i--)
			;
	}
	if (p->fam != fam)
		for (unsigned i = 0; i < bits / 8; i++)
			a[i] = (uint8_t)rnd();
}

static void check_random(unsigned n, unsigned probes)
{
	struct ref *r = calloc(n, sizeof(*r));
	struct geo_builder *b;
	struct geo_table t;
	uint8_t *blob;

	assert_non_null(r);
	assert_int_equal(geo_builder_new(&b), 0);
	for (unsigned i = 0; i < n; i++) {
		unsigned fam = (unsigned)(rnd() & 1);
		const struct ref *near = NULL;

		for (unsigned k = 0; k < 8 && i && !near; k++) {
			const struct ref *c = &r[rnd() % i];

			if (c->fam == fam)
				near = c;
		}
		rand_prefix(&r[i], near, fam);
		r[i].layer = rnd() % 5 == 0;
		r[i].v = (uint32_t)(rnd() % 50);
		r[i].seq = i;
		assert_int_equal(geo_builder_add(b, fam ? AF_INET6 : AF_INET, r[i].a, r[i].plen,
						 r[i].v, r[i].layer), 0);
	}
	blob = build(b, &t, NULL);
	for (unsigned i = 0; i < probes; i++) {
		unsigned fam = (unsigned)(rnd() & 1), len = 0, rlen = 0;
		uint8_t a[16] = { 0 };
		uint32_t v = 0, rv = 0;
		int got, want;

		probe(r, n, fam, a);
		got = geo_lookup(&t, fam ? AF_INET6 : AF_INET, a, &v, &len);
		want = ref_lookup(r, n, fam, a, &rv, &rlen);
		if (got != want || v != rv || len != rlen) {
			char txt[64];

			inet_ntop(fam ? AF_INET6 : AF_INET, a, txt, sizeof(txt));
			fail_msg("%s: got %d %u/%u, want %d %u/%u", txt, got, v, len, want, rv, rlen);
		}
	}
	free(blob);
	free(r);
	geo_builder_free(b);
}

static void test_random_vs_reference(void **state)
{
	(void)state;
	for (unsigned round = 0; round < 20; round++)
		check_random(5 + round * 40, 4000);
	check_random(3000, 20000);
}

/* ---- verification ------------------------------------------------------- */

static uint8_t *sample_blob(size_t *len)
{
	struct geo_builder *b;
	struct geo_table t;
	uint8_t *blob;
	char p[64];

	assert_int_equal(geo_builder_new(&b), 0);
	for (unsigned i = 0; i < 40; i++) {
		snprintf(p, sizeof(p), "10.%u.%u.0/24", i % 3, i);
		add(b, p, loc(i % 2 ? "EU-FR-IDF" : "NA-US"), GEO_LAYER_DB);
		snprintf(p, sizeof(p), "2001:db8:%x::/48", i);
		add(b, p, loc(i % 3 ? "AS-JP" : "OC-AU-NSW"), GEO_LAYER_DB);
	}
	add(b, "10.0.0.0/8", loc("EU"), GEO_LAYER_DB);
	add(b, "2001:db8:5:1::/64", loc("AF-ZA"), GEO_LAYER_MAP);
	blob = build(b, &t, len);
	geo_builder_free(b);
	return blob;
}

static uint32_t hdr(const uint8_t *blob, unsigned off)
{
	uint32_t x;

	memcpy(&x, blob + off, 4);
	return le32toh(x);
}

static void set32(uint8_t *blob, size_t off, uint32_t v)
{
	v = htole32(v);
	memcpy(blob + off, &v, 4);
}

/* geo_open on a copy of blob with one 32-bit word replaced. */
static int open_patched(const uint8_t *blob, size_t len, size_t off, uint32_t v)
{
	uint8_t *c = malloc(len);
	struct geo_table t;
	int r;

	memcpy(c, blob, len);
	set32(c, off, v);
	r = geo_open(c, len, &t, NULL);
	free(c);
	return r;
}

static void test_truncation(void **state)
{
	size_t len;
	uint8_t *blob = sample_blob(&len);
	struct geo_table t;

	(void)state;
	/* Every cut near the start (header, results, the first root slots) and
	 * near the end (entries), every 61st in between; each in a buffer of
	 * exactly the cut's size, so that ASan sees a read past it. */
	for (size_t cut = 0; cut < len; cut += (cut < 8192 || len - cut < 8192) ? 1 : 61) {
		uint8_t *c = malloc(cut ? cut : 1);

		memcpy(c, blob, cut);
		if (geo_open(c, cut, &t, NULL) != P53_EFORMAT)
			fail_msg("truncated to %zu accepted", cut);
		/* The same with the header's size fixed up to match. */
		if (cut >= 16) {
			set32(c, 12, (uint32_t)cut);
			if (geo_open(c, cut, &t, NULL) != P53_EFORMAT)
				fail_msg("truncated to %zu (size fixed) accepted", cut);
		}
		free(c);
	}
	free(blob);
}

static void test_flips(void **state)
{
	size_t len, accepted = 0;
	uint8_t *blob = sample_blob(&len), *c = malloc(len);
	struct geo_table t;

	(void)state;
	for (unsigned trial = 0; trial < 20000; trial++) {
		unsigned nflip = 1 + (unsigned)(rnd() % 4);
		int r;

		memcpy(c, blob, len);
		for (unsigned i = 0; i < nflip; i++) {
			/* Half the flips land in the header and the tables' first parts,
			 * where the structure is. */
			size_t at = rnd() % 2 ? rnd() % len : rnd() % (len < 4096 ? len : 4096);

			c[at] ^= (uint8_t)(1u << (rnd() % 8));
		}
		r = geo_open(c, len, &t, NULL);
		if (r == 0) {
			accepted++;
			/* Whatever it says, a lookup stays in bounds (ASan watches). */
			for (unsigned k = 0; k < 64; k++) {
				uint8_t a[16];
				uint32_t v;
				unsigned ml;
				int fam = k % 2 ? AF_INET6 : AF_INET;

				for (unsigned j = 0; j < 16; j++)
					a[j] = (uint8_t)rnd();
				if (k % 4 == 0) {
					a[0] = 10;
					a[1] = (uint8_t)(k % 3);
				}
				if (geo_lookup(&t, fam, a, &v, &ml))
					assert_true(ml <= (fam == AF_INET ? 32u : 128u));
			}
		} else if (r != P53_EFORMAT && r != P53_EVERSION) {
			fail_msg("trial %u: unexpected %d", trial, r);
		}
	}
	/* Flips in values and keys make other valid tables; most must not pass. */
	assert_true(accepted < 20000 / 2);
	free(c);
	free(blob);
}

static void test_malicious(void **state)
{
	size_t len;
	uint8_t *blob = sample_blob(&len);
	uint32_t v4root = hdr(blob, 24), v4nodes = hdr(blob, 28), v4n = hdr(blob, 32);
	uint32_t v4ent = hdr(blob, 36), v4ne = hdr(blob, 40), nres = hdr(blob, 16);
	struct geo_table t;
	struct diag d;
	uint8_t *odd;

	(void)state;
	assert_true(v4n >= 1);   /* 10/8 holds 40 /24s: a node under 10.0 */
	assert_int_equal(geo_open(blob, len, &t, NULL), 0);
	/* Header. */
	assert_int_equal(open_patched(blob, len, 0, 0x30353350), P53_EFORMAT);
	assert_int_equal(open_patched(blob, len, 8, 2), P53_EVERSION);
	assert_int_equal(open_patched(blob, len, 12, (uint32_t)len + 4), P53_EFORMAT);
	assert_int_equal(open_patched(blob, len, 16, 0), P53_EFORMAT);
	assert_int_equal(open_patched(blob, len, 16, 0x40000000), P53_EFORMAT);
	assert_int_equal(open_patched(blob, len, 20, 2), P53_EFORMAT);       /* in header */
	assert_int_equal(open_patched(blob, len, 24, v4root + 2), P53_EFORMAT); /* unaligned */
	assert_int_equal(open_patched(blob, len, 24, (uint32_t)len - 8), P53_EFORMAT);
	assert_int_equal(open_patched(blob, len, 32, v4n + 1), P53_EFORMAT);  /* unreached */
	assert_int_equal(open_patched(blob, len, 32, 0xffffffff), P53_EFORMAT);
	assert_int_equal(open_patched(blob, len, 40, 0x7fffffff), P53_EFORMAT);
	/* Root slot 10.0/16 is the node; point a slot elsewhere at it again
	 * (shared), at itself from inside (a cycle), past the nodes. */
	assert_int_equal(hdr(blob, v4root + 4 * 0x0a00), 0x80000000u);
	assert_int_equal(open_patched(blob, len, v4root + 4 * 0x0b00, 0x80000000u), P53_EFORMAT);
	assert_int_equal(open_patched(blob, len, v4nodes + 4 * 3, 0x80000000u), P53_EFORMAT);
	assert_int_equal(open_patched(blob, len, v4root, 0x80000000u | v4n), P53_EFORMAT);
	/* Leaves: past the entries, count 0 or 17 or running off the end,
	 * keys out of order, a result past the table. */
	assert_int_equal(open_patched(blob, len, v4root, v4ne), P53_EFORMAT);
	assert_int_equal(open_patched(blob, len, v4ent, 0), P53_EFORMAT);
	assert_int_equal(open_patched(blob, len, v4ent, 17), P53_EFORMAT);
	assert_int_equal(open_patched(blob, len, v4ent + 4, nres), P53_EFORMAT);
	assert_int_equal(open_patched(blob, len, v4root, v4ne - 1), hdr(blob, v4ent + 8 *
			 (v4ne - 1)) == 1 ? 0 : P53_EFORMAT);
	/* Results: a found flag on "no match", a length over 128. */
	assert_int_equal(open_patched(blob, len, hdr(blob, 20) + 4, 0x100), P53_EFORMAT);
	assert_int_equal(open_patched(blob, len, hdr(blob, 20) + 12, 0x181), P53_EFORMAT);
	/* Alignment is the caller's duty. */
	odd = malloc(len + 4);
	memcpy(odd + 1, blob, len);
	assert_int_equal(geo_open(odd + 1, len, &t, NULL), P53_EINVAL);
	free(odd);
	diag_init(&d, NULL);
	assert_int_equal(geo_open(blob, 10, &t, &d), P53_EFORMAT);
	assert_string_equal(d.first, "geo table: not a geo table (size 10)");
	free(blob);
}

/* ---- MaxMind import ----------------------------------------------------- */

static char tmpdir[64];

static void tmp_path(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", tmpdir, name);
}

static void write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	tmp_path(path, sizeof(path), name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Run tests/tools/mkmmdb.py on json (written to a file) into out. */
static void mkmmdb(const char *json, const char *flags, const char *out)
{
	const char *root = getenv("SOURCE_ROOT");
	char cmd[1024], in[128], o[128];

	write_file("in.json", json);
	tmp_path(in, sizeof(in), "in.json");
	tmp_path(o, sizeof(o), out);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/tests/tools/mkmmdb.py %s %s %s",
		 root ? root : ".", flags, in, o);
	if (system(cmd) != 0)
		fail_msg("failed: %s", cmd);
}

/* mmdblookup's output for ip and path contains want. */
static void mmdblookup_has(const char *db, const char *ip, const char *path, const char *want)
{
	char cmd[512], out[4096], file[128];
	size_t n;
	FILE *p;

	if (access("/usr/bin/mmdblookup", X_OK))
		return;   /* mmdb-bin missing: the import checks below still run */
	tmp_path(file, sizeof(file), db);
	snprintf(cmd, sizeof(cmd), "/usr/bin/mmdblookup --file %s --ip %s %s 2>&1", file, ip,
		 path);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	pclose(p);
	if (!strstr(out, want))
		fail_msg("%s: wanted '%s' in:\n%s", cmd, want, out);
}

static long import(const char *db, struct geo_builder *b, struct diag *d)
{
	char path[128];

	tmp_path(path, sizeof(path), db);
	return geo_import_mmdb(b, path, d);
}

static const char nets_json[] =
	"{\"networks\": ["
	"{\"network\": \"1.2.0.0/16\", \"continent\": \"EU\", \"country\": \"FR\","
	" \"subdivision\": \"IDF\"},"
	"{\"network\": \"1.2.3.0/24\", \"continent\": \"EU\", \"country\": \"FR\","
	" \"subdivision\": \"75\"},"
	"{\"network\": \"1.2.3.4/32\", \"continent\": \"EU\", \"country\": \"BE\"},"
	"{\"network\": \"10.0.0.0/8\", \"registered_country\": \"DE\"},"
	"{\"network\": \"11.0.0.0/8\", \"data\": {\"city\": {\"geoname_id\": 5}}},"
	"{\"network\": \"12.0.0.0/8\", \"continent\": \"EU\", \"country\": \"FR\","
	" \"subdivision\": \"ABCD\"},"
	"{\"network\": \"13.0.0.0/8\", \"continent\": \"XX\", \"country\": \"FR\"},"
	"{\"network\": \"2001:db8::/32\", \"continent\": \"NA\", \"country\": \"US\","
	" \"subdivision\": \"CA\"},"
	"{\"network\": \"2001:db8:1::/48\", \"continent\": \"NA\", \"country\": \"US\","
	" \"subdivision\": \"NY\"}"
	"]%s}";

static void check_imported(const struct geo_table *t, bool v6)
{
	/* Lengths are those of the tree's records, as mmdblookup reports them:
	 * the /32 inside 1.2.3.0/24 splits it into /25, /26, ... /32 records. */
	expect(t, "1.2.3.4", "EU-BE", 32);
	expect(t, "1.2.3.5", "EU-FR-75", 32);
	expect(t, "1.2.3.200", "EU-FR-75", 25);
	expect(t, "1.2.3.70", "EU-FR-75", 26);
	expect(t, "1.2.200.1", "EU-FR-IDF", 17);
	expect(t, "1.2.2.1", "EU-FR-IDF", 24);
	expect(t, "::ffff:1.2.200.1", "EU-FR-IDF", 113);
	expect_none(t, "1.3.0.0");
	expect_none(t, "11.1.1.1");   /* no location in the record */
	expect(t, "12.1.1.1", "EU-FR", 8);   /* subdivision does not fit */
	expect(t, "13.1.1.1", "*-FR", 8);   /* "XX" is no continent */
	if (v6) {
		expect(t, "2001:db8::1", "NA-US-CA", 48);
		expect(t, "2001:db8:8000::1", "NA-US-CA", 33);
		expect(t, "2001:db8:1:2::1", "NA-US-NY", 48);
		expect_none(t, "2002:102:304::1");   /* the 6to4 alias is not walked */
	}
}

static void test_mmdb_import(void **state)
{
	static const char *const flags[] = { "--record-size 24", "--record-size 28",
					     "--record-size 32", "--no-aliases" };
	char json[2048];
	long counts[4];

	(void)state;
	snprintf(json, sizeof(json), nets_json, "");
	for (unsigned i = 0; i < 4; i++) {
		struct geo_builder *b;
		struct geo_table t;
		struct diag d;
		uint8_t *blob;
		uint32_t c;

		mkmmdb(json, flags[i], "db.mmdb");
		mmdblookup_has("db.mmdb", "1.2.3.5", "subdivisions 0 iso_code", "\"75\"");
		mmdblookup_has("db.mmdb", "1.2.3.4", "country iso_code", "\"BE\"");
		mmdblookup_has("db.mmdb", "10.9.9.9", "registered_country iso_code", "\"DE\"");
		mmdblookup_has("db.mmdb", "2001:db8:1::5", "subdivisions 0 iso_code", "\"NY\"");
		mmdblookup_has("db.mmdb", "1.2.3.5", "location accuracy_radius", "<uint16>");
		mmdblookup_has("db.mmdb", "1.2.3.200", "--verbose", "Record prefix length: 121");
		mmdblookup_has("db.mmdb", "1.2.200.1", "--verbose", "Record prefix length: 113");
		if (i < 3)
			mmdblookup_has("db.mmdb", "::ffff:1.2.3.5", "continent code", "\"EU\"");
		assert_int_equal(geo_builder_new(&b), 0);
		diag_init(&d, NULL);
		counts[i] = import("db.mmdb", b, &d);
		assert_true(counts[i] > 0);
		assert_int_equal(d.errors, 0);
		assert_int_equal(d.warnings, 1);   /* ABCD and XX */
		blob = build(b, &t, NULL);
		check_imported(&t, true);
		/* The IPv4 networks came in once, not once per alias. */
		assert_int_equal((long)geo_builder_count(b), counts[i]);
		assert_int_equal(geo_lookup(&t, AF_INET, (const uint8_t *)"\x0a\x01\x01\x01", &c,
					    &(unsigned){ 0 }), 1);
		assert_int_equal(GEO_LOC_CONTINENT(c), 0);
		assert_int_equal(GEO_LOC_COUNTRY(c), GEO_LOC_COUNTRY(loc("EU-DE")));
		free(blob);
		geo_builder_free(b);
	}
	assert_int_equal(counts[0], counts[1]);
	assert_int_equal(counts[0], counts[3]);
}

static void test_mmdb_v4_and_big(void **state)
{
	char json[2048];
	struct geo_builder *b;
	struct geo_table t;
	struct diag d;
	uint8_t *blob;

	(void)state;
	/* The same networks without the IPv6 ones, in an IPv4 database. */
	snprintf(json, sizeof(json), nets_json, "");
	strcpy(strstr(json, ",{\"network\": \"2001"), "]}");
	for (unsigned rs = 24; rs <= 32; rs += 4) {
		char f[64];

		snprintf(f, sizeof(f), "--ip-version 4 --record-size %u", rs);
		mkmmdb(json, f, "v4.mmdb");
		mmdblookup_has("v4.mmdb", "1.2.3.5", "subdivisions 0 iso_code", "\"75\"");
		assert_int_equal(geo_builder_new(&b), 0);
		diag_init(&d, NULL);
		assert_true(import("v4.mmdb", b, &d) > 0);
		blob = build(b, &t, NULL);
		check_imported(&t, false);
		expect_none(&t, "2001:db8::1");
		free(blob);
		geo_builder_free(b);
	}
	/* 28-bit records whose values need all 28 bits (data past 16 MiB). */
	snprintf(json, sizeof(json), nets_json, ", \"data_padding\": 17000000");
	mkmmdb(json, "--record-size 28", "big.mmdb");
	mmdblookup_has("big.mmdb", "2001:db8:1::5", "subdivisions 0 iso_code", "\"NY\"");
	assert_int_equal(geo_builder_new(&b), 0);
	diag_init(&d, NULL);
	assert_true(import("big.mmdb", b, &d) > 0);
	blob = build(b, &t, NULL);
	check_imported(&t, true);
	free(blob);
	geo_builder_free(b);
	/* An IPv6 network around ::/96 covers all of IPv4. */
	mkmmdb("[{\"network\": \"::/64\", \"continent\": \"AN\"}]", "--no-aliases", "wide.mmdb");
	mmdblookup_has("wide.mmdb", "99.1.1.1", "continent code", "\"AN\"");
	assert_int_equal(geo_builder_new(&b), 0);
	diag_init(&d, NULL);
	assert_int_equal(import("wide.mmdb", b, &d), 1);
	blob = build(b, &t, NULL);
	expect(&t, "99.1.1.1", "AN", 0);
	expect(&t, "::1", "AN", 64);
	expect_none(&t, "1::");
	free(blob);
	geo_builder_free(b);
}

/* Import that must fail with err and a first message containing msg. */
static void import_fails(const char *db, int err, const char *msg)
{
	struct geo_builder *b;
	struct diag d;
	long r;

	assert_int_equal(geo_builder_new(&b), 0);
	diag_init(&d, NULL);
	r = import(db, b, &d);
	if (r != err || !strstr(d.first, msg))
		fail_msg("%s: got %ld '%s', want %d '%s'", db, r, d.first, err, msg);
	geo_builder_free(b);
}

static uint8_t *read_tmp(const char *name, size_t *len)
{
	char path[128];
	struct stat st;
	uint8_t *buf;
	FILE *f;

	tmp_path(path, sizeof(path), name);
	assert_int_equal(stat(path, &st), 0);
	buf = malloc((size_t)st.st_size);
	f = fopen(path, "rb");
	assert_int_equal(fread(buf, 1, (size_t)st.st_size, f), (size_t)st.st_size);
	fclose(f);
	*len = (size_t)st.st_size;
	return buf;
}

static void write_tmp(const char *name, const uint8_t *buf, size_t len)
{
	char path[128];
	FILE *f;

	tmp_path(path, sizeof(path), name);
	f = fopen(path, "wb");
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
}

static void test_mmdb_errors(void **state)
{
	uint8_t *buf;
	size_t len;

	(void)state;
	import_fails("missing.mmdb", P53_EIO, "missing.mmdb: cannot read: No such file");
	write_file("garbage.mmdb", "this is not a database\n");
	import_fails("garbage.mmdb", P53_EFORMAT, "not a valid MaxMind DB");
	/* Cut inside the tree: the metadata is gone. */
	mkmmdb("[{\"network\": \"1.2.3.0/24\", \"continent\": \"EU\"}]", "--record-size 24",
	       "ok.mmdb");
	buf = read_tmp("ok.mmdb", &len);
	write_tmp("cut.mmdb", buf, 100);
	import_fails("cut.mmdb", P53_EFORMAT, "not a valid MaxMind DB");
	/* Root's right record (24 bits) pointing far past the data section. */
	buf[3] = buf[4] = buf[5] = 0xff;
	write_tmp("badrec.mmdb", buf, len);
	import_fails("badrec.mmdb", P53_EFORMAT, "corrupt search tree");
	free(buf);
	/* A field of the wrong type. */
	mkmmdb("[{\"network\": \"1.2.3.0/24\", \"data\": {\"country\": {\"iso_code\": 5}}}]",
	       "", "type.mmdb");
	import_fails("type.mmdb", P53_EFORMAT,
		     "network 1.2.3.0/24: country.iso_code is an integer, not a string");
	/* An IPv4 tree (24-bit records) for hand-made loops: 0.0.0.0/32 makes
	 * a chain of 32 nodes down the left. */
	mkmmdb("[{\"network\": \"0.0.0.0/32\", \"continent\": \"EU\"}]",
	       "--ip-version 4 --record-size 24", "chain.mmdb");
	buf = read_tmp("chain.mmdb", &len);
	/* Node 5's left record back to node 1: a cycle. */
	memcpy(buf + 6 * 5, "\x00\x00\x01", 3);
	write_tmp("cycle.mmdb", buf, len);
	import_fails("cycle.mmdb", P53_EFORMAT, "corrupt search tree: deeper than the address");
	free(buf);
	/* Every node's right record to its left child too: 2^31 paths. */
	buf = read_tmp("chain.mmdb", &len);
	for (unsigned i = 0; i < 31; i++)
		memcpy(buf + 6 * i + 3, buf + 6 * i, 3);
	write_tmp("fan.mmdb", buf, len);
	import_fails("fan.mmdb", P53_EFORMAT, "nodes reached repeatedly");
	free(buf);
}

/* ---- CIDR maps ---------------------------------------------------------- */

static void map_fails(const char *text, enum geo_map_kind kind, const char *msg)
{
	struct geo_builder *b;
	struct diag d;

	assert_int_equal(geo_builder_new(&b), 0);
	diag_init(&d, NULL);
	assert_int_equal(geo_add_cidr_map_text(b, "t.map", text, strlen(text), kind, &d),
			 P53_ESYNTAX);
	if (strcmp(d.first, msg))
		fail_msg("got '%s'\nwant '%s'", d.first, msg);
	geo_builder_free(b);
}

static void test_cidr_text(void **state)
{
	static const char map[] =
		"# operator overrides\n"
		"\n"
		"10.0.0.0/8      EU-FR-IDF   # office\n"
		"  10.1.0.0/16\tna-us\n"
		"192.0.2.1 OC-AU-NSW\n"
		"2001:db8::/32 AS-JP\r\n"
		"::ffff:198.51.100.0/120 AF-ZA";
	struct geo_builder *b;
	struct geo_table t;
	struct diag d;
	uint8_t *blob;
	char path[128];

	(void)state;
	assert_int_equal(geo_builder_new(&b), 0);
	diag_init(&d, stderr);
	assert_int_equal(geo_add_cidr_map_text(b, "t.map", map, strlen(map), GEO_MAP_LOCATION,
					       &d), 5);
	blob = build(b, &t, NULL);
	expect(&t, "10.2.0.1", "EU-FR-IDF", 8);
	expect(&t, "10.1.0.1", "NA-US", 16);
	expect(&t, "192.0.2.1", "OC-AU-NSW", 32);
	expect_none(&t, "192.0.2.2");
	expect(&t, "2001:db8::5", "AS-JP", 32);
	expect(&t, "198.51.100.7", "AF-ZA", 24);
	free(blob);
	geo_builder_free(b);

	map_fails("10.0.0.0/8 EU-FRA\n", GEO_MAP_LOCATION,
		  "t.map:1:12: 'EU-FRA' is not a location (CONTINENT[-COUNTRY[-SUBDIVISION]], "
		  "e.g. EU-FR-IDF)");
	map_fails("\n10.0.0.1/8 EU\n", GEO_MAP_LOCATION, "t.map:2:1: '10.0.0.1/8' has bits set "
		  "after /8");
	map_fails("10.0.0.0/33 EU\n", GEO_MAP_LOCATION,
		  "t.map:1:1: prefix length 33 is longer than 32");
	map_fails("10.0.0/8 EU\n", GEO_MAP_LOCATION,
		  "t.map:1:1: '10.0.0/8' is not an address or ADDRESS/LENGTH prefix");
	map_fails("10.0.0.0/+8 EU\n", GEO_MAP_LOCATION,
		  "t.map:1:1: '10.0.0.0/+8' is not an address or ADDRESS/LENGTH prefix");
	map_fails("10.0.0.0/8\n", GEO_MAP_LOCATION,
		  "t.map:1:1: expected \"PREFIX VALUE\", got one word");
	map_fails("10.0.0.0/8 EU x\n", GEO_MAP_LOCATION,
		  "t.map:1:15: expected \"PREFIX VALUE\", got more words");
	map_fails("10.0.0.0/8 4294967296\n", GEO_MAP_VALUE,
		  "t.map:1:12: '4294967296' is not a number from 0 to 4294967295");
	map_fails("10.0.0.0/8 -1\n", GEO_MAP_VALUE,
		  "t.map:1:12: '-1' is not a number from 0 to 4294967295");

	/* A value map from a file (a latency table's rows). */
	write_file("rows.map", "192.0.2.0/24 7\n2001:db8::/48 4294967295\n");
	tmp_path(path, sizeof(path), "rows.map");
	assert_int_equal(geo_builder_new(&b), 0);
	assert_int_equal(geo_add_cidr_map_file(b, path, GEO_MAP_VALUE, &d), 2);
	blob = build(b, &t, NULL);
	{
		uint32_t v;
		unsigned len;

		assert_int_equal(look(&t, "192.0.2.9", &v, &len), 1);
		assert_int_equal(v, 7);
		assert_int_equal(len, 24);
		assert_int_equal(look(&t, "2001:db8::9", &v, &len), 1);
		assert_int_equal(v, 4294967295u);
		assert_int_equal(len, 48);
	}
	free(blob);
	diag_init(&d, NULL);
	tmp_path(path, sizeof(path), "nope.map");
	assert_int_equal(geo_add_cidr_map_file(b, path, GEO_MAP_VALUE, &d), P53_EIO);
	assert_non_null(strstr(d.first, "nope.map: cannot read: No such file"));
	geo_builder_free(b);
}

static void test_cidr_yaml_overrides_db(void **state)
{
	static const char yaml[] =
		"1.2.0.0/15: NA-CA-QC\n"
		"EU-DE-BE:\n"
		"  - 2001:db8:1::/64\n"
		"  - 10.9.0.0/16\n";
	struct yconf_doc *doc = NULL;
	struct geo_builder *b;
	struct geo_table t;
	struct diag d;
	uint8_t *blob;
	char json[2048];

	(void)state;
	snprintf(json, sizeof(json), nets_json, "");
	mkmmdb(json, "", "db.mmdb");
	diag_init(&d, stderr);
	assert_int_equal(yconf_load_text("m.yaml", yaml, strlen(yaml), &d, &doc), 0);
	assert_int_equal(geo_builder_new(&b), 0);
	assert_true(import("db.mmdb", b, &d) > 0);
	assert_int_equal(geo_add_cidr_map_yaml(b, yconf_root(doc), GEO_MAP_LOCATION, &d), 3);
	yconf_free(doc);
	blob = build(b, &t, NULL);
	expect(&t, "1.2.3.4", "NA-CA-QC", 15);   /* the map hides the database's /32 */
	expect(&t, "1.3.0.0", "NA-CA-QC", 15);
	expect(&t, "2001:db8:1::1", "EU-DE-BE", 64);
	expect(&t, "2001:db8:1:1::1", "NA-US-NY", 48);
	expect(&t, "10.9.1.1", "EU-DE-BE", 16);
	expect(&t, "10.8.1.1", "*-DE", 8);
	free(blob);
	geo_builder_free(b);

	/* Errors point at the node. */
	{
		static const char bad[] = "EU-DE-BE:\n  - 2001:db8:1::/64\n  - 10.9.0.1/16\n";
		static const char bad2[] = "10.0.0.0/8: EU-XX-ABCDE\n";
		static const char bad3[] = "EU: { a: b }\n";

		diag_init(&d, NULL);
		assert_int_equal(yconf_load_text("m.yaml", bad, strlen(bad), &d, &doc), 0);
		assert_int_equal(geo_builder_new(&b), 0);
		assert_int_equal(geo_add_cidr_map_yaml(b, yconf_root(doc), GEO_MAP_LOCATION, &d),
				 P53_ESYNTAX);
		assert_string_equal(d.first, "m.yaml:3:5: '10.9.0.1/16' has bits set after /16");
		yconf_free(doc);
		diag_init(&d, NULL);
		assert_int_equal(yconf_load_text("m.yaml", bad2, strlen(bad2), &d, &doc), 0);
		assert_int_equal(geo_add_cidr_map_yaml(b, yconf_root(doc), GEO_MAP_LOCATION, &d),
				 P53_ESYNTAX);
		assert_non_null(strstr(d.first, "m.yaml:1:13: 'EU-XX-ABCDE' is not a location"));
		yconf_free(doc);
		diag_init(&d, NULL);
		assert_int_equal(yconf_load_text("m.yaml", bad3, strlen(bad3), &d, &doc), 0);
		assert_int_equal(geo_add_cidr_map_yaml(b, yconf_root(doc), GEO_MAP_LOCATION, &d),
				 P53_ESYNTAX);
		assert_string_equal(d.first, "m.yaml:1:5: EU must be a value or a list of "
				    "prefixes, got a mapping");
		yconf_free(doc);
		geo_builder_free(b);
	}
}

/* ---- speed: a GeoLite2-sized table -------------------------------------- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Prefixes shaped like a country database: IPv4 /12../24 clustered in
 * allocated /8s, IPv6 /19../48 (a few longer) inside a handful of RIR /12s. */
static void synth(struct geo_builder *b, unsigned fam, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t a[16] = { 0 };
		unsigned plen;
		uint64_t r = rnd();

		if (!fam) {
			uint32_t x = (uint32_t)rnd();

			plen = 12 + (unsigned)(r % 13);
			x = (x & 0x00ffffffu) | ((uint32_t)(1 + (r >> 8) % 223) << 24);
			x &= plen ? ~0u << (32 - plen) : 0;
			a[0] = (uint8_t)(x >> 24), a[1] = (uint8_t)(x >> 16);
			a[2] = (uint8_t)(x >> 8), a[3] = (uint8_t)x;
		} else {
			static const uint16_t rir[] = { 0x2001, 0x2400, 0x2600, 0x2800, 0x2a00,
							0x2c00, 0x2a02, 0x2a0a };
			uint64_t hi = (uint64_t)rir[r % 8] << 48 | (rnd() & 0x000fffffffffffffull);

			plen = r % 50 == 0 ? 49 + (unsigned)(r % 16) : 19 + (unsigned)(r % 30);
			hi &= ~0ull << (64 - plen);
			for (unsigned k = 0; k < 8; k++)
				a[k] = (uint8_t)(hi >> (56 - 8 * k));
		}
		assert_int_equal(geo_builder_add(b, fam ? AF_INET6 : AF_INET, a, plen,
						 (uint32_t)(rnd() % 250), GEO_LAYER_DB), 0);
	}
}

static void test_speed(void **state)
{
	enum { NPROBE = 1 << 20, ROUNDS = 4 };
	struct geo_builder *b;
	struct geo_table t;
	uint8_t *blob, (*addr)[16] = malloc((size_t)NPROBE * 16);
	double t0, t1, t2, best[2] = { 1e9, 1e9 };
	size_t len;
	uint64_t sink = 0;

	(void)state;
	assert_non_null(addr);
	assert_int_equal(geo_builder_new(&b), 0);
	synth(b, 0, 400000);
	synth(b, 1, 500000);
	t0 = now();
	blob = build(b, &t, &len);
	t1 = now();
	for (unsigned i = 0; i < NPROBE; i++) {
		uint64_t x = rnd(), y = rnd();

		memcpy(addr[i], &x, 8);
		memcpy(addr[i] + 8, &y, 8);
		if (i % 2) {
			static const uint8_t rir[][2] = { { 0x20, 0x01 }, { 0x2a, 0x00 },
							  { 0x24, 0x00 }, { 0x26, 0x00 } };

			memcpy(addr[i], rir[x % 4], 2);
		}
	}
	for (unsigned fam = 0; fam < 2; fam++)
		for (unsigned r = 0; r < ROUNDS; r++) {
			double s = now();

			for (unsigned i = fam; i < NPROBE; i += 2) {
				uint32_t v;
				unsigned ml;

				sink += (uint64_t)geo_lookup(&t, fam ? AF_INET6 : AF_INET, addr[i],
							     &v, &ml) + v + ml;
			}
			s = (now() - s) / (NPROBE / 2) * 1e9;
			best[fam] = s < best[fam] ? s : best[fam];
		}
	t2 = now();
	(void)t2;
	printf("geo speed: 400k IPv4 + 500k IPv6 prefixes -> blob %.1f MB, serialize+open "
	       "%.2f s; lookup %.1f ns (IPv4), %.1f ns (IPv6), random addresses, one core "
	       "[%llu]\n", (double)len / 1e6, t1 - t0, best[0], best[1],
	       (unsigned long long)(sink & 1));
	free(blob);
	free(addr);
	geo_builder_free(b);
}

/* ---- main --------------------------------------------------------------- */

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loc_code),
		cmocka_unit_test(test_table_basics),
		cmocka_unit_test(test_layers),
		cmocka_unit_test(test_random_vs_reference),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_flips),
		cmocka_unit_test(test_malicious),
		cmocka_unit_test(test_mmdb_import),
		cmocka_unit_test(test_mmdb_v4_and_big),
		cmocka_unit_test(test_mmdb_errors),
		cmocka_unit_test(test_cidr_text),
		cmocka_unit_test(test_cidr_yaml_overrides_db),
		cmocka_unit_test(test_speed),
	};
	char cmd[128];
	int r;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/p53-geo-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	r = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return r;
}
