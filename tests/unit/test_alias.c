/*
 * test_alias.c — out-of-zone alias targets resolved by pop53d's control
 * plane (controlplane/alias.c) against a scripted resolver on loopback:
 * addresses land in the slots the engine reads, CNAME chains are
 * followed, answers are asked again after their TTL, a failing resolver
 * keeps the last addresses (stale), NXDOMAIN empties the family, a silent
 * resolver times out and the next one is asked, spoofed answers from
 * elsewhere are ignored, targets survive a new snapshot, and a snapshot
 * that needs a resolver is refused when there is none.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "alias.h"
#include "diag.h"
#include "dname.h"
#include "error.h"
#include "policy.h"
#include "policy_snap.h"
#include "rdata.h"
#include "snap.h"
#include "snap_format.h"
#include "zone.h"

static const char zone_text[] =
	"$ORIGIN pol.test.\n$TTL 300\n"
	"@ SOA ns hostmaster 1 3600 600 86400 60\n@ NS ns\nns A 192.0.2.53\n";

static const char two_targets[] =
	"records:\n"
	"  - name: pol.test.\n    type: A\n    policy:\n      routing: weighted\n"
	"      members:\n        - { alias: lb.cloud.example., weight: 1 }\n"
	"        - { alias: chain.cloud.example., weight: 1 }\n"
	"  - name: pol.test.\n    type: AAAA\n    policy:\n      routing: simple\n"
	"      members: [ { alias: lb.cloud.example. } ]\n";

static const char one_new[] =
	"records:\n"
	"  - name: pol.test.\n    type: A\n    policy:\n      routing: weighted\n"
	"      members:\n        - { alias: LB.cloud.example., weight: 1 }\n"
	"        - { alias: new.cloud.example., weight: 1 }\n";

/* ---- the scripted resolver --------------------------------------------------- */

enum mode { M_ANSWER, M_SERVFAIL, M_NXDOMAIN, M_SILENT };

struct script {
	enum mode mode;
	uint32_t ttl;
	const char *a[4];         /* A answers of lb and real (chain's end) */
	const char *aaaa[2];
};

struct resolver {
	int fd;
	struct sockaddr_in addr;
	struct event *ev;
	struct script sc;
	unsigned asked;
};

static size_t put_name(uint8_t *p, const char *text)
{
	int n = dname_from_text(text, strlen(text), NULL, p);

	assert_true(n > 0);
	return (size_t)n;
}

static size_t put_rr(uint8_t *p, const char *owner, uint16_t type, uint32_t ttl,
		     const uint8_t *rd, uint16_t rdlen)
{
	size_t n = put_name(p, owner);

	p[n] = (uint8_t)(type >> 8);
	p[n + 1] = (uint8_t)type;
	p[n + 2] = 0;
	p[n + 3] = 1;
	p[n + 4] = (uint8_t)(ttl >> 24);
	p[n + 5] = (uint8_t)(ttl >> 16);
	p[n + 6] = (uint8_t)(ttl >> 8);
	p[n + 7] = (uint8_t)ttl;
	p[n + 8] = (uint8_t)(rdlen >> 8);
	p[n + 9] = (uint8_t)rdlen;
	memcpy(p + n + 10, rd, rdlen);
	return n + 10 + rdlen;
}

/* Answers of the script for qname/qtype after the question at r[pos]. */
static size_t answers(const struct script *sc, const char *qname, uint16_t qtype,
		      uint8_t *r, size_t pos, unsigned *an)
{
	const char *owner = qname;
	uint8_t rd[256];

	if (!strcmp(qname, "chain.cloud.example.")) {
		size_t n = put_name(rd, "real.cloud.example.");

		pos += put_rr(r + pos, qname, RRTYPE_CNAME, sc->ttl, rd, (uint16_t)n);
		(*an)++;
		owner = "real.cloud.example.";
	}
	/* an unrelated record the client must not take */
	inet_pton(AF_INET, "203.0.113.99", rd);
	pos += put_rr(r + pos, "other.cloud.example.", RRTYPE_A, sc->ttl, rd, 4);
	(*an)++;
	for (int i = 0; qtype == RRTYPE_A && i < 4 && sc->a[i]; i++) {
		inet_pton(AF_INET, sc->a[i], rd);
		pos += put_rr(r + pos, owner, RRTYPE_A, sc->ttl, rd, 4);
		(*an)++;
	}
	for (int i = 0; qtype == RRTYPE_AAAA && i < 2 && sc->aaaa[i]; i++) {
		inet_pton(AF_INET6, sc->aaaa[i], rd);
		pos += put_rr(r + pos, owner, RRTYPE_AAAA, sc->ttl, rd, 16);
		(*an)++;
	}
	return pos;
}

static void on_query(evutil_socket_t fd, short what, void *arg)
{
	struct resolver *rs = arg;
	uint8_t q[512], r[1024];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t len = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
	char qname[DNAME_TEXT_MAX];
	size_t qend, pos;
	unsigned an = 0;
	int nl;

	(void)what;
	if (len < 17)
		return;
	rs->asked++;
	if (rs->sc.mode == M_SILENT)
		return;
	nl = dname_wire_len(q + 12, (size_t)len - 12);
	assert_true(nl > 0);
	assert_true(dname_to_text(q + 12, qname, sizeof(qname)) >= 0);
	qend = 12 + (size_t)nl + 4;
	memcpy(r, q, qend);
	r[2] = 0x81;                                  /* QR, RD */
	r[3] = (uint8_t)(0x80 | (rs->sc.mode == M_SERVFAIL ? 2 :
				 rs->sc.mode == M_NXDOMAIN ? 3 : 0));
	memset(r + 6, 0, 6);
	pos = qend;
	if (rs->sc.mode == M_ANSWER)
		pos = answers(&rs->sc, qname, (uint16_t)(q[qend - 4] << 8 | q[qend - 3]), r, qend,
			      &an);
	r[6] = (uint8_t)(an >> 8);
	r[7] = (uint8_t)an;
	sendto(fd, r, pos, 0, (struct sockaddr *)&from, fl);
}

static void resolver_start(struct event_base *base, struct resolver *rs)
{
	socklen_t l = sizeof(rs->addr);

	memset(&rs->addr, 0, sizeof(rs->addr));
	rs->addr.sin_family = AF_INET;
	rs->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((rs->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0)) >= 0);
	assert_int_equal(bind(rs->fd, (struct sockaddr *)&rs->addr, sizeof(rs->addr)), 0);
	assert_int_equal(getsockname(rs->fd, (struct sockaddr *)&rs->addr, &l), 0);
	rs->ev = event_new(base, rs->fd, EV_READ | EV_PERSIST, on_query, rs);
	assert_non_null(rs->ev);
	assert_int_equal(event_add(rs->ev, NULL), 0);
}

static void resolver_stop(struct resolver *rs)
{
	event_free(rs->ev);
	close(rs->fd);
}

/* ---- snapshots -------------------------------------------------------------- */

static void build(struct tsnap *out, const char *policy_text)
{
	tsnap_build(out, zone_text, policy_text);
}

/* ---- fixture ---------------------------------------------------------------- */

struct fixture {
	struct event_base *base;
	struct resolver rs[2];
	struct ctl_alias *al;
	char *log;
	size_t loglen;
	FILE *logf;
};

static void add_resolver(struct ctl_alias_opts *o, const struct resolver *rs)
{
	memcpy(&o->resolvers[o->nresolvers].addr, &rs->addr, sizeof(rs->addr));
	o->resolvers[o->nresolvers++].len = sizeof(rs->addr);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct ctl_alias_opts o = { .min_refresh_ms = 200, .timeout_ms = 150 };

	assert_non_null(f);
	assert_non_null(f->base = event_base_new());
	assert_non_null(f->logf = open_memstream(&f->log, &f->loglen));
	for (int i = 0; i < 2; i++) {
		resolver_start(f->base, &f->rs[i]);
		f->rs[i].sc = (struct script){ .ttl = 0, .a = { "198.51.100.1", "198.51.100.2" },
					       .aaaa = { "2001:db8:5::1" } };
	}
	add_resolver(&o, &f->rs[0]);
	add_resolver(&o, &f->rs[1]);
	o.log = f->logf;
	assert_int_equal(ctl_alias_new(f->base, &o, &f->al), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ctl_alias_free(f->al);
	resolver_stop(&f->rs[0]);
	resolver_stop(&f->rs[1]);
	event_base_free(f->base);
	fclose(f->logf);
	free(f->log);
	free(f);
	return 0;
}

/* Run the loop until done(arg) or ms pass; true if done. */
static bool run_until(struct fixture *f, bool (*done)(const void *), const void *arg, int ms)
{
	struct timeval start, now;

	gettimeofday(&start, NULL);
	for (;;) {
		struct timeval tick = { 0, 20000 };

		if (done(arg))
			return true;
		gettimeofday(&now, NULL);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_usec - start.tv_usec) / 1000 > ms)
			return false;
		event_base_loopexit(f->base, &tick);
		event_base_dispatch(f->base);
	}
}

struct want {
	const struct snap_alias *slot;
	uint8_t have;
	int n4;                  /* -1: any */
	const char *first4;      /* NULL: any */
};

static bool slot_is(const void *arg)
{
	const struct want *w = arg;
	struct snap_alias_addrs v;
	char t[INET_ADDRSTRLEN];

	if (!snap_alias_read(w->slot, &v) || (v.have & w->have) != w->have)
		return false;
	if (w->n4 >= 0 && v.n4 != w->n4)
		return false;
	if (w->first4) {
		inet_ntop(AF_INET, v.a[0], t, sizeof(t));
		return v.n4 && !strcmp(t, w->first4);
	}
	return true;
}

/* The slot of the alias endpoint naming target (text, any case). */
static const struct snap_alias *slot_of(const struct snap *s, const char *target)
{
	const struct policy *p = snap_policy(s);
	char text[DNAME_TEXT_MAX];

	for (uint32_t i = 0; i < policy_endpoint_count(p); i++) {
		struct policy_endpoint ep;

		policy_endpoint_get(p, i, &ep);
		dname_to_text(ep.rdata, text, sizeof(text));
		if (ep.type == POLICY_ALIAS && !strcasecmp(text, target))
			return snap_alias_of(s, i);
	}
	return NULL;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_resolve_refresh_fail(void **state)
{
	struct fixture *f = *state;
	struct tsnap b;
	struct snap_alias *old = (void *)1;
	struct ctl_alias_stats st;
	char err[256];
	struct want lb, chain;
	struct snap_alias_addrs v;

	build(&b, two_targets);
	assert_int_equal(snap_alias_count(b.s), 2);
	assert_int_equal(ctl_alias_attach(f->al, b.s, &old, err, sizeof(err)), 0);
	assert_null(old);
	assert_int_equal(ctl_alias_count(f->al), 2);
	lb = (struct want){ slot_of(b.s, "lb.cloud.example."), SNAP_ALIAS_HAVE_A |
			    SNAP_ALIAS_HAVE_AAAA, 2, "198.51.100.1" };
	chain = (struct want){ slot_of(b.s, "chain.cloud.example."), SNAP_ALIAS_HAVE_A, 2,
			       "198.51.100.1" };
	assert_non_null(lb.slot);
	assert_non_null(chain.slot);
	/* nothing known before the first answer: the engine says SERVFAIL */
	assert_true(snap_alias_read(lb.slot, &v));
	assert_int_equal(v.have, 0);
	assert_true(run_until(f, slot_is, &lb, 2000));
	assert_true(run_until(f, slot_is, &chain, 2000));   /* through the CNAME */
	assert_true(snap_alias_read(lb.slot, &v));
	assert_int_equal(v.n6, 1);
	assert_int_equal(v.a[1][3], 2);

	/* TTL 0 -> asked again after the 200 ms floor: a change shows */
	f->rs[0].sc.a[0] = f->rs[1].sc.a[0] = "198.51.100.7";
	lb.first4 = "198.51.100.7";
	assert_true(run_until(f, slot_is, &lb, 2000));

	/* both resolvers fail: the last addresses stay, marked stale */
	f->rs[0].sc.mode = f->rs[1].sc.mode = M_SERVFAIL;
	unsigned asked = f->rs[0].asked + f->rs[1].asked;
	for (int i = 0; i < 40; i++) {
		struct timeval tick = { 0, 25000 };

		event_base_loopexit(f->base, &tick);
		event_base_dispatch(f->base);
	}
	assert_true(f->rs[0].asked + f->rs[1].asked > asked);
	assert_true(slot_is(&lb));
	assert_int_equal(ctl_alias_stats(f->al, 0, &st), 0);
	assert_true(st.failures > 0);
	assert_true(st.stale);
	fflush(f->logf);
	assert_non_null(strstr(f->log, "SERVFAIL from every resolver (3 tries); serving the last "
			       "addresses"));

	/* NXDOMAIN is an answer: the families become empty (NODATA) */
	f->rs[0].sc.mode = f->rs[1].sc.mode = M_NXDOMAIN;
	lb.n4 = 0;
	lb.first4 = NULL;
	assert_true(run_until(f, slot_is, &lb, 4000));
	f->rs[0].sc.mode = f->rs[1].sc.mode = M_ANSWER;
	tsnap_free(&b);
}

static bool asked_both(const void *arg)
{
	const struct fixture *f = arg;

	return f->rs[1].asked >= 2;
}

/* The first resolver never answers: after its timeout the second one is
 * asked and its answer taken. */
static void test_timeout_next_resolver(void **state)
{
	struct fixture *f = *state;
	struct tsnap b;
	struct snap_alias *old;
	char err[256];
	struct want lb;

	f->rs[0].sc.mode = M_SILENT;
	f->rs[1].sc.a[0] = "198.51.100.40";
	build(&b, two_targets);
	assert_int_equal(ctl_alias_attach(f->al, b.s, &old, err, sizeof(err)), 0);
	lb = (struct want){ slot_of(b.s, "lb.cloud.example."), SNAP_ALIAS_HAVE_A, -1,
			    "198.51.100.40" };
	assert_true(run_until(f, slot_is, &lb, 3000));
	assert_true(run_until(f, asked_both, f, 3000));
	assert_true(f->rs[0].asked >= 1);
	tsnap_free(&b);
}

/* A new snapshot keeps the addresses of a target it shares with the old
 * one (written into its slots at attach) and resolves the new target; the
 * old snapshot's slots come back for freeing after its grace period. */
static void test_reattach(void **state)
{
	struct fixture *f = *state;
	struct tsnap a, b;
	struct snap_alias *old;
	char err[256];
	struct want lb, nw;
	struct snap_alias_addrs v;

	build(&a, two_targets);
	assert_int_equal(ctl_alias_attach(f->al, a.s, &old, err, sizeof(err)), 0);
	lb = (struct want){ slot_of(a.s, "lb.cloud.example."), SNAP_ALIAS_HAVE_A |
			    SNAP_ALIAS_HAVE_AAAA, 2, "198.51.100.1" };
	assert_true(run_until(f, slot_is, &lb, 2000));
	build(&b, one_new);
	assert_int_equal(ctl_alias_attach(f->al, b.s, &old, err, sizeof(err)), 0);
	assert_non_null(old);
	assert_int_equal(ctl_alias_count(f->al), 2);
	/* at once, before any new answer */
	assert_true(snap_alias_read(slot_of(b.s, "lb.cloud.example."), &v));
	assert_int_equal(v.have, SNAP_ALIAS_HAVE_A | SNAP_ALIAS_HAVE_AAAA);
	assert_int_equal(v.n4, 2);
	nw = (struct want){ slot_of(b.s, "new.cloud.example."), SNAP_ALIAS_HAVE_A, 2, NULL };
	assert_true(run_until(f, slot_is, &nw, 2000));
	ctl_alias_slots_free(old);
	tsnap_free(&a);
	tsnap_free(&b);
}

/* No resolver configured and none in resolv.conf: a snapshot with
 * out-of-zone targets is refused, naming the target; one without is fine. */
static void test_no_resolver(void **state)
{
	struct fixture *f = *state;
	struct ctl_alias_opts o = { .resolv_conf = "/nonexistent/resolv.conf" };
	struct ctl_alias *al;
	struct tsnap b, plain;
	struct snap_alias *old;
	char err[512];
	static const char no_alias[] =
		"records:\n  - name: www.pol.test.\n    type: A\n    policy:\n"
		"      routing: simple\n      members: [ { address: 192.0.2.1 } ]\n";

	assert_int_equal(ctl_alias_new(f->base, &o, &al), 0);
	build(&b, two_targets);
	build(&plain, no_alias);
	assert_int_equal(ctl_alias_check(al, b.s, err, sizeof(err)), P53_EINVAL);
	assert_non_null(strstr(err, "policy alias target chain.cloud.example. is outside the "
			       "served zones and pop53d has no resolver"));
	assert_non_null(strstr(err, "/nonexistent/resolv.conf"));
	assert_int_equal(ctl_alias_attach(al, b.s, &old, err, sizeof(err)), P53_EINVAL);
	assert_int_equal(ctl_alias_count(al), 0);
	assert_int_equal(ctl_alias_attach(al, plain.s, &old, err, sizeof(err)), 0);
	assert_null(old);
	ctl_alias_free(al);
	tsnap_free(&b);
	tsnap_free(&plain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_resolve_refresh_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_next_resolver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reattach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_resolver, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
