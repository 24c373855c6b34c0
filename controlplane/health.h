/*
 * health.h — whether this node may attract anycast traffic.
 *
 * The node is healthy only while every check passes: each worker makes
 * progress, its ports are up, a snapshot is loaded and not older than the
 * configured maximum, the canary query is answered correctly through the
 * real answering path (plus any extra checks registered later). The
 * operator's drain is not a check: the anycast module drains gracefully
 * (bgp/anycast.h) whatever the health. The caller gathers one observation per
 * interval and feeds it to health_observe(); this module only decides, so
 * that the decision is testable without a dataplane.
 *
 * Flap damping: `fall` consecutive failing observations take the node
 * down, `rise` consecutive good ones bring it back, and after going down it
 * stays down for at least `hold_down_ms`.
 */
#ifndef POP53_HEALTH_H
#define POP53_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum health_check {
	HEALTH_WORKERS = 0,     /* every worker's heartbeat advanced */
	HEALTH_PORTS,           /* every port has link */
	HEALTH_SNAPSHOT,        /* a snapshot is loaded */
	HEALTH_AGE,             /* ... and younger than the maximum age */
	HEALTH_CANARY,          /* the canary query got the expected answer */
	HEALTH_EXTRA,           /* operator-defined checks (later issues) */
	HEALTH_CHECK_COUNT
};

struct health_conf {
	unsigned fall;          /* failing observations to go down (>= 1) */
	unsigned rise;          /* good observations to come up (>= 1) */
	uint64_t hold_down_ms;  /* minimum time down once down */
};

/* One observation. ok[c] false means check c failed; why[c] says why
 * (may be NULL). Checks that do not apply (no DPDK ports in kernel mode)
 * are reported as ok. */
struct health_obs {
	bool ok[HEALTH_CHECK_COUNT];
	const char *why[HEALTH_CHECK_COUNT];
};

/* What health_observe decided. */
struct health_event {
	bool changed;           /* the up/down state changed now */
	bool up;                /* the state after this observation */
	char reason[256];       /* the failing checks, or "healthy",
				 * "recovered"; for logs */
};

struct health {
	struct health_conf conf;
	bool up;                /* may announce */
	bool started;           /* first observation seen */
	unsigned bad_run;       /* consecutive failing observations */
	unsigned good_run;      /* consecutive good observations */
	uint64_t down_since_ms;
	uint64_t transitions;   /* up<->down changes, for metrics */
	uint64_t failures[HEALTH_CHECK_COUNT]; /* failing observations per check */
	bool last_ok[HEALTH_CHECK_COUNT];
};

/* Start in the down state (a node announces only once it has proved
 * itself `rise` times). conf values of 0 are taken as 1 (fall, rise). */
void health_init(struct health *h, const struct health_conf *conf);

/* Feed one observation made at now_ms (monotonic). Fills *ev. */
void health_observe(struct health *h, const struct health_obs *obs,
		    uint64_t now_ms, struct health_event *ev);

/* Whether the node may announce now. */
bool health_up(const struct health *h);

/* Name of a check for logs and metrics labels ("workers", "ports", ...). */
const char *health_check_name(enum health_check c);

#endif
