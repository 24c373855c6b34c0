/*
 * hcheck.h — endpoint health checks for traffic policies.
 *
 * A set of checks runs inside the caller's libevent loop: TCP connects,
 * HTTP and HTTPS requests (one libcurl multi handle driven by the loop)
 * and calculated checks over other checks. Each check ends in one byte of
 * an array the dataplane reads without locks (hcheck_words), 1 healthy
 * and 0 not, at the check's position in the definitions.
 *
 * A probing check turns probe results into this node's own verdict with
 * fall/rise damping; that verdict is one vote, the controller may add votes
 * from other PoPs (hcheck_vote), and the check is healthy when the share
 * of healthy live votes reaches its quorum. A calculated check combines
 * the words of its members (and, or, at least N) and has no votes.
 *
 * Not node health (health.h: whether this PoP may announce). Everything
 * here runs on the loop's thread; only the words are read elsewhere. The
 * process must ignore SIGPIPE (TLS writes to a peer that hung up), as
 * pop53d does.
 * docs/health-checks.md describes the behaviour and the timing.
 */
#ifndef POP53_HCHECK_H
#define POP53_HCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#define HCHECK_BODY_WINDOW 5120 /* body bytes searched for the substring */
#define HCHECK_MAX_DEPTH   32   /* calculated checks nest at most this deep */
#define HCHECK_MAX_VOTES   1024 /* remote votes kept per check */

enum hcheck_kind { HCHECK_TCP, HCHECK_HTTP, HCHECK_HTTPS, HCHECK_CALCULATED };

enum hcheck_op { HCHECK_AND, HCHECK_OR, HCHECK_AT_LEAST };

/* This node's verdict before its probes have said anything. */
enum hcheck_start {
	HCHECK_START_HEALTHY = 0,  /* healthy until `fall` failures say not */
	HCHECK_START_UNHEALTHY,    /* unhealthy until `rise` successes */
	HCHECK_START_FIRST,        /* unknown (counted healthy) until the
				    * first probe, whose result decides alone */
};

/* One check, filled by the caller; 0 / NULL fields take the defaults
 * noted. Strings and members are copied by create/update. */
struct hcheck_def {
	const char *name;               /* required, unique in the set */
	enum hcheck_kind kind;
	/* tcp, http, https */
	const char *address;            /* IPv4 or IPv6 literal, required */
	uint16_t port;                  /* required for tcp; 0: 80 / 443 */
	const char *host;               /* Host header and TLS SNI; NULL:
					 * the address */
	const char *path;               /* NULL: "/" */
	uint16_t status_min, status_max;/* both 0: 200-399 */
	const char *body;               /* substring required in the first
					 * HCHECK_BODY_WINDOW body bytes */
	uint32_t interval_ms;           /* 0: 10000; at least 1000 */
	uint32_t timeout_ms;            /* 0: 2000, or interval / 2 when the
					 * interval is 2000 or less; < interval */
	uint8_t fall, rise;             /* 0: 3 */
	uint8_t quorum_pct;             /* healthy share of live votes needed,
					 * 1-100; 0: 18 (Route 53's figure) */
	enum hcheck_start start;
	bool no_verify;                 /* https: accept any certificate */
	const char *ca_file;            /* https: CA bundle; NULL: system's */
	/* calculated */
	enum hcheck_op op;
	unsigned at_least;              /* HCHECK_AT_LEAST: 1..nmembers */
	const size_t *members;          /* indices into the definitions */
	size_t nmembers;
};

/* A check's word changed: index in the definitions, old and new value,
 * why (for logs; valid during the call). Must not call
 * hcheck_set_update or hcheck_set_destroy. */
typedef void (*hcheck_change_fn)(void *arg, size_t index, const char *name,
				 bool was_healthy, bool healthy,
				 const char *reason);

struct hcheck_opts {
	hcheck_change_fn on_change;     /* may be NULL */
	void *arg;
	uint32_t min_interval_ms;       /* 0: 1000; tests go lower */
	uint64_t seed;                  /* start jitter; 0: from the clock */
};

/* Per-check figures for status and metrics. */
struct hcheck_stats {
	const char *name;               /* valid until update or destroy */
	enum hcheck_kind kind;
	bool healthy;                   /* the word */
	bool local_healthy;             /* this node's own damped verdict */
	bool in_flight;                 /* a probe is running */
	unsigned votes_live;            /* remote votes not expired */
	unsigned votes_healthy;         /* ... of which healthy */
	uint64_t probes;                /* finished probes */
	uint64_t failures;              /* ... that failed */
	uint64_t transitions;           /* changes of the word */
	uint32_t last_latency_us;       /* of the last finished probe */
	char last_error[192];           /* of the last probe; "" if it passed */
};

struct hcheck_set;

/* Validate defs[0..n) and start probing on base (first probes jittered
 * over one interval). o may be NULL. 0, or P53_EINVAL (bad definition:
 * which and why in err, e.g. a cycle of calculated checks), P53_ENOMEM.
 * Nothing is started on failure. */
int hcheck_set_create(struct event_base *base, const struct hcheck_def *defs,
		      size_t n, const struct hcheck_opts *o, char *err,
		      size_t errlen, struct hcheck_set **out);

/* Replace the definitions. A check whose name and definition are
 * unchanged keeps its state (verdict, fall/rise counts, votes, counters,
 * a probe in flight), possibly at a new index; others start afresh.
 * Calculated checks are recomputed (changes reported). With the same n
 * the words stay at the same address (and *old_words is set to NULL).
 * With another n they move to a new array: the old one, no longer
 * written, goes to *old_words for the caller to release with
 * hcheck_words_free() once no reader can hold it (RCU grace period); if
 * old_words is NULL it is freed at once. On error (as create) nothing
 * changes. */
int hcheck_set_update(struct hcheck_set *s, const struct hcheck_def *defs,
		      size_t n, char *err, size_t errlen, uint8_t **old_words);

/* Stop every probe and free the set: no callback runs afterwards. NULL is
 * fine. The words array is freed too. */
void hcheck_set_destroy(struct hcheck_set *s);

/* One byte per check in definition order: 1 healthy, 0 not; written with
 * __atomic_store_n(RELEASE), read with __atomic_load_n(ACQUIRE). Owned by
 * the set, stable until destroy or an update that changes the count. */
const uint8_t *hcheck_words(const struct hcheck_set *s);

/* Release an array handed out by hcheck_set_update. NULL is fine. */
void hcheck_words_free(uint8_t *old_words);

/* Number of checks. */
size_t hcheck_count(const struct hcheck_set *s);

/* Index of the check called name, or P53_ENOTFOUND. */
int hcheck_index(const struct hcheck_set *s, const char *name);

/* Record another PoP's vote on check index: source_id names the PoP
 * (never this node: its vote is the local verdict), expires_ms is on the
 * hcheck_now_ms() clock; a vote already expired withdraws that source's
 * vote. 0, or P53_EINVAL (no such probing check), P53_ELIMIT (more than
 * HCHECK_MAX_VOTES sources). */
int hcheck_vote(struct hcheck_set *s, size_t index, uint32_t source_id,
		bool healthy, uint64_t expires_ms);

/* Counters and state of check index. 0, or P53_EINVAL. */
int hcheck_stats(const struct hcheck_set *s, size_t index,
		 struct hcheck_stats *out);

/* The clock of vote expiry: CLOCK_MONOTONIC in milliseconds. */
uint64_t hcheck_now_ms(void);

/* "tcp", "http", "https", "calculated". */
const char *hcheck_kind_name(enum hcheck_kind k);

#endif
