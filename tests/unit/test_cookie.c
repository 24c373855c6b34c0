/*
 * DNS Cookies: SipHash-2-4 against the paper's vectors and OpenSSL's
 * implementation, RFC 9018 server cookies against its appendix A, the
 * timestamp window, secret rotation, and the engine's handling of the
 * COOKIE option (RFC 7873 5.2 and 5.4, FORMERR, BADCOOKIE, the minimal
 * responses of engine_truncate, ANY and sizes over UDP).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "cookie.h"
#include "engine.h"
#include "error.h"
#include "rdata.h"
#include "snap.h"
#include "zone.h"

static void hex(const char *h, uint8_t *out, size_t n)
{
	assert_int_equal(strlen(h), 2 * n);
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* ---- SipHash-2-4 --------------------------------------------------------------- */

static void test_siphash_paper(void **state)
{
	uint8_t key[16], msg[64];

	(void)state;
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	/* The paper's appendix A: 15 bytes 00..0e under key 00..0f. */
	assert_true(cookie_siphash24(key, msg, 15) == 0xa129ca6149be45e5ull);
	/* The reference implementation's first vectors (empty, one byte). */
	assert_true(cookie_siphash24(key, msg, 0) == 0x726fdb47dd0e0e31ull);
	assert_true(cookie_siphash24(key, msg, 1) == 0x74f839c593dc67fdull);
}

/* OpenSSL's SipHash (size 8) for every length 0..63, every tail length. */
static uint64_t openssl_siphash(const uint8_t key[16], const uint8_t *m, size_t n)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
	EVP_MAC_CTX *ctx;
	size_t size = 8, outl = 0;
	OSSL_PARAM params[2] = {
		OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
		OSSL_PARAM_construct_end(),
	};
	uint8_t out[8];
	uint64_t v = 0;

	assert_non_null(mac);
	ctx = EVP_MAC_CTX_new(mac);
	assert_non_null(ctx);
	assert_int_equal(EVP_MAC_init(ctx, key, 16, params), 1);
	assert_int_equal(EVP_MAC_update(ctx, m, n), 1);
	assert_int_equal(EVP_MAC_final(ctx, out, &outl, sizeof(out)), 1);
	assert_int_equal(outl, 8);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	for (int i = 7; i >= 0; i--)
		v = v << 8 | out[i];
	return v;
}

static void test_siphash_openssl(void **state)
{
	uint8_t key[16], msg[64];

	(void)state;
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)(0xa0 + 7 * i);
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)(i * 37 + 11);
	for (size_t n = 0; n < sizeof(msg); n++)
		assert_true(cookie_siphash24(key, msg, n) == openssl_siphash(key, msg, n));
}

/* ---- RFC 9018 appendix A ------------------------------------------------------ */

static const uint8_t A_IP4[4] = { 198, 51, 100, 100 };
static const uint8_t B_IP4[4] = { 203, 0, 113, 203 };

static struct cookie_secrets one_secret(const char *h)
{
	struct cookie_secrets s;

	memset(&s, 0, sizeof(s));
	hex(h, s.current, 16);
	return s;
}

static void expect_make(const uint8_t secret[16], const char *client,
			const uint8_t *ip, size_t alen, uint32_t now,
			const char *want)
{
	uint8_t cc[8], got[16], w[16];

	hex(client, cc, 8);
	hex(want, w, 16);
	cookie_make(secret, cc, ip, alen, now, got);
	assert_memory_equal(got, w, 16);
}

static enum cookie_verdict check(const struct cookie_secrets *s,
				 const char *client, const char *server,
				 const uint8_t *ip, size_t alen, uint32_t now)
{
	uint8_t cc[8], sc[32];
	size_t n = strlen(server) / 2;

	hex(client, cc, 8);
	hex(server, sc, n);
	return cookie_check(s, cc, sc, n, ip, alen, now);
}

static void test_rfc9018_a1_a2(void **state)
{
	struct cookie_secrets s = one_secret("e5e973e5a6b2a43f48e7dc849e37bfcf");

	(void)state;
	/* A.1: a new client learns a server cookie. */
	expect_make(s.current, "2464c4abcf10c957", A_IP4, 4, 1559731985,
		    "010000005cf79f111f8130c3eee29480");
	/* A.2: 40 minutes later it is still ours and valid, but older than
	 * half an hour: renewed. */
	assert_int_equal(check(&s, "2464c4abcf10c957", "010000005cf79f111f8130c3eee29480",
			       A_IP4, 4, 1559734385), COOKIE_VALID_RENEW);
	expect_make(s.current, "2464c4abcf10c957", A_IP4, 4, 1559734385,
		    "010000005cf7a871d4a564a1442aca77");
}

static void test_rfc9018_a3(void **state)
{
	struct cookie_secrets s = one_secret("e5e973e5a6b2a43f48e7dc849e37bfcf");
	const char *sent = "01abcdef5cf78f71a314227b6679ebf5";

	(void)state;
	/* Reserved bytes set: the hash covers them as received. The cookie
	 * was made at 1559727985; a minute later it verifies. */
	assert_int_equal(check(&s, "fc93fc62807ddb86", sent, B_IP4, 4, 1559727985 + 60),
			 COOKIE_VALID);
	/* At the example's reply time it is 1 h 52 min old: past the hour
	 * RFC 9018 4.3 allows, so not valid any more (re-issued below). */
	assert_int_equal(check(&s, "fc93fc62807ddb86", sent, B_IP4, 4, 1559734700),
			 COOKIE_EXPIRED);
	expect_make(s.current, "fc93fc62807ddb86", B_IP4, 4, 1559734700,
		    "010000005cf7a9acf73a7810aca2381e");
}

static void test_rfc9018_a4(void **state)
{
	struct cookie_secrets old = one_secret("dd3bdf9344b678b185a6f5cb60fca715");
	struct cookie_secrets s;
	uint8_t fresh[16], ip6[16];
	const char *sent = "010000005cf7c57926556bd0934c72f8";

	(void)state;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:220:1:59de:d0f4:8769:82b8", ip6), 1);
	assert_int_equal(check(&old, "22681ab97d52c298", sent, ip6, 16, 1559741817),
			 COOKIE_VALID);
	/* Rolled over: the new secret issues, the old one still verifies. */
	assert_int_equal(cookie_secret_parse("445536bcd2513298075a5d379663c962", fresh), 0);
	cookie_secrets_rotate(&s, &old, fresh);
	assert_true(s.has_previous);
	assert_memory_equal(s.previous, old.current, 16);
	assert_int_equal(check(&s, "22681ab97d52c298", sent, ip6, 16, 1559741961),
			 COOKIE_VALID);
	expect_make(s.current, "22681ab97d52c298", ip6, 16, 1559741961,
		    "010000005cf7c609a6bb79d16625507a");
	/* Once the old secret is dropped, the old cookie is not ours. */
	cookie_secrets_rotate(&s, &s, fresh);
	assert_memory_equal(s.previous, s.current, 16);
	assert_int_equal(check(&s, "22681ab97d52c298", sent, ip6, 16, 1559741961),
			 COOKIE_BAD);
}

static void test_window(void **state)
{
	struct cookie_secrets s = one_secret("000102030405060708090a0b0c0d0e0f");
	uint8_t cc[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, sc[16], bad[16];
	const uint32_t t = 0xfffffff0u;   /* wraps: serial arithmetic */

	(void)state;
	cookie_make(s.current, cc, A_IP4, 4, t, sc);
	assert_int_equal(cookie_check(&s, cc, sc, 16, A_IP4, 4, t), COOKIE_VALID);
	assert_int_equal(cookie_check(&s, cc, sc, 16, A_IP4, 4, t + 1800), COOKIE_VALID);
	assert_int_equal(cookie_check(&s, cc, sc, 16, A_IP4, 4, t + 1801), COOKIE_VALID_RENEW);
	assert_int_equal(cookie_check(&s, cc, sc, 16, A_IP4, 4, t + 3600), COOKIE_VALID_RENEW);
	assert_int_equal(cookie_check(&s, cc, sc, 16, A_IP4, 4, t + 3601), COOKIE_EXPIRED);
	assert_int_equal(cookie_check(&s, cc, sc, 16, A_IP4, 4, t - 300), COOKIE_VALID);
	assert_int_equal(cookie_check(&s, cc, sc, 16, A_IP4, 4, t - 301), COOKIE_EXPIRED);
	/* Not ours: another address, client cookie, hash, version, length. */
	assert_int_equal(cookie_check(&s, cc, sc, 16, B_IP4, 4, t), COOKIE_BAD);
	cc[0] ^= 1;
	assert_int_equal(cookie_check(&s, cc, sc, 16, A_IP4, 4, t), COOKIE_BAD);
	cc[0] ^= 1;
	memcpy(bad, sc, 16);
	bad[15] ^= 0x80;
	assert_int_equal(cookie_check(&s, cc, bad, 16, A_IP4, 4, t), COOKIE_BAD);
	memcpy(bad, sc, 16);
	bad[0] = 2;
	assert_int_equal(cookie_check(&s, cc, bad, 16, A_IP4, 4, t), COOKIE_BAD);
	assert_int_equal(cookie_check(&s, cc, sc, 8, A_IP4, 4, t), COOKIE_BAD);
	assert_int_equal(cookie_check(NULL, cc, sc, 16, A_IP4, 4, t), COOKIE_BAD);
}

static void test_box_and_parse(void **state)
{
	struct cookie_box box = { NULL };
	struct cookie_secrets a = one_secret("00000000000000000000000000000001");
	struct cookie_secrets b = one_secret("00000000000000000000000000000002");
	uint8_t k[16];

	(void)state;
	assert_null(cookie_box_get(&box));
	assert_null(cookie_box_get(NULL));
	assert_null(cookie_box_set(&box, &a));
	assert_ptr_equal(cookie_box_get(&box), &a);
	assert_ptr_equal(cookie_box_set(&box, &b), &a);
	assert_ptr_equal(cookie_box_get(&box), &b);
	assert_int_equal(cookie_secret_parse("E5E973E5A6B2A43F48E7DC849E37BFCF", k), 0);
	assert_int_equal(k[0], 0xe5);
	assert_int_equal(cookie_secret_parse("e5e973e5a6b2a43f48e7dc849e37bfc", k), P53_ESYNTAX);
	assert_int_equal(cookie_secret_parse("e5e973e5a6b2a43f48e7dc849e37bfcg", k), P53_ESYNTAX);
	assert_int_equal(cookie_secret_parse(NULL, k), P53_ESYNTAX);
}

/* ---- the engine --------------------------------------------------------------- */

static const char zone_text[] =
	"$ORIGIN example.com.\n"
	"$TTL 3600\n"
	"@	SOA ns1 hostmaster 1 7200 900 1209600 300\n"
	"@	NS ns1\n"
	"ns1	A 192.0.2.1\n"
	"www	A 192.0.2.80\n"
	"www	A 192.0.2.81\n"
	"big	TXT \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n"
	"big	TXT \"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"\n"
	"big	TXT \"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\"\n";

static struct {
	struct snap *s;
	uint8_t *blob;
	size_t len;
	struct cookie_secrets sec;
	struct cookie_box box;
	struct engine_conf conf;
	struct engine_client c;
} F;

#define NOW 1700000000u

static int setup(void **state)
{
	struct zone *z = NULL;
	struct diag d;

	(void)state;
	diag_init(&d, stderr);
	assert_int_equal(zone_parse_string(zone_text, strlen(zone_text), "t", NULL, &d, &z), 0);
	assert_int_equal(zone_check(z, NULL, &d), 0);
	assert_int_equal(snap_compile(&z, 1, NULL, &d, &F.blob, &F.len), 0);
	assert_int_equal(snap_open_mem(F.blob, F.len, &d, &F.s), 0);
	zone_free(z);
	F.sec = one_secret("e5e973e5a6b2a43f48e7dc849e37bfcf");
	cookie_box_set(&F.box, &F.sec);
	engine_conf_init(&F.conf);
	F.conf.cookies = &F.box;
	F.conf.now = NOW;
	F.c = (struct engine_client){ .family = AF_INET, .transport = ENGINE_UDP, .port = 4444 };
	memcpy(F.c.addr, A_IP4, 4);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	snap_close(F.s);
	free(F.blob);
	return 0;
}

static const uint8_t CC[8] = { 0x24, 0x64, 0xc4, 0xab, 0xcf, 0x10, 0xc9, 0x57 };

/* A query for name/type (NULL: no question) with EDNS and a COOKIE
 * option of olen bytes from opt (olen < 0: no COOKIE option). */
static size_t query(uint8_t *q, const char *name, uint16_t type,
		    const uint8_t *opt, int olen)
{
	size_t n = 12;

	memset(q, 0, 12);
	q[0] = 0x12;
	q[1] = 0x34;
	if (name) {
		q[5] = 1;
		for (const char *p = name; *p;) {
			const char *dot = strchr(p, '.');
			size_t l = (size_t)(dot - p);

			q[n++] = (uint8_t)l;
			memcpy(q + n, p, l);
			n += l;
			p = dot + 1;
		}
		q[n++] = 0;
		q[n++] = (uint8_t)(type >> 8);
		q[n++] = (uint8_t)type;
		q[n++] = 0;
		q[n++] = 1;
	}
	q[11] = 1;
	q[n++] = 0;
	q[n++] = 0;
	q[n++] = 41;
	q[n++] = 0x04;          /* payload 1232 */
	q[n++] = 0xd0;
	q[n++] = 0;
	q[n++] = 0;
	q[n++] = 0;
	q[n++] = 0;
	q[n++] = 0;
	q[n++] = (uint8_t)(olen >= 0 ? olen + 4 : 0);
	if (olen >= 0) {
		q[n++] = 0;
		q[n++] = 10;
		q[n++] = 0;
		q[n++] = (uint8_t)olen;
		memcpy(q + n, opt, (size_t)olen);
		n += (size_t)olen;
	}
	return n;
}

static uint16_t g16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The COOKIE option of response r (n bytes, OPT at res->opt_off), or
 * NULL; its length in *len. */
static const uint8_t *resp_cookie(const uint8_t *r, const struct engine_result *res,
				  size_t *len)
{
	const uint8_t *o = r + res->opt_off;
	size_t rdlen, p = 0;

	if (!res->opt_len)
		return NULL;
	assert_int_equal(g16(o + 1), 41);
	rdlen = g16(o + 9);
	assert_int_equal(rdlen + 11, res->opt_len);
	while (p + 4 <= rdlen) {
		uint16_t code = g16(o + 11 + p), l = g16(o + 13 + p);

		if (code == 10) {
			*len = l;
			return o + 15 + p;
		}
		p += 4u + l;
	}
	return NULL;
}

static size_t ask(const uint8_t *q, size_t qlen, uint8_t *r, size_t cap,
		  struct engine_result *res)
{
	uint8_t in[600];
	struct engine_result res2;
	size_t n = engine_answer(&F.conf, F.s, q, qlen, &F.c, r, cap, res), n2;

	/* In place: the same bytes (the option is read before it is
	 * overwritten). */
	memcpy(in, q, qlen);
	n2 = engine_answer(&F.conf, F.s, in, qlen, &F.c, in, cap < sizeof(in) ? cap : sizeof(in), &res2);
	assert_int_equal(n, n2);
	assert_memory_equal(in, r, n);
	return n;
}

/* The fresh server cookie we expect for client cookie cc from F.c. */
static void expect_fresh(const uint8_t *r, const struct engine_result *res,
			 const uint8_t *cc)
{
	uint8_t want[16];
	const uint8_t *ck;
	size_t len = 0;

	ck = resp_cookie(r, res, &len);
	assert_non_null(ck);
	assert_int_equal(len, 24);
	assert_memory_equal(ck, cc, 8);
	cookie_make(F.sec.current, cc, F.c.addr, 4, NOW, want);
	assert_memory_equal(ck + 8, want, 16);
}

static void test_engine_cookies(void **state)
{
	uint8_t q[600], r[4096], opt[48], sc[16];
	struct engine_result res;
	size_t qlen, n, len;

	(void)state;
	/* 5.2.3: a client cookie alone: a normal answer and a server cookie. */
	qlen = query(q, "www.example.com.", RRTYPE_A, CC, 8);
	n = ask(q, qlen, r, sizeof(r), &res);
	assert_true(n > 0);
	assert_int_equal(res.rcode, 0);
	assert_int_equal(g16(r + 6), 2);
	assert_int_equal(res.cookie, ENGINE_COOKIE_CLIENT);
	expect_fresh(r, &res, CC);

	/* 5.2.5: a valid server cookie, from a minute ago. */
	memcpy(opt, CC, 8);
	cookie_make(F.sec.current, CC, F.c.addr, 4, NOW - 60, opt + 8);
	qlen = query(q, "www.example.com.", RRTYPE_A, opt, 24);
	n = ask(q, qlen, r, sizeof(r), &res);
	assert_int_equal(res.cookie, ENGINE_COOKIE_VALID);
	assert_int_equal(g16(r + 6), 2);
	expect_fresh(r, &res, CC);

	/* ... from the previous secret, after a rotation: still valid. */
	{
		struct cookie_secrets rot;
		uint8_t fresh[16] = { 9 };

		cookie_secrets_rotate(&rot, &F.sec, fresh);
		cookie_box_set(&F.box, &rot);
		n = engine_answer(&F.conf, F.s, q, qlen, &F.c, r, sizeof(r), &res);
		assert_int_equal(res.cookie, ENGINE_COOKIE_VALID);
		/* the new cookie is made with the new secret */
		{
			const uint8_t *ck = resp_cookie(r, &res, &len);
			uint8_t want[16];

			cookie_make(rot.current, CC, F.c.addr, 4, NOW, want);
			assert_memory_equal(ck + 8, want, 16);
		}
		cookie_box_set(&F.box, &F.sec);
	}

	/* 5.2.4: a server cookie that is not ours (another address): a normal
	 * answer with a fresh cookie. */
	F.c.addr[3] ^= 1;
	n = ask(q, qlen, r, sizeof(r), &res);
	F.c.addr[3] ^= 1;
	assert_int_equal(res.cookie, ENGINE_COOKIE_BAD);
	assert_int_equal(res.rcode, 0);
	assert_int_equal(g16(r + 6), 2);

	/* Expired (two hours old): not valid. */
	cookie_make(F.sec.current, CC, F.c.addr, 4, NOW - 7200, opt + 8);
	qlen = query(q, "www.example.com.", RRTYPE_A, opt, 24);
	ask(q, qlen, r, sizeof(r), &res);
	assert_int_equal(res.cookie, ENGINE_COOKIE_BAD);

	/* A 40-byte option (server cookie of 32) is well-formed, not ours. */
	memset(opt + 8, 0x55, 32);
	qlen = query(q, "www.example.com.", RRTYPE_A, opt, 40);
	ask(q, qlen, r, sizeof(r), &res);
	assert_int_equal(res.rcode, 0);
	assert_int_equal(res.cookie, ENGINE_COOKIE_BAD);
	(void)sc;
}

static void test_engine_malformed(void **state)
{
	static const int bad[] = { 0, 1, 7, 9, 12, 15, 41, 44 };
	uint8_t q[600], r[4096], opt[48];
	struct engine_result res;
	size_t qlen, n, len;

	(void)state;
	memset(opt, 0x11, sizeof(opt));
	/* 5.2.2: FORMERR, with our OPT but no cookie in it. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		qlen = query(q, "www.example.com.", RRTYPE_A, opt, bad[i]);
		n = ask(q, qlen, r, sizeof(r), &res);
		assert_true(n > 0);
		assert_int_equal(res.rcode, 1);
		assert_int_equal(res.cookie, ENGINE_COOKIE_NONE);
		assert_true(res.opt_len > 0);
		assert_null(resp_cookie(r, &res, &len));
	}
	/* Cookies off: the option is ignored, even when malformed. */
	F.conf.cookies = NULL;
	qlen = query(q, "www.example.com.", RRTYPE_A, opt, 9);
	n = ask(q, qlen, r, sizeof(r), &res);
	assert_int_equal(res.rcode, 0);
	assert_null(resp_cookie(r, &res, &len));
	qlen = query(q, "www.example.com.", RRTYPE_A, CC, 8);
	n = ask(q, qlen, r, sizeof(r), &res);
	assert_int_equal(res.cookie, ENGINE_COOKIE_NONE);
	assert_null(resp_cookie(r, &res, &len));
	F.conf.cookies = &F.box;
	/* An empty box is off too. */
	{
		struct cookie_box empty = { NULL };

		F.conf.cookies = &empty;
		ask(q, qlen, r, sizeof(r), &res);
		assert_int_equal(res.cookie, ENGINE_COOKIE_NONE);
		F.conf.cookies = &F.box;
	}
	(void)n;
}

/* RFC 7873 5.4: a query without a question, for a server cookie. */
static void test_engine_query_for_cookie(void **state)
{
	uint8_t q[600], r[4096], opt[24];
	struct engine_result res;
	size_t qlen, n;

	(void)state;
	qlen = query(q, NULL, 0, CC, 8);
	n = ask(q, qlen, r, sizeof(r), &res);
	assert_true(n > 0);
	assert_int_equal(res.rcode, 0);
	assert_int_equal(r[3] & 0xf, 0);
	assert_int_equal(g16(r + 4), 0);
	assert_int_equal(g16(r + 6), 0);
	assert_int_equal(g16(r + 10), 1);
	expect_fresh(r, &res, CC);

	/* With an invalid server cookie: BADCOOKIE (23 = 7 + 16). */
	memcpy(opt, CC, 8);
	memset(opt + 8, 0x77, 16);
	opt[8] = 1;
	qlen = query(q, NULL, 0, opt, 24);
	n = ask(q, qlen, r, sizeof(r), &res);
	assert_int_equal(res.rcode, ENGINE_RCODE_BADCOOKIE);
	assert_int_equal(r[3] & 0xf, 7);
	assert_int_equal(r[res.opt_off + 5], 1);
	expect_fresh(r, &res, CC);

	/* With a valid one: NOERROR. */
	cookie_make(F.sec.current, CC, F.c.addr, 4, NOW, opt + 8);
	qlen = query(q, NULL, 0, opt, 24);
	ask(q, qlen, r, sizeof(r), &res);
	assert_int_equal(res.rcode, 0);
	assert_int_equal(res.cookie, ENGINE_COOKIE_VALID);

	/* No cookie, no question: FORMERR without OPT, as before. */
	qlen = query(q, NULL, 0, NULL, -1);
	n = ask(q, qlen, r, sizeof(r), &res);
	assert_int_equal(res.rcode, 1);
	assert_int_equal(res.opt_len, 0);
	assert_int_equal(g16(r + 10), 0);
	(void)n;
}

static void test_truncate(void **state)
{
	uint8_t q[600], r[4096], opt[24];
	struct engine_result res;
	size_t qlen, n, m, len;
	const uint8_t *ck;

	(void)state;
	/* TC=1 with header, question and OPT (cookie kept). */
	qlen = query(q, "www.example.com.", RRTYPE_A, CC, 8);
	n = ask(q, qlen, r, sizeof(r), &res);
	m = engine_truncate(r, n, &res, 0);
	assert_int_equal(m, res.qend + res.opt_len);
	assert_true(r[2] & 0x02);
	assert_int_equal(g16(r + 6), 0);
	assert_int_equal(g16(r + 8), 0);
	assert_int_equal(g16(r + 10), 1);
	assert_memory_equal(r + 12, q + 12, res.qend - 12);
	res.opt_off = res.qend;
	ck = resp_cookie(r, &res, &len);
	assert_non_null(ck);
	assert_memory_equal(ck, CC, 8);

	/* With badcookie: BADCOOKIE, no TC, no AA. */
	n = ask(q, qlen, r, sizeof(r), &res);
	m = engine_truncate(r, n, &res, 1);
	assert_int_equal(m, res.qend + res.opt_len);
	assert_int_equal(r[2] & 0x06, 0);
	assert_int_equal(r[3] & 0xf, 7);
	assert_int_equal(r[res.qend + 5], 1);

	/* badcookie without a cookie in the query: TC. Without EDNS at all:
	 * header and question only. */
	qlen = query(q, "www.example.com.", RRTYPE_A, NULL, -1);
	n = ask(q, qlen, r, sizeof(r), &res);
	m = engine_truncate(r, n, &res, 1);
	assert_true(r[2] & 0x02);
	assert_int_equal(m, res.qend + 11);
	memset(opt, 0, sizeof(opt));
	/* A result that does not describe the response: drop. */
	res.qend = (uint16_t)(n + 1);
	assert_int_equal(engine_truncate(r, n, &res, 0), 0);
}

/* RFC 8482 and sizes: over UDP nothing exceeds what the query allows;
 * what does not fit is truncated (TC) for TCP. */
static void test_any_and_sizes(void **state)
{
	uint8_t q[600], r[4096];
	struct engine_result res;
	size_t qlen, n;

	(void)state;
	/* No EDNS: 512 at most; the big TXT set does not fit: TC. */
	qlen = query(q, "big.example.com.", RRTYPE_ANY, NULL, -1);
	q[11] = 0;
	qlen -= 11;
	n = engine_answer(&F.conf, F.s, q, qlen, &F.c, r, sizeof(r), &res);
	assert_true(n > 0 && n <= 512);
	assert_true(res.truncated);
	assert_true(r[2] & 0x02);
	/* ANY at a node with A only: one RRset (RFC 8482), not the node. */
	qlen = query(q, "www.example.com.", RRTYPE_ANY, CC, 8);
	n = engine_answer(&F.conf, F.s, q, qlen, &F.c, r, sizeof(r), &res);
	assert_int_equal(g16(r + 6), 2);
	assert_int_equal(res.qtype, RRTYPE_ANY);
	/* EDNS 1232: the TXT set (about 770 bytes) fits, with the cookie. */
	qlen = query(q, "big.example.com.", RRTYPE_TXT, CC, 8);
	n = engine_answer(&F.conf, F.s, q, qlen, &F.c, r, sizeof(r), &res);
	assert_true(n <= 1232);
	assert_false(res.truncated);
	/* A client that allows 512 (EDNS payload 512) gets TC, the cookie
	 * still in the OPT. */
	q[qlen - 23 + 3] = 0x02;        /* OPT: 11 bytes + the 12-byte option */
	q[qlen - 23 + 4] = 0x00;
	n = engine_answer(&F.conf, F.s, q, qlen, &F.c, r, sizeof(r), &res);
	assert_true(n <= 512);
	assert_true(res.truncated);
	assert_int_equal(res.opt_len, 11 + 28);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_paper),
		cmocka_unit_test(test_siphash_openssl),
		cmocka_unit_test(test_rfc9018_a1_a2),
		cmocka_unit_test(test_rfc9018_a3),
		cmocka_unit_test(test_rfc9018_a4),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_box_and_parse),
		cmocka_unit_test(test_engine_cookies),
		cmocka_unit_test(test_engine_malformed),
		cmocka_unit_test(test_engine_query_for_cookie),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_any_and_sizes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
