/*
 * nsec3.c — SHA-1 (FIPS 180-4 6.1) and the NSEC3 hash (RFC 5155 5).
 */
#include <string.h>

#include "nsec3.h"

struct sha1 {
	uint32_t h[5];
	uint8_t block[64];
	size_t fill;
	uint64_t total;
};

static inline uint32_t rol(uint32_t x, unsigned n)
{
	return x << n | x >> (32 - n);
}

/* One round: the schedule word t is made in a 16-word ring as it is
 * needed, and each group of 20 rounds has its own loop, so that the
 * compiler unrolls them without a branch per round. */
#define SHA1_W(t) (t < 16 ? w[t] : (w[t & 15] = rol(w[(t + 13) & 15] ^ \
		  w[(t + 8) & 15] ^ w[(t + 2) & 15] ^ w[t & 15], 1)))
#define SHA1_ROUND(f, k) do { \
		uint32_t tmp = rol(a, 5) + (f) + e + (k) + SHA1_W(t); \
		e = d; d = c; c = rol(b, 30); b = a; a = tmp; \
	} while (0)

static void sha1_block(uint32_t h[5], const uint8_t *p)
{
	uint32_t w[16], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	unsigned t;

	for (t = 0; t < 16; t++)
		w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 |
		       (uint32_t)p[4 * t + 2] << 8 | p[4 * t + 3];
	for (t = 0; t < 20; t++)
		SHA1_ROUND(d ^ (b & (c ^ d)), 0x5a827999);
	for (; t < 40; t++)
		SHA1_ROUND(b ^ c ^ d, 0x6ed9eba1);
	for (; t < 60; t++)
		SHA1_ROUND((b & c) | (d & (b | c)), 0x8f1bbcdc);
	for (; t < 80; t++)
		SHA1_ROUND(b ^ c ^ d, 0xca62c1d6);
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

static void sha1_init(struct sha1 *s)
{
	static const uint32_t iv[5] = {
		0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0,
	};

	memcpy(s->h, iv, sizeof(iv));
	s->fill = 0;
	s->total = 0;
}

static void sha1_update(struct sha1 *s, const uint8_t *p, size_t n)
{
	s->total += n;
	while (n) {
		size_t take = 64 - s->fill < n ? 64 - s->fill : n;

		memcpy(s->block + s->fill, p, take);
		s->fill += take;
		p += take;
		n -= take;
		if (s->fill == 64) {
			sha1_block(s->h, s->block);
			s->fill = 0;
		}
	}
}

static void sha1_final(struct sha1 *s, uint8_t out[NSEC3_HASH_LEN])
{
	uint64_t bits = s->total * 8;

	s->block[s->fill++] = 0x80;
	if (s->fill > 56) {
		memset(s->block + s->fill, 0, 64 - s->fill);
		sha1_block(s->h, s->block);
		s->fill = 0;
	}
	memset(s->block + s->fill, 0, 56 - s->fill);
	for (int i = 0; i < 8; i++)
		s->block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
	sha1_block(s->h, s->block);
	for (int i = 0; i < 5; i++) {
		out[4 * i] = (uint8_t)(s->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)s->h[i];
	}
}

void nsec3_sha1(const void *data, size_t len, uint8_t out[NSEC3_HASH_LEN])
{
	struct sha1 s;

	sha1_init(&s);
	sha1_update(&s, data, len);
	sha1_final(&s, out);
}

/* IH(salt, x, 0) = H(x || salt), IH(salt, x, k) = H(IH(salt, x, k-1) || salt) */
void nsec3_hash(const uint8_t *name, size_t len, const uint8_t *salt,
		size_t salt_len, unsigned iterations,
		uint8_t out[NSEC3_HASH_LEN])
{
	struct sha1 s;

	sha1_init(&s);
	sha1_update(&s, name, len);
	sha1_update(&s, salt, salt_len);
	sha1_final(&s, out);
	while (iterations--) {
		sha1_init(&s);
		sha1_update(&s, out, NSEC3_HASH_LEN);
		sha1_update(&s, salt, salt_len);
		sha1_final(&s, out);
	}
}

int nsec3_label_decode(const uint8_t *label, uint8_t out[NSEC3_HASH_LEN])
{
	uint64_t acc = 0;
	unsigned bits = 0, n = 0;

	if (label[0] != 32)
		return -1;
	for (unsigned i = 1; i <= 32; i++) {
		unsigned c = label[i], v;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'v')
			v = (c | 0x20) - 'a' + 10;
		else
			return -1;
		acc = acc << 5 | v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	return n == NSEC3_HASH_LEN ? 0 : -1;
}
