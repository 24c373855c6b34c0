/*
 * dpdk-mem-bench — the DPDK worker loop fed from memory: answers per second
 * of one worker lcore with no kernel and no NIC in the way (issue 4's
 * "10 million per core" goal). Run by bench/dpdk-bench.sh.
 *
 * The EAL runs with --no-huge --no-shconf and two lcores (default -l 0,1):
 * the main lcore feeds, the worker lcore runs the real loop (dp_start:
 * rx burst -> pkt_parse -> engine_answer in place -> pkt_reply -> tx
 * burst, RCU quiescence per burst, per-lcore counters).
 *
 * The port is a net_ring device made with rte_eth_from_rings() over two
 * rings of our own, "rx" and "tx" (the net_ring vdev uses one ring for
 * both, so its answers would come back as input). The ring is a closed
 * loop: INFLIGHT mbufs carry query frames (Ethernet, IPv4, UDP with real
 * checksums, to the service address) built from a query file ("NAME TYPE"
 * lines, as dnsperf and kxdpgun read them); the worker answers them in
 * place and transmits them into "tx"; the main lcore takes each answered
 * mbuf, checks it, writes the next query of the file back over it and
 * puts it into "rx" again.
 *
 * Checks, on the main lcore, for every answer: QR set, the query's ID, the
 * RCODE the engine gives for that query when called directly (computed
 * once per query before the run); every 16th answer is compared byte for
 * byte with that direct answer (DNS payload, after pkt_reply), except where
 * a traffic policy chose the answer (weighted draws and rotations differ
 * from one answer to the next: header and RCODE only). A mismatch is a
 * wrong answer.
 *
 * answers/s = the worker's answer counter over the measured seconds (after
 * a warm-up) divided by the wall time. Whether the worker or the feeder was
 * the bottleneck shows in the worker's average burst (frames per loop
 * iteration: 32 = its RX ring never ran dry) and the feeder's idle polls.
 *
 * Usage: dpdk-mem-bench -s SNAPSHOT -i QUERIES [-t SECONDS] [-w WARMUP]
 *                       [-n INFLIGHT] [-e | -d] [-l LCORES] [-p PREFIX]
 *                       [-R RATE [-T ACCOUNTS] [-A SECONDS]] [-c COUNT]
 *   -s SNAPSHOT  a snapshot from pop53-zonec compile
 *   -i QUERIES   query file, "NAME TYPE" per line (bench/udp-bench-queries.py)
 *   -t SECONDS   measured time (default 5)
 *   -w SECONDS   warm-up before measuring (default 1)
 *   -n INFLIGHT  mbufs in the loop (default 32768: enough to keep the
 *                worker busy for ~10 ms should the feeder lose its core)
 *   -e           queries carry an EDNS OPT record (payload 1232)
 *   -d           ... with the DO bit (DNSSEC answers from a signed zone)
 *   -l LCORES    EAL core list, main first (default "0,1")
 *   -p PREFIX    EAL --file-prefix (default p53mem<pid>)
 *   -R RATE      response rate limiting on, RATE responses/s per prefix
 *                (set it above what the run sends: the accounting's cost)
 *   -A SECONDS   with -R: RRL on and off in turns of SECONDS through the
 *                measured time (dp_rrl_suspend), answers per second of
 *                each state summed over its turns: RRL's cost measured in
 *                one process, where both states share the machine's ups
 *                and downs (separate runs on a shared VM drift by more
 *                than the cost)
 *   -T ACCOUNTS  with -R: accounts per RRL table (default 65536)
 *   -c COUNT     no timing: the loop driven on the main lcore (give -l
 *                one core) until COUNT answers, for callgrind (count_run);
 *                prints "count_answers N polls N wrong N compared N"
 * Output: a human summary on stderr and one line on stdout:
 *   answers_per_s N answers N seconds S wrong N checked N compared N
 *   nxdomain_pct P noerror_pct P other_rcode N avg_burst B feeder_idle_pct P
 *   rx_ring_avg N tx_ring_avg N (mbufs waiting in each ring, sampled)
 *   [with -A: rrl_on_per_s N rrl_off_per_s N rrl_cost_pct P rrl_turns N]
 *   worker_cpu_s S answers_per_cpu_s N (answers / the worker thread's CPU
 *   time: on a shared machine, when another process takes the worker's
 *   core, answers/s of wall time falls but this does not; the worker's
 *   empty polls count as busy, so it is a lower bound of the loop's rate)
 * Exit status: 0, 1 on wrong answers, 2 on a setup failure.
 */
#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "diag.h"
#include "dpdk.h"
#include "dname.h"
#include "engine.h"
#include "pkt.h"
#include "snap.h"

#define RING_SIZE   65536
#define MAX_FRAME   600
#define FEED_BURST  64
#define COMPARE_EVERY 16

static const char svc_addr[] = "198.18.99.1";
static const char cli_addr[] = "198.18.99.2";

struct query {
	uint8_t frame[MAX_FRAME];
	uint16_t len;
	uint16_t id;
	uint8_t rcode;               /* what engine_answer gives directly */
	uint16_t ans_len;            /* its DNS payload length */
	uint8_t *ans;                /* its DNS payload */
	uint8_t varies;              /* a traffic policy chose the answer */
};

static struct query *queries;
static size_t nqueries;
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	(void)sig;
	stop_signal = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "dpdk-mem-bench: %s\n", what);
	dp_stop();
	exit(2);
}

/* CPU seconds (user + system) of the worker lcore's thread: the EAL names
 * it "...worker..." (lcore-worker-1, rte-worker-1). -1 if not found. */
static double worker_cpu_s(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	double cpu = -1;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char path[300], comm[64] = "", buf[1024];
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
		if (!strstr(comm, "worker"))
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat", e->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = 0;
		char *p = strrchr(buf, ')');
		unsigned long long ut = 0, st = 0;
		/* after ") ": state(3) ... utime(14) stime(15) */
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
				&ut, &st) == 2)
			cpu = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
		break;
	}
	closedir(d);
	return cpu;
}

/* -A: the turns of RRL on and off, and what each state answered. */
struct alt {
	double every;            /* seconds per turn; 0: no turns */
	int on;                  /* state of the current turn */
	double t_turn;           /* when it began */
	uint64_t a_turn;         /* the workers' answers then */
	double secs[2];          /* [on] */
	uint64_t answers[2];
	unsigned turns[2];
};

/* The first turn, RRL on, begins at t (the table is warm from the
 * warm-up, which ran with RRL on). */
static void alt_begin(struct alt *al, double t)
{
	struct dp_stats st;

	dp_stats(&st);
	al->on = 1;
	dp_rrl_suspend(false);
	al->t_turn = t;
	al->a_turn = st.answers;
}

/* At t: end the turn when it has lasted al->every (or when `last`) and
 * start one in the other state. A few bursts in flight at the switch
 * count for the new state: microseconds against a turn's length. */
static void alt_tick(struct alt *al, double t, int last)
{
	struct dp_stats st;

	if (!last && t - al->t_turn < al->every)
		return;
	dp_stats(&st);
	al->secs[al->on] += t - al->t_turn;
	al->answers[al->on] += st.answers - al->a_turn;
	al->turns[al->on]++;
	al->on = !al->on;
	dp_rrl_suspend(!al->on);
	al->t_turn = t;
	al->a_turn = st.answers;
}

static double alt_rate(const struct alt *al, int on)
{
	return al->secs[on] > 0 ? (double)al->answers[on] / al->secs[on] : 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int type_code(const char *t)
{
	static const struct { const char *n; int c; } tab[] = {
		{ "A", 1 }, { "NS", 2 }, { "CNAME", 5 }, { "SOA", 6 }, { "PTR", 12 },
		{ "MX", 15 }, { "TXT", 16 }, { "AAAA", 28 }, { "SRV", 33 },
		{ "NAPTR", 35 }, { "DS", 43 }, { "DNSKEY", 48 }, { "HTTPS", 65 },
		{ "SVCB", 64 }, { "CAA", 257 }, { "ANY", 255 },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcasecmp(t, tab[i].n) == 0)
			return tab[i].c;
	if (strncasecmp(t, "TYPE", 4) == 0 && t[4])
		return atoi(t + 4);
	return -1;
}

/* The frame of query q: Ethernet, IPv4, UDP (checksummed), DNS. */
static int build_frame(struct query *q, const char *name, int qtype, uint16_t id, int edns)
{
	/* root, OPT, payload 1232, no flags (edns 2: DO) */
	uint8_t opt[11] = { 0, 0, 41, 0x04, 0xd0, 0, 0, edns == 2 ? 0x80 : 0, 0, 0, 0 };
	struct engine_client cl = { .family = AF_INET, .port = (uint16_t)(1024 + id % 60000) };
	uint8_t dns[12 + DNAME_MAXLEN + 4 + sizeof(opt)], svc[4];
	int nl = dname_from_text(name, strlen(name), NULL, dns + 12);
	size_t dl, len;

	if (nl <= 0)
		return -1;
	memset(dns, 0, 12);
	dns[0] = (uint8_t)(id >> 8);
	dns[1] = (uint8_t)id;
	dns[5] = 1;                  /* QDCOUNT */
	dns[11] = edns ? 1 : 0;      /* ARCOUNT */
	dl = 12 + (size_t)nl;
	dns[dl++] = (uint8_t)(qtype >> 8);
	dns[dl++] = (uint8_t)qtype;
	dns[dl++] = 0;
	dns[dl++] = 1;
	if (edns) {
		memcpy(dns + dl, opt, sizeof(opt));
		dl += sizeof(opt);
	}
	/* Clients all over a /16 (256 /24s): RRL keeps an account each. */
	inet_pton(AF_INET, cli_addr, cl.addr);
	cl.addr[2] = (uint8_t)(id >> 8);
	cl.addr[3] = (uint8_t)(id | 1);
	inet_pton(AF_INET, svc_addr, svc);
	if (!(len = pkt_build(q->frame, sizeof(q->frame), &cl, svc, 53, dns, dl)))
		return -1;
	q->len = (uint16_t)len;
	q->id = id;
	return 0;
}

static void load_queries(const char *path, int edns)
{
	FILE *f = fopen(path, "r");
	char line[512], name[300], type[32];
	size_t cap = 0;

	if (!f) {
		fprintf(stderr, "dpdk-mem-bench: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while (fgets(line, sizeof(line), f)) {
		int t;

		if (sscanf(line, "%299s %31s", name, type) != 2 || name[0] == '#' || name[0] == ';')
			continue;
		if ((t = type_code(type)) < 0)
			continue;
		if (nqueries == cap) {
			cap = cap ? cap * 2 : 4096;
			queries = realloc(queries, cap * sizeof(*queries));
			if (!queries)
				die("out of memory");
		}
		if (build_frame(&queries[nqueries], name, t, (uint16_t)(nqueries * 7919 + 1), edns) == 0)
			nqueries++;
	}
	fclose(f);
	if (nqueries == 0)
		die("no usable query in the query file");
}

/* What the engine answers to each query when called directly, after the
 * same in-place rewrite as the loop does. */
static void expect_answers(const struct snap *s, const struct engine_conf *ec,
			   const struct pkt_services *svc)
{
	uint8_t buf[2048];
	size_t varied = 0;

	for (size_t i = 0; i < nqueries; i++) {
		struct query *q = &queries[i];
		struct pkt_info info;
		struct engine_result res;
		size_t len;

		memcpy(buf, q->frame, q->len);
		if (pkt_parse(buf, q->len, svc, 0, &info) != PKT_DNS)
			die("a built query frame does not parse as DNS (bug)");
		len = engine_answer(ec, s, buf + info.dns, info.dns_len, &info.client,
				    buf + info.dns, sizeof(buf) - info.dns, &res);
		if (len == 0)
			die("the engine drops a query of the file");
		q->rcode = (uint8_t)(buf[info.dns + 3] & 0x0f);
		q->varies = (res.policy & ENGINE_POLICY_ANSWERED) != 0;
		q->ans_len = (uint16_t)len;
		q->ans = malloc(len);
		if (!q->ans)
			die("out of memory");
		memcpy(q->ans, buf + info.dns, len);
		varied += q->varies;
	}
	if (varied)
		fprintf(stderr, "dpdk-mem-bench: %zu of %zu queries get a traffic policy's "
			"answer (checked by header and RCODE, not byte for byte)\n",
			varied, nqueries);
}

/* 1 when answer m is wrong (reported while *report lasts): QR, ID and
 * RCODE always, the whole payload for every COMPARE_EVERY-th. */
static int check_answer(const struct rte_mbuf *m, uint64_t nth, uint64_t *compared,
			unsigned *report)
{
	const struct query *q = &queries[m->hash.usr];
	const uint8_t *dns = rte_pktmbuf_mtod(m, const uint8_t *) + 42;
	int bad = 0;

	if (m->data_len < 42 + 12 || !(dns[2] & 0x80) ||
	    ((dns[0] << 8) | dns[1]) != q->id || (dns[3] & 0x0f) != q->rcode)
		bad = 1;
	else if ((nth % COMPARE_EVERY) == 0 && !q->varies) {
		(*compared)++;
		if (m->data_len != 42u + q->ans_len || memcmp(dns, q->ans, q->ans_len) != 0)
			bad = 1;
	}
	if (bad && *report) {
		(*report)--;
		fprintf(stderr, "dpdk-mem-bench: wrong answer to query %u (len %u, rcode %d, "
			"want %u)\n", m->hash.usr, m->data_len,
			m->data_len >= 54 ? dns[3] & 0x0f : -1, q->rcode);
	}
	return bad;
}

static inline void refill(struct rte_mbuf *m, size_t qi)
{
	const struct query *q = &queries[qi];

	m->data_off = RTE_PKTMBUF_HEADROOM;
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), q->frame, q->len);
	m->data_len = q->len;
	m->pkt_len = q->len;
	m->ol_flags = 0;
	m->hash.usr = (uint32_t)qi;
}

/*
 * -c COUNT: the worker loop driven on this thread (dp_poll, no worker
 * lcore) until COUNT answers, each checked as in a timed run. For counting
 * instructions, which a shared VM does not disturb as it does time:
 * under callgrind, dp_poll's inclusive count over the answers printed is
 * the loop's instructions per answer (run it with and without -R for what
 * RRL adds). The rx ring is filled with a whole burst before each poll.
 */
static int count_run(struct rte_ring *rxr, struct rte_ring *txr, uint64_t count, size_t next)
{
	uint64_t answers = 0, wrong = 0, compared = 0, polls = 0;
	unsigned report = 5;

	while (answers < count && !stop_signal) {
		struct rte_mbuf *b[FEED_BURST];
		unsigned n;

		dp_poll(0);
		polls++;
		while ((n = rte_ring_dequeue_burst(txr, (void **)b, FEED_BURST, NULL)) > 0) {
			for (unsigned i = 0; i < n; i++) {
				wrong += check_answer(b[i], ++answers, &compared, &report);
				refill(b[i], next);
				next = next + 1 == nqueries ? 0 : next + 1;
			}
			if (rte_ring_enqueue_burst(rxr, (void **)b, n, NULL) < n)
				die("rx ring full");
		}
		if (polls > 4 * count)
			die("the worker answers nothing");
	}
	printf("count_answers %" PRIu64 " polls %" PRIu64 " wrong %" PRIu64 " compared %" PRIu64 "\n",
	       answers, polls, wrong, compared);
	return wrong ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *snap_path = NULL, *qpath = NULL, *lcores = "0,1";
	char prefix[64] = "", err[512] = "", mem[] = "1024";
	double seconds = 5, warmup = 1;
	unsigned inflight = 32768;
	int edns = 0, opt;
	unsigned rrl_rate = 0, rrl_table = 0;
	uint64_t count = 0;
	struct alt al;

	memset(&al, 0, sizeof(al));
	while ((opt = getopt(argc, argv, "s:i:t:w:n:edl:p:R:T:A:c:h")) != -1) {
		switch (opt) {
		case 's': snap_path = optarg; break;
		case 'i': qpath = optarg; break;
		case 't': seconds = atof(optarg); break;
		case 'w': warmup = atof(optarg); break;
		case 'n': inflight = (unsigned)atoi(optarg); break;
		case 'e': edns = edns ? edns : 1; break;
		case 'd': edns = 2; break;
		case 'R': rrl_rate = (unsigned)atoi(optarg); break;
		case 'T': rrl_table = (unsigned)atoi(optarg); break;
		case 'A': al.every = atof(optarg); break;
		case 'c': count = strtoull(optarg, NULL, 10); break;
		case 'l': lcores = optarg; break;
		case 'p': snprintf(prefix, sizeof(prefix), "%s", optarg); break;
		default:
			fprintf(stderr, "usage: %s -s SNAPSHOT -i QUERIES [-t SECONDS] [-w WARMUP] "
				"[-n INFLIGHT] [-e | -d] [-l LCORES] [-p PREFIX] [-R RATE [-T ACCOUNTS] "
				"[-A SECONDS]] [-c COUNT]\n",
				argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (!snap_path || !qpath || seconds <= 0 || warmup < 0 || inflight < 32 ||
	    inflight > RING_SIZE - 64) {
		fprintf(stderr, "dpdk-mem-bench: need -s SNAPSHOT -i QUERIES, -t > 0, "
			"32 <= -n <= %d (see -h)\n", RING_SIZE - 64);
		return 2;
	}
	if (al.every < 0 || (al.every > 0 && (!rrl_rate || al.every * 4 > seconds))) {
		fprintf(stderr, "dpdk-mem-bench: -A wants -R and at least 4 turns in -t\n");
		return 2;
	}
	if (!prefix[0])
		snprintf(prefix, sizeof(prefix), "p53mem%d", (int)getpid());

	struct diag d;
	struct snap *s = NULL;
	diag_init(&d, stderr);
	d.hide_warnings = 1;
	if (snap_open(snap_path, &d, &s) < 0) {
		fprintf(stderr, "dpdk-mem-bench: cannot open snapshot %s\n", snap_path);
		return 2;
	}
	load_queries(qpath, edns);

	char *eal[] = {
		argv[0], "-l", (char *)lcores, "--no-huge", "-m", mem, "--no-pci",
		"--no-telemetry", "--no-shconf", "--file-prefix", prefix,
		"--log-level", "*:error", NULL,
	};
	optind = 1;   /* the EAL parses with getopt too */
	if (dp_init((int)(sizeof(eal) / sizeof(eal[0])) - 1, eal, err, sizeof(err)) < 0) {
		fprintf(stderr, "dpdk-mem-bench: EAL: %s\n", err);
		return 2;
	}
	if (count && rte_lcore_count() != 1)
		die("-c runs on one lcore: give -l with one core");
	if (!count && rte_lcore_count() != 2)
		die("give exactly two lcores with -l (main: feeder, one worker)");

	struct rte_ring *rxr = rte_ring_create("p53mem_rx", RING_SIZE, (int)rte_socket_id(),
					       RING_F_SP_ENQ | RING_F_SC_DEQ);
	struct rte_ring *txr = rte_ring_create("p53mem_tx", RING_SIZE, (int)rte_socket_id(),
					       RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!rxr || !txr)
		die("cannot create the rings");
	if (rte_eth_from_rings("p53mem", &rxr, 1, &txr, 1, rte_socket_id()) < 0)
		die("cannot create the ring port");

	struct dp_conf conf;
	memset(&conf, 0, sizeof(conf));
	engine_conf_init(&conf.engine);
	inet_pton(AF_INET, svc_addr, conf.svc.v4[0]);
	conf.svc.n4 = 1;
	conf.svc.port = 53;
	if (rrl_rate) {
		/* RRL accounting on every response, a limit no query reaches:
		 * what rate limiting costs the worker (issue 7). */
		rrl_conf_init(&conf.rrl);
		conf.rrl.responses_per_second = rrl_rate;
		if (rrl_table)
			conf.rrl.table_size = rrl_table;
		conf.rrl_on = 1;
	}
	conf.nb_desc = 1024;
	conf.nb_mbufs = inflight + 8191;
	conf.nworkers = count ? 1 : 0;
	if (dp_port_setup(&conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "dpdk-mem-bench: port setup: %s\n", err);
		dp_stop();
		return 2;
	}
	expect_answers(s, &conf.engine, &conf.svc);

	struct rte_mempool *pool = rte_mempool_lookup("p53_mbufs");
	if (!pool)
		die("no mbuf pool");
	size_t next = 0;
	for (unsigned i = 0; i < inflight; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

		if (!m)
			die("cannot allocate the in-flight mbufs");
		refill(m, next);
		next = next + 1 == nqueries ? 0 : next + 1;
		if (rte_ring_enqueue(rxr, m) != 0)
			die("rx ring full at fill");
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (count) {
		const struct snap *old;
		int ret;

		/* No worker to wait for: the grace period times out at once. */
		(void)dp_publish(s, &old, 0);
		ret = count_run(rxr, txr, count, next);
		dp_stop();
		snap_close(s);
		return ret;
	}
	if (dp_start(s, err, sizeof(err)) < 0) {
		fprintf(stderr, "dpdk-mem-bench: start: %s\n", err);
		dp_stop();
		return 2;
	}

	uint64_t wrong = 0, checked = 0, compared = 0, polls = 0, idle = 0;
	uint64_t occ_rx = 0, occ_tx = 0, nocc = 0;
	uint64_t rc_noerror = 0, rc_nx = 0, rc_other = 0;
	struct dp_stats st0, st1;
	double t_start = now_s(), t0 = 0, t1 = 0, c0 = -1, c1 = -1;
	int measuring = 0;
	unsigned report_wrong = 5;
	memset(&st0, 0, sizeof(st0));

	for (;;) {
		struct rte_mbuf *b[FEED_BURST];
		unsigned n = rte_ring_dequeue_burst(txr, (void **)b, FEED_BURST, NULL);

		polls++;
		if ((polls & 0x3ff) == 0) {
			double t = now_s();

			if (stop_signal || t - t_start > warmup + seconds + 30)
				break;
			if (!measuring && t - t_start >= warmup) {
				dp_stats(&st0);
				c0 = worker_cpu_s();
				t0 = now_s();
				polls = idle = 0;
				measuring = 1;
				if (al.every > 0)
					alt_begin(&al, t0);
			} else if (measuring && t - t0 >= seconds) {
				if (al.every > 0)
					alt_tick(&al, now_s(), 1);
				dp_stats(&st1);
				c1 = worker_cpu_s();
				t1 = now_s();
				if (n)
					rte_pktmbuf_free_bulk(b, n);
				break;
			}
			if (measuring && al.every > 0)
				alt_tick(&al, t, 0);
			if (measuring) {
				occ_rx += rte_ring_count(rxr);
				occ_tx += rte_ring_count(txr);
				nocc++;
			}
		}
		if (n == 0) {
			idle++;
			continue;
		}
		for (unsigned i = 0; i < n; i++) {
			struct rte_mbuf *m = b[i];
			const uint8_t *dns = rte_pktmbuf_mtod(m, const uint8_t *) + 42;

			if (measuring) {
				checked++;
				wrong += check_answer(m, checked, &compared, &report_wrong);
				switch (dns[3] & 0x0f) {
				case 0: rc_noerror++; break;
				case 3: rc_nx++; break;
				default: rc_other++; break;
				}
			}
			refill(m, next);
			next = next + 1 == nqueries ? 0 : next + 1;
		}
		unsigned e = rte_ring_enqueue_burst(rxr, (void **)b, n, NULL);
		if (e < n)
			rte_pktmbuf_free_bulk(b + e, n - e);   /* cannot happen: fewer in flight */
	}
	if (!measuring || t1 == 0) {
		dp_stats(&st1);
		t1 = now_s();
		if (!measuring)
			t0 = t_start;
	}
	const struct snap *last = dp_stop();
	(void)last;
	snap_close(s);

	double secs = t1 - t0;
	uint64_t answers = st1.answers - st0.answers;
	uint64_t rx = st1.rx - st0.rx, loops = st1.heartbeat - st0.heartbeat;
	double aps = secs > 0 ? (double)answers / secs : 0;
	double wcpu = (c0 >= 0 && c1 >= 0) ? c1 - c0 : -1;
	double apcs = wcpu > 0 ? (double)answers / wcpu : 0;
	uint64_t rcs = rc_noerror + rc_nx + rc_other;
	uint64_t drops = 0;
	for (int v = 0; v < PKT_VERDICT_COUNT; v++)
		drops += st1.drop[v] - st0.drop[v];

	fprintf(stderr, "dpdk-mem-bench: %zu queries in the stream, %u in flight, EAL -l %s "
		"(worker lcore %s)\n", nqueries, inflight, lcores, strchr(lcores, ',') ?
		strchr(lcores, ',') + 1 : "?");
	fprintf(stderr, "dpdk-mem-bench: %.0f answers/s over %.2f s (%" PRIu64 " answers, "
		"%" PRIu64 " received, %" PRIu64 " dropped, %" PRIu64 " tx failures)\n",
		aps, secs, answers, rx, drops + st1.drop_engine - st0.drop_engine,
		st1.tx_fail - st0.tx_fail);
	fprintf(stderr, "dpdk-mem-bench: the worker thread had %.2f CPU s of the %.2f s: "
		"%.0f answers per CPU second (its empty polls count as busy)\n", wcpu, secs, apcs);
	fprintf(stderr, "dpdk-mem-bench: worker avg burst %.1f frames/loop; feeder idle %.2f %% "
		"of polls; rings on average: %.0f queries waiting for the worker, %.0f answers "
		"for the feeder\n", loops ? (double)rx / (double)loops : 0,
		polls ? 100.0 * (double)idle / (double)polls : 0,
		nocc ? (double)occ_rx / (double)nocc : 0, nocc ? (double)occ_tx / (double)nocc : 0);
	fprintf(stderr, "dpdk-mem-bench: worker loops %" PRIu64 ", frames %" PRIu64 "\n", loops, rx);
	fprintf(stderr, "dpdk-mem-bench: %" PRIu64 " wrong of %" PRIu64 " checked (%" PRIu64
		" compared bytewise)\n", wrong, checked, compared);
	printf("answers_per_s %.0f answers %" PRIu64 " seconds %.3f wrong %" PRIu64
	       " checked %" PRIu64 " compared %" PRIu64 " nxdomain_pct %.2f noerror_pct %.2f"
	       " other_rcode %" PRIu64 " avg_burst %.1f feeder_idle_pct %.2f"
	       " rx_ring_avg %.0f tx_ring_avg %.0f worker_cpu_s %.2f answers_per_cpu_s %.0f\n",
	       aps, answers, secs, wrong, checked, compared,
	       rcs ? 100.0 * (double)rc_nx / (double)rcs : 0,
	       rcs ? 100.0 * (double)rc_noerror / (double)rcs : 0, rc_other,
	       loops ? (double)rx / (double)loops : 0,
	       polls ? 100.0 * (double)idle / (double)polls : 0,
	       nocc ? (double)occ_rx / (double)nocc : 0, nocc ? (double)occ_tx / (double)nocc : 0,
	       wcpu, apcs);
	if (al.every > 0) {
		double on = alt_rate(&al, 1), off = alt_rate(&al, 0);

		fprintf(stderr, "dpdk-mem-bench: RRL on %.0f answers/s (%u turns, %.2f s), off %.0f "
			"answers/s (%u turns, %.2f s): RRL costs %.2f %%\n", on, al.turns[1],
			al.secs[1], off, al.turns[0], al.secs[0], off > 0 ? 100 * (1 - on / off) : 0);
		printf("rrl_on_per_s %.0f rrl_off_per_s %.0f rrl_cost_pct %.2f rrl_turns %u\n",
		       on, off, off > 0 ? 100 * (1 - on / off) : 0, al.turns[0] + al.turns[1]);
	}
	for (size_t i = 0; i < nqueries; i++)
		free(queries[i].ans);
	free(queries);
	if (checked == 0)
		return 2;
	return wrong ? 1 : 0;
}
