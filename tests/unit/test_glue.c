/*
 * Pre-rendered glue (snapshot format 2.1, struct snap_glue): the engine
 * copies it for NS, MX and SRV RRsets instead of visiting each target.
 * The proof that it changes nothing a client sees: the same snapshot read
 * as 2.0 (version_minor 0, the glue words then ignored) answers every
 * question byte for byte the same, on a zone made to hold every glue case
 * and on the real root zone, with DO on and off, payload limits from 512
 * bytes up and over TCP. And the reader refuses glue that does not match
 * the RRset it follows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "dname.h"
#include "engine.h"
#include "error.h"
#include "rdata.h"
#include "snap.h"
#include "zone.h"

/* Every glue case: in-zone, sibling and out-of-zone NS targets, a target
 * twice, a target in another case, a target that is a CNAME, one below a
 * zone cut (glue for NS, never for MX), a signed one, SRV, two
 * delegations with the same servers (one copy of their glue), a 13-server delegation with
 * 26 glue RRs, and glue whose pointers land past 16 KiB (TCP). */
static const char ZONE[] =
	"$ORIGIN g.test.\n"
	"$TTL 3600\n"
	"@ SOA ns1 hostmaster 1 7200 900 1209600 300\n"
	"@ NS ns1\n"
	"@ NS NS2.g.test.\n"
	"@ NS ns.outside.example.\n"
	"ns1 A 192.0.2.1\n"
	"ns1 AAAA 2001:db8::1\n"
	"ns2 A 192.0.2.2\n"
	"ns2 A 192.0.2.3\n"
	"@ MX 10 mail\n"
	"@ MX 20 mail\n"
	"@ MX 30 MAIL2\n"
	"@ MX 40 cut.sub\n"
	"@ MX 50 alias\n"
	"@ MX 60 mx.elsewhere.example.\n"
	"mail 600 A 192.0.2.10\n"
	"mail AAAA 2001:db8::10\n"
	"mail2 AAAA 2001:db8::11\n"
	"mail2 RRSIG AAAA 13 3 3600 20300101000000 20200101000000 4711 g.test. "
	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==\n"
	"alias CNAME mail\n"
	"_sip._udp SRV 0 0 5060 mail\n"
	"_sip._udp SRV 1 0 5060 ns1\n"
	"_sip._udp SRV 2 0 5060 nowhere\n"
	"onlyout MX 10 mx.elsewhere.example.\n"
	"sub NS ns.sub\n"
	"sub NS ns2.sub\n"
	"sub NS ns1\n"
	"sub NS cut.sub\n"
	"ns.sub A 192.0.2.20\n"
	"ns2.sub AAAA 2001:db8::20\n"
	"cut.sub A 192.0.2.21\n"
	"cut.sub TXT \"below the cut\"\n"
	"big NS ns01.big\nbig NS ns02.big\nbig NS ns03.big\nbig NS ns04.big\n"
	"big NS ns05.big\nbig NS ns06.big\nbig NS ns07.big\nbig NS ns08.big\n"
	"big NS ns09.big\nbig NS ns10.big\nbig NS ns11.big\nbig NS ns12.big\n"
	"big NS ns13.big\n"
	"big2 NS ns01.big\nbig2 NS ns02.big\n"
	"big3 NS ns01.big\nbig3 NS ns02.big\n"
	"ns01.big A 198.51.100.1\nns01.big AAAA 2001:db8:b::1\n"
	"ns02.big A 198.51.100.2\nns02.big AAAA 2001:db8:b::2\n"
	"ns03.big A 198.51.100.3\nns03.big AAAA 2001:db8:b::3\n"
	"ns04.big A 198.51.100.4\nns04.big AAAA 2001:db8:b::4\n"
	"ns05.big A 198.51.100.5\nns05.big AAAA 2001:db8:b::5\n"
	"ns06.big A 198.51.100.6\nns06.big AAAA 2001:db8:b::6\n"
	"ns07.big A 198.51.100.7\nns07.big AAAA 2001:db8:b::7\n"
	"ns08.big A 198.51.100.8\nns08.big AAAA 2001:db8:b::8\n"
	"ns09.big A 198.51.100.9\nns09.big AAAA 2001:db8:b::9\n"
	"ns10.big A 198.51.100.10\nns10.big AAAA 2001:db8:b::10\n"
	"ns11.big A 198.51.100.11\nns11.big AAAA 2001:db8:b::11\n"
	"ns12.big A 198.51.100.12\nns12.big AAAA 2001:db8:b::12\n"
	"ns13.big A 198.51.100.13\nns13.big AAAA 2001:db8:b::13\n";

struct pair {
	uint8_t *blob, *old;    /* as compiled (2.1); the same read as 2.0 */
	size_t len;
	struct snap *s, *s20;
};

/* The hash over len bytes, whatever the (maybe damaged) header says. */
static void rehash(uint8_t *b, size_t len)
{
	struct snap_header *h = (struct snap_header *)b;
	unsigned int n;

	memset(h->sha256, 0, 32);
	assert_true(EVP_Digest(b, len, h->sha256, &n, EVP_sha256(), NULL));
}

static void pair_open(struct pair *p, struct zone *z)
{
	struct diag d;

	diag_init(&d, stderr);
	assert_int_equal(snap_compile(&z, 1, NULL, &d, &p->blob, &p->len), 0);
	zone_free(z);
	assert_int_equal(snap_open_mem(p->blob, p->len, &d, &p->s), 0);
	p->old = malloc(p->len);
	assert_non_null(p->old);
	memcpy(p->old, p->blob, p->len);
	((struct snap_header *)p->old)->version_minor = 0;
	rehash(p->old, p->len);
	assert_int_equal(snap_open_mem(p->old, p->len, &d, &p->s20), 0);
}

static void pair_close(struct pair *p)
{
	snap_close(p->s);
	snap_close(p->s20);
	free(p->blob);
	free(p->old);
}

static struct zone *parse_text(const char *text)
{
	struct zone *z = NULL;
	struct diag d;

	diag_init(&d, stderr);
	d.hide_warnings = 1;
	assert_int_equal(zone_parse_string(text, strlen(text), "test", NULL, &d, &z), 0);
	assert_int_equal(zone_check(z, NULL, &d), 0);
	return z;
}

static struct zone *parse_root(void)
{
	const char *root = getenv("SOURCE_ROOT");
	char path[4096];
	struct zone *z = NULL;
	struct diag d;

	snprintf(path, sizeof(path), "%s/../shared/zones/root.zone", root ? root : ".");
	diag_init(&d, stderr);
	d.hide_warnings = 1;
	assert_int_equal(zone_parse_file(path, NULL, &d, &z), 0);
	assert_int_equal(zone_check(z, NULL, &d), 0);
	return z;
}

/* How each question is asked: EDNS payload (0 = no OPT), DO, TCP. */
static const struct way {
	uint16_t payload;
	uint8_t do_bit, tcp;
} WAYS[] = {
	{ 0, 0, 0 }, { 512, 0, 0 }, { 1232, 0, 0 }, { 1232, 1, 0 },
	{ 4096, 1, 0 }, { 600, 1, 0 }, { 0, 0, 1 }, { 4096, 1, 1 },
};

static size_t query(uint8_t *q, const uint8_t *name, size_t nlen, uint16_t type,
		    const struct way *w, uint16_t id)
{
	size_t n = 12;

	memset(q, 0, 12);
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	q[5] = 1;
	q[11] = w->payload ? 1 : 0;
	memcpy(q + n, name, nlen);
	n += nlen;
	q[n++] = (uint8_t)(type >> 8);
	q[n++] = (uint8_t)type;
	q[n++] = 0;
	q[n++] = 1;
	if (w->payload) {
		const uint8_t opt[11] = { 0, 0, 41, (uint8_t)(w->payload >> 8),
					  (uint8_t)w->payload, 0, 0,
					  w->do_bit ? 0x80 : 0, 0, 0, 0 };

		memcpy(q + n, opt, sizeof(opt));
		n += sizeof(opt);
	}
	return n;
}

/* Name of node n with its first letter upper-cased (case is preserved in
 * answers, so the owner pointers of the glue must land right), and
 * "www." in front when below asks for a name under it (referrals). */
static size_t ask_name(const struct snap *s, const struct snap_node *n, int below,
		       uint8_t *out)
{
	const uint8_t *w = snap_ptr(s, n->name);
	size_t len = (size_t)dname_wire_len(w, DNAME_MAXLEN), at = 0;

	if (below && len + 4 <= DNAME_MAXLEN) {
		memcpy(out, "\3www", 4);
		at = 4;
	}
	memcpy(out + at, w, len);
	if (out[at] && out[at + 1] >= 'a' && out[at + 1] <= 'z')
		out[at + 1] = (uint8_t)(out[at + 1] - 32);
	return at + len;
}

/*
 * Every node of p's zones, asked for each type and under it, every way:
 * the 2.1 and the 2.0 reading answer the same bytes.
 */
static void same_answers(const struct pair *p)
{
	static const uint16_t types[] = { RRTYPE_NS, RRTYPE_MX, RRTYPE_SRV, RRTYPE_A,
					  RRTYPE_AAAA, RRTYPE_DS, RRTYPE_ANY };
	static uint8_t a[65536], b[65536];
	struct engine_client c = { .family = AF_INET, .port = 5353 };
	struct engine_conf conf;
	unsigned asked = 0;

	engine_conf_init(&conf);
	for (uint32_t zi = 0; zi < snap_zone_count(p->s); zi++) {
		const struct snap_zone *z = snap_zone_at(p->s, zi);

		for (uint32_t ni = 0; ni < z->node_count; ni++) {
			const struct snap_node *n = snap_node_at(p->s, z, ni);

			for (int below = 0; below < 2; below++) {
				uint8_t name[DNAME_MAXLEN + 4], q[600];
				size_t nlen = ask_name(p->s, n, below, name);

				for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
					for (size_t k = 0; k < sizeof(WAYS) / sizeof(WAYS[0]); k++) {
						const struct way *w = &WAYS[k];
						size_t ql = query(q, name, nlen, types[t], w,
								  (uint16_t)asked);
						size_t la, lb;

						c.transport = w->tcp ? ENGINE_TCP : ENGINE_UDP;
						la = engine_answer(&conf, p->s, q, ql, &c, a,
								   sizeof(a), NULL);
						lb = engine_answer(&conf, p->s20, q, ql, &c, b,
								   sizeof(b), NULL);
						asked++;
						assert_int_equal(la, lb);
						assert_memory_equal(a, b, la);
					}
				}
			}
		}
	}
	assert_true(asked > 0);
}

/* How many RRsets of p carry pre-rendered glue (and none of the 2.0
 * reading); *distinct: how many different glue blocks they point at. */
static unsigned count_glue_shared(const struct pair *p, uint16_t type, unsigned *rrs,
				  unsigned *distinct)
{
	const struct snap_glue *seen[4096];
	unsigned sets = 0;

	*distinct = 0;

	*rrs = 0;
	for (uint32_t zi = 0; zi < snap_zone_count(p->s); zi++) {
		const struct snap_zone *z = snap_zone_at(p->s, zi);

		for (uint32_t ni = 0; ni < z->node_count; ni++) {
			const struct snap_node *n = snap_node_at(p->s, z, ni);
			const struct snap_rrset *set = snap_node_rrset(p->s, n, type);
			const struct snap_node *n20 = snap_node_at(p->s20, snap_zone_at(p->s20, zi), ni);

			if (!set)
				continue;
			assert_null(snap_glue_of(p->s20, snap_node_rrset(p->s20, n20, type)));
			const struct snap_glue *g = snap_glue_of(p->s, set);
			unsigned k = 0;

			if (!g)
				continue;
			sets++;
			*rrs += g->count;
			while (k < *distinct && seen[k] != g)
				k++;
			if (k == *distinct) {
				assert_true(k < sizeof(seen) / sizeof(seen[0]));
				seen[(*distinct)++] = g;
			}
		}
	}
	return sets;
}

static unsigned count_glue(const struct pair *p, uint16_t type, unsigned *rrs)
{
	unsigned distinct;

	return count_glue_shared(p, type, rrs, &distinct);
}

static const struct snap_rrset *rrset_of(const struct pair *p, const char *owner,
					 uint16_t type)
{
	uint8_t w[DNAME_MAXLEN];
	const struct snap_zone *z = snap_zone_at(p->s, 0);
	int len = dname_from_text(owner, strlen(owner), NULL, w);
	const struct snap_node *n;

	assert_true(len > 0);
	n = snap_find_node(p->s, z, w, (size_t)len);
	assert_non_null(n);
	return snap_node_rrset(p->s, n, type);
}

static void test_same_answers(void **state)
{
	struct pair p = { 0 };
	const struct snap_glue *g;
	unsigned rrs, distinct;

	(void)state;
	pair_open(&p, parse_text(ZONE));
	/* what was pre-rendered: apex NS (ns1 A+AAAA, ns2 2 A), MX (mail
	 * A+AAAA once, mail2 AAAA; not the occluded cut.sub nor the CNAME),
	 * SRV (mail, ns1), sub NS (ns.sub, ns2.sub, ns1 x2, cut.sub), big */
	assert_int_equal(count_glue_shared(&p, RRTYPE_NS, &rrs, &distinct), 5);
	assert_int_equal(rrs, 4 + 5 + 26 + 4 + 4);
	assert_int_equal(distinct, 4);  /* big2 and big3 share one copy */
	assert_ptr_equal(snap_glue_of(p.s, rrset_of(&p, "big2.g.test.", RRTYPE_NS)),
			 snap_glue_of(p.s, rrset_of(&p, "big3.g.test.", RRTYPE_NS)));
	assert_int_equal(count_glue(&p, RRTYPE_MX, &rrs), 1);
	assert_int_equal(rrs, 3);
	assert_int_equal(count_glue(&p, RRTYPE_SRV, &rrs), 1);
	assert_int_equal(rrs, 4);
	g = snap_glue_of(p.s, rrset_of(&p, "g.test.", RRTYPE_MX));
	assert_non_null(g);
	/* MX 10 mail is RR 0, MX 30 MAIL2 RR 2; the targets follow the
	 * 12-byte RR head and the 2-byte preference */
	assert_int_equal(g->fix[0].rr, 0);
	assert_int_equal(g->fix[0].target, 14);
	assert_int_equal(g->fix[2].rr, 2);
	/* mail2 has an RRSIG: DO=1 answers write this glue target by target */
	assert_true(g->flags & SNAP_GLUE_SIGNED);
	assert_false(snap_glue_of(p.s, rrset_of(&p, "big.g.test.", RRTYPE_NS))->flags &
		     SNAP_GLUE_SIGNED);
	assert_null(snap_glue_of(p.s, rrset_of(&p, "onlyout.g.test.", RRTYPE_MX)));
	same_answers(&p);
	pair_close(&p);
}

/* The engine does copy the pre-rendered glue: an address changed in it
 * (the reader checks framing, not data) shows in the referral. */
static void test_copied(void **state)
{
	static const uint8_t q[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
				     3, 'w', 'w', 'w', 3, 'b', 'i', 'g', 1, 'g', 4, 't', 'e', 's',
				     't', 0, 0, 1, 0, 1 };
	struct engine_client c = { .family = AF_INET, .transport = ENGINE_TCP };
	const uint8_t was[4] = { 198, 51, 100, 1 }, now[4] = { 203, 0, 113, 99 };
	struct engine_conf conf;
	struct pair p = { 0 };
	const struct snap_glue *g;
	struct snap *s = NULL;
	uint8_t out[4096], *b;
	struct diag d;
	size_t n, rd;

	(void)state;
	pair_open(&p, parse_text(ZONE));
	g = snap_glue_of(p.s, rrset_of(&p, "big.g.test.", RRTYPE_NS));
	assert_non_null(g);
	/* the first glue RR: ns01.big A 198.51.100.1 */
	rd = (size_t)((const uint8_t *)&g->fix[g->count] - p.blob) + 12;
	assert_memory_equal(p.blob + rd, was, 4);
	b = malloc(p.len);
	assert_non_null(b);
	memcpy(b, p.blob, p.len);
	memcpy(b + rd, now, 4);
	rehash(b, p.len);
	diag_init(&d, stderr);
	assert_int_equal(snap_open_mem(b, p.len, &d, &s), 0);
	engine_conf_init(&conf);
	n = engine_answer(&conf, s, q, sizeof(q), &c, out, sizeof(out), NULL);
	assert_true(n > 12);
	assert_int_equal(out[11], 26);  /* ARCOUNT */
	assert_non_null(memmem(out, n, now, 4));
	assert_null(memmem(out, n, was, 4));
	snap_close(s);
	free(b);
	pair_close(&p);
}

/* The root zone: 1,500 delegations, their glue signed nowhere (DO=1
 * answers still come from the pre-rendered glue), packed NS targets in
 * DO=1 referrals. */
static void test_root_same(void **state)
{
	struct pair p = { 0 };
	unsigned rrs, sets, distinct;

	(void)state;
	pair_open(&p, parse_root());
	sets = count_glue_shared(&p, RRTYPE_NS, &rrs, &distinct);
	assert_true(sets > 1000);
	assert_true(rrs > 5000);
	/* TLDs served by the same servers share one copy (com and net, ...) */
	assert_true(distinct < sets * 3 / 4);
	same_answers(&p);
	pair_close(&p);
}

/* Glue that disagrees with its RRset is refused: the snapshot fails to
 * open with P53_EFORMAT and a message naming the glue. */
static void refuse(const struct pair *p, size_t at, const void *val, size_t n,
		   const char *why)
{
	uint8_t *b = malloc(p->len);
	struct snap *s = NULL;
	struct diag d;

	assert_non_null(b);
	memcpy(b, p->blob, p->len);
	memcpy(b + at, val, n);
	rehash(b, p->len);
	diag_init(&d, NULL);
	assert_int_equal(snap_open_mem(b, p->len, &d, &s), P53_EFORMAT);
	assert_null(s);
	if (!strstr(d.first, "glue"))
		fail_msg("%s: refused, but for: %s", why, d.first);
	free(b);
}

/* Where the glue word of owner's NS RRset is in p's blob. */
static size_t word_of(const struct pair *p, const char *owner)
{
	const struct snap_rrset *set = rrset_of(p, owner, RRTYPE_NS);
	const struct snap_addl *a = (const void *)(p->blob + set->additional);

	return set->additional + 4 + (size_t)a->count * 4;
}

static void test_reader_refuses(void **state)
{
	struct pair p = { 0 };
	const struct snap_glue *g;
	size_t off, fix;
	uint32_t u32;
	uint16_t u16;

	(void)state;
	pair_open(&p, parse_text(ZONE));
	g = snap_glue_of(p.s, rrset_of(&p, "big.g.test.", RRTYPE_NS));
	assert_non_null(g);
	assert_int_equal(g->count, 26);
	off = (size_t)((const uint8_t *)g - p.blob);
	fix = off + offsetof(struct snap_glue, fix);

	u32 = 0x7ffffff0;
	refuse(&p, word_of(&p, "big.g.test."), &u32, 4, "glue past the content");
	u32 = (uint32_t)off + 2;
	refuse(&p, word_of(&p, "big.g.test."), &u32, 4, "glue not 4-byte aligned");
	/* sub's 4 NS sharing big's glue, which cites big's 13th */
	u32 = (uint32_t)off;
	refuse(&p, word_of(&p, "sub.g.test."), &u32, 4, "glue citing RRs the RRset lacks");
	u16 = 27;
	refuse(&p, off, &u16, 2, "more RRs than framed");
	u32 = g->wire_len + 4;
	refuse(&p, off + 4, &u32, 4, "wire longer than the size");
	u16 = 1;
	refuse(&p, fix + 8 + 0, &u16, 2, "second RR's start off its framing");
	u16 = 13;
	refuse(&p, fix + 8 + 2, &u16, 2, "RR index past the RRset");
	u16 = (uint16_t)(g->fix[1].target + 1);
	refuse(&p, fix + 8 + 4, &u16, 2, "target not where the RRset names it");
	u16 = (uint16_t)(g->fix[0].rr);
	refuse(&p, fix + 8 * 5 + 2, &u16, 2, "RR indexes going back");
	u16 = 1;
	refuse(&p, fix + 6, &u16, 2, "reserved not 0");
	u16 = 0xffff;
	refuse(&p, (size_t)((const uint8_t *)&g->fix[26] - p.blob) + 10, &u16, 2,
	       "RDLENGTH past the wire");
	pair_close(&p);
}

/*
 * Damage inside the glue, in a blob rehashed so that it passes the hash:
 * refused, or (the checks keep the engine in bounds, not every answer
 * right) answered without reading or writing out of bounds, which the
 * ASan run of this suite would catch.
 */
static void test_hostile_glue(void **state)
{
	static const char *const owners[] = {
		"g.test.", "sub.g.test.", "big.g.test.", "big2.g.test.", "_sip._udp.g.test.",
		"www.sub.g.test.", "www.big.g.test.", "www.big3.g.test.",
	};
	static const uint16_t types[] = { RRTYPE_NS, RRTYPE_MX, RRTYPE_SRV, RRTYPE_A };
	static const uint8_t vals[] = { 0x00, 0xff, 0x80, 0x01 };
	static const struct way ways[] = { { 1232, 0, 0 }, { 1232, 1, 0 }, { 0, 0, 1 } };
	struct engine_client c = { .family = AF_INET, .port = 5353 };
	uint8_t *out = malloc(65535);
	struct engine_conf conf;
	struct pair p = { 0 };
	size_t lo = SIZE_MAX, hi = 0, refused = 0, tried = 0;
	uint8_t *b;

	(void)state;
	assert_non_null(out);
	pair_open(&p, parse_text(ZONE));
	engine_conf_init(&conf);
	/* the span of the glue blocks, and the words naming them */
	for (size_t i = 0; i < sizeof(owners) / sizeof(owners[0]); i++) {
		for (size_t t = 0; t < 3; t++) {
			uint8_t w[DNAME_MAXLEN];
			int len = dname_from_text(owners[i], strlen(owners[i]), NULL, w);
			const struct snap_node *n = snap_find_node(p.s, snap_zone_at(p.s, 0), w,
								   (size_t)len);
			const struct snap_rrset *set = n ? snap_node_rrset(p.s, n, types[t]) : NULL;
			const struct snap_glue *g = set ? snap_glue_of(p.s, set) : NULL;
			size_t at;

			if (!g)
				continue;
			at = (size_t)((const uint8_t *)g - p.blob);
			lo = at < lo ? at : lo;
			at += snap_glue_size(g);
			hi = at > hi ? at : hi;
		}
	}
	assert_true(lo < hi);
	b = malloc(p.len);
	assert_non_null(b);
	for (size_t pos = lo; pos < hi; pos++) {
		for (size_t v = 0; v < sizeof(vals); v++) {
			struct snap *s = NULL;
			struct diag d;

			memcpy(b, p.blob, p.len);
			if (b[pos] == vals[v])
				continue;
			b[pos] = vals[v];
			rehash(b, p.len);
			diag_init(&d, NULL);
			tried++;
			if (snap_open_mem(b, p.len, &d, &s) < 0) {
				refused++;
				continue;
			}
			for (size_t i = 0; i < sizeof(owners) / sizeof(owners[0]); i++) {
				uint8_t name[DNAME_MAXLEN], q[600];
				int nlen = dname_from_text(owners[i], strlen(owners[i]), NULL, name);

				for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
					for (size_t k = 0; k < sizeof(ways) / sizeof(ways[0]); k++) {
						size_t ql = query(q, name, (size_t)nlen, types[t],
								  &ways[k], 7);
						size_t n;

						size_t cap = ways[k].tcp ? 65535 : 1232;
						uint8_t *o = out + 65535 - cap;

						/* the buffer ends where the room does (ASan) */
						c.transport = ways[k].tcp ? ENGINE_TCP : ENGINE_UDP;
						n = engine_answer(&conf, s, q, ql, &c, o, cap, NULL);
						assert_true(n >= 12 && n <= cap);
					}
				}
			}
			snap_close(s);
		}
	}
	/* framing and fixes are refused; addresses and TTLs are data */
	assert_true(refused > 0 && refused < tried);
	free(b);
	free(out);
	pair_close(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_answers),
		cmocka_unit_test(test_copied),
		cmocka_unit_test(test_root_same),
		cmocka_unit_test(test_reader_refuses),
		cmocka_unit_test(test_hostile_glue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
