/*
 * test_rdata.c — RDATA presentation <-> wire for every supported type,
 * the RFC 3597 generic form, error reporting, and type/class mnemonics.
 *
 * Expected wire bytes were worked out independently of this code (RFC
 * examples, or by hand with Python's struct/base64), never by running it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dname.h"
#include "error.h"
#include "rdata.h"

#define MAXTOK 4096

static const uint8_t origin[] = "\007example";

static uint8_t wire[RDATA_MAXLEN], wire2[RDATA_MAXLEN];
static char text[300000];
static struct rdata_tok toks[MAXTOK];

/* A small zone-file tokenizer: whitespace separates, "..." is one token
 * with the quotes removed, backslash escapes the next character, and a
 * quote inside a token stays part of it (alpn="h2 h3"). */
static size_t tokenize(const char *s, struct rdata_tok *t)
{
	const char *p = s, *st;
	size_t n = 0;
	bool inq;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || n == MAXTOK)
			return n;
		t[n] = (struct rdata_tok){ .col = (uint32_t)(p - s + 1), .line = 1 };
		if (*p == '"') {
			st = ++p;
			while (*p && *p != '"')
				p += (*p == '\\' && p[1]) ? 2 : 1;
			t[n].quoted = 1;
			t[n].s = st;
			t[n].len = (uint32_t)(p - st);
			if (*p)
				p++;
		} else {
			st = p;
			inq = false;
			while (*p && (inq || (*p != ' ' && *p != '\t'))) {
				if (*p == '\\' && p[1])
					p++;
				else if (*p == '"')
					inq = !inq;
				p++;
			}
			t[n].s = st;
			t[n].len = (uint32_t)(p - st);
		}
		n++;
	}
}

static int parse_into(uint16_t type, const char *s, uint8_t *out,
		      struct rdata_err *err)
{
	size_t n = tokenize(s, toks);

	return rdata_from_text(type, toks, n, origin, out, RDATA_MAXLEN, err);
}

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = 0;
	unsigned v;

	assert_int_equal(strlen(h) % 2, 0);
	while (*h) {
		assert_int_equal(sscanf(h, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

/* wire -> text -> wire must give the same bytes back. RDATA that is not
 * valid for its type prints as "\#", which the parser then refuses. */
static void roundtrip(uint16_t type, const uint8_t *rd, size_t len)
{
	struct rdata_err err;
	int n, m;

	n = rdata_to_text(type, rd, len, text, sizeof(text));
	assert_true(n >= 0);
	assert_int_equal((size_t)n, strlen(text));
	m = parse_into(type, text, wire2, &err);
	if (rdata_check(type, rd, len) < 0) {
		assert_memory_equal(text, "\\# ", 3);
		assert_int_equal(m, P53_ESYNTAX);
		assert_non_null(strstr(err.msg, "not valid"));
		return;
	}
	if (m < 0)
		print_error("type %u: \"%s\" did not parse back: %s (token %zu)\n",
			    type, text, err.msg, err.tok);
	assert_int_equal(m, (int)len);
	assert_memory_equal(wire2, rd, len);
}

/* text -> exact wire bytes, then the round trip. */
static void expect_hex(uint16_t type, const char *s, const char *hex)
{
	static uint8_t want[RDATA_MAXLEN];
	struct rdata_err err;
	size_t wlen = unhex(hex, want);
	int n = parse_into(type, s, wire, &err);

	if (n < 0)
		print_error("type %u \"%s\": %s (token %zu)\n", type, s, err.msg,
			    err.tok);
	assert_int_equal(n, (int)wlen);
	assert_memory_equal(wire, want, wlen);
	roundtrip(type, wire, wlen);
}

/* text -> text form printed back. */
static void expect_text(uint16_t type, const char *s, const char *want)
{
	struct rdata_err err;
	int n = parse_into(type, s, wire, &err);

	assert_true(n >= 0);
	assert_true(rdata_to_text(type, wire, (size_t)n, text, sizeof(text)) >= 0);
	assert_string_equal(text, want);
}

/* text must fail with `code` at token `tok`, with a message containing
 * `frag`. */
static void expect_err(uint16_t type, const char *s, int code, size_t tok,
		       const char *frag)
{
	struct rdata_err err;
	int n = parse_into(type, s, wire, &err);

	if (n != code || err.tok != tok || !strstr(err.msg, frag))
		print_error("type %u \"%s\": got %d at token %zu: %s\n", type, s,
			    n, err.tok, err.msg);
	assert_int_equal(n, code);
	assert_int_equal(err.tok, tok);
	assert_non_null(strstr(err.msg, frag));
}

static void test_addresses(void **state)
{
	(void)state;
	expect_hex(RRTYPE_A, "192.0.2.1", "c0000201");
	expect_hex(RRTYPE_AAAA, "2001:db8::1", "20010db8000000000000000000000001");
	expect_hex(RRTYPE_AAAA, "::ffff:192.0.2.1", "00000000000000000000ffffc0000201");
	expect_hex(RRTYPE_EUI48, "00-00-5e-00-53-2a", "00005e00532a");
	expect_hex(RRTYPE_EUI64, "00-00-5E-EF-10-00-00-2a", "00005eef1000002a");
	expect_text(RRTYPE_AAAA, "2001:DB8:0:0::1", "2001:db8::1");
	expect_text(RRTYPE_EUI48, "00-00-5E-00-53-2A", "00-00-5e-00-53-2a");

	expect_err(RRTYPE_A, "192.0.2.1.5", P53_ESYNTAX, 0, "IPv4");
	expect_err(RRTYPE_A, "192.0.2", P53_ESYNTAX, 0, "IPv4");
	expect_err(RRTYPE_A, "", P53_ESYNTAX, 0, "missing IPv4 address");
	expect_err(RRTYPE_A, "192.0.2.1 192.0.2.2", P53_ESYNTAX, 1, "unexpected");
	expect_err(RRTYPE_AAAA, "2001:db8::1::2", P53_ESYNTAX, 0, "IPv6");
	expect_err(RRTYPE_EUI48, "00-00-5e-00-53", P53_ESYNTAX, 0, "EUI-48");
	expect_err(RRTYPE_EUI64, "00:00:5e:ef:10:00:00:2a", P53_ESYNTAX, 0, "EUI-64");
}

static void test_names(void **state)
{
	struct rdata_err err;
	size_t n;

	(void)state;
	expect_hex(RRTYPE_NS, "ns1", "036e7331076578616d706c6500");
	expect_hex(RRTYPE_CNAME, "www.example.com.", "03777777076578616d706c6503636f6d00");
	expect_hex(RRTYPE_DNAME, "example.net.", "076578616d706c65036e657400");
	expect_hex(RRTYPE_PTR, "@", "076578616d706c6500");
	expect_hex(RRTYPE_MX, "10 mail", "000a046d61696c076578616d706c6500");
	expect_hex(RRTYPE_MX, "0 .", "000000");
	expect_hex(RRTYPE_KX, "10 kx.example.", "000a026b78076578616d706c6500");
	expect_hex(RRTYPE_AFSDB, "1 afsdb.example.",
		   "000105616673646207" "6578616d706c6500");
	expect_hex(RRTYPE_RP, "mbox.example. txt.example.",
		   "046d626f78076578616d706c650003747874076578616d706c6500");
	expect_hex(RRTYPE_SRV, "0 5 5060 sip.example.com.",
		   "0000000513c403736970076578616d706c6503636f6d00");
	/* Case is kept; names print absolute with escapes. */
	expect_hex(RRTYPE_CNAME, "A\\.b\\032C.", "05412e622043" "00");
	expect_text(RRTYPE_CNAME, "A\\.b\\032C.", "A\\.b\\ C.");
	expect_text(RRTYPE_MX, "10 mail", "10 mail.example.");

	expect_err(RRTYPE_MX, "70000 mail", P53_ERANGE, 0, "0-65535");
	expect_err(RRTYPE_MX, "-1 mail", P53_ESYNTAX, 0, "0-65535");
	expect_err(RRTYPE_MX, "10", P53_ESYNTAX, 1, "missing exchange");
	expect_err(RRTYPE_NS, "a..b", P53_ESYNTAX, 0, "domain name");
	expect_err(RRTYPE_SRV, "0 5 65536 x.", P53_ERANGE, 2, "port");

	/* Relative names need an origin. */
	n = tokenize("mail", toks);
	assert_int_equal(rdata_from_text(RRTYPE_NS, toks, n, NULL, wire,
					 sizeof(wire), &err), P53_ESYNTAX);
	assert_int_equal(err.tok, 0);
	assert_non_null(strstr(err.msg, "origin"));
}

static void test_soa(void **state)
{
	(void)state;
	expect_hex(RRTYPE_SOA, "ns1 hostmaster 2024010101 1h 15M 1w2d 3600",
		   "036e7331076578616d706c65000a686f73746d6173746572076578616d706c6500"
		   "78a3f17500000e1000000384000bdd8000000e10");
	/* Every unit, mixed case. */
	expect_hex(RRTYPE_SOA, ". . 0 1W2d3H4m5S 0s 4294967295 1d",
		   "0000" "00000000" "000c08a5" "00000000" "ffffffff" "00015180");
	expect_text(RRTYPE_SOA, ". . 1 1h 2m 3s 4d", ". . 1 3600 120 3 345600");

	expect_err(RRTYPE_SOA, ". . 4294967296 1 1 1 1", P53_ERANGE, 2,
		   "0-4294967295");
	expect_err(RRTYPE_SOA, ". . 1 4294967296 1 1 1", P53_ERANGE, 3,
		   "0-4294967295");
	expect_err(RRTYPE_SOA, ". . 1 1 1 1 7102w", P53_ERANGE, 6, "0-4294967295");
	expect_err(RRTYPE_SOA, ". . 1 1x 1 1 1", P53_ESYNTAX, 3, "refresh");
	expect_err(RRTYPE_SOA, ". . 1 1h30 1 1 1", P53_ESYNTAX, 3, "refresh");
	expect_err(RRTYPE_SOA, ". . 1 h 1 1 1", P53_ESYNTAX, 3, "refresh");
	expect_err(RRTYPE_SOA, ". . 1 1 1 1", P53_ESYNTAX, 6, "missing minimum");
}

static void test_strings(void **state)
{
	char line[300], hex[600];

	(void)state;
	expect_hex(RRTYPE_TXT, "\"hello world\" \"\" plain\\032x",
		   "0b68656c6c6f20776f726c6400" "07706c61696e2078");
	expect_hex(RRTYPE_SPF, "\"v=spf1 -all\"", "0b763d73706631202d616c6c");
	expect_hex(RRTYPE_TXT, "\"a\\\"b\\\\c\\001\\255\"", "076122625c6301ff");
	expect_hex(RRTYPE_TXT, "\"\"", "00");
	expect_hex(RRTYPE_HINFO, "\"Generic PC\" Linux",
		   "0a47656e65726963205043054c696e7578");
	/* Always quoted, escapes only where needed. */
	expect_text(RRTYPE_TXT, "\"a\\\"b\\\\c\\001\\255 ;()\" x",
		    "\"a\\\"b\\\\c\\001\\255 ;()\" \"x\"");

	/* "ok" then a quoted string of 256 bytes: the second token is bad. */
	strcpy(line, "ok \"");
	memset(line + 4, 'x', 256);
	strcpy(line + 260, "\"");
	expect_err(RRTYPE_TXT, line, P53_ERANGE, 1, "255");
	/* 255 bytes, partly written as escapes, is the limit. */
	strcpy(line, "\\120\\120");
	memset(line + 8, 'x', 253);
	line[261] = '\0';
	strcpy(hex, "ff");
	for (int i = 0; i < 255; i++)
		strcat(hex, "78");
	expect_hex(RRTYPE_TXT, line, hex);
	strcat(line, "x");
	expect_err(RRTYPE_TXT, line, P53_ERANGE, 0, "255");

	expect_err(RRTYPE_TXT, "", P53_ESYNTAX, 0, "missing text");
	expect_err(RRTYPE_TXT, "\"ab\\25\"", P53_ESYNTAX, 0, "escape");
	expect_err(RRTYPE_TXT, "a \"ab\\256\"", P53_ESYNTAX, 1, "escape");
	expect_err(RRTYPE_HINFO, "\"PC\"", P53_ESYNTAX, 1, "missing OS");
}

static void test_caa_uri_naptr(void **state)
{
	(void)state;
	expect_hex(RRTYPE_CAA, "0 issue \"ca.example.net\"",
		   "0005697373756563612e6578616d706c652e6e6574");
	expect_hex(RRTYPE_CAA, "128 tbs Unknown", "8003746273556e6b6e6f776e");
	expect_hex(RRTYPE_CAA, "0 issue \"\"", "00056973737565");
	expect_hex(RRTYPE_CAA, "0 iodef \"mailto:a@b.c; x\"",
		   "0005696f6465666d61696c746f3a6140622e633b2078");
	expect_text(RRTYPE_CAA, "0 issue ca.example.net", "0 issue \"ca.example.net\"");
	expect_hex(RRTYPE_URI, "10 1 \"ftp://ftp1.example.com/public\"",
		   "000a00016674703a2f2f667470312e6578616d706c652e636f6d2f7075626c6963");
	expect_hex(RRTYPE_NAPTR, "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.com.",
		   "0064000a0153075349502b44325500045f736970045f756470076578616d706c6503636f6d00");

	expect_err(RRTYPE_CAA, "0 is-sue \"x\"", P53_ESYNTAX, 1, "letters and digits");
	expect_err(RRTYPE_CAA, "0 \"\" \"x\"", P53_ESYNTAX, 1, "tag");
	expect_err(RRTYPE_CAA, "256 issue \"x\"", P53_ERANGE, 0, "0-255");
	expect_err(RRTYPE_CAA, "0 issue a b", P53_ESYNTAX, 3, "unexpected");
	expect_err(RRTYPE_URI, "10 1", P53_ESYNTAX, 2, "missing target");
}

static void test_hex_types(void **state)
{
	(void)state;
	expect_hex(RRTYPE_SSHFP, "2 1 123456789abcdef67890123456789abcdef67890",
		   "0201123456789abcdef67890123456789abcdef67890");
	/* Hex split over tokens, even inside a byte. */
	expect_hex(RRTYPE_TLSA, "3 1 1 0C72AC70B745AC19998811B131D662C9 AC69DBDBE7CB23E5B514B566 6 4C5D3D6",
		   "0301010c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6");
	expect_hex(RRTYPE_SMIMEA, "3 0 0 3082", "0300003082");
	expect_hex(RRTYPE_DS, "60485 5 1 2BB183AF5F22588179A53B0A 98631FAD1A292118",
		   "ec4505012bb183af5f22588179a53b0a98631fad1a292118");
	expect_hex(RRTYPE_DS, "60485 RSASHA1 1 2BB183AF5F22588179A53B0A98631FAD1A292118",
		   "ec4505012bb183af5f22588179a53b0a98631fad1a292118");
	expect_hex(RRTYPE_CDS, "0 0 0 00", "0000000000");
	expect_hex(RRTYPE_ZONEMD,
		   "2018031500 1 1 FEBE3D4CE2EC2FFA4BA99D46CD69D6D29711E55217057BEE "
		   "7EB1A7B641A47BA7FED2DD5B97AE499FAFA4F22C6BD647DE",
		   "7848b78c0101febe3d4ce2ec2ffa4ba99d46cd69d6d29711e55217057bee7eb1a7b641a47ba7fed2dd5b97ae499fafa4f22c6bd647de");

	expect_err(RRTYPE_DS, "60485 5 1", P53_ESYNTAX, 3, "missing digest");
	expect_err(RRTYPE_DS, "60485 5 1 2BB1 83AG", P53_ESYNTAX, 4, "hex");
	expect_err(RRTYPE_DS, "60485 5 1 2BB 18", P53_ESYNTAX, 4, "odd");
	expect_err(RRTYPE_DS, "60485 NOSUCHALG 1 00", P53_ESYNTAX, 1, "algorithm");
	expect_err(RRTYPE_SSHFP, "2 256 00", P53_ERANGE, 1, "0-255");
}

static void test_dnskey_rrsig(void **state)
{
	(void)state;
	/* RFC 4034 2.3, base64 split over tokens. */
	expect_hex(RRTYPE_DNSKEY,
		   "256 3 5 AQPSKmynfzW4kyBv015MUG2DeIQ3 Cbl+BBZH4b/0PY1kxkmvHjcZc8no "
		   "kfzj31GajIQKY+5CptLr3buXA10h WqTkF7H6RfoRqXQeogmMHfpftf6z "
		   "Mv1LyBUgia7za6ZEzOJBOztyvhjL 742iU/TpPSEDhm2SNKLijfUppn1U aNvv4w==",
		   "010003050103d22a6ca77f35b893206fd35e4c506d8378843709b97e041647e1bff43d8d64c649af1e371973c9e891fce3df519a8c840a63ee42a6d2ebddbb97035d215aa4e417b1fa45fa11a9741ea2098c1dfa5fb5feb332fd4bc8152089aef36ba644cce2413b3b72be18cbef8da253f4e93d2103866d9234a2e28df529a67d5468dbefe3");
	expect_hex(RRTYPE_CDNSKEY, "0 3 0 AA==", "0000030000");
	expect_hex(RRTYPE_DNSKEY, "257 3 ED25519 AQID", "0101030f010203");
	expect_hex(RRTYPE_DNSKEY, "257 3 13 AQ==", "0101030d01");
	expect_text(RRTYPE_DNSKEY, "257 3 13 AQ ID BA==", "257 3 13 AQIDBA==");
	expect_hex(RRTYPE_OPENPGPKEY, "AQID", "010203");
	expect_hex(RRTYPE_DHCID, "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=",
		   "000201636fc0b8271c82825bb1ac5c41cf5351aa69b4febd94e8f17cdb95000da48c40");

	/* RFC 4034 3.3 */
	expect_hex(RRTYPE_RRSIG,
		   "A 5 3 86400 20030322173103 20030220173103 2642 example.com. "
		   "oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTr PYGv07h108dUKGMeDPKijVCHX3DDKdfb+v6o "
		   "B9wfuh3DTJXUAfI/M0zmO/zz8bW0Rznl8O3t GNazPwQKkRN20XPXV6nwwfoXmJQbsLNrLfkG "
		   "J5D6fwFm8nN+6pBzeDQfsS3Ap3o=",
		   "00010503000151803e7c9dd73e5510d70a52076578616d706c6503636f6d00a090755ba58d1affa576f4375831b4310920e481218d18a9f164eb3d81afd3b875d3c75428631e0cf2a28d50875f70c329d7dbfafea807dc1fba1dc34c95d401f23f334ce63bfcf3f1b5b44739e5f0eded18d6b33f040a911376d173d757a9f0c1fa1798941bb0b36b2df9062790fa7f0166f2737eea907378341fb12dc0a77a");
	/* Plain integer times print as dates; mnemonic algorithm; TTL units. */
	expect_hex(RRTYPE_RRSIG, "TYPE65280 RSASHA256 2 1h 4294967295 0 1 . AQID",
		   "ff000802" "00000e10" "ffffffff" "00000000" "0001" "00" "010203");
	expect_text(RRTYPE_RRSIG, "TYPE65280 RSASHA256 2 1h 4294967295 0 1 . AQID",
		    "TYPE65280 8 2 3600 21060207062815 19700101000000 1 . AQID");
	expect_text(RRTYPE_RRSIG, "aaaa 13 2 3600 20240229235959 20240101000000 1 . AQID",
		    "AAAA 13 2 3600 20240229235959 20240101000000 1 . AQID");

	expect_err(RRTYPE_DNSKEY, "256 3 8 AwEA%%%", P53_ESYNTAX, 3, "base64");
	expect_err(RRTYPE_DNSKEY, "256 3 8 AwEA AQ*B", P53_ESYNTAX, 4, "base64");
	expect_err(RRTYPE_DNSKEY, "256 3 8 AwE", P53_ESYNTAX, 3, "base64");
	expect_err(RRTYPE_DNSKEY, "256 3 8 AQ", P53_ESYNTAX, 3, "base64");
	expect_err(RRTYPE_DNSKEY, "256 3 8 AwEAA", P53_ESYNTAX, 3, "base64");
	expect_err(RRTYPE_DNSKEY, "256 3 8 AQ= =A", P53_ESYNTAX, 4, "base64");
	expect_err(RRTYPE_DNSKEY, "256 3 8 AQ===", P53_ESYNTAX, 3, "base64");
	expect_err(RRTYPE_DNSKEY, "256 3 8", P53_ESYNTAX, 3, "missing public key");
	expect_err(RRTYPE_RRSIG, "A 5 3 86400 20031322173103 20030220173103 1 . AQ",
		   P53_ERANGE, 4, "expiration");
	expect_err(RRTYPE_RRSIG, "A 5 3 86400 20030230000000 20030220173103 1 . AQ",
		   P53_ERANGE, 4, "expiration");
	expect_err(RRTYPE_RRSIG, "A 5 3 86400 4294967296 0 1 . AQ",
		   P53_ERANGE, 4, "YYYYMMDDHHmmSS");
	expect_err(RRTYPE_RRSIG, "FOO 5 3 86400 0 0 1 . AQ", P53_ESYNTAX, 0,
		   "type covered");
}

static void test_nsec_family(void **state)
{
	(void)state;
	/* RFC 4034 4.3, types listed out of order. */
	expect_hex(RRTYPE_NSEC, "host.example.com. TYPE1234 NSEC A RRSIG mx",
		   "04686f7374076578616d706c6503636f6d000006400100000003041b000000000000000000000000000000000000000000000000000020");
	expect_text(RRTYPE_NSEC, "host.example.com. TYPE1234 NSEC A RRSIG mx A",
		    "host.example.com. A MX RRSIG NSEC TYPE1234");
	expect_hex(RRTYPE_NSEC, "a.", "016100");
	/* RFC 5155 appendix A */
	expect_hex(RRTYPE_NSEC3,
		   "1 1 12 aabbccdd 2t7b4g4vsa5smi47k61mv5bv1a22bojr MX DNSKEY NS SOA NSEC3PARAM RRSIG",
		   "0101000c04aabbccdd14174eb2409fe28bcb4887a1836f957f0a8425e27b000722010000000290");
	expect_text(RRTYPE_NSEC3, "1 0 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR",
		    "1 0 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR");
	expect_hex(RRTYPE_NSEC3, "1 0 0 - 00", "0100000000" "0100");
	expect_hex(RRTYPE_NSEC3PARAM, "1 0 0 -", "0100000000");
	expect_hex(RRTYPE_NSEC3PARAM, "1 0 12 aabbccdd", "0100000c04aabbccdd");
	/* RFC 7477 2.1 */
	expect_hex(RRTYPE_CSYNC, "66 3 A NS AAAA", "000000420003000460000008");
	expect_hex(RRTYPE_CSYNC, "66 3", "000000420003");

	expect_err(RRTYPE_NSEC, "a. A FOO", P53_ESYNTAX, 2, "unknown RR type");
	expect_err(RRTYPE_NSEC3, "1 0 0 - 2t7b4g4w", P53_ESYNTAX, 4, "base32hex");
	expect_err(RRTYPE_NSEC3, "1 0 0 - 2t7", P53_ESYNTAX, 4, "base32hex");
	expect_err(RRTYPE_NSEC3, "1 0 0 - 2t7b4g4v=", P53_ESYNTAX, 4, "base32hex");
	expect_err(RRTYPE_NSEC3, "1 0 0 abc 00", P53_ESYNTAX, 3, "salt");
	expect_err(RRTYPE_NSEC3, "1 0 65536 - 00", P53_ERANGE, 2, "iterations");
	expect_err(RRTYPE_NSEC3PARAM, "1 0 0", P53_ESYNTAX, 3, "missing salt");
}

static void test_svcb(void **state)
{
	(void)state;
	/* RFC 9460 appendix D */
	expect_hex(RRTYPE_HTTPS, "0 foo.example.com.",
		   "000003666f6f076578616d706c6503636f6d00");
	expect_hex(RRTYPE_SVCB, "1 .", "000100");
	expect_hex(RRTYPE_SVCB, "16 foo.example.com. port=53",
		   "001003666f6f076578616d706c6503636f6d00000300020035");
	expect_hex(RRTYPE_SVCB, "1 foo.example.com. key667=hello",
		   "000103666f6f076578616d706c6503636f6d00029b000568656c6c6f");
	expect_hex(RRTYPE_SVCB, "1 foo.example.com. key667=\"hello\\210qoo\"",
		   "000103666f6f076578616d706c6503636f6d00029b000968656c6c6fd2716f6f");
	expect_hex(RRTYPE_SVCB, "1 foo.example.com. ipv6hint=\"2001:db8::1,2001:db8::53:1\"",
		   "000103666f6f076578616d706c6503636f6d00000600202001"
		   "0db800000000000000000000000120010db8000000000000000000530001");
	expect_hex(RRTYPE_SVCB, "1 example.com. ipv6hint=\"2001:db8:122:344::192.0.2.33\"",
		   "0001076578616d706c6503636f6d000006001020010db80122034400000000c0000221");
	expect_hex(RRTYPE_SVCB,
		   "16 foo.example.org. alpn=h2,h3-19 mandatory=ipv4hint,alpn ipv4hint=192.0.2.1",
		   "001003666f6f076578616d706c65036f7267000000000400010004000100090268320568332d313900040004c0000201");
	expect_hex(RRTYPE_SVCB, "16 foo.example.org. alpn=\"f\\\\\\\\oo\\\\,bar,h2\"",
		   "001003666f6f076578616d706c65036f7267000001000c08665c6f6f2c626172026832");
	expect_hex(RRTYPE_SVCB, "16 foo.example.org. alpn=f\\\\\\092oo\\092,bar,h2",
		   "001003666f6f076578616d706c65036f7267000001000c08665c6f6f2c626172026832");

	/* Keys sorted on the wire whatever the text order; fully quoted
	 * token; no-default-alpn; ech; dohpath; generic keys. */
	expect_hex(RRTYPE_HTTPS,
		   "1 . ech=AQID \"port=443\" no-default-alpn alpn=h2 key65000 dohpath=/q{?dns}",
		   "000100" "00010003026832" "00020000" "00030002" "01bb" "00050003010203"
		   "00070008" "2f717b3f646e737d" "fde80000");
	expect_err(RRTYPE_HTTPS, "1 . dohpath=/q{?dns} key7=/x", P53_ESYNTAX, 3,
		   "duplicate");
	expect_text(RRTYPE_HTTPS, "1 . port=443 alpn=\"h2,h3\" ipv4hint=192.0.2.1,192.0.2.2",
		    "1 . alpn=h2,h3 port=443 ipv4hint=192.0.2.1,192.0.2.2");
	expect_text(RRTYPE_HTTPS, "1 . alpn=\"f\\\\\\\\oo\\\\,bar,h2\" key9=\"a b;\\\"\"",
		    "1 . alpn=f\\\\\\\\oo\\\\,bar,h2 key9=a\\032b\\059\\034");
	/* A known key given as keyNNNNN is printed by its name. */
	expect_text(RRTYPE_HTTPS, "1 . key1=\\002h2 key3=\\001\\187",
		    "1 . alpn=h2 port=443");

	expect_err(RRTYPE_HTTPS, "1 . foo=bar", P53_ESYNTAX, 2, "unknown SvcParam key");
	expect_err(RRTYPE_HTTPS, "1 . alpn=h2 port=1 alpn=h3", P53_ESYNTAX, 4, "duplicate");
	expect_err(RRTYPE_HTTPS, "1 . key1=\\002h2 alpn=h3", P53_ESYNTAX, 3, "duplicate");
	expect_err(RRTYPE_HTTPS, "1 . mandatory=key123", P53_ESYNTAX, 2, "not present");
	expect_err(RRTYPE_HTTPS, "1 . mandatory=mandatory", P53_ESYNTAX, 2, "itself");
	expect_err(RRTYPE_HTTPS, "1 . mandatory=port,port port=1", P53_ESYNTAX, 2, "twice");
	expect_err(RRTYPE_HTTPS, "1 . no-default-alpn=abc", P53_ESYNTAX, 2, "no value");
	expect_err(RRTYPE_HTTPS, "1 . mandatory", P53_ESYNTAX, 2, "needs a value");
	expect_err(RRTYPE_HTTPS, "1 . alpn", P53_ESYNTAX, 2, "needs a value");
	expect_err(RRTYPE_HTTPS, "1 . alpn=h2,,h3", P53_ESYNTAX, 2, "empty");
	expect_err(RRTYPE_HTTPS, "1 . port=", P53_ESYNTAX, 2, "needs a value");
	expect_err(RRTYPE_HTTPS, "1 . port=65536", P53_ESYNTAX, 2, "0-65535");
	expect_err(RRTYPE_HTTPS, "1 . ipv4hint=192.0.2.1,", P53_ESYNTAX, 2, "IPv4");
	expect_err(RRTYPE_HTTPS, "1 . ipv6hint=192.0.2.1", P53_ESYNTAX, 2, "IPv6");
	expect_err(RRTYPE_HTTPS, "1 . ech=A", P53_ESYNTAX, 2, "base64");
	expect_err(RRTYPE_HTTPS, "1 . key65535=x", P53_ESYNTAX, 2, "unknown");
	expect_err(RRTYPE_HTTPS, "1 . key01=x", P53_ESYNTAX, 2, "unknown");
	expect_err(RRTYPE_HTTPS, "1 . key3=\\001", P53_ESYNTAX, 2, "wire format");
	expect_err(RRTYPE_HTTPS, "1 . alpn=\"h2", P53_ESYNTAX, 2, "unterminated");
	expect_err(RRTYPE_HTTPS, "1 . alpn=\"h2\\\"", P53_ESYNTAX, 2, "unterminated");
	expect_err(RRTYPE_SVCB, "1", P53_ESYNTAX, 1, "missing target name");
}

static void test_loc(void **state)
{
	(void)state;
	/* RFC 1876 example; defaults for the precisions not given. */
	expect_hex(RRTYPE_LOC, "42 21 54 N 71 06 18 W -24m 30m",
		   "00331613" "89172dd0" "70be15f0" "00988d20");
	expect_text(RRTYPE_LOC, "42 21 54 N 71 06 18 W -24m 30m",
		    "42 21 54.000 N 71 6 18.000 W -24.00m 30.00m 10000.00m 10.00m");
	expect_text(RRTYPE_LOC, "0 S 180 E 42849672.95 0 90000000 0.01",
		    "0 0 0.000 N 180 0 0.000 E 42849672.95m 0.00m 90000000.00m 0.01m");
	expect_text(RRTYPE_LOC, "89 59 59.999 s 1 e 0.5m",
		    "89 59 59.999 S 1 0 0.000 E 0.50m 1.00m 10000.00m 10.00m");

	expect_err(RRTYPE_LOC, "91 N 0 E 0", P53_ERANGE, 0, "latitude");
	expect_err(RRTYPE_LOC, "90 1 N 0 E 0", P53_ERANGE, 2, "latitude");
	expect_err(RRTYPE_LOC, "42 60 N 0 E 0", P53_ESYNTAX, 1, "minutes");
	expect_err(RRTYPE_LOC, "42 N 0 X 0", P53_ESYNTAX, 3, "E or W");
	expect_err(RRTYPE_LOC, "42 N 0 E -100000.01m", P53_ERANGE, 4, "altitude");
	expect_err(RRTYPE_LOC, "42 N 0 E 0 90000000.01", P53_ERANGE, 5, "size");
	expect_err(RRTYPE_LOC, "42 N 0 E 0 1 1 1 1", P53_ESYNTAX, 8, "unexpected");
}

static void test_generic(void **state)
{
	static const uint8_t a[4] = { 10, 0, 0, 1 };
	struct rdata_err err;

	(void)state;
	expect_hex(65280, "\\# 4 0a000001", "0a000001");
	expect_text(65280, "\\# 4 0a000001", "\\# 4 0A000001");
	expect_hex(65280, "\\# 0", "");
	expect_text(65280, "\\# 0", "\\# 0");
	expect_hex(65280, "\\# 5 0 a0000 01ff", "0a000001ff");
	/* Known types take it too and print in their own form. */
	expect_hex(RRTYPE_A, "\\# 4 0A 00 00 01", "0a000001");
	expect_text(RRTYPE_A, "\\# 4 0a000001", "10.0.0.1");
	expect_text(RRTYPE_MX, "\\# 3 000a00", "10 .");
	/* A type without a text format here only has the generic form. */
	expect_hex(RRTYPE_CERT, "\\# 2 abcd", "abcd");
	expect_err(RRTYPE_CERT, "1 2 3 AAAA", P53_ESYNTAX, 0, "\\#");

	expect_err(RRTYPE_A, "\\# 3 0a0000", P53_ESYNTAX, 2, "A");
	expect_err(RRTYPE_A, "\\# 0", P53_ESYNTAX, 1, "not valid");
	expect_err(RRTYPE_MX, "\\# 3 000a01", P53_ESYNTAX, 2, "MX");
	expect_err(65280, "\\# 5 0a000001", P53_ESYNTAX, 1, "length");
	expect_err(65280, "\\# 0 00", P53_ESYNTAX, 1, "length");
	expect_err(65280, "\\# 2 0a0", P53_ESYNTAX, 2, "odd");
	expect_err(65280, "\\# 1 zz", P53_ESYNTAX, 2, "hex");
	expect_err(65280, "\\#", P53_ESYNTAX, 1, "length");
	expect_err(65280, "\\# 65536", P53_ERANGE, 1, "0-65535");
	/* Quoted "\#" is not the generic marker. */
	expect_hex(RRTYPE_TXT, "\"\\#\" 0", "0123" "0130");

	/* Unknown types and non-decoding RDATA print generically. */
	assert_int_equal(rdata_to_text(65280, a, 4, text, sizeof(text)), 13);
	assert_string_equal(text, "\\# 4 0A000001");
	assert_int_equal(rdata_to_text(RRTYPE_A, a, 3, text, sizeof(text)), 11);
	assert_string_equal(text, "\\# 3 0A0000");
	assert_int_equal(rdata_to_text(RRTYPE_A, NULL, 0, text, sizeof(text)), 4);
	assert_string_equal(text, "\\# 0");
	assert_int_equal(rdata_to_text(RRTYPE_AAAA, a, 4, text, sizeof(text)), 13);
	assert_int_equal(rdata_to_text(RRTYPE_A, a, 4, text, 8), P53_ESPACE);
	assert_int_equal(rdata_to_text(RRTYPE_A, a, 4, text, 9), 8);
	assert_string_equal(text, "10.0.0.1");
	assert_int_equal(rdata_to_text(RRTYPE_A, a, 4, text, 0), P53_ESPACE);

	/* Output space runs out. */
	size_t n = tokenize("\\# 4 0a000001", toks);
	assert_int_equal(rdata_from_text(65280, toks, n, NULL, wire, 3, &err),
			 P53_ESPACE);
	n = tokenize("\"abc\" \"def\"", toks);
	assert_int_equal(rdata_from_text(RRTYPE_TXT, toks, n, NULL, wire, 7, &err),
			 P53_ESPACE);
	assert_int_equal(err.tok, 1);
	assert_int_equal(rdata_from_text(RRTYPE_TXT, toks, n, NULL, wire, 8, NULL), 8);
}

static void test_check(void **state)
{
	struct { uint16_t type; const char *hex; int ok; } cases[] = {
		{ RRTYPE_A, "0a000001", 1 },
		{ RRTYPE_A, "0a0000", 0 },
		{ RRTYPE_A, "0a00000101", 0 },
		{ RRTYPE_NS, "0361626300", 1 },
		{ RRTYPE_NS, "03616263", 0 },
		{ RRTYPE_NS, "c00c", 0 },
		{ RRTYPE_NS, "036162630000", 0 },
		{ RRTYPE_TXT, "", 0 },
		{ RRTYPE_TXT, "00", 1 },
		{ RRTYPE_TXT, "0261", 0 },
		{ RRTYPE_SOA, "0000000000010000000200000003000000040000000500", 0 },
		{ RRTYPE_SOA, "00000000000100000002000000030000000400000005", 1 },
		/* bitmaps: not canonical -> not valid */
		{ RRTYPE_NSEC, "00000140", 1 },
		{ RRTYPE_NSEC, "0000024000", 0 },
		{ RRTYPE_NSEC, "00000100", 0 },
		{ RRTYPE_NSEC, "00" "010140" "000140", 0 },
		{ RRTYPE_NSEC, "00" "0021" "40", 0 },
		{ RRTYPE_NSEC3, "0100000000", 0 },
		{ RRTYPE_NSEC3, "010000000001ff", 1 },
		/* SVCB: keys ascending, values well-formed, mandatory present */
		{ RRTYPE_SVCB, "000100" "000300020035", 1 },
		{ RRTYPE_SVCB, "000100" "00030002003500010003026832", 0 },
		{ RRTYPE_SVCB, "000100" "000300020035" "000300020035", 0 },
		{ RRTYPE_SVCB, "000100" "0003000100", 0 },
		{ RRTYPE_SVCB, "000100" "00010002" "0268", 0 },
		{ RRTYPE_SVCB, "000100" "00010000", 0 },
		{ RRTYPE_SVCB, "000100" "0005000101", 1 },
		{ RRTYPE_SVCB, "000100" "00050000", 1 },
		{ RRTYPE_SVCB, "000100" "000000020003", 0 },
		{ RRTYPE_SVCB, "000100" "000000020003000300020035", 1 },
		{ RRTYPE_SVCB, "000100" "0002000101", 0 },
		{ RRTYPE_SVCB, "000100" "ffff0000", 0 },
		{ RRTYPE_CAA, "000569737375656162", 1 },
		{ RRTYPE_CAA, "0005697373752d6162", 0 },
		{ RRTYPE_CAA, "0000", 0 },
		{ RRTYPE_LOC, "00331613" "89172dd0" "70be15f0" "00988d20", 1 },
		{ RRTYPE_LOC, "01331613" "89172dd0" "70be15f0" "00988d20", 0 },
		{ 65280, "", 1 },
		{ 65280, "ff", 1 },
		{ RRTYPE_CERT, "ff", 1 },
	};
	uint8_t rd[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = unhex(cases[i].hex, rd);
		int rc = rdata_check(cases[i].type, rd, n);
		if ((rc == 0) != cases[i].ok)
			print_error("case %zu: type %u %s -> %d\n", i,
				    cases[i].type, cases[i].hex, rc);
		assert_int_equal(rc == 0, cases[i].ok);
		/* Whatever the verdict, printing must round-trip. */
		roundtrip(cases[i].type, rd, n);
	}
	assert_int_equal(rdata_check(RRTYPE_A, NULL, 4), P53_EFORMAT);
	assert_int_equal(rdata_check(RRTYPE_A, rd, 70000), P53_EFORMAT);
}

static void test_target(void **state)
{
	static const uint8_t mx[] = { 0, 10, 1, 'a', 0 };
	static const uint8_t srv[] = { 0, 0, 0, 5, 0x13, 0xc4, 1, 'b', 0 };
	static const uint8_t ns[] = { 1, 'c', 0 };

	(void)state;
	assert_ptr_equal(rdata_target(RRTYPE_MX, mx, sizeof(mx)), mx + 2);
	assert_ptr_equal(rdata_target(RRTYPE_KX, mx, sizeof(mx)), mx + 2);
	assert_ptr_equal(rdata_target(RRTYPE_AFSDB, mx, sizeof(mx)), mx + 2);
	assert_ptr_equal(rdata_target(RRTYPE_HTTPS, mx, sizeof(mx)), mx + 2);
	assert_ptr_equal(rdata_target(RRTYPE_SVCB, mx, sizeof(mx)), mx + 2);
	assert_null(rdata_target(RRTYPE_MX, mx, sizeof(mx) - 1));
	assert_null(rdata_target(RRTYPE_MX, mx, 2));
	assert_ptr_equal(rdata_target(RRTYPE_SRV, srv, sizeof(srv)), srv + 6);
	assert_null(rdata_target(RRTYPE_SRV, srv, 6));
	assert_ptr_equal(rdata_target(RRTYPE_NS, ns, sizeof(ns)), ns);
	assert_ptr_equal(rdata_target(RRTYPE_CNAME, ns, sizeof(ns)), ns);
	assert_ptr_equal(rdata_target(RRTYPE_DNAME, ns, sizeof(ns)), ns);
	assert_ptr_equal(rdata_target(RRTYPE_PTR, ns, sizeof(ns)), ns);
	assert_null(rdata_target(RRTYPE_PTR, ns, 0));
	assert_null(rdata_target(RRTYPE_A, ns, sizeof(ns)));
	assert_null(rdata_target(RRTYPE_TXT, ns, sizeof(ns)));
	assert_null(rdata_target(RRTYPE_NS, NULL, 3));
}

static void test_mnemonics(void **state)
{
	char buf[16];

	(void)state;
	assert_int_equal(rrtype_from_text("AAAA", 4), RRTYPE_AAAA);
	assert_int_equal(rrtype_from_text("aaaa", 4), RRTYPE_AAAA);
	assert_int_equal(rrtype_from_text("NSEC3PARAM", 10), RRTYPE_NSEC3PARAM);
	assert_int_equal(rrtype_from_text("Https", 5), RRTYPE_HTTPS);
	assert_int_equal(rrtype_from_text("TYPE65280", 9), 65280);
	assert_int_equal(rrtype_from_text("type1", 5), RRTYPE_A);
	assert_int_equal(rrtype_from_text("TYPE0", 5), 0);
	assert_int_equal(rrtype_from_text("TYPE65535", 9), 65535);
	assert_int_equal(rrtype_from_text("TYPE65536", 9), P53_ENOTFOUND);
	assert_int_equal(rrtype_from_text("TYPE", 4), P53_ENOTFOUND);
	assert_int_equal(rrtype_from_text("TYPE1x", 6), P53_ENOTFOUND);
	assert_int_equal(rrtype_from_text("FOO", 3), P53_ENOTFOUND);
	assert_int_equal(rrtype_from_text("AAAAX", 4), RRTYPE_AAAA);
	assert_int_equal(rrtype_from_text("A", 0), P53_ENOTFOUND);
	assert_int_equal(rrtype_from_text("A\0", 2), P53_ENOTFOUND);

	assert_string_equal(rrtype_name(RRTYPE_CAA), "CAA");
	assert_null(rrtype_name(65280));
	assert_string_equal(rrtype_to_text(RRTYPE_SVCB, buf, sizeof(buf)), "SVCB");
	assert_string_equal(rrtype_to_text(65280, buf, sizeof(buf)), "TYPE65280");
	/* Every name maps back to its number. */
	for (unsigned t = 0; t < 65536; t++) {
		const char *n = rrtype_name((uint16_t)t);

		if (n)
			assert_int_equal(rrtype_from_text(n, strlen(n)), (int)t);
		rrtype_to_text((uint16_t)t, buf, sizeof(buf));
		assert_int_equal(rrtype_from_text(buf, strlen(buf)), (int)t);
	}

	assert_int_equal(rrclass_from_text("IN", 2), RRCLASS_IN);
	assert_int_equal(rrclass_from_text("in", 2), RRCLASS_IN);
	assert_int_equal(rrclass_from_text("CH", 2), RRCLASS_CH);
	assert_int_equal(rrclass_from_text("hs", 2), RRCLASS_HS);
	assert_int_equal(rrclass_from_text("CLASS3", 6), RRCLASS_CH);
	assert_int_equal(rrclass_from_text("class65280", 10), 65280);
	assert_int_equal(rrclass_from_text("CLASS65536", 10), P53_ENOTFOUND);
	assert_int_equal(rrclass_from_text("ANY", 3), P53_ENOTFOUND);
	assert_int_equal(rrclass_from_text("A", 1), P53_ENOTFOUND);
	assert_string_equal(rrclass_to_text(RRCLASS_IN, buf, sizeof(buf)), "IN");
	assert_string_equal(rrclass_to_text(RRCLASS_CH, buf, sizeof(buf)), "CH");
	assert_string_equal(rrclass_to_text(300, buf, sizeof(buf)), "CLASS300");
	assert_string_equal(rrclass_to_text(RRCLASS_ANY, buf, sizeof(buf)), "CLASS255");
	assert_string_equal(rrtype_to_text(65280, buf, 5), "TYPE");
}

/* Every vector above, mutated at random: whatever rdata_to_text makes of
 * the bytes (its own form or "\#") must parse back to the same bytes. */
static void test_roundtrip_mutations(void **state)
{
	static const struct { uint16_t type; const char *hex; } seeds[] = {
		{ RRTYPE_A, "c0000201" }, { RRTYPE_MX, "000a046d61696c00" },
		{ RRTYPE_SOA, "036e7331076578616d706c65000a686f73746d6173746572076578616d706c650078a3f17500000e1000000384000bdd8000000e10" },
		{ RRTYPE_TXT, "0b68656c6c6f20776f726c6400" "07706c61696e2078" },
		{ RRTYPE_HINFO, "0a47656e65726963205043054c696e7578" },
		{ RRTYPE_CAA, "0005697373756563612e6578616d706c652e6e6574" },
		{ RRTYPE_URI, "000a00016674703a2f2f667470" },
		{ RRTYPE_NAPTR, "0064000a0153075349502b44325500045f736970045f756470076578616d706c6503636f6d00" },
		{ RRTYPE_SRV, "0000000513c403736970076578616d706c6503636f6d00" },
		{ RRTYPE_DS, "ec4505012bb183af5f22588179a53b0a" },
		{ RRTYPE_DNSKEY, "0101030f010203" },
		{ RRTYPE_RRSIG, "00010503000151803e7c9dd73e5510d70a52076578616d706c6503636f6d00a090755b" },
		{ RRTYPE_NSEC, "04686f7374076578616d706c6503636f6d000006400100000003041b000000000000000000000000000000000000000000000000000020" },
		{ RRTYPE_NSEC3, "0101000c04aabbccdd14174eb2409fe28bcb4887a1836f957f0a8425e27b000722010000000290" },
		{ RRTYPE_NSEC3PARAM, "0100000c04aabbccdd" },
		{ RRTYPE_CSYNC, "000000420003000460000008" },
		{ RRTYPE_SVCB, "001003666f6f076578616d706c65036f7267000000000400010004000100090268320568332d313900040004c0000201" },
		{ RRTYPE_HTTPS, "000100" "00010003026832" "00020000" "00030002" "01bb" "00050003010203" "00070002" "2f78" "fde80000" },
		{ RRTYPE_HTTPS, "000100" "0001000c08665c6f6f2c626172026832" "0006001020010db8000000000000000000000001" },
		{ RRTYPE_LOC, "0033161389172dd070be15f000988d20" },
		{ RRTYPE_EUI48, "00005e00532a" }, { RRTYPE_EUI64, "00005eef1000002a" },
		{ RRTYPE_ZONEMD, "7848b78c0101febe" }, { RRTYPE_TLSA, "0301010c72" },
		{ RRTYPE_SSHFP, "020112" }, { RRTYPE_RP, "016100016200" },
		{ RRTYPE_OPENPGPKEY, "010203" }, { 65280, "00ff" },
	};
	uint8_t rd[512];
	unsigned seed = 53;

	(void)state;
	for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
		size_t n0 = unhex(seeds[s].hex, rd);

		roundtrip(seeds[s].type, rd, n0);
		for (int iter = 0; iter < 3000; iter++) {
			uint8_t m[512];
			size_t n = n0;

			memcpy(m, rd, n0);
			for (int k = rand_r(&seed) % 3; k >= 0; k--)
				m[rand_r(&seed) % n] = (uint8_t)rand_r(&seed);
			if (rand_r(&seed) % 4 == 0)
				n = (size_t)rand_r(&seed) % (n0 + 1);
			else if (rand_r(&seed) % 8 == 0 && n < sizeof(m))
				m[n++] = (uint8_t)rand_r(&seed);
			roundtrip(seeds[s].type, m, n);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_soa),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_caa_uri_naptr),
		cmocka_unit_test(test_hex_types),
		cmocka_unit_test(test_dnskey_rrsig),
		cmocka_unit_test(test_nsec_family),
		cmocka_unit_test(test_svcb),
		cmocka_unit_test(test_loc),
		cmocka_unit_test(test_generic),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_target),
		cmocka_unit_test(test_mnemonics),
		cmocka_unit_test(test_roundtrip_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
