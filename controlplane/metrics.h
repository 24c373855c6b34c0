/*
 * metrics.h — pop53d's counters in the Prometheus text exposition format
 * (version 0.0.4): every family has its # HELP and # TYPE lines, names
 * start with pop53_, counters end in _total, units are in the names.
 *
 * The daemon gathers plain numbers into a struct metrics_input (no locks:
 * per-thread counters read racily, as the dataplane writes them) and
 * metrics_render writes the whole page. Later modules (RRL, health, BGP)
 * add their families with metrics_family and metrics_u64/metrics_f64.
 */
#ifndef POP53_METRICS_H
#define POP53_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine.h"
#include "rrl.h"
#include "snap.h"

#define METRICS_RCODES      17   /* RCODE 0..15, [16]: extended (BADVERS...) */
#define METRICS_MAX_DROPS   16
#define METRICS_MAX_LCORES  64
#define METRICS_MAX_RESULTS 16
#define METRICS_MAX_TRANSPORTS 3
#define METRICS_POLICY_KINDS ENGINE_POLICY_KINDS

enum metrics_type { METRICS_COUNTER, METRICS_GAUGE };

struct metrics_count {
	const char *name;            /* label value: a reason, a result */
	uint64_t n;
};

/* The DNS counters of one door. */
struct metrics_transport {
	const char *name;            /* "udp", "tcp", "dpdk" */
	uint64_t queries;
	uint64_t rcode[METRICS_RCODES];  /* responses per RCODE */
	struct metrics_count drop[METRICS_MAX_DROPS];  /* by reason */
	size_t ndrop;
	uint64_t policy[METRICS_POLICY_KINDS];  /* traffic-policy responses */
};

/* One policy health check (controlplane/phealth.h), for the metrics page. */
struct metrics_check {
	const char *name;            /* valid until the rendering ends */
	bool healthy;                /* the word the answers read */
	bool local_healthy;          /* this node's own verdict */
	unsigned votes_live;         /* other PoPs' votes not expired ... */
	unsigned votes_healthy;      /* ... of which healthy */
	uint64_t probes, failures, transitions;
};

/* One out-of-zone alias target (controlplane/alias.h). */
struct metrics_alias {
	const char *target;          /* valid until the rendering ends */
	unsigned n4, n6;             /* addresses answered now */
	bool have4, have6;           /* a resolver has answered for the family */
	bool stale;                  /* the last refresh failed */
	uint64_t queries, failures, changes;
};

struct metrics_lcore {
	unsigned lcore;              /* EAL lcore id */
	uint64_t rx, tx;             /* frames received, responses sent */
};

struct metrics_input {
	struct metrics_transport tr[METRICS_MAX_TRANSPORTS];
	size_t ntr;
	struct metrics_lcore lcore[METRICS_MAX_LCORES];
	size_t nlcore;
	const struct snap *snap;     /* served snapshot, NULL: none */
	uint64_t now;                /* unix seconds, for ages */
	uint64_t loaded_at;          /* unix seconds the snapshot was published */
	struct metrics_count push[METRICS_MAX_RESULTS];  /* by result */
	size_t npush;
	uint64_t reloads_ok, reloads_failed;
	uint64_t leaked;             /* snapshots never freed (hung reader) */
	bool drained;
	/* Node health (health.h), when watched. */
	bool health_known;
	bool healthy;
	uint64_t health_transitions;
	uint64_t health_canaries;
	struct metrics_count health_fail[METRICS_MAX_RESULTS];  /* by check */
	size_t nhealth_fail;
	/* Anycast through BIRD, when configured. */
	bool anycast_known;
	bool announced;              /* the service prefix is announced */
	bool draining;               /* ... tagged GRACEFUL_SHUTDOWN */
	bool bird_connected;
	uint64_t anycast_changes;
	struct metrics_count bgp_up[METRICS_MAX_RESULTS];  /* session -> 1 up */
	size_t nbgp;
	/* Response rate limiting, when on. */
	bool rrl_known;
	struct rrl_stats rrl;
	/* Policy health checks: check(check_arg, i, &c) fills check i <
	 * nchecks (a callback: a snapshot may have 65,536 checks). */
	size_t nchecks;
	void (*check)(const void *check_arg, size_t i, struct metrics_check *out);
	const void *check_arg;
	/* Out-of-zone alias targets, the same way. */
	size_t naliases;
	void (*alias)(const void *alias_arg, size_t i, struct metrics_alias *out);
	const void *alias_arg;
};

/* Name of RCODE i (0..16) as used in the rcode label ("NOERROR", ...,
 * "RCODE12", "BADVERS" for the extended slot). Static storage. */
const char *metrics_rcode_name(unsigned i);

/* Write the # HELP and # TYPE lines of family name (help: one line, no
 * backslash or newline needed; they are escaped anyway). */
void metrics_family(FILE *f, const char *name, enum metrics_type t,
		    const char *help);

/* Write one sample `name{k1="v1",...} v`. The variable arguments are
 * label key/value string pairs ended by NULL; values are escaped. */
void metrics_u64(FILE *f, const char *name, uint64_t v, ...)
	__attribute__((sentinel));
void metrics_f64(FILE *f, const char *name, double v, ...)
	__attribute__((sentinel));

/* Write every pop53 family of in to f. Returns 0, or P53_EIO when f
 * reports a write error (e.g. open_memstream out of memory). */
int metrics_render(const struct metrics_input *in, FILE *f);

#endif
