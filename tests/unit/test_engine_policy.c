/*
 * test_engine_policy.c — traffic policies answered by the engine, end to
 * end: snapshots compiled in process from zone text, a policy file and
 * client tables (geolocation, latency laid out by hand per latency.h,
 * coordinates), queried with engine_answer / engine_answer_burst, and the
 * responses parsed from the wire: which records, their TTL, the ECS echo
 * and its SCOPE, NODATA with the SOA, TC, and engine_result.policy.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "dname.h"
#include "engine.h"
#include "geo.h"
#include "latency.h"
#include "policy.h"
#include "rdata.h"
#include "snap.h"
#include "zone.h"

/* ---- snapshots -------------------------------------------------------------- */

static const char zone_example[] =
	"$ORIGIN example.com.\n$TTL 3600\n"
	"@ SOA ns1 hostmaster 1 7200 900 1209600 300\n"
	"@ NS ns1\n"
	"ns1 A 192.0.2.1\n";

static const char zone_pol[] =
	"$ORIGIN pol.test.\n$TTL 3600\n"
	"@ SOA ns hostmaster 1 7200 900 1209600 300\n"
	"@ NS ns\n"
	"ns A 192.0.2.53\n"
	"host A 192.0.2.80\n"
	"host AAAA 2001:db8::80\n"
	"static A 192.0.2.81\n";

/* The test's own policies (pol.test); "big" gets its 32 members from
 * pol_text(). */
static const char pol_yaml[] =
	"checks:\n"
	"  c0: { type: tcp, target: 192.0.2.1, port: 80 }\n"
	"  c1: { type: tcp, target: 192.0.2.2, port: 80 }\n"
	"records:\n"
	"  - name: w.pol.test.\n    type: A\n    ttl: 20\n    policy:\n"
	"      routing: weighted\n      members:\n"
	"        - { address: 192.0.2.1, weight: 2 }\n"
	"        - { address: 192.0.2.2, weight: 3 }\n"
	"        - { address: 192.0.2.3, weight: 5 }\n"
	"  - name: s.pol.test.\n    type: A\n    policy:\n"
	"      routing: simple\n      members:\n"
	"        - address: 192.0.2.1\n        - address: 192.0.2.2\n"
	"        - address: 192.0.2.3\n"
	"  - name: mv.pol.test.\n    type: AAAA\n    policy:\n"
	"      routing: multivalue\n      max: 2\n      members:\n"
	"        - address: 2001:db8::1\n        - address: 2001:db8::2\n"
	"        - address: 2001:db8::3\n        - address: 2001:db8::4\n"
	"        - address: 2001:db8::5\n"
	"  - name: closed.pol.test.\n    type: A\n    policy:\n"
	"      routing: simple\n      fail_open: false\n      members:\n"
	"        - { address: 192.0.2.1, check: c0 }\n"
	"        - { address: 192.0.2.2, check: c1 }\n"
	"  - name: fo.pol.test.\n    type: A\n    ttl: 45\n    policy:\n"
	"      routing: failover\n      members:\n"
	"        - { address: 192.0.2.1, check: c0 }\n"
	"        - { address: 192.0.2.2, check: c1 }\n"
	"      last_resort:\n        - name: host.pol.test.\n"
	"  - name: alias.pol.test.\n    type: CNAME\n    ttl: 33\n    policy:\n"
	"      routing: simple\n      members:\n        - name: host.pol.test.\n"
	"  - name: calias.pol.test.\n    type: CNAME\n    policy:\n"
	"      routing: simple\n      fail_open: false\n      members:\n"
	"        - { name: host.pol.test., check: c0 }\n"
	"  - name: geo.pol.test.\n    type: A\n    ttl: 10\n    policy:\n"
	"      routing: geolocation\n      members:\n"
	"        - { continent: EU, address: 192.0.2.10 }\n"
	"        - { country: US, address: 192.0.2.20 }\n"
	"        - { default: true, address: 192.0.2.30 }\n"
	"  - name: loop1.pol.test.\n    type: A\n    policy:\n"
	"      routing: simple\n      members:\n        - name: loop2.pol.test.\n"
	"  - name: loop2.pol.test.\n    type: CNAME\n    policy:\n"
	"      routing: simple\n      members:\n        - name: loop1.pol.test.\n"
	"  - name: ext.pol.test.\n    type: A\n    ttl: 30\n    policy:\n"
	"      routing: simple\n      members:\n        - alias: lb.cloud.example.net.\n"
	"  - name: ext.pol.test.\n    type: AAAA\n    ttl: 30\n    policy:\n"
	"      routing: simple\n      members:\n        - alias: LB.cloud.example.net.\n"
	"  - name: inz.pol.test.\n    type: A\n    ttl: 31\n    policy:\n"
	"      routing: simple\n      members:\n        - alias: host.pol.test.\n"
	"  - name: big.pol.test.\n    type: AAAA\n    policy:\n"
	"      routing: simple\n      members:\n";

#define BIG_MEMBERS 32

static char *pol_text(void)
{
	size_t cap = sizeof(pol_yaml) + BIG_MEMBERS * 64, n;
	char *t = malloc(cap);

	assert_non_null(t);
	n = (size_t)snprintf(t, cap, "%s", pol_yaml);
	for (int i = 0; i < BIG_MEMBERS; i++)
		n += (size_t)snprintf(t + n, cap - n, "        - address: 2001:db8:b::%x\n", i + 1);
	assert_true(n < cap);
	return t;
}

/* Client tables. GEO: where 10.x networks are; LATENCY: rows for
 * eu-central, us-east, us-west; COORDS: Paris, New York, San Francisco. */
static const struct { const char *prefix, *loc; } geo_rows[] = {
	{ "10.1.0.0/16", "EU-DE" },
	{ "10.2.0.0/16", "NA-US-VA" },
	{ "10.3.0.0/20", "EU-FR" },
	{ "10.10.0.0/16", "AS-JP" },
	{ "2001:db8:e0::/48", "EU-DE" },
};

static const struct { const char *prefix; uint32_t row; } lat_rows[] = {
	{ "10.1.0.0/16", 0 }, { "10.2.0.0/16", 1 }, { "10.4.0.0/18", 2 },
};
static const uint32_t lat_values[3][3] = {
	{ 10, 80, 150 },     /* Frankfurt closest */
	{ 90, 5, 60 },       /* Virginia, then Oregon */
	{ 200, 70, 20 },     /* Oregon */
};

static const struct { const char *prefix; double lat, lon; } coord_rows[] = {
	{ "10.5.0.0/16", 48.85, 2.35 },
	{ "10.6.0.0/16", 40.71, -74.00 },
	{ "10.7.0.0/17", 37.77, -122.42 },
};

static void builder_add(struct geo_builder *b, const char *prefix, uint32_t value)
{
	uint8_t addr[16];
	unsigned plen;
	int fam;
	char err[128];

	assert_int_equal(geo_parse_prefix(prefix, &fam, addr, &plen, err, sizeof(err)), 0);
	assert_int_equal(geo_builder_add(b, fam, addr, plen, value, GEO_LAYER_MAP), 0);
}

static void geo_blob(int kind, uint8_t **out, size_t *len)
{
	struct geo_builder *b;
	uint32_t v;

	assert_int_equal(geo_builder_new(&b), 0);
	if (kind == SNAP_SECT_GEO) {
		for (size_t i = 0; i < sizeof(geo_rows) / sizeof(geo_rows[0]); i++) {
			assert_int_equal(geo_loc_parse(geo_rows[i].loc, &v), 0);
			builder_add(b, geo_rows[i].prefix, v);
		}
	} else if (kind == SNAP_SECT_COORDS) {
		for (size_t i = 0; i < sizeof(coord_rows) / sizeof(coord_rows[0]); i++)
			builder_add(b, coord_rows[i].prefix,
				    geo_coord_pack(coord_rows[i].lat, coord_rows[i].lon));
	} else {
		for (size_t i = 0; i < sizeof(lat_rows) / sizeof(lat_rows[0]); i++)
			builder_add(b, lat_rows[i].prefix, lat_rows[i].row);
	}
	assert_int_equal(geo_builder_serialize(b, out, len), 0);
	geo_builder_free(b);
}

/* A latency table laid out as latency.h says: header, rows, geo blob. */
static void latency_blob(uint8_t **out, size_t *len)
{
	struct latency_header h = { .version_major = LATENCY_VERSION_MAJOR,
				    .version_minor = LATENCY_VERSION_MINOR,
				    .nregions = 3, .nrows = 3 };
	uint8_t *geo, *b;
	size_t glen;

	geo_blob(SNAP_SECT_LATENCY, &geo, &glen);
	memcpy(h.magic, LATENCY_MAGIC, 8);
	h.rows = sizeof(h);
	h.geo = (uint32_t)((h.rows + sizeof(lat_values) + 7) / 8 * 8);
	h.geo_len = (uint32_t)glen;
	*len = h.geo + glen;
	b = calloc(1, *len);
	assert_non_null(b);
	memcpy(b, &h, sizeof(h));
	memcpy(b + h.rows, lat_values, sizeof(lat_values));
	memcpy(b + h.geo, geo, glen);
	free(geo);
	*out = b;
}

struct built {
	uint8_t *blob;
	size_t len;
	struct snap *s;
};

/* Zone text + policy text + the tables named in kinds (SNAP_SECT_*, 0-ended)
 * -> an open snapshot. Returns snap_compile's result: the caller may try
 * again without a table the compiler refuses. */
static int build(struct built *out, const char *zone_text, const char *policy_text,
		 const uint32_t *kinds)
{
	struct snap_section_in sec[4];
	struct snap_compile_opts co = { .serial = 1, .sections = sec };
	struct zone *z = NULL;
	struct diag d;
	uint8_t *pblob;
	size_t plen;
	int ret;

	diag_init(&d, stderr);
	d.hide_warnings = 1;
	if (policy_compile_text("test.yaml", policy_text, strlen(policy_text), &d, &pblob,
				&plen) < 0)
		fail_msg("policy: %s", d.first);
	assert_int_equal(zone_parse_string(zone_text, strlen(zone_text), "test", NULL, &d, &z), 0);
	if (snap_policy_prepare(&z, 1, pblob, plen, &d) < 0)
		fail_msg("prepare: %s", d.first);
	assert_int_equal(zone_check(z, NULL, &d), 0);
	sec[co.nsections++] = (struct snap_section_in){ SNAP_SECT_POLICY, pblob, plen };
	for (; *kinds; kinds++) {
		uint8_t *b;
		size_t l;

		if (*kinds == SNAP_SECT_LATENCY)
			latency_blob(&b, &l);
		else
			geo_blob((int)*kinds, &b, &l);
		sec[co.nsections++] = (struct snap_section_in){ *kinds, b, l };
	}
	ret = snap_compile(&z, 1, &co, &d, &out->blob, &out->len);
	if (ret == 0 && snap_open_mem(out->blob, out->len, &d, &out->s) < 0)
		fail_msg("open: %s", d.first);
	for (size_t i = 0; i < co.nsections; i++)
		free((void *)sec[i].data);
	zone_free(z);
	return ret;
}

static void unbuild(struct built *b)
{
	snap_close(b->s);
	free(b->blob);
}

static struct built EX, POL;     /* the example policy file; the test's own */

/* Health words: the example's nine checks, and c0, c1. */
enum { FRA_WEB1, FRA_WEB2, FRA_DB, FRA_WEB, FRA, AMS, IAD1, IAD2, PDX, NCHECKS };
static uint8_t ex_health[NCHECKS], pol_health[2];

static int setup(void **state)
{
	static const uint32_t ex_kinds[] = { SNAP_SECT_GEO, SNAP_SECT_LATENCY,
					     SNAP_SECT_COORDS, 0 };
	static const uint32_t ex_kinds_no_coords[] = { SNAP_SECT_GEO, SNAP_SECT_LATENCY, 0 };
	static const uint32_t pol_kinds[] = { SNAP_SECT_GEO, 0 };
	const char *root = getenv("SOURCE_ROOT");
	char path[512], *text;
	FILE *f;
	long n;

	(void)state;
	snprintf(path, sizeof(path), "%s/zones/examples/policy.yaml", root ? root : ".");
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	text = malloc((size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
	text[n] = 0;
	fclose(f);
	/* Without its coordinates the snapshot still serves the other tests;
	 * test_geoproximity fails then. */
	if (build(&EX, zone_example, text, ex_kinds) < 0)
		assert_int_equal(build(&EX, zone_example, text, ex_kinds_no_coords), 0);
	free(text);
	text = pol_text();
	assert_int_equal(build(&POL, zone_pol, text, pol_kinds), 0);
	free(text);
	memset(ex_health, 1, sizeof(ex_health));
	memset(pol_health, 1, sizeof(pol_health));
	snap_set_health(EX.s, ex_health, NCHECKS);
	snap_set_health(POL.s, pol_health, 2);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unbuild(&EX);
	unbuild(&POL);
	return 0;
}

/* ---- queries -------------------------------------------------------------- */

struct ask {
	const char *ecs;        /* "10.1.2.0/24": an ECS option with this prefix */
	const char *src;        /* the source address; NULL: 192.0.2.200 */
	int no_edns;
	int tcp;
	size_t cap;             /* 0: 65535 */
};

/* An ECS option for "ADDR/LEN" (address bits beyond LEN must be zero). */
static size_t ecs_option(uint8_t *p, const char *prefix)
{
	uint8_t addr[16];
	unsigned plen;
	int fam;
	char err[128];
	size_t nb;

	assert_int_equal(geo_parse_prefix(prefix, &fam, addr, &plen, err, sizeof(err)), 0);
	nb = (plen + 7) / 8;
	p[0] = 0;
	p[1] = 8;
	p[2] = 0;
	p[3] = (uint8_t)(4 + nb);
	p[4] = 0;
	p[5] = fam == AF_INET6 ? 2 : 1;
	p[6] = (uint8_t)plen;
	p[7] = 0;
	memcpy(p + 8, addr, nb);
	return 8 + nb;
}

static size_t make_query(uint8_t *q, const char *name, uint16_t qtype, const struct ask *o,
			 uint16_t id)
{
	size_t n = 12;
	int len = dname_from_text(name, strlen(name), NULL, q + 12);

	assert_true(len > 0);
	memset(q, 0, 12);
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	q[5] = 1;
	q[11] = o->no_edns ? 0 : 1;
	n += (size_t)len;
	q[n++] = (uint8_t)(qtype >> 8);
	q[n++] = (uint8_t)qtype;
	q[n++] = 0;
	q[n++] = RRCLASS_IN;
	if (!o->no_edns) {
		uint8_t opt[32];
		size_t ol = o->ecs ? ecs_option(opt, o->ecs) : 0;

		memcpy(q + n, "\x00\x00\x29\x04\xd0\x00\x00\x00\x00", 9);
		n += 9;
		q[n++] = (uint8_t)(ol >> 8);
		q[n++] = (uint8_t)ol;
		memcpy(q + n, opt, ol);
		n += ol;
	}
	return n;
}

static void make_client(struct engine_client *c, const struct ask *o)
{
	const char *src = o->src ? o->src : "192.0.2.200";

	memset(c, 0, sizeof(*c));
	c->transport = o->tcp ? ENGINE_TCP : ENGINE_UDP;
	c->port = 40000;
	c->family = strchr(src, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(c->family, src, c->addr), 1);
}

/* ---- the response, parsed -------------------------------------------------- */

#define MAXRR 64

struct rr {
	char owner[DNAME_TEXT_MAX];
	uint16_t type;
	uint32_t ttl;
	char data[DNAME_TEXT_MAX];  /* address, name or first TXT string */
	int sec;                     /* 0 answer, 1 authority, 2 additional */
};

struct msg {
	uint8_t rcode, aa, tc;
	uint16_t an, ns, ar;
	size_t nrr;
	struct rr rr[MAXRR];
	int ecs;                     /* an ECS option was echoed */
	uint8_t ecs_source, ecs_scope;
};

static uint8_t OUT[65536];
static struct engine_result R;
static struct msg M;

static uint16_t g16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* A possibly compressed name at *pos into text; -1 if malformed. */
static int read_name(const uint8_t *m, size_t len, size_t *pos, char *text)
{
	uint8_t w[DNAME_MAXLEN];
	size_t p = *pos, n = 0;
	int hops = 0;

	for (;;) {
		uint8_t l;

		if (p >= len)
			return -1;
		l = m[p];
		if ((l & 0xc0) == 0xc0) {
			if (p + 1 >= len || ++hops > 64)
				return -1;
			if (hops == 1)
				*pos = p + 2;
			p = (size_t)(l & 0x3f) << 8 | m[p + 1];
			continue;
		}
		if (n + 1 + l > DNAME_MAXLEN || p + 1 + l > len)
			return -1;
		memcpy(w + n, m + p, 1u + l);
		n += 1u + l;
		p += 1u + l;
		if (!l)
			break;
	}
	if (!hops)
		*pos = p;
	return dname_to_text(w, text, DNAME_TEXT_MAX) < 0 ? -1 : 0;
}

static void rdata_text(const uint8_t *m, size_t len, size_t rd, uint16_t type, uint16_t rdlen,
		       char *out)
{
	size_t p = rd;

	out[0] = 0;
	if (type == RRTYPE_A && rdlen == 4)
		inet_ntop(AF_INET, m + rd, out, DNAME_TEXT_MAX);
	else if (type == RRTYPE_AAAA && rdlen == 16)
		inet_ntop(AF_INET6, m + rd, out, DNAME_TEXT_MAX);
	else if (type == RRTYPE_CNAME || type == RRTYPE_NS)
		assert_int_equal(read_name(m, len, &p, out), 0);
	else if (type == RRTYPE_TXT && rdlen)
		snprintf(out, DNAME_TEXT_MAX, "%.*s", m[rd], (const char *)m + rd + 1);
}

static void read_opt(const uint8_t *rd, uint16_t rdlen)
{
	for (size_t p = 0; p + 4 <= rdlen;) {
		uint16_t code = g16(rd + p), olen = g16(rd + p + 2);

		assert_true(p + 4 + olen <= rdlen);
		if (code == 8) {
			assert_true(olen >= 4);
			M.ecs = 1;
			M.ecs_source = rd[p + 6];
			M.ecs_scope = rd[p + 7];
		}
		p += 4u + olen;
	}
}

static void parse(const uint8_t *m, size_t len)
{
	size_t pos = 12;
	char qn[DNAME_TEXT_MAX];

	memset(&M, 0, sizeof(M));
	assert_true(len >= 12);
	M.rcode = m[3] & 0xf;
	M.aa = (m[2] >> 2) & 1;
	M.tc = (m[2] >> 1) & 1;
	M.an = g16(m + 6);
	M.ns = g16(m + 8);
	M.ar = g16(m + 10);
	assert_int_equal(g16(m + 4), 1);
	assert_int_equal(read_name(m, len, &pos, qn), 0);
	pos += 4;
	for (unsigned i = 0; i < (unsigned)M.an + M.ns + M.ar; i++) {
		struct rr *r = &M.rr[M.nrr];
		uint16_t rdlen;

		assert_true(M.nrr < MAXRR);
		assert_int_equal(read_name(m, len, &pos, r->owner), 0);
		assert_true(pos + 10 <= len);
		r->type = g16(m + pos);
		r->ttl = (uint32_t)g16(m + pos + 4) << 16 | g16(m + pos + 6);
		rdlen = g16(m + pos + 8);
		pos += 10;
		assert_true(pos + rdlen <= len);
		r->sec = i < M.an ? 0 : i < (unsigned)M.an + M.ns ? 1 : 2;
		if (r->type == RRTYPE_OPT)
			read_opt(m + pos, rdlen);
		else
			rdata_text(m, len, pos, r->type, rdlen, r->data);
		pos += rdlen;
		M.nrr++;
	}
	assert_int_equal(pos, len);
}

static size_t answer(const struct snap *s, const char *name, uint16_t qtype,
		     const struct ask *o)
{
	static const struct ask none;
	struct engine_conf conf;
	struct engine_client c;
	uint8_t q[512];
	size_t ql, n;

	if (!o)
		o = &none;
	engine_conf_init(&conf);
	conf.ecs = 1;
	ql = make_query(q, name, qtype, o, 0x5353);
	make_client(&c, o);
	n = engine_answer(&conf, s, q, ql, &c, OUT, o->cap ? o->cap : sizeof(OUT), &R);
	assert_true(n > 0);
	parse(OUT, n);
	return n;
}

/* Text of the i-th answer RR's data (the first one of the given type). */
static const char *an_data(uint16_t type)
{
	for (size_t i = 0; i < M.nrr; i++)
		if (M.rr[i].sec == 0 && M.rr[i].type == type)
			return M.rr[i].data;
	return "(none)";
}

static unsigned an_count(uint16_t type)
{
	unsigned n = 0;

	for (size_t i = 0; i < M.nrr; i++)
		n += M.rr[i].sec == 0 && M.rr[i].type == type;
	return n;
}

/* NODATA: NOERROR, nothing in the answer, the zone's SOA in authority. */
static void expect_nodata(const char *apex)
{
	assert_int_equal(M.rcode, 0);
	assert_int_equal(M.an, 0);
	assert_int_equal(R.kind, ENGINE_KIND_NODATA);
	assert_true(M.nrr >= 1);
	assert_int_equal(M.rr[0].sec, 1);
	assert_int_equal(M.rr[0].type, RRTYPE_SOA);
	assert_string_equal(M.rr[0].owner, apex);
}

/* ---- weighted, simple, multivalue ------------------------------------------ */

#define DRAWS 1000000

/* Over a million queries the shares of 192.0.2.1/.2/.3 stay within 1 % of
 * the weights 2:3:5 (their standard deviation is below 0.25 %). */
static void test_weighted(void **state)
{
	static const double want[3] = { 0.2, 0.3, 0.5 };
	struct engine_conf conf;
	struct engine_client c;
	struct ask o = { 0 };
	uint8_t q[512];
	size_t ql, count[3] = { 0 };

	(void)state;
	engine_conf_init(&conf);
	ql = make_query(q, "w.pol.test.", RRTYPE_A, &o, 1);
	make_client(&c, &o);
	for (long i = 0; i < DRAWS; i++) {
		size_t n = engine_answer(&conf, POL.s, q, ql, &c, OUT, sizeof(OUT), &R);

		/* header, question (16), then one compressed A RR */
		assert_int_equal(n, 12 + 16 + 16 + 11);
		assert_int_equal(g16(OUT + 6), 1);
		assert_int_equal(R.policy, ENGINE_POLICY_ANSWERED);
		assert_memory_equal(OUT + 28 + 12, "\xc0\x00\x02", 3);
		assert_in_range(OUT[28 + 15], 1, 3);
		count[OUT[28 + 15] - 1]++;
	}
	for (int k = 0; k < 3; k++) {
		double share = (double)count[k] / DRAWS;

		if (share < want[k] * 0.99 || share > want[k] * 1.01)
			fail_msg("192.0.2.%d: %.4f of the answers, weight share %.2f", k + 1, share,
				 want[k]);
	}
	answer(POL.s, "w.pol.test.", RRTYPE_A, NULL);
	assert_int_equal(M.an, 1);
	assert_int_equal(M.rr[0].ttl, 20);             /* the record's TTL */
	assert_true(M.aa);
}

/* simple: every member each time, each one first about as often. */
static void test_simple_rotation(void **state)
{
	const int n = 30000;
	int first[3] = { 0 };

	(void)state;
	for (int i = 0; i < n; i++) {
		answer(POL.s, "s.pol.test.", RRTYPE_A, NULL);
		assert_int_equal(M.an, 3);
		assert_int_equal(R.kind, ENGINE_KIND_ANSWER);
		assert_int_equal(M.rr[0].ttl, 60);     /* the default policy TTL */
		for (int k = 0; k < 3; k++) {
			char want[16];

			snprintf(want, sizeof(want), "192.0.2.%d", k + 1);
			int seen = 0;
			for (int j = 0; j < 3; j++)
				seen += !strcmp(M.rr[j].data, want);
			assert_int_equal(seen, 1);
			first[k] += !strcmp(M.rr[0].data, want);
		}
	}
	for (int k = 0; k < 3; k++)
		assert_in_range(first[k], n / 3 * 95 / 100, n / 3 * 105 / 100);
}

/* multivalue, max 2 of 5: two distinct members, every member served
 * equally often; unhealthy ones never while others are up. */
static void test_multivalue_rotation(void **state)
{
	const int n = 25000;
	int served[5] = { 0 };

	(void)state;
	for (int i = 0; i < n; i++) {
		answer(POL.s, "mv.pol.test.", RRTYPE_AAAA, NULL);
		assert_int_equal(M.an, 2);
		assert_string_not_equal(M.rr[0].data, M.rr[1].data);
		for (int j = 0; j < 2; j++) {
			unsigned k;

			assert_int_equal(sscanf(M.rr[j].data, "2001:db8::%u", &k), 1);
			assert_in_range(k, 1, 5);
			served[k - 1]++;
		}
	}
	for (int k = 0; k < 5; k++)
		assert_in_range(served[k], 2 * n / 5 * 95 / 100, 2 * n / 5 * 105 / 100);
}

/* ---- client location ---------------------------------------------------------- */

/* Geolocation by ECS: the answer for where the prefix is, the echo repeats
 * the source and claims the length of the table's prefix that decided. */
static void test_geo_ecs(void **state)
{
	static const struct {
		const char *ecs, *want;
		uint8_t scope;
	} cases[] = {
		{ "10.1.2.0/24", "192.0.2.10", 16 },      /* EU-DE: continent EU */
		{ "10.3.1.0/24", "192.0.2.10", 20 },      /* EU-FR in a /20 */
		{ "10.2.0.0/16", "192.0.2.20", 16 },      /* NA-US-VA: country US */
		{ "10.2.128.0/17", "192.0.2.20", 16 },
		{ "10.10.7.0/24", "192.0.2.30", 16 },     /* AS-JP: default */
		{ "2001:db8:e0:100::/56", "192.0.2.10", 48 },
		/* a source shorter than the table's prefix: looked up as
		 * sent (bits beyond it zero), and the scope claims no more
		 * than the client told */
		{ "10.3.0.0/18", "192.0.2.10", 18 },
		/* in no prefix of the table: the default answer, valid only
		 * for the client's own prefix (scope 0 would hand it to
		 * every client of the resolver, Europeans included) */
		{ "10.9.9.0/24", "192.0.2.30", 24 },
		{ "2001:db8:ff::/48", "192.0.2.30", 48 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ask o = { .ecs = cases[i].ecs, .src = "10.1.1.1" };

		answer(POL.s, "geo.pol.test.", RRTYPE_A, &o);
		if (strcmp(an_data(RRTYPE_A), cases[i].want) || !M.ecs ||
		    M.ecs_scope != cases[i].scope)
			fail_msg("ECS %s: answer %s, echo %d scope %u; want %s scope %u",
				 cases[i].ecs, an_data(RRTYPE_A), M.ecs, M.ecs_scope,
				 cases[i].want, cases[i].scope);
		assert_int_equal(M.an, 1);
		assert_int_equal(M.rr[0].ttl, 10);
		assert_int_equal(R.ecs, ENGINE_ECS_ECHO);
		assert_int_equal(R.ecs_scope, cases[i].scope);
		assert_int_equal(M.ecs_source, atoi(strchr(cases[i].ecs, '/') + 1));
		assert_int_equal(R.policy, ENGINE_POLICY_ANSWERED);
	}
	/* SOURCE PREFIX-LENGTH 0: no address may be used (RFC 7871 7.1.2),
	 * so the default for everyone, scope 0 */
	struct ask o0 = { .ecs = "0.0.0.0/0", .src = "10.1.1.1" };
	answer(POL.s, "geo.pol.test.", RRTYPE_A, &o0);
	assert_string_equal(an_data(RRTYPE_A), "192.0.2.30");
	assert_true(M.ecs);
	assert_int_equal(M.ecs_scope, 0);
	/* static data beside policies: scope 0, no policy flags */
	struct ask os = { .ecs = "10.1.2.0/24" };
	answer(POL.s, "static.pol.test.", RRTYPE_A, &os);
	assert_string_equal(an_data(RRTYPE_A), "192.0.2.81");
	assert_int_equal(M.ecs_scope, 0);
	assert_int_equal(R.policy, 0);
}

/* Without ECS the source address locates the client; nothing is echoed. */
static void test_geo_source(void **state)
{
	static const struct { const char *src, *want; } cases[] = {
		{ "10.1.200.3", "192.0.2.10" }, { "10.3.15.255", "192.0.2.10" },
		{ "10.3.16.1", "192.0.2.30" }, { "10.2.0.1", "192.0.2.20" },
		{ "2001:db8:e0::53", "192.0.2.10" }, { "192.0.2.200", "192.0.2.30" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ask o = { .src = cases[i].src };

		answer(POL.s, "geo.pol.test.", RRTYPE_A, &o);
		if (strcmp(an_data(RRTYPE_A), cases[i].want))
			fail_msg("source %s: %s, want %s", cases[i].src, an_data(RRTYPE_A),
				 cases[i].want);
		assert_false(M.ecs);
		assert_int_equal(R.ecs, ENGINE_ECS_NONE);
		/* ECS off: an ECS option is ignored, the source decides */
		struct engine_conf conf;
		struct engine_client c;
		struct ask oe = { .src = cases[i].src, .ecs = "10.2.0.0/16" };
		uint8_t q[512];
		size_t ql = make_query(q, "geo.pol.test.", RRTYPE_A, &oe, 7), n;

		engine_conf_init(&conf);
		make_client(&c, &oe);
		n = engine_answer(&conf, POL.s, q, ql, &c, OUT, sizeof(OUT), &R);
		parse(OUT, n);
		assert_string_equal(an_data(RRTYPE_A), cases[i].want);
		assert_false(M.ecs);
	}
}

/* ---- the GDPR example under health flips ------------------------------------ */

static int is_one_of(const char *a, const char *x, const char *y)
{
	return !strcmp(a, x) || (y && !strcmp(a, y));
}

static void gdpr_ask(const char *ecs)
{
	struct ask o = { .ecs = ecs };

	answer(EX.s, "www.example.com.", RRTYPE_A, &o);
	assert_int_equal(M.rcode, 0);
	assert_true(M.ecs);
}

static void test_gdpr_health(void **state)
{
	int fra1 = 0;

	(void)state;
	memset(ex_health, 1, sizeof(ex_health));
	for (int i = 0; i < 4000; i++) {          /* Frankfurt, 3:1 */
		gdpr_ask("10.1.2.0/24");
		assert_true(is_one_of(an_data(RRTYPE_A), "192.0.2.11", "192.0.2.12"));
		fra1 += !strcmp(an_data(RRTYPE_A), "192.0.2.11");
		assert_int_equal(M.rr[0].ttl, 60);
		assert_int_equal(M.ecs_scope, 16);
		assert_int_equal(R.policy, ENGINE_POLICY_ANSWERED);
	}
	assert_in_range(fra1, 2800, 3200);
	gdpr_ask("10.2.3.0/24");                   /* the US */
	assert_true(is_one_of(an_data(RRTYPE_A), "203.0.113.11", "203.0.113.12"));
	assert_int_equal(M.ecs_scope, 16);

	ex_health[FRA_WEB1] = 0;                   /* one web server down */
	for (int i = 0; i < 50; i++) {
		gdpr_ask("10.1.2.0/24");
		assert_string_equal(an_data(RRTYPE_A), "192.0.2.12");
	}
	ex_health[FRA] = 0;                        /* the database: Frankfurt down */
	gdpr_ask("10.1.2.0/24");
	assert_string_equal(an_data(RRTYPE_A), "198.51.100.11");
	assert_int_equal(R.policy, ENGINE_POLICY_ANSWERED);
	ex_health[AMS] = 0;                        /* all of Europe: the sorry page */
	gdpr_ask("10.3.0.0/24");
	assert_int_equal(M.an, 1);
	assert_string_equal(an_data(RRTYPE_CNAME), "sorry.example.net.");
	assert_int_equal(R.kind, ENGINE_KIND_ANSWER);
	assert_int_equal(R.policy, ENGINE_POLICY_ANSWERED | ENGINE_POLICY_LAST_RESORT |
			 ENGINE_POLICY_FAIL_OPEN);
	assert_int_equal(M.ecs_scope, 20);
	gdpr_ask("10.2.3.0/24");                   /* the US does not care */
	assert_true(is_one_of(an_data(RRTYPE_A), "203.0.113.11", "203.0.113.12"));
	assert_int_equal(R.policy, ENGINE_POLICY_ANSWERED);

	ex_health[IAD1] = ex_health[IAD2] = 0;     /* Virginia down: Oregon */
	gdpr_ask("10.2.3.0/24");
	assert_string_equal(an_data(RRTYPE_A), "203.0.113.71");
	ex_health[PDX] = 0;                        /* everything down: fail open */
	gdpr_ask("10.2.3.0/24");
	assert_true(is_one_of(an_data(RRTYPE_A), "203.0.113.11", "203.0.113.12"));
	assert_int_equal(R.policy, ENGINE_POLICY_ANSWERED | ENGINE_POLICY_FAIL_OPEN);
	ex_health[IAD2] = 1;                       /* one back: answers move at once */
	for (int i = 0; i < 50; i++) {
		gdpr_ask("10.2.3.0/24");
		assert_string_equal(an_data(RRTYPE_A), "203.0.113.12");
		assert_int_equal(R.policy, ENGINE_POLICY_ANSWERED);
	}
	ex_health[FRA] = 1;                        /* Frankfurt's database back */
	gdpr_ask("10.1.2.0/24");
	assert_string_equal(an_data(RRTYPE_A), "192.0.2.12");
	/* without words attached every check counts as healthy */
	snap_set_health(EX.s, NULL, 0);
	assert_null(snap_policy_view(EX.s)->health);
	assert_int_equal(snap_policy_view(EX.s)->nhealth, 0);
	gdpr_ask("10.2.3.0/24");
	assert_true(is_one_of(an_data(RRTYPE_A), "203.0.113.11", "203.0.113.12"));
	memset(ex_health, 1, sizeof(ex_health));
	snap_set_health(EX.s, ex_health, NCHECKS);
	/* the view the engine reads is what the accessors say */
	assert_ptr_equal(snap_policy_view(EX.s)->health, ex_health);
	assert_int_equal(snap_policy_view(EX.s)->nhealth, NCHECKS);
	assert_ptr_equal(snap_policy_view(EX.s)->policy, snap_policy(EX.s));
	assert_ptr_equal(snap_policy_view(EX.s)->geo, snap_geo(EX.s));
	assert_non_null(snap_policy_view(EX.s)->geo);
	assert_ptr_equal(snap_policy_view(EX.s)->coords, snap_coords(EX.s));
	assert_ptr_equal(snap_policy_view(EX.s)->latency, snap_latency(EX.s));
}

/* fail_open: false with every member down: NODATA with the SOA, flagged
 * empty; one member up: it alone. */
static void test_fail_closed(void **state)
{
	(void)state;
	pol_health[0] = pol_health[1] = 0;
	answer(POL.s, "closed.pol.test.", RRTYPE_A, NULL);
	expect_nodata("pol.test.");
	assert_true(M.aa);
	assert_int_equal(R.policy, ENGINE_POLICY_ANSWERED | ENGINE_POLICY_EMPTY);
	/* and for a CNAME policy: NODATA too, whatever type is asked */
	answer(POL.s, "calias.pol.test.", RRTYPE_A, NULL);
	expect_nodata("pol.test.");
	assert_int_equal(R.policy, ENGINE_POLICY_ANSWERED | ENGINE_POLICY_EMPTY);
	answer(POL.s, "calias.pol.test.", RRTYPE_CNAME, NULL);
	expect_nodata("pol.test.");
	pol_health[1] = 1;
	answer(POL.s, "closed.pol.test.", RRTYPE_A, NULL);
	assert_int_equal(M.an, 1);
	assert_string_equal(an_data(RRTYPE_A), "192.0.2.2");
	assert_int_equal(R.policy, ENGINE_POLICY_ANSWERED);
	/* other types at a policy name: plain NODATA, no policy involved */
	answer(POL.s, "closed.pol.test.", RRTYPE_AAAA, NULL);
	expect_nodata("pol.test.");
	assert_int_equal(R.policy, 0);
	pol_health[0] = 1;
}

/* ---- latency, geoproximity -------------------------------------------------- */

static void test_latency(void **state)
{
	static const struct {
		const char *ecs, *want;
		uint8_t scope;
	} cases[] = {
		{ "10.1.7.0/24", "192.0.2.11", 16 },      /* eu-central 10 */
		{ "10.2.7.0/24", "203.0.113.11", 16 },    /* us-east 5 */
		{ "10.4.0.0/24", "203.0.113.71", 18 },    /* us-west 20 */
		{ "10.8.0.0/24", "192.0.2.11", 24 },      /* no row: list order */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ask o = { .ecs = cases[i].ecs };

		answer(EX.s, "api.example.com.", RRTYPE_A, &o);
		if (strcmp(an_data(RRTYPE_A), cases[i].want) || M.ecs_scope != cases[i].scope)
			fail_msg("ECS %s: %s scope %u, want %s scope %u", cases[i].ecs,
				 an_data(RRTYPE_A), M.ecs_scope, cases[i].want, cases[i].scope);
		assert_int_equal(M.rr[0].ttl, 30);
	}
	/* us-east unhealthy: the next lowest of that row, us-west (60) */
	ex_health[IAD1] = 0;
	struct ask o = { .ecs = "10.2.7.0/24" };
	answer(EX.s, "api.example.com.", RRTYPE_A, &o);
	assert_string_equal(an_data(RRTYPE_A), "203.0.113.71");
	/* by source address as well */
	struct ask os = { .src = "10.4.1.1" };
	answer(EX.s, "api.example.com.", RRTYPE_A, &os);
	assert_string_equal(an_data(RRTYPE_A), "203.0.113.71");
	os.src = "10.1.1.1";
	answer(EX.s, "api.example.com.", RRTYPE_A, &os);
	assert_string_equal(an_data(RRTYPE_A), "192.0.2.11");
	ex_health[IAD1] = 1;
}

static void test_geoproximity(void **state)
{
	static const struct {
		const char *ecs, *want;
		uint8_t scope;
	} cases[] = {
		{ "10.5.1.0/24", "192.0.2.11", 16 },      /* Paris: Frankfurt */
		{ "10.6.1.0/24", "203.0.113.11", 16 },    /* New York: Virginia */
		{ "10.7.1.0/24", "203.0.113.71", 17 },    /* San Francisco: Oregon */
		{ "10.9.0.0/24", "192.0.2.11", 24 },      /* unknown: list order */
	};

	(void)state;
	if (!snap_coords(EX.s))
		fail_msg("snap_compile refused the SNAP_SECT_COORDS section");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ask o = { .ecs = cases[i].ecs };

		answer(EX.s, "cdn.example.com.", RRTYPE_A, &o);
		if (strcmp(an_data(RRTYPE_A), cases[i].want) || M.ecs_scope != cases[i].scope)
			fail_msg("ECS %s: %s scope %u, want %s scope %u", cases[i].ecs,
				 an_data(RRTYPE_A), M.ecs_scope, cases[i].want, cases[i].scope);
		assert_int_equal(M.an, 1);
		assert_int_equal(R.policy, ENGINE_POLICY_ANSWERED);
	}
}

/* ---- names, TTLs, truncation ---------------------------------------------- */

static void test_name_endpoint(void **state)
{
	(void)state;
	/* a CNAME policy: the CNAME with the record's TTL, then the target
	 * answered from the zone */
	answer(POL.s, "alias.pol.test.", RRTYPE_A, NULL);
	assert_int_equal(M.an, 2);
	assert_int_equal(M.rr[0].type, RRTYPE_CNAME);
	assert_string_equal(M.rr[0].owner, "alias.pol.test.");
	assert_string_equal(M.rr[0].data, "host.pol.test.");
	assert_int_equal(M.rr[0].ttl, 33);
	assert_int_equal(M.rr[1].type, RRTYPE_A);
	assert_string_equal(M.rr[1].owner, "host.pol.test.");
	assert_string_equal(M.rr[1].data, "192.0.2.80");
	assert_int_equal(M.rr[1].ttl, 3600);
	assert_int_equal(R.kind, ENGINE_KIND_ANSWER);
	answer(POL.s, "alias.pol.test.", RRTYPE_AAAA, NULL);
	assert_int_equal(M.an, 2);
	assert_string_equal(an_data(RRTYPE_AAAA), "2001:db8::80");
	answer(POL.s, "alias.pol.test.", RRTYPE_CNAME, NULL);
	assert_int_equal(M.an, 1);
	assert_string_equal(an_data(RRTYPE_CNAME), "host.pol.test.");

	/* an A policy whose last resort is a name: the CNAME, chased */
	pol_health[0] = pol_health[1] = 0;
	answer(POL.s, "fo.pol.test.", RRTYPE_A, NULL);
	assert_int_equal(R.policy, ENGINE_POLICY_ANSWERED | ENGINE_POLICY_LAST_RESORT);
	assert_int_equal(M.rr[0].type, RRTYPE_CNAME);
	assert_string_equal(M.rr[0].data, "host.pol.test.");
	assert_int_equal(M.rr[0].ttl, 45);
	assert_int_equal(M.an, 2);
	assert_string_equal(an_data(RRTYPE_A), "192.0.2.80");
	pol_health[0] = pol_health[1] = 1;
	answer(POL.s, "fo.pol.test.", RRTYPE_A, NULL);
	assert_int_equal(M.an, 1);
	assert_string_equal(an_data(RRTYPE_A), "192.0.2.1");
	assert_int_equal(M.rr[0].ttl, 45);

	/* a loop through policy names ends before repeating an RR */
	answer(POL.s, "loop1.pol.test.", RRTYPE_A, NULL);
	assert_int_equal(M.rcode, 0);
	assert_int_equal(M.an, 2);
	assert_string_equal(M.rr[0].owner, "loop1.pol.test.");
	assert_string_equal(M.rr[0].data, "loop2.pol.test.");
	assert_string_equal(M.rr[1].owner, "loop2.pol.test.");
	assert_string_equal(M.rr[1].data, "loop1.pol.test.");

	/* the example's canary: a weighted CNAME to a policy name in the zone
	 * (chased into www's own policy) or out of the zone */
	int in_zone = 0, out = 0;
	for (int i = 0; i < 2000; i++) {
		struct ask o = { .ecs = "10.1.2.0/24" };

		answer(EX.s, "canary.example.com.", RRTYPE_A, &o);
		assert_int_equal(M.rr[0].type, RRTYPE_CNAME);
		if (!strcmp(M.rr[0].data, "www.example.com.")) {
			in_zone++;
			assert_int_equal(M.an, 2);
			assert_true(is_one_of(an_data(RRTYPE_A), "192.0.2.11", "192.0.2.12"));
			assert_int_equal(M.ecs_scope, 16);
		} else {
			out++;
			assert_string_equal(M.rr[0].data, "canary.example.net.");
			assert_int_equal(M.an, 1);
		}
	}
	assert_in_range(in_zone, 1840, 1960);          /* 95 % */
	assert_int_equal(in_zone + out, 2000);
}

/* Alias members: in a zone we serve, the target's addresses under the
 * owner; outside, what the control plane resolved into the slot, SERVFAIL
 * while it is unknown for the family asked, NODATA when known empty. */
static void test_alias_members(void **state)
{
	struct snap_alias slot = { 0 };
	struct snap_alias_addrs v = { .have = SNAP_ALIAS_HAVE_A, .n4 = 2,
				      .a = { { 198, 51, 100, 1 }, { 198, 51, 100, 2 } } };

	(void)state;
	answer(POL.s, "inz.pol.test.", RRTYPE_A, NULL);
	assert_int_equal(M.an, 1);
	assert_string_equal(M.rr[0].owner, "inz.pol.test.");
	assert_string_equal(M.rr[0].data, "192.0.2.80");
	assert_int_equal(M.rr[0].ttl, 31);

	assert_int_equal(snap_alias_count(POL.s), 1);
	answer(POL.s, "ext.pol.test.", RRTYPE_A, NULL);     /* no slots attached */
	assert_int_equal(M.rcode, 2);
	assert_int_equal(M.an + M.ns, 0);
	assert_false(M.aa);
	assert_int_equal(R.kind, ENGINE_KIND_ERROR);
	assert_int_equal(R.policy, ENGINE_POLICY_ANSWERED | ENGINE_POLICY_UNRESOLVED);
	snap_set_aliases(POL.s, &slot);
	answer(POL.s, "ext.pol.test.", RRTYPE_A, NULL);     /* attached, unknown */
	assert_int_equal(M.rcode, 2);
	snap_alias_write(&slot, &v);
	answer(POL.s, "ext.pol.test.", RRTYPE_A, NULL);
	assert_int_equal(M.rcode, 0);
	assert_true(M.aa);
	assert_int_equal(M.an, 2);
	assert_string_equal(M.rr[0].owner, "ext.pol.test.");
	assert_string_equal(M.rr[0].data, "198.51.100.1");
	assert_string_equal(M.rr[1].data, "198.51.100.2");
	assert_int_equal(M.rr[1].ttl, 30);
	assert_int_equal(R.policy, ENGINE_POLICY_ANSWERED);
	answer(POL.s, "ext.pol.test.", RRTYPE_AAAA, NULL);  /* A known, AAAA not */
	assert_int_equal(M.rcode, 2);
	v.have |= SNAP_ALIAS_HAVE_AAAA;                      /* known: none */
	snap_alias_write(&slot, &v);
	answer(POL.s, "ext.pol.test.", RRTYPE_AAAA, NULL);
	assert_int_equal(M.rcode, 0);
	assert_int_equal(M.an, 0);
	assert_int_equal(M.rr[0].type, RRTYPE_SOA);
	v.n6 = 1;
	inet_pton(AF_INET6, "2001:db8:c::1", v.aaaa[0]);
	snap_alias_write(&slot, &v);
	answer(POL.s, "ext.pol.test.", RRTYPE_AAAA, NULL);
	assert_int_equal(M.an, 1);
	assert_string_equal(M.rr[0].data, "2001:db8:c::1");
	snap_set_aliases(POL.s, NULL);
}

/* 32 AAAA do not fit in 512 bytes: TC over plain UDP; with EDNS or over
 * TCP all of them. */
static void test_truncation(void **state)
{
	struct ask plain = { .no_edns = 1 }, tcp = { .no_edns = 1, .tcp = 1 };

	(void)state;
	answer(POL.s, "big.pol.test.", RRTYPE_AAAA, &plain);
	assert_true(M.tc);
	assert_true(R.truncated);
	assert_int_equal(M.an, 0);
	answer(POL.s, "big.pol.test.", RRTYPE_AAAA, NULL);
	assert_false(M.tc);
	assert_int_equal(an_count(RRTYPE_AAAA), BIG_MEMBERS);
	answer(POL.s, "big.pol.test.", RRTYPE_AAAA, &tcp);
	assert_false(M.tc);
	assert_int_equal(an_count(RRTYPE_AAAA), BIG_MEMBERS);
	/* a small buffer truncates as well */
	struct ask small = { .cap = 600 };
	answer(POL.s, "big.pol.test.", RRTYPE_AAAA, &small);
	assert_true(M.tc);
	assert_int_equal(M.an, 0);
}

/* ---- bursts ------------------------------------------------------------------ */

/* engine_answer_burst gives byte for byte what engine_answer gives, for
 * policy names without randomness among static ones. */
static void test_burst_same(void **state)
{
	static const struct {
		const struct built *b;
		const char *name;
		uint16_t type;
		struct ask o;
	} qs[] = {
		{ &EX, "api.example.com.", RRTYPE_A, { .ecs = "10.2.7.0/24" } },
		{ &EX, "cdn.example.com.", RRTYPE_A, { .ecs = "10.7.1.0/24" } },
		{ &EX, "api.example.com.", RRTYPE_A, { .src = "10.4.1.1" } },
		{ &EX, "ns1.example.com.", RRTYPE_A, { .ecs = "10.1.2.0/24" } },
		{ &POL, "geo.pol.test.", RRTYPE_A, { .ecs = "10.1.2.0/24" } },
		{ &POL, "geo.pol.test.", RRTYPE_A, { .src = "10.2.5.5" } },
		{ &POL, "geo.pol.test.", RRTYPE_A, { .ecs = "10.9.9.0/24" } },
		{ &POL, "fo.pol.test.", RRTYPE_A, { 0 } },
		{ &POL, "alias.pol.test.", RRTYPE_AAAA, { 0 } },
		{ &POL, "calias.pol.test.", RRTYPE_A, { 0 } },
		{ &POL, "closed.pol.test.", RRTYPE_TXT, { 0 } },
		{ &POL, "nope.pol.test.", RRTYPE_A, { 0 } },
		{ &POL, "big.pol.test.", RRTYPE_AAAA, { .no_edns = 1 } },
		{ &POL, "static.pol.test.", RRTYPE_A, { .ecs = "10.3.0.0/24" } },
	};
	enum { NQ = sizeof(qs) / sizeof(qs[0]) };
	static uint8_t q[NQ][512], out[NQ][4096], single[4096];
	struct engine_client c[NQ];
	struct engine_result res[NQ], r1;
	struct engine_job jobs[NQ];
	struct engine_conf conf;

	(void)state;
	engine_conf_init(&conf);
	conf.ecs = 1;
	for (int inter = 0; inter < 2; inter++) {
		conf.interleave = inter ? ENGINE_INTERLEAVE_ALWAYS : ENGINE_INTERLEAVE_NEVER;
		for (int snap = 0; snap < 2; snap++) {
			const struct built *b = snap ? &POL : &EX;
			size_t n = 0, idx[NQ];

			for (size_t i = 0; i < NQ; i++) {
				if (qs[i].b != b)
					continue;
				size_t ql = make_query(q[i], qs[i].name, qs[i].type, &qs[i].o,
						       (uint16_t)(100 + i));
				make_client(&c[i], &qs[i].o);
				jobs[n] = (struct engine_job){ .q = q[i], .qlen = ql,
					.client = &c[i], .out = out[i], .cap = sizeof(out[i]),
					.res = &res[i] };
				idx[n++] = i;
			}
			engine_answer_burst(&conf, b->s, jobs, n);
			for (size_t k = 0; k < n; k++) {
				size_t i = idx[k], l;

				l = engine_answer(&conf, b->s, jobs[k].q, jobs[k].qlen, &c[i],
						  single, sizeof(single), &r1);
				if (l != jobs[k].len || memcmp(single, out[i], l))
					fail_msg("%s: burst answer differs (%zu vs %zu bytes)",
						 qs[i].name, jobs[k].len, l);
				assert_int_equal(res[i].policy, r1.policy);
				assert_int_equal(res[i].ecs_scope, r1.ecs_scope);
				assert_int_equal(res[i].kind, r1.kind);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weighted),
		cmocka_unit_test(test_simple_rotation),
		cmocka_unit_test(test_multivalue_rotation),
		cmocka_unit_test(test_geo_ecs),
		cmocka_unit_test(test_geo_source),
		cmocka_unit_test(test_gdpr_health),
		cmocka_unit_test(test_fail_closed),
		cmocka_unit_test(test_latency),
		cmocka_unit_test(test_geoproximity),
		cmocka_unit_test(test_name_endpoint),
		cmocka_unit_test(test_alias_members),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_burst_same),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
