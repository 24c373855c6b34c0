/*
 * dpdk.h — the DPDK I/O: EAL and port setup, one run-to-completion loop per
 * worker lcore (rx burst -> pkt_parse -> engine_answer in place ->
 * pkt_reply -> tx burst), snapshot publication with RCU (rte_rcu_qsbr),
 * per-lcore counters and heartbeats, and a clean stop.
 *
 * Built only when meson finds libdpdk (dataplane/meson.build: dpdk_dep).
 * Nothing here calls rte_exit/rte_panic: every failure is a p53_err code
 * with a message in the caller's buffer.
 *
 * The EAL is process-wide, so this module is one instance (static state):
 *   dp_init -> dp_port_setup -> dp_start -> (dp_publish, dp_stats)* -> dp_stop
 * dp_stop may be called after any failed step and cleans up what exists.
 * Only the control-plane thread (the one that called dp_init) calls these,
 * except dp_stats/dp_heartbeat, which any thread may call.
 *
 * Ports on net_af_xdp: start the PMD with xdp_prog=xdp_dns.o (the program
 * next to this file). dp_port_setup fills its service map ("p53_svc") once
 * the PMD has loaded it, so only UDP to the service addresses and port is
 * redirected to DPDK; everything else reaches the kernel. A program left
 * on the interface by a process that died is detached first; dp_stop
 * verifies the PMD's own detach and detaches what it left.
 *
 * Exception path (dp_conf.exception = DP_EXC_TAP) for ports that the
 * kernel no longer sees (a NIC bound to vfio-pci; in tests af_packet on a
 * veth whose kernel side is filtered): every frame with verdict PKT_KERNEL
 * (ARP, ND, ICMP, BGP, TCP/53, SSH...) is handed to the kernel through a
 * net_tap port, and what the kernel sends out of that TAP is transmitted
 * on the physical port. See dpdk.c ("exception path") for why TAP and not
 * virtio-user. af_xdp ports get none: their XDP program passes non-DNS
 * frames to the kernel already.
 */
#ifndef POP53_DPDK_H
#define POP53_DPDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "pkt.h"
#include "rrl.h"
#include "snap.h"

#define DP_MAX_WORKERS 32
#define DP_MAX_PORTS   8
#define DP_BURST       32
#define DP_RCODES      17   /* RCODE 0..15, [16]: extended (BADVERS...) */
#define DP_POLICY_KINDS ENGINE_POLICY_KINDS   /* ENGINE_POLICY_* bits counted */

/* An address for the kernel side of an exception port (the link address;
 * the service addresses are added as /32 and /128 on their own). */
struct dp_prefix {
	uint8_t family;              /* AF_INET or AF_INET6 */
	uint8_t len;                 /* prefix length */
	uint8_t addr[16];
};

#define DP_MAX_EXC_ADDRS 16

enum dp_exception {
	DP_EXC_NONE = 0,             /* PKT_KERNEL frames are dropped (counted) */
	DP_EXC_TAP,                  /* ... go to a net_tap port per physical port */
};

struct dp_conf {
	struct pkt_services svc;     /* service addresses and port */
	/* Answering options, copied into each worker. engine.cookies (the
	 * DNS cookie secrets' holder, which the caller keeps and swaps) must
	 * outlive dp_stop; engine.now is the workers' own: each sets it
	 * from the TSC once per burst. */
	struct engine_conf engine;
	/* Response rate limiting: with rrl_on, each worker gets its own table
	 * for rrl (rrl.cores is set here: the number of RSS queues, see
	 * rrl.h). Limited responses are dropped or slipped (engine_truncate)
	 * after engine_answer_burst. */
	int rrl_on;
	struct rrl_conf rrl;
	unsigned nb_desc;            /* RX and TX ring size, 0 = 1024 */
	unsigned nb_mbufs;           /* mbuf pool size, 0 = sized from queues */
	/* Number of workers, 0 = one per EAL worker lcore (-l). A non-zero
	 * value without dp_start lets tests drive workers with dp_poll. */
	unsigned nworkers;
	/* Exception path for every port that is not af_xdp. The kernel
	 * interface is called exc_ifname (the first such port; the others
	 * exc_ifname followed by their port number; NULL: "p53x" and the port
	 * number), has the physical port's MAC address, is up and carries the
	 * service addresses (/32, /128) plus exc_addr[]. It disappears when
	 * the port is closed (dp_stop) or the process dies. */
	enum dp_exception exception;
	const char *exc_ifname;
	struct dp_prefix exc_addr[DP_MAX_EXC_ADDRS];
	unsigned nexc_addr;
};

/* Counters of one worker (or their sum). Written by one lcore only, read
 * racily (relaxed) by dp_stats: no atomics on the hot path. */
struct dp_stats {
	uint64_t rx;                 /* frames received */
	uint64_t tx;                 /* responses sent */
	uint64_t answers;            /* responses built */
	uint64_t rcode[DP_RCODES];   /* responses per RCODE */
	uint64_t drop[PKT_VERDICT_COUNT]; /* frames dropped per pkt verdict
	                              * ([PKT_KERNEL]: not ours; with the XDP
	                              * program only stray frames) */
	uint64_t drop_multiseg;      /* multi-segment mbufs */
	uint64_t drop_engine;        /* engine_answer returned 0 */
	uint64_t tx_fail;            /* responses not sent after retries */
	uint64_t exc_in;             /* frames handed to the kernel (exception TX) */
	uint64_t exc_drop;           /* PKT_KERNEL frames dropped: exception TX full */
	uint64_t exc_out;            /* frames the kernel sent (exception RX) ... */
	uint64_t exc_out_sent;       /* ... and of those, sent on the physical port */
	uint64_t policy[DP_POLICY_KINDS]; /* responses with engine_result.policy
	                              * bit i (answered, fail-open, last-resort,
	                              * empty), as srv_stats.policy */
	struct rrl_stats rrl;        /* rate limiting (limited, slipped, dropped) */
	uint64_t heartbeat;          /* loop iterations (liveness) */
} __attribute__((aligned(64)));

/* Initialise the EAL with argv (argv[0] is the program name). err gets a
 * message on failure. P53_EINVAL for bad EAL arguments, P53_EIO else;
 * P53_ESTATE when called twice. */
int dp_init(int argc, char **argv, char *err, size_t errlen);

/* Configure and start every probed port: one RX and one TX queue per
 * worker (RSS on IP addresses when the port has it and there are several
 * workers, else one queue served by worker 0), checksum offloads when
 * dev_info offers them, the mbuf pool, the RCU variable and, on af_xdp
 * ports, the XDP program's service map; with conf->exception, the
 * exception ports (created, started, addressed). P53_ENOTFOUND when there
 * is no port or no worker lcore. */
int dp_port_setup(const struct dp_conf *conf, char *err, size_t errlen);

/* Launch the worker loops on the EAL worker lcores, answering from s
 * (NULL: SERVFAIL until dp_publish). */
int dp_start(const struct snap *s, char *err, size_t errlen);

/* Publish s to every worker (one atomic store), then wait up to timeout_ms
 * for every worker to pass a quiescent state. Returns 0 and *old (the
 * snapshot published before, which no worker uses any more: the caller
 * may free it), or P53_ETIMEOUT with *old = NULL when a worker did not
 * report in time (a hung worker: the old snapshot must then be leaked). */
int dp_publish(const struct snap *s, const struct snap **old, unsigned timeout_ms);

/* The snapshot workers currently answer from. */
const struct snap *dp_current(void);

/* One iteration of worker w's loop on the calling thread: poll its queues
 * once, answer, transmit, report quiescence. Returns frames received.
 * For tests (dp_conf.nworkers without dp_start); the lcores call it too. */
unsigned dp_poll(unsigned w);

/* Number of workers after dp_port_setup. */
unsigned dp_workers(void);

/* Sum of every worker's counters into *total. */
void dp_stats(struct dp_stats *total);
/* Counters of worker w alone (zero if no such worker). */
void dp_worker_stats(unsigned w, struct dp_stats *out);

/* The control plane's periodic RRL log hook: the prefixes most limited
 * by all workers in the last period, at most max into out (rrl_report).
 * Returns the count (0 without RRL). */
unsigned dp_rrl_report(struct rrl_report *out, unsigned max);

/* Suspend (true) or resume (false) rate limiting on every worker from its
 * next burst: while suspended every response goes out unaccounted. Lets a
 * benchmark measure RRL's own cost in one process, alternating (bench/
 * dpdk-mem-bench -A); no control command calls it yet. No effect without
 * RRL. */
void dp_rrl_suspend(bool suspended);

/* Wait up to timeout_ms until every worker has passed a quiescent state
 * (started a new burst) since the call: what they read before, e.g.
 * cookie secrets replaced through cookie_box_set, may then be freed.
 * 0, or P53_ETIMEOUT (a hung worker: leak it). */
int dp_sync(unsigned timeout_ms);

/* Heartbeat of worker w: grows while its loop runs (0 if no such worker). */
uint64_t dp_heartbeat(unsigned w);

/* Fault injection for tests and demos: worker w stops looping for ms
 * milliseconds at its next iteration (as a worker stuck in a bug would),
 * then carries on. 0 or P53_EINVAL. */
int dp_stall(unsigned w, unsigned ms);

/* Whether every started port has link: 1 yes, 0 no (the first port
 * without link's id goes to *down), for the health check. Never blocks. */
int dp_ports_up(unsigned *down);

/* Canary: the health check's query through a worker's own loop. The
 * control plane hands worker w a query frame (pkt_build); in its next loop
 * iteration the worker answers it as it answers a received frame
 * (pkt_parse against the service addresses, the engine on the snapshot it
 * serves, pkt_reply) and keeps the response frame for dp_canary_recv. One
 * canary per worker at a time; a worker that does not answer is stalled.
 * The worker's cost is one relaxed load per loop iteration. */
#define DP_CANARY_MAX 512

/* 0, P53_EINVAL (no such worker, frame too long), P53_ESTATE (the last
 * canary is not answered yet: nothing is sent, it may be being read). */
int dp_canary_send(unsigned w, const uint8_t *frame, size_t len);

/* The response frame of worker w's canary into out (cap bytes): its
 * length, 0 when not answered yet, P53_ENOTFOUND when the worker dropped
 * it (not a DNS query for us, or the engine dropped it). */
int dp_canary_recv(unsigned w, uint8_t *out, size_t cap);

/* Stop the workers, stop and close every port (the af_xdp PMD detaches its
 * XDP program; what it leaves is detached here), free the pool and clean
 * up the EAL. Safe to call in any state; the EAL cannot be initialised
 * again afterwards. Returns the snapshot that was published last (for the
 * caller to free). */
const struct snap *dp_stop(void);

/* EAL lcore id of worker w, for per-lcore metrics (RTE_MAX_LCORE when w is
 * not running on an lcore: driven by dp_poll, or no such worker). */
unsigned dp_worker_lcore(unsigned w);

#endif
