/*
 * dpdk.c — EAL, ports, worker loops, RCU snapshot publication.
 *
 * Hot path (dp_poll): no allocation, no locks, no system calls, no logs.
 * Counters are plain per-worker fields, each worker's on its own cache
 * lines, bumped through a single-writer relaxed store (a plain add on
 * x86) so that dp_stats may read them from another thread.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <net/if.h>
#include <sys/socket.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>

#include "dpdk.h"
#include "error.h"
#include "xdp_dns.h"

#define DP_TX_RETRIES 4
#define DP_DEFAULT_DESC 1024
#define DP_MIN_MBUFS 8191
#define DP_MBUF_CACHE 256

/* One RX/TX queue pair a worker serves. */
struct dp_queue {
	uint16_t port;
	uint16_t queue;
	unsigned pkt_tx;             /* PKT_TX_* the port computes */
	uint64_t ol_v4, ol_v6;       /* mbuf TX flags for them */
};

struct dp_worker {
	struct dp_stats st;          /* written by this worker only */
	unsigned id;
	unsigned lcore;              /* RTE_MAX_LCORE when driven by dp_poll */
	unsigned nq;
	struct dp_queue q[DP_MAX_PORTS];
} __attribute__((aligned(64)));

enum dp_state { DP_NONE = 0, DP_EAL, DP_PORTS, DP_RUNNING, DP_STOPPED };

static struct {
	enum dp_state state;
	struct pkt_services svc;
	struct engine_conf engine;
	struct rte_mempool *pool;
	struct rte_rcu_qsbr *qsbr;
	struct dp_worker *w;         /* nworkers, rte_zmalloc'ed */
	unsigned nworkers;
	uint16_t ports[DP_MAX_PORTS];
	unsigned nports;
	unsigned port_started[DP_MAX_PORTS];
	int xdp_ifindex[DP_MAX_PORTS];   /* af_xdp ports: interface, else 0 */
	_Atomic(const struct snap *) snap;
	atomic_int run;
} dp;

static void msg(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void msg(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Single-writer counter update, readable by other threads. */
#define CNT_ADD(field, n) \
	__atomic_store_n(&(field), (field) + (uint64_t)(n), __ATOMIC_RELAXED)

/* ---- EAL ---------------------------------------------------------------- */

int dp_init(int argc, char **argv, char *err, size_t errlen)
{
	int ret;

	if (dp.state != DP_NONE) {
		msg(err, errlen, "DPDK: EAL already initialised");
		return P53_ESTATE;
	}
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		int e = rte_errno;
		msg(err, errlen, "DPDK: EAL initialisation failed: %s", rte_strerror(e));
		return e == EINVAL ? P53_EINVAL : P53_EIO;
	}
	dp.state = DP_EAL;
	return 0;
}

/* ---- XDP helpers -------------------------------------------------------- */

static int is_af_xdp(const struct rte_eth_dev_info *info)
{
	return info->driver_name && strcmp(info->driver_name, "net_af_xdp") == 0;
}

static uint32_t xdp_prog_id(int ifindex)
{
	uint32_t id = 0;

	if (bpf_xdp_query_id(ifindex, 0, &id) < 0)
		return 0;
	return id;
}

/* Detach whatever XDP program sits on ifindex (left by a dead process). */
static void xdp_detach_stale(int ifindex, const char *why)
{
	char name[IF_NAMESIZE] = "?";
	uint32_t id = xdp_prog_id(ifindex);

	if (!id)
		return;
	if_indextoname((unsigned)ifindex, name);
	fprintf(stderr, "pop53d: %s: XDP program %u on %s: detaching it\n", why, id, name);
	if (bpf_xdp_detach(ifindex, 0, NULL) < 0)
		fprintf(stderr, "pop53d: cannot detach XDP program from %s: %s\n", name,
			strerror(errno));
}

/* Find the map named name among the maps of the XDP program on ifindex.
 * Returns its fd or -1. */
static int xdp_find_map(int ifindex, const char *name, uint32_t *prog_id)
{
	struct bpf_prog_info pinfo;
	uint32_t ids[64], len, id;
	int pfd, fd = -1;

	*prog_id = id = xdp_prog_id(ifindex);
	if (!id || (pfd = bpf_prog_get_fd_by_id(id)) < 0)
		return -1;
	memset(&pinfo, 0, sizeof(pinfo));
	pinfo.nr_map_ids = 64;
	pinfo.map_ids = (uint64_t)(uintptr_t)ids;
	len = sizeof(pinfo);
	if (bpf_obj_get_info_by_fd(pfd, &pinfo, &len) == 0) {
		for (uint32_t i = 0; i < pinfo.nr_map_ids && i < 64 && fd < 0; i++) {
			struct bpf_map_info minfo;
			uint32_t mlen = sizeof(minfo);
			int mfd = bpf_map_get_fd_by_id(ids[i]);

			if (mfd < 0)
				continue;
			memset(&minfo, 0, sizeof(minfo));
			if (bpf_obj_get_info_by_fd(mfd, &minfo, &mlen) == 0 &&
			    strcmp(minfo.name, name) == 0 &&
			    minfo.value_size == sizeof(struct xdp_dns_svc))
				fd = mfd;
			else
				close(mfd);
		}
	}
	close(pfd);
	return fd;
}

/* Tell the XDP program on ifindex which frames to redirect. */
static int xdp_fill_services(int ifindex, const struct pkt_services *svc,
			     char *err, size_t errlen)
{
	struct xdp_dns_svc v;
	char name[IF_NAMESIZE] = "?";
	uint32_t key = 0, prog = 0;
	int fd;

	if_indextoname((unsigned)ifindex, name);
	fd = xdp_find_map(ifindex, XDP_DNS_SVC_MAP, &prog);
	if (fd < 0) {
		/* The PMD's default program redirects everything: the kernel
		 * then sees no ARP/ND and the host falls off the network. */
		msg(err, errlen, "DPDK: the XDP program on %s (id %u) has no '%s' map: "
		    "start net_af_xdp with xdp_prog=xdp_dns.o", name, prog, XDP_DNS_SVC_MAP);
		return P53_ENOTFOUND;
	}
	memset(&v, 0, sizeof(v));
	v.n4 = svc->n4;
	v.n6 = svc->n6;
	memcpy(v.v4, svc->v4, sizeof(v.v4));
	memcpy(v.v6, svc->v6, sizeof(v.v6));
	v.port = rte_cpu_to_be_16(svc->port);
	if (bpf_map_update_elem(fd, &key, &v, BPF_ANY) < 0) {
		msg(err, errlen, "DPDK: cannot fill the XDP service map on %s: %s", name,
		    strerror(errno));
		close(fd);
		return P53_EIO;
	}
	close(fd);
	return 0;
}

/* ---- ports -------------------------------------------------------------- */

static int setup_port(uint16_t pid, unsigned nb_desc, unsigned *nq_out,
		      char *err, size_t errlen)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	struct rte_eth_rxconf rxc;
	struct rte_eth_txconf txc;
	uint16_t nrx = (uint16_t)nb_desc, ntx = (uint16_t)nb_desc;
	unsigned nq = 1, pkt_tx = 0;
	int socket = rte_eth_dev_socket_id(pid), ret;

	if (socket < 0)
		socket = (int)rte_socket_id();
	if ((ret = rte_eth_dev_info_get(pid, &info)) != 0) {
		msg(err, errlen, "DPDK: port %u: no device info: %s", pid, rte_strerror(-ret));
		return P53_EIO;
	}
	memset(&conf, 0, sizeof(conf));
	if (dp.nworkers > 1 && (info.flow_type_rss_offloads & RTE_ETH_RSS_IP)) {
		nq = RTE_MIN(dp.nworkers, (unsigned)RTE_MIN(info.max_rx_queues, info.max_tx_queues));
		if (nq > 1) {
			conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
			conf.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_IP & info.flow_type_rss_offloads;
		} else {
			nq = 1;
		}
	}
	if ((info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM))
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
	if ((info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_UDP_CKSUM))
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	if ((info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM)) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
		pkt_tx |= PKT_TX_IP_CKSUM;
	}
	if ((info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM)) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
		pkt_tx |= PKT_TX_UDP_CKSUM;
	}
	if (is_af_xdp(&info) && info.if_index > 0)
		xdp_detach_stale((int)info.if_index, "left over from an earlier run");
	if ((ret = rte_eth_dev_configure(pid, (uint16_t)nq, (uint16_t)nq, &conf)) != 0) {
		msg(err, errlen, "DPDK: port %u (%s): configure with %u queues failed: %s",
		    pid, info.driver_name, nq, rte_strerror(-ret));
		return P53_EIO;
	}
	if ((ret = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nrx, &ntx)) != 0) {
		msg(err, errlen, "DPDK: port %u: descriptor counts: %s", pid, rte_strerror(-ret));
		return P53_EIO;
	}
	rxc = info.default_rxconf;
	rxc.offloads = conf.rxmode.offloads;
	txc = info.default_txconf;
	txc.offloads = conf.txmode.offloads;
	for (unsigned q = 0; q < nq; q++) {
		if ((ret = rte_eth_rx_queue_setup(pid, (uint16_t)q, nrx, (unsigned)socket, &rxc,
						  dp.pool)) != 0) {
			msg(err, errlen, "DPDK: port %u (%s): RX queue %u: %s", pid,
			    info.driver_name, q, rte_strerror(-ret));
			return P53_EIO;
		}
		if ((ret = rte_eth_tx_queue_setup(pid, (uint16_t)q, ntx, (unsigned)socket,
						  &txc)) != 0) {
			msg(err, errlen, "DPDK: port %u (%s): TX queue %u: %s", pid,
			    info.driver_name, q, rte_strerror(-ret));
			return P53_EIO;
		}
	}
	if ((ret = rte_eth_dev_start(pid)) != 0) {
		msg(err, errlen, "DPDK: port %u (%s): start failed: %s", pid, info.driver_name,
		    rte_strerror(-ret));
		return P53_EIO;
	}
	dp.port_started[dp.nports] = 1;
	if (is_af_xdp(&info) && info.if_index > 0) {
		dp.xdp_ifindex[dp.nports] = (int)info.if_index;
		if ((ret = xdp_fill_services((int)info.if_index, &dp.svc, err, errlen)) < 0)
			return ret;
	}
	/* Queue q belongs to worker q. */
	for (unsigned q = 0; q < nq; q++) {
		struct dp_worker *w = &dp.w[q];
		struct dp_queue *dq = &w->q[w->nq++];

		dq->port = pid;
		dq->queue = (uint16_t)q;
		dq->pkt_tx = pkt_tx;
		dq->ol_v4 = RTE_MBUF_F_TX_IPV4 |
			    ((pkt_tx & PKT_TX_IP_CKSUM) ? RTE_MBUF_F_TX_IP_CKSUM : 0) |
			    ((pkt_tx & PKT_TX_UDP_CKSUM) ? RTE_MBUF_F_TX_UDP_CKSUM : 0);
		dq->ol_v6 = RTE_MBUF_F_TX_IPV6 |
			    ((pkt_tx & PKT_TX_UDP_CKSUM) ? RTE_MBUF_F_TX_UDP_CKSUM : 0);
	}
	*nq_out = nq;
	char ifname[IF_NAMESIZE + 1] = "";
	if (info.if_index > 0 && if_indextoname(info.if_index, ifname + 1))
		ifname[0] = ' ';
	fprintf(stderr, "pop53d: port %u (%s%s): %u queue%s, RSS %s, rx csum %s, tx csum %s\n",
		pid, info.driver_name, ifname, nq, nq == 1 ? "" : "s", nq > 1 ? "on IP" : "off",
		(conf.rxmode.offloads & (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM)) ? "offload" : "software",
		pkt_tx ? "offload" : "software");
	return 0;
}

int dp_port_setup(const struct dp_conf *conf, char *err, size_t errlen)
{
	unsigned nb_desc = conf->nb_desc ? conf->nb_desc : DP_DEFAULT_DESC, nmbufs;
	uint16_t pid;
	size_t sz;
	int ret;

	if (dp.state != DP_EAL) {
		msg(err, errlen, "DPDK: port setup before EAL initialisation or twice");
		return P53_ESTATE;
	}
	dp.svc = conf->svc;
	dp.engine = conf->engine;
	dp.nworkers = conf->nworkers ? conf->nworkers : rte_lcore_count() - 1;
	if (dp.nworkers == 0) {
		msg(err, errlen, "DPDK: no worker lcore: give the EAL at least two lcores "
		    "(e.g. -l 0,1: lcore 0 runs the control plane)");
		return P53_ENOTFOUND;
	}
	if (dp.nworkers > DP_MAX_WORKERS) {
		msg(err, errlen, "DPDK: %u workers, at most %d", dp.nworkers, DP_MAX_WORKERS);
		return P53_ELIMIT;
	}
	if (rte_eth_dev_count_avail() == 0) {
		msg(err, errlen, "DPDK: no Ethernet port (give one with --vdev or bind a NIC)");
		return P53_ENOTFOUND;
	}
	if (rte_eth_dev_count_avail() > DP_MAX_PORTS) {
		msg(err, errlen, "DPDK: %u ports, at most %d", rte_eth_dev_count_avail(),
		    DP_MAX_PORTS);
		return P53_ELIMIT;
	}
	dp.w = rte_zmalloc("p53_workers", sizeof(*dp.w) * dp.nworkers, RTE_CACHE_LINE_SIZE);
	if (!dp.w) {
		msg(err, errlen, "DPDK: out of memory for %u workers", dp.nworkers);
		return P53_ENOMEM;
	}
	for (unsigned i = 0; i < dp.nworkers; i++) {
		dp.w[i].id = i;
		dp.w[i].lcore = RTE_MAX_LCORE;
	}
	/* Every queue's RX and TX rings full, plus per-lcore caches and bursts. */
	nmbufs = conf->nb_mbufs;
	if (!nmbufs) {
		nmbufs = rte_eth_dev_count_avail() * dp.nworkers * nb_desc * 2 +
			 (dp.nworkers + 1) * (DP_MBUF_CACHE + DP_BURST) + 4096;
		if (nmbufs < DP_MIN_MBUFS)
			nmbufs = DP_MIN_MBUFS;
	}
	dp.pool = rte_pktmbuf_pool_create("p53_mbufs", nmbufs, DP_MBUF_CACHE, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (!dp.pool) {
		msg(err, errlen, "DPDK: cannot create a pool of %u mbufs: %s (more memory: -m)",
		    nmbufs, rte_strerror(rte_errno));
		return P53_ENOMEM;
	}
	sz = rte_rcu_qsbr_get_memsize(dp.nworkers);
	dp.qsbr = rte_zmalloc("p53_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (!dp.qsbr || rte_rcu_qsbr_init(dp.qsbr, dp.nworkers) != 0) {
		msg(err, errlen, "DPDK: cannot set up RCU for %u workers", dp.nworkers);
		return P53_ENOMEM;
	}
	dp.state = DP_PORTS;
	RTE_ETH_FOREACH_DEV(pid) {
		unsigned nq = 0;

		dp.ports[dp.nports] = pid;
		ret = setup_port(pid, nb_desc, &nq, err, errlen);
		dp.nports++;   /* counted even on failure: dp_stop closes it */
		if (ret < 0)
			return ret;
	}
	/* Every worker is a registered, online RCU reader from now on: it
	 * reports quiescence on every loop iteration. */
	for (unsigned i = 0; i < dp.nworkers; i++) {
		rte_rcu_qsbr_thread_register(dp.qsbr, i);
		rte_rcu_qsbr_thread_online(dp.qsbr, i);
	}
	return 0;
}

unsigned dp_workers(void)
{
	return dp.nworkers;
}

/* ---- the loop ----------------------------------------------------------- */

static inline unsigned rx_flags(const struct rte_mbuf *m)
{
	unsigned f = 0;

	if ((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD)
		f |= PKT_RX_IP_CKSUM_GOOD;
	if ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
		f |= PKT_RX_L4_CKSUM_GOOD;
	return f;
}

/* The checksum fields as the NIC wants them for the TX offloads. */
static inline void tx_offload(struct rte_mbuf *m, const struct dp_queue *q,
			      const struct pkt_info *info)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);

	m->l2_len = info->l3;
	m->l3_len = (uint64_t)(info->l4 - info->l3) & 0x1ff;
	if (info->client.family == AF_INET) {
		m->ol_flags = q->ol_v4;
		if (q->pkt_tx & PKT_TX_UDP_CKSUM) {
			uint16_t c = rte_ipv4_phdr_cksum((const struct rte_ipv4_hdr *)(f + info->l3),
							 m->ol_flags);
			memcpy(f + info->l4 + 6, &c, 2);
		}
	} else {
		m->ol_flags = q->ol_v6;
		if (q->pkt_tx & PKT_TX_UDP_CKSUM) {
			uint16_t c = rte_ipv6_phdr_cksum((const struct rte_ipv6_hdr *)(f + info->l3),
							 m->ol_flags);
			memcpy(f + info->l4 + 6, &c, 2);
		}
	}
}

static inline unsigned poll_queue(struct dp_worker *w, const struct dp_queue *q,
				  const struct snap *s)
{
	struct rte_mbuf *rx[DP_BURST], *tx[DP_BURST];
	struct dp_stats *st = &w->st;
	uint16_t n, ntx = 0, sent;

	n = rte_eth_rx_burst(q->port, q->queue, rx, DP_BURST);
	if (n == 0)
		return 0;
	CNT_ADD(st->rx, n);
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = rx[i];
		struct engine_result res;
		struct pkt_info info;
		enum pkt_verdict v;
		uint8_t *f;
		size_t len, cap;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(rx[i + 1], void *));
		if (m->nb_segs != 1) {
			CNT_ADD(st->drop_multiseg, 1);
			rte_pktmbuf_free(m);
			continue;
		}
		f = rte_pktmbuf_mtod(m, uint8_t *);
		v = pkt_parse(f, m->data_len, &dp.svc, rx_flags(m), &info);
		if (v != PKT_DNS) {
			CNT_ADD(st->drop[v], 1);
			rte_pktmbuf_free(m);
			continue;
		}
		cap = (size_t)m->data_len - info.dns + rte_pktmbuf_tailroom(m);
		len = engine_answer(&dp.engine, s, f + info.dns, info.dns_len, &info.client,
				    f + info.dns, cap, &res);
		if (len == 0) {
			CNT_ADD(st->drop_engine, 1);
			rte_pktmbuf_free(m);
			continue;
		}
		CNT_ADD(st->rcode[res.rcode < DP_RCODES - 1 ? res.rcode : DP_RCODES - 1], 1);
		len = pkt_reply(f, &info, len, q->pkt_tx);
		m->data_len = (uint16_t)len;
		m->pkt_len = (uint32_t)len;
		m->ol_flags = 0;
		if (q->pkt_tx)
			tx_offload(m, q, &info);
		tx[ntx++] = m;
	}
	if (ntx == 0)
		return n;
	CNT_ADD(st->answers, ntx);
	sent = rte_eth_tx_burst(q->port, q->queue, tx, ntx);
	for (unsigned r = 0; sent < ntx && r < DP_TX_RETRIES; r++)
		sent = (uint16_t)(sent + rte_eth_tx_burst(q->port, q->queue, tx + sent,
							  (uint16_t)(ntx - sent)));
	CNT_ADD(st->tx, sent);
	if (sent < ntx) {
		CNT_ADD(st->tx_fail, ntx - sent);
		rte_pktmbuf_free_bulk(tx + sent, ntx - sent);
	}
	return n;
}

unsigned dp_poll(unsigned wid)
{
	struct dp_worker *w = &dp.w[wid];
	const struct snap *s;
	unsigned n = 0;

	/* The snapshot is read once per burst and held until quiescence. */
	s = atomic_load_explicit(&dp.snap, memory_order_acquire);
	for (unsigned i = 0; i < w->nq; i++)
		n += poll_queue(w, &w->q[i], s);
	rte_rcu_qsbr_quiescent(dp.qsbr, wid);
	CNT_ADD(w->st.heartbeat, 1);
	return n;
}

static int worker_main(void *arg)
{
	unsigned wid = (unsigned)(uintptr_t)arg;

	while (atomic_load_explicit(&dp.run, memory_order_relaxed))
		dp_poll(wid);
	return 0;
}

int dp_start(const struct snap *s, char *err, size_t errlen)
{
	unsigned lcore, i = 0;

	if (dp.state != DP_PORTS) {
		msg(err, errlen, "DPDK: start before port setup or twice");
		return P53_ESTATE;
	}
	if (dp.nworkers != rte_lcore_count() - 1) {
		msg(err, errlen, "DPDK: %u workers but %u worker lcores", dp.nworkers,
		    rte_lcore_count() - 1);
		return P53_EINVAL;
	}
	atomic_store_explicit(&dp.snap, s, memory_order_release);
	atomic_store(&dp.run, 1);
	RTE_LCORE_FOREACH_WORKER(lcore) {
		int ret;

		dp.w[i].lcore = lcore;
		ret = rte_eal_remote_launch(worker_main, (void *)(uintptr_t)i, lcore);
		if (ret != 0) {
			msg(err, errlen, "DPDK: cannot launch worker %u on lcore %u: %s", i, lcore,
			    rte_strerror(-ret));
			dp.w[i].lcore = RTE_MAX_LCORE;
			dp.state = DP_RUNNING;   /* dp_stop waits for the others */
			return P53_EIO;
		}
		i++;
	}
	dp.state = DP_RUNNING;
	return 0;
}

/* ---- snapshots ---------------------------------------------------------- */

const struct snap *dp_current(void)
{
	return atomic_load_explicit(&dp.snap, memory_order_acquire);
}

int dp_publish(const struct snap *s, const struct snap **old, unsigned timeout_ms)
{
	struct timespec t0, now, nap = { 0, 50 * 1000 };
	const struct snap *prev;
	uint64_t token;

	*old = NULL;
	prev = atomic_exchange_explicit(&dp.snap, s, memory_order_acq_rel);
	if (!dp.qsbr || dp.nworkers == 0) {
		*old = prev;
		return 0;
	}
	token = rte_rcu_qsbr_start(dp.qsbr);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (rte_rcu_qsbr_check(dp.qsbr, token, false) != 1) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((uint64_t)(now.tv_sec - t0.tv_sec) * 1000 +
		    (uint64_t)((now.tv_nsec - t0.tv_nsec) / 1000000) >= timeout_ms)
			return P53_ETIMEOUT;
		nanosleep(&nap, NULL);
	}
	*old = prev;
	return 0;
}

/* ---- counters ----------------------------------------------------------- */

static void add_stats(struct dp_stats *t, const struct dp_stats *w)
{
	const uint64_t *src = (const uint64_t *)w;
	uint64_t *dst = (uint64_t *)t;

	for (size_t i = 0; i < offsetof(struct dp_stats, heartbeat) / sizeof(uint64_t) + 1; i++)
		dst[i] += __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

void dp_worker_stats(unsigned w, struct dp_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (dp.w && w < dp.nworkers)
		add_stats(out, &dp.w[w].st);
}

void dp_stats(struct dp_stats *total)
{
	memset(total, 0, sizeof(*total));
	for (unsigned i = 0; dp.w && i < dp.nworkers; i++)
		add_stats(total, &dp.w[i].st);
}

uint64_t dp_heartbeat(unsigned w)
{
	if (!dp.w || w >= dp.nworkers)
		return 0;
	return __atomic_load_n(&dp.w[w].st.heartbeat, __ATOMIC_RELAXED);
}

/* ---- stop --------------------------------------------------------------- */

const struct snap *dp_stop(void)
{
	const struct snap *last;

	if (dp.state == DP_NONE || dp.state == DP_STOPPED)
		return NULL;
	if (dp.state == DP_RUNNING) {
		atomic_store(&dp.run, 0);
		for (unsigned i = 0; i < dp.nworkers; i++)
			if (dp.w[i].lcore < RTE_MAX_LCORE)
				rte_eal_wait_lcore(dp.w[i].lcore);
	}
	for (unsigned i = 0; dp.qsbr && i < dp.nworkers; i++) {
		rte_rcu_qsbr_thread_offline(dp.qsbr, i);
		rte_rcu_qsbr_thread_unregister(dp.qsbr, i);
	}
	for (unsigned i = 0; i < dp.nports; i++) {
		if (dp.port_started[i])
			rte_eth_dev_stop(dp.ports[i]);
		rte_eth_dev_close(dp.ports[i]);
		/* The af_xdp PMD detaches its program on close; make sure. */
		if (dp.xdp_ifindex[i])
			xdp_detach_stale(dp.xdp_ifindex[i], "still attached after close");
	}
	if (dp.pool)
		rte_mempool_free(dp.pool);
	rte_free(dp.qsbr);
	rte_free(dp.w);
	dp.pool = NULL;
	dp.qsbr = NULL;
	dp.w = NULL;
	dp.nworkers = 0;
	dp.nports = 0;
	last = atomic_exchange(&dp.snap, NULL);
	rte_eal_cleanup();
	dp.state = DP_STOPPED;
	return last;
}
