/*
 * DNSSEC signing: key tags and DS against the root zone's published KSK,
 * type bitmaps (RFC 4034 4.3), NSEC3 hashes (RFC 5155 Appendix A),
 * canonical order (RFC 4034 6.1) and RDATA form, the shape of a signed
 * zone (what is signed, chains, cuts, glue, wildcards, empty
 * non-terminals), every RRSIG verified by OpenSSL from data rebuilt here,
 * rollovers (publish-only keys, two KSKs, CDS/CDNSKEY and their delete
 * form), key files, and refusal of bad input with the precise message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "dname.h"
#include "dnssec_verify.h"
#include "dnssec.h"
#include "error.h"
#include "rdata.h"
#include "zone.h"

#define NOW 1790000000    /* 2026-09-21: the tests' clock */

static const char zone_text[] =
	"$ORIGIN example.org.\n$TTL 3600\n"
	"@ SOA ns1 hostmaster 1 7200 900 1209600 300\n"
	"@ NS ns1\n@ NS ns2.Example.ORG.\n@ MX 10 Mail\n"
	"ns1 A 192.0.2.1\nns2 A 192.0.2.2\nmail A 192.0.2.3\nwww CNAME Mail\n"
	"*.wild A 192.0.2.4\n*.wild TXT \"wildcard\"\n"
	"a.b.c.ent AAAA 2001:db8::1\n"
	"sub NS ns.sub\n"
	"sub DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n"
	"ns.sub A 192.0.2.5\n"
	"insecure NS ns.insecure\nns.insecure A 192.0.2.6\n"
	"dn DNAME example.net.\nbelow.dn A 192.0.2.7\n"
	"old RRSIG A 13 3 3600 20300101000000 20200101000000 1 example.org. AAAA\n";

static char dir[64];

static struct zone *parse(const char *text)
{
	struct zone *z;
	struct diag d;

	diag_init(&d, stderr);
	d.hide_warnings = 1;
	assert_int_equal(zone_parse_string(text, strlen(text), "t.zone", NULL, &d, &z), 0);
	return z;
}

static uint8_t *wire(const char *name, uint8_t *buf)
{
	assert_true(dname_from_text(name, strlen(name), (const uint8_t *)"", buf) > 0);
	return buf;
}

static struct dnssec_key *gen(uint8_t alg, enum dnssec_role role, const char *zone)
{
	uint8_t w[DNAME_MAXLEN];
	struct dnssec_key *k;
	struct diag d;

	diag_init(&d, stderr);
	assert_int_equal(dnssec_key_generate(alg, role, wire(zone, w), &d, &k), 0);
	return k;
}

static struct zone *sign(const char *text, struct dnssec_key **keys, size_t n,
			 const struct dnssec_sign_opts *o, struct dnssec_sign_stats *st)
{
	struct zone *in = parse(text), *out;
	struct diag d;

	diag_init(&d, stderr);
	assert_int_equal(dnssec_sign_zone(in, keys, n, o, &d, &out, st), 0);
	zone_free(in);
	return out;
}

/* ---- key tags, DS ------------------------------------------------------- */

/* The root's KSK-2017, as published (and in ../shared/zones/root.zone). */
static const char root_ksk[] =
	". 172800 IN DNSKEY 257 3 8 AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3"
	"+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWb"
	"Rd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbu"
	"v7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2h"
	"M8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU=\n";

static void test_root_ksk_tag_and_ds(void **st)
{
	static const uint8_t digest[32] = {
		0xE0, 0x6D, 0x44, 0xB8, 0x0B, 0x8F, 0x1D, 0x39, 0xA9, 0x5C, 0x0B, 0x0D,
		0x7C, 0x65, 0xD0, 0x84, 0x58, 0xE8, 0x80, 0x40, 0x9B, 0xBC, 0x68, 0x34,
		0x57, 0x10, 0x42, 0x37, 0xC7, 0xF8, 0xEC, 0x8D };
	struct zone *z = parse(root_ksk);
	uint8_t ds[DNSSEC_DS_LEN];
	size_t n;
	const struct zone_rr *rr = zone_rrs(z, &n);

	(void)st;
	assert_int_equal(n, 1);
	assert_int_equal(dnssec_keytag(zone_rr_rdata(z, rr), rr->rdlen), 20326);
	/* the root trust anchor: 20326 8 2 E06D44B8... */
	assert_int_equal(dnssec_ds(zone_rr_owner(z, rr), zone_rr_rdata(z, rr), rr->rdlen, ds),
			 DNSSEC_DS_LEN);
	assert_int_equal(ds[0] << 8 | ds[1], 20326);
	assert_int_equal(ds[2], 8);
	assert_int_equal(ds[3], 2);
	assert_memory_equal(ds + 4, digest, 32);
	zone_free(z);
}

/* Every DNSKEY of the real root zone file: KSKs 19036 and 20326 among them. */
static void test_root_zone_file_tags(void **st)
{
	const char *root = getenv("SOURCE_ROOT");
	char path[512];
	struct zone *z;
	struct diag d;
	int found = 0;
	size_t n;

	(void)st;
	snprintf(path, sizeof(path), "%s/../shared/zones/root.zone", root ? root : ".");
	if (access(path, R_OK) != 0)
		skip();
	diag_init(&d, NULL);
	assert_int_equal(zone_parse_file(path, NULL, &d, &z), 0);
	const struct zone_rr *rr = zone_rrs(z, &n);
	for (size_t i = 0; i < n; i++) {
		if (rr[i].type != RRTYPE_DNSKEY || rr[i].rdlen < 4 ||
		    zone_rr_rdata(z, &rr[i])[1] != 1)
			continue;
		uint16_t tag = dnssec_keytag(zone_rr_rdata(z, &rr[i]), rr[i].rdlen);
		found |= tag == 20326 ? 1 : tag == 19036 ? 2 : 4;
	}
	assert_int_equal(found, 3);
	zone_free(z);
}

/* ---- building blocks ------------------------------------------------------ */

static void test_bitmap_rfc4034(void **st)
{
	/* RFC 4034 4.3: A MX RRSIG NSEC TYPE1234 */
	static const uint8_t want[] = {
		0x00, 0x06, 0x40, 0x01, 0x00, 0x00, 0x00, 0x03,
		0x04, 0x1b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x20 };
	static const uint16_t types[] = { 1234, RRTYPE_NSEC, RRTYPE_A, RRTYPE_RRSIG,
					  RRTYPE_MX, RRTYPE_A };
	uint8_t out[DNSSEC_BITMAP_MAX];

	(void)st;
	assert_int_equal(dnssec_type_bitmap(types, 6, out), sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(dnssec_type_bitmap(types, 0, out), 0);
}

static void test_nsec3_hash_rfc5155(void **st)
{
	/* RFC 5155 Appendix A: salt aabbccdd, 12 extra iterations */
	static const char *const v[][2] = {
		{ "example.", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom" },
		{ "a.example.", "35mthgpgcu1qg68fab165klnsnk3dpvl" },
		{ "ai.example.", "gjeqe526plbf1g8mklp59enfd789njgi" },
		{ "ns1.example.", "2t7b4g4vsa5smi47k61mv5bv1a22bojr" },
		{ "w.example.", "k8udemvp1j2f7eg6jebps17vp3n8i58h" },
		{ "*.w.example.", "r53bq7cc2uvmubfu5ocmm6pers9tk9en" },
		{ "x.y.w.EXAMPLE.", "2vptu5timamqttgl4luu9kg21e0aor3s" },
	};
	static const uint8_t salt[] = { 0xaa, 0xbb, 0xcc, 0xdd };
	uint8_t w[DNAME_MAXLEN], h[DNSSEC_NSEC3_HASH_LEN];
	char text[40];

	(void)st;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(dnssec_nsec3_hash(wire(v[i][0], w), salt, 4, 12, h), 0);
		assert_int_equal(dnssec_base32hex(h, sizeof(h), text), 32);
		assert_string_equal(text, v[i][1]);
	}
}

static void test_canonical_rdata(void **st)
{
	uint8_t mx[] = { 0, 10, 4, 'M', 'a', 'I', 'l', 2, 'E', 'x', 0 };
	uint8_t svcb[] = { 0, 1, 3, 'S', 'v', 'C', 0 };
	uint8_t txt[] = { 3, 'A', 'b', 'C' };

	(void)st;
	dnssec_canonical_rdata(RRTYPE_MX, mx, sizeof(mx));
	assert_memory_equal(mx, "\0\x0a\4mail\2ex", sizeof(mx));
	/* not in RFC 4034 6.2's list: kept as written */
	dnssec_canonical_rdata(RRTYPE_SVCB, svcb, sizeof(svcb));
	assert_memory_equal(svcb, "\0\1\3SvC", sizeof(svcb));
	dnssec_canonical_rdata(RRTYPE_TXT, txt, sizeof(txt));
	assert_memory_equal(txt, "\3AbC", 4);
	/* a name running past the RDATA is left alone, never read beyond */
	mx[2] = 60;
	dnssec_canonical_rdata(RRTYPE_MX, mx, sizeof(mx));
}

/* ---- the signed zone ----------------------------------------------------- */

/* Records of z of type t at owner (text), counted; the first one's RDATA
 * into *rd when asked. */
static size_t find(const struct zone *z, const char *owner, uint16_t t, uint16_t covered,
		   const uint8_t **rd, uint16_t *len)
{
	uint8_t w[DNAME_MAXLEN];
	size_t n, hits = 0;
	const struct zone_rr *rr = zone_rrs(z, &n);

	wire(owner, w);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *r = zone_rr_rdata(z, &rr[i]);
		if (rr[i].type != t || !dname_equal(zone_rr_owner(z, &rr[i]), w))
			continue;
		if (t == RRTYPE_RRSIG && (r[0] << 8 | r[1]) != covered)
			continue;
		if (!hits++ && rd) {
			*rd = r;
			*len = rr[i].rdlen;
		}
	}
	return hits;
}

static int bitmap_has(const uint8_t *bm, size_t len, uint16_t t)
{
	for (size_t p = 0; p + 2 <= len; p += 2u + bm[p + 1]) {
		unsigned b = t & 0xff;
		if (bm[p] == t >> 8 && b / 8 < bm[p + 1])
			return (bm[p + 2 + b / 8] & (0x80 >> (b & 7))) != 0;
	}
	return 0;
}

static void test_nsec_zone_shape(void **st)
{
	struct dnssec_key *k[2] = { gen(13, DNSSEC_KSK, "example.org."),
				    gen(13, DNSSEC_ZSK, "example.org.") };
	struct dnssec_sign_opts o = { .now = NOW };
	struct dnssec_sign_stats s;
	struct zone *z = sign(zone_text, k, 2, &o, &s);
	const uint8_t *rd;
	uint16_t len;

	(void)st;
	assert_int_equal(s.dropped, 1);
	assert_int_equal(find(z, "old.example.org.", RRTYPE_RRSIG, RRTYPE_A, NULL, NULL), 0);
	assert_int_equal(find(z, "example.org.", RRTYPE_DNSKEY, 0, NULL, NULL), 2);
	assert_int_equal(find(z, "example.org.", RRTYPE_RRSIG, RRTYPE_DNSKEY, &rd, &len), 1);
	assert_int_equal(rd[16] << 8 | rd[17], dnssec_key_tag(k[0]));   /* KSK */
	assert_int_equal(find(z, "example.org.", RRTYPE_RRSIG, RRTYPE_SOA, &rd, &len), 1);
	assert_int_equal(rd[16] << 8 | rd[17], dnssec_key_tag(k[1]));   /* ZSK */
	/* delegations: DS signed, NS and glue not; occluded names have no NSEC */
	assert_int_equal(find(z, "sub.example.org.", RRTYPE_RRSIG, RRTYPE_DS, NULL, NULL), 1);
	assert_int_equal(find(z, "sub.example.org.", RRTYPE_RRSIG, RRTYPE_NS, NULL, NULL), 0);
	assert_int_equal(find(z, "ns.sub.example.org.", RRTYPE_RRSIG, RRTYPE_A, NULL, NULL), 0);
	assert_int_equal(find(z, "ns.sub.example.org.", RRTYPE_NSEC, 0, NULL, NULL), 0);
	assert_int_equal(find(z, "below.dn.example.org.", RRTYPE_NSEC, 0, NULL, NULL), 0);
	assert_int_equal(find(z, "below.dn.example.org.", RRTYPE_A, 0, NULL, NULL), 1);
	assert_int_equal(find(z, "sub.example.org.", RRTYPE_NSEC, 0, &rd, &len), 1);
	size_t nl = (size_t)dname_wire_len(rd, len);
	assert_true(bitmap_has(rd + nl, len - nl, RRTYPE_NS));
	assert_true(bitmap_has(rd + nl, len - nl, RRTYPE_DS));
	assert_int_equal(find(z, "insecure.example.org.", RRTYPE_NSEC, 0, &rd, &len), 1);
	nl = (size_t)dname_wire_len(rd, len);
	assert_true(bitmap_has(rd + nl, len - nl, RRTYPE_NS));
	assert_false(bitmap_has(rd + nl, len - nl, RRTYPE_DS));
	assert_false(bitmap_has(rd + nl, len - nl, RRTYPE_A));
	/* wildcard: the labels field leaves out the "*" */
	assert_int_equal(find(z, "*.wild.example.org.", RRTYPE_RRSIG, RRTYPE_TXT, &rd, &len), 1);
	assert_int_equal(rd[3], 3);
	/* apex dn a.b.c.ent insecure mail ns1 ns2 sub *.wild www ("old" had only
	 * the dropped RRSIG) */
	assert_int_equal(s.chain, 10);
	zone_free(z);
	dnssec_key_free(k[0]);
	dnssec_key_free(k[1]);
}

/* The NSEC chain's order over RFC 4034 6.1's example names, given shuffled. */
static void test_canonical_order(void **st)
{
	static const char text[] =
		"$ORIGIN example.\n$TTL 60\n@ SOA ns h 1 1 1 1 1\n@ NS ns.example.\n"
		"\\200.z A 192.0.2.1\nZ.a A 192.0.2.1\n*.z A 192.0.2.1\nz A 192.0.2.1\n"
		"zABC.a.EXAMPLE. A 192.0.2.1\n\\001.z A 192.0.2.1\na A 192.0.2.1\n"
		"yljkjljk.a A 192.0.2.1\nns A 192.0.2.9\n";
	static const char *const order[] = {
		"example.", "a.example.", "yljkjljk.a.example.", "z.a.example.",
		"zabc.a.example.", "ns.example.", "z.example.", "\\001.z.example.",
		"*.z.example.", "\\200.z.example.", "example." };
	struct dnssec_key *k = gen(15, DNSSEC_CSK, "example.");
	struct dnssec_sign_opts o = { .now = NOW };
	struct zone *z = sign(text, &k, 1, &o, NULL);

	(void)st;
	for (size_t i = 0; i + 1 < sizeof(order) / sizeof(order[0]); i++) {
		const uint8_t *rd;
		uint16_t len;
		char next[DNAME_TEXT_MAX];
		assert_int_equal(find(z, order[i], RRTYPE_NSEC, 0, &rd, &len), 1);
		dname_to_text(rd, next, sizeof(next));
		assert_string_equal(next, order[i + 1]);
	}
	zone_free(z);
	dnssec_key_free(k);
}

/* NSEC3: one per authoritative name and empty non-terminal; opt-out
 * leaves the insecure delegation (and only it) out. */
static void test_nsec3_chain(void **st)
{
	struct dnssec_key *k = gen(13, DNSSEC_CSK, "example.org.");
	struct dnssec_sign_opts o = { .now = NOW, .nsec3 = 1 };
	struct dnssec_sign_stats s;
	struct zone *z = sign(zone_text, &k, 1, &o, &s);
	uint8_t w[DNAME_MAXLEN], h[DNSSEC_NSEC3_HASH_LEN];
	char owner[DNAME_TEXT_MAX];
	const uint8_t *rd;
	uint16_t len;

	(void)st;
	/* apex dn a.b.c.ent b.c.ent c.ent ent insecure mail ns1 ns2 sub *.wild wild www */
	assert_int_equal(s.chain, 14);
	assert_int_equal(find(z, "example.org.", RRTYPE_NSEC3PARAM, 0, &rd, &len), 1);
	assert_int_equal(len, 5);
	dnssec_nsec3_hash(wire("c.ent.example.org.", w), NULL, 0, 0, h);
	owner[0] = '\0';
	dnssec_base32hex(h, sizeof(h), owner);
	strcat(owner, ".example.org.");
	assert_int_equal(find(z, owner, RRTYPE_NSEC3, 0, &rd, &len), 1);
	assert_int_equal(len, 26);   /* empty non-terminal: no types at all */
	assert_int_equal(find(z, owner, RRTYPE_RRSIG, RRTYPE_NSEC3, NULL, NULL), 1);
	zone_free(z);
	o.opt_out = 1;
	z = sign(zone_text, &k, 1, &o, &s);
	assert_int_equal(s.chain, 13);
	assert_int_equal(find(z, owner, RRTYPE_NSEC3, 0, &rd, &len), 1);
	assert_int_equal(rd[1], 1);  /* opt-out flag */
	zone_free(z);
	dnssec_key_free(k);
}

static void test_expiry_jitter(void **st)
{
	struct dnssec_key *k = gen(15, DNSSEC_CSK, "example.org.");
	struct dnssec_sign_opts o = { .now = NOW, .validity = 10 * 86400, .jitter = 86400 };
	struct dnssec_sign_stats s;
	struct zone *z = sign(zone_text, &k, 1, &o, &s);
	uint32_t lo = UINT32_MAX, hi = 0;
	size_t n;
	const struct zone_rr *rr = zone_rrs(z, &n);

	(void)st;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *r = zone_rr_rdata(z, &rr[i]);
		if (rr[i].type != RRTYPE_RRSIG)
			continue;
		uint32_t exp = (uint32_t)r[8] << 24 | (uint32_t)r[9] << 16 | r[10] << 8 | r[11];
		uint32_t inc = (uint32_t)r[12] << 24 | (uint32_t)r[13] << 16 | r[14] << 8 | r[15];
		assert_int_equal(inc, NOW - 3600);
		assert_true(exp >= inc + 9 * 86400 && exp <= inc + 11 * 86400);
		lo = exp < lo ? exp : lo;
		hi = exp > hi ? exp : hi;
	}
	assert_int_equal(s.earliest_expiry, lo);
	assert_true(hi - lo > 3600);   /* spread, not all at once */
	zone_free(z);
	dnssec_key_free(k);
}

/* ---- every signature, checked by OpenSSL ---------------------------------- */

struct cr { uint8_t rd[512]; uint16_t len; };

static int cr_cmp(const void *a, const void *b)
{
	const struct cr *x = a, *y = b;
	int c = memcmp(x->rd, y->rd, x->len < y->len ? x->len : y->len);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* RFC 4034 3.1.8.1, from the output zone alone: the RRSIG's RDATA without
 * its signature, then the RRset it covers in canonical form and order. */
static size_t rebuild(const struct zone *z, const struct zone_rr *sig, uint8_t *msg)
{
	static struct cr set[64];
	const uint8_t *srd = zone_rr_rdata(z, sig);
	uint16_t covered = (uint16_t)(srd[0] << 8 | srd[1]);
	size_t n, k = 0, len, nlen = (size_t)dname_wire_len(srd + 18, sig->rdlen - 18u);
	uint8_t owner[DNAME_MAXLEN];
	const struct zone_rr *rr = zone_rrs(z, &n);
	size_t olen = dname_copy_lower(owner, zone_rr_owner(z, sig));

	memcpy(msg, srd, len = 18 + nlen);
	for (size_t i = 0; i < n; i++) {
		if (rr[i].type != covered || !dname_equal(zone_rr_owner(z, &rr[i]), owner))
			continue;
		assert_true(k < 64 && rr[i].rdlen <= sizeof(set[k].rd));
		memcpy(set[k].rd, zone_rr_rdata(z, &rr[i]), rr[i].rdlen);
		set[k].len = rr[i].rdlen;
		dnssec_canonical_rdata(covered, set[k].rd, set[k].len);
		k++;
	}
	qsort(set, k, sizeof(set[0]), cr_cmp);
	for (size_t i = 0; i < k; i++) {
		memcpy(msg + len, owner, olen);
		len += olen;
		uint8_t hdr[10] = { (uint8_t)(covered >> 8), (uint8_t)covered, 0, 1,
				    srd[4], srd[5], srd[6], srd[7],
				    (uint8_t)(set[i].len >> 8), (uint8_t)set[i].len };
		memcpy(msg + len, hdr, 10);
		memcpy(msg + len + 10, set[i].rd, set[i].len);
		len += 10u + set[i].len;
	}
	return len;
}

static void verify_all(const struct zone *z, size_t want)
{
	static uint8_t msg[65536];
	size_t n, good = 0;
	const struct zone_rr *rr = zone_rrs(z, &n);

	for (size_t i = 0; i < n; i++) {
		if (rr[i].type != RRTYPE_RRSIG)
			continue;
		const uint8_t *srd = zone_rr_rdata(z, &rr[i]);
		uint16_t tag = (uint16_t)(srd[16] << 8 | srd[17]);
		EVP_PKEY *pk = NULL;
		for (size_t j = 0; j < n && !pk; j++)
			if (rr[j].type == RRTYPE_DNSKEY &&
			    dnssec_keytag(zone_rr_rdata(z, &rr[j]), rr[j].rdlen) == tag)
				pk = tdnssec_pkey(zone_rr_rdata(z, &rr[j]), rr[j].rdlen);
		assert_non_null(pk);
		size_t len = rebuild(z, &rr[i], msg);
		assert_true(tdnssec_verify(pk, srd[2], msg, len, srd + rr[i].rdlen - 64));
		/* and one flipped bit of the data must fail */
		msg[len - 1] ^= 1;
		assert_false(tdnssec_verify(pk, srd[2], msg, len, srd + rr[i].rdlen - 64));
		EVP_PKEY_free(pk);
		good++;
	}
	assert_int_equal(good, want);
}

static void test_signatures_verify(void **st)
{
	struct dnssec_key *ec[2] = { gen(13, DNSSEC_KSK, "example.org."),
				     gen(13, DNSSEC_ZSK, "example.org.") };
	struct dnssec_key *ed = gen(15, DNSSEC_CSK, "example.org.");
	struct dnssec_sign_opts o = { .now = NOW };
	struct dnssec_sign_opts o3 = { .now = NOW, .nsec3 = 1, .threads = 1 };
	struct dnssec_sign_stats s;
	struct zone *z;

	(void)st;
	z = sign(zone_text, ec, 2, &o, &s);
	verify_all(z, s.signatures);
	zone_free(z);
	z = sign(zone_text, &ed, 1, &o3, &s);
	verify_all(z, s.signatures);
	zone_free(z);
	dnssec_key_free(ec[0]);
	dnssec_key_free(ec[1]);
	dnssec_key_free(ed);
}

/* ---- rollovers ------------------------------------------------------------------ */

/* The key tags of the RRSIGs over type t at owner, as a bit set of the
 * keys in k (bit i = k[i]), with the count in *n. */
static unsigned sig_keys(const struct zone *z, const char *owner, uint16_t t,
			 struct dnssec_key **k, size_t nk, size_t *n)
{
	uint8_t w[DNAME_MAXLEN];
	size_t nrr;
	unsigned bits = 0;
	const struct zone_rr *rr = zone_rrs(z, &nrr);

	*n = 0;
	wire(owner, w);
	for (size_t i = 0; i < nrr; i++) {
		const uint8_t *r = zone_rr_rdata(z, &rr[i]);
		if (rr[i].type != RRTYPE_RRSIG || !dname_equal(zone_rr_owner(z, &rr[i]), w) ||
		    (r[0] << 8 | r[1]) != t)
			continue;
		++*n;
		for (size_t j = 0; j < nk; j++)
			bits |= (r[16] << 8 | r[17]) == dnssec_key_tag(k[j]) ? 1u << j : 0;
	}
	return bits;
}

/* The DNSKEY RRset has the key's RDATA. */
static int has_dnskey(const struct zone *z, const struct dnssec_key *k)
{
	size_t n, len;
	const uint8_t *want = dnssec_key_dnskey(k, &len);
	const struct zone_rr *rr = zone_rrs(z, &n);

	for (size_t i = 0; i < n; i++)
		if (rr[i].type == RRTYPE_DNSKEY && rr[i].rdlen == len &&
		    memcmp(zone_rr_rdata(z, &rr[i]), want, len) == 0)
			return 1;
	return 0;
}

/* ZSK pre-publish: the published ZSK is in the DNSKEY RRset and signs
 * nothing. KSK double signature: two KSKs each sign the DNSKEY RRset
 * (and only it), the ZSK signs the data once. */
static void test_publish_and_double_ksk(void **st)
{
	struct dnssec_key *k[4] = { gen(13, DNSSEC_KSK, "example.org."),
				    gen(13, DNSSEC_ZSK, "example.org."),
				    gen(13, DNSSEC_ZSK, "example.org."),
				    gen(13, DNSSEC_KSK, "example.org.") };
	struct dnssec_key *pub[1] = { k[2] };
	struct dnssec_sign_opts o = { .now = NOW, .publish = pub, .npublish = 1 };
	struct dnssec_sign_stats s;
	struct zone *z = sign(zone_text, k, 2, &o, &s);
	size_t n;

	(void)st;
	assert_int_equal(find(z, "example.org.", RRTYPE_DNSKEY, 0, NULL, NULL), 3);
	assert_true(has_dnskey(z, k[2]));
	assert_int_equal(sig_keys(z, "example.org.", RRTYPE_DNSKEY, k, 4, &n), 1u);
	assert_int_equal(n, 1);
	assert_int_equal(sig_keys(z, "example.org.", RRTYPE_SOA, k, 4, &n), 2u);
	assert_int_equal(n, 1);
	assert_int_equal(sig_keys(z, "www.example.org.", RRTYPE_CNAME, k, 4, &n), 2u);
	/* no RRSIG anywhere by the published key */
	size_t nrr;
	const struct zone_rr *rr = zone_rrs(z, &nrr);
	for (size_t i = 0; i < nrr; i++)
		if (rr[i].type == RRTYPE_RRSIG)
			assert_int_not_equal(zone_rr_rdata(z, &rr[i])[16] << 8 |
					     zone_rr_rdata(z, &rr[i])[17], dnssec_key_tag(k[2]));
	verify_all(z, s.signatures);
	zone_free(z);

	/* double signature: KSK1, ZSK1, KSK2 all signing */
	struct dnssec_key *two[3] = { k[0], k[1], k[3] };
	o = (struct dnssec_sign_opts){ .now = NOW };
	z = sign(zone_text, two, 3, &o, &s);
	assert_int_equal(find(z, "example.org.", RRTYPE_DNSKEY, 0, NULL, NULL), 3);
	assert_int_equal(sig_keys(z, "example.org.", RRTYPE_DNSKEY, k, 4, &n), 1u | 8u);
	assert_int_equal(n, 2);
	assert_int_equal(sig_keys(z, "example.org.", RRTYPE_SOA, k, 4, &n), 2u);
	assert_int_equal(n, 1);
	assert_int_equal(sig_keys(z, "mail.example.org.", RRTYPE_NSEC, k, 4, &n), 2u);
	assert_int_equal(n, 1);
	verify_all(z, s.signatures);
	zone_free(z);
	for (size_t i = 0; i < 4; i++)
		dnssec_key_free(k[i]);
}

/* CDS = the DS of the KSK's DNSKEY (SHA-256), CDNSKEY = its DNSKEY, both
 * signed by the KSK only; the input's CDS go; the delete form. */
static void test_cds(void **st)
{
	static const char with_cds[] =
		"$ORIGIN example.org.\n$TTL 600\n@ SOA ns1 h 1 7200 900 1209600 300\n"
		"@ NS ns1\nns1 A 192.0.2.1\n"
		"@ CDS 1 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n";
	struct dnssec_key *k[3] = { gen(13, DNSSEC_KSK, "example.org."),
				    gen(13, DNSSEC_ZSK, "example.org."),
				    gen(15, DNSSEC_CSK, "example.org.") };
	struct dnssec_key *newksk = gen(13, DNSSEC_KSK, "example.org.");
	struct dnssec_sign_opts o = { .now = NOW, .cds = DNSSEC_CDS_KEYS };
	struct dnssec_sign_stats s;
	uint8_t ds[DNSSEC_DS_LEN], w[DNAME_MAXLEN];
	const uint8_t *rd;
	uint16_t len;
	size_t klen, n;
	struct zone *z = sign(with_cds, k, 2, &o, &s);

	(void)st;
	assert_int_equal(s.dropped, 1);
	assert_int_equal(find(z, "example.org.", RRTYPE_CDS, 0, &rd, &len), 1);
	const uint8_t *dnskey = dnssec_key_dnskey(k[0], &klen);
	assert_int_equal(dnssec_ds(wire("example.org.", w), dnskey, klen, ds), DNSSEC_DS_LEN);
	assert_int_equal(len, DNSSEC_DS_LEN);
	assert_memory_equal(rd, ds, DNSSEC_DS_LEN);
	assert_int_equal(rd[0] << 8 | rd[1], dnssec_key_tag(k[0]));
	assert_int_equal(rd[3], 2);     /* SHA-256 */
	assert_int_equal(find(z, "example.org.", RRTYPE_CDNSKEY, 0, &rd, &len), 1);
	assert_int_equal(len, klen);
	assert_memory_equal(rd, dnskey, klen);
	assert_int_equal(sig_keys(z, "example.org.", RRTYPE_CDS, k, 2, &n), 1u);
	assert_int_equal(n, 1);
	assert_int_equal(sig_keys(z, "example.org.", RRTYPE_CDNSKEY, k, 2, &n), 1u);
	verify_all(z, s.signatures);
	zone_free(z);

	/* a new KSK announced while only published; the old one signs it all */
	struct dnssec_key *pub[1] = { newksk }, *named[1] = { newksk };
	o = (struct dnssec_sign_opts){ .now = NOW, .cds = DNSSEC_CDS_KEYS, .publish = pub,
				       .npublish = 1, .cds_keys = named, .ncds_keys = 1 };
	z = sign(with_cds, k, 2, &o, &s);
	assert_int_equal(find(z, "example.org.", RRTYPE_CDS, 0, &rd, &len), 1);
	assert_int_equal(rd[0] << 8 | rd[1], dnssec_key_tag(newksk));
	assert_int_equal(sig_keys(z, "example.org.", RRTYPE_CDS, k, 2, &n), 1u);
	verify_all(z, s.signatures);
	zone_free(z);

	/* a CSK makes CDS too; RFC 8078 4 delete form */
	o = (struct dnssec_sign_opts){ .now = NOW, .cds = DNSSEC_CDS_DELETE };
	z = sign(with_cds, &k[2], 1, &o, &s);
	assert_int_equal(find(z, "example.org.", RRTYPE_CDS, 0, &rd, &len), 1);
	assert_int_equal(len, 5);
	assert_memory_equal(rd, "\0\0\0\0\0", 5);
	assert_int_equal(find(z, "example.org.", RRTYPE_CDNSKEY, 0, &rd, &len), 1);
	assert_int_equal(len, 5);
	assert_memory_equal(rd, "\0\0\3\0\0", 5);
	assert_int_equal(sig_keys(z, "example.org.", RRTYPE_CDNSKEY, &k[2], 1, &n), 1u);
	verify_all(z, s.signatures);
	zone_free(z);
	/* without cds the input's CDS stays, signed by the KSK */
	o = (struct dnssec_sign_opts){ .now = NOW };
	z = sign(with_cds, k, 2, &o, &s);
	assert_int_equal(find(z, "example.org.", RRTYPE_CDS, 0, &rd, &len), 1);
	assert_int_equal(rd[0] << 8 | rd[1], 1);
	assert_int_equal(sig_keys(z, "example.org.", RRTYPE_CDS, k, 2, &n), 1u);
	zone_free(z);
	for (size_t i = 0; i < 3; i++)
		dnssec_key_free(k[i]);
	dnssec_key_free(newksk);
}

static void expect_sign_error(struct dnssec_key **k, size_t n,
			      const struct dnssec_sign_opts *o, const char *want)
{
	struct zone *z = parse(zone_text), *out;
	struct diag d;

	diag_init(&d, NULL);
	assert_int_equal(dnssec_sign_zone(z, k, n, o, &d, &out, NULL), P53_EINVAL);
	assert_null(out);
	if (!strstr(d.first, want))
		fail_msg("'%s' does not say '%s'", d.first, want);
	zone_free(z);
}

static void test_rollover_refusals(void **st)
{
	struct dnssec_key *k[2] = { gen(13, DNSSEC_KSK, "example.org."),
				    gen(13, DNSSEC_ZSK, "example.org.") };
	struct dnssec_key *zsk2 = gen(13, DNSSEC_ZSK, "example.org."),
			  *ksk2 = gen(13, DNSSEC_KSK, "example.org."),
			  *other = gen(13, DNSSEC_ZSK, "example.com.");
	struct dnssec_key *same[1] = { k[1] }, *two[2] = { zsk2, zsk2 }, *oth[1] = { other };
	struct dnssec_key *z2[1] = { zsk2 }, *k2[1] = { ksk2 };
	struct dnssec_sign_opts o = { .now = NOW, .publish = same, .npublish = 1 };

	(void)st;
	expect_sign_error(k, 2, &o, "is given both to sign");
	o.publish = two;
	o.npublish = 2;
	expect_sign_error(k, 2, &o, "is published twice");
	o.publish = oth;
	o.npublish = 1;
	expect_sign_error(k, 2, &o, "a key for zone example.com., not example.org.");
	o = (struct dnssec_sign_opts){ .now = NOW, .cds = DNSSEC_CDS_KEYS };
	expect_sign_error(&k[1], 1, &o, "no signing KSK or CSK");
	o.cds_keys = z2;
	o.ncds_keys = 1;
	o.publish = z2;
	o.npublish = 1;
	expect_sign_error(k, 2, &o, "is a ZSK: CDS/CDNSKEY name KSKs or CSKs");
	o.cds_keys = k2;
	expect_sign_error(k, 2, &o, "but not in the DNSKEY RRset");
	o.cds = DNSSEC_CDS_DELETE;
	expect_sign_error(k, 2, &o, "delete form names no key");
	for (size_t i = 0; i < 2; i++)
		dnssec_key_free(k[i]);
	dnssec_key_free(zsk2);
	dnssec_key_free(ksk2);
	dnssec_key_free(other);
}

/* ---- key files and refusals ------------------------------------------------------ */

static void test_key_file_roundtrip(void **st)
{
	struct dnssec_key *k = gen(13, DNSSEC_KSK, "example.org."), *l;
	char path[512];
	struct diag d;
	struct stat sb;
	size_t a, b;

	(void)st;
	diag_init(&d, stderr);
	assert_int_equal(dnssec_key_write(k, dir, &d, path, sizeof(path)), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(dnssec_key_load(path, &d, &l), 0);
	assert_int_equal(dnssec_key_role(l), DNSSEC_KSK);
	assert_int_equal(dnssec_key_tag(l), dnssec_key_tag(k));
	assert_memory_equal(dnssec_key_dnskey(l, &a), dnssec_key_dnskey(k, &b), 68);
	assert_int_equal(a, b);
	/* never over an existing key */
	diag_init(&d, NULL);
	assert_int_equal(dnssec_key_write(k, dir, &d, path, sizeof(path)), P53_EEXIST);
	dnssec_key_free(k);
	dnssec_key_free(l);
}

static void expect_load_error(const char *text, int err, const char *want)
{
	char path[512];
	struct dnssec_key *k;
	struct diag d;
	FILE *f;

	snprintf(path, sizeof(path), "%s/bad.pem", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	diag_init(&d, NULL);
	assert_int_equal(dnssec_key_load(path, &d, &k), err);
	assert_null(k);
	if (!strstr(d.first, want))
		fail_msg("'%s' does not say '%s'", d.first, want);
}

static void test_refusals(void **st)
{
	struct dnssec_key *k = NULL, *ksk = gen(13, DNSSEC_KSK, "example.org."),
			  *other = gen(13, DNSSEC_CSK, "example.com.");
	uint8_t w[DNAME_MAXLEN];
	struct zone *z, *out;
	struct diag d;

	(void)st;
	diag_init(&d, NULL);
	assert_int_equal(dnssec_key_generate(8, DNSSEC_CSK, wire("x.", w), &d, &k), P53_ENOTSUP);
	assert_non_null(strstr(d.first, "algorithm 8 is not supported"));
	diag_init(&d, NULL);
	assert_int_equal(dnssec_key_load("/nonexistent/k.pem", &d, &k), P53_EIO);
	assert_non_null(strstr(d.first, "/nonexistent/k.pem: cannot open"));
	expect_load_error("just text\n", P53_ESYNTAX, "expected 'name: value'");
	expect_load_error("zone: x.\nrole: CSK\n", P53_ESYNTAX, "no private key");
	expect_load_error("role: CSK\n-----BEGIN PRIVATE KEY-----\n", P53_ESYNTAX,
			  "missing the 'zone:' line");
	expect_load_error("zone: x.\nrole: boss\n", P53_ESYNTAX, "'boss' is not KSK, ZSK or CSK");
	expect_load_error("zone: x.\nrole: CSK\n-----BEGIN PRIVATE KEY-----\nAAAA\n"
			  "-----END PRIVATE KEY-----\n", P53_EFORMAT, "not a private key");

	/* no SOA: a zone made by hand (the parser's checks would stop it) */
	z = zone_new(wire("example.org.", w));
	assert_int_equal(zone_add_rr(z, w, RRTYPE_A, RRCLASS_IN, 60,
				     (const uint8_t *)"\xc0\0\2\1", 4, NULL, 0), 0);
	struct dnssec_key *csk = gen(13, DNSSEC_CSK, "example.org.");
	diag_init(&d, NULL);
	assert_int_equal(dnssec_sign_zone(z, &csk, 1, NULL, &d, &out, NULL), P53_EZONE);
	assert_non_null(strstr(d.first, "no SOA record at the apex example.org."));
	assert_null(out);
	zone_free(z);

	z = parse(zone_text);
	diag_init(&d, NULL);
	assert_int_equal(dnssec_sign_zone(z, &ksk, 1, NULL, &d, &out, NULL), P53_EINVAL);
	assert_non_null(strstr(d.first, "algorithm 13 has no ZSK"));
	diag_init(&d, NULL);
	assert_int_equal(dnssec_sign_zone(z, &other, 1, NULL, &d, &out, NULL), P53_EINVAL);
	assert_non_null(strstr(d.first, "a key for zone example.com., not example.org."));
	diag_init(&d, NULL);
	assert_int_equal(dnssec_sign_zone(z, NULL, 0, NULL, &d, &out, NULL), P53_EINVAL);
	assert_non_null(strstr(d.first, "no DNSSEC key"));
	zone_free(z);
	dnssec_key_free(ksk);
	dnssec_key_free(other);
	dnssec_key_free(csk);
}

static int setup(void **st)
{
	(void)st;
	snprintf(dir, sizeof(dir), "/tmp/p53-dnssec-unit.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **st)
{
	char cmd[128];

	(void)st;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_ksk_tag_and_ds),
		cmocka_unit_test(test_root_zone_file_tags),
		cmocka_unit_test(test_bitmap_rfc4034),
		cmocka_unit_test(test_nsec3_hash_rfc5155),
		cmocka_unit_test(test_canonical_rdata),
		cmocka_unit_test(test_nsec_zone_shape),
		cmocka_unit_test(test_canonical_order),
		cmocka_unit_test(test_nsec3_chain),
		cmocka_unit_test(test_expiry_jitter),
		cmocka_unit_test(test_signatures_verify),
		cmocka_unit_test(test_key_file_roundtrip),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_publish_and_double_ksk),
		cmocka_unit_test(test_cds),
		cmocka_unit_test(test_rollover_refusals),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
