/*
 * rdata.h — RR types, classes and RDATA in presentation and wire form.
 *
 * Knows the presentation formats of SOA NS A AAAA CNAME DNAME MX TXT PTR
 * SRV CAA NAPTR SSHFP TLSA HTTPS SVCB DS DNSKEY RRSIG NSEC NSEC3 NSEC3PARAM
 * (and a few more); every type, known or not, also takes the RFC 3597
 * generic form "\# LEN HEX".
 */
#ifndef POP53_RDATA_H
#define POP53_RDATA_H

#include <stddef.h>
#include <stdint.h>

enum {
	RRTYPE_A = 1, RRTYPE_NS = 2, RRTYPE_CNAME = 5, RRTYPE_SOA = 6,
	RRTYPE_PTR = 12, RRTYPE_HINFO = 13, RRTYPE_MX = 15, RRTYPE_TXT = 16,
	RRTYPE_RP = 17, RRTYPE_AFSDB = 18, RRTYPE_AAAA = 28, RRTYPE_LOC = 29,
	RRTYPE_SRV = 33, RRTYPE_NAPTR = 35, RRTYPE_KX = 36, RRTYPE_CERT = 37,
	RRTYPE_DNAME = 39, RRTYPE_OPT = 41, RRTYPE_APL = 42, RRTYPE_DS = 43,
	RRTYPE_SSHFP = 44, RRTYPE_IPSECKEY = 45, RRTYPE_RRSIG = 46,
	RRTYPE_NSEC = 47, RRTYPE_DNSKEY = 48, RRTYPE_DHCID = 49,
	RRTYPE_NSEC3 = 50, RRTYPE_NSEC3PARAM = 51, RRTYPE_TLSA = 52,
	RRTYPE_SMIMEA = 53, RRTYPE_CDS = 59, RRTYPE_CDNSKEY = 60,
	RRTYPE_OPENPGPKEY = 61, RRTYPE_CSYNC = 62, RRTYPE_ZONEMD = 63,
	RRTYPE_SVCB = 64, RRTYPE_HTTPS = 65, RRTYPE_SPF = 99,
	RRTYPE_EUI48 = 108, RRTYPE_EUI64 = 109, RRTYPE_TKEY = 249,
	RRTYPE_TSIG = 250, RRTYPE_IXFR = 251, RRTYPE_AXFR = 252,
	RRTYPE_ANY = 255, RRTYPE_URI = 256, RRTYPE_CAA = 257,
};

enum { RRCLASS_IN = 1, RRCLASS_CH = 3, RRCLASS_HS = 4, RRCLASS_NONE = 254,
       RRCLASS_ANY = 255 };

#define RDATA_MAXLEN 65535

/* Type from its mnemonic ("AAAA", case-insensitive) or "TYPEnnn".
 * Returns 0..65535 or P53_ENOTFOUND. */
int rrtype_from_text(const char *s, size_t len);

/* Value 0..15 of hexadecimal digit c (either case), or -1. */
int rdata_hex_value(char c);

/* Mnemonic of a type, or NULL when it has none. */
const char *rrtype_name(uint16_t type);

/* Mnemonic or "TYPEnnn" into buf (at least 16 bytes); returns buf. */
const char *rrtype_to_text(uint16_t type, char *buf, size_t cap);

/* Class from "IN"/"CH"/"HS"/"CLASSnnn"; returns it or P53_ENOTFOUND. */
int rrclass_from_text(const char *s, size_t len);

/* Mnemonic or "CLASSnnn" into buf (at least 16 bytes); returns buf. */
const char *rrclass_to_text(uint16_t rclass, char *buf, size_t cap);

/* One whitespace-separated token of a record's RDATA, as the zone parser
 * split it. `s` is the raw text, escapes (\X, \DDD) still in place; for a
 * token written as "..." the quotes are removed and `quoted` is set. A
 * quote inside a token (alpn="h2,h3") stays in `s`. */
struct rdata_tok {
	const char *s;
	uint32_t len;
	uint32_t col;   /* 1-based column in its line, for messages */
	uint32_t line;  /* line number (records may span lines) */
	uint8_t quoted;
};

/* What rdata_from_text did not like: the token index and a message that
 * says what was expected ("expected an IPv4 address"). */
struct rdata_err {
	size_t tok;     /* index of the offending token (ntok = missing one) */
	char msg[160];
};

/* Encode the presentation RDATA tokens tok[0..ntok) of `type` into wire
 * form in out (cap bytes). Names inside RDATA are made absolute with
 * origin (may be NULL) and stored uncompressed with their case kept.
 * Returns the RDATA length (0..65535) or P53_ESYNTAX / P53_ERANGE /
 * P53_ESPACE with err filled in. */
int rdata_from_text(uint16_t type, const struct rdata_tok *tok, size_t ntok,
		    const uint8_t *origin, uint8_t *out, size_t cap,
		    struct rdata_err *err);

/* Write RDATA in presentation form into out (cap bytes, NUL-terminated),
 * so that rdata_from_text gives the same bytes back. Unknown types and
 * RDATA that does not decode for its type use the generic "\# LEN HEX".
 * Returns the text length or P53_ESPACE. */
int rdata_to_text(uint16_t type, const uint8_t *rd, size_t rdlen,
		  char *out, size_t cap);

/* For types whose RDATA names a host that additional-section processing
 * or chasing follows (NS, MX, SRV, CNAME, DNAME, PTR, and the target of
 * SVCB/HTTPS), return a pointer to that wire name inside rd, else NULL.
 * Checks that the name fits inside rdlen. */
const uint8_t *rdata_target(uint16_t type, const uint8_t *rd, size_t rdlen);

/* Check that rd is well-formed RDATA for `type` (names valid, fixed sizes
 * right, character-strings inside bounds). 0 or P53_EFORMAT. Unknown types
 * are always well-formed. */
int rdata_check(uint16_t type, const uint8_t *rd, size_t rdlen);

#endif
