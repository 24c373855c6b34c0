/* Zone validation (errors) and lint (warnings). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dname.h"
#include "error.h"
#include "zone.h"

/* A sound zone that every test extends with one mistake. */
#define HEAD \
	"$ORIGIN example.com.\n$TTL 3600\n" \
	"@ SOA ns1 hostmaster 1 7200 900 1209600 300\n" \
	"@ NS ns1\n" \
	"@ NS ns.other.net.\n" \
	"@ CAA 0 issue \"letsencrypt.org\"\n" \
	"ns1 A 192.0.2.1\n"

struct result {
	int ret;
	unsigned errors, warnings;
	char first[512];
	char all[4096];
};

static struct result check(const char *text)
{
	struct result r = { 0 };
	struct zone *z = NULL;
	struct diag d;
	FILE *mem = fmemopen(r.all, sizeof(r.all) - 1, "w");

	diag_init(&d, mem);
	assert_int_equal(zone_parse_string(text, strlen(text), "c.zone", NULL, &d, &z), 0);
	r.ret = zone_check(z, NULL, &d);
	fclose(mem);
	r.errors = d.errors;
	r.warnings = d.warnings;
	memcpy(r.first, d.first, sizeof(r.first));
	zone_free(z);
	return r;
}

static void expect_error(const char *text, const char *needle)
{
	struct result r = check(text);
	if (!strstr(r.all, needle))
		fprintf(stderr, "wanted '%s' in:\n%s", needle, r.all);
	assert_int_equal(r.ret, P53_EZONE);
	assert_non_null(strstr(r.all, needle));
}

static void expect_warning(const char *text, const char *needle)
{
	struct result r = check(text);
	if (!strstr(r.all, needle))
		fprintf(stderr, "wanted '%s' in:\n%s", needle, r.all);
	assert_int_equal(r.ret, 0);
	assert_int_equal(r.errors, 0);
	assert_non_null(strstr(r.all, needle));
}

static void test_clean_zone(void **state)
{
	(void)state;
	struct result r = check(HEAD "www A 192.0.2.10\nalias CNAME www\n"
				"sub NS ns.sub\nns.sub A 192.0.2.53\n");
	if (r.warnings || r.errors)
		fprintf(stderr, "%s", r.all);
	assert_int_equal(r.ret, 0);
	assert_int_equal(r.errors, 0);
	assert_int_equal(r.warnings, 0);
}

static void test_cname_beside_data(void **state)
{
	(void)state;
	expect_error(HEAD "www CNAME ns1\nwww TXT \"x\"\n",
		     "c.zone:8: error: CNAME at 'www.example.com.' beside other data");
	expect_error(HEAD "www CNAME ns1\nwww CNAME ns2\n", "more than one CNAME");
	/* DNSSEC records may share the owner (RFC 4035 2.5) */
	struct result r = check(HEAD "www CNAME ns1\nwww NSEC a.example.com. CNAME RRSIG NSEC\n");
	assert_int_equal(r.errors, 0);
}

static void test_cname_at_apex(void **state)
{
	(void)state;
	expect_error(HEAD "@ CNAME elsewhere.net.\n", "CNAME at the zone apex");
}

static void test_missing_soa_ns(void **state)
{
	(void)state;
	expect_error("$ORIGIN example.com.\n$TTL 60\n@ NS ns.other.net.\n", "no SOA record");
	expect_error("$ORIGIN example.com.\n$TTL 60\n@ SOA ns h 1 7200 900 1209600 300\n",
		     "no NS records at its apex");
	expect_error(HEAD "x SOA ns h 2 7200 900 1209600 300\n", "not the zone apex");
	expect_error(HEAD "@ SOA ns h 2 7200 900 1209600 300\n", "more than one SOA");
}

static void test_outside_zone(void **state)
{
	(void)state;
	expect_error(HEAD "www.example.net. A 192.0.2.1\n",
		     "c.zone:8: error: 'www.example.net.' is outside the zone 'example.com.'");
	expect_error(HEAD "com. A 192.0.2.1\n", "outside the zone");
}

static void test_missing_glue(void **state)
{
	(void)state;
	expect_error(HEAD "sub NS ns1.sub\n", "missing glue: name server 'ns1.sub.example.com.'");
	expect_error(HEAD "@ NS ns2\n", "in-zone name server 'ns2.example.com.' has no A/AAAA");
	/* out-of-zone name servers need no glue */
	struct result r = check(HEAD "sub NS ns.elsewhere.org.\n");
	assert_int_equal(r.errors, 0);
	/* AAAA-only glue is glue */
	r = check(HEAD "sub NS ns1.sub\nns1.sub AAAA 2001:db8::53\n");
	assert_int_equal(r.errors, 0);
}

static void test_class_mismatch(void **state)
{
	(void)state;
	expect_error(HEAD "x CH TXT \"hi\"\n", "class CH differs from the zone's class IN");
}

static void test_dname_rules(void **state)
{
	(void)state;
	expect_error(HEAD "d DNAME example.org.\nx.d A 192.0.2.1\n", "lies below the DNAME at 'd.example.com.'");
	expect_error(HEAD "d DNAME example.org.\nd DNAME example.net.\n", "more than one DNAME");
}

static void test_lint(void **state)
{
	(void)state;
	expect_warning("$ORIGIN example.com.\n$TTL 60\n@ SOA ns1 h 1 7200 900 1209600 300\n"
		       "@ NS ns1\nns1 A 192.0.2.1\n", "warning: no CAA record at the apex");
	expect_warning(HEAD "www 60 A 192.0.2.1\nwww 120 A 192.0.2.2\n",
		       "c.zone:8: warning: TTLs differ inside the RRset 'www.example.com.' A (60..120)");
	expect_warning("$ORIGIN example.com.\n$TTL 60\n@ SOA ns1 h 1 7200 900 1209600 172800\n"
		       "@ NS ns1\nns1 A 192.0.2.1\n@ CAA 0 issue \"ca.example\"\n",
		       "SOA minimum (negative-caching TTL) 172800 is above one day");
	expect_warning(HEAD "www A 192.0.2.1\nwww A 192.0.2.1\n", "duplicate record");
	expect_warning(HEAD "mx MX 10 alias\nalias CNAME ns1\n", "MX target 'alias.example.com.' is a CNAME");
	expect_warning(HEAD "sub NS ns.sub\nns.sub A 192.0.2.9\nwww.sub TXT \"x\"\n",
		       "'www.sub.example.com.' lies below the delegation at 'sub.example.com.'");
	expect_warning(HEAD "* NS ns1\n", "wildcard delegations");
	expect_warning("$ORIGIN example.com.\n$TTL 60\n@ SOA ns1 h 1 900 7200 1209600 300\n"
		       "@ NS ns1\nns1 A 192.0.2.1\n@ CAA 0 issue \"ca.example\"\n",
		       "SOA retry is not below refresh");
}

static void test_policy_ttl(void **state)
{
	(void)state;
	const char *text = HEAD "www 3600 A 192.0.2.1\n";
	const uint8_t www[] = "\x03www\x07" "example\x03" "com";
	const uint8_t *names[] = { www };
	struct zone_check_opts o = { .policy_ttl_max = 60, .policy_names = names,
				     .policy_name_count = 1 };
	struct zone *z = NULL;
	struct diag d;

	diag_init(&d, NULL);
	assert_int_equal(zone_parse_string(text, strlen(text), "p.zone", NULL, &d, &z), 0);
	assert_int_equal(zone_check(z, &o, &d), 0);
	assert_int_equal(d.warnings, 1);
	zone_free(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_zone),
		cmocka_unit_test(test_cname_beside_data),
		cmocka_unit_test(test_cname_at_apex),
		cmocka_unit_test(test_missing_soa_ns),
		cmocka_unit_test(test_outside_zone),
		cmocka_unit_test(test_missing_glue),
		cmocka_unit_test(test_class_mismatch),
		cmocka_unit_test(test_dname_rules),
		cmocka_unit_test(test_lint),
		cmocka_unit_test(test_policy_ttl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
