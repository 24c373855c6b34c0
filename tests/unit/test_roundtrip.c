/*
 * parse -> compile -> dump -> parse gives the same records, for a zone with
 * every supported type and for the real, signed root zone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dname.h"
#include "error.h"
#include "snap.h"
#include "zone.h"

static const char ALL_TYPES[] =
	"$ORIGIN example.com.\n$TTL 3600\n"
	"@ SOA ns1 hostmaster 2024010101 7200 900 1209600 300\n"
	"@ NS ns1\n@ NS ns2.example.net.\n"
	"@ MX 10 mail\n"
	"@ TXT \"v=spf1 -all\" \"second \\\"string\\\"\" \"\\255\\000\"\n"
	"@ CAA 0 issue \"letsencrypt.org\"\n"
	"@ CAA 128 tbs \"Unknown\"\n"
	"@ DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+ KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==\n"
	"@ NSEC3PARAM 1 0 0 -\n"
	"@ HTTPS 1 . alpn=\"h2,h3\" port=443 ipv4hint=192.0.2.1,192.0.2.2 ipv6hint=2001:db8::1\n"
	"@ RRSIG SOA 13 2 3600 20250101000000 20240101000000 12345 example.com. "
	"  Dq6Ye6GCgeKoJQDEh5AYVsMbMRrtKIOEnbhJgnlxNLnz6ZZGH7WNgCEnn7mSjT8iU30Wp82W3Xhf9UwTwYm53w==\n"
	"ns1 A 192.0.2.1\nns1 AAAA 2001:db8::1\n"
	"mail A 192.0.2.25\n"
	"www CNAME ns1\n"
	"old DNAME new.example.org.\n"
	"_sip._tcp SRV 10 60 5060 sip\nsip A 192.0.2.60\n"
	"naptr NAPTR 100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.com.\n"
	"ssh SSHFP 4 2 123456789abcdef67890123456789abcdef67890123456789abcdef123456789\n"
	"_443._tcp TLSA 3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6\n"
	"sub NS ns.sub\nns.sub A 192.0.2.53\n"
	"sub DS 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118\n"
	"ptr PTR host.example.net.\n"
	"svc SVCB 0 svc.example.net.\n"
	"a NSEC b.example.com. A NS SOA MX TXT AAAA RRSIG NSEC DNSKEY TYPE65280\n"
	"1vjhl3j9t4sbu2r5mtd7jg11v0vmqs0u NSEC3 1 1 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR A RRSIG\n"
	"gen TYPE65280 \\# 4 0a000001\n"
	"empty TYPE65281 \\# 0\n"
	"*.wild A 192.0.2.99\n"
	"esc\\.aped A 192.0.2.100\n";

/* Sort records so two zones can be compared as sets; owners compared
 * case-insensitively because snapshots store them lower-cased. */
static void assert_same_zone(struct zone *a, struct zone *b)
{
	size_t na, nb;
	zone_sort(a);
	zone_sort(b);
	const struct zone_rr *ra = zone_rrs(a, &na), *rb = zone_rrs(b, &nb);
	size_t ia = 0, ib = 0;

	/* the compiled zone drops exact duplicates: skip them on side a */
	while (ia < na && ib < nb) {
		if (ia > 0 && dname_equal(zone_rr_owner(a, &ra[ia]), zone_rr_owner(a, &ra[ia - 1])) &&
		    ra[ia].type == ra[ia - 1].type && ra[ia].rdlen == ra[ia - 1].rdlen &&
		    !memcmp(zone_rr_rdata(a, &ra[ia]), zone_rr_rdata(a, &ra[ia - 1]), ra[ia].rdlen)) {
			ia++;
			continue;
		}
		assert_true(dname_equal(zone_rr_owner(a, &ra[ia]), zone_rr_owner(b, &rb[ib])));
		assert_int_equal(ra[ia].type, rb[ib].type);
		assert_int_equal(ra[ia].rclass, rb[ib].rclass);
		assert_int_equal(ra[ia].rdlen, rb[ib].rdlen);
		assert_memory_equal(zone_rr_rdata(a, &ra[ia]), zone_rr_rdata(b, &rb[ib]), ra[ia].rdlen);
		ia++;
		ib++;
	}
	assert_int_equal(ia, na);
	assert_int_equal(ib, nb);
}

static void roundtrip(struct zone *z)
{
	struct zone *zs[1] = { z }, *back = NULL;
	struct diag d;
	uint8_t *blob;
	size_t len, tlen;
	char *text;
	struct snap *s;
	FILE *mem;

	diag_init(&d, stderr);
	assert_int_equal(snap_compile(zs, 1, NULL, &d, &blob, &len), 0);
	assert_int_equal(snap_open_mem(blob, len, &d, &s), 0);
	mem = open_memstream(&text, &tlen);
	assert_int_equal(snap_dump(s, mem), 0);
	fclose(mem);
	assert_int_equal(zone_parse_string(text, tlen, "dump", NULL, &d, &back), 0);
	assert_same_zone(z, back);
	zone_free(back);
	snap_close(s);
	free(text);
	free(blob);
}

static void test_all_types(void **state)
{
	(void)state;
	struct zone *z = NULL;
	struct diag d;

	diag_init(&d, stderr);
	assert_int_equal(zone_parse_string(ALL_TYPES, strlen(ALL_TYPES), "all.zone", NULL, &d, &z), 0);
	assert_int_equal(zone_check(z, NULL, &d), 0);
	roundtrip(z);
	zone_free(z);
}

static void test_root_zone(void **state)
{
	(void)state;
	const char *root = getenv("SOURCE_ROOT");
	char path[1024];
	struct zone *z = NULL;
	struct diag d;
	size_t n;

	assert_non_null(root);
	snprintf(path, sizeof(path), "%s/../shared/zones/root.zone", root);
	diag_init(&d, stderr);
	d.hide_warnings = 1;
	if (zone_parse_file(path, NULL, &d, &z) == P53_EIO)
		fail_msg("the root zone is missing at %s (shared/ must sit beside the repository)", path);
	assert_non_null(z);
	assert_int_equal(zone_check(z, NULL, &d), 0);
	zone_rrs(z, &n);
	assert_true(n > 20000);
	roundtrip(z);
	zone_free(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_types),
		cmocka_unit_test(test_root_zone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
