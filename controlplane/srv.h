/*
 * srv.h — the kernel-socket DNS server: UDP and TCP (RFC 7766) on plain
 * sockets, answering through the same engine and snapshot as the DPDK path.
 *
 * UDP runs one thread per core, each with its own SO_REUSEPORT socket per
 * listen address, moving batches with recvmmsg/sendmmsg. TCP runs in one
 * thread with epoll: length-prefixed messages, several queries per
 * connection answered in order, an idle timeout and a connection limit.
 * In DPDK mode only the TCP half runs (UDP belongs to the lcores).
 */
#ifndef POP53_SRV_H
#define POP53_SRV_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "engine.h"
#include "rrl.h"
#include "snap.h"

#define SRV_MAX_LISTEN 16

struct srv_listen {
	struct sockaddr_storage addr;
	socklen_t len;
};

struct srv_conf {
	struct srv_listen listen[SRV_MAX_LISTEN];
	size_t nlisten;
	unsigned udp_threads;        /* 0 = one per online CPU; none if no_udp */
	int no_udp;                  /* DPDK mode: TCP only */
	unsigned tcp_max_conns;      /* 0 = 1024 */
	unsigned tcp_idle_ms;        /* 0 = 10000 (RFC 7766 6.2.3: seconds) */
	struct engine_conf engine;
	int rrl_on;                  /* rate limit UDP answers (never TCP) */
	struct rrl_conf rrl;         /* cores is set per thread count */
};

#define SRV_RCODES 17            /* RCODE 0..15, [16]: extended (BADVERS...) */
/* policy[i] counts responses with engine_result.policy bit i:
 * ENGINE_POLICY_ANSWERED, _FAIL_OPEN, _LAST_RESORT, _EMPTY. */
#define SRV_POLICY_KINDS ENGINE_POLICY_KINDS

/* Counters of one thread, summed on demand; written by that thread only
 * (no atomics: readers see them a little late, never torn on 64-bit). */
struct srv_stats {
	uint64_t queries;
	uint64_t responses;
	uint64_t dropped;            /* every query left unanswered: */
	uint64_t drop_engine;        /* ... the engine gave no answer (malformed,
				      * a response, ...) */
	uint64_t drop_oversize;      /* ... a datagram over the receive buffer */
	uint64_t drop_send;          /* ... sendmmsg / send failed */
	uint64_t drop_rrl;           /* ... rate limited (RRL drop) */
	uint64_t rcode[SRV_RCODES];
	uint64_t tcp_conns;
	uint64_t tcp_refused;        /* over the connection limit */
	uint64_t tcp_timeouts;
	uint64_t policy[SRV_POLICY_KINDS];  /* traffic-policy responses */
} __attribute__((aligned(64)));

struct srv;

/* The snapshot the server answers from: published by the control plane
 * with one atomic store; the server never frees it. A publisher that
 * replaces it calls srv_synchronize before freeing the old one: each
 * thread reads the pointer once per batch (a UDP recvmmsg batch, the
 * complete messages of one TCP read) inside a read-side section marked by
 * its own epoch counter (odd: inside), and never blocks inside one. */
typedef _Atomic(const struct snap *) srv_snap_ptr;

/* Parse "ADDR@PORT" (IPv4 or IPv6, "@PORT" optional: 53) into l.
 * Returns 0 or P53_EINVAL. */
int srv_parse_listen(const char *text, struct srv_listen *l);

/* Bind every listen address (UDP and TCP) and start the threads; *snap is
 * read for every batch. Returns 0 and *out, or P53_EIO (errno tells; the
 * message names the address) with nothing left running. */
int srv_start(const struct srv_conf *conf, srv_snap_ptr *snap,
	      struct srv **out, char *err, size_t errlen);

/* Wait until every server thread that was inside a read-side section
 * when called has left it: a snapshot pointer replaced before the call is
 * then no longer in use and may be freed. Threads waiting in epoll_wait
 * hold nothing and are not waited for. Returns 0, or P53_ETIMEOUT after
 * timeout_ms (a stuck thread: the old snapshot must not be freed). */
int srv_synchronize(struct srv *s, unsigned timeout_ms);

/* Sum the counters of every thread into *total. */
void srv_stats(const struct srv *s, struct srv_stats *total);

/* The same, split by transport: the UDP threads into *udp, the TCP thread
 * into *tcp. */
void srv_stats_split(const struct srv *s, struct srv_stats *udp, struct srv_stats *tcp);

/* Stop every thread, close every socket, free s. NULL is fine. */
void srv_stop(struct srv *s);

/* Rate limiting counters of every UDP thread, summed. */
void srv_rrl_stats(const struct srv *s, struct rrl_stats *sum);

/* The prefixes limited most in the last period (rrl_report). */
unsigned srv_rrl_report(struct srv *s, struct rrl_report *out, unsigned max);

/* Fault injection for tests and demos: every UDP thread stops answering
 * for ms milliseconds when it next wakes (as a thread stuck in a bug
 * would). 0, or P53_EINVAL (no UDP threads, ms 0). */
int srv_stall(struct srv *s, unsigned ms);

#endif
