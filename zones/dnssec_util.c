/*
 * dnssec_util.c — the pieces of signing that are pure functions: canonical
 * RDATA (RFC 4034 6.2), type bitmaps (RFC 4034 4.1.2), NSEC3 hashes
 * (RFC 5155 5) and base32hex (RFC 4648 7).
 */
#include <string.h>

#include <openssl/evp.h>

#include "dname.h"
#include "dnssec.h"
#include "error.h"
#include "rdata.h"

/* Lower-case the name at *pos and step over it; 0 when it does not fit. */
static int lower_name(uint8_t *rd, size_t rdlen, size_t *pos)
{
	int n;

	if (*pos >= rdlen || (n = dname_wire_len(rd + *pos, rdlen - *pos)) < 0)
		return 0;
	dname_lower(rd + *pos);
	*pos += (size_t)n;
	return 1;
}

/* Step over one <character-string>. */
static int skip_string(const uint8_t *rd, size_t rdlen, size_t *pos)
{
	if (*pos >= rdlen || *pos + 1u + rd[*pos] > rdlen)
		return 0;
	*pos += 1u + rd[*pos];
	return 1;
}

void dnssec_canonical_rdata(uint16_t type, uint8_t *rd, size_t rdlen)
{
	size_t pos = 0;

	switch (type) {
	case RRTYPE_NS: case 3: case 4: case RRTYPE_CNAME: case 7: case 8: case 9:
	case RRTYPE_PTR: case RRTYPE_DNAME:
		lower_name(rd, rdlen, &pos);
		break;
	case RRTYPE_SOA: case 14 /* MINFO */: case RRTYPE_RP:
		if (lower_name(rd, rdlen, &pos))
			lower_name(rd, rdlen, &pos);
		break;
	case RRTYPE_MX: case RRTYPE_AFSDB: case 21 /* RT */: case RRTYPE_KX:
		pos = 2;
		lower_name(rd, rdlen, &pos);
		break;
	case 26 /* PX */:
		pos = 2;
		if (lower_name(rd, rdlen, &pos))
			lower_name(rd, rdlen, &pos);
		break;
	case RRTYPE_SRV:
		pos = 6;
		lower_name(rd, rdlen, &pos);
		break;
	case 24 /* SIG */: case RRTYPE_RRSIG:
		pos = 18;
		lower_name(rd, rdlen, &pos);
		break;
	case RRTYPE_NAPTR:
		pos = 4;
		if (skip_string(rd, rdlen, &pos) && skip_string(rd, rdlen, &pos) &&
		    skip_string(rd, rdlen, &pos))
			lower_name(rd, rdlen, &pos);
		break;
	case 30 /* NXT */:
		lower_name(rd, rdlen, &pos);
		break;
	}
	/* A6 and NSEC (RFC 6840 5.1) keep their case; SVCB/HTTPS are not
	 * in the list (RFC 9460 2.2). */
}

size_t dnssec_type_bitmap(const uint16_t *types, size_t n, uint8_t *out)
{
	uint8_t win[256][32];
	uint8_t used[256] = { 0 };
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned w = types[i] >> 8, b = types[i] & 0xff;
		if (!used[w]) {
			memset(win[w], 0, sizeof(win[w]));
			used[w] = 1;
		}
		win[w][b >> 3] |= (uint8_t)(0x80 >> (b & 7));
	}
	for (unsigned w = 0; w < 256; w++) {
		unsigned last = 0;
		if (!used[w])
			continue;
		for (unsigned i = 0; i < 32; i++)
			if (win[w][i])
				last = i + 1;
		out[len++] = (uint8_t)w;
		out[len++] = (uint8_t)last;
		memcpy(out + len, win[w], last);
		len += last;
	}
	return len;
}

int dnssec_nsec3_hash(const uint8_t *name, const uint8_t *salt, size_t saltlen,
		      uint16_t iterations, uint8_t out[DNSSEC_NSEC3_HASH_LEN])
{
	uint8_t lower[DNAME_MAXLEN];
	size_t len = dname_copy_lower(lower, name);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const EVP_MD *sha1 = EVP_sha1();
	int ok = ctx != NULL;

	/* IH(salt, x, 0) = H(x || salt); IH(salt, x, k) = H(IH(k-1) || salt) */
	for (unsigned i = 0; ok && i <= iterations; i++) {
		ok = EVP_DigestInit_ex(ctx, sha1, NULL) == 1 &&
		     EVP_DigestUpdate(ctx, i ? out : lower, i ? DNSSEC_NSEC3_HASH_LEN : len) == 1 &&
		     EVP_DigestUpdate(ctx, salt, saltlen) == 1 &&
		     EVP_DigestFinal_ex(ctx, out, NULL) == 1;
	}
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : P53_ENOMEM;
}

size_t dnssec_base32hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuv";
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		acc = acc << 8 | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[len++] = digits[(acc >> bits) & 31];
		}
	}
	if (bits)
		out[len++] = digits[(acc << (5 - bits)) & 31];
	out[len] = '\0';
	return len;
}

int dnssec_nsec3_owner(const uint8_t hash[DNSSEC_NSEC3_HASH_LEN], const uint8_t *apex,
		       uint8_t *out)
{
	size_t alen = (size_t)dname_wire_len(apex, DNAME_MAXLEN);

	if (1 + 32 + alen > DNAME_MAXLEN)
		return P53_ERANGE;
	out[0] = 32;
	dnssec_base32hex(hash, DNSSEC_NSEC3_HASH_LEN, (char *)out + 1);
	dname_copy_lower(out + 33, apex);
	return 0;
}
