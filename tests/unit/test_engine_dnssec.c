/*
 * The answer engine with DO=1 on a pre-signed zone (RFC 4035 3.1): RRSIGs
 * attached per RRset, NSEC denial for NXDOMAIN (two NSECs, or one when the
 * same covers both), NODATA (also at an empty non-terminal and at a
 * wildcard), wildcard answers, referrals to signed and unsigned children,
 * DO=0 answers byte for byte those of the same zone unsigned, and
 * truncation. The signatures are made-up bytes of the right shape: the
 * engine serves them as data and never checks them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "dname.h"
#include "engine.h"
#include "error.h"
#include "dnssec.h"
#include "nsec3.h"
#include "policy.h"
#include "policy_sig.h"
#include "rdata.h"
#include "snap.h"
#include "zone.h"

/* Canonical order: @ a big c(ENT) b.c cn del ns sdel ns.sdel w(ENT) *.w
 * zz; ns.sdel is glue (no NSEC). */
#define SIG(t, l) "RRSIG " t " 13 " l " 3600 20380101000000 20260101000000 7 sig.test. c2lnbmF0dXJl\n"
static const char unsigned_part[] =
	"$ORIGIN sig.test.\n"
	"$TTL 3600\n"
	"@	SOA ns hm 1 7200 900 1209600 300\n"
	"@	NS ns\n"
	"a	A 192.0.2.1\n"
	"b.c	A 192.0.2.2\n"
	"cn	CNAME a\n"
	"del	NS ns.other.example.\n"
	"ns	A 192.0.2.53\n"
	"sdel	NS ns.sdel\n"
	"sdel	DS 7 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
	"ns.sdel	A 192.0.2.54\n"
	"*.w	A 192.0.2.9\n"
	"zz	TXT \"last\"\n"
	"big	TXT \"" /* 300 bytes, with the padding below */
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"\" \""
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"\"\n";

static const char signed_part[] =
	"@	" SIG("SOA", "2")
	"@	" SIG("NS", "2")
	"@	DNSKEY 257 3 13 a2V5a2V5a2V5\n"
	"@	" SIG("DNSKEY", "2")
	"@	NSEC a.sig.test. NS SOA RRSIG NSEC DNSKEY\n"
	"@	" SIG("NSEC", "2")
	"a	" SIG("A", "3")
	"a	NSEC big.sig.test. A RRSIG NSEC\n"
	"a	" SIG("NSEC", "3")
	"b.c	" SIG("A", "4")
	"b.c	NSEC cn.sig.test. A RRSIG NSEC\n"
	"b.c	" SIG("NSEC", "4")
	"big	" SIG("TXT", "3")
	"big	NSEC b.c.sig.test. TXT RRSIG NSEC\n"
	"big	" SIG("NSEC", "3")
	"cn	" SIG("CNAME", "3")
	"cn	NSEC del.sig.test. CNAME RRSIG NSEC\n"
	"cn	" SIG("NSEC", "3")
	"del	NSEC ns.sig.test. NS RRSIG NSEC\n"
	"del	" SIG("NSEC", "3")
	"ns	" SIG("A", "3")
	"ns	NSEC sdel.sig.test. A RRSIG NSEC\n"
	"ns	" SIG("NSEC", "3")
	"sdel	" SIG("DS", "3")
	"sdel	NSEC *.w.sig.test. NS DS RRSIG NSEC\n"
	"sdel	" SIG("NSEC", "3")
	"*.w	" SIG("A", "3")
	"*.w	NSEC zz.sig.test. A RRSIG NSEC\n"
	"*.w	" SIG("NSEC", "4")
	"zz	" SIG("TXT", "3")
	"zz	NSEC sig.test. TXT RRSIG NSEC\n"
	"zz	" SIG("NSEC", "3");

static struct {
	uint8_t *blob[3];
	struct snap *s[3];      /* [0] signed, [1] the same zone unsigned,
				 * [2] test_nsec_cover_many's */
} F;

static int open_zone(const char *text, int k)
{
	struct zone *z = NULL;
	struct diag d;

	diag_init(&d, stderr);
	d.hide_warnings = 1;
	assert_int_equal(zone_parse_string(text, strlen(text), "sig", NULL, &d, &z), 0);
	assert_int_equal(zone_check(z, NULL, &d), 0);
	{
		size_t len;

		assert_int_equal(snap_compile(&z, 1, NULL, &d, &F.blob[k], &len), 0);
		assert_int_equal(snap_open_mem(F.blob[k], len, &d, &F.s[k]), 0);
	}
	zone_free(z);
	return 0;
}

static int setup(void **state)
{
	size_t a = strlen(unsigned_part), b = strlen(signed_part);
	char *text = malloc(a + b + 1);

	(void)state;
	assert_non_null(text);
	memcpy(text, unsigned_part, a);
	memcpy(text + a, signed_part, b + 1);
	open_zone(text, 0);
	open_zone(unsigned_part, 1);
	free(text);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int k = 0; k < 3; k++) {
		snap_close(F.s[k]);
		free(F.blob[k]);
	}
	return 0;
}

/* ---- queries and a small response reader ---------------------------------- */

static size_t query(uint8_t *q, const char *name, uint16_t qtype, int do_bit,
		    uint16_t payload)
{
	int len = dname_from_text(name, strlen(name), NULL, q + 12);
	size_t n = 12 + (size_t)len;

	assert_true(len > 0);
	memset(q, 0, 12);
	q[0] = 0x12;
	q[1] = 0x34;
	q[5] = 1;
	q[11] = 1;
	q[n++] = (uint8_t)(qtype >> 8);
	q[n++] = (uint8_t)qtype;
	q[n++] = 0;
	q[n++] = 1;
	memcpy(q + n, "\0\0\x29", 3);
	n += 3;
	q[n++] = (uint8_t)(payload >> 8);
	q[n++] = (uint8_t)payload;
	q[n++] = 0;
	q[n++] = 0;
	q[n++] = do_bit ? 0x80 : 0;
	q[n++] = 0;
	q[n++] = 0;
	q[n++] = 0;
	return n;
}

struct rr {
	char owner[DNAME_TEXT_MAX];
	size_t rd;              /* RDATA offset in the response */
	uint16_t type, covered;
	uint32_t ttl;
	int sec;
};

struct resp {
	uint8_t rcode, tc, aa;
	uint16_t count[3];
	int n;
	struct rr rr[64];
};

static uint16_t g16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Expand the name at *pos (pointers go backwards) into text. */
static void name_at(const uint8_t *m, size_t len, size_t *pos, char *text)
{
	uint8_t w[256];
	size_t p = *pos, n = 0;
	int jumped = 0;

	for (;;) {
		assert_true(p < len);
		if ((m[p] & 0xc0) == 0xc0) {
			size_t t = (size_t)(m[p] & 0x3f) << 8 | m[p + 1];

			assert_true(t < p);
			if (!jumped)
				*pos = p + 2;
			jumped = 1;
			p = t;
			continue;
		}
		assert_true(n + 1 + m[p] <= 255);
		memcpy(w + n, m + p, 1u + m[p]);
		n += 1u + m[p];
		if (!m[p])
			break;
		p += 1u + m[p];
	}
	if (!jumped)
		*pos = p + 1;
	assert_true(dname_to_text(w, text, DNAME_TEXT_MAX) > 0);
}

static void parse(const uint8_t *m, size_t len, struct resp *r)
{
	size_t pos = 12;
	char qn[DNAME_TEXT_MAX];

	memset(r, 0, sizeof(*r));
	assert_true(len >= 12);
	r->rcode = m[3] & 15;
	r->tc = !!(m[2] & 2);
	r->aa = !!(m[2] & 4);
	for (int s = 0; s < 3; s++)
		r->count[s] = g16(m + 6 + 2 * s);
	name_at(m, len, &pos, qn);
	pos += 4;
	for (int s = 0; s < 3; s++) {
		for (int i = 0; i < r->count[s]; i++) {
			struct rr *x = &r->rr[r->n];

			assert_true(r->n < 64);
			name_at(m, len, &pos, x->owner);
			x->type = g16(m + pos);
			x->ttl = (uint32_t)g16(m + pos + 4) << 16 | g16(m + pos + 6);
			x->covered = x->type == RRTYPE_RRSIG ? g16(m + pos + 10) : 0;
			x->sec = s;
			x->rd = pos + 10;
			pos += 10u + g16(m + pos + 8);
			assert_true(pos <= len);
			if (x->type != RRTYPE_OPT)
				r->n++;
		}
	}
	assert_int_equal(pos, len);
}

static size_t ask(int k, const char *name, uint16_t qtype, int do_bit,
		  size_t cap, uint8_t *out, struct resp *r)
{
	uint8_t q[512];
	size_t qlen = query(q, name, qtype, do_bit, 1232);
	size_t n = engine_answer(NULL, F.s[k], q, qlen, NULL, out, cap, NULL);

	assert_true(n > 0);
	parse(out, n, r);
	return n;
}

/* The RR of section sec with this owner, type (and type covered, for
 * RRSIG): how many there are. */
static int has(const struct resp *r, int sec, const char *owner, uint16_t type,
	       uint16_t covered)
{
	int n = 0;

	for (int i = 0; i < r->n; i++) {
		const struct rr *x = &r->rr[i];

		n += x->sec == sec && x->type == type && x->covered == covered &&
		     strcmp(x->owner, owner) == 0;
	}
	return n;
}

/* ---- tests ------------------------------------------------------------------- */

static void test_rrsig_per_rrset(void **state)
{
	uint8_t out[4096];
	struct resp r;

	(void)state;
	ask(0, "a.sig.test.", RRTYPE_A, 1, sizeof(out), out, &r);
	assert_int_equal(r.rcode, 0);
	assert_int_equal(r.count[0], 2);        /* A and RRSIG(A), not RRSIG(NSEC) */
	assert_int_equal(has(&r, 0, "a.sig.test.", RRTYPE_A, 0), 1);
	assert_int_equal(has(&r, 0, "a.sig.test.", RRTYPE_RRSIG, RRTYPE_A), 1);
	assert_int_equal(r.count[1] + r.count[2], 1);   /* the OPT alone */

	/* a CNAME chain: each link with its own signature */
	ask(0, "cn.sig.test.", RRTYPE_A, 1, sizeof(out), out, &r);
	assert_int_equal(r.count[0], 4);
	assert_int_equal(has(&r, 0, "cn.sig.test.", RRTYPE_RRSIG, RRTYPE_CNAME), 1);
	assert_int_equal(has(&r, 0, "a.sig.test.", RRTYPE_RRSIG, RRTYPE_A), 1);

	/* DNSKEY at the apex */
	ask(0, "sig.test.", RRTYPE_DNSKEY, 1, sizeof(out), out, &r);
	assert_int_equal(r.count[0], 2);
	assert_int_equal(has(&r, 0, "sig.test.", RRTYPE_RRSIG, RRTYPE_DNSKEY), 1);
}

static void test_nxdomain(void **state)
{
	uint8_t out[4096];
	struct resp r;

	(void)state;
	/* b < c: covered by a's NSEC; the wildcard *.sig.test by the apex's */
	ask(0, "b.sig.test.", RRTYPE_A, 1, sizeof(out), out, &r);
	assert_int_equal(r.rcode, 3);
	assert_int_equal(r.count[1], 6);
	assert_int_equal(has(&r, 1, "sig.test.", RRTYPE_SOA, 0), 1);
	assert_int_equal(has(&r, 1, "sig.test.", RRTYPE_RRSIG, RRTYPE_SOA), 1);
	assert_int_equal(has(&r, 1, "a.sig.test.", RRTYPE_NSEC, 0), 1);
	assert_int_equal(has(&r, 1, "a.sig.test.", RRTYPE_RRSIG, RRTYPE_NSEC), 1);
	assert_int_equal(has(&r, 1, "sig.test.", RRTYPE_NSEC, 0), 1);
	assert_int_equal(has(&r, 1, "sig.test.", RRTYPE_RRSIG, RRTYPE_NSEC), 1);
	/* the negative TTL for the SOA and its signature (as Knot) */
	for (int i = 0; i < r.n; i++) {
		if (r.rr[i].type == RRTYPE_SOA || r.rr[i].covered == RRTYPE_SOA)
			assert_int_equal(r.rr[i].ttl, 300);
	}

	/* one NSEC covers both: 0 sorts before every child of the apex */
	ask(0, "0.sig.test.", RRTYPE_A, 1, sizeof(out), out, &r);
	assert_int_equal(r.rcode, 3);
	assert_int_equal(r.count[1], 4);
	assert_int_equal(has(&r, 1, "sig.test.", RRTYPE_NSEC, 0), 1);

	/* after the last name, and below an existing name */
	ask(0, "zzz.sig.test.", RRTYPE_A, 1, sizeof(out), out, &r);
	assert_int_equal(has(&r, 1, "zz.sig.test.", RRTYPE_NSEC, 0), 1);
	assert_int_equal(has(&r, 1, "sig.test.", RRTYPE_NSEC, 0), 1);
	ask(0, "x.a.sig.test.", RRTYPE_A, 1, sizeof(out), out, &r);
	assert_int_equal(r.rcode, 3);
	assert_int_equal(r.count[1], 4);        /* a's NSEC covers both */
	assert_int_equal(has(&r, 1, "a.sig.test.", RRTYPE_NSEC, 0), 1);
	/* after the last of c's subtree; *.c sorts before b.c, after big */
	ask(0, "d.c.sig.test.", RRTYPE_A, 1, sizeof(out), out, &r);
	assert_int_equal(has(&r, 1, "b.c.sig.test.", RRTYPE_NSEC, 0), 1);
	assert_int_equal(has(&r, 1, "big.sig.test.", RRTYPE_NSEC, 0), 1);
}

/* ---- the NSEC search under an apex with many children ------------------ */

/* RFC 4034 6.1 order of two lower-case labels (bytes, then length). */
static int label_order(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int c = memcmp(a, b, la < lb ? la : lb);

	return c ? c : (la > lb) - (la < lb);
}

static int label_qsort(const void *a, const void *b)
{
	return label_order(*(char *const *)a, *(char *const *)b);
}

/* Labels of host-name characters and some others (bytes that share a
 * rank in the apex index), from an alphabet that leaves out 'q' and '7'
 * as first letters in the zone (empty buckets of the index), with runs
 * that share their first 8 bytes (equal keys). */
static void random_label(uint64_t *x, char *out, bool zone)
{
	static const char abc[] = "abcdefghijklmnopqrstuvwxyz0123456789-_+~!=/";
	unsigned len;

	*x = *x * 6364136223846793005ull + 1442695040888963407ull;
	if ((*x >> 60) == 0) {
		snprintf(out, 16, "samepref%u", (unsigned)(*x >> 40) % 50);
		return;
	}
	len = 1 + (unsigned)(*x >> 33) % 12;
	for (unsigned i = 0; i < len; i++) {
		*x = *x * 6364136223846793005ull + 1442695040888963407ull;
		out[i] = abc[(*x >> 33) % (sizeof(abc) - 1)];
		if (!i && zone && (out[0] == 'q' || out[0] == '7'))
			out[0] = 'a';
	}
	out[len] = 0;
}

static bool in_list(char **l, size_t n, const char *x)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(l[i], x))
			return true;
	return false;
}

/* NXDOMAIN proofs at an apex with 300 children (snap_open indexes those by
 * their first two bytes): for 3,000 absent names, the NSEC whose owner is the name's
 * canonical predecessor, found here by brute force. */
static void test_nsec_cover_many(void **state)
{
	enum { N = 300, PROBES = 3000 };
	static char lab[N + 1][16];
	char *l[N + 1], probe[16], want[DNAME_TEXT_MAX], qname[64];
	size_t n = 0, cap = 1 << 20, at;
	char *text = malloc(cap);
	uint64_t x = 53;
	uint8_t out[4096];
	struct resp r;

	(void)state;
	assert_non_null(text);
	strcpy(lab[n], "ns");
	l[n] = lab[n];
	n++;
	while (n < N + 1) {
		random_label(&x, lab[n], true);
		if (!in_list(l, n, lab[n])) {
			l[n] = lab[n];
			n++;
		}
	}
	qsort(l, n, sizeof(l[0]), label_qsort);
	at = (size_t)snprintf(text, cap, "$ORIGIN many.test.\n$TTL 3600\n"
			      "@ SOA ns hm 1 7200 900 1209600 300\n@ NS ns\n"
			      "@ " SIG("SOA", "2") "@ DNSKEY 257 3 13 a2V5\n"
			      "@ NSEC %s.many.test. NS SOA RRSIG NSEC DNSKEY\n"
			      "@ " SIG("NSEC", "2"), l[0]);
	for (size_t i = 0; i < n; i++)
		at += (size_t)snprintf(text + at, cap - at,
				       "%s A 192.0.2.1\n%s " SIG("A", "3")
				       "%s NSEC %s%s A RRSIG NSEC\n%s " SIG("NSEC", "3"),
				       l[i], l[i], l[i], i + 1 < n ? l[i + 1] : "",
				       i + 1 < n ? ".many.test." : "many.test.", l[i]);
	assert_true(at < cap);
	{
		struct zone *z = NULL;
		struct diag d;
		size_t len;

		diag_init(&d, stderr);
		d.hide_warnings = 1;
		assert_int_equal(zone_parse_string(text, at, "many", NULL, &d, &z), 0);
		assert_int_equal(zone_check(z, NULL, &d), 0);
		assert_int_equal(snap_compile(&z, 1, NULL, &d, &F.blob[2], &len), 0);
		assert_int_equal(snap_open_mem(F.blob[2], len, &d, &F.s[2]), 0);
		zone_free(z);
	}
	free(text);
	for (int k = 0; k < PROBES; k++) {
		size_t best = n;

		if (k < 6) {
			static const char *const edge[] = {
				"0", "---", "zzzzzzzzzzzzz", "samepref", "samepref9z", "qqq",
			};
			strcpy(probe, edge[k]);
		} else {
			random_label(&x, probe, false);
		}
		if (in_list(l, n, probe))
			continue;
		for (size_t i = 0; i < n; i++)
			if (label_order(l[i], probe) < 0)
				best = i;
		snprintf(want, sizeof(want), "%s%s", best < n ? l[best] : "",
			 best < n ? ".many.test." : "many.test.");
		/* every other query in upper case: the search lower-cases */
		snprintf(qname, sizeof(qname), "%s.many.test.", probe);
		for (char *c = qname; k % 2 && *c; c++)
			*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
		ask(2, qname, RRTYPE_A, 1, sizeof(out), out, &r);
		assert_int_equal(r.rcode, 3);
		if (has(&r, 1, want, RRTYPE_NSEC, 0) != 1)
			fail_msg("%s: want the NSEC of %s", qname, want);
	}
	snap_close(F.s[2]);
	F.s[2] = NULL;
	free(F.blob[2]);
	F.blob[2] = NULL;
}

static void test_nodata(void **state)
{
	uint8_t out[4096];
	struct resp r;

	(void)state;
	ask(0, "a.sig.test.", RRTYPE_TXT, 1, sizeof(out), out, &r);
	assert_int_equal(r.rcode, 0);
	assert_int_equal(r.count[0], 0);
	assert_int_equal(r.count[1], 4);
	assert_int_equal(has(&r, 1, "a.sig.test.", RRTYPE_NSEC, 0), 1);
	assert_int_equal(has(&r, 1, "a.sig.test.", RRTYPE_RRSIG, RRTYPE_NSEC), 1);

	/* an empty non-terminal: the NSEC that covers it */
	ask(0, "c.sig.test.", RRTYPE_A, 1, sizeof(out), out, &r);
	assert_int_equal(r.rcode, 0);
	assert_int_equal(has(&r, 1, "big.sig.test.", RRTYPE_NSEC, 0), 1);

	/* DS at an unsigned delegation: the NSEC at the cut */
	ask(0, "del.sig.test.", RRTYPE_DS, 1, sizeof(out), out, &r);
	assert_int_equal(r.aa, 1);
	assert_int_equal(has(&r, 1, "del.sig.test.", RRTYPE_NSEC, 0), 1);
}

static void test_wildcard(void **state)
{
	uint8_t out[4096];
	struct resp r;

	(void)state;
	ask(0, "x.w.sig.test.", RRTYPE_A, 1, sizeof(out), out, &r);
	assert_int_equal(r.rcode, 0);
	assert_int_equal(has(&r, 0, "x.w.sig.test.", RRTYPE_A, 0), 1);
	assert_int_equal(has(&r, 0, "x.w.sig.test.", RRTYPE_RRSIG, RRTYPE_A), 1);
	/* the proof that x.w itself does not exist */
	assert_int_equal(r.count[1], 2);
	assert_int_equal(has(&r, 1, "*.w.sig.test.", RRTYPE_NSEC, 0), 1);

	/* wildcard NODATA: the covering NSEC and the wildcard's (one here) */
	ask(0, "x.w.sig.test.", RRTYPE_TXT, 1, sizeof(out), out, &r);
	assert_int_equal(r.count[0], 0);
	assert_int_equal(r.count[1], 4);
	assert_int_equal(has(&r, 1, "*.w.sig.test.", RRTYPE_NSEC, 0), 1);
}

static void test_referral(void **state)
{
	uint8_t out[4096];
	struct resp r;

	(void)state;
	ask(0, "host.sdel.sig.test.", RRTYPE_A, 1, sizeof(out), out, &r);
	assert_int_equal(r.aa, 0);
	assert_int_equal(has(&r, 1, "sdel.sig.test.", RRTYPE_NS, 0), 1);
	assert_int_equal(has(&r, 1, "sdel.sig.test.", RRTYPE_RRSIG, RRTYPE_NS), 0);
	assert_int_equal(has(&r, 1, "sdel.sig.test.", RRTYPE_DS, 0), 1);
	assert_int_equal(has(&r, 1, "sdel.sig.test.", RRTYPE_RRSIG, RRTYPE_DS), 1);
	assert_int_equal(has(&r, 2, "ns.sdel.sig.test.", RRTYPE_A, 0), 1);

	ask(0, "host.del.sig.test.", RRTYPE_A, 1, sizeof(out), out, &r);
	assert_int_equal(r.count[1], 3);
	assert_int_equal(has(&r, 1, "del.sig.test.", RRTYPE_NSEC, 0), 1);
	assert_int_equal(has(&r, 1, "del.sig.test.", RRTYPE_RRSIG, RRTYPE_NSEC), 1);
}

/* DO=0 from the signed zone: the very bytes of the zone without DNSSEC. */
static void test_do0_unchanged(void **state)
{
	static const struct { const char *name; uint16_t type; } q[] = {
		{ "a.sig.test.", RRTYPE_A }, { "cn.sig.test.", RRTYPE_A },
		{ "b.sig.test.", RRTYPE_A }, { "a.sig.test.", RRTYPE_TXT },
		{ "c.sig.test.", RRTYPE_A }, { "x.w.sig.test.", RRTYPE_A },
		{ "x.w.sig.test.", RRTYPE_MX }, { "host.sdel.sig.test.", RRTYPE_A },
		{ "host.del.sig.test.", RRTYPE_AAAA }, { "sig.test.", RRTYPE_NS },
		{ "zzz.sig.test.", RRTYPE_A }, { "big.sig.test.", RRTYPE_TXT },
	};
	uint8_t o1[4096], o2[4096];
	struct resp r;

	(void)state;
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		size_t n1 = ask(0, q[i].name, q[i].type, 0, sizeof(o1), o1, &r);
		size_t n2 = ask(1, q[i].name, q[i].type, 0, sizeof(o2), o2, &r);

		assert_int_equal(n1, n2);
		assert_memory_equal(o1, o2, n1);
	}
	/* and DO=1 on an unsigned zone adds nothing but the bit */
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		size_t n1 = ask(1, q[i].name, q[i].type, 0, sizeof(o1), o1, &r);
		size_t n2 = ask(1, q[i].name, q[i].type, 1, sizeof(o2), o2, &r);

		assert_int_equal(n1, n2);
		assert_memory_equal(o1, o2, n1 - 5);    /* OPT TTL's DO bit */
	}
}

static void test_truncation(void **state)
{
	uint8_t out[4096];
	struct resp r;
	size_t full, plain;

	(void)state;
	/* the TXT fits, its RRSIG does not: TC, the RRset whole */
	plain = ask(0, "big.sig.test.", RRTYPE_TXT, 0, sizeof(out), out, &r);
	assert_int_equal(r.tc, 0);
	full = ask(0, "big.sig.test.", RRTYPE_TXT, 1, sizeof(out), out, &r);
	assert_true(full > plain + 20);
	ask(0, "big.sig.test.", RRTYPE_TXT, 1, full - 1, out, &r);
	assert_int_equal(r.tc, 1);
	assert_int_equal(r.count[0], 1);
	assert_int_equal(r.rr[0].type, RRTYPE_TXT);

	/* a denial that does not fit: TC, RCODE kept */
	full = ask(0, "b.sig.test.", RRTYPE_A, 1, sizeof(out), out, &r);
	ask(0, "b.sig.test.", RRTYPE_A, 1, full - 1, out, &r);
	assert_int_equal(r.tc, 1);
	assert_int_equal(r.rcode, 3);
	assert_true(r.count[1] < 6);
	/* at DO=0 the same buffer holds the whole answer */
	ask(0, "b.sig.test.", RRTYPE_A, 0, full - 1, out, &r);
	assert_int_equal(r.tc, 0);
}

/* The snapshot says it is signed, and when the first signature expires. */
static void test_snapshot(void **state)
{
	const struct snap_header *h = snap_header(F.s[0]);

	(void)state;
	assert_true(h->features & SNAP_FEAT_DNSSEC);
	assert_int_equal(h->min_sig_expiry, 2145916800u);  /* 2038-01-01 */
	assert_true(snap_zone_at(F.s[0], 0)->flags & SNAP_ZONE_SIGNED);
	assert_int_not_equal(snap_zone_at(F.s[0], 0)->denial, 0);
	assert_int_equal(snap_zone_at(F.s[1], 0)->denial, 0);
	assert_false(snap_header(F.s[1])->features & SNAP_FEAT_DNSSEC);
	assert_int_equal(snap_header(F.s[1])->min_sig_expiry, 0);
}

/* A copy of the signed blob, changed by fn and hashed again: the structural
 * checks of snap_open_mem must refuse it. */
static void refused(void (*fn)(uint8_t *blob))
{
	size_t len = snap_size(F.s[0]);
	uint8_t *b = malloc(len);
	struct snap_header *h = (struct snap_header *)(void *)b;
	struct snap *s = NULL;
	struct diag d;
	unsigned int n;

	assert_non_null(b);
	memcpy(b, F.blob[0], len);
	fn(b);
	memset(h->sha256, 0, sizeof(h->sha256));
	assert_true(EVP_Digest(b, h->content_size, h->sha256, &n, EVP_sha256(), NULL));
	diag_init(&d, NULL);
	assert_int_equal(snap_open_mem(b, len, &d, &s), P53_EFORMAT);
	free(b);
}

static struct snap_zone *zone0(uint8_t *b)
{
	return (struct snap_zone *)(void *)(b + ((struct snap_header *)(void *)b)->zone_table);
}

static void bad_end(uint8_t *b)
{
	struct snap_zone *z = zone0(b);

	((struct snap_node *)(void *)(b + z->nodes))[1].end = z->node_count + 1;
}

static void bad_nsec(uint8_t *b)
{
	struct snap_zone *z = zone0(b);

	((struct snap_node *)(void *)(b + z->nodes))[1].nsec = 5;
}

/* An RRSIG link to an RRset that is not of type RRSIG. */
static void bad_link(uint8_t *b)
{
	struct snap_zone *z = zone0(b);
	struct snap_node *apex = (struct snap_node *)(void *)(b + z->nodes);
	struct snap_rrset *set = (struct snap_rrset *)(void *)(b + apex->rrsets);

	for (uint32_t i = 0; i < apex->rrset_count; i++) {
		if (set[i].rrsig) {
			set[i].rrsig = apex->rrsets;    /* the apex's first: NS */
			return;
		}
	}
	fail();
}

/* A denial record that says another length than its node's RRSIG. */
static void bad_denial(uint8_t *b)
{
	struct snap_zone *z = zone0(b);
	struct snap_denial *d = (struct snap_denial *)(void *)(b + z->denial);

	assert_int_not_equal(z->denial, 0);
	for (uint32_t i = 0; i < z->node_count; i++) {
		if (d[i].count) {
			d[i].sig_len += 12;
			return;
		}
	}
	fail();
}

/* Denial records beyond the content. */
static void bad_denial_at(uint8_t *b)
{
	zone0(b)->denial = (uint32_t)((struct snap_header *)(void *)b)->content_size - 8;
}

static void test_verify(void **state)
{
	(void)state;
	refused(bad_end);
	refused(bad_nsec);
	refused(bad_link);
	refused(bad_denial);
	refused(bad_denial_at);
}

/* A snapshot without denial records (as compiled before 1.3) answers
 * byte for byte as one with them: the engine's proofs from the records
 * and from the nodes are the same. */
static void test_denial_records(void **state)
{
	static const struct { const char *name; uint16_t type; } qs[] = {
		{ "b.sig.test.", RRTYPE_A },            /* NXDOMAIN */
		{ "zzz.sig.test.", RRTYPE_A },          /* after the last name */
		{ "a.sig.test.", RRTYPE_TXT },          /* NODATA */
		{ "c.sig.test.", RRTYPE_A },            /* empty non-terminal */
		{ "x.w.sig.test.", RRTYPE_A },          /* wildcard */
		{ "x.w.sig.test.", RRTYPE_TXT },        /* wildcard NODATA */
		{ "x.del.sig.test.", RRTYPE_A },        /* insecure referral */
		{ "x.sdel.sig.test.", RRTYPE_A },       /* secure referral */
	};
	size_t len = snap_size(F.s[0]);
	uint8_t *b = malloc(len), q[512], o1[2048], o2[2048];
	struct snap_header *h = (struct snap_header *)(void *)b;
	struct snap *s = NULL;
	struct diag d;
	unsigned int n;

	(void)state;
	assert_non_null(b);
	memcpy(b, F.blob[0], len);
	zone0(b)->denial = 0;
	memset(h->sha256, 0, sizeof(h->sha256));
	assert_true(EVP_Digest(b, h->content_size, h->sha256, &n, EVP_sha256(), NULL));
	diag_init(&d, NULL);
	assert_int_equal(snap_open_mem(b, len, &d, &s), 0);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		for (uint16_t cap = 512; cap <= 2048; cap += 1536) {
			size_t qlen = query(q, qs[i].name, qs[i].type, 1, cap);
			size_t n1 = engine_answer(NULL, F.s[0], q, qlen, NULL, o1, cap, NULL);
			size_t n2 = engine_answer(NULL, s, q, qlen, NULL, o2, cap, NULL);

			assert_true(n1 > 12);
			assert_int_equal(n1, n2);
			assert_memory_equal(o1, o2, n1);
		}
	}
	snap_close(s);
	free(b);
}

/* The compiler lays the signatures of one RRset a node right after that
 * RRset's wire (snap_compile.c, sig_partner), and the engine copies both at
 * once: the apex's SOA, a secure cut's DS, an insecure cut's NSEC, else a
 * name's addresses, its CNAME or its first signed RRset. The node's RRSIG
 * RRset still holds every signature, the partner's first. */
static void test_sig_partners(void **state)
{
	static const struct { const char *name; uint16_t type, sigs; } want[] = {
		{ "sig.test.", RRTYPE_SOA, 4 },
		{ "sdel.sig.test.", RRTYPE_DS, 2 },
		{ "del.sig.test.", RRTYPE_NSEC, 1 },
		{ "a.sig.test.", RRTYPE_A, 2 },
		{ "cn.sig.test.", RRTYPE_CNAME, 2 },
		{ "zz.sig.test.", RRTYPE_TXT, 2 },
	};
	const struct snap *s = F.s[0];
	const struct snap_zone *z = snap_zone_at(s, 0);

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		uint8_t w[DNAME_MAXLEN];
		int len = dname_from_text(want[i].name, strlen(want[i].name), NULL, w);
		const struct snap_node *n = snap_find_node(s, z, w, (size_t)len);
		const struct snap_rrset *set, *sig, *all;
		const uint8_t *rr;

		assert_true(len > 0);
		assert_non_null(n);
		set = snap_node_rrset(s, n, want[i].type);
		all = snap_node_rrset(s, n, RRTYPE_RRSIG);
		assert_non_null(set);
		assert_non_null(all);
		assert_int_not_equal(set->rrsig, 0);
		sig = (const struct snap_rrset *)(const void *)snap_ptr(s, set->rrsig);
		assert_int_equal(sig->wire, set->wire + set->wire_len);
		assert_int_equal(all->wire, sig->wire);
		assert_int_equal(all->count, want[i].sigs);
		/* every RR of the slice covers the partner's type */
		rr = snap_ptr(s, sig->wire);
		for (uint16_t k = 0; k < sig->count; k++) {
			assert_int_equal(g16(rr + 2), RRTYPE_RRSIG);
			assert_int_equal(g16(rr + 12), want[i].type);
			rr += 12 + g16(rr + 10);
		}
		assert_ptr_equal(rr, snap_ptr(s, sig->wire) + sig->wire_len);
		/* an NSEC partner's denial record is one run too (put_denial) */
		if (want[i].type == RRTYPE_NSEC) {
			const struct snap_denial *d = snap_denial_of(s, z, n);

			assert_non_null(d);
			assert_int_equal(d->sig, d->wire + d->wire_len);
		}
	}
}

/* snap_nsec_wild, kept per apex when the snapshot opens, is the search it
 * stands for at every node; and at an apex with a child that sorts before
 * "*" ('!' is 0x21) the wildcard's proof is that child's NSEC, not the
 * apex's. */
static void test_nsec_wild(void **state)
{
	static const char text[] =
		"$ORIGIN early.test.\n$TTL 3600\n"
		"@ SOA ns hm 1 7200 900 1209600 300\n@ NS ns\n"
		"@ " SIG("SOA", "2") "@ NSEC !a.early.test. NS SOA RRSIG NSEC\n"
		"@ " SIG("NSEC", "2")
		"!a A 192.0.2.1\n!a " SIG("A", "3")
		"!a NSEC ns.early.test. A RRSIG NSEC\n!a " SIG("NSEC", "3")
		"ns A 192.0.2.53\nns " SIG("A", "3")
		"ns NSEC early.test. A RRSIG NSEC\nns " SIG("NSEC", "3");
	const struct snap *s = F.s[0];
	const struct snap_zone *z = snap_zone_at(s, 0);
	struct zone *zone = NULL;
	uint8_t out[4096];
	struct resp r;
	struct diag d;
	size_t len;

	(void)state;
	for (uint32_t i = 0; i < z->node_count; i++) {
		const struct snap_node *n = snap_node_at(s, z, i);

		assert_ptr_equal(snap_nsec_wild(s, z, n),
				 snap_nsec_cover(s, z, n, (const uint8_t *)"\1*"));
	}
	diag_init(&d, stderr);
	d.hide_warnings = 1;
	assert_int_equal(zone_parse_string(text, strlen(text), "early", NULL, &d, &zone), 0);
	assert_int_equal(zone_check(zone, NULL, &d), 0);
	assert_int_equal(snap_compile(&zone, 1, NULL, &d, &F.blob[2], &len), 0);
	assert_int_equal(snap_open_mem(F.blob[2], len, &d, &F.s[2]), 0);
	zone_free(zone);
	ask(2, "x.early.test.", RRTYPE_A, 1, sizeof(out), out, &r);
	assert_int_equal(r.rcode, 3);
	assert_int_equal(has(&r, 1, "!a.early.test.", RRTYPE_NSEC, 0), 1);   /* "*" */
	assert_int_equal(has(&r, 1, "ns.early.test.", RRTYPE_NSEC, 0), 1);   /* "x" */
	assert_int_equal(has(&r, 1, "early.test.", RRTYPE_NSEC, 0), 0);
	snap_close(F.s[2]);
	F.s[2] = NULL;
	free(F.blob[2]);
	F.blob[2] = NULL;
}

/* SHA-1 (FIPS 180-4 test vectors) and the NSEC3 hash of a real zone's apex
 * (tests/integration/zones/nsec3.test.zone, RFC 9276 parameters). */
static void test_nsec3_hash(void **state)
{
	static const uint8_t abc[20] = {
		0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e,
		0x25, 0x71, 0x78, 0x50, 0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d,
	};
	static const uint8_t two[20] = {
		0x84, 0x98, 0x3e, 0x44, 0x1c, 0x3b, 0xd2, 0x6e, 0xba, 0xae,
		0x4a, 0xa1, 0xf9, 0x51, 0x29, 0xe5, 0xe5, 0x46, 0x70, 0xf1,
	};
	const char *msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	uint8_t h[20], want[20];

	(void)state;
	nsec3_sha1("abc", 3, h);
	assert_memory_equal(h, abc, 20);
	nsec3_sha1(msg, strlen(msg), h);        /* two blocks */
	assert_memory_equal(h, two, 20);
	nsec3_hash((const uint8_t *)"\5nsec3\4test", 12, NULL, 0, 0, h);
	assert_int_equal(nsec3_label_decode((const uint8_t *)
			 "\x20" "0MADR2C2O78CQSOQUIEJTBEH6GFGB0FF", want), 0);
	assert_memory_equal(h, want, 20);
	assert_int_equal(nsec3_label_decode((const uint8_t *)"\3www", want), -1);
	assert_int_equal(nsec3_label_decode((const uint8_t *)
			 "\x20" "0madr2c2o78cqsoquiejtbeh6gfgb0fw", want), -1);
	/* iterations: IH(1) = H(IH(0) || salt) */
	{
		uint8_t salt[2] = { 0xab, 0xcd }, buf[22], once[20];

		nsec3_hash((const uint8_t *)"\1a\0", 3, salt, 2, 0, once);
		memcpy(buf, once, 20);
		memcpy(buf + 20, salt, 2);
		nsec3_sha1(buf, 22, want);
		nsec3_hash((const uint8_t *)"\1a\0", 3, salt, 2, 1, h);
		assert_memory_equal(h, want, 20);
	}
}

/* The SHA extensions (when this CPU has them) and the portable code hash
 * every length alike: around each block boundary and the padding's. */
static void test_nsec3_sha_ni(void **state)
{
	uint8_t msg[200], a[20], b[20];
	uint32_t x = 53;

	(void)state;
	for (size_t i = 0; i < sizeof(msg); i++) {
		x = x * 1103515245u + 12345u;
		msg[i] = (uint8_t)(x >> 16);
	}
	for (size_t len = 0; len <= sizeof(msg); len++) {
		nsec3_use_sha_ni(false);
		nsec3_sha1(msg, len, a);
		if (!nsec3_use_sha_ni(true))
			skip();         /* nothing to compare with */
		nsec3_sha1(msg, len, b);
		assert_memory_equal(a, b, 20);
	}
	test_nsec3_hash(state);         /* the vectors, with the extensions */
}

/* NSEC3 (RFC 5155 7.2) on the NSEC3-signed zones of the differential test
 * (real hashes): the proofs' shapes. */
static struct snap *open_file(const char *rel, uint8_t **blob)
{
	const char *root = getenv("SOURCE_ROOT");
	char path[4096];
	struct zone *z = NULL;
	struct snap *s = NULL;
	struct diag d;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", root ? root : ".", rel);
	diag_init(&d, stderr);
	d.hide_warnings = 1;
	assert_int_equal(zone_parse_file(path, NULL, &d, &z), 0);
	assert_int_equal(zone_check(z, NULL, &d), 0);
	assert_int_equal(snap_compile(&z, 1, NULL, &d, blob, &len), 0);
	assert_int_equal(snap_open_mem(*blob, len, &d, &s), 0);
	zone_free(z);
	return s;
}

static int count_type(const struct resp *r, int sec, uint16_t type, uint16_t covered)
{
	int n = 0;

	for (int i = 0; i < r->n; i++)
		n += r->rr[i].sec == sec && r->rr[i].type == type &&
		     r->rr[i].covered == covered;
	return n;
}

static void test_nsec3(void **state)
{
	uint8_t *b1, *b2, out[4096];
	struct snap *keep = F.s[0];
	struct resp r;

	(void)state;
	F.s[0] = open_file("tests/integration/zones/nsec3.test.zone", &b1);
	assert_true(snap_zone_at(F.s[0], 0)->flags & SNAP_ZONE_NSEC3);
	/* NXDOMAIN: the apex matches (closest encloser), the next closer and
	 * the wildcard are covered: three NSEC3 at most, each signed */
	ask(0, "nothere.nsec3.test.", RRTYPE_A, 1, sizeof(out), out, &r);
	assert_int_equal(r.rcode, 3);
	assert_int_equal(has(&r, 1, "0madr2c2o78cqsoquiejtbeh6gfgb0ff.nsec3.test.",
			     RRTYPE_NSEC3, 0), 1);
	assert_in_range(count_type(&r, 1, RRTYPE_NSEC3, 0), 2, 3);
	assert_int_equal(count_type(&r, 1, RRTYPE_NSEC3, 0),
			 count_type(&r, 1, RRTYPE_RRSIG, RRTYPE_NSEC3));
	/* NSEC3 owners do not exist for queries (7.2.8), at DO=0 too */
	ask(0, "0madr2c2o78cqsoquiejtbeh6gfgb0ff.nsec3.test.", RRTYPE_NSEC3, 0,
	    sizeof(out), out, &r);
	assert_int_equal(r.rcode, 3);
	ask(0, "x.0madr2c2o78cqsoquiejtbeh6gfgb0ff.nsec3.test.", RRTYPE_A, 0,
	    sizeof(out), out, &r);
	assert_int_equal(r.rcode, 3);
	/* NODATA: the name's own NSEC3 */
	ask(0, "www.nsec3.test.", RRTYPE_CAA, 1, sizeof(out), out, &r);
	assert_int_equal(r.rcode, 0);
	assert_int_equal(count_type(&r, 1, RRTYPE_NSEC3, 0), 1);
	/* a wildcard answer: the next closer name is covered */
	ask(0, "foo.w.nsec3.test.", RRTYPE_A, 1, sizeof(out), out, &r);
	assert_int_equal(r.count[0], 2);
	assert_int_equal(count_type(&r, 1, RRTYPE_NSEC3, 0), 1);
	assert_int_equal(count_type(&r, 1, RRTYPE_RRSIG, RRTYPE_NSEC3), 1);
	snap_close(F.s[0]);
	free(b1);

	/* opt-out: the unsigned delegation has no NSEC3, its DS NODATA is the
	 * closest provable encloser proof (7.2.4) */
	F.s[0] = open_file("tests/integration/zones/optout.test.zone", &b2);
	ask(0, "outdeleg.optout.test.", RRTYPE_DS, 1, sizeof(out), out, &r);
	assert_int_equal(r.rcode, 0);
	assert_int_equal(count_type(&r, 1, RRTYPE_NSEC3, 0), 2);
	ask(0, "host.outdeleg.optout.test.", RRTYPE_A, 1, sizeof(out), out, &r);
	assert_int_equal(r.aa, 0);
	assert_int_equal(count_type(&r, 1, RRTYPE_NSEC3, 0), 2);
	snap_close(F.s[0]);
	free(b2);
	F.s[0] = keep;
}


/* ---- traffic policies in a signed zone (zones/policy_sig.h) ---------------- */

static const char pol_zone[] =
	"$ORIGIN pol.test.\n$TTL 300\n"
	"@ SOA ns1 hostmaster 1 7200 900 1209600 60\n@ NS ns1\n"
	"ns1 A 192.0.2.1\nf AAAA 2001:db8::1\n";
static const char pol_text[] =
	"version: 1\nchecks:\n"
	"  a: { type: tcp, target: 127.0.0.1, port: 1 }\n"
	"records:\n  - name: f.pol.test.\n    type: A\n    ttl: 30\n    policy:\n"
	"      routing: failover\n      fail_open: false\n      members:\n"
	"        - { address: 10.0.2.1, check: a }\n";

/* The zone and policy above compiled with a signing key; with_sigs false
 * leaves the policy signature section out. */
static int open_policy_snap(bool with_sigs, uint8_t **blob, struct snap **out)
{
	struct dnssec_sign_opts o = { .now = 1790000000, .threads = 1,
				      .unsigned_set = policy_sig_placeholder };
	struct policy *p;
	struct snap_section_in sec[2];
	struct snap_compile_opts co = { .serial = 1, .sections = sec };
	struct dnssec_key *key;
	struct zone *z = NULL, *sz = NULL;
	uint8_t *pblob, *sblob;
	size_t plen, slen, len;
	bool signing = true;
	struct diag d;
	int ret;

	diag_init(&d, NULL);
	assert_int_equal(zone_parse_string(pol_zone, strlen(pol_zone), "pol", NULL, &d, &z), 0);
	assert_int_equal(policy_compile_text("p", pol_text, strlen(pol_text), &d, &pblob, &plen), 0);
	assert_int_equal(snap_policy_prepare_signing(&z, 1, pblob, plen, &signing, &d), 0);
	assert_int_equal(dnssec_key_generate(13, DNSSEC_CSK, zone_origin(z), &d, &key), 0);
	assert_int_equal(policy_open(pblob, plen, &d, &p), 0);
	o.unsigned_arg = p;
	assert_int_equal(dnssec_sign_zone(z, &key, 1, &o, &d, &sz, NULL), 0);
	policy_close(p);
	struct policy_sig_zone pz = { sz, &key, 1 };
	assert_int_equal(policy_sig_build(pblob, plen, &pz, 1, &o, &d, &sblob, &slen, NULL), 0);
	sec[0] = (struct snap_section_in){ SNAP_SECT_POLICY, pblob, plen };
	sec[1] = (struct snap_section_in){ SNAP_SECT_POLICY_SIG, sblob, slen };
	co.nsections = with_sigs ? 2 : 1;
	assert_int_equal(snap_compile(&sz, 1, &co, &d, blob, &len), 0);
	ret = snap_open_mem(*blob, len, &d, out);
	if (ret < 0 && !with_sigs)
		assert_non_null(strstr(d.first, "its answers are not signed"));
	zone_free(z);
	zone_free(sz);
	dnssec_key_free(key);
	free(pblob);
	free(sblob);
	return ret;
}

static bool nsec_has(const uint8_t *m, const struct rr *x, uint16_t t)
{
	size_t len = g16(m + x->rd - 2), at = 0;
	const uint8_t *rd = m + x->rd;

	while (at < len && rd[at])                   /* the next name, uncompressed */
		at += 1u + rd[at];
	for (at++; at + 2 <= len; at += 2u + rd[at + 1])
		if (rd[at] == t >> 8 && (t & 0xff) / 8 < rd[at + 1])
			return rd[at + 2 + (t & 0xff) / 8] & (0x80 >> (t % 8));
	return false;
}

/* The dump shows the record's one signed answer with its RRSIG, so that
 * the owner's NSEC (which lists A) has an RRset behind it for verifiers. */
static void dump_has_policy_answer(const struct snap *s)
{
	char *text = NULL, *at;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(snap_dump(s, f), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(at = strstr(text, "(traffic policy record 0)"));
	assert_non_null(at = strstr(at, "one of its signed answers"));
	assert_non_null(at = strstr(at, "\nf.pol.test.\t30\tIN\tA\t10.0.2.1\n"));
	assert_non_null(strstr(at, "\nf.pol.test.\t30\tIN\tRRSIG\tA 13 3 30 "));
	free(text);
}

static void test_policy_signed(void **state)
{
	uint8_t out[4096], q[512], *blob;
	uint8_t up = 1, down = 0;
	struct snap *s;
	struct resp r;
	size_t n;

	(void)state;
	assert_int_equal(open_policy_snap(true, &blob, &s), 0);
	/* chosen: the address with its RRSIG; DO=0 without */
	snap_set_health(s, &up, 1);
	n = engine_answer(NULL, s, q, query(q, "f.pol.test.", RRTYPE_A, 1, 1232), NULL, out,
			  sizeof(out), NULL);
	parse(out, n, &r);
	assert_int_equal(r.rcode, 0);
	assert_int_equal(has(&r, 0, "f.pol.test.", RRTYPE_A, 0), 1);
	assert_int_equal(has(&r, 0, "f.pol.test.", RRTYPE_RRSIG, RRTYPE_A), 1);
	n = engine_answer(NULL, s, q, query(q, "f.pol.test.", RRTYPE_A, 0, 1232), NULL, out,
			  sizeof(out), NULL);
	parse(out, n, &r);
	assert_int_equal(r.count[0], 1);
	assert_int_equal(has(&r, 0, "f.pol.test.", RRTYPE_RRSIG, RRTYPE_A), 0);
	/* nothing chosen: NODATA whose NSEC at the owner lacks A (and has AAAA) */
	snap_set_health(s, &down, 1);
	n = engine_answer(NULL, s, q, query(q, "f.pol.test.", RRTYPE_A, 1, 1232), NULL, out,
			  sizeof(out), NULL);
	parse(out, n, &r);
	assert_int_equal(r.rcode, 0);
	assert_int_equal(r.count[0], 0);
	assert_int_equal(has(&r, 1, "f.pol.test.", RRTYPE_NSEC, 0), 1);
	assert_int_equal(has(&r, 1, "f.pol.test.", RRTYPE_RRSIG, RRTYPE_NSEC), 1);
	for (int i = 0; i < r.n; i++)
		if (r.rr[i].type == RRTYPE_NSEC) {
			assert_false(nsec_has(out, &r.rr[i], RRTYPE_A));
			assert_true(nsec_has(out, &r.rr[i], RRTYPE_AAAA));
		}
	/* the owner's other type: its own NSEC, which lists A */
	n = engine_answer(NULL, s, q, query(q, "f.pol.test.", RRTYPE_TXT, 1, 1232), NULL, out,
			  sizeof(out), NULL);
	parse(out, n, &r);
	for (int i = 0; i < r.n; i++)
		if (r.rr[i].type == RRTYPE_NSEC)
			assert_true(nsec_has(out, &r.rr[i], RRTYPE_A));
	dump_has_policy_answer(s);
	snap_close(s);
	free(blob);
	/* a signed zone's policy records without their signatures: refused */
	s = NULL;
	assert_int_equal(open_policy_snap(false, &blob, &s), P53_EFORMAT);
	assert_null(s);
	free(blob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rrsig_per_rrset),
		cmocka_unit_test(test_nxdomain),
		cmocka_unit_test(test_nsec_cover_many),
		cmocka_unit_test(test_nodata),
		cmocka_unit_test(test_wildcard),
		cmocka_unit_test(test_referral),
		cmocka_unit_test(test_do0_unchanged),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_denial_records),
		cmocka_unit_test(test_sig_partners),
		cmocka_unit_test(test_nsec_wild),
		cmocka_unit_test(test_nsec3_hash),
		cmocka_unit_test(test_nsec3_sha_ni),
		cmocka_unit_test(test_nsec3),
		cmocka_unit_test(test_policy_signed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
