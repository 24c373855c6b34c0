/*
 * The answer engine on real snapshots compiled from master-file text:
 * queries are built by hand, responses are parsed by a small independent
 * parser (following compression pointers) and checked on the wire —
 * RCODE, flags, section counts, owners, types, TTLs and RDATA. Also: every
 * seed of the shared BIND corpus must give a well-formed response (or a
 * drop), and a quick in-process speed measurement is printed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "dname.h"
#include "engine.h"
#include "error.h"
#include "rdata.h"
#include "snap.h"
#include "zone.h"

/* ---- the zones ------------------------------------------------------------ */

static const char zone_com[] =
	"$ORIGIN example.com.\n"
	"$TTL 3600\n"
	"@	IN SOA ns1 hostmaster 2024010101 7200 900 1209600 300\n"
	"@	NS ns1\n"
	"@	NS ns2\n"
	"@	MX 10 mail\n"
	"@	MX 20 mail.other.net.\n"
	"ns1	A 192.0.2.1\n"
	"ns1	AAAA 2001:db8::1\n"
	"ns2	A 192.0.2.2\n"
	"mail	A 192.0.2.25\n"
	"www	A 192.0.2.80\n"
	"www	AAAA 2001:db8::80\n"
	"alias	CNAME www\n"
	"c1	300 CNAME c2\n"
	"c2	CNAME www\n"
	"ext	CNAME www.other.net.\n"
	"loopa	CNAME loopb\n"
	"loopb	CNAME loopa\n"
	"dangle	CNAME nope\n"
	"tonet	CNAME www.example.net.\n"
	"todeleg	CNAME host.sub\n"
	"tochild	CNAME child\n"
	"toglue	CNAME ns.sub\n"
	"up	NS Ns2.Up.EXAMPLE.ORG.\n"
	"up	NS Ns2.Up.Example.COM.\n"
	"ns2.up	A 192.0.2.61\n"
	"tobig	CNAME big\n"
	"*.w	A 192.0.2.99\n"
	"*.w	TXT \"wild\"\n"
	"host.ent.w A 192.0.2.98\n"
	"*.wc	CNAME www\n"
	"*.wl	CNAME x.wl\n"
	"sub	NS ns.sub\n"
	"sub	NS ns.other.net.\n"
	"sub	DS 12345 8 2 "
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
	"ns.sub	A 192.0.2.53\n"
	"ns.sub	AAAA 2001:db8::53\n"
	"child	NS ns1\n"
	"child	DS 54321 8 2 "
	"fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210\n"
	"d	600 DNAME example.net.\n"
	"self	DNAME x.self.example.com.\n"
	"long	DNAME "
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb."
	"ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc."
	"example.net.\n"
	"_sip._tcp SRV 0 5 5060 www\n"
	"svc	HTTPS 1 . alpn=h2\n"
	"svc	A 192.0.2.44\n"
	"mxs	MX 10 m1\n" "mxs	MX 10 m2\n" "mxs	MX 10 m3\n"
	"mxs	MX 10 m4\n" "mxs	MX 10 m5\n" "mxs	MX 10 m6\n"
	"mxs	MX 10 m7\n" "mxs	MX 10 m8\n"
	"bg	NS ns1.bg\n" "bg	NS ns2.bg\n" "bg	NS ns3.bg\n"
	"bg	NS ns4.bg\n" "bg	NS ns5.bg\n" "bg	NS ns6.bg\n"
	"bg	NS ns7.bg\n" "bg	NS ns8.bg\n";

static const char zone_net[] =
	"$ORIGIN example.net.\n"
	"$TTL 3600\n"
	"@	120 IN SOA ns1.example.com. hostmaster 1 7200 900 1209600 900\n"
	"@	NS ns1.example.com.\n"
	"www	A 198.51.100.1\n";

static const char zone_child[] =
	"$ORIGIN child.example.com.\n"
	"$TTL 3600\n"
	"@	IN SOA ns1.example.com. hostmaster 7 7200 900 1209600 60\n"
	"@	NS ns1.example.com.\n"
	"@	A 192.0.2.7\n";

#define MANY 1000       /* MX targets in many.test: offsets pass 0x3fff */

/* Generated parts: m1..m8 and glue for bg, big TXT RRsets, a CNAME chain
 * longer than the engine follows, and the many.test zone. */
static char *gen_com_extra(void)
{
	size_t cap = 64 * 1024, n = 0;
	char *t = malloc(cap);

	assert_non_null(t);
	n += (size_t)snprintf(t + n, cap - n, "$ORIGIN example.com.\n");
	for (int i = 1; i <= 8; i++) {
		n += (size_t)snprintf(t + n, cap - n,
				      "m%d A 192.0.2.%d\nm%d AAAA 2001:db8::%d\n"
				      "ns%d.bg A 198.51.100.%d\n"
				      "ns%d.bg AAAA 2001:db8:b::%d\n",
				      i, 100 + i, i, 100 + i, i, i, i, i);
	}
	/* big: 6 x 251 bytes of RDATA; mid: 3 of them */
	for (int i = 0; i < 6; i++) {
		n += (size_t)snprintf(t + n, cap - n, "big TXT \"%c", 'a' + i);
		for (int k = 0; k < 249; k++)
			t[n++] = 'x';
		n += (size_t)snprintf(t + n, cap - n, "\"\n");
		if (i < 3) {
			n += (size_t)snprintf(t + n, cap - n, "mid TXT \"%c", 'a' + i);
			for (int k = 0; k < 249; k++)
				t[n++] = 'y';
			n += (size_t)snprintf(t + n, cap - n, "\"\n");
		}
	}
	for (int i = 0; i < 20; i++)
		n += (size_t)snprintf(t + n, cap - n, "l%d CNAME l%d\n", i, i + 1);
	n += (size_t)snprintf(t + n, cap - n, "l20 A 192.0.2.20\n");
	assert_true(n < cap);
	return t;
}

static char *gen_many(void)
{
	size_t cap = 128 * 1024, n = 0;
	char *t = malloc(cap);

	assert_non_null(t);
	n += (size_t)snprintf(t + n, cap - n,
			      "$ORIGIN many.test.\n$TTL 60\n"
			      "@ SOA ns.many.test. h 1 2 3 4 5\n@ NS ns\n"
			      "ns A 10.9.9.9\n");
	for (int i = 0; i < MANY; i++)
		n += (size_t)snprintf(t + n, cap - n,
				      "mx MX 10 h%d\nh%d A 10.0.%d.%d\n",
				      i, i, i / 256, i % 256);
	assert_true(n < cap);
	return t;
}

/* ---- fixture ---------------------------------------------------------------- */

static struct {
	uint8_t *blob;
	size_t len;
	struct snap *s;
	struct engine_conf conf;
} F;

static struct zone *parse(const char *a, const char *b)
{
	struct zone *z = NULL;
	struct diag d;
	size_t la = strlen(a), lb = b ? strlen(b) : 0;
	char *text = malloc(la + lb + 1);

	assert_non_null(text);
	memcpy(text, a, la);
	if (b)
		memcpy(text + la, b, lb);
	text[la + lb] = 0;
	diag_init(&d, stderr);
	d.hide_warnings = 1;
	assert_int_equal(zone_parse_string(text, la + lb, "test", NULL, &d,
					   &z), 0);
	assert_int_equal(zone_check(z, NULL, &d), 0);
	free(text);
	return z;
}

static int setup(void **state)
{
	char *extra = gen_com_extra(), *many = gen_many();
	struct zone *z[4];
	struct diag d;

	(void)state;
	z[0] = parse(zone_com, extra);
	z[1] = parse(zone_net, NULL);
	z[2] = parse(zone_child, NULL);
	z[3] = parse(many, NULL);
	diag_init(&d, stderr);
	assert_int_equal(snap_compile(z, 4, NULL, &d, &F.blob, &F.len), 0);
	assert_int_equal(snap_open_mem(F.blob, F.len, &d, &F.s), 0);
	for (int i = 0; i < 4; i++)
		zone_free(z[i]);
	free(extra);
	free(many);
	engine_conf_init(&F.conf);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	snap_close(F.s);
	free(F.blob);
	return 0;
}

/* ---- queries ------------------------------------------------------------------- */

struct qspec {
	uint16_t id;
	uint16_t qclass;        /* 0 = IN */
	uint8_t opcode;
	uint8_t rd, cd;
	uint8_t edns;
	uint16_t payload;
	uint8_t version;
	uint8_t do_bit;
	uint8_t nsid;
	uint8_t unknown_opt;
	uint8_t cookie;         /* enum qcookie: a COOKIE option */
	const uint8_t *opts;    /* more options, as they are on the wire */
	size_t opts_len;
	uint8_t tcp;
	uint8_t no_snap;
	size_t cap;             /* 0 = 65535 */
	const struct engine_conf *conf;
};

static size_t QSEC;     /* question section bytes of the last query built */

/* COOKIE options for build_query; server cookies are made with CK_SECRET
 * for the all-zero IPv4 address at CK_NOW - 10 (what test_burst_same's
 * client and clock say). */
enum qcookie { QC_NONE = 0, QC_CLIENT, QC_VALID, QC_BOGUS, QC_MALFORMED, QC_COUNT };
static const struct cookie_secrets CK_SECRET = { .current = { 1, 2, 3, 4, 5 } };
static struct cookie_box CK_BOX;
#define CK_NOW 1700000000u

static size_t put_cookie(uint8_t *p, uint8_t kind)
{
	static const uint8_t cc[8] = { 0xc0, 0x0c, 0x1e, 0, 1, 2, 3, 4 };
	static const uint8_t zero[4] = { 0 };
	size_t len = kind == QC_CLIENT ? 8 : kind == QC_MALFORMED ? 9 : 24;

	p[0] = 0;
	p[1] = 10;
	p[2] = 0;
	p[3] = (uint8_t)len;
	memcpy(p + 4, cc, 8);
	memset(p + 12, 0x5a, len - 8);
	if (kind == QC_VALID)
		cookie_make(CK_SECRET.current, cc, zero, 4, CK_NOW - 10, p + 12);
	return 4 + len;
}

static size_t build_query(uint8_t *q, const struct qspec *o, const char *name,
			  uint16_t qtype)
{
	size_t n = 12;
	int len = dname_from_text(name, strlen(name), NULL, q + 12);

	assert_true(len > 0);
	memset(q, 0, 12);
	q[0] = (uint8_t)((o->id ? o->id : 0xbeef) >> 8);
	q[1] = (uint8_t)(o->id ? o->id : 0xbeef);
	q[2] = (uint8_t)(o->opcode << 3 | (o->rd ? 1 : 0));
	q[3] = (uint8_t)(o->cd ? 0x10 : 0);
	q[5] = 1;
	q[11] = o->edns ? 1 : 0;
	n += (size_t)len;
	q[n++] = (uint8_t)(qtype >> 8);
	q[n++] = (uint8_t)qtype;
	q[n++] = 0;
	q[n++] = (uint8_t)(o->qclass ? o->qclass : RRCLASS_IN);
	QSEC = n - 12;
	if (o->edns) {
		uint8_t ck[64];
		size_t ckl = o->cookie ? put_cookie(ck, o->cookie) : 0;
		size_t rdl = (o->nsid ? 4 : 0) + (o->unknown_opt ? 8 : 0) + ckl +
			     o->opts_len;

		q[n++] = 0;
		q[n++] = 0;
		q[n++] = RRTYPE_OPT;
		q[n++] = (uint8_t)(o->payload >> 8);
		q[n++] = (uint8_t)o->payload;
		q[n++] = 0;
		q[n++] = o->version;
		q[n++] = o->do_bit ? 0x80 : 0;
		q[n++] = 0;
		q[n++] = (uint8_t)(rdl >> 8);
		q[n++] = (uint8_t)rdl;
		if (o->unknown_opt) {
			memcpy(q + n, "\xfd\xe9\x00\x04\x01\x02\x03\x04", 8);
			n += 8;
		}
		if (o->nsid) {
			memcpy(q + n, "\x00\x03\x00\x00", 4);
			n += 4;
		}
		memcpy(q + n, ck, ckl);
		n += ckl;
		if (o->opts_len)
			memcpy(q + n, o->opts, o->opts_len);
		n += o->opts_len;
	}
	return n;
}

/* ---- the response parser -------------------------------------------------------- */

#define MAXRR 4096

struct rr {
	uint8_t owner[256];
	uint16_t type, rclass;
	uint32_t ttl;
	uint16_t rdlen;
	const uint8_t *rd;
	uint8_t target[256];    /* the name in RDATA, decompressed */
	int has_target;
	int sec;                /* 0 answer, 1 authority, 2 additional */
};

struct msg {
	const uint8_t *w;
	size_t len;
	uint16_t id;
	uint8_t f2, f3;
	uint16_t qd, an, ns, ar;
	uint8_t qname[256];
	uint16_t qtype, qclass;
	size_t nrr;
	struct rr *rr;
	int opt;
	uint16_t opt_payload;
	uint8_t opt_ext, opt_ver;
	uint16_t opt_flags;
	const uint8_t *opt_rd;
	uint16_t opt_rdlen;
};

static struct rr RRS[MAXRR];
static struct msg M;
static uint8_t OUT[65536];
static struct engine_result R;

static uint16_t g16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* A name at *pos; pointers must point backwards (strictly before the
 * pointer), at most 127 of them. */
static int get_name(const uint8_t *m, size_t len, size_t *pos, uint8_t *out)
{
	size_t p = *pos, n = 0;
	int hops = 0, jumped = 0;

	for (;;) {
		uint8_t l;

		if (p >= len)
			return -1;
		l = m[p];
		if ((l & 0xc0) == 0xc0) {
			size_t t;

			if (p + 1 >= len || ++hops > 127)
				return -1;
			t = (size_t)(l & 0x3f) << 8 | m[p + 1];
			if (t >= p || t < 12)
				return -1;
			if (!jumped)
				*pos = p + 2;
			jumped = 1;
			p = t;
			continue;
		}
		if (l & 0xc0)
			return -1;
		if (n + 1 + l > 255 || p + 1 + l > len)
			return -1;
		out[n++] = l;
		if (!l)
			break;
		memcpy(out + n, m + p + 1, l);
		n += l;
		p += 1u + l;
	}
	if (!jumped)
		*pos = p + 1;
	return (int)n;
}

static int parse_msg(const uint8_t *w, size_t len, struct msg *m)
{
	size_t pos = 12;
	uint32_t total;

	memset(m, 0, sizeof(*m));
	m->w = w;
	m->len = len;
	m->rr = RRS;
	if (len < 12)
		return -1;
	m->id = g16(w);
	m->f2 = w[2];
	m->f3 = w[3];
	m->qd = g16(w + 4);
	m->an = g16(w + 6);
	m->ns = g16(w + 8);
	m->ar = g16(w + 10);
	if (m->qd > 1)
		return -1;
	if (m->qd) {
		if (get_name(w, len, &pos, m->qname) < 0 || len - pos < 4)
			return -1;
		m->qtype = g16(w + pos);
		m->qclass = g16(w + pos + 2);
		pos += 4;
	}
	total = (uint32_t)m->an + m->ns + m->ar;
	if (total > MAXRR)
		return -1;
	for (uint32_t i = 0; i < total; i++) {
		struct rr *r = &m->rr[m->nrr];
		size_t tpos;

		r->sec = i < m->an ? 0 : i < (uint32_t)m->an + m->ns ? 1 : 2;
		if (get_name(w, len, &pos, r->owner) < 0 || len - pos < 10)
			return -1;
		r->type = g16(w + pos);
		r->rclass = g16(w + pos + 2);
		r->ttl = (uint32_t)g16(w + pos + 4) << 16 | g16(w + pos + 6);
		r->rdlen = g16(w + pos + 8);
		pos += 10;
		if (len - pos < r->rdlen)
			return -1;
		r->rd = w + pos;
		tpos = pos;
		switch (r->type) {
		case RRTYPE_NS: case RRTYPE_CNAME: case RRTYPE_DNAME:
			break;
		case RRTYPE_MX:
			tpos += 2;
			break;
		case RRTYPE_SRV:
			tpos += 6;
			break;
		default:
			tpos = 0;
		}
		if (tpos) {
			size_t e = tpos;

			if (get_name(w, pos + r->rdlen, &e, r->target) < 0 ||
			    e != pos + r->rdlen)
				return -1;
			r->has_target = 1;
		}
		if (r->type == RRTYPE_OPT) {
			if (r->sec != 2 || m->opt || r->owner[0])
				return -1;
			m->opt = 1;
			m->opt_payload = r->rclass;
			m->opt_ext = (uint8_t)(r->ttl >> 24);
			m->opt_ver = (uint8_t)(r->ttl >> 16);
			m->opt_flags = (uint16_t)r->ttl;
			m->opt_rd = r->rd;
			m->opt_rdlen = r->rdlen;
		}
		pos += r->rdlen;
		m->nrr++;
	}
	return pos == len ? 0 : -1;
}

static const char *txt(const uint8_t *wire)
{
	static char buf[4][DNAME_TEXT_MAX];
	static int i;

	i = (i + 1) % 4;
	assert_true(dname_to_text(wire, buf[i], sizeof(buf[i])) >= 0);
	return buf[i];
}

/* ---- asking --------------------------------------------------------------------- */

static size_t ask_raw(const uint8_t *q, size_t qlen, const struct qspec *o)
{
	struct engine_client c = { .family = AF_INET, .port = 5353 };
	size_t cap = o->cap ? o->cap : sizeof(OUT) - 1;
	size_t n;

	c.transport = o->tcp ? ENGINE_TCP : ENGINE_UDP;
	memset(&R, 0xa5, sizeof(R));
	n = engine_answer(o->conf ? o->conf : &F.conf, o->no_snap ? NULL : F.s,
			  q, qlen, &c, OUT, cap, &R);
	if (n) {
		assert_true(n <= cap);
		assert_int_equal(parse_msg(OUT, n, &M), 0);
		assert_int_equal(M.id, g16(q));
		assert_true(M.f2 & 0x80);
		assert_int_equal(M.f3 & 0x80, 0);       /* RA */
		assert_int_equal(M.f3 & 0x40, 0);       /* Z */
		assert_int_equal(R.edns, M.opt);
	}
	return n;
}

static size_t ask(const struct qspec *o, const char *name, uint16_t qtype)
{
	uint8_t q[600];
	size_t qlen = build_query(q, o, name, qtype);
	size_t n = ask_raw(q, qlen, o);

	assert_true(n > 0);
	assert_int_equal(M.qd, 1);
	/* the question comes back exactly as asked, case included */
	assert_memory_equal(OUT + 12, q + 12, QSEC);
	return n;
}

static const struct qspec UDP = { .rd = 1 };
static const struct qspec UDP_EDNS = { .edns = 1, .payload = 1232 };
static const struct qspec TCP = { .tcp = 1 };

#define RCODE()  (M.f3 & 0x0f)
#define AA()     (!!(M.f2 & 0x04))
#define TC()     (!!(M.f2 & 0x02))

static void expect_counts(unsigned an, unsigned ns, unsigned ar)
{
	assert_int_equal(M.an, an);
	assert_int_equal(M.ns, ns);
	assert_int_equal(M.ar, ar);
}

static void expect_rr(size_t i, const char *owner, uint16_t type, uint32_t ttl)
{
	assert_true(i < M.nrr);
	assert_string_equal(txt(M.rr[i].owner), owner);
	assert_int_equal(M.rr[i].type, type);
	if (type != RRTYPE_OPT && M.rr[i].rclass != RRCLASS_CH)
		assert_int_equal(M.rr[i].rclass, RRCLASS_IN);
	assert_int_equal(M.rr[i].ttl, ttl);
}

static void expect_a(size_t i, const char *addr)
{
	char buf[64];

	assert_int_equal(M.rr[i].type, RRTYPE_A);
	assert_int_equal(M.rr[i].rdlen, 4);
	assert_non_null(inet_ntop(AF_INET, M.rr[i].rd, buf, sizeof(buf)));
	assert_string_equal(buf, addr);
}

static void expect_aaaa(size_t i, const char *addr)
{
	char buf[64];

	assert_int_equal(M.rr[i].type, RRTYPE_AAAA);
	assert_int_equal(M.rr[i].rdlen, 16);
	assert_non_null(inet_ntop(AF_INET6, M.rr[i].rd, buf, sizeof(buf)));
	assert_string_equal(buf, addr);
}

static void expect_target(size_t i, const char *name)
{
	assert_true(M.rr[i].has_target);
	assert_string_equal(txt(M.rr[i].target), name);
}

static void expect_rrl(const char *name)
{
	uint8_t w[DNAME_MAXLEN];
	int n = dname_from_text(name, strlen(name), NULL, w);

	assert_non_null(R.rrl_name);
	assert_int_equal(R.rrl_name_len, n);
	assert_memory_equal(R.rrl_name, w, (size_t)n);
	/* the name's hash, where the engine gives one, is the name's */
	if (R.rrl_hash)
		assert_int_equal(R.rrl_hash, snap_hash_name(w, (size_t)n));
}

/* ---- positive answers -------------------------------------------------------------- */

static void test_exact(void **state)
{
	(void)state;
	ask(&UDP, "www.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 0);
	assert_true(AA());
	assert_false(TC());
	assert_true(M.f2 & 0x01);               /* RD copied */
	assert_int_equal(M.f2 & 0x78, 0);
	expect_counts(1, 0, 0);
	expect_rr(0, "www.example.com.", RRTYPE_A, 3600);
	expect_a(0, "192.0.2.80");
	/* the answer owner is a pointer to the question */
	assert_int_equal(g16(OUT + 12 + 17 + 4), 0xc00c);
	assert_int_equal(R.rcode, 0);
	assert_int_equal(R.kind, ENGINE_KIND_ANSWER);
	assert_int_equal(R.qtype, RRTYPE_A);
	assert_false(R.truncated);
	assert_false(R.edns);
	assert_non_null(R.zone);
	expect_rrl("www.example.com.");

	ask(&UDP, "www.example.com.", RRTYPE_AAAA);
	expect_counts(1, 0, 0);
	expect_aaaa(0, "2001:db8::80");
}

static void test_case_preserved(void **state)
{
	(void)state;
	ask(&UDP, "WwW.ExAmPlE.CoM.", RRTYPE_A);
	assert_int_equal(RCODE(), 0);
	assert_string_equal(txt(M.qname), "WwW.ExAmPlE.CoM.");
	expect_rr(0, "WwW.ExAmPlE.CoM.", RRTYPE_A, 3600);
	/* the RRL name is lower-cased */
	expect_rrl("www.example.com.");

	ask(&UDP, "FoO.W.example.COM.", RRTYPE_A);
	expect_rr(0, "FoO.W.example.COM.", RRTYPE_A, 3600);
}

static void test_nxdomain(void **state)
{
	(void)state;
	ask(&UDP, "nothere.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 3);
	assert_true(AA());
	expect_counts(0, 1, 0);
	expect_rr(0, "example.com.", RRTYPE_SOA, 300);  /* min(3600, 300) */
	assert_int_equal(R.kind, ENGINE_KIND_NXDOMAIN);
	assert_int_equal(R.rcode, 3);
	expect_rrl("example.com.");

	/* SOA TTL below MINIMUM: the SOA TTL (RFC 2308 section 5) */
	ask(&UDP, "a.b.NoPe.example.net.", RRTYPE_A);
	assert_int_equal(RCODE(), 3);
	expect_rr(0, "example.net.", RRTYPE_SOA, 120);

	/* the owner of the SOA is a pointer into the question */
	assert_int_equal(OUT[M.len - 10 - M.rr[0].rdlen - 2], 0xc0);
}

static void test_nodata(void **state)
{
	(void)state;
	ask(&UDP, "www.example.com.", RRTYPE_TXT);
	assert_int_equal(RCODE(), 0);
	assert_true(AA());
	expect_counts(0, 1, 0);
	expect_rr(0, "example.com.", RRTYPE_SOA, 300);
	assert_int_equal(R.kind, ENGINE_KIND_NODATA);
	expect_rrl("www.example.com.");

	/* an empty non-terminal exists: NODATA, and it blocks *.w */
	ask(&UDP, "ent.w.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 0);
	expect_counts(0, 1, 0);
	expect_rr(0, "example.com.", RRTYPE_SOA, 300);
	assert_int_equal(R.kind, ENGINE_KIND_NODATA);

	/* below the ENT there is no wildcard: NXDOMAIN (RFC 4592 2.2.1) */
	ask(&UDP, "x.ent.w.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 3);

	ask(&UDP, "host.ent.w.example.com.", RRTYPE_A);
	expect_counts(1, 0, 0);
	expect_a(0, "192.0.2.98");

	/* DS of a name that is no cut: plain NODATA */
	ask(&UDP, "www.example.com.", RRTYPE_DS);
	expect_counts(0, 1, 0);
}

static void test_wildcard(void **state)
{
	(void)state;
	ask(&UDP, "foo.w.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 0);
	assert_true(AA());
	expect_counts(1, 0, 0);
	expect_rr(0, "foo.w.example.com.", RRTYPE_A, 3600);
	expect_a(0, "192.0.2.99");
	expect_rrl("*.w.example.com.");

	ask(&UDP, "a.b.c.w.example.com.", RRTYPE_TXT);
	expect_counts(1, 0, 0);
	expect_rr(0, "a.b.c.w.example.com.", RRTYPE_TXT, 3600);
	assert_memory_equal(M.rr[0].rd, "\4wild", 5);

	/* wildcard NODATA */
	ask(&UDP, "foo.w.example.com.", RRTYPE_MX);
	assert_int_equal(RCODE(), 0);
	expect_counts(0, 1, 0);
	expect_rr(0, "example.com.", RRTYPE_SOA, 300);

	/* the wildcard owner itself is an ordinary name */
	ask(&UDP, "*.w.example.com.", RRTYPE_A);
	expect_counts(1, 0, 0);
	expect_rr(0, "*.w.example.com.", RRTYPE_A, 3600);

	/* wildcard CNAME, chased */
	ask(&UDP, "x.wc.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 0);
	expect_counts(2, 0, 0);
	expect_rr(0, "x.wc.example.com.", RRTYPE_CNAME, 3600);
	expect_target(0, "www.example.com.");
	expect_rr(1, "www.example.com.", RRTYPE_A, 3600);

	/* a wildcard CNAME into itself: its CNAME once more, then stop */
	ask(&UDP, "a.wl.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 0);
	expect_counts(2, 0, 0);
	expect_rr(0, "a.wl.example.com.", RRTYPE_CNAME, 3600);
	expect_rr(1, "x.wl.example.com.", RRTYPE_CNAME, 3600);
}

static void test_cname(void **state)
{
	(void)state;
	ask(&UDP, "c1.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 0);
	assert_true(AA());
	expect_counts(3, 0, 0);
	expect_rr(0, "c1.example.com.", RRTYPE_CNAME, 300);
	expect_target(0, "c2.example.com.");
	expect_rr(1, "c2.example.com.", RRTYPE_CNAME, 3600);
	expect_target(1, "www.example.com.");
	expect_rr(2, "www.example.com.", RRTYPE_A, 3600);
	expect_a(2, "192.0.2.80");
	assert_int_equal(R.kind, ENGINE_KIND_ANSWER);
	expect_rrl("c1.example.com.");

	/* CNAME asked for: no chase; ANY: the CNAME too */
	ask(&UDP, "c1.example.com.", RRTYPE_CNAME);
	expect_counts(1, 0, 0);
	expect_rr(0, "c1.example.com.", RRTYPE_CNAME, 300);
	ask(&UDP, "c1.example.com.", RRTYPE_ANY);
	expect_counts(1, 0, 0);
	expect_rr(0, "c1.example.com.", RRTYPE_CNAME, 300);

	/* the chain ends in NODATA: SOA of the target's zone */
	ask(&UDP, "alias.example.com.", RRTYPE_MX);
	assert_int_equal(RCODE(), 0);
	expect_counts(1, 1, 0);
	expect_rr(1, "example.com.", RRTYPE_SOA, 300);
	assert_int_equal(R.kind, ENGINE_KIND_ANSWER);

	/* out of our zones: just the CNAME */
	ask(&UDP, "ext.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 0);
	assert_true(AA());
	expect_counts(1, 0, 0);
	expect_target(0, "www.other.net.");

	/* dangling: NXDOMAIN for the target (RFC 6604), CNAME kept */
	ask(&UDP, "dangle.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 3);
	assert_true(AA());
	expect_counts(1, 1, 0);
	expect_rr(0, "dangle.example.com.", RRTYPE_CNAME, 3600);
	expect_rr(1, "example.com.", RRTYPE_SOA, 300);
	assert_int_equal(R.kind, ENGINE_KIND_NXDOMAIN);
}

/* `owner` A answered with its CNAME into sub.example.com, then the
 * referral to sub: its NS in authority, their glue in additional. */
static void expect_cname_to_sub(const char *owner)
{
	ask(&UDP, owner, RRTYPE_A);
	assert_int_equal(RCODE(), 0);
	assert_true(AA());
	expect_counts(1, 2, 2);
	expect_rr(0, owner, RRTYPE_CNAME, 3600);
	expect_rr(1, "sub.example.com.", RRTYPE_NS, 3600);
	expect_rr(2, "sub.example.com.", RRTYPE_NS, 3600);
	expect_rr(3, "ns.sub.example.com.", RRTYPE_A, 3600);
	expect_rr(4, "ns.sub.example.com.", RRTYPE_AAAA, 3600);
	assert_int_equal(R.kind, ENGINE_KIND_ANSWER);
}

/* The CNAME link of `owner` in example.com (snap_cname_link): the name of
 * the node it leads to, or NULL. */
static const uint8_t *cname_link(const char *owner)
{
	const struct snap_zone *z = NULL;
	uint8_t w[DNAME_MAXLEN];
	int len = dname_from_text(owner, strlen(owner), NULL, w);
	const struct snap_node *n, *t;

	assert_true(len > 0);
	for (uint32_t i = 0; i < snap_zone_count(F.s); i++) {
		if (memcmp(snap_ptr(F.s, snap_zone_at(F.s, i)->apex_name),
			   "\7example\3com", 13) == 0)
			z = snap_zone_at(F.s, i);
	}
	assert_non_null(z);
	n = snap_find_node(F.s, z, w, (size_t)len);
	assert_non_null(n);
	t = snap_cname_link(F.s, z, snap_node_rrset(F.s, n, RRTYPE_CNAME));
	return t ? snap_ptr(F.s, t->name) : NULL;
}

/* Targets that are nodes of the CNAME's zone are linked, so the chain
 * goes on without a lookup; a target under a zone that is served too and
 * closer is not (the lookup goes to that zone), nor one outside the zone
 * or one that does not exist. Both kinds answer as a lookup would. */
static void test_cname_links(void **state)
{
	(void)state;
	const uint8_t *t = cname_link("c1.example.com.");

	assert_non_null(t);
	assert_memory_equal(t, "\2c2\7example\3com", 16);
	/* glue below a cut is a node: linked, and its lookup result says
	 * the cut (a referral), as snap_lookup's would */
	t = cname_link("toglue.example.com.");
	assert_non_null(t);
	assert_memory_equal(t, "\2ns\3sub\7example\3com", 20);
	assert_null(cname_link("todeleg.example.com."));        /* no node */
	assert_null(cname_link("tochild.example.com."));
	assert_null(cname_link("ext.example.com."));
	assert_null(cname_link("tonet.example.com."));
	assert_null(cname_link("dangle.example.com."));

	/* the child zone answers, not the parent's delegation */
	ask(&UDP, "tochild.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 0);
	assert_true(AA());
	expect_counts(2, 0, 0);
	expect_rr(0, "tochild.example.com.", RRTYPE_CNAME, 3600);
	expect_rr(1, "child.example.com.", RRTYPE_A, 3600);
	expect_a(1, "192.0.2.7");

	/* the CNAME asked for: its link adds no additional data */
	ask(&UDP, "alias.example.com.", RRTYPE_CNAME);
	expect_counts(1, 0, 0);

	/* through the link to glue: the CNAME, then the referral */
	expect_cname_to_sub("toglue.example.com.");
}

static void test_cname_loops(void **state)
{
	(void)state;
	ask(&UDP, "loopa.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 0);
	expect_counts(2, 0, 0);
	expect_rr(0, "loopa.example.com.", RRTYPE_CNAME, 3600);
	expect_rr(1, "loopb.example.com.", RRTYPE_CNAME, 3600);

	/* l0 -> l1 -> ... -> l20: cut after 16 links */
	ask(&TCP, "l0.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 0);
	expect_counts(16, 0, 0);
	for (int i = 0; i < 16; i++)
		assert_int_equal(M.rr[i].type, RRTYPE_CNAME);
	expect_rr(15, "l15.example.com.", RRTYPE_CNAME, 3600);

	ask(&TCP, "l6.example.com.", RRTYPE_A);
	expect_counts(15, 0, 0);
	expect_rr(14, "l20.example.com.", RRTYPE_A, 3600);
}

static void test_cname_cross(void **state)
{
	(void)state;
	/* into another zone of the snapshot: chased, AA stays */
	ask(&UDP, "tonet.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 0);
	assert_true(AA());
	expect_counts(2, 0, 0);
	expect_rr(1, "www.example.net.", RRTYPE_A, 3600);
	expect_a(1, "198.51.100.1");

	/* below a zone cut: the CNAME, then the referral in authority */
	expect_cname_to_sub("todeleg.example.com.");
}

static void test_dname(void **state)
{
	(void)state;
	ask(&UDP, "WwW.d.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 0);
	assert_true(AA());
	expect_counts(3, 0, 0);
	expect_rr(0, "d.example.com.", RRTYPE_DNAME, 600);
	expect_target(0, "example.net.");
	expect_rr(1, "WwW.d.example.com.", RRTYPE_CNAME, 600);
	expect_target(1, "WwW.example.net.");
	expect_rr(2, "WwW.example.net.", RRTYPE_A, 3600);
	expect_a(2, "198.51.100.1");
	expect_rrl("d.example.com.");

	/* DNAME target that does not exist there */
	ask(&UDP, "a.b.d.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 3);
	expect_counts(2, 1, 0);
	expect_target(1, "a.b.example.net.");
	expect_rr(2, "example.net.", RRTYPE_SOA, 120);

	/* the DNAME owner itself is not redirected */
	ask(&UDP, "d.example.com.", RRTYPE_A);
	expect_counts(0, 1, 0);
	ask(&UDP, "d.example.com.", RRTYPE_DNAME);
	expect_counts(1, 0, 0);

	/* a DNAME into itself: used once, then the chain ends */
	ask(&UDP, "a.self.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 0);
	expect_counts(2, 0, 0);
	expect_rr(0, "self.example.com.", RRTYPE_DNAME, 3600);
	expect_rr(1, "a.self.example.com.", RRTYPE_CNAME, 3600);
	expect_target(1, "a.x.self.example.com.");

	/* the synthesized name would pass 255 bytes */
	ask(&UDP, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  ".long.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 6);
	assert_true(AA());
	expect_counts(1, 0, 0);
	assert_int_equal(M.rr[0].type, RRTYPE_DNAME);
	assert_int_equal(R.rcode, 6);
	assert_int_equal(R.kind, ENGINE_KIND_ERROR);
}

static void test_referral(void **state)
{
	static const char *names[] = { "host.sub.example.com.", "sub.example.com.",
				       "ns.sub.example.com.", "a.b.SUB.example.com." };

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		ask(&UDP_EDNS, names[i], RRTYPE_A);
		assert_int_equal(RCODE(), 0);
		assert_false(AA());
		assert_false(TC());
		expect_counts(0, 2, 3);
		assert_int_equal(strcasecmp(txt(M.rr[0].owner),
					    "sub.example.com."), 0);
		assert_int_equal(M.rr[0].type, RRTYPE_NS);
		expect_target(0, "ns.sub.example.com.");
		expect_target(1, "ns.other.net.");
		expect_rr(2, "ns.sub.example.com.", RRTYPE_A, 3600);
		expect_a(2, "192.0.2.53");
		expect_rr(3, "ns.sub.example.com.", RRTYPE_AAAA, 3600);
		expect_aaaa(3, "2001:db8::53");
		assert_int_equal(M.rr[4].type, RRTYPE_OPT);
		assert_int_equal(R.kind, ENGINE_KIND_REFERRAL);
		expect_rrl("sub.example.com.");
	}
	/* case of the cut name as asked */
	assert_string_equal(txt(M.rr[0].owner), "SUB.example.com.");

	/* DS at the cut: the parent's data */
	ask(&UDP, "sub.example.com.", RRTYPE_DS);
	assert_int_equal(RCODE(), 0);
	assert_true(AA());
	expect_counts(1, 0, 0);
	expect_rr(0, "sub.example.com.", RRTYPE_DS, 3600);
	assert_int_equal(M.rr[0].rdlen, 4 + 32);
	assert_int_equal(R.kind, ENGINE_KIND_ANSWER);
	/* DS below the cut: referral */
	ask(&UDP, "ns.sub.example.com.", RRTYPE_DS);
	assert_false(AA());
	assert_int_equal(R.kind, ENGINE_KIND_REFERRAL);
}

static void test_ds_parent_side(void **state)
{
	(void)state;
	/* child.example.com is served too: A from the child ... */
	ask(&UDP, "child.example.com.", RRTYPE_A);
	assert_true(AA());
	expect_counts(1, 0, 0);
	expect_a(0, "192.0.2.7");
	/* ... DS from the parent */
	ask(&UDP, "child.example.com.", RRTYPE_DS);
	assert_true(AA());
	expect_counts(1, 0, 0);
	expect_rr(0, "child.example.com.", RRTYPE_DS, 3600);
	assert_int_equal(M.rr[0].rd[0], 0xd4);  /* key tag 54321 */
	/* the apex of a zone whose parent we do not serve: NODATA */
	ask(&UDP, "example.com.", RRTYPE_DS);
	expect_counts(0, 1, 0);
	expect_rr(0, "example.com.", RRTYPE_SOA, 300);
}

static void test_additional(void **state)
{
	(void)state;
	ask(&UDP, "example.com.", RRTYPE_NS);
	assert_true(AA());
	expect_counts(2, 0, 3);
	expect_target(0, "ns1.example.com.");
	expect_target(1, "ns2.example.com.");
	expect_rr(2, "ns1.example.com.", RRTYPE_A, 3600);
	expect_rr(3, "ns1.example.com.", RRTYPE_AAAA, 3600);
	expect_rr(4, "ns2.example.com.", RRTYPE_A, 3600);
	expect_a(4, "192.0.2.2");

	/* in-zone MX target only */
	ask(&UDP, "example.com.", RRTYPE_MX);
	expect_counts(2, 0, 1);
	expect_rr(2, "mail.example.com.", RRTYPE_A, 3600);
	expect_a(2, "192.0.2.25");

	ask(&UDP_EDNS, "_sip._tcp.example.com.", RRTYPE_SRV);
	expect_counts(1, 0, 3);
	expect_target(0, "www.example.com.");
	expect_rr(1, "www.example.com.", RRTYPE_A, 3600);
	expect_rr(2, "www.example.com.", RRTYPE_AAAA, 3600);

	/* HTTPS in ServiceMode with target ".": the owner's addresses */
	ask(&UDP, "svc.example.com.", RRTYPE_HTTPS);
	expect_counts(1, 0, 1);
	expect_rr(1, "svc.example.com.", RRTYPE_A, 3600);
	expect_a(1, "192.0.2.44");

	/* 8 MX with A and AAAA each: over 512, the additional section is
	 * cut, and that is no truncation */
	ask(&UDP, "mxs.example.com.", RRTYPE_MX);
	assert_false(TC());
	assert_int_equal(M.an, 8);
	assert_true(M.ar > 0 && M.ar < 16);
	assert_true(M.len <= 512);
	for (size_t i = 8; i < M.nrr; i++) {
		assert_int_equal(M.rr[i].owner[0], 2);
		assert_int_equal(M.rr[i].owner[1], 'm');
	}
	ask(&TCP, "mxs.example.com.", RRTYPE_MX);
	expect_counts(8, 0, 16);
	expect_rr(8, "m1.example.com.", RRTYPE_A, 3600);
	expect_rr(9, "m1.example.com.", RRTYPE_AAAA, 3600);
	expect_rr(23, "m8.example.com.", RRTYPE_AAAA, 3600);
}

/* Glue is found for the NS target it belongs to whatever the case of the
 * name in the NS RDATA (the owner points at it), and not for a target of
 * the same length outside the zone that sorts before it. */
static void test_glue_case(void **state)
{
	(void)state;
	ask(&UDP, "x.up.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 0);
	assert_false(AA());
	expect_counts(0, 2, 1);
	expect_rr(0, "up.example.com.", RRTYPE_NS, 3600);
	expect_target(0, "Ns2.Up.EXAMPLE.ORG.");
	expect_target(1, "Ns2.Up.Example.COM.");
	expect_rr(2, "Ns2.Up.Example.COM.", RRTYPE_A, 3600);
	expect_a(2, "192.0.2.61");
}

static void test_glue_required(void **state)
{
	struct qspec o = UDP_EDNS;

	(void)state;
	/* 8 NS with in-domain glue: all of it or TC (RFC 9471) */
	ask(&UDP, "x.bg.example.com.", RRTYPE_A);
	assert_true(TC());
	assert_false(AA());
	assert_int_equal(M.ns, 8);
	assert_true(M.ar < 16);
	assert_true(M.len <= 512);
	assert_true(R.truncated);

	ask(&o, "x.bg.example.com.", RRTYPE_A);
	assert_false(TC());
	expect_counts(0, 8, 17);
	expect_rr(8, "ns1.bg.example.com.", RRTYPE_A, 3600);
	expect_a(8, "198.51.100.1");
	/* it fits: the NS RRset as stored (targets in full) */
	assert_int_equal(M.rr[0].rdlen, 20);

	/* 600 bytes: the glue fits only with the NS targets compressed, a
	 * label and a pointer to the cut's name each (653 -> 541 bytes) */
	o.payload = 600;
	ask(&o, "x.bg.example.com.", RRTYPE_A);
	assert_false(TC());
	expect_counts(0, 8, 17);
	assert_true(M.len <= 600);
	for (int i = 0; i < 8; i++) {
		char want[32];

		snprintf(want, sizeof(want), "ns%d.bg.example.com.", i + 1);
		assert_int_equal(M.rr[i].rdlen, 6);
		expect_target(i, want);
	}
	expect_rr(8, "ns1.bg.example.com.", RRTYPE_A, 3600);
	/* asked in other case: the first target keeps the zone's case, so it
	 * points only at "example.com." of the question; the others at it */
	ask(&o, "x.BG.example.com.", RRTYPE_A);
	assert_false(TC());
	expect_counts(0, 8, 17);
	assert_int_equal(M.rr[0].rdlen, 9);
	expect_target(0, "ns1.bg.example.com.");
	assert_int_equal(M.rr[7].rdlen, 6);
	expect_target(7, "ns8.bg.example.com.");
	expect_rr(9, "ns1.bg.example.com.", RRTYPE_AAAA, 3600);
	/* 512: not even compressed (541 bytes): TC */
	o.payload = 512;
	ask(&o, "x.bg.example.com.", RRTYPE_A);
	assert_true(TC());
}

static void test_far_offsets(void **state)
{
	int seen[MANY] = { 0 };

	(void)state;
	/* 1000 MX: beyond 0x3fff the glue owners cannot be pointers */
	ask(&TCP, "mx.many.test.", RRTYPE_MX);
	assert_int_equal(RCODE(), 0);
	assert_false(TC());
	expect_counts(MANY, 0, MANY);
	assert_true(M.len > 0x4000);
	for (size_t i = MANY; i < M.nrr; i++) {
		char want[32];
		int h;

		assert_int_equal(M.rr[i].type, RRTYPE_A);
		assert_int_equal(sscanf(txt(M.rr[i].owner), "h%d.", &h), 1);
		assert_true(h >= 0 && h < MANY);
		snprintf(want, sizeof(want), "10.0.%d.%d", h / 256, h % 256);
		expect_a(i, want);
		seen[h]++;
	}
	for (int h = 0; h < MANY; h++)
		assert_int_equal(seen[h], 1);
}

static void test_any(void **state)
{
	(void)state;
	/* RFC 8482: one RRset, the lowest type */
	ask(&UDP, "www.example.com.", RRTYPE_ANY);
	assert_int_equal(RCODE(), 0);
	expect_counts(1, 0, 0);
	expect_rr(0, "www.example.com.", RRTYPE_A, 3600);
	ask(&TCP, "example.com.", RRTYPE_ANY);
	assert_int_equal(M.an, 2);
	assert_int_equal(M.rr[0].type, RRTYPE_NS);
	assert_int_equal(M.rr[1].type, RRTYPE_NS);
	ask(&UDP, "foo.w.example.com.", RRTYPE_ANY);
	expect_counts(1, 0, 0);
	expect_rr(0, "foo.w.example.com.", RRTYPE_A, 3600);
	/* the one RRset does not fit: TC */
	ask(&UDP, "big.example.com.", RRTYPE_ANY);
	assert_true(TC());
	expect_counts(0, 0, 0);
	/* ENT */
	ask(&UDP, "ent.w.example.com.", RRTYPE_ANY);
	expect_counts(0, 1, 0);
}

static void test_truncation(void **state)
{
	struct qspec o = UDP_EDNS;
	struct engine_conf conf = F.conf;

	(void)state;
	ask(&UDP, "big.example.com.", RRTYPE_TXT);
	assert_true(TC());
	assert_true(AA());
	expect_counts(0, 0, 0);
	assert_int_equal(M.len, 12 + 21);
	assert_true(R.truncated);
	assert_int_equal(R.kind, ENGINE_KIND_ANSWER);

	/* TC with EDNS: the OPT stays */
	ask(&o, "big.example.com.", RRTYPE_TXT);
	assert_true(TC());
	expect_counts(0, 0, 1);
	assert_true(M.opt);

	/* a chain keeps what fitted before (as Knot) */
	ask(&UDP, "tobig.example.com.", RRTYPE_TXT);
	assert_true(TC());
	expect_counts(1, 0, 0);
	assert_int_equal(M.rr[0].type, RRTYPE_CNAME);

	ask(&TCP, "big.example.com.", RRTYPE_TXT);
	assert_false(TC());
	expect_counts(6, 0, 0);
	assert_false(R.truncated);

	/* UDP that fits with a large enough EDNS size on both sides */
	conf.udp_payload = 4096;
	o.conf = &conf;
	o.payload = 4096;
	ask(&o, "big.example.com.", RRTYPE_TXT);
	assert_false(TC());
	expect_counts(6, 0, 1);
	assert_int_equal(M.opt_payload, 4096);

	/* the SOA of a negative answer is required (RFC 2308 3): TC */
	o = UDP;
	o.cap = 60;
	ask(&o, "nothere.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 3);
	assert_true(TC());
	expect_counts(0, 0, 0);
	o = UDP_EDNS;
	o.conf = &conf;
	o.payload = 4096;

	/* the caller's buffer is a limit too */
	o.cap = 1000;
	ask(&o, "big.example.com.", RRTYPE_TXT);
	assert_true(TC());
	assert_true(M.len <= 1000);
}

static void test_limits(void **state)
{
	struct qspec o = UDP_EDNS;
	struct engine_conf conf = F.conf;

	(void)state;
	/* "mid" is 3 x 263 bytes of answer: about 830 bytes in all */
	ask(&UDP, "mid.example.com.", RRTYPE_TXT);
	assert_true(TC());
	o.payload = 1000;
	ask(&o, "mid.example.com.", RRTYPE_TXT);
	assert_false(TC());
	assert_int_equal(M.an, 3);
	o.payload = 600;
	ask(&o, "mid.example.com.", RRTYPE_TXT);
	assert_true(TC());
	/* below 512 counts as 512 */
	o.payload = 100;
	ask(&o, "www.example.com.", RRTYPE_A);
	assert_false(TC());
	ask(&o, "mid.example.com.", RRTYPE_TXT);
	assert_true(TC());
	/* our own size bounds it too */
	conf.udp_payload = 700;
	o.conf = &conf;
	o.payload = 4096;
	ask(&o, "mid.example.com.", RRTYPE_TXT);
	assert_true(TC());
	assert_int_equal(M.opt_payload, 700);
	ask(&TCP, "mid.example.com.", RRTYPE_TXT);
	assert_false(TC());
	assert_int_equal(M.an, 3);
}

/* ---- EDNS ---------------------------------------------------------------------------- */

static void test_edns(void **state)
{
	struct qspec o = UDP_EDNS;
	struct engine_conf conf = F.conf;

	(void)state;
	o.payload = 4096;
	ask(&o, "www.example.com.", RRTYPE_A);
	expect_counts(1, 0, 1);
	assert_true(M.opt);
	expect_rr(1, ".", RRTYPE_OPT, 0);
	assert_int_equal(M.opt_payload, ENGINE_UDP_PAYLOAD_DEFAULT);
	assert_int_equal(M.opt_ver, 0);
	assert_int_equal(M.opt_flags, 0);
	assert_int_equal(M.opt_rdlen, 0);
	assert_true(R.edns);
	assert_false(R.do_bit);

	/* DO is copied (RFC 3225) */
	o.do_bit = 1;
	ask(&o, "www.example.com.", RRTYPE_A);
	assert_int_equal(M.opt_flags, 0x8000);
	assert_true(R.do_bit);
	assert_int_equal(M.an, 1);

	/* unknown options are ignored */
	o.do_bit = 0;
	o.unknown_opt = 1;
	ask(&o, "www.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 0);
	assert_int_equal(M.an, 1);
	assert_int_equal(M.opt_rdlen, 0);

	/* NSID: only when asked for and configured */
	o.nsid = 1;
	ask(&o, "www.example.com.", RRTYPE_A);
	assert_int_equal(M.opt_rdlen, 0);
	conf.nsid = (const uint8_t *)"pop-test-1";
	conf.nsid_len = 10;
	o.conf = &conf;
	ask(&o, "www.example.com.", RRTYPE_A);
	assert_int_equal(M.opt_rdlen, 14);
	assert_memory_equal(M.opt_rd, "\x00\x03\x00\x0apop-test-1", 14);
	o.nsid = 0;
	ask(&o, "www.example.com.", RRTYPE_A);
	assert_int_equal(M.opt_rdlen, 0);
	/* on errors too */
	o.nsid = 1;
	ask(&o, "www.example.org.", RRTYPE_A);
	assert_int_equal(RCODE(), 5);
	assert_int_equal(M.opt_rdlen, 14);
}

static void test_badvers(void **state)
{
	struct qspec o = UDP_EDNS;

	(void)state;
	o.version = 1;
	o.do_bit = 1;
	ask(&o, "www.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 0);           /* 16 = 0x010: low bits 0 */
	expect_counts(0, 0, 1);
	assert_int_equal(M.opt_ext, 1);
	assert_int_equal(M.opt_ver, 0);
	assert_int_equal(M.opt_flags, 0x8000);
	assert_int_equal(R.rcode, 16);
	assert_int_equal(R.kind, ENGINE_KIND_ERROR);
	assert_false(AA());
}

/* ---- malformed and refused -------------------------------------------------------------- */

static const uint8_t HDR[12] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
static const uint8_t QWWW[] = "\3www\7example\3com\0\0\1\0\1";  /* 21 bytes + NUL */
static const uint8_t OPT[] = { 0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0 };

static size_t msg(uint8_t *q, unsigned qd, unsigned an, unsigned ar, ...)
{
	va_list ap;
	size_t n = 12;
	const uint8_t *part;

	memcpy(q, HDR, 12);
	q[5] = (uint8_t)qd;
	q[7] = (uint8_t)an;
	q[11] = (uint8_t)ar;
	va_start(ap, ar);
	while ((part = va_arg(ap, const uint8_t *))) {
		size_t len = va_arg(ap, size_t);

		memcpy(q + n, part, len);
		n += len;
	}
	va_end(ap);
	return n;
}

static void expect_formerr(const uint8_t *q, size_t n, int with_question)
{
	assert_true(ask_raw(q, n, &UDP) > 0);
	assert_int_equal(RCODE(), 1);
	assert_false(AA());
	assert_int_equal(M.qd, with_question ? 1 : 0);
	expect_counts(0, 0, 0);
	assert_int_equal(M.len, with_question ? 12 + 21 : 12);
	assert_int_equal(R.rcode, 1);
	assert_int_equal(R.kind, ENGINE_KIND_ERROR);
	assert_null(R.rrl_name);
}

static void test_formerr(void **state)
{
	static const uint8_t ptrq[] = "\3www\300\014\0\1\0\1";
	static const uint8_t bigl[] = "\100aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\0\0\1\0\1";
	static const uint8_t optname[] = "\1x\0\0\51\20\0\0\0\0\0\0\0";
	static const uint8_t badopt[] = { 0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 4, 0, 3, 0, 9 };
	static const uint8_t arr_a[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4 };
	static const uint8_t arr_loop[] = { 0xc0, 33, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4 };
	uint8_t q[2048];
	size_t n;

	(void)state;
	expect_formerr(q, msg(q, 0, 0, 0, NULL), 0);
	expect_formerr(q, msg(q, 2, 0, 0, QWWW, (size_t)21, QWWW, (size_t)21, NULL), 0);
	expect_formerr(q, msg(q, 1, 0, 0, ptrq, sizeof(ptrq) - 1, NULL), 0);
	expect_formerr(q, msg(q, 1, 0, 0, bigl, sizeof(bigl) - 1, NULL), 0);
	expect_formerr(q, msg(q, 1, 0, 0, QWWW, (size_t)19, NULL), 0);
	/* a name over 255 bytes */
	n = msg(q, 1, 0, 0, NULL);
	for (int i = 0; i < 5; i++) {
		q[n++] = 60;
		memset(q + n, 'a', 60);
		n += 60;
	}
	memcpy(q + n, "\0\0\1\0\1", 5);
	expect_formerr(q, n + 5, 0);

	/* EDNS: two OPTs, OPT in the answer section, non-root owner, option
	 * running past RDATA */
	expect_formerr(q, msg(q, 1, 0, 2, QWWW, (size_t)21, OPT, sizeof(OPT),
			      OPT, sizeof(OPT), NULL), 1);
	expect_formerr(q, msg(q, 1, 1, 0, QWWW, (size_t)21, OPT, sizeof(OPT),
			      NULL), 1);
	expect_formerr(q, msg(q, 1, 0, 1, QWWW, (size_t)21, optname,
			      sizeof(optname) - 1, NULL), 1);
	expect_formerr(q, msg(q, 1, 0, 1, QWWW, (size_t)21, badopt,
			      sizeof(badopt), NULL), 1);
	/* the OPT alone after the question, but a byte after it, or its
	 * RDLENGTH one past the end (the lone OPT is read in place when
	 * it ends the message exactly) */
	n = msg(q, 1, 0, 1, QWWW, (size_t)21, OPT, sizeof(OPT), NULL);
	q[n] = 0;
	expect_formerr(q, n + 1, 1);
	q[n - 1] = 1;
	expect_formerr(q, n, 1);
	/* counts promise more than is there; bytes after the last RR */
	expect_formerr(q, msg(q, 1, 0, 1, QWWW, (size_t)21, NULL), 1);
	expect_formerr(q, msg(q, 1, 0, 0, QWWW, (size_t)22, NULL), 1);
	/* a compression pointer that points forward (a loop) */
	expect_formerr(q, msg(q, 1, 0, 1, QWWW, (size_t)21, arr_loop,
			      sizeof(arr_loop), NULL), 1);
	/* qtype OPT */
	n = msg(q, 1, 0, 0, QWWW, (size_t)21, NULL);
	q[n - 3] = 41;
	expect_formerr(q, n, 1);

	/* a backward pointer in the additional section is fine */
	n = msg(q, 1, 0, 2, QWWW, (size_t)21, arr_a, sizeof(arr_a), OPT,
		sizeof(OPT), NULL);
	assert_true(ask_raw(q, n, &UDP) > 0);
	assert_int_equal(RCODE(), 0);
	expect_counts(1, 0, 1);
	assert_int_equal(M.opt_payload, ENGINE_UDP_PAYLOAD_DEFAULT);
}

static void test_notimp(void **state)
{
	struct qspec o = UDP;
	uint8_t q[512];
	size_t n;

	(void)state;
	o.opcode = 2;
	ask(&o, "www.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 4);
	assert_int_equal(M.f2 & 0x78, 2 << 3);
	assert_false(AA());
	expect_counts(0, 0, 0);
	assert_int_equal(R.rcode, 4);
	o.opcode = 4;
	o.edns = 1;
	ask(&o, "example.com.", RRTYPE_SOA);
	assert_int_equal(RCODE(), 4);
	assert_int_equal(M.f2 & 0x78, 4 << 3);
	expect_counts(0, 0, 1);
	/* unparsable NOTIFY: still NOTIMP, header only */
	n = msg(q, 3, 0, 0, NULL);
	q[2] = 4 << 3;
	assert_true(ask_raw(q, n, &UDP) > 0);
	assert_int_equal(RCODE(), 4);
	assert_int_equal(M.qd, 0);
	/* zone transfers are not the engine's */
	ask(&TCP, "example.com.", RRTYPE_AXFR);
	assert_int_equal(RCODE(), 4);
}

static void test_refused(void **state)
{
	struct qspec o = UDP;

	(void)state;
	ask(&UDP, "www.example.org.", RRTYPE_A);
	assert_int_equal(RCODE(), 5);
	assert_false(AA());
	expect_counts(0, 0, 0);
	assert_int_equal(R.kind, ENGINE_KIND_ERROR);
	assert_null(R.zone);
	ask(&UDP, ".", RRTYPE_NS);
	assert_int_equal(RCODE(), 5);
	o.qclass = RRCLASS_CH;
	ask(&o, "version.bind.", RRTYPE_TXT);
	assert_int_equal(RCODE(), 5);
	o.qclass = RRCLASS_HS;
	ask(&o, "www.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 5);
	o.qclass = RRCLASS_ANY;
	ask(&o, "www.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 5);
	expect_counts(0, 0, 0);
}

static void test_chaos(void **state)
{
	struct engine_conf conf = F.conf;
	struct qspec o = { .qclass = RRCLASS_CH, .conf = &conf, .no_snap = 1 };

	(void)state;
	conf.version = "pop53 test";
	ask(&o, "VERSION.bind.", RRTYPE_TXT);
	assert_int_equal(RCODE(), 0);
	expect_counts(1, 0, 0);
	expect_rr(0, "VERSION.bind.", RRTYPE_TXT, 0);
	assert_int_equal(M.rr[0].rclass, RRCLASS_CH);
	assert_int_equal(M.rr[0].rdlen, 11);
	assert_memory_equal(M.rr[0].rd, "\x0apop53 test", 11);
	assert_int_equal(R.kind, ENGINE_KIND_ANSWER);
	ask(&o, "version.server.", RRTYPE_TXT);
	assert_int_equal(M.an, 1);
	/* identity not configured */
	ask(&o, "id.server.", RRTYPE_TXT);
	assert_int_equal(RCODE(), 5);
	conf.identity = "pop-ams-1";
	ask(&o, "hostname.bind.", RRTYPE_TXT);
	assert_int_equal(M.an, 1);
	assert_memory_equal(M.rr[0].rd, "\x09pop-ams-1", 10);
	ask(&o, "id.server.", RRTYPE_TXT);
	assert_int_equal(M.an, 1);
	/* other names and types */
	ask(&o, "version.bind.", RRTYPE_A);
	assert_int_equal(RCODE(), 5);
	ask(&o, "authors.bind.", RRTYPE_TXT);
	assert_int_equal(RCODE(), 5);
}

static void test_drop_and_servfail(void **state)
{
	struct qspec o = UDP;
	uint8_t q[512];
	size_t n = build_query(q, &UDP, "www.example.com.", RRTYPE_A);

	(void)state;
	q[2] |= 0x80;
	/* nothing is sent: no kind of response for metrics or RRL */
	assert_int_equal(ask_raw(q, n, &UDP), 0);
	assert_int_equal(R.kind, ENGINE_KIND_NONE);
	assert_int_equal(ask_raw(q, 11, &UDP), 0);
	assert_int_equal(R.kind, ENGINE_KIND_NONE);
	assert_int_equal(engine_answer(&F.conf, F.s, q, 0, NULL, OUT,
				       sizeof(OUT), NULL), 0);
	/* no room for even the question: drop */
	n = build_query(q, &UDP, "www.example.com.", RRTYPE_A);
	o.cap = 20;
	assert_int_equal(ask_raw(q, n, &o), 0);
	assert_int_equal(R.kind, ENGINE_KIND_NONE);

	o = UDP;
	o.no_snap = 1;
	ask(&o, "www.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 2);
	expect_counts(0, 0, 0);
	assert_int_equal(R.rcode, 2);
	assert_int_equal(R.kind, ENGINE_KIND_ERROR);
}

static void test_header_bits(void **state)
{
	struct qspec o = { .id = 0x0102, .cd = 1 };

	(void)state;
	ask(&o, "www.example.com.", RRTYPE_A);
	assert_int_equal(M.id, 0x0102);
	assert_int_equal(M.f2 & 0x01, 0);       /* RD was clear */
	assert_int_equal(M.f3 & 0x10, 0x10);    /* CD copied */
	assert_int_equal(M.f3 & 0x20, 0);       /* AD */
}

/* The response written over the query, as the DPDK path does. */
static void test_in_place(void **state)
{
	static const struct { const char *name; uint16_t type; } qs[] = {
		{ "WwW.example.com.", RRTYPE_A }, { "c1.example.com.", RRTYPE_A },
		{ "x.wc.example.com.", RRTYPE_A }, { "host.sub.example.com.", RRTYPE_A },
		{ "nothere.example.com.", RRTYPE_A }, { "a.b.d.example.com.", RRTYPE_A },
		{ "www.example.org.", RRTYPE_A },
	};
	struct engine_client c = { .transport = ENGINE_UDP };
	struct qspec o = UDP_EDNS;
	static uint8_t buf[65535], ref[65535];

	(void)state;
	o.nsid = 1;
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		size_t n = build_query(buf, &o, qs[i].name, qs[i].type);
		size_t a = engine_answer(&F.conf, F.s, buf, n, &c, ref,
					 sizeof(ref), NULL);
		size_t b = engine_answer(&F.conf, F.s, buf, n, &c, buf,
					 sizeof(buf), NULL);

		assert_true(a > 0);
		assert_int_equal(a, b);
		assert_memory_equal(ref, buf, a);
	}
}

/* engine_answer_burst with interleaved lookups gives, query for query,
 * the bytes engine_answer gives: every kind of name and answer, errors
 * and drops among them, in bursts of every size, in place. */
static void test_burst_same(void **state)
{
	static const char *const names[] = {
		"WwW.example.com.", "www.example.com.", "c1.example.com.",
		"x.wc.example.com.", "host.sub.example.com.", "a.b.SUB.example.com.",
		"nothere.example.com.", "a.b.d.example.com.", "www.example.org.",
		"alias.example.com.", "a.self.example.com.", "a.x.self.example.com.",
		"a.wl.example.com.", "loopa.example.com.", "tonet.example.com.",
		"todeleg.example.com.", "ext.example.com.", "example.com.",
		"sub.example.com.", "child.example.com.", "ent.w.example.com.",
		"foo.w.example.com.", "a.b.c.w.example.com.", "mxs.example.com.",
		"l20.example.com.", "svc.example.com.", "big.example.com.",
		"tobig.example.com.", "dangle.example.com.", "d.example.com.",
		"example.net.", "www.example.net.", "a.b.example.net.",
		"x.bg.example.com.", "mail.example.com.", "toglue.example.com.",
		"tochild.example.com.",
	};
	static const uint16_t types[] = {
		RRTYPE_A, RRTYPE_AAAA, RRTYPE_MX, RRTYPE_NS, RRTYPE_DS,
		RRTYPE_CNAME, RRTYPE_ANY, RRTYPE_TXT, RRTYPE_SOA, RRTYPE_SRV,
	};
	/* ECS options: none, valid (IPv4, IPv6, SOURCE 0), malformed */
	static const struct { const uint8_t *opt; size_t len; } ecs[] = {
		{ NULL, 0 },
		{ (const uint8_t *)"\0\10\0\7\0\1\30\0\300\0\2", 11 },
		{ (const uint8_t *)"\0\10\0\12\0\2\60\0\40\1\15\270\0\1", 14 },
		{ (const uint8_t *)"\0\10\0\4\0\2\0\0", 8 },
		{ (const uint8_t *)"\0\10\0\7\0\1\30\30\300\0\2", 11 },
	};
	enum { NQ = 4 * 37 * 10 };
	static uint8_t q[NQ][512], ref[NQ][4096], buf[ENGINE_BURST_MAX][4096];
	static size_t qlen[NQ], rlen[NQ];
	struct engine_client c = { .transport = ENGINE_UDP };
	struct engine_conf conf = F.conf;
	struct engine_job job[ENGINE_BURST_MAX];
	size_t nq = 0, at = 0;

	(void)state;
	/* with DNS cookies and ECS on: every kind of COOKIE and ECS option in
	 * the mix, answers claiming a scope */
	cookie_box_set(&CK_BOX, &CK_SECRET);
	conf.cookies = &CK_BOX;
	conf.now = CK_NOW;
	conf.ecs = 1;
	conf.ecs_scope_test = 16;
	for (size_t v = 0; v < 4; v++) {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
				struct qspec o = v & 1 ? UDP_EDNS : (struct qspec){ 0 };

				o.id = (uint16_t)nq;
				o.qclass = v == 3 && i % 7 == 0 ? RRCLASS_CH : 0;
				o.cookie = (uint8_t)((i + t) % QC_COUNT);
				o.opts = ecs[(i + 2 * t) % 5].opt;
				o.opts_len = ecs[(i + 2 * t) % 5].len;
				qlen[nq] = build_query(q[nq], &o, names[i], types[t]);
				if (v == 2 && i % 5 == 0)
					qlen[nq] = 14;  /* cut short: FORMERR */
				if (v == 2 && i % 11 == 0)
					q[nq][2] |= 0x80;       /* QR: dropped */
				rlen[nq] = engine_answer(&conf, F.s, q[nq],
							 qlen[nq], &c, ref[nq],
							 sizeof(ref[nq]), NULL);
				nq++;
			}
		}
	}
	assert_int_equal(nq, NQ);
	conf.interleave = ENGINE_INTERLEAVE_ALWAYS;
	/* Four sweeps over the sizes cover every query about once. */
	for (size_t sweep = 0, size = 1; sweep < 4;
	     size = size < 8 ? size + 1 : size + 7) {
		size_t first = at;

		if (size > ENGINE_BURST_MAX) {
			size = 0;
			sweep++;
			continue;
		}

		for (size_t k = 0; k < size; k++) {
			size_t i = (at + k * 13) % NQ;

			memcpy(buf[k], q[i], qlen[i]);
			job[k] = (struct engine_job){
				.q = buf[k], .qlen = qlen[i], .client = &c,
				.out = buf[k], .cap = sizeof(buf[k]),
			};
		}
		engine_answer_burst(&conf, F.s, job, size);
		for (size_t k = 0; k < size; k++) {
			size_t i = (first + k * 13) % NQ;

			assert_int_equal(job[k].len, rlen[i]);
			assert_memory_equal(buf[k], ref[i], rlen[i]);
		}
		at = (at + size * 13 + 1) % NQ;
	}
}

/* ---- EDNS Client Subnet (RFC 7871) ------------------------------------------------------- */

/* Options as the query carries them: 192.0.2.0/24, 2001:db8:1:2300::/56 */
static const uint8_t ECS4_24[] = { 0, 8, 0, 7, 0, 1, 24, 0, 192, 0, 2 };
static const uint8_t ECS6_56[] = { 0, 8, 0, 11, 0, 2, 56, 0,
				   0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x23 };

static struct engine_conf ecs_conf(uint8_t scope)
{
	struct engine_conf conf = F.conf;

	conf.ecs = 1;
	conf.ecs_scope_test = scope;
	return conf;
}

static struct qspec ecs_q(const struct engine_conf *conf, const uint8_t *opt,
			  size_t len)
{
	struct qspec o = UDP_EDNS;

	o.conf = conf;
	o.opts = opt;
	o.opts_len = len;
	return o;
}

/* The option with code `code` in the response's OPT, or NULL. */
static const uint8_t *find_opt(uint16_t code, uint16_t *len)
{
	size_t p = 0;

	assert_true(M.opt);
	while (p + 4 <= M.opt_rdlen) {
		uint16_t c = g16(M.opt_rd + p), l = g16(M.opt_rd + p + 2);

		assert_true(p + 4 + l <= M.opt_rdlen);
		if (c == code) {
			*len = l;
			return M.opt_rd + p + 4;
		}
		p += 4u + l;
	}
	return NULL;
}

/* The response echoes `opt` (a whole option) with SCOPE `scope`. */
static void expect_echo(const uint8_t *opt, size_t len, uint8_t scope)
{
	uint16_t n;
	const uint8_t *e = find_opt(8, &n);

	assert_non_null(e);
	assert_int_equal(n, len - 4);
	assert_memory_equal(e, opt + 4, 3);     /* FAMILY, SOURCE */
	assert_int_equal(e[3], scope);
	assert_memory_equal(e + 4, opt + 8, len - 8);
	assert_int_equal(R.ecs, ENGINE_ECS_ECHO);
	assert_int_equal(R.ecs_scope, scope);
}

static void expect_no_echo(void)
{
	uint16_t n;

	if (M.opt)
		assert_null(find_opt(8, &n));
	assert_int_not_equal(R.ecs, ENGINE_ECS_ECHO);
	assert_int_equal(R.ecs_scope, 0);
}

static void test_ecs_echo(void **state)
{
	static const uint8_t v4_20[] = { 0, 8, 0, 7, 0, 1, 20, 0, 10, 1, 16 };
	static const uint8_t v4_0[] = { 0, 8, 0, 4, 0, 1, 0, 0 };
	static const uint8_t v6_0[] = { 0, 8, 0, 4, 0, 2, 0, 0 };
	static const uint8_t v4_32[] = { 0, 8, 0, 8, 0, 1, 32, 0, 192, 0, 2, 1 };
	static const uint8_t v6_128[] = { 0, 8, 0, 20, 0, 2, 128, 0, 0x20, 1,
					  0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					  0, 0, 0x53 };
	static const struct { const uint8_t *opt; size_t len; } ok[] = {
		{ ECS4_24, sizeof(ECS4_24) }, { ECS6_56, sizeof(ECS6_56) },
		{ v4_20, sizeof(v4_20) }, { v4_0, sizeof(v4_0) },
		{ v6_0, sizeof(v6_0) }, { v4_32, sizeof(v4_32) },
		{ v6_128, sizeof(v6_128) },
	};
	struct engine_conf conf = ecs_conf(0);
	struct qspec o;
	uint8_t q[600], opts[64];
	uint16_t n;
	size_t qlen, a;

	(void)state;
	/* byte for byte: the OPT RDATA is the query's option, SCOPE 0 */
	o = ecs_q(&conf, ECS4_24, sizeof(ECS4_24));
	ask(&o, "www.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 0);
	expect_counts(1, 0, 1);
	expect_a(0, "192.0.2.80");
	assert_int_equal(M.opt_rdlen, sizeof(ECS4_24));
	assert_memory_equal(M.opt_rd, ECS4_24, sizeof(ECS4_24));
	o = ecs_q(&conf, ECS6_56, sizeof(ECS6_56));
	ask(&o, "www.example.com.", RRTYPE_AAAA);
	expect_aaaa(0, "2001:db8::80");
	assert_int_equal(M.opt_rdlen, sizeof(ECS6_56));
	assert_memory_equal(M.opt_rd, ECS6_56, sizeof(ECS6_56));

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		o = ecs_q(&conf, ok[i].opt, ok[i].len);
		ask(&o, "www.example.com.", RRTYPE_A);
		assert_int_equal(RCODE(), 0);
		assert_int_equal(M.an, 1);
		expect_echo(ok[i].opt, ok[i].len, 0);
		o.tcp = 1;
		ask(&o, "www.example.com.", RRTYPE_A);
		expect_echo(ok[i].opt, ok[i].len, 0);
	}

	/* beside NSID and a cookie: all three, in that order */
	cookie_box_set(&CK_BOX, &CK_SECRET);
	conf.cookies = &CK_BOX;
	conf.now = CK_NOW;
	conf.nsid = (const uint8_t *)"pop-1";
	conf.nsid_len = 5;
	o = ecs_q(&conf, ECS4_24, sizeof(ECS4_24));
	o.nsid = 1;
	o.cookie = QC_VALID;
	ask(&o, "www.example.com.", RRTYPE_A);
	assert_int_equal(M.opt_rdlen, 9 + sizeof(ECS4_24) + 4 + 24);
	assert_memory_equal(M.opt_rd, "\x00\x03\x00\x05pop-1", 9);
	assert_memory_equal(M.opt_rd + 9, ECS4_24, sizeof(ECS4_24));
	assert_memory_equal(M.opt_rd + 9 + sizeof(ECS4_24), "\x00\x0a\x00\x18", 4);
	assert_int_equal(R.cookie, ENGINE_COOKIE_VALID);
	assert_non_null(find_opt(10, &n));

	/* answered in place: the option is kept before the query is
	 * overwritten */
	o = ecs_q(&conf, ECS6_56, sizeof(ECS6_56));
	o.cookie = QC_CLIENT;
	qlen = build_query(q, &o, "c1.example.com.", RRTYPE_A);
	a = engine_answer(&conf, F.s, q, qlen, NULL, OUT, sizeof(OUT), NULL);
	assert_true(a > 0);
	assert_int_equal(engine_answer(&conf, F.s, q, qlen, NULL, q, sizeof(q),
				       NULL), a);
	assert_memory_equal(q, OUT, a);

	/* an unknown option beside it changes nothing */
	memcpy(opts, "\xfd\xe9\x00\x02\x01\x02", 6);
	memcpy(opts + 6, ECS4_24, sizeof(ECS4_24));
	conf = ecs_conf(0);
	o = ecs_q(&conf, opts, 6 + sizeof(ECS4_24));
	ask(&o, "www.example.com.", RRTYPE_A);
	assert_int_equal(M.opt_rdlen, sizeof(ECS4_24));
	expect_echo(ECS4_24, sizeof(ECS4_24), 0);
}

/* Malformed ECS options: FORMERR with an OPT (RFC 6891 7), no echo; with
 * ECS off the same queries get their answer and no echo. */
static void test_ecs_formerr(void **state)
{
	static const uint8_t bad[][28] = {
		{ 0, 8, 0, 4, 0, 3, 0, 0 },                     /* FAMILY 3 */
		{ 0, 8, 0, 4, 0, 0, 0, 0 },                     /* FAMILY 0 */
		{ 0, 8, 0, 9, 0, 1, 33, 0, 1, 2, 3, 4, 0 },     /* SOURCE > 32 */
		{ 0, 8, 0, 21, 0, 2, 129, 0 },                  /* SOURCE > 128 */
		{ 0, 8, 0, 7, 0, 1, 24, 24, 192, 0, 2 },        /* SCOPE != 0 */
		{ 0, 8, 0, 6, 0, 1, 24, 0, 192, 0 },            /* too few */
		{ 0, 8, 0, 8, 0, 1, 24, 0, 192, 0, 2, 0 },      /* too many */
		{ 0, 8, 0, 5, 0, 1, 0, 0, 0 },                  /* too many (/0) */
		{ 0, 8, 0, 7, 0, 1, 20, 0, 10, 1, 17 },         /* bits beyond */
		{ 0, 8, 0, 11, 0, 2, 52, 0, 0x20, 1, 0xd, 0xb8, 0, 1, 0x23 },
		{ 0, 8, 0, 3, 0, 1, 24 },                       /* shorter than 4 */
		{ 0, 8, 0, 0 },                                 /* empty */
	};
	uint8_t two[2 * sizeof(ECS4_24)];
	struct engine_conf on = ecs_conf(24), off = F.conf;
	struct qspec o;

	(void)state;
	/* the last case: a second (valid) ECS option */
	memcpy(two, ECS4_24, sizeof(ECS4_24));
	memcpy(two + sizeof(ECS4_24), ECS4_24, sizeof(ECS4_24));
	for (size_t i = 0; i <= sizeof(bad) / sizeof(bad[0]); i++) {
		const uint8_t *opt = i < sizeof(bad) / sizeof(bad[0]) ? bad[i] : two;
		size_t len = opt == two ? sizeof(two) : 4u + g16(opt + 2);

		o = ecs_q(&on, opt, len);
		ask(&o, "www.example.com.", RRTYPE_A);
		assert_int_equal(RCODE(), 1);
		assert_int_equal(R.rcode, 1);
		assert_int_equal(R.kind, ENGINE_KIND_ERROR);
		assert_int_equal(R.ecs, ENGINE_ECS_BAD);
		assert_int_equal(M.qd, 1);
		expect_counts(0, 0, 1);
		assert_int_equal(M.opt_rdlen, 0);
		assert_false(AA());
		expect_no_echo();

		o.conf = &off;
		ask(&o, "www.example.com.", RRTYPE_A);
		assert_int_equal(RCODE(), 0);
		expect_counts(1, 0, 1);
		assert_int_equal(M.opt_rdlen, 0);
		assert_int_equal(R.ecs, ENGINE_ECS_NONE);
	}
	/* a valid one followed by a malformed one */
	memcpy(two + sizeof(ECS4_24), bad[4], sizeof(ECS4_24));
	o = ecs_q(&on, two, sizeof(two));
	ask(&o, "www.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 1);
	expect_no_echo();

	/* EDNS version 1: BADVERS as before, valid option or not, no echo */
	o = ecs_q(&on, bad[4], sizeof(ECS4_24));
	o.version = 1;
	ask(&o, "www.example.com.", RRTYPE_A);
	assert_int_equal(R.rcode, 16);
	assert_int_equal(M.opt_ext, 1);
	assert_int_equal(M.opt_rdlen, 0);
	assert_int_equal(R.ecs, ENGINE_ECS_NONE);
	o = ecs_q(&on, ECS4_24, sizeof(ECS4_24));
	o.version = 1;
	ask(&o, "www.example.com.", RRTYPE_A);
	assert_int_equal(R.rcode, 16);
	assert_int_equal(M.opt_rdlen, 0);
	assert_int_equal(R.ecs, ENGINE_ECS_NONE);
}

/* Every response with an OPT echoes a valid option; the SCOPE an answer
 * claims (here the test hook: 24) shows only where the answer section
 * holds records (RFC 7871 7.4: negative answers and referrals say 0). */
static void test_ecs_kinds(void **state)
{
	struct engine_conf conf = ecs_conf(24);
	struct qspec o = ecs_q(&conf, ECS4_24, sizeof(ECS4_24));
	size_t n;

	(void)state;
	ask(&o, "www.example.com.", RRTYPE_A);
	assert_int_equal(R.kind, ENGINE_KIND_ANSWER);
	expect_echo(ECS4_24, sizeof(ECS4_24), 24);
	ask(&o, "c1.example.com.", RRTYPE_A);           /* CNAME chain */
	assert_int_equal(M.an, 3);
	expect_echo(ECS4_24, sizeof(ECS4_24), 24);
	ask(&o, "nothere.example.com.", RRTYPE_A);
	assert_int_equal(R.kind, ENGINE_KIND_NXDOMAIN);
	assert_int_equal(RCODE(), 3);
	expect_echo(ECS4_24, sizeof(ECS4_24), 0);
	ask(&o, "www.example.com.", RRTYPE_TXT);
	assert_int_equal(R.kind, ENGINE_KIND_NODATA);
	expect_echo(ECS4_24, sizeof(ECS4_24), 0);
	ask(&o, "host.sub.example.com.", RRTYPE_A);
	assert_int_equal(R.kind, ENGINE_KIND_REFERRAL);
	assert_true(M.ns > 0);
	expect_echo(ECS4_24, sizeof(ECS4_24), 0);
	ask(&o, "www.example.org.", RRTYPE_A);
	assert_int_equal(RCODE(), 5);
	expect_echo(ECS4_24, sizeof(ECS4_24), 0);
	o.qclass = RRCLASS_CH;                          /* CHAOS: REFUSED */
	ask(&o, "version.bind.", RRTYPE_TXT);
	assert_int_equal(RCODE(), 5);
	expect_echo(ECS4_24, sizeof(ECS4_24), 0);
	conf.version = "pop53 test";
	ask(&o, "version.bind.", RRTYPE_TXT);
	assert_int_equal(M.an, 1);
	expect_echo(ECS4_24, sizeof(ECS4_24), 0);
	o.qclass = 0;
	o.no_snap = 1;                                  /* SERVFAIL */
	ask(&o, "www.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 2);
	expect_echo(ECS4_24, sizeof(ECS4_24), 0);
	o.no_snap = 0;
	o.opcode = 2;                                   /* NOTIMP */
	ask(&o, "www.example.com.", RRTYPE_A);
	assert_int_equal(RCODE(), 4);
	expect_echo(ECS4_24, sizeof(ECS4_24), 0);
	o.opcode = 0;
	/* TC: the answer does not fit 512 bytes, the echo is there */
	o.payload = 512;
	n = ask(&o, "big.example.com.", RRTYPE_TXT);
	assert_true(TC());
	assert_true(n <= 512);
	expect_echo(ECS4_24, sizeof(ECS4_24), M.an ? 24 : 0);
}

/* The scope hook (note_scope): what the answer claims, within the
 * family's width, longer than SOURCE if need be (RFC 7871 7.2.1); 0 for
 * SOURCE 0, whose answer cannot depend on the client. */
static void test_ecs_scope(void **state)
{
	static const uint8_t v4_0[] = { 0, 8, 0, 4, 0, 1, 0, 0 };
	struct engine_conf conf = ecs_conf(20);
	struct qspec o = ecs_q(&conf, ECS4_24, sizeof(ECS4_24));
	size_t n;

	(void)state;
	ask(&o, "www.example.com.", RRTYPE_A);
	expect_echo(ECS4_24, sizeof(ECS4_24), 20);
	conf.ecs_scope_test = 30;
	ask(&o, "www.example.com.", RRTYPE_A);
	expect_echo(ECS4_24, sizeof(ECS4_24), 30);
	conf.ecs_scope_test = 200;
	ask(&o, "www.example.com.", RRTYPE_A);
	expect_echo(ECS4_24, sizeof(ECS4_24), 32);
	o = ecs_q(&conf, ECS6_56, sizeof(ECS6_56));
	ask(&o, "www.example.com.", RRTYPE_A);
	expect_echo(ECS6_56, sizeof(ECS6_56), 128);
	conf.ecs_scope_test = 24;
	o = ecs_q(&conf, v4_0, sizeof(v4_0));
	ask(&o, "www.example.com.", RRTYPE_A);
	assert_int_equal(M.an, 1);
	expect_echo(v4_0, sizeof(v4_0), 0);
	/* no option, or ECS off: nothing to echo */
	o = ecs_q(&conf, NULL, 0);
	ask(&o, "www.example.com.", RRTYPE_A);
	assert_int_equal(M.opt_rdlen, 0);
	expect_no_echo();
	conf.ecs = 0;
	o = ecs_q(&conf, ECS4_24, sizeof(ECS4_24));
	ask(&o, "www.example.com.", RRTYPE_A);
	assert_int_equal(M.opt_rdlen, 0);
	expect_no_echo();

	/* RRL's minimal responses keep the OPT with the echo as it was */
	conf.ecs = 1;
	cookie_box_set(&CK_BOX, &CK_SECRET);
	conf.cookies = &CK_BOX;
	conf.now = CK_NOW;
	for (int badcookie = 0; badcookie < 2; badcookie++) {
		struct engine_result res;

		o.cookie = QC_CLIENT;
		n = ask(&o, "www.example.com.", RRTYPE_A);
		res = R;
		n = engine_truncate(OUT, n, &res, badcookie);
		assert_true(n > 0);
		assert_int_equal(parse_msg(OUT, n, &M), 0);
		expect_counts(0, 0, 1);
		assert_int_equal(!!TC(), !badcookie);
		assert_int_equal(M.opt_ext, badcookie ? 1 : 0);
		expect_echo(ECS4_24, sizeof(ECS4_24), 24);
	}
}

static void expect_loc(const struct engine_conf *conf, const uint8_t *opt,
		       size_t len, const struct engine_client *c, uint8_t from,
		       uint8_t family, uint8_t plen, const char *addr)
{
	struct qspec o = ecs_q(conf, opt, len);
	struct engine_loc loc;
	uint8_t q[600], want[16] = { 0 };
	size_t n = build_query(q, &o, "www.example.com.", RRTYPE_A);

	memset(&loc, 0xa5, sizeof(loc));
	assert_int_equal(engine_locate(conf, q, n, c, &loc), 0);
	assert_int_equal(loc.from, from);
	assert_int_equal(loc.family, family);
	assert_int_equal(loc.len, plen);
	if (addr) {
		assert_int_equal(inet_pton(family, addr, want), 1);
		assert_memory_equal(loc.addr, want, family == AF_INET ? 4 : 16);
	}
}

/* The client location answers go by: from ECS, capped, else the source
 * address. */
static void test_ecs_locate(void **state)
{
	static const uint8_t v4_32[] = { 0, 8, 0, 8, 0, 1, 32, 0, 192, 0, 255, 77 };
	static const uint8_t v4_0[] = { 0, 8, 0, 4, 0, 1, 0, 0 };
	static const uint8_t v6_64[] = { 0, 8, 0, 12, 0, 2, 64, 0, 0x20, 0x01,
					 0x0d, 0xb8, 0x00, 0x01, 0x23, 0xff };
	static const uint8_t v6_0[] = { 0, 8, 0, 4, 0, 2, 0, 0 };
	/* past 64 bits, ending inside a byte */
	static const uint8_t v6_100[] = { 0, 8, 0, 17, 0, 2, 100, 0, 0x20, 0x01,
					  0x0d, 0xb8, 0x00, 0x01, 0x23, 0xff, 0xaa,
					  0xbb, 0xcc, 0xdd, 0xe0 };
	struct engine_client c4 = { .family = AF_INET, .addr = { 198, 51, 100, 7 } };
	struct engine_client c6 = { .family = AF_INET6,
				    .addr = { 0x20, 0x01, 0xd, 0xb8, [15] = 9 } };
	struct engine_conf conf = F.conf;
	struct engine_loc loc;
	struct qspec o;
	uint8_t q[600];
	size_t n;

	(void)state;
	/* ECS off: the source address, option or not */
	expect_loc(&conf, ECS4_24, sizeof(ECS4_24), &c4, ENGINE_LOC_ADDR,
		   AF_INET, 32, "198.51.100.7");
	expect_loc(&conf, NULL, 0, &c6, ENGINE_LOC_ADDR, AF_INET6, 128,
		   "2001:db8::9");
	expect_loc(&conf, NULL, 0, NULL, ENGINE_LOC_NONE, 0, 0, NULL);

	conf.ecs = 1;
	expect_loc(&conf, NULL, 0, &c4, ENGINE_LOC_ADDR, AF_INET, 32,
		   "198.51.100.7");
	expect_loc(&conf, ECS4_24, sizeof(ECS4_24), &c6, ENGINE_LOC_ECS,
		   AF_INET, 24, "192.0.2.0");
	expect_loc(&conf, ECS6_56, sizeof(ECS6_56), &c4, ENGINE_LOC_ECS,
		   AF_INET6, 56, "2001:db8:1:2300::");
	/* SOURCE 0: nowhere */
	expect_loc(&conf, v4_0, sizeof(v4_0), &c4, ENGINE_LOC_NONE, 0, 0, NULL);
	expect_loc(&conf, v6_0, sizeof(v6_0), &c6, ENGINE_LOC_NONE, 0, 0, NULL);

	/* the caps, defaults /24 and /56: longer sources are cut */
	expect_loc(&conf, v4_32, sizeof(v4_32), &c4, ENGINE_LOC_ECS, AF_INET,
		   24, "192.0.255.0");
	expect_loc(&conf, v6_64, sizeof(v6_64), &c4, ENGINE_LOC_ECS, AF_INET6,
		   56, "2001:db8:1:2300::");
	conf.ecs_v4_cap = 20;
	conf.ecs_v6_cap = 60;
	expect_loc(&conf, v4_32, sizeof(v4_32), &c4, ENGINE_LOC_ECS, AF_INET,
		   20, "192.0.240.0");
	expect_loc(&conf, v6_64, sizeof(v6_64), &c4, ENGINE_LOC_ECS, AF_INET6,
		   60, "2001:db8:1:23f0::");
	expect_loc(&conf, ECS4_24, sizeof(ECS4_24), &c4, ENGINE_LOC_ECS, AF_INET,
		   20, "192.0.0.0");
	conf.ecs_v4_cap = 0;                    /* 0: the default */
	conf.ecs_v6_cap = 200;                  /* past the width: the width */
	expect_loc(&conf, v4_32, sizeof(v4_32), &c4, ENGINE_LOC_ECS, AF_INET,
		   24, "192.0.255.0");
	expect_loc(&conf, v6_64, sizeof(v6_64), &c4, ENGINE_LOC_ECS, AF_INET6,
		   64, "2001:db8:1:23ff::");
	expect_loc(&conf, v6_100, sizeof(v6_100), &c4, ENGINE_LOC_ECS, AF_INET6,
		   100, "2001:db8:1:23ff:aabb:ccdd:e000:0");
	conf.ecs_v6_cap = 98;                   /* inside the option's last byte */
	expect_loc(&conf, v6_100, sizeof(v6_100), &c4, ENGINE_LOC_ECS, AF_INET6,
		   98, "2001:db8:1:23ff:aabb:ccdd:c000:0");
	conf.ecs_v6_cap = 40;                   /* inside the first word */
	expect_loc(&conf, v6_100, sizeof(v6_100), &c4, ENGINE_LOC_ECS, AF_INET6,
		   40, "2001:db8::");
	conf.ecs_v4_cap = 1;
	expect_loc(&conf, v4_32, sizeof(v4_32), &c4, ENGINE_LOC_ECS, AF_INET,
		   1, "128.0.0.0");
	conf.ecs_v4_cap = 32;
	expect_loc(&conf, v4_32, sizeof(v4_32), &c4, ENGINE_LOC_ECS, AF_INET,
		   32, "192.0.255.77");

	/* no location where there is no answer */
	o = ecs_q(&conf, (const uint8_t *)"\x00\x08\x00\x04\x00\x03\x00\x00", 8);
	n = build_query(q, &o, "www.example.com.", RRTYPE_A);
	assert_int_equal(engine_locate(&conf, q, n, &c4, &loc), 1);
	o = ecs_q(&conf, ECS4_24, sizeof(ECS4_24));
	o.version = 1;
	n = build_query(q, &o, "www.example.com.", RRTYPE_A);
	assert_int_equal(engine_locate(&conf, q, n, &c4, &loc), 16);
	q[2] |= 0x80;
	assert_int_equal(engine_locate(&conf, q, n, &c4, &loc), -1);
}

/* ---- the shared corpus ------------------------------------------------------------------- */

static void corpus_one(const uint8_t *q, size_t n)
{
	static const struct { uint8_t tcp; size_t cap; } runs[] = {
		{ 0, 65535 }, { 1, 65535 }, { 0, 512 }, { 0, 100 },
	};
	struct engine_conf conf = F.conf;

	conf.nsid = (const uint8_t *)"corpus";
	conf.nsid_len = 6;
	conf.version = "v";
	conf.ecs_scope_test = 24;
	for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
		struct engine_client c = { .transport = runs[r].tcp };

		conf.ecs = r & 1;
		size_t len = engine_answer(&conf, F.s, q, n, &c, OUT, runs[r].cap, &R);

		if (!len)
			continue;
		assert_true(len <= runs[r].cap);
		assert_true(runs[r].tcp || len <= 4096);
		assert_int_equal(parse_msg(OUT, len, &M), 0);
		assert_int_equal(M.id, g16(q));
	}
}

static void test_corpus(void **state)
{
	const char *root = getenv("SOURCE_ROOT");
	char dir[4096], path[4400];
	struct dirent *e;
	unsigned files = 0;
	DIR *d;

	(void)state;
	if (!root)
		root = ".";
	snprintf(dir, sizeof(dir), "%s/../shared/corpus/bind-dns-message-parse",
		 root);
	d = opendir(dir);
	if (!d)
		fail_msg("corpus directory %s is missing: the engine tests need "
			 "the shared BIND seeds", dir);
	while ((e = readdir(d))) {
		static uint8_t buf[70000];
		FILE *f;
		size_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		assert_non_null(f);
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		corpus_one(buf, n);
		files++;
	}
	closedir(d);
	if (files < 100)
		fail_msg("corpus %s has %u files, expected 300", dir, files);
	print_message("corpus: %u files answered\n", files);
}

/* ---- speed ----------------------------------------------------------------------------------- */

static double now(void)
{
	struct timespec ts;

	/* CPU time of this thread: other work on the machine does not count */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench(const char *what, const struct qspec *o, const char *name,
		  uint16_t qtype, unsigned iters)
{
	struct engine_client c = { .transport = ENGINE_UDP };
	uint8_t q[512];
	size_t n = build_query(q, o, name, qtype), sum = 0;
	double t0 = now(), dt;

	for (unsigned i = 0; i < iters; i++) {
		q[1] = (uint8_t)i;
		sum += engine_answer(&F.conf, F.s, q, n, &c, OUT, 1500, NULL);
	}
	dt = now() - t0;
	assert_true(sum > 0);
	print_message("speed: %-20s %6.2f M answers/s per core (%.0f ns)\n", what,
		      iters / dt / 1e6, dt / iters * 1e9);
}

static void test_speed(void **state)
{
	const char *env = getenv("ENGINE_BENCH_ITERS");
	unsigned iters = env ? (unsigned)strtoul(env, NULL, 10) : 1000000;

	(void)state;
	bench("www A", &UDP, "www.example.com.", RRTYPE_A, iters);
	bench("www A, EDNS", &UDP_EDNS, "www.example.com.", RRTYPE_A, iters);
	bench("NXDOMAIN", &UDP, "nothere.example.com.", RRTYPE_A, iters);
	bench("wildcard", &UDP, "foo.w.example.com.", RRTYPE_A, iters);
	bench("referral + glue", &UDP, "host.sub.example.com.", RRTYPE_A, iters);
	bench("CNAME chain x2", &UDP, "c1.example.com.", RRTYPE_A, iters);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact),
		cmocka_unit_test(test_case_preserved),
		cmocka_unit_test(test_nxdomain),
		cmocka_unit_test(test_nodata),
		cmocka_unit_test(test_wildcard),
		cmocka_unit_test(test_cname),
		cmocka_unit_test(test_cname_links),
		cmocka_unit_test(test_cname_loops),
		cmocka_unit_test(test_cname_cross),
		cmocka_unit_test(test_dname),
		cmocka_unit_test(test_referral),
		cmocka_unit_test(test_ds_parent_side),
		cmocka_unit_test(test_additional),
		cmocka_unit_test(test_glue_case),
		cmocka_unit_test(test_glue_required),
		cmocka_unit_test(test_far_offsets),
		cmocka_unit_test(test_any),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_edns),
		cmocka_unit_test(test_badvers),
		cmocka_unit_test(test_formerr),
		cmocka_unit_test(test_notimp),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_chaos),
		cmocka_unit_test(test_drop_and_servfail),
		cmocka_unit_test(test_header_bits),
		cmocka_unit_test(test_in_place),
		cmocka_unit_test(test_burst_same),
		cmocka_unit_test(test_ecs_echo),
		cmocka_unit_test(test_ecs_formerr),
		cmocka_unit_test(test_ecs_kinds),
		cmocka_unit_test(test_ecs_scope),
		cmocka_unit_test(test_ecs_locate),
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_speed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
