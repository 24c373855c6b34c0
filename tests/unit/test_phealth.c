/*
 * test_phealth.c — the served snapshot's policy checks: snapshots compiled
 * in process from zone text and policy files, attached one after another
 * to one ctl_phealth. Words attached in policy order, a snapshot without
 * checks, the words that move when the count changes, host-name targets
 * refused without side effects, the interval floor, votes, and the log
 * line of a real word change (a TCP check on a closed loopback port).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "diag.h"
#include "error.h"
#include "phealth.h"
#include "policy.h"
#include "policy_snap.h"
#include "snap.h"
#include "snap_format.h"
#include "zone.h"

static const char zone_text[] =
	"$ORIGIN pol.test.\n$TTL 300\n"
	"@ SOA ns hostmaster 1 3600 600 86400 60\n@ NS ns\nns A 192.0.2.53\n";

/* Two probing checks and a calculated one; closed: 127.0.0.1 port 1. */
static const char three[] =
	"checks:\n"
	"  web: { type: tcp, target: 127.0.0.1, port: 1, interval_ms: 1000, timeout_ms: 300,"
	" fall: 1, rise: 1 }\n"
	"  db:  { type: http, target: '::1', port: 1, interval_ms: 60000 }\n"
	"  dc:  { type: calculated, op: and, members: [ web, db ] }\n"
	"records:\n"
	"  - name: www.pol.test.\n    type: A\n    policy:\n      routing: failover\n"
	"      members:\n        - { address: 192.0.2.1, check: dc }\n"
	"        - { address: 192.0.2.2 }\n";

/* The same three plus one: the count changes. */
static const char four[] =
	"checks:\n"
	"  web: { type: tcp, target: 127.0.0.1, port: 1, interval_ms: 1000, timeout_ms: 300,"
	" fall: 1, rise: 1 }\n"
	"  db:  { type: http, target: '::1', port: 1, interval_ms: 60000 }\n"
	"  dc:  { type: calculated, op: and, members: [ web, db ] }\n"
	"  new: { type: tcp, target: 127.0.0.1, port: 1, interval_ms: 100, timeout_ms: 100 }\n"
	"records:\n"
	"  - name: www.pol.test.\n    type: A\n    policy:\n      routing: failover\n"
	"      members:\n        - { address: 192.0.2.1, check: dc }\n"
	"        - { address: 192.0.2.2, check: new }\n";

static const char named[] =
	"checks:\n"
	"  web: { type: http, target: web.example.net, port: 80 }\n"
	"records:\n"
	"  - name: www.pol.test.\n    type: A\n    policy:\n      routing: failover\n"
	"      members:\n        - { address: 192.0.2.1, check: web }\n"
	"        - { address: 192.0.2.2 }\n";

static void build(struct tsnap *out, const char *policy_text)
{
	tsnap_build(out, zone_text, policy_text);
}

struct fixture {
	struct event_base *base;
	struct ctl_phealth *ph;
	char *log;
	size_t loglen;
	FILE *logf;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct ctl_phealth_opts o = { 0 };

	assert_non_null(f);
	assert_non_null(f->base = event_base_new());
	assert_non_null(f->logf = open_memstream(&f->log, &f->loglen));
	o.log = f->logf;
	assert_int_equal(ctl_phealth_new(f->base, &o, &f->ph), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ctl_phealth_free(f->ph);
	event_base_free(f->base);
	fclose(f->logf);
	free(f->log);
	free(f);
	return 0;
}

static const char *logged(struct fixture *f)
{
	fflush(f->logf);
	return f->log ? f->log : "";
}

static void test_attach_in_policy_order(void **state)
{
	struct fixture *f = *state;
	struct tsnap b;
	struct hcheck_stats st;
	const uint8_t *w;
	uint8_t *old = (uint8_t *)1;
	uint32_t n = 0;
	char err[256];

	build(&b, three);
	assert_int_equal(ctl_phealth_check(b.s, NULL, err, sizeof(err)), 0);
	assert_int_equal(ctl_phealth_attach(f->ph, b.s, &old, err, sizeof(err)), 0);
	assert_null(old);
	assert_non_null(w = snap_health(b.s, &n));
	assert_int_equal(n, 3);
	assert_int_equal(ctl_phealth_count(f->ph), 3);
	for (size_t i = 0; i < 3; i++) {
		static const char *const names[] = { "web", "db", "dc" };
		assert_int_equal(ctl_phealth_stats(f->ph, i, &st), 0);
		assert_string_equal(st.name, names[i]);
		assert_int_equal(w[i], 1);     /* healthy until probes say otherwise */
	}
	assert_int_equal(ctl_phealth_stats(f->ph, 3, &st), P53_EINVAL);
	tsnap_free(&b);
}

static void test_no_policy(void **state)
{
	struct fixture *f = *state;
	struct tsnap b, p;
	uint8_t *old = NULL;
	uint32_t n = 7;
	char err[256];

	build(&b, NULL);
	assert_int_equal(ctl_phealth_attach(f->ph, b.s, &old, err, sizeof(err)), 0);
	assert_null(old);
	assert_null(snap_health(b.s, &n));
	assert_int_equal(n, 0);
	assert_int_equal(ctl_phealth_count(f->ph), 0);
	/* checks, then none again: the words the policy snapshot read move out */
	build(&p, three);
	assert_int_equal(ctl_phealth_attach(f->ph, p.s, &old, err, sizeof(err)), 0);
	assert_null(old);
	assert_int_equal(ctl_phealth_attach(f->ph, b.s, &old, err, sizeof(err)), 0);
	assert_ptr_equal(old, snap_health(p.s, &n));
	assert_null(snap_health(b.s, &n));
	assert_int_equal(ctl_phealth_count(f->ph), 0);
	hcheck_words_free(old);
	tsnap_free(&p);
	tsnap_free(&b);
}

static void test_count_change_moves_words(void **state)
{
	struct fixture *f = *state;
	struct tsnap a, a2, b;
	const uint8_t *wa, *wb;
	uint8_t *old = NULL;
	uint32_t n;
	char err[256];

	build(&a, three);
	build(&a2, three);
	build(&b, four);
	assert_int_equal(ctl_phealth_attach(f->ph, a.s, &old, err, sizeof(err)), 0);
	wa = snap_health(a.s, &n);
	/* same checks: the same words, nothing to free */
	assert_int_equal(ctl_phealth_attach(f->ph, a2.s, &old, err, sizeof(err)), 0);
	assert_null(old);
	assert_ptr_equal(snap_health(a2.s, &n), wa);
	/* one more: a new array for b, the old one handed back for a's RCU */
	assert_int_equal(ctl_phealth_attach(f->ph, b.s, &old, err, sizeof(err)), 0);
	assert_ptr_equal(old, wa);
	assert_non_null(wb = snap_health(b.s, &n));
	assert_int_equal(n, 4);
	assert_ptr_not_equal(wb, wa);
	/* the 100 ms interval of 'new' is raised to the checker's floor */
	assert_non_null(strstr(logged(f), "policy check new: interval 100 ms raised to pop53d's "
			       "minimum of 1000 ms"));
	hcheck_words_free(old);
	tsnap_free(&a);
	tsnap_free(&a2);
	tsnap_free(&b);
}

static void test_host_name_refused(void **state)
{
	struct fixture *f = *state;
	struct tsnap a, h;
	uint8_t *old = NULL;
	const uint8_t *wa;
	uint32_t n = 9;
	char err[256] = "";

	build(&a, three);
	build(&h, named);
	assert_int_equal(ctl_phealth_attach(f->ph, a.s, &old, err, sizeof(err)), 0);
	wa = snap_health(a.s, &n);
	assert_int_equal(ctl_phealth_check(h.s, NULL, err, sizeof(err)), P53_EINVAL);
	assert_string_equal(err, "policy check 0 (web): target 'web.example.net' is a host name: "
			    "pop53d probes IP addresses only (resolve it when compiling the "
			    "policy)");
	err[0] = '\0';
	assert_int_equal(ctl_phealth_attach(f->ph, h.s, &old, err, sizeof(err)), P53_EINVAL);
	assert_non_null(strstr(err, "web.example.net"));
	/* nothing changed: the running checks, a's words, h has none */
	assert_null(old);
	assert_int_equal(ctl_phealth_count(f->ph), 3);
	assert_ptr_equal(snap_health(a.s, &n), wa);
	assert_null(snap_health(h.s, &n));
	tsnap_free(&a);
	tsnap_free(&h);
}

static void test_votes(void **state)
{
	struct fixture *f = *state;
	struct hcheck_stats st;
	struct tsnap a;
	uint8_t *old = NULL;
	char err[256];

	assert_int_equal(ctl_phealth_vote(f->ph, "web", 3, false, 1000, err, sizeof(err)),
			 P53_ENOTFOUND);     /* nothing attached yet */
	build(&a, three);
	assert_int_equal(ctl_phealth_attach(f->ph, a.s, &old, err, sizeof(err)), 0);
	assert_int_equal(ctl_phealth_vote(f->ph, "nosuch", 3, false, 1000, err, sizeof(err)),
			 P53_ENOTFOUND);
	assert_string_equal(err, "no policy check named 'nosuch' in the served snapshot");
	assert_int_equal(ctl_phealth_vote(f->ph, "dc", 3, false, 1000, err, sizeof(err)),
			 P53_EINVAL);
	assert_string_equal(err, "policy check 'dc' is calculated: it has no votes");
	assert_int_equal(ctl_phealth_vote(f->ph, "db", 3, false, 60000, err, sizeof(err)), 0);
	assert_int_equal(ctl_phealth_stats(f->ph, 1, &st), 0);
	assert_int_equal(st.votes_live, 1);
	assert_int_equal(st.votes_healthy, 0);
	/* one healthy (local) of two: 50 %, the policy's default quorum */
	assert_true(st.healthy);
	assert_int_equal(ctl_phealth_vote(f->ph, "db", 3, false, 0, err, sizeof(err)), 0);
	assert_int_equal(ctl_phealth_stats(f->ph, 1, &st), 0);
	assert_int_equal(st.votes_live, 0);
	tsnap_free(&a);
}

/* The closed port fails the first probe (fall 1): the word and the log. */
static void test_word_change_logged(void **state)
{
	struct fixture *f = *state;
	struct timeval tv = { 2, 500000 };
	struct tsnap a;
	uint8_t *old = NULL;
	const uint8_t *w;
	uint32_t n;
	char err[256];

	build(&a, three);
	assert_int_equal(ctl_phealth_attach(f->ph, a.s, &old, err, sizeof(err)), 0);
	w = snap_health(a.s, &n);
	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
	assert_int_equal(__atomic_load_n(&w[0], __ATOMIC_ACQUIRE), 0);
	assert_int_equal(__atomic_load_n(&w[2], __ATOMIC_ACQUIRE), 0);   /* dc: and */
	assert_non_null(strstr(logged(f), "pop53d: policy-check web unhealthy (was healthy, "
			       "word 0): "));
	assert_non_null(strstr(logged(f), "pop53d: policy-check dc unhealthy (was healthy, "
			       "word 2): and: "));
	tsnap_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_attach_in_policy_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_count_change_moves_words, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_name_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_votes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_word_change_logged, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
