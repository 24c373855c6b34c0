/*
 * rdata.c — RR types, classes and RDATA in presentation and wire form.
 *
 * Each known type is described once, as a list of fields (struct field).
 * The same list drives parsing (rdata_from_text), structural checking
 * (rdata_check) and printing (rdata_to_text), so the three cannot drift
 * apart. rdata_to_text only prints the field form when rdata_check passes
 * and every field can be written so that it parses back to the same
 * bytes; otherwise it falls back to RFC 3597 "\# LEN HEX".
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dname.h"
#include "error.h"
#include "rdata.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- type and class mnemonics ------------------------------------------ */

struct mnemonic {
	uint16_t num;
	const char *name;
};

static const struct mnemonic type_names[] = {
	{ 1, "A" }, { 2, "NS" }, { 3, "MD" }, { 4, "MF" }, { 5, "CNAME" },
	{ 6, "SOA" }, { 7, "MB" }, { 8, "MG" }, { 9, "MR" }, { 10, "NULL" },
	{ 11, "WKS" }, { 12, "PTR" }, { 13, "HINFO" }, { 14, "MINFO" },
	{ 15, "MX" }, { 16, "TXT" }, { 17, "RP" }, { 18, "AFSDB" },
	{ 19, "X25" }, { 20, "ISDN" }, { 21, "RT" }, { 22, "NSAP" },
	{ 23, "NSAP-PTR" }, { 24, "SIG" }, { 25, "KEY" }, { 26, "PX" },
	{ 27, "GPOS" }, { 28, "AAAA" }, { 29, "LOC" }, { 30, "NXT" },
	{ 33, "SRV" }, { 35, "NAPTR" }, { 36, "KX" }, { 37, "CERT" },
	{ 38, "A6" }, { 39, "DNAME" }, { 41, "OPT" }, { 42, "APL" },
	{ 43, "DS" }, { 44, "SSHFP" }, { 45, "IPSECKEY" }, { 46, "RRSIG" },
	{ 47, "NSEC" }, { 48, "DNSKEY" }, { 49, "DHCID" }, { 50, "NSEC3" },
	{ 51, "NSEC3PARAM" }, { 52, "TLSA" }, { 53, "SMIMEA" }, { 55, "HIP" },
	{ 59, "CDS" }, { 60, "CDNSKEY" }, { 61, "OPENPGPKEY" }, { 62, "CSYNC" },
	{ 63, "ZONEMD" }, { 64, "SVCB" }, { 65, "HTTPS" }, { 99, "SPF" },
	{ 104, "NID" }, { 105, "L32" }, { 106, "L64" }, { 107, "LP" },
	{ 108, "EUI48" }, { 109, "EUI64" }, { 249, "TKEY" }, { 250, "TSIG" },
	{ 251, "IXFR" }, { 252, "AXFR" }, { 253, "MAILB" }, { 254, "MAILA" },
	{ 255, "ANY" }, { 256, "URI" }, { 257, "CAA" }, { 32768, "TA" },
	{ 32769, "DLV" },
};

/* Only the classes a zone file may name; NONE and ANY are query-only and
 * would make "ANY" ambiguous between class and type in a record line. */
static const struct mnemonic class_names[] = {
	{ RRCLASS_IN, "IN" }, { RRCLASS_CH, "CH" }, { RRCLASS_HS, "HS" },
};

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool is_alnum(uint8_t c)
{
	return is_digit((char)c) || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void set32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

/* Decimal digits only, at most max. Saturates instead of overflowing so a
 * long digit string still reports a range error, not a syntax error. */
static int parse_uint(const char *s, size_t len, uint64_t max, uint64_t *v)
{
	uint64_t n = 0;
	bool big = false;
	size_t i;

	if (len == 0)
		return P53_ESYNTAX;
	for (i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return P53_ESYNTAX;
		n = n * 10 + (uint64_t)(s[i] - '0');
		if (n > max) {
			big = true;
			n = max + 1;
		}
	}
	if (big)
		return P53_ERANGE;
	*v = n;
	return 0;
}

static int mnemonic_find(const struct mnemonic *t, size_t n, const char *s,
			 size_t len)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strlen(t[i].name) == len && strncasecmp(t[i].name, s, len) == 0)
			return t[i].num;
	}
	return P53_ENOTFOUND;
}

/* "TYPEnnn" / "CLASSnnn": prefix case-insensitive, number 0..65535. */
static int prefixed_number(const char *pfx, const char *s, size_t len)
{
	size_t pl = strlen(pfx);
	uint64_t v;

	if (len <= pl || strncasecmp(s, pfx, pl) != 0)
		return P53_ENOTFOUND;
	if (parse_uint(s + pl, len - pl, 65535, &v) < 0)
		return P53_ENOTFOUND;
	return (int)v;
}

int rrtype_from_text(const char *s, size_t len)
{
	int t;

	if (!s)
		return P53_ENOTFOUND;
	t = mnemonic_find(type_names, ARRAY_SIZE(type_names), s, len);
	return t >= 0 ? t : prefixed_number("TYPE", s, len);
}

const char *rrtype_name(uint16_t type)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(type_names); i++) {
		if (type_names[i].num == type)
			return type_names[i].name;
	}
	return NULL;
}

const char *rrtype_to_text(uint16_t type, char *buf, size_t cap)
{
	const char *n = rrtype_name(type);

	if (!buf || cap == 0)
		return buf;
	if (n)
		snprintf(buf, cap, "%s", n);
	else
		snprintf(buf, cap, "TYPE%u", type);
	return buf;
}

int rrclass_from_text(const char *s, size_t len)
{
	int c;

	if (!s)
		return P53_ENOTFOUND;
	c = mnemonic_find(class_names, ARRAY_SIZE(class_names), s, len);
	return c >= 0 ? c : prefixed_number("CLASS", s, len);
}

const char *rrclass_to_text(uint16_t rclass, char *buf, size_t cap)
{
	size_t i;

	if (!buf || cap == 0)
		return buf;
	for (i = 0; i < ARRAY_SIZE(class_names); i++) {
		if (class_names[i].num == rclass) {
			snprintf(buf, cap, "%s", class_names[i].name);
			return buf;
		}
	}
	snprintf(buf, cap, "CLASS%u", rclass);
	return buf;
}

/* ---- field descriptions -------------------------------------------------- */

enum fkind {
	F_END,
	F_U8, F_U16, F_U32,
	F_TTL,          /* 32-bit seconds, BIND units allowed */
	F_TIME,         /* RRSIG time: YYYYMMDDHHmmSS or seconds */
	F_ALG,          /* DNSSEC algorithm: number or mnemonic */
	F_TYPE,         /* RR type mnemonic */
	F_A, F_AAAA, F_EUI48, F_EUI64,
	F_NAME,
	F_STR,          /* one <character-string> */
	F_STRS,         /* one or more <character-string>s to the end */
	F_HEX,          /* hex over all remaining tokens */
	F_B64,          /* base64 over all remaining tokens */
	F_SALT,         /* length byte + hex, "-" for empty */
	F_HASH,         /* length byte + base32hex */
	F_BITMAP,       /* NSEC type bitmap to the end */
	F_TAG,          /* CAA tag: length byte + alphanumerics */
	F_REST,         /* one string, raw bytes to the end (no length) */
	F_SVC,          /* SVCB SvcParams to the end */
	F_LOC,          /* all of LOC */
};

struct field {
	uint8_t kind;
	const char *what;       /* for messages: "missing <what>" */
};

#define END { F_END, NULL }

static const struct field fmt_a[] = { { F_A, "IPv4 address" }, END };
static const struct field fmt_aaaa[] = { { F_AAAA, "IPv6 address" }, END };
static const struct field fmt_ns[] = { { F_NAME, "name server" }, END };
static const struct field fmt_target[] = { { F_NAME, "target name" }, END };
static const struct field fmt_mx[] = {
	{ F_U16, "preference" }, { F_NAME, "exchange" }, END };
static const struct field fmt_kx[] = {
	{ F_U16, "preference" }, { F_NAME, "exchanger" }, END };
static const struct field fmt_afsdb[] = {
	{ F_U16, "subtype" }, { F_NAME, "hostname" }, END };
static const struct field fmt_rp[] = {
	{ F_NAME, "mailbox" }, { F_NAME, "TXT owner name" }, END };
static const struct field fmt_hinfo[] = {
	{ F_STR, "CPU" }, { F_STR, "OS" }, END };
static const struct field fmt_txt[] = { { F_STRS, "text" }, END };
static const struct field fmt_soa[] = {
	{ F_NAME, "primary server" }, { F_NAME, "mailbox" },
	{ F_U32, "serial" }, { F_TTL, "refresh" }, { F_TTL, "retry" },
	{ F_TTL, "expire" }, { F_TTL, "minimum" }, END };
static const struct field fmt_srv[] = {
	{ F_U16, "priority" }, { F_U16, "weight" }, { F_U16, "port" },
	{ F_NAME, "target" }, END };
static const struct field fmt_naptr[] = {
	{ F_U16, "order" }, { F_U16, "preference" }, { F_STR, "flags" },
	{ F_STR, "services" }, { F_STR, "regexp" },
	{ F_NAME, "replacement" }, END };
static const struct field fmt_caa[] = {
	{ F_U8, "flags" }, { F_TAG, "tag" }, { F_REST, "value" }, END };
static const struct field fmt_uri[] = {
	{ F_U16, "priority" }, { F_U16, "weight" }, { F_REST, "target" }, END };
static const struct field fmt_sshfp[] = {
	{ F_U8, "algorithm" }, { F_U8, "fingerprint type" },
	{ F_HEX, "fingerprint" }, END };
static const struct field fmt_tlsa[] = {
	{ F_U8, "usage" }, { F_U8, "selector" }, { F_U8, "matching type" },
	{ F_HEX, "certificate data" }, END };
static const struct field fmt_ds[] = {
	{ F_U16, "key tag" }, { F_ALG, "algorithm" }, { F_U8, "digest type" },
	{ F_HEX, "digest" }, END };
static const struct field fmt_dnskey[] = {
	{ F_U16, "flags" }, { F_U8, "protocol" }, { F_ALG, "algorithm" },
	{ F_B64, "public key" }, END };
static const struct field fmt_rrsig[] = {
	{ F_TYPE, "type covered" }, { F_ALG, "algorithm" },
	{ F_U8, "labels" }, { F_TTL, "original TTL" },
	{ F_TIME, "expiration" }, { F_TIME, "inception" },
	{ F_U16, "key tag" }, { F_NAME, "signer name" },
	{ F_B64, "signature" }, END };
static const struct field fmt_nsec[] = {
	{ F_NAME, "next name" }, { F_BITMAP, "type" }, END };
static const struct field fmt_nsec3[] = {
	{ F_U8, "hash algorithm" }, { F_U8, "flags" },
	{ F_U16, "iterations" }, { F_SALT, "salt" },
	{ F_HASH, "next hashed owner" }, { F_BITMAP, "type" }, END };
static const struct field fmt_nsec3param[] = {
	{ F_U8, "hash algorithm" }, { F_U8, "flags" },
	{ F_U16, "iterations" }, { F_SALT, "salt" }, END };
static const struct field fmt_openpgpkey[] = { { F_B64, "public key" }, END };
static const struct field fmt_dhcid[] = { { F_B64, "identifier" }, END };
static const struct field fmt_zonemd[] = {
	{ F_U32, "serial" }, { F_U8, "scheme" }, { F_U8, "hash algorithm" },
	{ F_HEX, "digest" }, END };
static const struct field fmt_csync[] = {
	{ F_U32, "serial" }, { F_U16, "flags" }, { F_BITMAP, "type" }, END };
static const struct field fmt_eui48[] = { { F_EUI48, "EUI-48 address" }, END };
static const struct field fmt_eui64[] = { { F_EUI64, "EUI-64 address" }, END };
static const struct field fmt_svcb[] = {
	{ F_U16, "priority" }, { F_NAME, "target name" },
	{ F_SVC, "SvcParam" }, END };
static const struct field fmt_loc[] = { { F_LOC, "latitude" }, END };

/* The presentation format of a type, NULL when only "\#" is known. */
static const struct field *rr_format(uint16_t type)
{
	switch (type) {
	case RRTYPE_A:          return fmt_a;
	case RRTYPE_AAAA:       return fmt_aaaa;
	case RRTYPE_NS:         return fmt_ns;
	case RRTYPE_CNAME:
	case RRTYPE_DNAME:
	case RRTYPE_PTR:        return fmt_target;
	case RRTYPE_MX:         return fmt_mx;
	case RRTYPE_KX:         return fmt_kx;
	case RRTYPE_AFSDB:      return fmt_afsdb;
	case RRTYPE_RP:         return fmt_rp;
	case RRTYPE_HINFO:      return fmt_hinfo;
	case RRTYPE_TXT:
	case RRTYPE_SPF:        return fmt_txt;
	case RRTYPE_SOA:        return fmt_soa;
	case RRTYPE_SRV:        return fmt_srv;
	case RRTYPE_NAPTR:      return fmt_naptr;
	case RRTYPE_CAA:        return fmt_caa;
	case RRTYPE_URI:        return fmt_uri;
	case RRTYPE_SSHFP:      return fmt_sshfp;
	case RRTYPE_TLSA:
	case RRTYPE_SMIMEA:     return fmt_tlsa;
	case RRTYPE_DS:
	case RRTYPE_CDS:        return fmt_ds;
	case RRTYPE_DNSKEY:
	case RRTYPE_CDNSKEY:    return fmt_dnskey;
	case RRTYPE_RRSIG:      return fmt_rrsig;
	case RRTYPE_NSEC:       return fmt_nsec;
	case RRTYPE_NSEC3:      return fmt_nsec3;
	case RRTYPE_NSEC3PARAM: return fmt_nsec3param;
	case RRTYPE_OPENPGPKEY: return fmt_openpgpkey;
	case RRTYPE_DHCID:      return fmt_dhcid;
	case RRTYPE_ZONEMD:     return fmt_zonemd;
	case RRTYPE_CSYNC:      return fmt_csync;
	case RRTYPE_EUI48:      return fmt_eui48;
	case RRTYPE_EUI64:      return fmt_eui64;
	case RRTYPE_SVCB:
	case RRTYPE_HTTPS:      return fmt_svcb;
	case RRTYPE_LOC:        return fmt_loc;
	}
	return NULL;
}

static const struct mnemonic alg_names[] = {
	{ 1, "RSAMD5" }, { 2, "DH" }, { 3, "DSA" }, { 5, "RSASHA1" },
	{ 6, "DSA-NSEC3-SHA1" }, { 7, "RSASHA1-NSEC3-SHA1" },
	{ 8, "RSASHA256" }, { 10, "RSASHA512" }, { 12, "ECC-GOST" },
	{ 13, "ECDSAP256SHA256" }, { 14, "ECDSAP384SHA384" },
	{ 15, "ED25519" }, { 16, "ED448" }, { 252, "INDIRECT" },
	{ 253, "PRIVATEDNS" }, { 254, "PRIVATEOID" },
};

/* SvcParamKey names (RFC 9460 14.3.2, dohpath RFC 9461). */
static const char *const svc_key_names[] = {
	"mandatory", "alpn", "no-default-alpn", "port", "ipv4hint", "ech",
	"ipv6hint", "dohpath",
};

enum { SVC_MANDATORY, SVC_ALPN, SVC_NDALPN, SVC_PORT, SVC_IPV4HINT,
       SVC_ECH, SVC_IPV6HINT, SVC_DOHPATH, SVC_INVALID = 65535 };

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b32hex_alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";
static const char hex_digits[] = "0123456789ABCDEF";

int rdata_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64_alphabet, c) : NULL;

	return p ? (int)(p - b64_alphabet) : -1;
}

static int b32hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'v')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'V')
		return c - 'A' + 10;
	return -1;
}

/* ---- calendar (RRSIG times) ---------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static unsigned month_days(int64_t y, unsigned m)
{
	static const uint8_t days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
					  31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return days[m - 1] + (m == 2 && leap);
}

static unsigned digits_value(const char *s, size_t n)
{
	unsigned v = 0;

	while (n--)
		v = v * 10 + (unsigned)(*s++ - '0');
	return v;
}

/* YYYYMMDDHHmmSS (all digits, checked by the caller) to seconds modulo
 * 2^32, the serial-number arithmetic of RFC 4034 3.1.5. */
static int time_from_date(const char *s, uint32_t *out)
{
	int64_t y = digits_value(s, 4);
	unsigned mo = digits_value(s + 4, 2), d = digits_value(s + 6, 2);
	unsigned h = digits_value(s + 8, 2), mi = digits_value(s + 10, 2);
	unsigned sec = digits_value(s + 12, 2);
	int64_t t;

	if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 ||
	    mi > 59 || sec > 59)
		return P53_ERANGE;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	*out = (uint32_t)((uint64_t)t & 0xffffffffu);
	return 0;
}

/* ---- parsing: state and helpers ------------------------------------------ */

struct rp {
	const struct rdata_tok *tok;
	size_t ntok;
	size_t i;               /* next token */
	size_t cur;             /* token being encoded, for space errors */
	const uint8_t *origin;
	uint8_t *out;
	size_t cap;
	size_t len;             /* bytes written to out */
	struct rdata_err *err;
};

static int perr(struct rp *p, size_t tok, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int perr(struct rp *p, size_t tok, int code, const char *fmt, ...)
{
	va_list ap;

	p->err->tok = tok;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	return code;
}

/* The next token, or NULL with "missing <what>" reported at ntok. */
static const struct rdata_tok *take(struct rp *p, const char *what)
{
	if (p->i >= p->ntok) {
		perr(p, p->ntok, P53_ESYNTAX, "missing %s", what);
		return NULL;
	}
	p->cur = p->i;
	return &p->tok[p->i++];
}

static int put(struct rp *p, const void *b, size_t n)
{
	if (n > p->cap - p->len)
		return perr(p, p->cur, P53_ESPACE,
			    "RDATA does not fit in %zu bytes", p->cap);
	memcpy(p->out + p->len, b, n);
	p->len += n;
	return 0;
}

static int put_u8(struct rp *p, unsigned v)
{
	uint8_t b = (uint8_t)v;

	return put(p, &b, 1);
}

static int put_u16(struct rp *p, unsigned v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return put(p, b, 2);
}

static int put_u32(struct rp *p, uint32_t v)
{
	uint8_t b[4];

	set32(b, v);
	return put(p, b, 4);
}

/* Decode the \X and \DDD escapes of s into dst (at most max bytes).
 * Returns the decoded length, P53_ESYNTAX for a bad escape, P53_ERANGE
 * when the result does not fit. */
static int unescape(const char *s, size_t len, uint8_t *dst, size_t max)
{
	size_t i = 0, n = 0;

	while (i < len) {
		uint8_t c = (uint8_t)s[i++];

		if (c == '\\') {
			if (i >= len)
				return P53_ESYNTAX;
			if (is_digit(s[i])) {
				unsigned v;

				if (len - i < 3 || !is_digit(s[i + 1]) ||
				    !is_digit(s[i + 2]))
					return P53_ESYNTAX;
				v = digits_value(s + i, 3);
				if (v > 255)
					return P53_ESYNTAX;
				c = (uint8_t)v;
				i += 3;
			} else {
				c = (uint8_t)s[i++];
			}
		}
		if (n >= max)
			return P53_ERANGE;
		dst[n++] = c;
	}
	return (int)n;
}

/* ---- parsing: scalar fields ---------------------------------------------- */

static int parse_num(struct rp *p, const struct field *f, unsigned bytes)
{
	uint64_t max = bytes == 1 ? 0xff : bytes == 2 ? 0xffff : 0xffffffffu;
	const struct rdata_tok *t = take(p, f->what);
	uint64_t v;
	int rc;

	if (!t)
		return P53_ESYNTAX;
	rc = parse_uint(t->s, t->len, max, &v);
	if (rc == P53_ERANGE)
		return perr(p, p->i - 1, rc, "%s out of range (0-%llu)",
			    f->what, (unsigned long long)max);
	if (rc < 0)
		return perr(p, p->i - 1, rc, "%s: expected a number 0-%llu",
			    f->what, (unsigned long long)max);
	if (bytes == 1)
		return put_u8(p, (unsigned)v);
	if (bytes == 2)
		return put_u16(p, (unsigned)v);
	return put_u32(p, (uint32_t)v);
}

static uint32_t ttl_unit(char c)
{
	switch (c) {
	case 'w': case 'W': return 604800;
	case 'd': case 'D': return 86400;
	case 'h': case 'H': return 3600;
	case 'm': case 'M': return 60;
	case 's': case 'S': return 1;
	}
	return 0;
}

/* Plain seconds, or BIND units ("1w2d3h4m5s", any case): every number
 * then needs its unit. */
static int ttl_from_text(const char *s, size_t len, uint32_t *out)
{
	uint64_t total = 0, cur = 0;
	bool digits = false, units = false;
	size_t i;

	if (len == 0)
		return P53_ESYNTAX;
	for (i = 0; i < len; i++) {
		uint32_t mult;

		if (is_digit(s[i])) {
			cur = cur * 10 + (uint64_t)(s[i] - '0');
			if (cur > 0xffffffffu)
				cur = 0x100000000u;
			digits = true;
			continue;
		}
		mult = ttl_unit(s[i]);
		if (!mult || !digits)
			return P53_ESYNTAX;
		total += cur * mult;
		if (total > 0xffffffffu)
			total = 0x100000000u;
		cur = 0;
		digits = false;
		units = true;
	}
	if (digits && units)
		return P53_ESYNTAX;
	total += cur;
	if (total > 0xffffffffu)
		return P53_ERANGE;
	*out = (uint32_t)total;
	return 0;
}

static int parse_ttl(struct rp *p, const struct field *f)
{
	const struct rdata_tok *t = take(p, f->what);
	uint32_t v;
	int rc;

	if (!t)
		return P53_ESYNTAX;
	rc = ttl_from_text(t->s, t->len, &v);
	if (rc == P53_ERANGE)
		return perr(p, p->i - 1, rc,
			    "%s out of range (0-4294967295 seconds)", f->what);
	if (rc < 0)
		return perr(p, p->i - 1, rc,
			    "%s: expected seconds (0-4294967295) or units like 1w2d3h4m5s",
			    f->what);
	return put_u32(p, v);
}

static int parse_time(struct rp *p, const struct field *f)
{
	const struct rdata_tok *t = take(p, f->what);
	uint64_t v;
	uint32_t u;
	size_t k;
	int rc;

	if (!t)
		return P53_ESYNTAX;
	for (k = 0; k < t->len && is_digit(t->s[k]); k++)
		;
	if (k == t->len && t->len == 14) {
		rc = time_from_date(t->s, &u);
		if (rc < 0)
			return perr(p, p->i - 1, rc, "%s: not a valid date and time",
				    f->what);
		return put_u32(p, u);
	}
	rc = parse_uint(t->s, t->len, 0xffffffffu, &v);
	if (rc < 0)
		return perr(p, p->i - 1, rc,
			    "%s: expected YYYYMMDDHHmmSS or seconds (0-4294967295)",
			    f->what);
	return put_u32(p, (uint32_t)v);
}

static int parse_alg(struct rp *p, const struct field *f)
{
	const struct rdata_tok *t = take(p, f->what);
	uint64_t v;
	int rc;

	if (!t)
		return P53_ESYNTAX;
	rc = parse_uint(t->s, t->len, 255, &v);
	if (rc == P53_ESYNTAX) {
		rc = mnemonic_find(alg_names, ARRAY_SIZE(alg_names), t->s, t->len);
		if (rc < 0)
			return perr(p, p->i - 1, P53_ESYNTAX,
				    "%s: expected a number 0-255 or a mnemonic like ECDSAP256SHA256",
				    f->what);
		v = (unsigned)rc;
	} else if (rc < 0) {
		return perr(p, p->i - 1, rc, "%s out of range (0-255)", f->what);
	}
	return put_u8(p, (unsigned)v);
}

static int parse_type(struct rp *p, const struct field *f)
{
	const struct rdata_tok *t = take(p, f->what);
	int v;

	if (!t)
		return P53_ESYNTAX;
	v = rrtype_from_text(t->s, t->len);
	if (v < 0)
		return perr(p, p->i - 1, P53_ESYNTAX,
			    "%s: unknown RR type (use a mnemonic or TYPEnnn)", f->what);
	return put_u16(p, (unsigned)v);
}

/* inet_pton wants a C string; tokens are not NUL-terminated. */
static bool addr_from_text(int af, const char *s, size_t len, uint8_t *out)
{
	char buf[INET6_ADDRSTRLEN];

	if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(af, buf, out) == 1;
}

static int parse_addr(struct rp *p, const struct field *f, int af)
{
	const struct rdata_tok *t = take(p, f->what);
	uint8_t a[16];

	if (!t)
		return P53_ESYNTAX;
	if (!addr_from_text(af, t->s, t->len, a))
		return perr(p, p->i - 1, P53_ESYNTAX, "expected an %s", f->what);
	return put(p, a, af == AF_INET ? 4 : 16);
}

/* RFC 7043: pairs of hex digits joined by "-". */
static int parse_eui(struct rp *p, const struct field *f, size_t n)
{
	const struct rdata_tok *t = take(p, f->what);
	uint8_t a[8];
	size_t k;

	if (!t)
		return P53_ESYNTAX;
	if (t->len != n * 3 - 1)
		goto bad;
	for (k = 0; k < n; k++) {
		int hi = rdata_hex_value(t->s[k * 3]), lo = rdata_hex_value(t->s[k * 3 + 1]);

		if (hi < 0 || lo < 0 || (k + 1 < n && t->s[k * 3 + 2] != '-'))
			goto bad;
		a[k] = (uint8_t)(hi << 4 | lo);
	}
	return put(p, a, n);
bad:
	return perr(p, p->i - 1, P53_ESYNTAX,
		    "expected an %s (%zu hex pairs joined by '-')", f->what, n);
}

static int parse_name(struct rp *p, const struct field *f)
{
	const struct rdata_tok *t = take(p, f->what);
	uint8_t name[DNAME_MAXLEN];
	int rc;

	if (!t)
		return P53_ESYNTAX;
	rc = dname_from_text(t->s, t->len, p->origin, name);
	if (rc == P53_ERANGE)
		return perr(p, p->i - 1, rc,
			    "%s: label longer than 63 or name longer than 255 bytes",
			    f->what);
	if (rc < 0 && !p->origin)
		return perr(p, p->i - 1, P53_ESYNTAX,
			    "%s: expected an absolute domain name (no origin known)",
			    f->what);
	if (rc < 0)
		return perr(p, p->i - 1, P53_ESYNTAX,
			    "%s: expected a domain name", f->what);
	return put(p, name, (size_t)rc);
}

/* One <character-string> from token ti, with its length byte. */
static int put_charstr(struct rp *p, size_t ti, const char *what)
{
	const struct rdata_tok *t = &p->tok[ti];
	uint8_t buf[256];
	int n = unescape(t->s, t->len, buf + 1, 255);

	if (n == P53_ERANGE)
		return perr(p, ti, n, "%s: character-string longer than 255 bytes",
			    what);
	if (n < 0)
		return perr(p, ti, n, "%s: bad escape (use \\X or \\DDD)", what);
	buf[0] = (uint8_t)n;
	return put(p, buf, (size_t)n + 1);
}

static int parse_str(struct rp *p, const struct field *f)
{
	if (!take(p, f->what))
		return P53_ESYNTAX;
	return put_charstr(p, p->i - 1, f->what);
}

static int parse_strs(struct rp *p, const struct field *f)
{
	int rc;

	if (!take(p, f->what))
		return P53_ESYNTAX;
	p->i--;
	for (; p->i < p->ntok; p->i++) {
		p->cur = p->i;
		rc = put_charstr(p, p->i, f->what);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* One string to the end of RDATA, without a length byte (CAA value, URI
 * target). */
static int parse_rest(struct rp *p, const struct field *f)
{
	const struct rdata_tok *t = take(p, f->what);
	int n;

	if (!t)
		return P53_ESYNTAX;
	n = unescape(t->s, t->len, p->out + p->len, p->cap - p->len);
	if (n == P53_ERANGE)
		return perr(p, p->i - 1, P53_ESPACE,
			    "RDATA does not fit in %zu bytes", p->cap);
	if (n < 0)
		return perr(p, p->i - 1, n, "%s: bad escape (use \\X or \\DDD)",
			    f->what);
	p->len += (size_t)n;
	return 0;
}

static int parse_tag(struct rp *p, const struct field *f)
{
	const struct rdata_tok *t = take(p, f->what);
	size_t k;
	int rc;

	if (!t)
		return P53_ESYNTAX;
	if (t->len == 0 || t->len > 255)
		return perr(p, p->i - 1, P53_ESYNTAX,
			    "%s: expected 1-255 letters and digits", f->what);
	for (k = 0; k < t->len; k++) {
		if (!is_alnum((uint8_t)t->s[k]))
			return perr(p, p->i - 1, P53_ESYNTAX,
				    "%s: only letters and digits are allowed",
				    f->what);
	}
	rc = put_u8(p, (unsigned)t->len);
	return rc < 0 ? rc : put(p, t->s, t->len);
}

/* ---- parsing: encoded blobs ---------------------------------------------- */

/* Hex digits of token ti; *hi carries a half byte across tokens because
 * RFC 3597 lets the words split anywhere. */
static int hex_feed(struct rp *p, size_t ti, int *hi, const char *what)
{
	const struct rdata_tok *t = &p->tok[ti];
	size_t k;
	int rc;

	p->cur = ti;
	for (k = 0; k < t->len; k++) {
		int v = rdata_hex_value(t->s[k]);

		if (v < 0)
			return perr(p, ti, P53_ESYNTAX, "%s: bad hex digit '%c'",
				    what, t->s[k]);
		if (*hi < 0) {
			*hi = v;
			continue;
		}
		rc = put_u8(p, (unsigned)(*hi << 4 | v));
		if (rc < 0)
			return rc;
		*hi = -1;
	}
	return 0;
}

/* Hex over tokens [p->i, ntok): at least one token, even digit count. */
static int parse_hex(struct rp *p, const struct field *f)
{
	int hi = -1, rc;

	if (!take(p, f->what))
		return P53_ESYNTAX;
	for (p->i--; p->i < p->ntok; p->i++) {
		rc = hex_feed(p, p->i, &hi, f->what);
		if (rc < 0)
			return rc;
	}
	if (hi >= 0)
		return perr(p, p->ntok - 1, P53_ESYNTAX,
			    "%s: odd number of hex digits", f->what);
	return 0;
}

struct b64 {
	uint32_t acc;
	unsigned bits;          /* undecoded bits in acc */
	unsigned nchars;        /* alphabet characters seen */
	unsigned npad;          /* '=' seen */
};

static int b64_feed(struct rp *p, struct b64 *st, const char *s, size_t len,
		    size_t ti, const char *what)
{
	size_t k;
	int rc;

	p->cur = ti;
	for (k = 0; k < len; k++) {
		int v = b64_value(s[k]);

		if (s[k] == '=') {
			if (++st->npad > 2)
				goto bad;
			continue;
		}
		if (v < 0 || st->npad)
			goto bad;
		st->acc = (st->acc << 6 | (uint32_t)v) & 0xffffff;
		st->nchars++;
		st->bits += 6;
		if (st->bits >= 8) {
			st->bits -= 8;
			rc = put_u8(p, (unsigned)(st->acc >> st->bits) & 0xff);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
bad:
	return perr(p, ti, P53_ESYNTAX, "%s: bad base64 character '%c'",
		    what, s[k]);
}

/* RFC 4648 4: whole quanta, the last one padded; anything else means the
 * text was cut or mangled. */
static int b64_end(struct rp *p, const struct b64 *st, size_t ti,
		   const char *what)
{
	if (st->nchars == 0 || (st->nchars + st->npad) % 4 != 0)
		return perr(p, ti, P53_ESYNTAX, "%s: truncated or empty base64",
			    what);
	return 0;
}

static int parse_b64(struct rp *p, const struct field *f)
{
	struct b64 st = { 0 };
	int rc;

	if (!take(p, f->what))
		return P53_ESYNTAX;
	for (p->i--; p->i < p->ntok; p->i++) {
		const struct rdata_tok *t = &p->tok[p->i];

		rc = b64_feed(p, &st, t->s, t->len, p->i, f->what);
		if (rc < 0)
			return rc;
	}
	return b64_end(p, &st, p->ntok - 1, f->what);
}

/* NSEC3 salt: "-" for none, else 1-255 bytes of hex, behind a length. */
static int parse_salt(struct rp *p, const struct field *f)
{
	const struct rdata_tok *t = take(p, f->what);
	size_t start = p->len, n;
	int hi = -1, rc;

	if (!t)
		return P53_ESYNTAX;
	rc = put_u8(p, 0);
	if (rc < 0 || (t->len == 1 && t->s[0] == '-'))
		return rc;
	rc = hex_feed(p, p->i - 1, &hi, f->what);
	if (rc < 0)
		return rc;
	n = p->len - start - 1;
	if (hi >= 0 || n == 0 || n > 255)
		return perr(p, p->i - 1, P53_ESYNTAX,
			    "%s: expected \"-\" or 1-255 bytes of hex", f->what);
	p->out[start] = (uint8_t)n;
	return 0;
}

/* NSEC3 next hashed owner: base32hex without padding (RFC 4648 7). */
static int parse_hash(struct rp *p, const struct field *f)
{
	const struct rdata_tok *t = take(p, f->what);
	size_t start = p->len, k, n;
	uint32_t acc = 0;
	unsigned bits = 0;
	int rc;

	if (!t)
		return P53_ESYNTAX;
	rc = put_u8(p, 0);
	if (rc < 0)
		return rc;
	for (k = 0; k < t->len; k++) {
		int v = b32hex_value(t->s[k]);

		if (v < 0)
			goto bad;
		acc = (acc << 5 | (uint32_t)v) & 0xffff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			rc = put_u8(p, (acc >> bits) & 0xff);
			if (rc < 0)
				return rc;
		}
	}
	n = p->len - start - 1;
	/* 1, 3 or 6 characters left over cannot come from whole bytes. */
	if (n == 0 || n > 255 || bits >= 5)
		goto bad;
	p->out[start] = (uint8_t)n;
	return 0;
bad:
	return perr(p, p->i - 1, P53_ESYNTAX,
		    "%s: expected 1-255 bytes in base32hex without padding",
		    f->what);
}

/* RFC 4034 4.1.2: the types, in any order, become sorted windows. */
static int parse_bitmap(struct rp *p, const struct field *f)
{
	uint8_t bits[8192];
	unsigned win, last;
	int rc;

	memset(bits, 0, sizeof(bits));
	for (; p->i < p->ntok; p->i++) {
		const struct rdata_tok *t = &p->tok[p->i];
		int type = rrtype_from_text(t->s, t->len);

		if (type < 0)
			return perr(p, p->i, P53_ESYNTAX,
				    "%s bitmap: unknown RR type (use a mnemonic or TYPEnnn)",
				    f->what);
		bits[type >> 3] |= (uint8_t)(0x80 >> (type & 7));
		p->cur = p->i;
	}
	for (win = 0; win < 256; win++) {
		const uint8_t *w = bits + win * 32;

		for (last = 32; last > 0 && !w[last - 1]; last--)
			;
		if (!last)
			continue;
		rc = put_u8(p, win);
		if (rc == 0)
			rc = put_u8(p, last);
		if (rc == 0)
			rc = put(p, w, last);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- SVCB / HTTPS SvcParams (RFC 9460) ----------------------------------- */

/* Key number from its name or "keyNNNNN" (no leading zeros, RFC 9460
 * 2.1); *generic is set for the latter, whose value is opaque. */
static int svc_key_from_text(const char *s, size_t len, bool *generic)
{
	uint64_t v;
	size_t k;

	*generic = false;
	for (k = 0; k < ARRAY_SIZE(svc_key_names); k++) {
		if (strlen(svc_key_names[k]) == len &&
		    strncasecmp(svc_key_names[k], s, len) == 0)
			return (int)k;
	}
	if (len < 4 || len > 8 || strncasecmp(s, "key", 3) != 0 ||
	    (s[3] == '0' && len > 4))
		return P53_ENOTFOUND;
	if (parse_uint(s + 3, len - 3, 65535, &v) < 0)
		return P53_ENOTFOUND;
	*generic = true;
	return (int)v;
}

static bool svc_param_next(const uint8_t *ps, size_t len, size_t *pos,
			   uint16_t *key, const uint8_t **v, uint16_t *vlen)
{
	if (*pos >= len || len - *pos < 4)
		return false;
	*key = get16(ps + *pos);
	*vlen = get16(ps + *pos + 2);
	if (*vlen > len - *pos - 4)
		return false;
	*v = ps + *pos + 4;
	*pos += 4 + (size_t)*vlen;
	return true;
}

static bool svc_has_key(const uint8_t *ps, size_t len, uint16_t want)
{
	const uint8_t *v;
	size_t pos = 0;
	uint16_t key, vlen;

	while (svc_param_next(ps, len, &pos, &key, &v, &vlen)) {
		if (key == want)
			return true;
	}
	return false;
}

/* Wire form of one known key's value (RFC 9460 7, RFC 9461). */
static bool svc_value_ok(uint16_t key, const uint8_t *v, size_t n)
{
	size_t i;

	switch (key) {
	case SVC_MANDATORY:
		if (n == 0 || n % 2)
			return false;
		for (i = 0; i < n; i += 2) {
			if (get16(v + i) == SVC_MANDATORY ||
			    (i && get16(v + i) <= get16(v + i - 2)))
				return false;
		}
		return true;
	case SVC_ALPN:
		if (n == 0)
			return false;
		for (i = 0; i < n; i += 1 + (size_t)v[i]) {
			if (v[i] == 0 || v[i] > n - i - 1)
				return false;
		}
		return true;
	case SVC_NDALPN:   return n == 0;
	case SVC_PORT:     return n == 2;
	case SVC_IPV4HINT: return n && n % 4 == 0;
	case SVC_IPV6HINT: return n && n % 16 == 0;
	}
	return true;
}

/* Whole SvcParams: keys strictly ascending, values well-formed, and every
 * key that "mandatory" lists present. */
static bool svc_params_ok(const uint8_t *ps, size_t len)
{
	const uint8_t *v, *mand = NULL;
	size_t pos = 0, i;
	uint16_t key, vlen, mlen = 0;
	int prev = -1;

	while (pos < len) {
		if (!svc_param_next(ps, len, &pos, &key, &v, &vlen))
			return false;
		if ((int)key <= prev || key == SVC_INVALID ||
		    !svc_value_ok(key, v, vlen))
			return false;
		if (key == SVC_MANDATORY) {
			mand = v;
			mlen = vlen;
		}
		prev = key;
	}
	for (i = 0; mand && i < mlen; i += 2) {
		if (!svc_has_key(ps, len, get16(mand + i)))
			return false;
	}
	return true;
}

static void reverse(uint8_t *a, size_t n)
{
	size_t i;

	for (i = 0; i < n / 2; i++) {
		uint8_t t = a[i];

		a[i] = a[n - 1 - i];
		a[n - 1 - i] = t;
	}
}

/* Move the parameter just written at [at, len) in front of the first
 * larger key in [params, at); keeps wire order sorted without a copy. */
static int svc_insert(struct rp *p, size_t params, size_t at, size_t ti)
{
	uint16_t key = get16(p->out + at), k;
	size_t pos = params;

	while (pos < at) {
		k = get16(p->out + pos);
		if (k == key)
			return perr(p, ti, P53_ESYNTAX, "duplicate SvcParam key %u",
				    key);
		if (k > key)
			break;
		pos += 4 + (size_t)get16(p->out + pos + 2);
	}
	reverse(p->out + pos, at - pos);
	reverse(p->out + at, p->len - at);
	reverse(p->out + pos, p->len - pos);
	return 0;
}

static void sort_u16(uint8_t *a, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++) {
		uint8_t hi = a[2 * i], lo = a[2 * i + 1];

		for (j = i; j > 0 && get16(a + 2 * j - 2) > (hi << 8 | lo); j--) {
			a[2 * j] = a[2 * j - 2];
			a[2 * j + 1] = a[2 * j - 1];
		}
		a[2 * j] = hi;
		a[2 * j + 1] = lo;
	}
}

/* End of the comma-separated item starting at pos. */
static size_t item_end(const uint8_t *d, size_t n, size_t pos)
{
	const uint8_t *c = memchr(d + pos, ',', n - pos);

	return c ? (size_t)(c - d) : n;
}

static int svc_put_mandatory(struct rp *p, size_t ti, const uint8_t *d,
			     size_t n)
{
	size_t start = p->len, pos = 0, end, i;
	bool generic;
	int key, rc;

	while (pos <= n) {
		end = item_end(d, n, pos);
		key = svc_key_from_text((const char *)d + pos, end - pos, &generic);
		if (key < 0 || key == SVC_INVALID)
			return perr(p, ti, P53_ESYNTAX,
				    "mandatory: \"%.*s\" is not a SvcParam key",
				    (int)(end - pos), (const char *)d + pos);
		if (key == SVC_MANDATORY)
			return perr(p, ti, P53_ESYNTAX,
				    "mandatory must not list itself");
		rc = put_u16(p, (unsigned)key);
		if (rc < 0)
			return rc;
		pos = end + 1;
	}
	sort_u16(p->out + start, (p->len - start) / 2);
	for (i = start + 2; i < p->len; i += 2) {
		if (get16(p->out + i) == get16(p->out + i - 2))
			return perr(p, ti, P53_ESYNTAX,
				    "mandatory lists key %u twice",
				    get16(p->out + i));
	}
	return 0;
}

/* alpn ids are a value-list (RFC 9460 A.1): after the character-string
 * escapes, "\," is a comma inside an id and "\\" a backslash. */
static int svc_put_alpn(struct rp *p, size_t ti, const uint8_t *d, size_t n)
{
	size_t pos = 0, lenpos, ilen;
	int rc;

	while (pos <= n) {
		lenpos = p->len;
		ilen = 0;
		rc = put_u8(p, 0);
		while (rc == 0 && pos < n && d[pos] != ',') {
			uint8_t c = d[pos++];

			if (c == '\\' && pos < n)
				c = d[pos++];
			if (++ilen > 255)
				return perr(p, ti, P53_ESYNTAX,
					    "alpn: protocol id longer than 255 bytes");
			rc = put_u8(p, c);
		}
		if (rc < 0)
			return rc;
		if (ilen == 0)
			return perr(p, ti, P53_ESYNTAX,
				    "alpn: empty protocol id in the list");
		p->out[lenpos] = (uint8_t)ilen;
		pos++;
	}
	return 0;
}

static int svc_put_hints(struct rp *p, size_t ti, const uint8_t *d, size_t n,
			 int af)
{
	size_t pos = 0, end;
	uint8_t a[16];
	int rc;

	while (pos <= n) {
		end = item_end(d, n, pos);
		if (!addr_from_text(af, (const char *)d + pos, end - pos, a))
			return perr(p, ti, P53_ESYNTAX,
				    "%s: expected a comma-separated list of %s addresses",
				    af == AF_INET ? "ipv4hint" : "ipv6hint",
				    af == AF_INET ? "IPv4" : "IPv6");
		rc = put(p, a, af == AF_INET ? 4 : 16);
		if (rc < 0)
			return rc;
		pos = end + 1;
	}
	return 0;
}

static int svc_put_value(struct rp *p, size_t ti, int key, bool has,
			 const uint8_t *d, size_t n)
{
	struct b64 st = { 0 };
	uint64_t v;
	int rc;

	if (key != SVC_NDALPN && n == 0)
		return perr(p, ti, P53_ESYNTAX, "%s needs a value",
			    svc_key_names[key]);
	switch (key) {
	case SVC_MANDATORY:
		return svc_put_mandatory(p, ti, d, n);
	case SVC_ALPN:
		return svc_put_alpn(p, ti, d, n);
	case SVC_NDALPN:
		if (has && n)
			return perr(p, ti, P53_ESYNTAX,
				    "no-default-alpn takes no value");
		return 0;
	case SVC_PORT:
		if (parse_uint((const char *)d, n, 65535, &v) < 0)
			return perr(p, ti, P53_ESYNTAX,
				    "port: expected a number 0-65535");
		return put_u16(p, (unsigned)v);
	case SVC_IPV4HINT:
		return svc_put_hints(p, ti, d, n, AF_INET);
	case SVC_IPV6HINT:
		return svc_put_hints(p, ti, d, n, AF_INET6);
	case SVC_ECH:
		rc = b64_feed(p, &st, (const char *)d, n, ti, "ech");
		return rc < 0 ? rc : b64_end(p, &st, ti, "ech");
	}
	return put(p, d, n);    /* dohpath */
}

/* Split "key=value" of token ti. The value may sit in quotes inside the
 * token (alpn="h2,h3"); those are removed here, escapes stay. */
static int svc_split(struct rp *p, size_t ti, size_t *klen, const char **v,
		     size_t *vlen)
{
	const struct rdata_tok *t = &p->tok[ti];
	const char *eq = memchr(t->s, '=', t->len);
	size_t bs = 0;

	*klen = eq ? (size_t)(eq - t->s) : t->len;
	*v = eq ? eq + 1 : t->s + t->len;
	*vlen = eq ? t->len - *klen - 1 : 0;
	if (*vlen == 0 || (*v)[0] != '"')
		return 0;
	while (bs + 2 < *vlen && (*v)[*vlen - 2 - bs] == '\\')
		bs++;
	if (*vlen < 2 || (*v)[*vlen - 1] != '"' || bs % 2)
		return perr(p, ti, P53_ESYNTAX, "unterminated quoted SvcParam value");
	(*v)++;
	*vlen -= 2;
	return 0;
}

static int parse_svc_param(struct rp *p, size_t params, size_t ti,
			   size_t *mand_tok)
{
	const struct rdata_tok *t = &p->tok[ti];
	size_t klen, vlen, at = p->len, n;
	const char *v;
	uint8_t *d = NULL;
	bool generic;
	int key, rc;

	rc = svc_split(p, ti, &klen, &v, &vlen);
	if (rc < 0)
		return rc;
	key = svc_key_from_text(t->s, klen, &generic);
	if (key < 0 || key == SVC_INVALID)
		return perr(p, ti, P53_ESYNTAX, "unknown SvcParam key \"%.*s\"",
			    (int)klen, t->s);
	d = malloc(vlen + 1);
	if (!d)
		return perr(p, ti, P53_ENOMEM, "out of memory");
	rc = unescape(v, vlen, d, vlen);
	if (rc < 0) {
		rc = perr(p, ti, P53_ESYNTAX, "SvcParam value: bad escape");
		goto fail;
	}
	n = (size_t)rc;
	rc = put_u16(p, (unsigned)key);
	if (rc == 0)
		rc = put_u16(p, 0);
	if (rc == 0)
		rc = generic ? put(p, d, n) :
		     svc_put_value(p, ti, key, klen < t->len, d, n);
	if (rc < 0)
		goto fail;
	n = p->len - at - 4;
	p->out[at + 2] = (uint8_t)(n >> 8);
	p->out[at + 3] = (uint8_t)n;
	if (generic && !svc_value_ok((uint16_t)key, p->out + at + 4, n)) {
		rc = perr(p, ti, P53_ESYNTAX,
			  "key%d: value is not valid wire format for this key", key);
		goto fail;
	}
	rc = svc_insert(p, params, at, ti);
	if (key == SVC_MANDATORY)
		*mand_tok = ti;
fail:
	free(d);
	return rc;
}

static int parse_svc(struct rp *p, const struct field *f)
{
	size_t params = p->len, mand_tok = p->ntok;
	int rc;

	(void)f;
	for (; p->i < p->ntok; p->i++) {
		p->cur = p->i;
		rc = parse_svc_param(p, params, p->i, &mand_tok);
		if (rc < 0)
			return rc;
	}
	if (!svc_params_ok(p->out + params, p->len - params))
		return perr(p, mand_tok, P53_ESYNTAX,
			    "mandatory lists a key that is not present");
	return 0;
}

/* ---- LOC (RFC 1876) ------------------------------------------------------ */

#define LOC_EQUATOR  0x80000000u        /* latitude/longitude zero */
#define LOC_ALT_BASE 10000000           /* cm below the WGS 84 spheroid */

/* Decimal with at most `frac` fraction digits, scaled by 10^frac; an
 * optional '-' (if neg) and an optional trailing 'm' (if meters). */
static int dec_from_text(const char *s, size_t len, unsigned frac, bool neg,
			 bool meters, int64_t *out)
{
	int64_t v = 0;
	unsigned fd = 0;
	bool minus = false, dot = false, any = false;
	size_t i = 0;

	if (meters && len && (s[len - 1] == 'm' || s[len - 1] == 'M'))
		len--;
	if (neg && len && s[0] == '-') {
		minus = true;
		i = 1;
	}
	for (; i < len; i++) {
		if (s[i] == '.' && !dot) {
			dot = true;
			continue;
		}
		if (!is_digit(s[i]) || (dot && fd++ == frac))
			return P53_ESYNTAX;
		if (v > 100000000000000LL)
			return P53_ERANGE;
		v = v * 10 + (s[i] - '0');
		any = true;
	}
	if (!any)
		return P53_ESYNTAX;
	for (; fd < frac; fd++)
		v *= 10;
	*out = minus ? -v : v;
	return 0;
}

static bool is_hemi(const struct rdata_tok *t, const char *hemi)
{
	return t->len == 1 && (t->s[0] == hemi[0] || t->s[0] == hemi[1] ||
			       t->s[0] == hemi[0] + 32 || t->s[0] == hemi[1] + 32);
}

/* "d [m [s]] H" as thousandths of an arc second offset from 2^31. */
static int loc_coord(struct rp *p, unsigned maxdeg, const char *hemi,
		     const char *what, uint32_t *out)
{
	const struct rdata_tok *t = take(p, what);
	uint64_t deg, min = 0;
	int64_t ms = 0;
	int part;

	if (!t)
		return P53_ESYNTAX;
	if (parse_uint(t->s, t->len, maxdeg, &deg) < 0)
		return perr(p, p->i - 1, P53_ERANGE, "%s: degrees 0-%u expected",
			    what, maxdeg);
	for (part = 0; (t = take(p, what)) && !is_hemi(t, hemi); part++) {
		if (part == 0 && parse_uint(t->s, t->len, 59, &min) == 0)
			continue;
		if (part == 1 && dec_from_text(t->s, t->len, 3, false, false, &ms) == 0 &&
		    ms < 60000)
			continue;
		return perr(p, p->i - 1, P53_ESYNTAX, "%s: expected %s%s", what,
			    part == 0 ? "minutes 0-59 or " :
			    part == 1 ? "seconds 0-59.999 or " : "",
			    maxdeg == 90 ? "N or S" : "E or W");
	}
	if (!t)
		return P53_ESYNTAX;
	ms += (int64_t)((deg * 60 + min) * 60000);
	if (ms > (int64_t)maxdeg * 3600000)
		return perr(p, p->i - 1, P53_ERANGE, "%s beyond %u degrees",
			    what, maxdeg);
	*out = (t->s[0] & ~32) == hemi[0] ? LOC_EQUATOR + (uint32_t)ms :
					     LOC_EQUATOR - (uint32_t)ms;
	return 0;
}

/* RFC 1876 precision byte: mantissa and power of ten, in centimeters. */
static uint8_t loc_prec(int64_t cm)
{
	unsigned e = 0;

	while (cm >= 10 && e < 9) {
		cm /= 10;
		e++;
	}
	return (uint8_t)(cm << 4 | e);
}

static int parse_loc(struct rp *p, const struct field *f)
{
	static const uint8_t defaults[3] = { 0x12, 0x16, 0x13 };
	static const char *const names[3] = { "size", "horizontal precision",
					       "vertical precision" };
	uint8_t rd[16] = { 0 };
	uint32_t lat, lon;
	int64_t alt, v;
	int k, rc;

	(void)f;
	rc = loc_coord(p, 90, "NS", "latitude", &lat);
	if (rc == 0)
		rc = loc_coord(p, 180, "EW", "longitude", &lon);
	if (rc < 0)
		return rc;
	if (!take(p, "altitude"))
		return P53_ESYNTAX;
	rc = dec_from_text(p->tok[p->i - 1].s, p->tok[p->i - 1].len, 2, true,
			   true, &alt);
	if (rc < 0 || alt < -LOC_ALT_BASE || alt > 0xffffffffLL - LOC_ALT_BASE)
		return perr(p, p->i - 1, rc < 0 ? rc : P53_ERANGE,
			    "altitude: expected meters -100000.00 to 42849672.95");
	memcpy(rd + 1, defaults, 3);
	for (k = 0; k < 3 && p->i < p->ntok; k++, p->i++) {
		const struct rdata_tok *t = &p->tok[p->i];

		rc = dec_from_text(t->s, t->len, 2, false, true, &v);
		if (rc < 0 || v > 9000000000LL)
			return perr(p, p->i, rc < 0 ? rc : P53_ERANGE,
				    "%s: expected meters 0-90000000.00", names[k]);
		rd[1 + k] = loc_prec(v);
	}
	set32(rd + 4, lat);
	set32(rd + 8, lon);
	set32(rd + 12, (uint32_t)(alt + LOC_ALT_BASE));
	return put(p, rd, sizeof(rd));
}

/* ---- parsing: entry points ----------------------------------------------- */

static int parse_field(struct rp *p, const struct field *f)
{
	switch (f->kind) {
	case F_U8:     return parse_num(p, f, 1);
	case F_U16:    return parse_num(p, f, 2);
	case F_U32:    return parse_num(p, f, 4);
	case F_TTL:    return parse_ttl(p, f);
	case F_TIME:   return parse_time(p, f);
	case F_ALG:    return parse_alg(p, f);
	case F_TYPE:   return parse_type(p, f);
	case F_A:      return parse_addr(p, f, AF_INET);
	case F_AAAA:   return parse_addr(p, f, AF_INET6);
	case F_EUI48:  return parse_eui(p, f, 6);
	case F_EUI64:  return parse_eui(p, f, 8);
	case F_NAME:   return parse_name(p, f);
	case F_STR:    return parse_str(p, f);
	case F_STRS:   return parse_strs(p, f);
	case F_HEX:    return parse_hex(p, f);
	case F_B64:    return parse_b64(p, f);
	case F_SALT:   return parse_salt(p, f);
	case F_HASH:   return parse_hash(p, f);
	case F_BITMAP: return parse_bitmap(p, f);
	case F_TAG:    return parse_tag(p, f);
	case F_REST:   return parse_rest(p, f);
	case F_SVC:    return parse_svc(p, f);
	case F_LOC:    return parse_loc(p, f);
	}
	return perr(p, p->i, P53_EINVAL, "internal error: field kind %u",
		    f->kind);
}

static bool is_generic(const struct rdata_tok *t)
{
	return !t->quoted && t->len == 2 && t->s[0] == '\\' && t->s[1] == '#';
}

/* RFC 3597: "\# LEN HEX..." for any type. For a type we know, the bytes
 * must also make sense as that type. */
static int parse_generic(struct rp *p, uint16_t type)
{
	const struct rdata_tok *t;
	uint64_t want;
	size_t ltok;
	int hi = -1, rc;
	char tn[16];

	p->i = 1;
	t = take(p, "RDATA length after \\#");
	if (!t)
		return P53_ESYNTAX;
	ltok = p->i - 1;
	rc = parse_uint(t->s, t->len, 65535, &want);
	if (rc < 0)
		return perr(p, ltok, rc, "\\# length: expected a number 0-65535");
	for (; p->i < p->ntok; p->i++) {
		rc = hex_feed(p, p->i, &hi, "\\# data");
		if (rc < 0)
			return rc;
	}
	if (hi >= 0)
		return perr(p, p->ntok - 1, P53_ESYNTAX,
			    "\\# data: odd number of hex digits");
	if (p->len != want)
		return perr(p, ltok, P53_ESYNTAX,
			    "\\# length is %llu but the hex data has %zu bytes",
			    (unsigned long long)want, p->len);
	if (rdata_check(type, p->out, p->len) < 0)
		return perr(p, p->ntok > 2 ? 2 : ltok, P53_ESYNTAX,
			    "\\# data is not valid %s RDATA",
			    rrtype_to_text(type, tn, sizeof(tn)));
	return 0;
}

int rdata_from_text(uint16_t type, const struct rdata_tok *tok, size_t ntok,
		    const uint8_t *origin, uint8_t *out, size_t cap,
		    struct rdata_err *err)
{
	struct rdata_err dummy;
	struct rp p = {
		.tok = tok, .ntok = ntok, .origin = origin, .out = out,
		.cap = cap > RDATA_MAXLEN ? RDATA_MAXLEN : cap,
		.err = err ? err : &dummy,
	};
	const struct field *f;
	char tn[16];
	int rc = 0;

	p.err->tok = 0;
	p.err->msg[0] = '\0';
	if (!out || (ntok && !tok))
		return perr(&p, 0, P53_EINVAL, "internal error: no buffer");
	if (ntok && is_generic(&tok[0])) {
		rc = parse_generic(&p, type);
		return rc < 0 ? rc : (int)p.len;
	}
	f = rr_format(type);
	if (!f)
		return perr(&p, 0, P53_ESYNTAX,
			    "no presentation format known for %s; use \\# LEN HEX",
			    rrtype_to_text(type, tn, sizeof(tn)));
	for (; f->kind != F_END && rc == 0; f++)
		rc = parse_field(&p, f);
	if (rc == 0 && p.i < ntok)
		rc = perr(&p, p.i, P53_ESYNTAX, "unexpected text after %s RDATA",
			  rrtype_to_text(type, tn, sizeof(tn)));
	return rc < 0 ? rc : (int)p.len;
}

/* ---- structural check ---------------------------------------------------- */

/* RFC 4034 4.1.2 canonical form: windows ascending, 1-32 bytes each, no
 * trailing zero byte. Anything else would not survive a text round trip. */
static bool bitmap_ok(const uint8_t *b, size_t n)
{
	size_t pos = 0, blen;
	int prev = -1;

	while (pos < n) {
		if (n - pos < 2)
			return false;
		blen = b[pos + 1];
		if ((int)b[pos] <= prev || blen < 1 || blen > 32 ||
		    blen > n - pos - 2 || b[pos + 1 + blen] == 0)
			return false;
		prev = b[pos];
		pos += 2 + blen;
	}
	return true;
}

static size_t fixed_size(uint8_t kind)
{
	switch (kind) {
	case F_U8: case F_ALG:                          return 1;
	case F_U16: case F_TYPE:                        return 2;
	case F_U32: case F_TTL: case F_TIME: case F_A:  return 4;
	case F_EUI48:                                   return 6;
	case F_EUI64:                                   return 8;
	case F_AAAA: case F_LOC:                        return 16;
	}
	return 0;
}

/* A length byte and that many bytes. */
static bool lstr_ok(const uint8_t *b, size_t left, size_t *n)
{
	if (left < 1 || b[0] > left - 1)
		return false;
	*n = 1 + (size_t)b[0];
	return true;
}

static bool tag_ok(const uint8_t *b, size_t left, size_t *n)
{
	size_t i;

	if (!lstr_ok(b, left, n) || b[0] == 0)
		return false;
	for (i = 1; i < *n; i++) {
		if (!is_alnum(b[i]))
			return false;
	}
	return true;
}

/* Step *pos over one field of rd; false when it is malformed. */
static bool check_field(uint8_t kind, const uint8_t *rd, size_t len,
			size_t *pos)
{
	const uint8_t *b = rd + *pos;
	size_t left = len - *pos, n = fixed_size(kind);
	int nl;

	if (n) {
		if (left < n || (kind == F_LOC && b[0] != 0))
			return false;
		*pos += n;
		return true;
	}
	switch (kind) {
	case F_NAME:
		nl = dname_wire_len(b, left);
		if (nl < 0)
			return false;
		n = (size_t)nl;
		break;
	case F_STR:
	case F_SALT:
		if (!lstr_ok(b, left, &n))
			return false;
		break;
	case F_HASH:
		if (!lstr_ok(b, left, &n) || b[0] == 0)
			return false;
		break;
	case F_TAG:
		if (!tag_ok(b, left, &n))
			return false;
		break;
	case F_STRS:
		if (left == 0)
			return false;
		for (n = 0; n < left; n += 1 + (size_t)b[n]) {
			if (b[n] > left - n - 1)
				return false;
		}
		break;
	case F_BITMAP:
		if (!bitmap_ok(b, left))
			return false;
		n = left;
		break;
	case F_SVC:
		if (!svc_params_ok(b, left))
			return false;
		n = left;
		break;
	case F_HEX:
	case F_B64:
	case F_REST:
		n = left;
		break;
	default:
		return false;
	}
	*pos += n;
	return true;
}

int rdata_check(uint16_t type, const uint8_t *rd, size_t rdlen)
{
	static const uint8_t none[1];
	const struct field *f = rr_format(type);
	size_t pos = 0;

	if (rdlen > RDATA_MAXLEN || (!rd && rdlen))
		return P53_EFORMAT;
	if (!f)
		return 0;
	if (!rd)
		rd = none;
	for (; f->kind != F_END; f++) {
		if (!check_field(f->kind, rd, rdlen, &pos))
			return P53_EFORMAT;
	}
	return pos == rdlen ? 0 : P53_EFORMAT;
}

const uint8_t *rdata_target(uint16_t type, const uint8_t *rd, size_t rdlen)
{
	size_t off;

	switch (type) {
	case RRTYPE_NS: case RRTYPE_CNAME: case RRTYPE_DNAME: case RRTYPE_PTR:
		off = 0;
		break;
	case RRTYPE_MX: case RRTYPE_KX: case RRTYPE_AFSDB:
	case RRTYPE_SVCB: case RRTYPE_HTTPS:
		off = 2;
		break;
	case RRTYPE_SRV:
		off = 6;
		break;
	default:
		return NULL;
	}
	if (!rd || rdlen <= off || dname_wire_len(rd + off, rdlen - off) < 0)
		return NULL;
	return rd + off;
}

/* ---- printing ------------------------------------------------------------- */

/* Output buffer; `full` latches once anything did not fit, and the text
 * stays NUL-terminated throughout. */
struct wr {
	char *s;
	size_t cap;
	size_t len;
	bool full;
};

static void w_mem(struct wr *w, const char *s, size_t n)
{
	if (w->full || n >= w->cap - w->len) {
		w->full = true;
		return;
	}
	memcpy(w->s + w->len, s, n);
	w->len += n;
	w->s[w->len] = '\0';
}

static void w_putc(struct wr *w, char c)
{
	w_mem(w, &c, 1);
}

static void w_puts(struct wr *w, const char *s)
{
	w_mem(w, s, strlen(s));
}

static void w_fmt(struct wr *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void w_fmt(struct wr *w, const char *fmt, ...)
{
	char buf[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		w->full = true;
	else
		w_mem(w, buf, (size_t)n);
}

static void w_sep(struct wr *w)
{
	if (w->len)
		w_putc(w, ' ');
}

static void w_hex(struct wr *w, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char h[2] = { hex_digits[b[i] >> 4], hex_digits[b[i] & 15] };

		w_mem(w, h, 2);
	}
}

static void w_b64(struct wr *w, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)b[i] << 16;
		char q[4];

		if (i + 1 < n)
			v |= (uint32_t)b[i + 1] << 8;
		if (i + 2 < n)
			v |= b[i + 2];
		q[0] = b64_alphabet[v >> 18];
		q[1] = b64_alphabet[v >> 12 & 63];
		q[2] = i + 1 < n ? b64_alphabet[v >> 6 & 63] : '=';
		q[3] = i + 2 < n ? b64_alphabet[v & 63] : '=';
		w_mem(w, q, 4);
	}
}

static void w_b32hex(struct wr *w, const uint8_t *b, size_t n)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		acc = (acc << 8 | b[i]) & 0x1fff;
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			w_putc(w, b32hex_alphabet[acc >> bits & 31]);
		}
	}
	if (bits)
		w_putc(w, b32hex_alphabet[acc << (5 - bits) & 31]);
}

static void w_ddd(struct wr *w, uint8_t c)
{
	char e[4] = { '\\', (char)('0' + c / 100), (char)('0' + c / 10 % 10),
		      (char)('0' + c % 10) };

	w_mem(w, e, 4);
}

/* A quoted <character-string>. */
static void w_qstr(struct wr *w, const uint8_t *b, size_t n)
{
	size_t i;

	w_putc(w, '"');
	for (i = 0; i < n; i++) {
		if (b[i] == '"' || b[i] == '\\') {
			w_putc(w, '\\');
			w_putc(w, (char)b[i]);
		} else if (b[i] < 0x20 || b[i] > 0x7e) {
			w_ddd(w, b[i]);
		} else {
			w_putc(w, (char)b[i]);
		}
	}
	w_putc(w, '"');
}

/* One byte of an unquoted SvcParam value: everything a zone tokenizer
 * might act on becomes \DDD. */
static void w_ebyte(struct wr *w, uint8_t c)
{
	if (c == '\\')
		w_mem(w, "\\\\", 2);
	else if (c < 0x21 || c > 0x7e || c == '"' || c == ';' || c == '(' ||
		 c == ')')
		w_ddd(w, c);
	else
		w_putc(w, (char)c);
}

static void w_name(struct wr *w, const uint8_t *name)
{
	int n;

	if (w->full)
		return;
	n = dname_to_text(name, w->s + w->len, w->cap - w->len);
	if (n < 0) {
		w->s[w->len] = '\0';
		w->full = true;
		return;
	}
	w->len += (size_t)n;
}

static void w_time(struct wr *w, uint32_t t)
{
	int64_t y;
	unsigned mo, d, s = t % 86400;

	civil_from_days(t / 86400, &y, &mo, &d);
	w_fmt(w, "%04lld%02u%02u%02u%02u%02u", (long long)y, mo, d, s / 3600,
	      s / 60 % 60, s % 60);
}

static void w_addr(struct wr *w, int af, const uint8_t *b)
{
	char buf[INET6_ADDRSTRLEN];

	if (inet_ntop(af, b, buf, sizeof(buf)))
		w_puts(w, buf);
	else
		w->full = true;
}

static void print_bitmap(struct wr *w, const uint8_t *b, size_t n)
{
	size_t pos = 0, i;
	unsigned bit;
	char tn[16];

	while (pos + 2 <= n) {
		unsigned win = b[pos], blen = b[pos + 1];

		for (i = 0; i < blen && pos + 2 + i < n; i++) {
			for (bit = 0; bit < 8; bit++) {
				if (!(b[pos + 2 + i] & (0x80 >> bit)))
					continue;
				w_sep(w);
				w_puts(w, rrtype_to_text((uint16_t)(win << 8 | i << 3 | bit),
							 tn, sizeof(tn)));
			}
		}
		pos += 2 + blen;
	}
}

static void print_svc_key(struct wr *w, uint16_t key)
{
	if (key < ARRAY_SIZE(svc_key_names))
		w_puts(w, svc_key_names[key]);
	else
		w_fmt(w, "key%u", key);
}

/* alpn ids: value-list escapes ("\," and "\\") under the character-string
 * escapes, so a comma inside an id comes out as "\\,". */
static void print_alpn(struct wr *w, const uint8_t *v, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i += 1 + (size_t)v[i]) {
		if (i)
			w_putc(w, ',');
		for (k = i + 1; k <= i + v[i] && k < n; k++) {
			if (v[k] == ',')
				w_mem(w, "\\\\,", 3);
			else if (v[k] == '\\')
				w_mem(w, "\\\\\\\\", 4);
			else
				w_ebyte(w, v[k]);
		}
	}
}

static void print_svc_value(struct wr *w, uint16_t key, const uint8_t *v,
			    size_t n)
{
	size_t i;

	switch (key) {
	case SVC_MANDATORY:
		for (i = 0; i + 1 < n; i += 2) {
			if (i)
				w_putc(w, ',');
			print_svc_key(w, get16(v + i));
		}
		return;
	case SVC_ALPN:
		print_alpn(w, v, n);
		return;
	case SVC_PORT:
		w_fmt(w, "%u", get16(v));
		return;
	case SVC_IPV4HINT:
	case SVC_IPV6HINT:
		for (i = 0; i < n; i += key == SVC_IPV4HINT ? 4 : 16) {
			if (i)
				w_putc(w, ',');
			w_addr(w, key == SVC_IPV4HINT ? AF_INET : AF_INET6, v + i);
		}
		return;
	case SVC_ECH:
		w_b64(w, v, n);
		return;
	}
	for (i = 0; i < n; i++)
		w_ebyte(w, v[i]);
}

/* Named keys print their value in the key's own syntax; an empty value
 * for a key that needs one, and every unnamed key, use keyNNNNN. */
static void print_svc(struct wr *w, const uint8_t *ps, size_t n)
{
	const uint8_t *v;
	size_t pos = 0, i;
	uint16_t key, vlen;

	while (svc_param_next(ps, n, &pos, &key, &v, &vlen)) {
		w_sep(w);
		if (key == SVC_NDALPN && vlen == 0) {
			print_svc_key(w, key);
		} else if (key < ARRAY_SIZE(svc_key_names) && vlen) {
			print_svc_key(w, key);
			w_putc(w, '=');
			print_svc_value(w, key, v, vlen);
		} else {
			w_fmt(w, "key%u", key);
			if (vlen)
				w_putc(w, '=');
			for (i = 0; i < vlen; i++)
				w_ebyte(w, v[i]);
		}
	}
}

static int print_loc_coord(struct wr *w, uint32_t v, unsigned maxdeg,
			   const char *hemi)
{
	uint32_t ms = v >= LOC_EQUATOR ? v - LOC_EQUATOR : LOC_EQUATOR - v;

	if (ms > maxdeg * 3600000u)
		return P53_EFORMAT;
	w_fmt(w, "%u %u %u.%03u %c", ms / 3600000, ms / 60000 % 60,
	      ms / 1000 % 60, ms % 1000, v >= LOC_EQUATOR ? hemi[0] : hemi[1]);
	return 0;
}

/* Meters with centimeters; only the canonical precision bytes (mantissa
 * and exponent 0-9, no zero mantissa with an exponent) parse back. */
static int print_loc_prec(struct wr *w, uint8_t b)
{
	unsigned m = b >> 4, e = b & 15;
	uint64_t cm = m;

	if (m > 9 || e > 9 || (m == 0 && e))
		return P53_EFORMAT;
	while (e--)
		cm *= 10;
	w_fmt(w, " %llu.%02llum", (unsigned long long)(cm / 100),
	      (unsigned long long)(cm % 100));
	return 0;
}

static int print_loc(struct wr *w, const uint8_t *b)
{
	int64_t alt = (int64_t)get32(b + 12) - LOC_ALT_BASE;
	int64_t a = alt < 0 ? -alt : alt;
	int k;

	if (print_loc_coord(w, get32(b + 4), 90, "NS") < 0)
		return P53_EFORMAT;
	w_sep(w);
	if (print_loc_coord(w, get32(b + 8), 180, "EW") < 0)
		return P53_EFORMAT;
	w_fmt(w, " %s%lld.%02lldm", alt < 0 ? "-" : "", (long long)(a / 100),
	      (long long)(a % 100));
	for (k = 1; k <= 3; k++) {
		if (print_loc_prec(w, b[k]) < 0)
			return P53_EFORMAT;
	}
	return 0;
}

/* Print one field whose bytes check_field delimited as b[0..n). Returns
 * P53_EFORMAT when the bytes have no text form that parses back. */
static int print_field(struct wr *w, uint8_t kind, const uint8_t *b, size_t n)
{
	char tn[16];
	size_t i;

	if (kind != F_BITMAP && kind != F_SVC)
		w_sep(w);
	switch (kind) {
	case F_U8:
	case F_ALG:    w_fmt(w, "%u", b[0]); break;
	case F_U16:    w_fmt(w, "%u", get16(b)); break;
	case F_U32:
	case F_TTL:    w_fmt(w, "%lu", (unsigned long)get32(b)); break;
	case F_TIME:   w_time(w, get32(b)); break;
	case F_TYPE:   w_puts(w, rrtype_to_text(get16(b), tn, sizeof(tn))); break;
	case F_A:      w_addr(w, AF_INET, b); break;
	case F_AAAA:   w_addr(w, AF_INET6, b); break;
	case F_NAME:   w_name(w, b); break;
	case F_STR:    w_qstr(w, b + 1, b[0]); break;
	case F_TAG:    w_mem(w, (const char *)b + 1, b[0]); break;
	case F_REST:   w_qstr(w, b, n); break;
	case F_BITMAP: print_bitmap(w, b, n); break;
	case F_SVC:    print_svc(w, b, n); break;
	case F_LOC:    return print_loc(w, b);
	case F_EUI48:
	case F_EUI64:
		for (i = 0; i < n; i++)
			w_fmt(w, i ? "-%02x" : "%02x", b[i]);
		break;
	case F_STRS:
		for (i = 0; i < n; i += 1 + (size_t)b[i]) {
			if (i)
				w_putc(w, ' ');
			w_qstr(w, b + i + 1, b[i]);
		}
		break;
	case F_HEX:
	case F_B64:
		/* The text form needs at least one token. */
		if (n == 0)
			return P53_EFORMAT;
		if (kind == F_HEX)
			w_hex(w, b, n);
		else
			w_b64(w, b, n);
		break;
	case F_SALT:
		if (b[0] == 0)
			w_putc(w, '-');
		w_hex(w, b + 1, b[0]);
		break;
	case F_HASH:   w_b32hex(w, b + 1, b[0]); break;
	default:       return P53_EFORMAT;
	}
	return 0;
}

static int print_fields(struct wr *w, const struct field *f,
			const uint8_t *rd, size_t len)
{
	size_t pos = 0, start;
	int rc;

	if (!f)
		return P53_ENOTFOUND;
	for (; f->kind != F_END; f++) {
		start = pos;
		if (!check_field(f->kind, rd, len, &pos))
			return P53_EFORMAT;
		rc = print_field(w, f->kind, rd + start, pos - start);
		if (rc < 0)
			return rc;
	}
	return pos == len ? 0 : P53_EFORMAT;
}

static void print_generic(struct wr *w, const uint8_t *rd, size_t n)
{
	w_fmt(w, "\\# %zu", n);
	if (n) {
		w_putc(w, ' ');
		w_hex(w, rd, n);
	}
}

int rdata_to_text(uint16_t type, const uint8_t *rd, size_t rdlen,
		  char *out, size_t cap)
{
	static const uint8_t none[1];
	struct wr w = { .s = out, .cap = cap };

	if (!out || cap == 0)
		return P53_ESPACE;
	out[0] = '\0';
	if (rdlen > RDATA_MAXLEN || (!rd && rdlen))
		return P53_EINVAL;
	if (!rd)
		rd = none;
	if (print_fields(&w, rr_format(type), rd, rdlen) < 0) {
		w.len = 0;
		w.full = false;
		out[0] = '\0';
		print_generic(&w, rd, rdlen);
	}
	return w.full ? P53_ESPACE : (int)w.len;
}
