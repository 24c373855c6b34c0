/*
 * test_snap_policy.c — policy records and sections in snapshots: what
 * snap_policy_prepare refuses (each with its reason), what a compiled
 * snapshot with a policy section reads back, and that the optional
 * sections (geolocation, latency) are verified when the snapshot opens.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "diag.h"
#include "error.h"
#include "geo.h"
#include "latency.h"
#include "policy.h"
#include "rdata.h"
#include "snap.h"
#include "zone.h"

static const char zone_text[] =
	"$ORIGIN example.com.\n$TTL 3600\n"
	"@ SOA ns1 host 1 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.53\n"
	"lb A 192.0.2.10\nlb AAAA 2001:db8::10\nstatic A 192.0.2.1\nalias CNAME lb\n"
	"sub NS ns.sub\nns.sub A 192.0.2.99\nd DNAME example.net.\n";

static struct zone *parse_zone(void)
{
	struct diag d;
	struct zone *z = NULL;

	diag_init(&d, NULL);
	assert_int_equal(zone_parse_string(zone_text, strlen(zone_text), "t", NULL, &d, &z), 0);
	return z;
}

static void compile_policy(const char *yaml, uint8_t **blob, size_t *len)
{
	struct diag d;

	diag_init(&d, NULL);
	assert_int_equal(policy_compile_text("p.yaml", yaml, strlen(yaml), &d, blob, len), 0);
}

/* Prepare one record of `type` at `name` with members `members`; returns
 * the result and leaves the first error in d. */
static int prepare_one(const char *name, const char *type, const char *members,
		       struct diag *d)
{
	char yaml[512];
	struct zone *z = parse_zone();
	uint8_t *blob;
	size_t len;
	int ret;

	snprintf(yaml, sizeof(yaml), "records:\n  - name: %s\n    type: %s\n    policy:\n"
		 "      routing: simple\n      members: [ %s ]\n", name, type, members);
	compile_policy(yaml, &blob, &len);
	diag_init(d, NULL);
	ret = snap_policy_prepare(&z, 1, blob, len, d);
	free(blob);
	zone_free(z);
	return ret;
}

static void test_prepare_refusals(void **state)
{
	static const struct { const char *name, *type, *members, *want; } cases[] = {
		{ "www.example.org.", "A", "{ address: 192.0.2.1 }",
		  "policy record www.example.org.: no zone given contains it" },
		{ "static.example.com.", "A", "{ address: 192.0.2.1 }",
		  "the zone has static data of the same type there" },
		{ "alias.example.com.", "A", "{ address: 192.0.2.1 }",
		  "a CNAME cannot share its name with other data" },
		{ "lb.example.com.", "CNAME", "{ name: x.example.net. }",
		  "a CNAME cannot share its name with other data" },
		{ "sub.example.com.", "A", "{ address: 192.0.2.1 }",
		  "it is at or below a zone cut (delegated away)" },
		{ "x.sub.example.com.", "A", "{ address: 192.0.2.1 }",
		  "it is at or below a zone cut (delegated away)" },
		{ "x.d.example.com.", "A", "{ address: 192.0.2.1 }", "it is below a DNAME" },
		{ "example.com.", "A", "{ alias: nowhere.example.com. }",
		  "policy alias target nowhere.example.com. has no A or AAAA records" },
		{ "example.com.", "A", "{ alias: ns.sub.example.com. }",
		  "policy alias target ns.sub.example.com. is at or below a zone cut" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct diag d;

		assert_int_equal(prepare_one(cases[i].name, cases[i].type, cases[i].members, &d),
				 P53_EZONE);
		if (!strstr(d.first, cases[i].want))
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, d.first, cases[i].want);
	}
}

static void test_prepare_accepts(void **state)
{
	struct diag d;

	(void)state;
	assert_int_equal(prepare_one("example.com.", "A", "{ alias: lb.example.com. }", &d), 0);
	assert_int_equal(prepare_one("new.deep.example.com.", "TXT", "{ text: hi }", &d), 0);
	assert_int_equal(prepare_one("lb.example.com.", "TXT", "{ text: hi }", &d), 0);
	/* outside every zone: pop53d resolves it */
	assert_int_equal(prepare_one("example.com.", "A", "{ alias: www.example.org. }", &d), 0);
}

/* A signed zone (a DNSKEY at the apex) gets no policy records: their
 * answers would carry no RRSIG and validators would reject them. */
static void test_prepare_signed_zone(void **state)
{
	static const char signed_text[] =
		"$ORIGIN example.com.\n$TTL 300\n"
		"@ SOA ns1 hostmaster 1 7200 900 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n"
		"@ DNSKEY 257 3 13 oGTcKgVXzD6JwSKuvpv0pegcMpl8ZpU3Hi4+0+tyKqMwIUwbX/cEQgqJ"
		"i4V59ICLmUDzw2oRfzwzOXDTJZHT2g==\n";
	static const char yaml[] =
		"records:\n  - name: www.example.com.\n    type: A\n    policy:\n"
		"      routing: simple\n      members: [ { address: 192.0.2.1 } ]\n";
	struct zone *z = NULL;
	uint8_t *blob;
	size_t len;
	struct diag d;

	(void)state;
	diag_init(&d, NULL);
	assert_int_equal(zone_parse_string(signed_text, strlen(signed_text), "t", NULL, &d, &z), 0);
	compile_policy(yaml, &blob, &len);
	diag_init(&d, NULL);
	assert_int_equal(snap_policy_prepare(&z, 1, blob, len, &d), P53_EZONE);
	assert_non_null(strstr(d.first, "policy record www.example.com. type 1: the zone is "
			       "signed already"));
	/* the compile that signs it (and its policy answers) may */
	diag_init(&d, NULL);
	assert_int_equal(snap_policy_prepare_signing(&z, 1, blob, len, &(bool){ true }, &d), 0);
	free(blob);
	zone_free(z);
}

/* A snapshot with a policy section: the RRsets are marked, the section
 * reads back, and a latency table whose region count is not the policy's
 * is refused when the snapshot opens. */
static const char latency_yaml[] =
	"latency:\n  regions: [ eu, us ]\n"
	"records:\n  - name: www.example.com.\n    type: A\n    policy:\n"
	"      routing: latency\n      members:\n"
	"        - { address: 192.0.2.1, region: eu }\n"
	"        - { address: 192.0.2.2, region: us }\n";

static void build_snapshot(const char *yaml, const struct snap_section_in *extra,
			   size_t nextra, uint8_t **out, size_t *outlen)
{
	struct snap_section_in sec[4];
	struct snap_compile_opts o = { 0 };
	struct zone *z = parse_zone();
	uint8_t *blob;
	size_t len;
	struct diag d;

	compile_policy(yaml, &blob, &len);
	diag_init(&d, NULL);
	assert_int_equal(snap_policy_prepare(&z, 1, blob, len, &d), 0);
	assert_int_equal(zone_check(z, NULL, &d), 0);
	sec[0] = (struct snap_section_in){ SNAP_SECT_POLICY, blob, len };
	if (nextra)
		memcpy(sec + 1, extra, nextra * sizeof(*extra));
	o.sections = sec;
	o.nsections = 1 + nextra;
	assert_int_equal(snap_compile(&z, 1, &o, &d, out, outlen), 0);
	free(blob);
	zone_free(z);
}

/* A latency blob laid out by hand (latency.h): nrows rows of nregions,
 * and a geo table mapping 10.0.0.0/8 to row 0. */
static uint8_t *latency_blob(uint32_t nregions, size_t *len)
{
	struct geo_builder *b;
	uint8_t *geo, *out, a[16] = { 10 };
	size_t glen, rows = 8 * ((nregions * 4 + 7) / 8);
	struct latency_header h = { .version_major = LATENCY_VERSION_MAJOR };

	assert_int_equal(geo_builder_new(&b), 0);
	assert_int_equal(geo_builder_add(b, AF_INET, a, 8, 0, GEO_LAYER_MAP), 0);
	assert_int_equal(geo_builder_serialize(b, &geo, &glen), 0);
	geo_builder_free(b);
	memcpy(h.magic, LATENCY_MAGIC, 8);
	h.nregions = nregions;
	h.nrows = 1;
	h.rows = sizeof(h);
	h.geo = (uint32_t)(sizeof(h) + rows);
	h.geo_len = (uint32_t)glen;
	*len = sizeof(h) + rows + glen;
	out = calloc(1, *len);
	memcpy(out, &h, sizeof(h));
	for (uint32_t i = 0; i < nregions; i++) {
		uint32_t v = 10 * (i + 1);
		memcpy(out + sizeof(h) + 4 * i, &v, 4);
	}
	memcpy(out + h.geo, geo, glen);
	free(geo);
	return out;
}

static void test_snapshot_sections(void **state)
{
	struct snap_section_in lat;
	uint8_t *snapb, *lb;
	size_t snaplen, llen;
	struct snap *s;
	struct diag d;
	uint8_t addr[16] = { 10, 1, 2, 3 };
	unsigned m;
	const uint32_t *row;

	(void)state;
	lb = latency_blob(2, &llen);
	lat = (struct snap_section_in){ SNAP_SECT_LATENCY, lb, llen };
	build_snapshot(latency_yaml, &lat, 1, &snapb, &snaplen);
	diag_init(&d, NULL);
	assert_int_equal(snap_open_mem(snapb, snaplen, &d, &s), 0);
	assert_non_null(snap_policy(s));
	assert_null(snap_geo(s));
	assert_non_null(snap_latency(s));
	row = latency_lookup(snap_latency(s), AF_INET, addr, &m);
	assert_non_null(row);
	assert_int_equal(m, 8);
	assert_int_equal(row[0], 10);
	assert_int_equal(row[1], 20);
	addr[0] = 11;
	assert_null(latency_lookup(snap_latency(s), AF_INET, addr, &m));
	snap_close(s);
	free(snapb);
	free(lb);

	lb = latency_blob(3, &llen);
	lat = (struct snap_section_in){ SNAP_SECT_LATENCY, lb, llen };
	build_snapshot(latency_yaml, &lat, 1, &snapb, &snaplen);
	assert_int_equal(snap_open_mem(snapb, snaplen, &d, &s), P53_EFORMAT);
	assert_non_null(strstr(d.first, "the latency table has 3 regions, the policy file 2"));
	free(snapb);
	free(lb);
}

/* Out-of-zone alias targets get one slot per name (whatever its case),
 * in-zone ones none; a slot reads back what was written. */
static void test_alias_slots(void **state)
{
	static const char yaml[] =
		"records:\n"
		"  - name: example.com.\n    type: A\n    policy:\n"
		"      routing: weighted\n      members:\n"
		"        - { alias: LB.cloud.example.net., weight: 1 }\n"
		"        - { alias: lb.example.com., weight: 1 }\n"
		"        - { alias: other.example.org., weight: 1 }\n"
		"  - name: example.com.\n    type: AAAA\n    policy:\n"
		"      routing: simple\n      members: [ { alias: lb.cloud.example.net. } ]\n";
	struct snap_alias slots[2] = { 0 };
	struct snap_alias_addrs in = { .have = SNAP_ALIAS_HAVE_A, .n4 = 1, .a = { { 192, 0, 2, 9 } } };
	struct snap_alias_addrs got;
	const struct policy *p;
	uint8_t *snapb;
	size_t snaplen;
	struct snap *s;
	struct diag d;
	char text[DNAME_TEXT_MAX];
	unsigned found[2] = { 0 };

	(void)state;
	build_snapshot(yaml, NULL, 0, &snapb, &snaplen);
	diag_init(&d, NULL);
	assert_int_equal(snap_open_mem(snapb, snaplen, &d, &s), 0);
	p = snap_policy(s);
	assert_int_equal(snap_alias_count(s), 2);
	/* in canonical order: .net before .org */
	dname_to_text(snap_alias_target(s, 0), text, sizeof(text));
	assert_true(strcasecmp(text, "lb.cloud.example.net.") == 0);
	dname_to_text(snap_alias_target(s, 1), text, sizeof(text));
	assert_string_equal(text, "other.example.org.");
	/* no slots attached: nothing to read */
	for (uint32_t i = 0; i < policy_endpoint_count(p); i++)
		assert_null(snap_alias_of(s, i));
	snap_set_aliases(s, slots);
	for (uint32_t i = 0; i < policy_endpoint_count(p); i++) {
		struct policy_endpoint ep;
		const struct snap_alias *a = snap_alias_of(s, i);

		policy_endpoint_get(p, i, &ep);
		dname_to_text(ep.rdata, text, sizeof(text));
		if (ep.type != POLICY_ALIAS || !strcasecmp(text, "lb.example.com.")) {
			assert_null(a);
			continue;
		}
		assert_non_null(a);
		found[a - slots]++;
		assert_true(strcasecmp(text, a == slots ? "lb.cloud.example.net." :
				       "other.example.org.") == 0);
	}
	assert_int_equal(found[0], 2);
	assert_int_equal(found[1], 1);
	snap_alias_write(&slots[1], &in);
	assert_true(snap_alias_read(&slots[1], &got));
	assert_memory_equal(&got, &in, sizeof(in));
	assert_int_equal(atomic_load(&slots[1].seq), 2);
	snap_close(s);
	free(snapb);
}

/* Truncations of a latency blob are refused or open to something whose
 * lookups stay inside it (ASan watches): every length through the header
 * and the rows and near the end, a sample in between (the geo table's
 * 64K-slot root makes the blob half a megabyte; test_latency and test_geo
 * corrupt those parts thoroughly). */
static size_t next_cut(size_t n, size_t len)
{
	if (n < 512 || n + 512 >= len)
		return n + 1;
	return n + 4093 < len - 512 ? n + 4093 : len - 512;
}

static void test_latency_truncations(void **state)
{
	size_t len;
	uint8_t *lb = latency_blob(2, &len);
	uint8_t addr[16] = { 10 };

	(void)state;
	for (size_t n = 0; n < len; n = next_cut(n, len)) {
		uint8_t *c = malloc(n ? n : 1);
		struct latency_table t;
		unsigned m;

		memcpy(c, lb, n);
		if (latency_open(c, n, &t, NULL) == 0)
			(void)latency_lookup(&t, AF_INET, addr, &m);
		free(c);
	}
	free(lb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prepare_refusals),
		cmocka_unit_test(test_prepare_accepts),
		cmocka_unit_test(test_prepare_signed_zone),
		cmocka_unit_test(test_snapshot_sections),
		cmocka_unit_test(test_alias_slots),
		cmocka_unit_test(test_latency_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
