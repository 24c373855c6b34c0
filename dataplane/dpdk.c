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

#include <arpa/inet.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include <rte_common.h>
#include <rte_dev.h>
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
#include <rte_cycles.h>

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
	int has_exc;                 /* PKT_KERNEL frames go to ... */
	uint16_t exc_port;           /* ... queue `queue` of this exception port */
};

/* A canary mailbox: the control plane writes frame and len, then bumps
 * req; the worker answers in place, sets len (0: dropped) and sets done to
 * req. Its own cache lines, so the worker's check reads a line that only
 * changes once per health interval. */
struct dp_canary {
	_Atomic uint32_t req;
	_Atomic uint32_t done;
	_Atomic uint32_t stall_ms;   /* dp_stall: fault injection */
	uint32_t len;
	uint8_t frame[DP_CANARY_MAX];
} __attribute__((aligned(64)));

/* The DNS queries of a burst, answered together (engine_answer_burst
 * interleaves their lookups), each in place in its own mbuf. */
struct dp_burst {
	struct engine_job job[DP_BURST];
	struct engine_result res[DP_BURST];
	struct pkt_info info[DP_BURST];
	struct rte_mbuf *m[DP_BURST];
	uint8_t drop[DP_BURST];      /* RRL dropped it */
	uint16_t n;
};

struct dp_worker {
	struct dp_stats st;          /* written by this worker only */
	struct engine_conf eng;      /* dp.engine, with this worker's clock */
	struct rrl *rrl;             /* this worker's RRL table, or NULL */
	unsigned id;
	unsigned lcore;              /* RTE_MAX_LCORE when driven by dp_poll */
	unsigned nq;
	struct dp_queue q[DP_MAX_PORTS];
	uint32_t canary_seen;        /* last request answered (worker's own) */
	struct dp_canary canary;
	/* The burst being answered, in the worker so that rjob[i], RRL's
	 * view of response i, is made once rather than per burst. */
	struct dp_burst b;
	struct rrl_job rjob[DP_BURST];
} __attribute__((aligned(64)));

enum dp_state { DP_NONE = 0, DP_EAL, DP_PORTS, DP_RUNNING, DP_STOPPED };

static struct {
	enum dp_state state;
	struct pkt_services svc;
	struct engine_conf engine;
	int rrl_on;
	struct rrl_conf rrl;
	/* The workers' clock: TSC cycles since tsc0, and Unix time then. */
	uint64_t tsc0, tsc_hz;
	uint32_t unix0;
	struct rte_mempool *pool;
	struct rte_rcu_qsbr *qsbr;
	struct dp_worker *w;         /* nworkers, rte_zmalloc'ed */
	unsigned nworkers;
	uint16_t ports[DP_MAX_PORTS];
	unsigned nports;
	unsigned port_started[DP_MAX_PORTS];
	int xdp_ifindex[DP_MAX_PORTS];   /* af_xdp ports: interface, else 0 */
	/* Exception ports, one per physical port i that has one. */
	int has_exc[DP_MAX_PORTS];
	uint16_t exc_port[DP_MAX_PORTS];
	unsigned exc_started[DP_MAX_PORTS];
	char exc_name[DP_MAX_PORTS][RTE_DEV_NAME_MAX_LEN];  /* vdev name */
	char exc_ifname[DP_MAX_PORTS][IF_NAMESIZE];          /* kernel side */
	struct dp_prefix exc_addr[DP_MAX_EXC_ADDRS];
	unsigned nexc_addr;
	_Atomic(const struct snap *) snap;
	atomic_int run;
	atomic_bool rrl_suspended;   /* dp_rrl_suspend */
	bool prefetchw;              /* the CPU has PREFETCHW */
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
#if defined(__x86_64__)
	{
		unsigned a, b, c, d;

		dp.prefetchw = __get_cpuid(0x80000001, &a, &b, &c, &d) && (c & bit_PRFCHW);
	}
#endif
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

static int setup_port(unsigned idx, unsigned nb_desc, unsigned *nq_out,
		      char *err, size_t errlen)
{
	uint16_t pid = dp.ports[idx];
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
	dp.port_started[idx] = 1;
	if (is_af_xdp(&info) && info.if_index > 0) {
		dp.xdp_ifindex[idx] = (int)info.if_index;
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
		dq->has_exc = dp.has_exc[idx];
		dq->exc_port = dp.exc_port[idx];
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

/* ---- exception path ----------------------------------------------------- */
/*
 * With a NIC bound to DPDK the kernel no longer sees its frames: ARP, ND,
 * ICMP, BGP, SSH and TCP/53 must be handed to it. Each physical port that
 * is not af_xdp gets a net_tap port whose kernel interface stands in for
 * the NIC: same MAC (neighbours learn one MAC for the node), the node's
 * addresses, up. PKT_KERNEL frames are transmitted on the TAP (the kernel
 * receives them as if from the wire); what the kernel transmits on the TAP
 * is received by the same worker and sent on the physical port.
 *
 * Why TAP and not virtio-user + vhost-net: it needs only /dev/net/tun (no
 * vhost-net module, no /dev/vhost-net, no second set of rings and kthread),
 * it is the simplest to set up and to tear down (closing the port removes
 * the interface), and the exception path carries little traffic. Its cost
 * is one write() per frame towards the kernel and one read() per frame
 * from it (the PMD's RX is signal-driven: an idle TAP costs no system call
 * in the loop); the DNS hot path never touches the TAP. virtio-user would
 * batch better and is the upgrade if control traffic ever matters.
 *
 * Queues: the TAP gets as many queues as its physical port; worker q owns
 * queue q of both, so no queue is shared between lcores. The kernel picks
 * the TAP queue of what it sends (flow hash); every queue is polled.
 *
 * Only PKT_KERNEL goes to the kernel. Frames to a service address that
 * pkt_parse drops (IPv4/IPv6 fragments and IPv6 extension headers towards
 * a service address, bad checksums, malformed headers) stay dropped, also
 * when they are not UDP: a fragmented TCP/53 segment to a service address
 * does not reach the kernel. Frames towards the kernel are not retried: a
 * full TAP drops them (dp_stats.exc_drop). Frames from the kernel are
 * retried like answers and carry complete checksums (the TAP has no
 * offloads), so they go out as they are.
 */

/* Add p to interface ifindex over rtnetlink (replacing an equal address;
 * IPv6 without duplicate address detection, usable at once). */
static int nl_addr_add(int ifindex, const struct dp_prefix *p, char *err, size_t errlen)
{
	struct {
		struct nlmsghdr nh;
		struct ifaddrmsg ifa;
		uint8_t attrs[2 * RTA_SPACE(16)];
	} req;
	struct {
		struct nlmsghdr nh;
		struct nlmsgerr e;
		uint8_t more[256];
	} ack;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	size_t alen = p->family == AF_INET ? 4 : 16, off = 0;
	char text[INET6_ADDRSTRLEN] = "?";
	int fd, ret = 0;
	ssize_t k;

	inet_ntop(p->family, p->addr, text, sizeof(text));
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_type = RTM_NEWADDR;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
	req.nh.nlmsg_seq = 1;
	req.ifa.ifa_family = p->family;
	req.ifa.ifa_prefixlen = p->len;
	req.ifa.ifa_flags = p->family == AF_INET6 ? IFA_F_NODAD : 0;
	req.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	req.ifa.ifa_index = (unsigned)ifindex;
	for (int i = 0; i < (p->family == AF_INET ? 2 : 1); i++) {
		struct rtattr *a = (struct rtattr *)(req.attrs + off);

		a->rta_type = i == 0 ? IFA_ADDRESS : IFA_LOCAL;
		a->rta_len = (unsigned short)RTA_LENGTH(alen);
		memcpy(RTA_DATA(a), p->addr, alen);
		off += RTA_SPACE(alen);
	}
	req.nh.nlmsg_len = (uint32_t)(NLMSG_LENGTH(sizeof(req.ifa)) + off);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0 || sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&sa,
			     sizeof(sa)) < 0 ||
	    (k = recv(fd, &ack, sizeof(ack), 0)) < 0) {
		ret = -errno;
	} else if ((size_t)k < NLMSG_LENGTH(sizeof(struct nlmsgerr)) ||
		   ack.nh.nlmsg_type != NLMSG_ERROR) {
		ret = -EPROTO;
	} else {
		ret = ack.e.error;
	}
	if (fd >= 0)
		close(fd);
	if (ret < 0) {
		msg(err, errlen, "DPDK: cannot add %s/%u to the exception interface (index %d): %s",
		    text, p->len, ifindex, strerror(-ret));
		return P53_EIO;
	}
	return 0;
}

/* Create (probe) the exception port of physical port dp.ports[i]. */
static int exc_create(unsigned i, const char *ifname, unsigned *nexc, char *err,
		      size_t errlen)
{
	struct rte_eth_dev_info info;
	struct rte_ether_addr mac;
	char args[RTE_DEV_NAME_MAX_LEN + 96];
	uint16_t pid = dp.ports[i], tap;
	int ret, n;

	if ((ret = rte_eth_dev_info_get(pid, &info)) != 0 ||
	    (ret = rte_eth_macaddr_get(pid, &mac)) != 0) {
		msg(err, errlen, "DPDK: port %u: no device info: %s", pid, rte_strerror(-ret));
		return P53_EIO;
	}
	if (is_af_xdp(&info)) {
		fprintf(stderr, "pop53d: port %u (net_af_xdp): no exception port needed, the XDP "
			"program passes what is not DNS to the kernel\n", pid);
		return 0;
	}
	if (!ifname)
		n = snprintf(dp.exc_ifname[i], IF_NAMESIZE, "p53x%u", pid);
	else if (*nexc == 0)
		n = snprintf(dp.exc_ifname[i], IF_NAMESIZE, "%s", ifname);
	else
		n = snprintf(dp.exc_ifname[i], IF_NAMESIZE, "%s%u", ifname, pid);
	if (n <= 0 || n >= IF_NAMESIZE) {
		msg(err, errlen, "DPDK: exception interface name '%s' too long (at most %d characters)",
		    ifname ? ifname : "", IF_NAMESIZE - 1);
		return P53_EINVAL;
	}
	if (if_nametoindex(dp.exc_ifname[i])) {
		msg(err, errlen, "DPDK: exception interface %s exists already (another pop53d? "
		    "a stale persistent TAP?)", dp.exc_ifname[i]);
		return P53_EINVAL;
	}
	snprintf(dp.exc_name[i], sizeof(dp.exc_name[i]), "net_tap_p53x%u", pid);
	snprintf(args, sizeof(args), "%s,iface=%s,mac=" RTE_ETHER_ADDR_PRT_FMT, dp.exc_name[i],
		 dp.exc_ifname[i], RTE_ETHER_ADDR_BYTES(&mac));
	if ((ret = rte_dev_probe(args)) != 0 ||
	    (ret = rte_eth_dev_get_port_by_name(dp.exc_name[i], &tap)) != 0) {
		msg(err, errlen, "DPDK: port %u: cannot create the exception port (%s): %s "
		    "(is the tun module there, /dev/net/tun?)", pid, args, rte_strerror(-ret));
		dp.exc_name[i][0] = '\0';
		return P53_EIO;
	}
	dp.exc_port[i] = tap;
	dp.has_exc[i] = 1;
	(*nexc)++;
	return 0;
}

/* Configure and start the exception port of dp.ports[i] with nq queues,
 * then give its kernel side the service and link addresses. */
static int exc_setup(unsigned i, unsigned nq, unsigned nb_desc, char *err, size_t errlen)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	uint16_t pid = dp.exc_port[i], nrx = (uint16_t)nb_desc, ntx = (uint16_t)nb_desc;
	int socket = rte_eth_dev_socket_id(pid), ret, ifindex;
	unsigned naddr = 0;

	if (socket < 0)
		socket = (int)rte_socket_id();
	memset(&conf, 0, sizeof(conf));
	if ((ret = rte_eth_dev_info_get(pid, &info)) != 0 ||
	    (ret = rte_eth_dev_configure(pid, (uint16_t)nq, (uint16_t)nq, &conf)) != 0 ||
	    (ret = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nrx, &ntx)) != 0) {
		msg(err, errlen, "DPDK: exception port %s: configure with %u queues failed: %s",
		    dp.exc_ifname[i], nq, rte_strerror(-ret));
		return P53_EIO;
	}
	for (unsigned q = 0; q < nq; q++) {
		if ((ret = rte_eth_rx_queue_setup(pid, (uint16_t)q, nrx, (unsigned)socket, NULL,
						  dp.pool)) != 0 ||
		    (ret = rte_eth_tx_queue_setup(pid, (uint16_t)q, ntx, (unsigned)socket,
						  NULL)) != 0) {
			msg(err, errlen, "DPDK: exception port %s: queue %u: %s", dp.exc_ifname[i], q,
			    rte_strerror(-ret));
			return P53_EIO;
		}
	}
	/* Starting the port brings the kernel interface up. */
	if ((ret = rte_eth_dev_start(pid)) != 0) {
		msg(err, errlen, "DPDK: exception port %s: start failed: %s", dp.exc_ifname[i],
		    rte_strerror(-ret));
		return P53_EIO;
	}
	dp.exc_started[i] = 1;
	ifindex = (int)if_nametoindex(dp.exc_ifname[i]);
	if (ifindex <= 0) {
		msg(err, errlen, "DPDK: exception interface %s vanished", dp.exc_ifname[i]);
		return P53_EIO;
	}
	for (unsigned k = 0; k < dp.svc.n4 + dp.svc.n6; k++) {
		struct dp_prefix p = { .family = k < dp.svc.n4 ? AF_INET : AF_INET6 };

		if (k < dp.svc.n4) {
			p.len = 32;
			memcpy(p.addr, dp.svc.v4[k], 4);
		} else {
			p.len = 128;
			memcpy(p.addr, dp.svc.v6[k - dp.svc.n4], 16);
		}
		if ((ret = nl_addr_add(ifindex, &p, err, errlen)) < 0)
			return ret;
		naddr++;
	}
	for (unsigned k = 0; k < dp.nexc_addr; k++) {
		if ((ret = nl_addr_add(ifindex, &dp.exc_addr[k], err, errlen)) < 0)
			return ret;
		naddr++;
	}
	fprintf(stderr, "pop53d: port %u: exception path through kernel interface %s "
		"(net_tap port %u, %u queue%s, same MAC, up, %u addresses)\n", dp.ports[i],
		dp.exc_ifname[i], pid, nq, nq == 1 ? "" : "s", naddr);
	return 0;
}

/*
 * Each worker's answering options (its own copy: it sets the time in
 * it), its RRL table, and the clock the workers read once per burst: the
 * TSC, converted with the Unix time taken here (no system call on the
 * hot path). With RSS over `cores` queues, the tables share the limit
 * (rrl.h).
 */
static int workers_setup(unsigned cores, char *err, size_t errlen)
{
	struct rrl_conf rc = dp.rrl;
	int ret;

	dp.tsc_hz = rte_get_tsc_hz();
	dp.tsc0 = rte_rdtsc();
	dp.unix0 = (uint32_t)time(NULL);
	rc.cores = cores;
	for (unsigned i = 0; i < dp.nworkers; i++) {
		dp.w[i].eng = dp.engine;
		dp.w[i].eng.now = dp.unix0;
		for (unsigned k = 0; k < DP_BURST; k++)
			dp.w[i].rjob[k] = (struct rrl_job){ &dp.w[i].b.info[k].client,
							    &dp.w[i].b.res[k], 0 };
		if (dp.rrl_on && (ret = rrl_create(&rc, &dp.w[i].rrl, err, errlen)) < 0)
			return ret;
	}
	if (dp.rrl_on)
		fprintf(stderr, "pop53d: rrl: %u responses/s per prefix and name, window %u s, "
			"slip %u, /%u and /%u, %u RSS queue%s share it%s\n",
			rc.responses_per_second, rc.window, rc.slip, rc.ipv4_prefix_length,
			rc.ipv6_prefix_length, cores, cores == 1 ? "" : "s",
			rc.log_only ? " (log only)" : "");
	return 0;
}

int dp_port_setup(const struct dp_conf *conf, char *err, size_t errlen)
{
	unsigned nb_desc = conf->nb_desc ? conf->nb_desc : DP_DEFAULT_DESC, nmbufs, nexc = 0;
	unsigned rss_queues = 1;
	uint16_t pid;
	size_t sz;
	int ret;

	if (dp.state != DP_EAL) {
		msg(err, errlen, "DPDK: port setup before EAL initialisation or twice");
		return P53_ESTATE;
	}
	dp.svc = conf->svc;
	dp.engine = conf->engine;
	dp.rrl_on = conf->rrl_on;
	dp.rrl = conf->rrl;
	if (dp.rrl_on && (ret = rrl_conf_check(&dp.rrl, err, errlen)) < 0)
		return ret;
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
	if (conf->nexc_addr > DP_MAX_EXC_ADDRS) {
		msg(err, errlen, "DPDK: %u exception addresses, at most %d", conf->nexc_addr,
		    DP_MAX_EXC_ADDRS);
		return P53_ELIMIT;
	}
	/* The physical ports, before any exception port joins the list. */
	RTE_ETH_FOREACH_DEV(pid)
		dp.ports[dp.nports++] = pid;   /* dp_stop closes every one */
	dp.w = rte_zmalloc("p53_workers", sizeof(*dp.w) * dp.nworkers, RTE_CACHE_LINE_SIZE);
	if (!dp.w) {
		msg(err, errlen, "DPDK: out of memory for %u workers", dp.nworkers);
		return P53_ENOMEM;
	}
	for (unsigned i = 0; i < dp.nworkers; i++) {
		dp.w[i].id = i;
		dp.w[i].lcore = RTE_MAX_LCORE;
	}
	dp.state = DP_PORTS;
	if (conf->exception == DP_EXC_TAP) {
		memcpy(dp.exc_addr, conf->exc_addr, conf->nexc_addr * sizeof(conf->exc_addr[0]));
		dp.nexc_addr = conf->nexc_addr;
		for (unsigned i = 0; i < dp.nports; i++)
			if ((ret = exc_create(i, conf->exc_ifname, &nexc, err, errlen)) < 0)
				return ret;
	}
	/* Every queue's RX and TX rings full (exception ports included),
	 * plus per-lcore caches and bursts. */
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
	for (unsigned i = 0; i < dp.nports; i++) {
		unsigned nq = 0;

		if ((ret = setup_port(i, nb_desc, &nq, err, errlen)) < 0)
			return ret;
		if (dp.has_exc[i] && (ret = exc_setup(i, nq, nb_desc, err, errlen)) < 0)
			return ret;
		if (nq > rss_queues)
			rss_queues = nq;
	}
	if ((ret = workers_setup(rss_queues, err, errlen)) < 0)
		return ret;
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

_Static_assert(DP_BURST <= ENGINE_BURST_MAX, "an rx burst is one engine burst");

/* The time for this burst, from the TSC: Unix seconds for the cookies,
 * monotonic seconds for RRL. One read and one division per burst. */
static inline void clock_tick(struct dp_worker *w)
{
	uint32_t secs = (uint32_t)((rte_rdtsc() - dp.tsc0) / dp.tsc_hz);

	w->eng.now = dp.unix0 + secs;
	if (w->rrl)
		rrl_begin(w->rrl, secs);
}

/* RRL's verdict on response i of the burst: drop[i], or the response cut
 * to header, question and OPT with TC=1 (BADCOOKIE with a fresh cookie
 * when the query had a cookie). */
static inline void rrl_apply(struct dp_burst *b, unsigned i, uint8_t action)
{
	struct engine_job *j = &b->job[i];

	if (action == RRL_DROP)
		b->drop[i] = 1;
	else if (action == RRL_SLIP && !(j->len = engine_truncate(j->out, j->len, &b->res[i], 1)))
		b->drop[i] = 1;
}

/* RRL over the burst's responses, those the engine dropped too (their
 * kind, ENGINE_KIND_NONE, is not limited). False when all go out as they
 * are (nearly always; drop[] is then not set); else drop[i] marks the
 * dropped ones, and slipped ones are cut (rrl_apply). */
static inline bool rate_limit(struct dp_worker *w, struct dp_burst *b)
{
	if (!rrl_check_burst(w->rrl, w->rjob, b->n))
		return false;
	memset(b->drop, 0, sizeof(b->drop));
	for (unsigned i = 0; i < b->n; i++)
		rrl_apply(b, i, w->rjob[i].action);
	return true;
}

/*
 * A line the worker is about to write. Each frame is answered in place,
 * and its mbuf's lengths set: a line fetched for reading is then missed a
 * second time for ownership, while the NIC (or another core) still holds
 * it. PREFETCHW asks for ownership at once (+5 % answers in the
 * memory-fed loop). Debian's DPDK compiles for -march=corei7, where
 * __builtin_prefetch(p, 1) is a plain read prefetch, so the instruction
 * is written out, where CPUID says it exists.
 */
static inline void prefetch_write(const void *p)
{
#if defined(__x86_64__)
	if (dp.prefetchw) {
		__asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
		return;
	}
#endif
	__builtin_prefetch(p, 1, 3);
}

/* Sort one received frame: a query for the burst, the exception port, or
 * dropped with its reason counted. */
static inline void sort_frame(struct dp_worker *w, const struct dp_queue *q,
			      struct rte_mbuf *m, struct dp_burst *b,
			      struct rte_mbuf **exc, uint16_t *nexc)
{
	struct pkt_info *info = &b->info[b->n];
	enum pkt_verdict v;
	uint8_t *f;

	if (m->nb_segs != 1) {
		CNT_ADD(w->st.drop_multiseg, 1);
		rte_pktmbuf_free(m);
		return;
	}
	f = rte_pktmbuf_mtod(m, uint8_t *);
	/* The response runs past the query's two lines (prefetch_frames).
	 * Asked for here, the burst's prefetches are spread over this loop
	 * rather than queued at once. */
	prefetch_write(f + 2 * RTE_CACHE_LINE_SIZE);
	prefetch_write(f + 3 * RTE_CACHE_LINE_SIZE);
	v = pkt_parse(f, m->data_len, &dp.svc, rx_flags(m), info);
	if (v == PKT_KERNEL && q->has_exc) {
		exc[(*nexc)++] = m;
		return;
	}
	if (v != PKT_DNS) {
		CNT_ADD(w->st.drop[v], 1);
		rte_pktmbuf_free(m);
		return;
	}
	b->job[b->n] = (struct engine_job){
		.q = f + info->dns, .qlen = info->dns_len,
		.client = &info->client, .out = f + info->dns,
		.cap = (size_t)m->data_len - info->dns + rte_pktmbuf_tailroom(m),
		.res = &b->res[b->n],
	};
	b->m[b->n++] = m;
}

/* Whoever filled the frames (a NIC's DMA, the kernel, another core) left
 * them outside this core's caches: ask for every mbuf header first, then
 * every frame's first two lines (headers and question of a query), so the
 * burst's misses overlap instead of one stalling the loop per frame. */
static inline void prefetch_frames(struct rte_mbuf **rx, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		prefetch_write(rx[i]);
	for (uint16_t i = 0; i < n; i++) {
		const uint8_t *f = rte_pktmbuf_mtod(rx[i], const uint8_t *);

		prefetch_write(f);
		prefetch_write(f + RTE_CACHE_LINE_SIZE);
	}
}

static inline unsigned poll_queue(struct dp_worker *w, const struct dp_queue *q,
				  const struct snap *s)
{
	struct rte_mbuf *rx[DP_BURST], *tx[DP_BURST], *exc[DP_BURST];
	struct dp_stats *st = &w->st;
	struct dp_burst *b = &w->b;
	uint16_t n, ntx = 0, nexc = 0, sent;
	bool limit;

	n = rte_eth_rx_burst(q->port, q->queue, rx, DP_BURST);
	if (n == 0)
		return 0;
	CNT_ADD(st->rx, n);
	clock_tick(w);
	prefetch_frames(rx, n);
	b->n = 0;
	for (uint16_t i = 0; i < n; i++)
		sort_frame(w, q, rx[i], b, exc, &nexc);
	engine_answer_burst(&w->eng, s, b->job, b->n);
	limit = w->rrl && !atomic_load_explicit(&dp.rrl_suspended, memory_order_relaxed) &&
		rate_limit(w, b);
	for (uint16_t i = 0; i < b->n; i++) {
		struct rte_mbuf *m = b->m[i];
		uint16_t rcode = b->res[i].rcode;
		size_t len = b->job[i].len;

		if (len == 0) {
			CNT_ADD(st->drop_engine, 1);
			rte_pktmbuf_free(m);
			continue;
		}
		if (limit && b->drop[i]) {
			rte_pktmbuf_free(m);   /* counted by the RRL table */
			continue;
		}
		CNT_ADD(st->rcode[rcode < DP_RCODES - 1 ? rcode : DP_RCODES - 1], 1);
		for (unsigned k = 0; b->res[i].policy && k < DP_POLICY_KINDS; k++)
			if (b->res[i].policy & (1u << k))
				CNT_ADD(st->policy[k], 1);
		len = pkt_reply(rte_pktmbuf_mtod(m, uint8_t *), &b->info[i], len,
				q->pkt_tx);
		m->data_len = (uint16_t)len;
		m->pkt_len = (uint32_t)len;
		m->ol_flags = 0;
		if (q->pkt_tx)
			tx_offload(m, q, &b->info[i]);
		tx[ntx++] = m;
	}
	if (nexc) {
		/* To the kernel, in one burst; no retry: a full TAP drops. */
		sent = rte_eth_tx_burst(q->exc_port, q->queue, exc, nexc);
		CNT_ADD(st->exc_in, sent);
		if (sent < nexc) {
			CNT_ADD(st->exc_drop, nexc - sent);
			rte_pktmbuf_free_bulk(exc + sent, nexc - sent);
		}
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

/* What the kernel sent on the exception port: out of the physical port. */
static inline void poll_exception(struct dp_worker *w, const struct dp_queue *q)
{
	struct rte_mbuf *b[DP_BURST];
	struct dp_stats *st = &w->st;
	uint16_t n, sent;

	n = rte_eth_rx_burst(q->exc_port, q->queue, b, DP_BURST);
	if (n == 0)
		return;
	CNT_ADD(st->exc_out, n);
	for (uint16_t i = 0; i < n; i++)
		b[i]->ol_flags = 0;   /* complete frames: the kernel did the checksums */
	sent = rte_eth_tx_burst(q->port, q->queue, b, n);
	for (unsigned r = 0; sent < n && r < DP_TX_RETRIES; r++)
		sent = (uint16_t)(sent + rte_eth_tx_burst(q->port, q->queue, b + sent,
							  (uint16_t)(n - sent)));
	CNT_ADD(st->exc_out_sent, sent);
	if (sent < n)
		rte_pktmbuf_free_bulk(b + sent, n - sent);
}

/* The canary, answered as poll_queue answers a frame (no port: the
 * response stays in the mailbox). */
static void answer_canary(struct dp_worker *w, const struct snap *s,
			  uint32_t req)
{
	struct dp_canary *c = &w->canary;
	struct engine_job job;
	struct pkt_info info;
	size_t len = 0;

	if (pkt_parse(c->frame, c->len, &dp.svc, 0, &info) == PKT_DNS) {
		job = (struct engine_job){
			.q = c->frame + info.dns, .qlen = info.dns_len,
			.client = &info.client, .out = c->frame + info.dns,
			.cap = DP_CANARY_MAX - info.dns,
		};
		engine_answer_burst(&w->eng, s, &job, 1);
		if (job.len)
			len = pkt_reply(c->frame, &info, job.len, 0);
	}
	c->len = (uint32_t)len;
	w->canary_seen = req;
	atomic_store_explicit(&c->done, req, memory_order_release);
}

/* dp_stall's effect: no polling, no quiescent state, no heartbeat. */
static void stall(struct dp_worker *w)
{
	uint32_t ms = atomic_exchange(&w->canary.stall_ms, 0);
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

unsigned dp_poll(unsigned wid)
{
	struct dp_worker *w = &dp.w[wid];
	const struct snap *s;
	unsigned n = 0;
	uint32_t req;

	/* The snapshot is read once per burst and held until quiescence. */
	s = atomic_load_explicit(&dp.snap, memory_order_acquire);
	for (unsigned i = 0; i < w->nq; i++) {
		n += poll_queue(w, &w->q[i], s);
		if (w->q[i].has_exc)
			poll_exception(w, &w->q[i]);
	}
	req = atomic_load_explicit(&w->canary.req, memory_order_acquire);
	if (unlikely(req != w->canary_seen))
		answer_canary(w, s, req);
	if (unlikely(atomic_load_explicit(&w->canary.stall_ms, memory_order_relaxed)))
		stall(w);
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

/* Wait until every worker has reported a quiescent state after now. */
static int grace(unsigned timeout_ms)
{
	struct timespec t0, now, nap = { 0, 50 * 1000 };
	uint64_t token;

	if (!dp.qsbr || dp.nworkers == 0)
		return 0;
	token = rte_rcu_qsbr_start(dp.qsbr);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (rte_rcu_qsbr_check(dp.qsbr, token, false) != 1) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((uint64_t)(now.tv_sec - t0.tv_sec) * 1000 +
		    (uint64_t)((now.tv_nsec - t0.tv_nsec) / 1000000) >= timeout_ms)
			return P53_ETIMEOUT;
		nanosleep(&nap, NULL);
	}
	return 0;
}

int dp_publish(const struct snap *s, const struct snap **old, unsigned timeout_ms)
{
	const struct snap *prev;
	int ret;

	*old = NULL;
	prev = atomic_exchange_explicit(&dp.snap, s, memory_order_acq_rel);
	if ((ret = grace(timeout_ms)) < 0)
		return ret;
	*old = prev;
	return 0;
}

int dp_sync(unsigned timeout_ms)
{
	return grace(timeout_ms);
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
	if (dp.w && w < dp.nworkers) {
		add_stats(out, &dp.w[w].st);
		if (dp.w[w].rrl)
			rrl_stats_read(dp.w[w].rrl, &out->rrl);
	}
}

void dp_stats(struct dp_stats *total)
{
	memset(total, 0, sizeof(*total));
	for (unsigned i = 0; dp.w && i < dp.nworkers; i++) {
		add_stats(total, &dp.w[i].st);
		if (dp.w[i].rrl)
			rrl_stats_read(dp.w[i].rrl, &total->rrl);
	}
}

unsigned dp_rrl_report(struct rrl_report *out, unsigned max)
{
	struct rrl *t[DP_MAX_WORKERS];
	unsigned n = 0;

	for (unsigned i = 0; dp.w && i < dp.nworkers; i++)
		if (dp.w[i].rrl)
			t[n++] = dp.w[i].rrl;
	return n ? rrl_report(t, n, out, max) : 0;
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
	char rundir[PATH_MAX];

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
		/* Closing a TAP port removes its kernel interface. */
		if (dp.exc_started[i])
			rte_eth_dev_stop(dp.exc_port[i]);
		if (dp.has_exc[i])
			rte_eth_dev_close(dp.exc_port[i]);
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
	for (unsigned i = 0; dp.w && i < dp.nworkers; i++)
		rrl_destroy(dp.w[i].rrl);
	rte_free(dp.w);
	dp.pool = NULL;
	dp.qsbr = NULL;
	dp.w = NULL;
	dp.nworkers = 0;
	dp.nports = 0;
	last = atomic_exchange(&dp.snap, NULL);
	/* The EAL leaves its runtime directory behind, empty with
	 * --no-shconf: one per run would pile up in /var/run/dpdk. */
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	if (rundir[0])
		(void)rmdir(rundir);
	dp.state = DP_STOPPED;
	return last;
}

void dp_rrl_suspend(bool suspended)
{
	atomic_store_explicit(&dp.rrl_suspended, suspended, memory_order_relaxed);
}

int dp_stall(unsigned wid, unsigned ms)
{
	if (!dp.w || wid >= dp.nworkers || !ms)
		return P53_EINVAL;
	atomic_store(&dp.w[wid].canary.stall_ms, ms);
	return 0;
}

int dp_ports_up(unsigned *down)
{
	for (unsigned i = 0; i < dp.nports; i++) {
		struct rte_eth_link link;

		if (!dp.port_started[i])
			continue;
		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(dp.ports[i], &link) != 0 ||
		    link.link_status != RTE_ETH_LINK_UP) {
			if (down)
				*down = dp.ports[i];
			return 0;
		}
	}
	return 1;
}

int dp_canary_send(unsigned wid, const uint8_t *frame, size_t len)
{
	struct dp_canary *c;
	uint32_t req;
	int ret = 0;

	if (!dp.w || wid >= dp.nworkers || len > DP_CANARY_MAX)
		return P53_EINVAL;
	c = &dp.w[wid].canary;
	req = atomic_load_explicit(&c->req, memory_order_relaxed);
	if (atomic_load_explicit(&c->done, memory_order_acquire) != req) {
		/* The worker has not answered the last one; it may be reading
		 * the frame now, so it is not overwritten. */
		return P53_ESTATE;
	}
	memcpy(c->frame, frame, len);
	c->len = (uint32_t)len;
	atomic_store_explicit(&c->req, req + 1, memory_order_release);
	return ret;
}

int dp_canary_recv(unsigned wid, uint8_t *out, size_t cap)
{
	struct dp_canary *c;
	uint32_t req;

	if (!dp.w || wid >= dp.nworkers)
		return P53_EINVAL;
	c = &dp.w[wid].canary;
	req = atomic_load_explicit(&c->req, memory_order_relaxed);
	if (atomic_load_explicit(&c->done, memory_order_acquire) != req)
		return 0;
	if (!c->len)
		return P53_ENOTFOUND;
	if (c->len > cap)
		return P53_ESPACE;
	memcpy(out, c->frame, c->len);
	return (int)c->len;
}

unsigned dp_worker_lcore(unsigned w)
{
	return dp.w && w < dp.nworkers ? dp.w[w].lcore : RTE_MAX_LCORE;
}
