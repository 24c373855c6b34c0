/*
 * cookie.c — SipHash-2-4 and RFC 9018 server cookies.
 */
#include <string.h>

#include "cookie.h"
#include "rdata.h"
#include "error.h"

static inline uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

#define SIPROUND(v0, v1, v2, v3) do { \
	v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32); \
	v2 += v3; v3 = rotl(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = rotl(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32); \
} while (0)

uint64_t cookie_siphash24(const uint8_t key[16], const void *msg, size_t len)
{
	const uint8_t *m = msg;
	uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
	uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
	uint64_t b = (uint64_t)len << 56;
	size_t i, full = len & ~(size_t)7;

	for (i = 0; i < full; i += 8) {
		uint64_t w = load_le64(m + i);

		v3 ^= w;
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= w;
	}
	/* The last 0..7 bytes, little-endian, under the length byte. */
	for (size_t j = 0; j < (len & 7); j++)
		b |= (uint64_t)m[full + j] << (8 * j);
	v3 ^= b;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (int r = 0; r < 4; r++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

const struct cookie_secrets *cookie_box_set(struct cookie_box *b,
					    const struct cookie_secrets *s)
{
	return atomic_exchange_explicit(&b->secrets, s, memory_order_acq_rel);
}

void cookie_secrets_rotate(struct cookie_secrets *out,
			   const struct cookie_secrets *old,
			   const uint8_t fresh[COOKIE_SECRET_LEN])
{
	struct cookie_secrets n;

	memset(&n, 0, sizeof(n));
	memcpy(n.current, fresh, COOKIE_SECRET_LEN);
	if (old) {
		memcpy(n.previous, old->current, COOKIE_SECRET_LEN);
		n.has_previous = 1;
	}
	*out = n;   /* out may be old itself */
}

int cookie_secret_parse(const char *hex, uint8_t out[COOKIE_SECRET_LEN])
{
	uint8_t v[COOKIE_SECRET_LEN];

	if (!hex || strlen(hex) != 2 * COOKIE_SECRET_LEN)
		return P53_ESYNTAX;
	for (size_t i = 0; i < COOKIE_SECRET_LEN; i++) {
		int hi = rdata_hex_value(hex[2 * i]), lo = rdata_hex_value(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return P53_ESYNTAX;
		v[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(out, v, sizeof(v));
	return 0;
}

/* The hash over client cookie, the 8 bytes version|reserved|timestamp as
 * given, and the address. */
static uint64_t cookie_hash(const uint8_t secret[COOKIE_SECRET_LEN],
			    const uint8_t client[COOKIE_CLIENT_LEN],
			    const uint8_t head[8], const uint8_t *addr,
			    size_t alen)
{
	uint8_t msg[COOKIE_CLIENT_LEN + 8 + 16];

	if (alen > 16)
		alen = 16;
	memcpy(msg, client, COOKIE_CLIENT_LEN);
	memcpy(msg + COOKIE_CLIENT_LEN, head, 8);
	memcpy(msg + COOKIE_CLIENT_LEN + 8, addr, alen);
	return cookie_siphash24(secret, msg, COOKIE_CLIENT_LEN + 8 + alen);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void cookie_make(const uint8_t secret[COOKIE_SECRET_LEN],
		 const uint8_t client[COOKIE_CLIENT_LEN], const uint8_t *addr,
		 size_t alen, uint32_t now, uint8_t out[COOKIE_SERVER_LEN])
{
	out[0] = COOKIE_VERSION;
	out[1] = out[2] = out[3] = 0;
	out[4] = (uint8_t)(now >> 24);
	out[5] = (uint8_t)(now >> 16);
	out[6] = (uint8_t)(now >> 8);
	out[7] = (uint8_t)now;
	put_le64(out + 8, cookie_hash(secret, client, out, addr, alen));
}

static int hash_is(const uint8_t secret[COOKIE_SECRET_LEN],
		   const uint8_t client[COOKIE_CLIENT_LEN],
		   const uint8_t *server, const uint8_t *addr, size_t alen)
{
	uint8_t h[8];
	uint8_t diff = 0;

	put_le64(h, cookie_hash(secret, client, server, addr, alen));
	for (int i = 0; i < 8; i++)
		diff |= (uint8_t)(h[i] ^ server[8 + i]);
	return diff == 0;
}

enum cookie_verdict cookie_check(const struct cookie_secrets *s,
				 const uint8_t client[COOKIE_CLIENT_LEN],
				 const uint8_t *server, size_t slen,
				 const uint8_t *addr, size_t alen, uint32_t now)
{
	uint32_t ts;
	/* Serial number arithmetic (RFC 1982): the signed difference. */
	int32_t age;

	if (!s || slen != COOKIE_SERVER_LEN || server[0] != COOKIE_VERSION)
		return COOKIE_BAD;
	if (!hash_is(s->current, client, server, addr, alen) &&
	    !(s->has_previous && hash_is(s->previous, client, server, addr, alen)))
		return COOKIE_BAD;
	ts = (uint32_t)server[4] << 24 | (uint32_t)server[5] << 16 |
	     (uint32_t)server[6] << 8 | server[7];
	age = (int32_t)(now - ts);
	if (age > COOKIE_MAX_AGE || age < -COOKIE_MAX_FUTURE)
		return COOKIE_EXPIRED;
	return age > COOKIE_RENEW_AGE ? COOKIE_VALID_RENEW : COOKIE_VALID;
}
