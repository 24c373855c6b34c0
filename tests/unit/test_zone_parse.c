/* Master-file parser: every syntax item of RFC 1035 section 5 and friends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dname.h"
#include "error.h"
#include "rdata.h"
#include "zone.h"

static const uint8_t ORIGIN[] = "\x07" "example" "\x03" "com";

static struct zone *parse_ok(const char *text, struct diag *d)
{
	struct zone_parse_opts o = { .origin = ORIGIN };
	struct zone *z = NULL;
	int ret;

	diag_init(d, stderr);
	ret = zone_parse_string(text, strlen(text), "t.zone", &o, d, &z);
	assert_int_equal(ret, 0);
	assert_non_null(z);
	return z;
}

/* Parse text that must fail; return the first error's text. */
static const char *parse_err(const char *text, struct diag *d)
{
	struct zone_parse_opts o = { .origin = ORIGIN };
	struct zone *z = (struct zone *)1;
	int ret;

	diag_init(d, NULL);
	ret = zone_parse_string(text, strlen(text), "t.zone", &o, d, &z);
	assert_true(ret < 0);
	assert_null(z);
	assert_true(d->errors > 0);
	return d->first;
}

static const struct zone_rr *rr_n(const struct zone *z, size_t i)
{
	size_t n;
	const struct zone_rr *rr = zone_rrs(z, &n);
	assert_true(i < n);
	return &rr[i];
}

static void assert_owner(const struct zone *z, size_t i, const char *text)
{
	char buf[DNAME_TEXT_MAX];
	assert_true(dname_to_text(zone_rr_owner(z, rr_n(z, i)), buf, sizeof(buf)) > 0);
	assert_string_equal(buf, text);
}

static void assert_rdata(const struct zone *z, size_t i, const void *bytes, size_t len)
{
	const struct zone_rr *rr = rr_n(z, i);
	assert_int_equal(rr->rdlen, len);
	assert_memory_equal(zone_rr_rdata(z, rr), bytes, len);
}

static size_t count(const struct zone *z)
{
	size_t n;
	zone_rrs(z, &n);
	return n;
}

static void test_basic_inheritance(void **state)
{
	(void)state;
	struct diag d;
	struct zone *z = parse_ok(
		"$TTL 3600\n"
		"@ IN SOA ns1 hostmaster 1 7200 900 1209600 300\n"
		"  IN NS ns1\n"
		"ns1 300 A 192.0.2.1\n"
		"\t  AAAA 2001:db8::1\n"
		"www.example.com. IN 60 A 192.0.2.2\n"
		"mail 120 IN A 192.0.2.3\n", &d);
	assert_int_equal(count(z), 6);
	assert_owner(z, 0, "example.com.");
	assert_owner(z, 1, "example.com.");
	assert_owner(z, 3, "ns1.example.com.");
	assert_int_equal(rr_n(z, 0)->ttl, 3600);
	assert_int_equal(rr_n(z, 2)->ttl, 300);
	/* $TTL, not the last explicit TTL, applies once $TTL is given */
	assert_int_equal(rr_n(z, 3)->ttl, 3600);
	assert_int_equal(rr_n(z, 3)->type, RRTYPE_AAAA);
	assert_int_equal(rr_n(z, 4)->ttl, 60);
	assert_int_equal(rr_n(z, 5)->ttl, 120);
	assert_int_equal(rr_n(z, 5)->rclass, RRCLASS_IN);
	assert_rdata(z, 2, "\xc0\x00\x02\x01", 4);
	zone_free(z);
}

static void test_last_explicit_ttl(void **state)
{
	(void)state;
	struct diag d;
	/* Without $TTL, RFC 1035 says the last explicit TTL carries on. */
	struct zone *z = parse_ok(
		"@ 500 IN SOA ns1 h 1 2 3 4 5\n"
		"a A 192.0.2.1\n"
		"b 1h30m A 192.0.2.2\n"
		"c A 192.0.2.3\n", &d);
	assert_int_equal(rr_n(z, 1)->ttl, 500);
	assert_int_equal(rr_n(z, 2)->ttl, 5400);
	assert_int_equal(rr_n(z, 3)->ttl, 5400);
	zone_free(z);
}

static void test_soa_minimum_ttl(void **state)
{
	(void)state;
	struct diag d;
	struct zone *z = parse_ok("@ IN SOA ns1 h 1 2 3 4 77\n", &d);
	assert_int_equal(rr_n(z, 0)->ttl, 77);
	assert_int_equal(d.warnings, 1);
	zone_free(z);
	assert_non_null(strstr(parse_err("@ IN A 192.0.2.1\n", &d), "no TTL"));
}

static void test_parentheses_comments(void **state)
{
	(void)state;
	struct diag d;
	struct zone *z = parse_ok(
		"$TTL 60\n"
		"@ IN SOA ns1.example.com. ( ; primary ( in a comment\n"
		"        hostmaster   ; ) still a comment\n"
		"        2024010101   ; serial\n"
		"        1h 15M 2w     ; refresh retry expire\n"
		"        5m )          ; minimum\n"
		"txt TXT ( \"a\" ; c\n"
		"  \"b\" )\n", &d);
	assert_int_equal(count(z), 2);
	const struct zone_rr *soa = rr_n(z, 0);
	const uint8_t *rd = zone_rr_rdata(z, soa);
	/* last five 32-bit fields: serial refresh retry expire minimum */
	const uint8_t tail[] = { 0x78, 0xa3, 0xf1, 0x75, 0, 0, 0x0e, 0x10, 0, 0,
				 0x03, 0x84, 0, 0x12, 0x75, 0, 0, 0, 1, 0x2c };
	assert_memory_equal(rd + soa->rdlen - 20, tail, 20);
	assert_rdata(z, 1, "\x01" "a" "\x01" "b", 4);
	assert_int_equal(rr_n(z, 1)->line, 7);
	zone_free(z);
}

static void test_quoted_and_escapes(void **state)
{
	(void)state;
	struct diag d;
	struct zone *z = parse_ok(
		"$TTL 60\n"
		"t TXT \"a\\\"b\" \"c;d (e)\" \\065x \"\" \"\\255\"\n"
		"a\\.b A 192.0.2.9\n"
		"sp\\032ace A 192.0.2.10\n", &d);
	assert_rdata(z, 0, "\x03" "a\"b" "\x07" "c;d (e)" "\x02" "Ax" "\x00" "\x01\xff", 18);
	/* the escaped dot stays inside the first label */
	assert_memory_equal(zone_rr_owner(z, rr_n(z, 1)), "\x03" "a.b" "\x07" "example", 12);
	assert_int_equal(dname_labels(zone_rr_owner(z, rr_n(z, 1))), 3);
	assert_memory_equal(zone_rr_owner(z, rr_n(z, 2)), "\x06" "sp ace", 7);
	zone_free(z);
}

static void test_generic_rdata(void **state)
{
	(void)state;
	struct diag d;
	struct zone *z = parse_ok(
		"$TTL 60\n"
		"x TYPE65280 \\# 4 0a000001\n"
		"y TYPE65280 \\# 0\n"
		"z A \\# 4 0A000001\n"
		"w TYPE1 \\# 4 0a00 0002\n"
		"v CLASS1 TYPE62347 \\# 2 ( ab\n cd )\n", &d);
	assert_int_equal(count(z), 5);
	assert_int_equal(rr_n(z, 0)->type, 65280);
	assert_rdata(z, 0, "\x0a\x00\x00\x01", 4);
	assert_int_equal(rr_n(z, 1)->rdlen, 0);
	assert_int_equal(rr_n(z, 2)->type, RRTYPE_A);
	assert_rdata(z, 2, "\x0a\x00\x00\x01", 4);
	assert_rdata(z, 3, "\x0a\x00\x00\x02", 4);
	assert_rdata(z, 4, "\xab\xcd", 2);
	zone_free(z);
	parse_err("$TTL 60\nx TYPE65280 \\# 3 0a000001\n", &d);
	parse_err("$TTL 60\nx A \\# 3 0a0000\n", &d);
}

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_include(void **state)
{
	(void)state;
	struct zone_parse_opts o = { .origin = ORIGIN };
	struct zone *z = NULL;
	struct diag d;
	char path[256];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/p53-parse-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	write_file("sub.inc", "host A 192.0.2.50\n@ TXT \"in sub\"\n$ORIGIN deeper.example.com.\nx A 192.0.2.51\n");
	write_file("main.zone",
		   "$TTL 60\n"
		   "@ SOA ns h 1 2 3 4 5\n"
		   "$INCLUDE sub.inc lab.example.com.\n"
		   "after A 192.0.2.52\n"
		   "$INCLUDE sub.inc\n");
	snprintf(path, sizeof(path), "%s/main.zone", tmpdir);
	diag_init(&d, stderr);
	assert_int_equal(zone_parse_file(path, &o, &d, &z), 0);
	assert_int_equal(count(z), 8);
	assert_owner(z, 1, "host.lab.example.com.");
	assert_owner(z, 2, "lab.example.com.");
	assert_owner(z, 3, "x.deeper.example.com.");
	/* the include's $ORIGIN does not leak into the parent */
	assert_owner(z, 4, "after.example.com.");
	assert_owner(z, 5, "host.example.com.");
	assert_string_equal(zone_file_name(z, rr_n(z, 1)->file) + strlen(tmpdir), "/sub.inc");
	assert_int_equal(rr_n(z, 1)->line, 1);
	zone_free(z);

	/* a file that includes itself is stopped, with the place named */
	write_file("loop.zone", "$TTL 60\n$INCLUDE loop.zone\n");
	snprintf(path, sizeof(path), "%s/loop.zone", tmpdir);
	diag_init(&d, NULL);
	assert_true(zone_parse_file(path, &o, &d, &z) < 0);
	assert_null(z);
	assert_non_null(strstr(d.first, "nested"));

	write_file("missing.zone", "$TTL 60\n$INCLUDE nope.inc\n");
	snprintf(path, sizeof(path), "%s/missing.zone", tmpdir);
	diag_init(&d, NULL);
	assert_true(zone_parse_file(path, &o, &d, &z) < 0);
	assert_non_null(strstr(d.first, "missing.zone:2:10: cannot read included file"));

	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	assert_int_equal(system(cmd), 0);
}

static void test_generate(void **state)
{
	(void)state;
	struct diag d;
	struct zone *z = parse_ok(
		"$TTL 60\n"
		"$GENERATE 1-3 host$ A 10.0.0.$\n"
		"$GENERATE 10-14/2 ${0,3}.r 120 IN PTR h-${100,4,x}\n"
		"$GENERATE 255-255 ${0,4,n} PTR x\\$y\n", &d);
	assert_int_equal(count(z), 7);
	assert_owner(z, 0, "host1.example.com.");
	assert_owner(z, 2, "host3.example.com.");
	assert_rdata(z, 2, "\x0a\x00\x00\x03", 4);
	assert_owner(z, 3, "010.r.example.com.");
	assert_owner(z, 5, "014.r.example.com.");
	assert_int_equal(rr_n(z, 5)->ttl, 120);
	assert_memory_equal(zone_rr_rdata(z, rr_n(z, 5)), "\x06" "h-0072", 7);
	assert_owner(z, 6, "f.f.0.0.example.com.");
	assert_memory_equal(zone_rr_rdata(z, rr_n(z, 6)), "\x03" "x$y", 4);
	zone_free(z);
	assert_non_null(strstr(parse_err("$GENERATE 5-1 a A 10.0.0.$\n", &d), "range"));
	assert_non_null(strstr(parse_err("$TTL 1\n$GENERATE 1-2 a${1,2,q} A 10.0.0.$\n", &d), "modifier"));
}

static void test_crlf_and_blank_lines(void **state)
{
	(void)state;
	struct diag d;
	struct zone *z = parse_ok("$TTL 60\r\n\r\n; only a comment\r\na A 192.0.2.1\r\n   \r\nb A 192.0.2.2", &d);
	assert_int_equal(count(z), 2);
	assert_owner(z, 1, "b.example.com.");
	zone_free(z);
}

static void test_error_positions(void **state)
{
	(void)state;
	struct diag d;
	assert_non_null(strstr(parse_err("$TTL 60\nwww A 192.0.2.300\n", &d), "t.zone:2:7:"));
	assert_non_null(strstr(parse_err("$TTL 60\nwww IN\n", &d), "t.zone:2:"));
	assert_non_null(strstr(d.first, "record type"));
	assert_non_null(strstr(parse_err("$TTL 60\nt TXT \"open\n", &d), "t.zone:2:7: unterminated"));
	assert_non_null(strstr(parse_err("$TTL 60\n@ SOA ( ns h 1 2 3 4 5\n", &d), "t.zone:2:7: '(' is never closed"));
	assert_non_null(strstr(parse_err("$TTL 60\na A 192.0.2.1 )\n", &d), "t.zone:2:15: ')' without"));
	assert_non_null(strstr(parse_err("$FOO bar\n", &d), "t.zone:1:1: unknown directive"));
	assert_non_null(strstr(parse_err("$TTL 60\n"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa A 192.0.2.1\n", &d),
		"too long"));
	assert_non_null(strstr(parse_err("$TTL 99999999999\n", &d), "TTL"));
	assert_non_null(strstr(parse_err("$TTL 60\nx MX 70000 mail\n", &d), "t.zone:2:6:"));
	assert_non_null(strstr(parse_err("$TTL 60\na..b A 192.0.2.1\n", &d), "t.zone:2:1:"));
	assert_non_null(strstr(parse_err("$TTL 60\nx ANY \\# 0\n", &d), "meta-type"));
	assert_non_null(strstr(parse_err("  A 192.0.2.1\n", &d), "previous owner"));
}

static void test_whole_rejection(void **state)
{
	(void)state;
	struct diag d;
	/* several errors reported in one run, and no zone returned at all */
	parse_err("$TTL 60\na A 192.0.2.1\nb A nonsense\nc A 192.0.2.3\nd MX x\n", &d);
	assert_int_equal(d.errors, 2);
}

static void test_no_origin(void **state)
{
	(void)state;
	struct zone *z = NULL;
	struct diag d;
	const char *text = "example.net. 60 IN SOA ns.example.net. h.example.net. 1 2 3 4 5\n"
			   "www.example.net. 60 IN A 192.0.2.1\n";

	diag_init(&d, stderr);
	assert_int_equal(zone_parse_string(text, strlen(text), "n.zone", NULL, &d, &z), 0);
	/* the origin comes from the SOA owner */
	assert_memory_equal(zone_origin(z), "\x07" "example" "\x03" "net", 13);
	zone_free(z);
	text = "www 60 IN A 192.0.2.1\n";
	diag_init(&d, NULL);
	assert_true(zone_parse_string(text, strlen(text), "n.zone", NULL, &d, &z) < 0);
	assert_non_null(strstr(d.first, "no origin"));
}

static void test_svcb_quoted_value(void **state)
{
	(void)state;
	struct diag d;
	struct zone *z = parse_ok("$TTL 60\n_svc HTTPS 1 . alpn=\"h2,h3\" port=443\n", &d);
	assert_int_equal(rr_n(z, 0)->type, RRTYPE_HTTPS);
	assert_rdata(z, 0, "\x00\x01\x00" "\x00\x01\x00\x06\x02h2\x02h3" "\x00\x03\x00\x02\x01\xbb", 19);
	zone_free(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_inheritance),
		cmocka_unit_test(test_last_explicit_ttl),
		cmocka_unit_test(test_soa_minimum_ttl),
		cmocka_unit_test(test_parentheses_comments),
		cmocka_unit_test(test_quoted_and_escapes),
		cmocka_unit_test(test_generic_rdata),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_crlf_and_blank_lines),
		cmocka_unit_test(test_error_positions),
		cmocka_unit_test(test_whole_rejection),
		cmocka_unit_test(test_no_origin),
		cmocka_unit_test(test_svcb_quoted_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
