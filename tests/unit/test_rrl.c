/*
 * Response rate limiting: BIND's credit arithmetic (one second of credit,
 * window seconds of debt), the slip pattern, prefix and name keying,
 * exemptions (exempt-clients, valid cookies, TCP), log-only, the division
 * of the rate between cores, the bounded table and the top-prefixes
 * report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "engine.h"
#include "error.h"
#include "rdata.h"
#include "rrl.h"

static const uint8_t NAME_WWW[] = "\3www\7example\3com";   /* + the final 0 */
static const uint8_t NAME_FTP[] = "\3ftp\7example\3com";

static struct engine_client client(const char *addr)
{
	struct engine_client c = { .transport = ENGINE_UDP, .port = 1000 };

	if (strchr(addr, ':')) {
		c.family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, addr, c.addr), 1);
	} else {
		c.family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, addr, c.addr), 1);
	}
	return c;
}

static struct engine_result result(uint8_t kind, const uint8_t *name, uint16_t qtype)
{
	struct engine_result r;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.qtype = qtype;
	r.rrl_name = name;
	r.rrl_name_len = name ? (uint8_t)(strlen((const char *)name) + 1) : 0;
	return r;
}

static struct rrl *make(const struct rrl_conf *conf)
{
	struct rrl *t = NULL;
	char err[200] = "";

	assert_int_equal(rrl_create(conf, &t, err, sizeof(err)), 0);
	assert_non_null(t);
	return t;
}

/* How many of n responses at time now are sent (not dropped/slipped). */
static unsigned sent(struct rrl *t, uint32_t now, unsigned n,
		     const struct engine_client *c, const struct engine_result *r)
{
	unsigned k = 0;

	rrl_begin(t, now);
	for (unsigned i = 0; i < n; i++)
		k += rrl_check(t, c, r) == RRL_SEND;
	return k;
}

static void test_conf(void **state)
{
	struct rrl_conf c;
	char err[200];
	struct rrl *t;

	(void)state;
	rrl_conf_init(&c);
	assert_int_equal(c.responses_per_second, 5);
	assert_int_equal(c.window, 15);
	assert_int_equal(c.slip, 2);
	assert_int_equal(c.ipv4_prefix_length, 24);
	assert_int_equal(c.ipv6_prefix_length, 56);
	assert_int_equal(rrl_conf_check(&c, err, sizeof(err)), 0);
	c.window = 0;
	assert_int_equal(rrl_conf_check(&c, err, sizeof(err)), P53_ERANGE);
	assert_non_null(strstr(err, "window"));
	c.window = 3601;
	assert_int_equal(rrl_create(&c, &t, err, sizeof(err)), P53_ERANGE);
	assert_null(t);
	rrl_conf_init(&c);
	c.slip = 11;
	assert_int_equal(rrl_conf_check(&c, err, sizeof(err)), P53_ERANGE);
	rrl_conf_init(&c);
	c.errors_per_second = RRL_MAX_RATE + 1;
	assert_int_equal(rrl_conf_check(&c, err, sizeof(err)), P53_ERANGE);
	assert_non_null(strstr(err, "errors_per_second"));
	rrl_conf_init(&c);
	c.ipv4_prefix_length = 33;
	assert_int_equal(rrl_conf_check(&c, err, sizeof(err)), P53_ERANGE);
	rrl_conf_init(&c);
	c.nexempt = RRL_MAX_EXEMPT + 1;
	assert_int_equal(rrl_conf_check(&c, err, sizeof(err)), P53_ELIMIT);
	rrl_conf_init(&c);
	c.cores = 0;
	assert_int_equal(rrl_conf_check(&c, err, sizeof(err)), P53_ERANGE);
}

static void test_prefix_parse(void **state)
{
	struct rrl_prefix p;
	char buf[64];

	(void)state;
	assert_int_equal(rrl_prefix_parse("192.0.2.77/24", &p), 0);
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.len, 24);
	assert_string_equal(rrl_prefix_format(&p, buf, sizeof(buf)), "192.0.2.0/24");
	assert_int_equal(rrl_prefix_parse("2001:db8:0:1ff::1/56", &p), 0);
	assert_string_equal(rrl_prefix_format(&p, buf, sizeof(buf)), "2001:db8:0:100::/56");
	assert_int_equal(rrl_prefix_parse("198.51.100.1", &p), 0);
	assert_int_equal(p.len, 32);
	assert_int_equal(rrl_prefix_parse("192.0.2.0/33", &p), P53_ERANGE);
	assert_int_equal(rrl_prefix_parse("192.0.2.0/", &p), P53_ESYNTAX);
	assert_int_equal(rrl_prefix_parse("192.0.2.0/2x", &p), P53_ESYNTAX);
	assert_int_equal(rrl_prefix_parse("nope", &p), P53_ESYNTAX);
}

/* One second of credit, debited one per response; refilled by the rate
 * each second. */
static void test_tokens(void **state)
{
	struct rrl_conf c;
	struct engine_client a = client("192.0.2.1");
	struct engine_result r = result(ENGINE_KIND_ANSWER, NAME_WWW, RRTYPE_A);
	struct rrl_stats st;
	struct rrl *t;

	(void)state;
	rrl_conf_init(&c);
	c.slip = 0;
	t = make(&c);
	/* 5 of 6 in the first second; the 6th left the account at -1 */
	assert_int_equal(sent(t, 1000, 6, &a, &r), 5);
	/* +5 one second later: 4 credits */
	assert_int_equal(sent(t, 1001, 10, &a, &r), 4);
	/* the balance is -6 now; two seconds earn 10: 4 again */
	assert_int_equal(sent(t, 1003, 10, &a, &r), 4);
	/* never more than one second of credit, however long it was idle */
	assert_int_equal(sent(t, 1100, 20, &a, &r), 5);
	memset(&st, 0, sizeof(st));
	rrl_stats_read(t, &st);
	assert_int_equal(st.limited[ENGINE_KIND_ANSWER], 1 + 6 + 6 + 15);
	assert_int_equal(st.dropped[ENGINE_KIND_ANSWER], 28);
	assert_int_equal(st.slipped[ENGINE_KIND_ANSWER], 0);
	/* time going backwards earns nothing */
	assert_int_equal(sent(t, 1050, 3, &a, &r), 0);
	rrl_destroy(t);
}

/* The debt is bounded by window seconds of credit: after a long flood an
 * account recovers window seconds after it stops, not later. */
static void test_window(void **state)
{
	struct rrl_conf c;
	struct engine_client a = client("192.0.2.1");
	struct engine_result r1 = result(ENGINE_KIND_ANSWER, NAME_WWW, RRTYPE_A);
	struct engine_result r2 = result(ENGINE_KIND_ANSWER, NAME_FTP, RRTYPE_A);
	struct rrl *t;

	(void)state;
	rrl_conf_init(&c);
	c.slip = 0;
	c.window = 10;
	t = make(&c);
	/* flood both accounts far past the debt floor (-50) */
	for (uint32_t s = 0; s < 30; s++) {
		sent(t, 2000 + s, 100, &a, &r1);
		sent(t, 2000 + s, 100, &a, &r2);
	}
	/* at the floor: -50 + 10 s * 5 = 0, not positive yet */
	assert_int_equal(sent(t, 2029 + 10, 1, &a, &r1), 0);
	/* one second more and the account is in credit */
	assert_int_equal(sent(t, 2029 + 11, 1, &a, &r2), 1);
	rrl_destroy(t);
}

static void slip_pattern(unsigned slip, const char *want, uint8_t kind)
{
	struct rrl_conf c;
	struct engine_client a = client("192.0.2.1");
	struct engine_result r = result(kind, kind == ENGINE_KIND_ERROR ? NULL : NAME_WWW,
					RRTYPE_A);
	char got[32];
	size_t n = strlen(want);
	struct rrl *t;

	rrl_conf_init(&c);
	c.slip = slip;
	c.responses_per_second = 1;
	t = make(&c);
	rrl_begin(t, 5000);
	assert_int_equal(rrl_check(t, &a, &r), RRL_SEND);
	for (size_t i = 0; i < n; i++) {
		enum rrl_action x = rrl_check(t, &a, &r);

		got[i] = x == RRL_SLIP ? 'S' : x == RRL_DROP ? 'D' : '+';
	}
	got[n] = 0;
	assert_string_equal(got, want);
	rrl_destroy(t);
}

static void test_slip(void **state)
{
	(void)state;
	slip_pattern(2, "SDSDSDSD", ENGINE_KIND_ANSWER);
	slip_pattern(1, "SSSSSS", ENGINE_KIND_NXDOMAIN);
	slip_pattern(0, "DDDDDD", ENGINE_KIND_ANSWER);
	slip_pattern(3, "SDDSDDSDD", ENGINE_KIND_REFERRAL);
	/* errors are never slipped (as BIND) */
	slip_pattern(2, "DDDDDD", ENGINE_KIND_ERROR);
}

/* Accounts: one per prefix (/24, /56 by default), kind, name, and qtype
 * for answers. */
static void test_keying(void **state)
{
	struct rrl_conf c;
	struct engine_client a1 = client("192.0.2.1"), a2 = client("192.0.2.200");
	struct engine_client b = client("192.0.3.1");
	struct engine_client v1 = client("2001:db8:0:1::1"), v2 = client("2001:db8:0:2::2");
	struct engine_client v3 = client("2001:db8:0:100::1");
	struct engine_result www_a = result(ENGINE_KIND_ANSWER, NAME_WWW, RRTYPE_A);
	struct engine_result www_aaaa = result(ENGINE_KIND_ANSWER, NAME_WWW, RRTYPE_AAAA);
	struct engine_result ftp_a = result(ENGINE_KIND_ANSWER, NAME_FTP, RRTYPE_A);
	struct engine_result nx1 = result(ENGINE_KIND_NXDOMAIN, NAME_WWW + 4, RRTYPE_A);
	struct engine_result nx2 = result(ENGINE_KIND_NXDOMAIN, NAME_WWW + 4, RRTYPE_MX);
	struct rrl *t;

	(void)state;
	rrl_conf_init(&c);
	c.slip = 0;
	t = make(&c);
	/* two addresses of one /24 share the account */
	assert_int_equal(sent(t, 100, 3, &a1, &www_a), 3);
	assert_int_equal(sent(t, 100, 3, &a2, &www_a), 2);
	/* another /24, another name, another type: own accounts */
	assert_int_equal(sent(t, 100, 5, &b, &www_a), 5);
	assert_int_equal(sent(t, 100, 5, &a1, &ftp_a), 5);
	assert_int_equal(sent(t, 100, 5, &a1, &www_aaaa), 5);
	/* NXDOMAIN: keyed by the zone (the engine's rrl_name), any qtype */
	assert_int_equal(sent(t, 100, 3, &a1, &nx1), 3);
	assert_int_equal(sent(t, 100, 3, &a1, &nx2), 2);
	/* IPv6 /56 */
	assert_int_equal(sent(t, 100, 3, &v1, &www_a), 3);
	assert_int_equal(sent(t, 100, 3, &v2, &www_a), 2);
	assert_int_equal(sent(t, 100, 5, &v3, &www_a), 5);
	rrl_destroy(t);

	/* /32: every address on its own */
	c.ipv4_prefix_length = 32;
	t = make(&c);
	assert_int_equal(sent(t, 100, 5, &a1, &www_a), 5);
	assert_int_equal(sent(t, 100, 5, &a2, &www_a), 5);
	rrl_destroy(t);
}

/* Kinds have their own rates; 0 is unlimited. */
static void test_kind_rates(void **state)
{
	struct rrl_conf c;
	struct engine_client a = client("192.0.2.1");
	struct engine_result nx = result(ENGINE_KIND_NXDOMAIN, NAME_WWW + 4, RRTYPE_A);
	struct engine_result err = result(ENGINE_KIND_ERROR, NULL, RRTYPE_A);
	struct engine_result ref = result(ENGINE_KIND_REFERRAL, NAME_WWW + 4, RRTYPE_A);
	struct engine_result ans = result(ENGINE_KIND_ANSWER, NAME_WWW, RRTYPE_A);
	struct rrl *t;

	(void)state;
	rrl_conf_init(&c);
	c.slip = 0;
	c.nxdomains_per_second = 2;
	c.errors_per_second = 0;
	c.referrals_per_second = 20;
	t = make(&c);
	assert_int_equal(sent(t, 7, 10, &a, &nx), 2);
	assert_int_equal(sent(t, 7, 100, &a, &err), 100);
	assert_int_equal(sent(t, 7, 30, &a, &ref), 20);
	assert_int_equal(sent(t, 7, 10, &a, &ans), 5);
	rrl_destroy(t);
	/* responses_per_second 0: answers are not limited */
	rrl_conf_init(&c);
	c.responses_per_second = 0;
	t = make(&c);
	assert_int_equal(sent(t, 7, 100, &a, &ans), 100);
	rrl_destroy(t);
}

static void test_exempt(void **state)
{
	struct rrl_conf c;
	struct engine_client a = client("192.0.2.1"), x = client("10.1.2.3");
	struct engine_client x6 = client("2001:db8:ffff::1");
	struct engine_result r = result(ENGINE_KIND_ANSWER, NAME_WWW, RRTYPE_A);
	struct engine_result ck = r;
	struct engine_client tcp = a;
	struct rrl_stats st;
	struct rrl *t;

	(void)state;
	rrl_conf_init(&c);
	c.slip = 0;
	assert_int_equal(rrl_prefix_parse("10.0.0.0/8", &c.exempt[0]), 0);
	assert_int_equal(rrl_prefix_parse("2001:db8:ffff::/48", &c.exempt[1]), 0);
	c.nexempt = 2;
	t = make(&c);
	assert_int_equal(sent(t, 1, 50, &x, &r), 50);
	assert_int_equal(sent(t, 1, 50, &x6, &r), 50);
	assert_int_equal(sent(t, 1, 50, &a, &r), 5);
	/* a valid server cookie proves the address: not limited */
	ck.cookie = ENGINE_COOKIE_VALID;
	assert_int_equal(sent(t, 1, 50, &a, &ck), 50);
	/* a client cookie alone proves nothing */
	ck.cookie = ENGINE_COOKIE_CLIENT;
	assert_int_equal(sent(t, 1, 5, &a, &ck), 0);
	/* TCP is never limited */
	tcp.transport = ENGINE_TCP;
	assert_int_equal(sent(t, 1, 50, &tcp, &r), 50);
	memset(&st, 0, sizeof(st));
	rrl_stats_read(t, &st);
	assert_int_equal(st.exempt, 100);
	assert_int_equal(st.cookie_exempt, 50);
	rrl_destroy(t);
}

static void test_log_only(void **state)
{
	struct rrl_conf c;
	struct engine_client a = client("192.0.2.1");
	struct engine_result r = result(ENGINE_KIND_ANSWER, NAME_WWW, RRTYPE_A);
	struct rrl_stats st;
	struct rrl *t;

	(void)state;
	rrl_conf_init(&c);
	c.log_only = 1;
	t = make(&c);
	assert_int_equal(sent(t, 1, 20, &a, &r), 20);
	memset(&st, 0, sizeof(st));
	rrl_stats_read(t, &st);
	assert_int_equal(st.limited[ENGINE_KIND_ANSWER], 15);
	assert_int_equal(st.dropped[ENGINE_KIND_ANSWER] + st.slipped[ENGINE_KIND_ANSWER], 0);
	rrl_destroy(t);
}

/* cores tables share the limit: each allows rate/cores, so a flood that
 * RSS spreads over them gets the configured rate in total, and one
 * address on one table gets rate/cores. */
static void test_cores(void **state)
{
	struct rrl_conf c;
	struct engine_result r = result(ENGINE_KIND_ANSWER, NAME_WWW, RRTYPE_A);
	struct engine_client one = client("203.0.113.7");
	struct rrl *t[4];
	unsigned total = 0, later = 0;
	char addr[32];

	(void)state;
	rrl_conf_init(&c);
	c.slip = 0;
	c.responses_per_second = 20;
	c.cores = 4;
	for (int i = 0; i < 4; i++)
		t[i] = make(&c);
	/* 1000 queries a second from spoofed addresses of one /24 */
	for (int s = 0; s < 10; s++) {
		for (int i = 0; i < 4; i++)
			rrl_begin(t[i], 300 + (uint32_t)s);
		for (int q = 0; q < 1000; q++) {
			struct engine_client a;

			snprintf(addr, sizeof(addr), "198.51.100.%d", q % 250);
			a = client(addr);
			if (rrl_check(t[q % 4], &a, &r) == RRL_SEND) {
				total++;
				later += s > 0;
			}
		}
	}
	/* One second of credit (20) in all; then the accounts stay in debt
	 * while the flood goes on (BIND: debited for limited responses too). */
	assert_int_equal(total, 20);
	assert_int_equal(later, 0);
	/* one address, one table: rate/cores a second */
	assert_int_equal(sent(t[0], 400, 20, &one, &r), 5);
	assert_int_equal(sent(t[0], 401, 20, &one, &r), 0);
	assert_int_equal(sent(t[0], 420, 20, &one, &r), 5);
	for (int i = 0; i < 4; i++)
		rrl_destroy(t[i]);
}

/* Many more accounts than entries: bounded work, nothing breaks, the
 * accounts in use are kept over idle ones. */
static void test_table_bounded(void **state)
{
	struct rrl_conf c;
	struct engine_result r = result(ENGINE_KIND_ANSWER, NAME_WWW, RRTYPE_A);
	struct engine_client hot = client("203.0.113.1");
	struct rrl_stats st;
	struct rrl *t;
	char addr[32];

	(void)state;
	rrl_conf_init(&c);
	c.slip = 0;
	c.table_size = 64;
	t = make(&c);
	for (uint32_t s = 0; s < 20; s++) {
		unsigned ok = 0;

		rrl_begin(t, 10 + s);
		/* the hot account: 10 a second, in debt after the first */
		for (int q = 0; q < 10; q++)
			ok += rrl_check(t, &hot, &r) == RRL_SEND;
		assert_int_equal(ok, s == 0 ? 5 : 0);
		/* 200 other prefixes once each: 64 entries cannot hold them */
		for (int q = 0; q < 200; q++) {
			struct engine_client a;

			snprintf(addr, sizeof(addr), "10.%d.%d.1", q / 250, q % 250);
			a = client(addr);
			assert_int_equal(rrl_check(t, &a, &r), RRL_SEND);
		}
	}
	/* accounts in credit went first: no account in debt was replaced */
	memset(&st, 0, sizeof(st));
	rrl_stats_read(t, &st);
	assert_int_equal(st.evicted, 0);
	rrl_destroy(t);
}

static void test_report(void **state)
{
	struct rrl_conf c;
	struct engine_client a = client("192.0.2.1"), b = client("198.51.100.9");
	struct engine_result r = result(ENGINE_KIND_ANSWER, NAME_WWW, RRTYPE_A);
	struct rrl_report rep[8];
	struct rrl *t[2];
	char buf[64];

	(void)state;
	rrl_conf_init(&c);
	c.slip = 0;
	t[0] = make(&c);
	t[1] = make(&c);
	/* nothing limited yet */
	assert_int_equal(rrl_report(t, 2, rep, 8), 0);
	sent(t[0], 1, 15, &a, &r);      /* 10 limited */
	sent(t[1], 1, 8, &a, &r);       /* 3 */
	sent(t[1], 1, 25, &b, &r);      /* 20 */
	/* this call ends the period with the traffic and reports the one
	 * before (empty) */
	assert_int_equal(rrl_report(t, 2, rep, 8), 0);
	rrl_begin(t[0], 2);
	rrl_begin(t[1], 2);
	/* merged, most limited first */
	assert_int_equal(rrl_report(t, 2, rep, 8), 2);
	assert_string_equal(rrl_prefix_format(&rep[0].prefix, buf, sizeof(buf)),
			    "198.51.100.0/24");
	assert_int_equal(rep[0].limited, 20);
	assert_string_equal(rrl_prefix_format(&rep[1].prefix, buf, sizeof(buf)),
			    "192.0.2.0/24");
	assert_int_equal(rep[1].limited, 13);
	sent(t[0], 3, 30, &b, &r);      /* a new account on t[0]: 25 limited */
	sent(t[1], 3, 8, &a, &r);       /* 3 limited */
	assert_int_equal(rrl_report(t, 2, rep, 8), 0);
	rrl_begin(t[0], 4);
	rrl_begin(t[1], 4);
	/* max 1: the top one only */
	assert_int_equal(rrl_report(t, 2, rep, 1), 1);
	assert_int_equal(rep[0].limited, 25);
	assert_int_equal(rep[0].prefix.addr[0], 198);
	/* and the period after it is empty */
	rrl_begin(t[0], 5);
	rrl_begin(t[1], 5);
	assert_int_equal(rrl_report(t, 2, rep, 8), 0);
	rrl_destroy(t[0]);
	rrl_destroy(t[1]);
}

/* rrl_check_burst gives what rrl_check gives, response by response, with
 * the accounts of a burst repeating and mixing (slips, drops, exempt). */
static void burst_same(uint32_t table_size, bool exempt)
{
	struct rrl_conf c;
	struct rrl *one, *burst;
	struct engine_client cl[8];
	struct engine_result res[4];
	struct rrl_job job[RRL_BURST_MAX];
	unsigned at = 0;

	rrl_conf_init(&c);
	c.responses_per_second = 3;
	assert_int_equal(rrl_prefix_parse("10.0.0.0/8", &c.exempt[0]), 0);
	c.nexempt = exempt;
	one = make(&c);
	c.table_size = table_size;
	burst = make(&c);
	for (int i = 0; i < 8; i++) {
		char a[32];

		snprintf(a, sizeof(a), i == 7 ? "10.0.0.%d" : "192.0.%d.1", i % 3);
		cl[i] = client(a);
	}
	cl[6].transport = ENGINE_TCP;
	res[0] = result(ENGINE_KIND_ANSWER, NAME_WWW, RRTYPE_A);
	res[1] = result(ENGINE_KIND_NXDOMAIN, NAME_WWW + 4, RRTYPE_A);
	res[2] = result(ENGINE_KIND_ERROR, NULL, RRTYPE_A);
	res[3] = res[0];
	res[3].cookie = ENGINE_COOKIE_VALID;
	for (uint32_t s = 0; s < 6; s++) {
		rrl_begin(one, 50 + s);
		rrl_begin(burst, 50 + s);
		for (unsigned size = 1; size <= RRL_BURST_MAX; size += 7) {
			for (unsigned k = 0; k < size; k++, at++)
				job[k] = (struct rrl_job){ &cl[(at * 5) % 8], &res[(at * 3) % 4], 0xff };
			unsigned held = rrl_check_burst(burst, job, size), not_sent = 0;

			for (unsigned k = 0; k < size; k++) {
				assert_int_equal(job[k].action, rrl_check(one, job[k].client, job[k].res));
				not_sent += job[k].action != RRL_SEND;
			}
			assert_int_equal(held, not_sent);
		}
	}
	rrl_destroy(one);
	rrl_destroy(burst);
}

/* Both ways of a burst, with exempt prefixes and without, in the default
 * table and a bigger one, against one response at a time in the default
 * table. */
static void test_burst_same(void **state)
{
	(void)state;
	for (int big = 0; big < 2; big++) {
		burst_same(big ? 1u << 18 : 65536, true);
		burst_same(big ? 1u << 18 : 65536, false);
	}
}

/* Every kind byte has its settings: a dropped query (ENGINE_KIND_NONE)
 * is never limited and costs its client nothing; a byte past the kinds
 * is limited as an error, on the error's account, and counted there. */
static void test_kind_bytes(void **state)
{
	struct engine_client c = client("192.0.2.9");
	struct engine_result none = result(ENGINE_KIND_NONE, NULL, RRTYPE_A);
	struct engine_result err = result(ENGINE_KIND_ERROR, NULL, RRTYPE_A);
	struct engine_result odd7 = result(7, NULL, RRTYPE_A);
	struct engine_result odd200 = result(200, NULL, RRTYPE_A);
	struct engine_result ans = result(ENGINE_KIND_ANSWER, NAME_WWW, RRTYPE_A);
	struct rrl_stats st;
	struct rrl_conf conf;
	struct rrl *t;

	(void)state;
	rrl_conf_init(&conf);
	conf.slip = 0;
	conf.responses_per_second = 4;
	conf.errors_per_second = 3;
	t = make(&conf);
	assert_int_equal(sent(t, 30, 1000, &c, &none), 1000);
	assert_int_equal(sent(t, 30, 10, &c, &ans), 4);
	assert_int_equal(sent(t, 31, 2, &c, &err), 2);
	assert_int_equal(sent(t, 31, 5, &c, &odd7), 1);
	assert_int_equal(sent(t, 31, 5, &c, &odd200), 0);
	assert_int_equal(sent(t, 31, 5, &c, &err), 0);
	memset(&st, 0, sizeof(st));
	rrl_stats_read(t, &st);
	assert_int_equal(st.limited[ENGINE_KIND_ANSWER], 6);
	assert_int_equal(st.limited[ENGINE_KIND_ERROR], 4 + 5 + 5);
	assert_int_equal(st.dropped[ENGINE_KIND_ERROR], 14);
	rrl_destroy(t);
}

/* The engine hands over the name's hash when its lookup made one
 * (rrl_hash), else RRL hashes the name: the same name is the same
 * account either way. */
static void test_key_given_hash(void **state)
{
	struct engine_client c = client("192.0.2.1");
	struct engine_result plain = result(ENGINE_KIND_ANSWER, NAME_WWW, RRTYPE_A);
	struct engine_result hashed = plain, other = plain;
	struct rrl_conf conf;
	struct rrl *t;

	(void)state;
	rrl_conf_init(&conf);
	conf.responses_per_second = 4;
	conf.slip = 0;
	t = make(&conf);
	hashed.rrl_hash = snap_hash_name(plain.rrl_name, plain.rrl_name_len);
	assert_int_not_equal(hashed.rrl_hash, 0);
	other.rrl_hash = hashed.rrl_hash ^ 1;   /* another name's hash */
	assert_int_equal(sent(t, 10, 2, &c, &plain), 2);
	assert_int_equal(sent(t, 10, 2, &c, &hashed), 2);
	assert_int_equal(sent(t, 10, 1, &c, &plain), 0);   /* 4 spent */
	assert_int_equal(sent(t, 10, 1, &c, &hashed), 0);
	assert_int_equal(sent(t, 10, 4, &c, &other), 4);   /* its own account */
	rrl_destroy(t);
}

/* Every byte of the name is part of the account, at every name length
 * (the hash reads names in words, their tails by overlapping loads): a
 * name that differs from another in one byte has an account of its own. */
static void test_key_every_byte(void **state)
{
	struct engine_client c = client("192.0.2.1");
	uint8_t base[255], other[255];
	struct rrl_conf conf;

	(void)state;
	rrl_conf_init(&conf);
	conf.responses_per_second = 1;
	for (unsigned i = 0; i < sizeof(base); i++)
		base[i] = (uint8_t)(i * 37 + 11);
	for (unsigned len = 1; len <= sizeof(base); len++) {
		struct rrl *t = make(&conf);
		struct engine_result r = result(ENGINE_KIND_ANSWER, NULL, RRTYPE_A);

		r.rrl_name = base;
		r.rrl_name_len = (uint8_t)len;
		assert_int_equal(sent(t, 10, 2, &c, &r), 1);
		r.rrl_name = other;
		for (unsigned at = 0; at < len; at++) {
			memcpy(other, base, len);
			other[at] ^= 0x20;
			assert_int_equal(sent(t, 10, 1, &c, &r), 1);
		}
		rrl_destroy(t);
	}
}

/* What a check costs (printed, not asserted: machines differ), over far
 * more accounts than the table holds, as under a spread flood: alone, and
 * in bursts of 32 (the DPDK loop's way). */
static void test_speed(void **state)
{
	struct rrl_conf c;
	struct engine_result r[32];
	struct engine_client a[32];
	struct rrl_job job[32];
	struct engine_client base = client("10.0.0.1");
	struct engine_result r0 = result(ENGINE_KIND_ANSWER, NAME_WWW, RRTYPE_A);
	enum { N = 2000000 };
	unsigned sent = 0;
	struct rrl *t;

	(void)state;
	rrl_conf_init(&c);
	uint32_t keys = UINT32_MAX;

	if (getenv("RRL_SPEED_TABLE"))
		c.table_size = (uint32_t)atoi(getenv("RRL_SPEED_TABLE"));
	/* RRL_SPEED_KEYS: distinct accounts (default: every one new) */
	if (getenv("RRL_SPEED_KEYS"))
		keys = (uint32_t)atoi(getenv("RRL_SPEED_KEYS"));
	if (getenv("RRL_SPEED_RATE"))
		c.responses_per_second = (uint32_t)atoi(getenv("RRL_SPEED_RATE"));
	t = make(&c);
	/* as the engine gives an answer: with its lookup's hash of the name */
	r0.rrl_hash = snap_hash_name(r0.rrl_name, r0.rrl_name_len);
	for (int pass = 0; pass < 2; pass++) {
		struct timespec t0, t1;
		double ns;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (uint32_t i = 0; i < N; i += 32) {
			rrl_begin(t, 100 + pass * 10 + i / 500000);
			for (uint32_t k = 0; k < 32; k++) {
				uint32_t x = ((i + k) % keys) * 2654435761u;

				a[k] = base;
				a[k].addr[1] = (uint8_t)(x >> 8);
				a[k].addr[2] = (uint8_t)(x >> 16);
				r[k] = r0;
				r[k].qtype = (uint16_t)(1 + (x >> 24));
				job[k] = (struct rrl_job){ &a[k], &r[k], 0 };
			}
			if (pass) {
				rrl_check_burst(t, job, 32);
				for (uint32_t k = 0; k < 32; k++)
					sent += job[k].action == RRL_SEND;
			} else {
				for (uint32_t k = 0; k < 32; k++)
					sent += rrl_check(t, &a[k], &r[k]) == RRL_SEND;
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
		      (double)(t1.tv_nsec - t0.tv_nsec)) / N;
		print_message("speed: %s %.1f ns per response (incl. making the inputs)\n",
			      pass ? "rrl_check_burst" : "rrl_check      ", ns);
	}
	assert_true(sent > 0);
	rrl_destroy(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf),
		cmocka_unit_test(test_prefix_parse),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_slip),
		cmocka_unit_test(test_keying),
		cmocka_unit_test(test_kind_rates),
		cmocka_unit_test(test_exempt),
		cmocka_unit_test(test_log_only),
		cmocka_unit_test(test_cores),
		cmocka_unit_test(test_table_bounded),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_burst_same),
		cmocka_unit_test(test_key_every_byte),
		cmocka_unit_test(test_key_given_hash),
		cmocka_unit_test(test_kind_bytes),
		cmocka_unit_test(test_speed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
