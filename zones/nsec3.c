/*
 * nsec3.c — SHA-1 (FIPS 180-4 6.1) and the NSEC3 hash (RFC 5155 5).
 *
 * An NXDOMAIN or a wildcard answer in an NSEC3 zone hashes a name per
 * query: on x86 CPUs with the SHA extensions a block takes the
 * instructions made for it (about a fifth of the portable rounds' time),
 * chosen once by CPUID; elsewhere the portable code below.
 */
#include <stdbool.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_SHA_NI 1
#endif

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

static void sha1_block_sw(uint32_t h[5], const uint8_t *p)
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

#ifdef HAVE_SHA_NI
/* Four rounds (group g >= 3) of the SHA extensions' schedule, as in
 * Intel's reference: mc is the group's message words, mn, mnn and mp the
 * next, the one after and the previous; ec takes the group's E, en gets
 * the next group's. The tail's unused schedule work is left to the
 * compiler to drop. */
#define NI_STEP(ec, en, mc, mn, mnn, mp, f) do { \
		ec = _mm_sha1nexte_epu32(ec, mc); \
		en = abcd; \
		mn = _mm_sha1msg2_epu32(mn, mc); \
		abcd = _mm_sha1rnds4_epu32(abcd, ec, f); \
		mp = _mm_sha1msg1_epu32(mp, mc); \
		mnn = _mm_xor_si128(mnn, mc); \
	} while (0)

__attribute__((target("sha,sse4.1,ssse3")))
static void sha1_block_ni(uint32_t h[5], const uint8_t *p)
{
	const __m128i bswap = _mm_set_epi64x(0x0001020304050607ll, 0x08090a0b0c0d0e0fll);
	__m128i abcd = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(const void *)h), 0x1b);
	__m128i e0 = _mm_set_epi32((int)h[4], 0, 0, 0), e1;
	__m128i abcd0 = abcd, e00 = e0;
	__m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), bswap);
	__m128i m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 16)), bswap);
	__m128i m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 32)), bswap);
	__m128i m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 48)), bswap);

	/* rounds 0-11: the schedule starts up */
	e0 = _mm_add_epi32(e0, m0);
	e1 = abcd;
	abcd = _mm_sha1rnds4_epu32(abcd, e0, 0);
	e1 = _mm_sha1nexte_epu32(e1, m1);
	e0 = abcd;
	abcd = _mm_sha1rnds4_epu32(abcd, e1, 0);
	m0 = _mm_sha1msg1_epu32(m0, m1);
	e0 = _mm_sha1nexte_epu32(e0, m2);
	e1 = abcd;
	abcd = _mm_sha1rnds4_epu32(abcd, e0, 0);
	m1 = _mm_sha1msg1_epu32(m1, m2);
	m0 = _mm_xor_si128(m0, m2);
	/* rounds 12-79 */
	NI_STEP(e1, e0, m3, m0, m1, m2, 0);
	NI_STEP(e0, e1, m0, m1, m2, m3, 0);
	NI_STEP(e1, e0, m1, m2, m3, m0, 1);
	NI_STEP(e0, e1, m2, m3, m0, m1, 1);
	NI_STEP(e1, e0, m3, m0, m1, m2, 1);
	NI_STEP(e0, e1, m0, m1, m2, m3, 1);
	NI_STEP(e1, e0, m1, m2, m3, m0, 1);
	NI_STEP(e0, e1, m2, m3, m0, m1, 2);
	NI_STEP(e1, e0, m3, m0, m1, m2, 2);
	NI_STEP(e0, e1, m0, m1, m2, m3, 2);
	NI_STEP(e1, e0, m1, m2, m3, m0, 2);
	NI_STEP(e0, e1, m2, m3, m0, m1, 2);
	NI_STEP(e1, e0, m3, m0, m1, m2, 3);
	NI_STEP(e0, e1, m0, m1, m2, m3, 3);
	NI_STEP(e1, e0, m1, m2, m3, m0, 3);
	NI_STEP(e0, e1, m2, m3, m0, m1, 3);
	NI_STEP(e1, e0, m3, m0, m1, m2, 3);
	e0 = _mm_sha1nexte_epu32(e0, e00);
	abcd = _mm_shuffle_epi32(_mm_add_epi32(abcd, abcd0), 0x1b);
	_mm_storeu_si128((__m128i *)(void *)h, abcd);
	h[4] = (uint32_t)_mm_extract_epi32(e0, 3);
}

/* -1: not asked yet; else whether the CPU has the SHA extensions and
 * they are not turned off (nsec3_use_sha_ni). Relaxed atomics: every
 * thread that asks computes the same answer. */
static int sha_ni = -1;

static bool cpu_has_sha(void)
{
	unsigned a, b, c, d;

	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA) &&
	       __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_1) && (c & bit_SSSE3);
}

static inline bool use_ni(void)
{
	int v = __atomic_load_n(&sha_ni, __ATOMIC_RELAXED);

	if (__builtin_expect(v < 0, 0)) {
		v = cpu_has_sha();
		__atomic_store_n(&sha_ni, v, __ATOMIC_RELAXED);
	}
	return v;
}
#endif

bool nsec3_use_sha_ni(bool on)
{
#ifdef HAVE_SHA_NI
	__atomic_store_n(&sha_ni, on && cpu_has_sha(), __ATOMIC_RELAXED);
	return __atomic_load_n(&sha_ni, __ATOMIC_RELAXED);
#else
	(void)on;
	return false;
#endif
}

static inline void sha1_block(uint32_t h[5], const uint8_t *p)
{
#ifdef HAVE_SHA_NI
	if (use_ni()) {
		sha1_block_ni(h, p);
		return;
	}
#endif
	sha1_block_sw(h, p);
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
