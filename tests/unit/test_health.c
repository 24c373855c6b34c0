/*
 * test_health.c — the node's up/down decision: fall, rise, hold-down,
 * reasons, counters (the drain is bgp/anycast's: tests/unit/test_bird.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "health.h"

static struct health_obs good(void)
{
	struct health_obs o;

	memset(&o, 0, sizeof(o));
	for (int c = 0; c < HEALTH_CHECK_COUNT; c++)
		o.ok[c] = true;
	return o;
}

static struct health_obs bad(enum health_check c, const char *why)
{
	struct health_obs o = good();

	o.ok[c] = false;
	o.why[c] = why;
	return o;
}

static bool feed(struct health *h, struct health_obs o, uint64_t now,
		 struct health_event *ev)
{
	health_observe(h, &o, now, ev);
	return ev->up;
}

/* Down at start; up only after `rise` good observations. */
static void test_starts_down(void **state)
{
	struct health_conf c = { .fall = 3, .rise = 2, .hold_down_ms = 0 };
	struct health h;
	struct health_event ev;

	(void)state;
	health_init(&h, &c);
	assert_false(health_up(&h));
	assert_false(feed(&h, good(), 0, &ev));
	assert_false(ev.changed);
	assert_true(feed(&h, good(), 1000, &ev));
	assert_true(ev.changed);
	assert_string_equal(ev.reason, "healthy");
	assert_int_equal(h.transitions, 1);
}

/* fall - 1 failures change nothing; the fall-th takes it down with the
 * failing checks named; a good one in between resets the count. */
static void test_fall(void **state)
{
	struct health_conf c = { .fall = 3, .rise = 1, .hold_down_ms = 0 };
	struct health h;
	struct health_event ev;

	(void)state;
	health_init(&h, &c);
	assert_true(feed(&h, good(), 0, &ev));
	assert_true(feed(&h, bad(HEALTH_CANARY, "SERVFAIL"), 1, &ev));
	assert_true(feed(&h, bad(HEALTH_CANARY, "SERVFAIL"), 2, &ev));
	assert_false(ev.changed);
	assert_string_equal(ev.reason, "canary: SERVFAIL");
	assert_true(feed(&h, good(), 3, &ev));
	assert_true(feed(&h, bad(HEALTH_WORKERS, "worker 1 stalled"), 4, &ev));
	assert_true(feed(&h, bad(HEALTH_WORKERS, "worker 1 stalled"), 5, &ev));
	{
		struct health_obs o = bad(HEALTH_WORKERS, "worker 1 stalled");

		o.ok[HEALTH_PORTS] = false;
		o.why[HEALTH_PORTS] = NULL;
		assert_false(feed(&h, o, 6, &ev));
	}
	assert_true(ev.changed);
	assert_string_equal(ev.reason, "workers: worker 1 stalled; ports");
	assert_int_equal(h.failures[HEALTH_WORKERS], 3);
	assert_int_equal(h.failures[HEALTH_CANARY], 2);
	assert_int_equal(h.failures[HEALTH_PORTS], 1);
}

/* Back up only after `rise` good ones AND the hold-down since going down. */
static void test_rise_and_hold_down(void **state)
{
	struct health_conf c = { .fall = 1, .rise = 2, .hold_down_ms = 5000 };
	struct health h;
	struct health_event ev;

	(void)state;
	health_init(&h, &c);
	feed(&h, good(), 0, &ev);
	assert_true(feed(&h, good(), 5000, &ev));
	assert_false(feed(&h, bad(HEALTH_AGE, "expired"), 6000, &ev));
	assert_true(ev.changed);
	/* good again at once: rise reached at 7000, hold-down until 11000 */
	assert_false(feed(&h, good(), 6500, &ev));
	assert_false(feed(&h, good(), 7000, &ev));
	assert_false(feed(&h, good(), 10999, &ev));
	assert_true(feed(&h, good(), 11000, &ev));
	assert_true(ev.changed);
	assert_string_equal(ev.reason, "recovered");
	/* a single bad one during rise restarts the count */
	assert_false(feed(&h, bad(HEALTH_SNAPSHOT, NULL), 20000, &ev));
	assert_false(feed(&h, good(), 30000, &ev));
	assert_false(feed(&h, bad(HEALTH_SNAPSHOT, NULL), 30001, &ev));
	assert_false(feed(&h, good(), 30002, &ev));
	assert_true(feed(&h, good(), 30003, &ev));
	assert_int_equal(h.transitions, 5);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(health_check_name(HEALTH_WORKERS), "workers");
	assert_string_equal(health_check_name(HEALTH_CANARY), "canary");
	assert_string_equal(health_check_name(HEALTH_CHECK_COUNT), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_starts_down),
		cmocka_unit_test(test_fall),
		cmocka_unit_test(test_rise_and_hold_down),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
