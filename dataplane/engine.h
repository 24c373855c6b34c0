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

enum engine_transport { ENGINE_UDP = 0, ENGINE_TCP = 1 };

/* Who asked: source address and transport. */
struct engine_client {
	uint8_t family;          /* AF_INET or AF_INET6 */
	uint8_t transport;       /* enum engine_transport */
	uint16_t port;           /* host order */
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
	ENGINE_KIND_COUNT
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

/* Details of one engine_answer() call. */
struct engine_result {
	uint16_t rcode;          /* full 12-bit RCODE incl. EDNS extension */
	uint8_t kind;            /* enum engine_kind */
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
	uint8_t cookie;          /* enum engine_cookie */
	/* Layout of the response, for engine_truncate: where the question
	 * ends, and where our OPT RR sits (opt_len 0: none). Zero when the
	 * response is dropped. */
	uint16_t qend;
	uint16_t opt_off;
	uint16_t opt_len;
};

/* Fill conf with the defaults (payload 1232, no NSID, no CHAOS). */
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
 * res (may be NULL) receives the details.
 */
size_t engine_answer(const struct engine_conf *conf, const struct snap *s,
		     const uint8_t *q, size_t qlen, const struct engine_client *c,
		     uint8_t *out, size_t cap, struct engine_result *res);

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
 * Works in place; returns the new length, or 0 when res does not
 * describe r (drop it).
 */
size_t engine_truncate(uint8_t *r, size_t len, const struct engine_result *res,
		       int badcookie);

#endif
