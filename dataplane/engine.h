/*
 * engine.h — the DNS answer engine: one query in, one response out.
 *
 * Every door (DPDK lcores, kernel UDP/TCP, tests, fuzzers) calls
 * engine_answer() with the snapshot it holds. The engine allocates nothing,
 * takes no locks and makes no system calls; it reads the snapshot and
 * writes the response into the caller's buffer.
 */
#ifndef POP53_ENGINE_H
#define POP53_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "cookie.h"
#include "snap.h"

#define ENGINE_UDP_PAYLOAD_DEFAULT 1232   /* DNS flag day 2020 */
#define ENGINE_MAX_RESPONSE        65535
/* What the big public resolvers send at most (RFC 7871 11.1 asks for no
 * more): longer ECS source prefixes are cut to these by default. */
#define ENGINE_ECS_V4_CAP          24
#define ENGINE_ECS_V6_CAP          56

enum engine_transport { ENGINE_UDP = 0, ENGINE_TCP = 1 };

/* Who asked: source address and transport. */
struct engine_client {
	uint8_t family;          /* AF_INET or AF_INET6 */
	uint8_t transport;       /* enum engine_transport */
	uint16_t port;           /* host order */
	uint8_t addr[16];        /* IPv4 in the first 4 bytes */
};

/*
 * Where the client is, for answers that depend on it (traffic policies):
 * with ECS on and a valid ECS option in the query, its source prefix
 * (capped, bits beyond it zero); else the packet's source address at full
 * length. ENGINE_LOC_NONE: unknown (ECS SOURCE PREFIX-LENGTH 0 asks that
 * no address be used, RFC 7871 7.1.2; or no client given): policies use
 * their default, and the answer does not depend on the client.
 */
enum engine_loc_from { ENGINE_LOC_NONE = 0, ENGINE_LOC_ADDR, ENGINE_LOC_ECS };

struct engine_loc {
	uint8_t from;            /* enum engine_loc_from */
	uint8_t family;          /* AF_INET or AF_INET6; 0 with ENGINE_LOC_NONE */
	uint8_t len;             /* prefix length: the bits of addr that count */
	uint8_t addr[16];        /* IPv4 in the first 4 bytes */
};

/* Server-wide answering options; read-only while queries run. */
struct engine_conf {
	uint16_t udp_payload;    /* our EDNS UDP payload size (512..4096) */
	const uint8_t *nsid;     /* NSID option payload, NULL = off */
	uint16_t nsid_len;
	const char *version;     /* CH TXT version.bind/version.server, NULL = REFUSED */
	const char *identity;    /* CH TXT id.server/hostname.bind, NULL = REFUSED */
	uint8_t interleave;      /* enum engine_interleave, for bursts */
	/* EDNS Client Subnet (RFC 7871, docs/ecs.md). Off (0, the default,
	 * as RFC 7871 11.3 asks): the option is ignored like any unknown one
	 * and never echoed. On: it is checked (FORMERR when malformed),
	 * echoed, and locates the client for answers that depend on it. */
	uint8_t ecs;
	/* The longest SOURCE PREFIX-LENGTH taken as sent, per family: a
	 * longer one counts as this long (the echo still repeats the
	 * query's). 0 = ENGINE_ECS_V4_CAP / ENGINE_ECS_V6_CAP; values over
	 * the family's width mean the width. */
	uint8_t ecs_v4_cap;
	uint8_t ecs_v6_cap;
	/* Tests only, until traffic policies set the scope themselves: the
	 * SCOPE PREFIX-LENGTH every IN answer with records claims. 0 in
	 * service. */
	uint8_t ecs_scope_test;
	/* DNS Cookies (RFC 7873/9018): the secrets' holder, which the control
	 * plane swaps atomically (NULL, or holding NULL: cookies off, the
	 * COOKIE option is ignored). */
	const struct cookie_box *cookies;
	/* Unix time in seconds for cookie timestamps. Set by the caller once
	 * per burst (each answering thread owns its engine_conf copy): the
	 * engine never reads a clock. */
	uint32_t now;
};

/* Whether engine_answer_burst interleaves the lookups of a burst. */
enum engine_interleave {
	ENGINE_INTERLEAVE_AUTO = 0,  /* when the snapshot outgrows the caches */
	ENGINE_INTERLEAVE_ALWAYS,    /* tests, fuzzers, benchmarks */
	ENGINE_INTERLEAVE_NEVER,
};

/* What kind of response was produced, for RRL and metrics. */
enum engine_kind {
	ENGINE_KIND_ANSWER = 0,  /* positive answer (incl. CNAME/DNAME/wildcard) */
	ENGINE_KIND_REFERRAL,
	ENGINE_KIND_NODATA,
	ENGINE_KIND_NXDOMAIN,
	ENGINE_KIND_ERROR,       /* FORMERR, REFUSED, NOTIMP, BADVERS, ... */
	ENGINE_KIND_COUNT,
	/* No response: the query is dropped (length 0). Past the count, as
	 * nothing is sent to count or rate-limit. */
	ENGINE_KIND_NONE = 0xff
};

/* What the query's COOKIE option proved (with cookies on). */
enum engine_cookie {
	ENGINE_COOKIE_NONE = 0,  /* no COOKIE option, or cookies off */
	ENGINE_COOKIE_CLIENT,    /* a client cookie only */
	ENGINE_COOKIE_BAD,       /* a server cookie that is not valid (not
				  * ours, or expired) */
	ENGINE_COOKIE_VALID,     /* a valid server cookie: the source address
				  * is not spoofed */
};

#define ENGINE_RCODE_BADCOOKIE 23   /* RFC 7873 8 */

/* What became of the query's EDNS Client Subnet option (with ECS on). */
enum engine_ecs {
	ENGINE_ECS_NONE = 0,     /* none, ECS off, or not processed (BADVERS,
				  * NOTIMP without a question) */
	ENGINE_ECS_ECHO,         /* valid: the response carries it back */
	ENGINE_ECS_BAD,          /* malformed or repeated: FORMERR (NOTIMP
				  * for another opcode), no echo */
};

/* engine_result.policy: what traffic policies did for this response. */
#define ENGINE_POLICY_ANSWERED    (1u << 0)  /* a policy RRset was evaluated */
#define ENGINE_POLICY_FAIL_OPEN   (1u << 1)  /* ... with no healthy member */
#define ENGINE_POLICY_LAST_RESORT (1u << 2)  /* ... answered a last resort */
#define ENGINE_POLICY_EMPTY       (1u << 3)  /* ... and chose nothing (NODATA) */
#define ENGINE_POLICY_UNRESOLVED  (1u << 4)  /* ... chose an out-of-zone alias whose
					      * addresses are not known yet (SERVFAIL) */
#define ENGINE_POLICY_KINDS       5          /* the bits above, for counters */

/* Details of one engine_answer() call. */
struct engine_result {
	uint16_t rcode;          /* full 12-bit RCODE incl. EDNS extension */
	uint8_t kind;            /* enum engine_kind; NONE when dropped */
	uint8_t truncated;       /* TC was set */
	uint8_t edns;            /* the query had an OPT record */
	uint8_t do_bit;          /* the query had DO=1 */
	uint16_t qtype;
	const struct snap_zone *zone;  /* zone answered from, NULL if none */
	/* Response name for RRL accounting: qname (lower-cased wire) or, for
	 * NXDOMAIN/referrals, the zone apex or cut it falls under. It points
	 * into the snapshot (valid while the snapshot is held): for a
	 * wildcard or DNAME answer it is that wildcard or DNAME owner, as no
	 * node holds the qname. NULL for errors and CHAOS answers. */
	const uint8_t *rrl_name;
	uint8_t rrl_name_len;
	/* snap_name_hash of rrl_name when the engine had it at hand (the
	 * qname's, made by its lookup), else 0: a user keying on the name
	 * computes it. */
	uint32_t rrl_hash;
	uint8_t cookie;          /* enum engine_cookie */
	uint8_t ecs;             /* enum engine_ecs */
	uint8_t ecs_scope;       /* the echo's SCOPE PREFIX-LENGTH */
	uint8_t policy;          /* ENGINE_POLICY_* (traffic-policy answers) */
	/* Layout of the response, for engine_truncate: where the question
	 * ends, and where our OPT RR sits (opt_len 0: none). Zero when the
	 * response is dropped. */
	uint16_t qend;
	uint16_t opt_off;
	uint16_t opt_len;
};

/* Fill conf with the defaults (payload 1232, no NSID, no CHAOS, no ECS;
 * ECS caps /24 and /56). */
void engine_conf_init(struct engine_conf *conf);

/*
 * Answer query q (qlen bytes, a DNS message without any TCP length prefix)
 * from snapshot s (NULL while none is loaded: queries get SERVFAIL) into
 * out (cap bytes; over UDP the client's EDNS limit, or 512, also applies).
 * Returns the response length (> 0), or 0 when the query must be dropped
 * silently (QR=1, shorter than a header) or cap cannot hold even the
 * header and question. Malformed queries get FORMERR (with the question
 * when it parsed). conf NULL means the defaults, c NULL means UDP.
 * out may be q itself (answering in place, in the packet buffer); any
 * other overlap is not allowed.
 * With cookies on (conf->cookies holding secrets, c given), a COOKIE
 * option is answered per RFC 7873 5.2: a malformed one is FORMERR, any
 * other gets the client cookie back with a fresh server cookie (RFC 9018)
 * and a normal answer; res->cookie says whether its server cookie was
 * valid. A query without a question but with a cookie (5.4) gets NOERROR,
 * or BADCOOKIE when its server cookie is not valid.
 * With conf->ecs on, an EDNS Client Subnet option (RFC 7871) that is
 * malformed, or a second one, gets FORMERR (with an OPT); a valid one is
 * echoed in every response that has an OPT (BADVERS aside), with SCOPE
 * PREFIX-LENGTH 0 unless the answer section depends on the client.
 * With DO=1, answers from a signed zone (RFC 4035 3.1, RFC 5155 7.2, as
 * Knot DNS sends them) carry the RRSIGs of every RRset in answer and
 * authority (additional records get theirs when they fit), the DS and its
 * RRSIG or the NSEC (or NSEC3) of the cut in referrals, and NSEC or NSEC3
 * proofs for NXDOMAIN, NODATA and wildcard answers (an NSEC3 zone hashes
 * up to three names per answer); what must be there and does not fit sets
 * TC. AD is never set, CD is copied. DO=0 answers are the same bytes as
 * from the zone unsigned, except that NSEC3 owner names do not exist (RFC
 * 5155 7.2.8).
 * res (may be NULL) receives the details.
 */
size_t engine_answer(const struct engine_conf *conf, const struct snap *s,
		     const uint8_t *q, size_t qlen, const struct engine_client *c,
		     uint8_t *out, size_t cap, struct engine_result *res);

/*
 * The client location (struct engine_loc) engine_answer would go by for
 * query q from client c (NULL: none known): for tools and tests, not for
 * the query path. Returns 0 with *loc set when the query would get an
 * answer, the RCODE of the error it gets instead (> 0: FORMERR for a
 * malformed ECS option, ...), or -1 when it would be dropped.
 */
int engine_locate(const struct engine_conf *conf, const uint8_t *q,
		  size_t qlen, const struct engine_client *c,
		  struct engine_loc *loc);

/* One query of a burst for engine_answer_burst: the arguments of
 * engine_answer, and its return value in len. */
struct engine_job {
	const uint8_t *q;
	size_t qlen;
	const struct engine_client *client;
	uint8_t *out;                   /* may be q, as for engine_answer */
	size_t cap;
	struct engine_result *res;      /* may be NULL */
	size_t len;                     /* set: response length, 0 = drop */
};

#define ENGINE_BURST_MAX 64

/*
 * engine_answer for jobs[0..n) (n <= ENGINE_BURST_MAX), with the same
 * responses. When the snapshot is too big for the CPU caches, the
 * lookups of the burst are interleaved (snap_lookup_burst) so that their
 * cache misses overlap: an rx burst costs about one memory latency per
 * lookup step instead of one per query and step.
 */
void engine_answer_burst(const struct engine_conf *conf, const struct snap *s,
			 struct engine_job *jobs, size_t n);

/*
 * Turn response r (len bytes, as engine_answer wrote it, res its result)
 * into the minimal response RRL sends when it slips: header, question
 * and our OPT RR (with the cookie) only, TC=1 so that a real client
 * retries over TCP (as BIND does). With badcookie, when the query carried
 * a COOKIE option, the response is BADCOOKIE with the fresh server cookie
 * instead of TC (as BIND: the client retries over UDP with the cookie).
 * The OPT RR is moved untouched: an ECS echo keeps its SCOPE (resolvers
 * retry such a response rather than cache it, RFC 7871 7.3; the retry
 * gets the answer's own).
 * Works in place; returns the new length, or 0 when res does not
 * describe r (drop it).
 */
size_t engine_truncate(uint8_t *r, size_t len, const struct engine_result *res,
		       int badcookie);

#endif
