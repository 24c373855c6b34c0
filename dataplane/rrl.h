/*
 * rrl.h — response rate limiting with BIND 9's semantics, one table per
 * answering thread (DPDK worker lcore, kernel UDP thread).
 *
 * An account is kept per (client prefix, response kind, name, and for
 * answers and NODATA the query type): the prefix is the client address cut
 * to ipv4_prefix_length / ipv6_prefix_length; the kind and the name come
 * from the engine (engine_result.kind and .rrl_name: the qname, or for
 * NXDOMAIN and referrals the zone apex or the cut; none for errors). Each
 * account earns its kind's per-second rate in credits every second and
 * is debited one response's cost per response; it holds at most one
 * second of credit and owes at most `window` seconds of it. While it is
 * not positive, responses are limited: every `slip`-th one goes out
 * truncated (TC=1, or BADCOOKIE to a client that sent a cookie), the
 * others are dropped; errors are never slipped (as BIND). A rate of 0
 * leaves that kind unlimited. log-only counts what would be limited and
 * sends everything.
 *
 * Exempt: exempt-clients prefixes, clients that presented a valid server
 * cookie (their address is proven, so they cannot be a reflection victim;
 * as BIND and gdnsd), and TCP (any transport but UDP: a handshake proves
 * the address).
 *
 * Several tables share one limit (rrl_conf.cores). RSS hashes whole
 * addresses, not prefixes, so the addresses of one /24 land on every
 * lcore: a spoofed flood from one prefix reaches each of N lcores with
 * about 1/N of its queries. Each table therefore charges a response N
 * credits (it enforces rate/N), and the prefix's total over the N lcores
 * stays at the configured rate, which is the amplification bound an
 * operator sets. A resolver that queries from one address lands on one
 * lcore and gets rate/N of identical responses per second there; a
 * caching resolver does not repeat one response that often, and when it
 * does, the slipped TC=1 sends it to TCP (not limited) and a cookie
 * exempts it. With one queue (no RSS) cores is 1.
 *
 * Memory: one fixed table allocated by rrl_create; rrl_check allocates
 * nothing, makes no system call and probes at most RRL_PROBE accounts,
 * replacing the least recently used one when none matches. Time comes
 * from the caller once per burst (rrl_begin).
 *
 * Threads: a table is used by one answering thread; rrl_stats_read and
 * rrl_report may run on another (the control plane).
 */
#ifndef POP53_RRL_H
#define POP53_RRL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

#define RRL_MAX_EXEMPT    32
#define RRL_TOP           16        /* prefixes tracked for the report */
#define RRL_PROBE         4         /* accounts looked at per response */
#define RRL_INHERIT       UINT32_MAX /* a kind's rate: as responses_per_second */
#define RRL_MAX_RATE      100000
#define RRL_MAX_WINDOW    3600
#define RRL_MAX_SLIP      10
#define RRL_MAX_CORES     64

/* An address prefix (exempt-clients, reports). */
struct rrl_prefix {
	uint8_t family;              /* AF_INET or AF_INET6 */
	uint8_t len;                 /* prefix length */
	uint8_t addr[16];            /* IPv4 in the first 4 bytes; bits after
				      * len are zero */
};

struct rrl_conf {
	uint32_t responses_per_second;   /* answers; 0 = not limited */
	uint32_t nodata_per_second;      /* NODATA (RRL_INHERIT) */
	uint32_t nxdomains_per_second;   /* NXDOMAIN (RRL_INHERIT) */
	uint32_t referrals_per_second;   /* referrals (RRL_INHERIT) */
	uint32_t errors_per_second;      /* REFUSED, FORMERR, ... (RRL_INHERIT) */
	uint32_t window;                 /* seconds, 1..3600 */
	uint32_t slip;                   /* 0 = drop all, 1 = truncate all, N */
	uint8_t ipv4_prefix_length;      /* 0..32 */
	uint8_t ipv6_prefix_length;      /* 0..128 */
	uint8_t log_only;
	uint32_t table_size;             /* accounts per table (rounded up to a
					  * power of two, at least 64) */
	unsigned cores;                  /* tables that share the limit (see
					  * above), 1..RRL_MAX_CORES */
	struct rrl_prefix exempt[RRL_MAX_EXEMPT];
	unsigned nexempt;
};

/* Counters of one table; the control plane sums them. Written by the
 * table's thread only, read with relaxed loads. */
struct rrl_stats {
	uint64_t limited[ENGINE_KIND_COUNT];  /* over the limit (log-only too) */
	uint64_t slipped[ENGINE_KIND_COUNT];  /* sent truncated / BADCOOKIE */
	uint64_t dropped[ENGINE_KIND_COUNT];
	uint64_t exempt;                      /* exempt-clients */
	uint64_t cookie_exempt;               /* valid server cookie */
	uint64_t evicted;                     /* accounts replaced while owing */
};

/* What to do with one response. */
enum rrl_action {
	RRL_SEND = 0,
	RRL_DROP,
	RRL_SLIP,                /* send engine_truncate()'s minimal response */
};

/* One prefix of the report: responses limited since the last report. */
struct rrl_report {
	struct rrl_prefix prefix;
	uint64_t limited;
};

struct rrl;

/* BIND's defaults for an authoritative server: 5 responses per second
 * (the ARM's example), the other kinds as responses, window 15, slip 2,
 * /24 and /56, 65536 accounts, one core, nothing exempt. */
void rrl_conf_init(struct rrl_conf *conf);

/* Check conf; P53_ERANGE (or P53_ELIMIT for too many exempt prefixes)
 * with the reason in err. */
int rrl_conf_check(const struct rrl_conf *conf, char *err, size_t errlen);

/* Parse "ADDR" or "ADDR/LEN" (IPv4 or IPv6) into out (bits after LEN
 * cleared). 0, or P53_ESYNTAX / P53_ERANGE. */
int rrl_prefix_parse(const char *text, struct rrl_prefix *out);

/* "192.0.2.0/24" into buf. Returns buf. */
const char *rrl_prefix_format(const struct rrl_prefix *p, char *buf, size_t len);

/* Make a table for conf (copied; checked as rrl_conf_check). *out is
 * owned by the caller (rrl_destroy). P53_ENOMEM, P53_ERANGE. */
int rrl_create(const struct rrl_conf *conf, struct rrl **out, char *err,
	       size_t errlen);

void rrl_destroy(struct rrl *t);

/* Start a burst at monotonic time now_s (seconds). Once per burst, by the
 * table's thread. */
void rrl_begin(struct rrl *t, uint32_t now_s);

/* Account one response to client c (not NULL; res: what engine_answer
 * said) and say what to do with it. A query the engine dropped (length 0,
 * kind ENGINE_KIND_NONE) may be passed: it is sent as it is (nothing) and
 * costs its client nothing. */
enum rrl_action rrl_check(struct rrl *t, const struct engine_client *c,
			  const struct engine_result *res);

/* One response of a burst for rrl_check_burst: the arguments of
 * rrl_check, and its result in action. */
struct rrl_job {
	const struct engine_client *client;
	const struct engine_result *res;
	uint8_t action;                 /* set: enum rrl_action */
};

#define RRL_BURST_MAX 64

/* rrl_check for jobs[0..n) (n <= RRL_BURST_MAX), with the same results,
 * in order. The accounts' hashes are computed and their buckets
 * prefetched first, so a burst pays about one memory latency, not one
 * per response.
 * Returns how many actions are not RRL_SEND (0: the caller has nothing
 * to drop or truncate). */
unsigned rrl_check_burst(struct rrl *t, struct rrl_job *jobs, unsigned n);

/* Add table t's counters to *sum (any thread). */
void rrl_stats_read(const struct rrl *t, struct rrl_stats *sum);

/*
 * The control plane's periodic log hook: the prefixes most limited, over
 * tables t[0..n), merged and sorted (most first), at most max into out.
 * A call reports the period that ended at the previous call (one period
 * late): a call asks each table to switch its collection buffer, which
 * the table does at its next burst, so neither side ever waits. Returns
 * the count.
 */
unsigned rrl_report(struct rrl *const *t, unsigned n, struct rrl_report *out,
		    unsigned max);

#endif
