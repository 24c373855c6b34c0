/*
 * test_latency.c — the latency file compiler (latency_compile_file) and
 * its table (latency_open, latency_lookup): round trips for IPv4 and IPv6
 * with the most specific prefix winning and identical rows shared, every
 * error with its file:line:col, a big table against its source, every
 * truncation and random corruption of a built blob (refused or harmless
 * under ASan); and the coordinates sources (geo_import_mmdb_coords from
 * databases tests/tools/mkmmdb.py writes, CIDR maps of coordinates).
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
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "diag.h"
#include "error.h"
#include "geo.h"
#include "latency.h"

static char tmpdir[64];
static const char *const regions[] = { "eu-central", "us-east", "us-west" };

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void tmp_path(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", tmpdir, name);
}

static void write_file(const char *name, const char *text, size_t len)
{
	char path[128];
	FILE *f;

	tmp_path(path, sizeof(path), name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

/* Compile text as "lat.txt" for the three regions. */
static int compile_text(const char *text, struct diag *d, uint8_t **blob, size_t *len)
{
	char path[128];

	write_file("lat.txt", text, strlen(text));
	tmp_path(path, sizeof(path), "lat.txt");
	diag_init(d, NULL);
	return latency_compile_file(path, regions, 3, d, blob, len);
}

static const uint32_t *lookup(const struct latency_table *t, const char *ip, unsigned *m)
{
	uint8_t a[16];
	int fam = strchr(ip, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(fam, ip, a), 1);
	return latency_lookup(t, fam, a, m);
}

static void expect_row(const struct latency_table *t, const char *ip, unsigned len,
		       uint32_t eu, uint32_t east, uint32_t west)
{
	unsigned m = 99;
	const uint32_t *r = lookup(t, ip, &m);

	if (!r)
		fail_msg("%s: no row", ip);
	if (m != len || r[0] != eu || r[1] != east || r[2] != west)
		fail_msg("%s: /%u %u %u %u, wanted /%u %u %u %u", ip, m, r[0], r[1], r[2], len,
			 eu, east, west);
}

/* ---- round trip ---------------------------------------------------------- */

static const char good_file[] =
	"# latency from client networks, ms\r\n"
	"\n"
	"  prefix   us-west eu-central us-east   # columns in any order\n"
	"10.0.0.0/8        150  20  80\n"
	"10.1.0.0/16       140  25  70\r\n"
	"10.1.2.0/24       -    30  60\n"
	"192.0.2.7         150  20  80    # same row as 10/8: shared\n"
	"0.0.0.0/0         4294967294 0 1\n"
	"2001:db8::/32     40   100 10\n"
	"2001:db8:1::/48   -    -   -\n"
	"::ffff:198.51.100.0/120 150 20 80\n";

static void test_round_trip(void **state)
{
	struct latency_table t;
	struct diag d;
	uint8_t *blob;
	size_t len;
	unsigned m;

	(void)state;
	assert_int_equal(compile_text(good_file, &d, &blob, &len), 0);
	assert_int_equal(d.errors, 0);
	assert_int_equal(latency_open(blob, len, &t, NULL), 0);
	assert_int_equal(t.nregions, 3);
	assert_int_equal(t.nrows, 6);   /* 8 prefixes, two share 10/8's row */
	expect_row(&t, "10.9.9.9", 8, 20, 80, 150);
	expect_row(&t, "10.1.9.9", 16, 25, 70, 140);
	expect_row(&t, "10.1.2.3", 24, 30, 60, LATENCY_UNKNOWN);
	expect_row(&t, "192.0.2.7", 32, 20, 80, 150);
	expect_row(&t, "192.0.2.8", 0, 0, 1, 4294967294u);
	expect_row(&t, "198.51.100.1", 24, 20, 80, 150);
	expect_row(&t, "::ffff:198.51.100.1", 120, 20, 80, 150);
	expect_row(&t, "2001:db8:2::1", 32, 100, 10, 40);
	expect_row(&t, "2001:db8:1:ffff::1", 48, LATENCY_UNKNOWN, LATENCY_UNKNOWN,
		   LATENCY_UNKNOWN);
	assert_null(lookup(&t, "2001:db9::1", &m));
	assert_int_equal(m, 0);
	free(blob);
}

/* A header alone is an empty table: every lookup misses. */
static void test_empty_table(void **state)
{
	struct latency_table t;
	struct diag d;
	uint8_t *blob;
	size_t len;
	unsigned m = 7;

	(void)state;
	assert_int_equal(compile_text("prefix us-east us-west eu-central\n", &d, &blob, &len), 0);
	assert_int_equal(latency_open(blob, len, &t, NULL), 0);
	assert_int_equal(t.nrows, 0);
	assert_null(lookup(&t, "10.0.0.1", &m));
	assert_int_equal(m, 0);
	free(blob);
}

/* ---- errors -------------------------------------------------------------- */

struct bad_case {
	const char *text;
	int err;
	const char *want;   /* in the first error, after the path */
};

static const struct bad_case bad_cases[] = {
	{ "", P53_ESYNTAX, "lat.txt: no header line" },
	{ "# only a comment\n\n", P53_ESYNTAX, "lat.txt:2: no header line" },
	{ "10.0.0.0/8 1 2 3\n", P53_ESYNTAX,
	  "lat.txt:1:1: expected the header line \"prefix REGION ...\"" },
	{ "prefix eu-central us-east us-west asia\n", P53_EINVAL,
	  "lat.txt:1:35: unknown region 'asia' (the policy's latency regions: eu-central, "
	  "us-east, us-west)" },
	{ "prefix eu-central us-east\n", P53_EINVAL,
	  "lat.txt:1:26: the header lacks the policy's region 'us-west'" },
	{ "prefix eu-central us-east eu-central us-west\n", P53_EINVAL,
	  "lat.txt:1:27: region 'eu-central' is listed twice (also column 8)" },
	{ "prefix EU-central us-east us-west\n", P53_EINVAL, "lat.txt:1:8: unknown region" },
	{ "prefix eu-central us-east us-west\n10.0.0.0/8 1 2\n", P53_ESYNTAX,
	  "lat.txt:2:15: expected 3 latencies after the prefix (one per region: eu-central, "
	  "us-east, us-west), got 2" },
	{ "prefix eu-central us-east us-west\n10.0.0.0/8\n", P53_ESYNTAX,
	  "lat.txt:2:11: expected 3 latencies after the prefix" },
	{ "prefix eu-central us-east us-west\n10.0.0.0/8 1 2 3 4\n", P53_ESYNTAX,
	  "lat.txt:2:18: more than 3 latencies" },
	{ "prefix eu-central us-east us-west\n10.0.0.0/8 1 2x 3\n", P53_ESYNTAX,
	  "lat.txt:2:14: '2x' is not a latency" },
	{ "prefix eu-central us-east us-west\n10.0.0.0/8 1 -2 3\n", P53_ESYNTAX,
	  "lat.txt:2:14: '-2' is not a latency" },
	{ "prefix eu-central us-east us-west\n10.0.0.0/8 1 2 4294967295\n", P53_EINVAL,
	  "lat.txt:2:16: latency '4294967295' out of range (0..4294967294 ms" },
	{ "prefix eu-central us-east us-west\n10.0.0.0/8 1 2 99999999999999999999\n",
	  P53_EINVAL, "lat.txt:2:16: latency '99999999999999999999' out of range" },
	{ "prefix eu-central us-east us-west\n10.0.0.1/8 1 2 3\n", P53_ESYNTAX,
	  "lat.txt:2:1: '10.0.0.1/8' has bits set after /8" },
	{ "prefix eu-central us-east us-west\n10.0.0.0/33 1 2 3\n", P53_ESYNTAX,
	  "lat.txt:2:1: prefix length 33 is longer than 32" },
	{ "prefix eu-central us-east us-west\nfoo 1 2 3\n", P53_ESYNTAX,
	  "lat.txt:2:1: 'foo' is not an address" },
	{ "prefix eu-central us-east us-west\n10.0.0.0/8 1 2 3\n2001:db8::/32 1 1 1\n"
	  "  10.0.0.0/8 4 5 6\n", P53_EINVAL,
	  "lat.txt:4:3: duplicate prefix 10.0.0.0/8 (first on line 2)" },
	{ "prefix eu-central us-east us-west\n198.51.100.0/24 1 2 3\n"
	  "::ffff:198.51.100.0/120 1 2 3\n", P53_EINVAL,
	  "lat.txt:3:1: duplicate prefix 198.51.100.0/24 (first on line 2)" },
	{ "prefix eu-central us-east us-west\n2001:db8::/32 1 2 3\n10.0.0.0/8 1 2 3\n"
	  "10.0.0.0/8 1 2 3\n2001:db8::/32 1 2 3\n", P53_EINVAL,
	  "lat.txt:4:1: duplicate prefix 10.0.0.0/8 (first on line 3)" },
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		uint8_t *blob = (uint8_t *)1;
		size_t len = 1;
		struct diag d;
		int r = compile_text(c->text, &d, &blob, &len);
		const char *at = strstr(d.first, "lat.txt");

		if (r != c->err || !at || strncmp(at, c->want, strlen(c->want)) != 0)
			fail_msg("case %zu: %d '%s', wanted %d '%s'", i, r, d.first, c->err,
				 c->want);
		assert_null(blob);
		assert_int_equal(len, 0);
	}
}

static void test_errors_other(void **state)
{
	static const char *const many[LATENCY_MAX_REGIONS + 1] = { "r" };
	uint8_t *blob;
	size_t len;
	struct diag d;
	char path[128], want[128];

	(void)state;
	diag_init(&d, NULL);
	tmp_path(path, sizeof(path), "no-such-file");
	assert_int_equal(latency_compile_file(path, regions, 3, &d, &blob, &len), P53_EIO);
	assert_non_null(strstr(d.first, "no-such-file: cannot read: No such file"));
	write_file("nul.txt", "prefix eu-central us-east us-west\n10.0.0.0/8 1\0 2 3\n", 52);
	tmp_path(path, sizeof(path), "nul.txt");
	diag_init(&d, NULL);
	assert_int_equal(latency_compile_file(path, regions, 3, &d, &blob, &len), P53_ESYNTAX);
	assert_non_null(strstr(d.first, "nul.txt:2:13: NUL byte"));
	diag_init(&d, NULL);
	assert_int_equal(latency_compile_file(path, regions, 0, &d, &blob, &len), P53_EINVAL);
	assert_non_null(strstr(d.first, "the policy defines no latency regions"));
	diag_init(&d, NULL);
	assert_int_equal(latency_compile_file(path, many, LATENCY_MAX_REGIONS + 1, &d, &blob,
					      &len), P53_EINVAL);
	snprintf(want, sizeof(want), "has %u latency regions; a latency table has at most %u",
		 LATENCY_MAX_REGIONS + 1, LATENCY_MAX_REGIONS);
	if (!strstr(d.first, want))
		fail_msg("got '%s', wanted '%s'", d.first, want);
}

/* ---- scale: many prefixes, few distinct rows ----------------------------- */

static void test_big_table(void **state)
{
	enum { N = 40000, ROWS = 37 };
	static char text[N * 64 + 64];
	struct latency_table t;
	uint8_t *blob, a[16];
	size_t len, pos;
	struct diag d;
	unsigned m;

	(void)state;
	pos = (size_t)sprintf(text, "prefix us-east eu-central us-west\n");
	/* IPv4 /24s 10.x.y.0 and IPv6 /48s 2001:db8:i::, row = i % ROWS */
	for (unsigned i = 0; i < N; i++) {
		unsigned r = i % ROWS;

		if (i % 2)
			pos += (size_t)sprintf(text + pos, "10.%u.%u.0/24 %u %u %u\n", i >> 8 & 255,
					       i & 255, r + 1, r * 2, r == 5 ? 0 : r * 3);
		else
			pos += (size_t)sprintf(text + pos, "2001:db8:%x::/48 %u %u %u\n", i, r + 1,
					       r * 2, r == 5 ? 0 : r * 3);
	}
	assert_int_equal(compile_text(text, &d, &blob, &len), 0);
	assert_int_equal(latency_open(blob, len, &t, NULL), 0);
	assert_int_equal(t.nrows, ROWS);
	for (unsigned i = 0; i < N; i++) {
		unsigned r = i % ROWS;
		const uint32_t *row;
		int fam = i % 2 ? AF_INET : AF_INET6;

		memset(a, 0, sizeof(a));
		if (fam == AF_INET) {
			a[0] = 10, a[1] = (uint8_t)(i >> 8), a[2] = (uint8_t)i, a[3] = (uint8_t)rnd();
		} else {
			a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8;
			a[4] = (uint8_t)(i >> 8), a[5] = (uint8_t)i, a[9] = (uint8_t)rnd();
		}
		row = latency_lookup(&t, fam, a, &m);
		assert_non_null(row);
		assert_int_equal(m, fam == AF_INET ? 24 : 48);
		assert_int_equal(row[0], r * 2);
		assert_int_equal(row[1], r + 1);
		assert_int_equal(row[2], r == 5 ? 0 : r * 3);
	}
	free(blob);
}

/* ---- corruption ---------------------------------------------------------- */

/* Use whatever opened: every lookup must stay inside the blob (ASan). */
static uint64_t exercise(const struct latency_table *t)
{
	uint64_t sum = 0;
	uint8_t a[16];
	unsigned m;

	for (int i = 0; i < 64; i++) {
		uint64_t x = rnd(), y = rnd();
		const uint32_t *row;
		int fam = i % 2 ? AF_INET : AF_INET6;

		memcpy(a, &x, 8);
		memcpy(a + 8, &y, 8);
		if (i % 4 == 1)
			a[0] = 10;
		if ((row = latency_lookup(t, fam, a, &m)))
			for (uint32_t j = 0; j < t->nregions; j++)
				sum += row[j];
	}
	return sum;
}

/* Open the first n bytes of blob in a buffer of exactly n bytes. */
static unsigned open_truncated(const uint8_t *blob, size_t n, uint64_t *sink)
{
	struct latency_table t;
	uint8_t *copy = malloc(n ? n : 1);
	unsigned opened = 0;

	assert_non_null(copy);
	memcpy(copy, blob, n);
	if (latency_open(copy, n, &t, NULL) == 0) {
		opened = 1;
		*sink += exercise(&t);
	}
	free(copy);
	return opened;
}

/* The blob is mostly the geo table's two 64k-slot roots (test_geo
 * corrupts geo blobs at length): every cut in the latency header, the rows
 * and the geo header, every cut near the end, and a sample in between;
 * then random changes of a few bytes, half of them in the latency part. */
static void test_corruption(void **state)
{
	enum { ROUNDS = 4000 };
	struct latency_table t;
	struct latency_header h;
	struct diag d;
	uint8_t *blob, *copy;
	size_t len, head;
	uint64_t sink = 0;
	unsigned opened = 0;

	(void)state;
	assert_int_equal(compile_text(good_file, &d, &blob, &len), 0);
	memcpy(&h, blob, sizeof(h));
	head = h.geo + 128;
	for (size_t n = 0; n < len; n++) {
		if (n > head && n + 2048 < len && rnd() % 256)
			continue;
		opened += open_truncated(blob, n, &sink);
	}
	assert_int_equal(opened, 0);
	copy = malloc(len);
	assert_non_null(copy);
	memcpy(copy, blob, len);
	for (int round = 0; round < ROUNDS; round++) {
		size_t at[4];
		int k = 1 + (int)(rnd() % 4);

		for (int i = 0; i < k; i++) {
			at[i] = round % 2 ? rnd() % head : rnd() % len;
			copy[at[i]] ^= (uint8_t)(1u << (rnd() % 8)) |
				       (round % 3 ? 0 : (uint8_t)rnd());
		}
		if (latency_open(copy, len, &t, NULL) == 0) {
			opened++;
			sink += exercise(&t);
		}
		while (k--)
			copy[at[k]] = blob[at[k]];
	}
	assert_memory_equal(copy, blob, len);
	/* Some corruptions only change values, which still open. */
	assert_true(opened > 0);
	print_message("corruption: %u of %d corrupted blobs opened (checksum %llu)\n", opened,
		      ROUNDS, (unsigned long long)sink);
	free(copy);
	free(blob);
}

/* ---- coordinates ---------------------------------------------------------- */

static void mkmmdb(const char *json, const char *out)
{
	const char *root = getenv("SOURCE_ROOT");
	char cmd[1024], in[128], o[128];

	write_file("in.json", json, strlen(json));
	tmp_path(in, sizeof(in), "in.json");
	tmp_path(o, sizeof(o), out);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/tests/tools/mkmmdb.py %s %s",
		 root ? root : ".", in, o);
	if (system(cmd) != 0)
		fail_msg("failed: %s", cmd);
}

static void expect_coords(const struct geo_table *t, const char *ip, unsigned len, double lat,
			  double lon)
{
	uint8_t a[16];
	int fam = strchr(ip, ':') ? AF_INET6 : AF_INET;
	double la = 0, lo = 0;
	uint32_t v;
	unsigned m;

	assert_int_equal(inet_pton(fam, ip, a), 1);
	if (!geo_lookup(t, fam, a, &v, &m) || !geo_coord_unpack(v, &la, &lo))
		fail_msg("%s: no coordinates", ip);
	if (m != len || fabs(la - lat) > 0.006 || fabs(lo - lon) > 0.006)
		fail_msg("%s: /%u %.2f,%.2f, wanted /%u %.2f,%.2f", ip, m, la, lo, len, lat, lon);
}

static const char coords_json[] =
	"{\"networks\": ["
	"{\"network\": \"1.2.0.0/16\", \"continent\": \"EU\", \"country\": \"FR\","
	" \"latitude\": 48.8566, \"longitude\": 2.3522},"
	"{\"network\": \"1.2.3.0/24\", \"continent\": \"EU\", \"country\": \"DE\","
	" \"latitude\": 50.11, \"longitude\": 8.68},"
	"{\"network\": \"5.6.0.0/16\", \"continent\": \"NA\", \"country\": \"US\"},"
	"{\"network\": \"7.0.0.0/8\", \"latitude\": 95.0, \"longitude\": 0.0},"
	"{\"network\": \"2001:db8::/32\", \"continent\": \"NA\", \"country\": \"US\","
	" \"latitude\": -33.87, \"longitude\": -151.21},"
	"{\"network\": \"2001:db8:5::/48\", \"latitude\": 0.0, \"longitude\": 180.0}"
	"]}";

static void test_coords_mmdb(void **state)
{
	struct geo_builder *b;
	struct geo_table t;
	struct diag d;
	uint8_t *blob, a[16] = { 5, 6, 7, 8 };
	size_t len;
	char path[128];
	uint32_t v;
	unsigned m;

	(void)state;
	mkmmdb(coords_json, "c.mmdb");
	tmp_path(path, sizeof(path), "c.mmdb");
	assert_int_equal(geo_builder_new(&b), 0);
	diag_init(&d, NULL);
	/* 1.2/16 is split around 1.2.3/24 by the tree: more records than networks */
	assert_true(geo_import_mmdb_coords(b, path, &d) >= 4);
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, 1);   /* 7/8's latitude 95 */
	assert_int_equal(geo_builder_serialize(b, &blob, &len), 0);
	assert_int_equal(geo_open(blob, len, &t, NULL), 0);
	expect_coords(&t, "1.2.9.9", 21, 48.86, 2.35);   /* a piece of the /16 */
	expect_coords(&t, "1.2.3.4", 24, 50.11, 8.68);
	expect_coords(&t, "2001:db8:1::1", 46, -33.87, -151.21);   /* split around :5::/48 */
	expect_coords(&t, "2001:db8:5::1", 48, 0.0, 180.0);
	assert_int_equal(geo_lookup(&t, AF_INET, a, &v, &m), 0);   /* no location */
	a[0] = 7;
	assert_int_equal(geo_lookup(&t, AF_INET, a, &v, &m), 0);   /* out of range */
	free(blob);
	geo_builder_free(b);

	/* a latitude that is a string is a format error naming the network */
	mkmmdb("[{\"network\": \"9.0.0.0/8\", \"data\": {\"location\": "
	       "{\"latitude\": \"48\", \"longitude\": {\"$double\": 2.0}}}}]", "bad.mmdb");
	tmp_path(path, sizeof(path), "bad.mmdb");
	assert_int_equal(geo_builder_new(&b), 0);
	diag_init(&d, NULL);
	assert_int_equal(geo_import_mmdb_coords(b, path, &d), P53_EFORMAT);
	assert_non_null(strstr(d.first, "network 9.0.0.0/8: location.latitude is a string, "
				"not a double"));
	geo_builder_free(b);
}

static void test_coords_map(void **state)
{
	static const char map[] =
		"10.0.0.0/8   48.86,2.35   # Paris\n"
		"10.1.0.0/16  -33.87,151.21\n"
		"2001:db8::/32 +40.7,-74\n"
		"192.0.2.1    90,-180\n";
	static const struct { const char *line; const char *want; } bad[] = {
		{ "10.0.0.0/8 48.86\n", "m:1:12: '48.86' is not a position LATITUDE,LONGITUDE" },
		{ "10.0.0.0/8 91,2\n", "m:1:12: '91,2' is not a position" },
		{ "10.0.0.0/8 1,180.5\n", "m:1:12: '1,180.5' is not a position" },
		{ "10.0.0.0/8 nan,2\n", "m:1:12: 'nan,2' is not a position" },
		{ "10.0.0.0/8 1e1,2\n", "m:1:12: '1e1,2' is not a position" },
		{ "10.0.0.0/8 1,2,3\n", "m:1:12: '1,2,3' is not a position" },
		{ "10.0.0.0/8 ,2\n", "m:1:12: ',2' is not a position" },
	};
	struct geo_builder *b;
	struct geo_table t;
	struct diag d;
	uint8_t *blob;
	size_t len;

	(void)state;
	assert_int_equal(geo_builder_new(&b), 0);
	diag_init(&d, NULL);
	assert_int_equal(geo_add_cidr_map_text(b, "m", map, strlen(map), GEO_MAP_COORDS, &d), 4);
	assert_int_equal(geo_builder_serialize(b, &blob, &len), 0);
	assert_int_equal(geo_open(blob, len, &t, NULL), 0);
	expect_coords(&t, "10.9.9.9", 8, 48.86, 2.35);
	expect_coords(&t, "10.1.9.9", 16, -33.87, 151.21);
	expect_coords(&t, "2001:db8::9", 32, 40.7, -74.0);
	expect_coords(&t, "192.0.2.1", 32, 90.0, -180.0);
	free(blob);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		diag_init(&d, NULL);
		assert_int_equal(geo_add_cidr_map_text(b, "m", bad[i].line, strlen(bad[i].line),
						       GEO_MAP_COORDS, &d), P53_ESYNTAX);
		if (strncmp(d.first, bad[i].want, strlen(bad[i].want)) != 0)
			fail_msg("'%s': got '%s'", bad[i].line, d.first);
	}
	geo_builder_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_empty_table),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_errors_other),
		cmocka_unit_test(test_big_table),
		cmocka_unit_test(test_corruption),
		cmocka_unit_test(test_coords_mmdb),
		cmocka_unit_test(test_coords_map),
	};
	char cmd[128];
	int r;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/p53-latency-XXXXXX");
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
