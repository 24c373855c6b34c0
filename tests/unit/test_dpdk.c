/*
 * The DPDK worker loop and snapshot publication, without a NIC: the EAL
 * runs with --no-huge --in-memory and one net_ring port whose TX ring is
 * its RX ring (a loopback). The test enqueues query frames into that ring,
 * runs one iteration of worker 0 (dp_poll) on its own thread, and dequeues
 * the responses the worker transmitted.
 *
 * The RCU test floods the worker from a reader thread while the main
 * thread publishes hundreds of snapshots; each old snapshot is poisoned
 * and freed as soon as dp_publish hands it back, so a worker still using
 * it would give wrong answers (or trip AddressSanitizer). Every response
 * must carry the data of exactly one published serial.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <sys/socket.h>

#include <cmocka.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "diag.h"
#include "dpdk.h"
#include "error.h"
#include "pkt.h"
#include "snap.h"
#include "zone.h"

#define RING_NAME "ETH_RXTX0_net_ring0"

static const char zone_fmt[] =
	"$ORIGIN example.com.\n"
	"$TTL 300\n"
	"@ IN SOA ns1 hostmaster %u 7200 900 1209600 300\n"
	"@ NS ns1\n"
	"ns1 A 192.0.2.1\n"
	"www A 10.0.%u.%u\n"
	"www A 10.1.%u.%u\n";

struct owned_snap {
	uint8_t *blob;
	size_t len;
	struct snap *s;
	unsigned serial;
};

static struct rte_mempool *pool;
static struct rte_ring *ring;
static uint8_t mac_us[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static uint8_t mac_them[6] = { 0x02, 0, 0, 0, 0, 0x02 };

static struct owned_snap *make_snap(unsigned serial)
{
	char text[1024];
	struct zone *z = NULL;
	struct owned_snap *o = calloc(1, sizeof(*o));
	struct diag d;
	int n;

	assert_non_null(o);
	n = snprintf(text, sizeof(text), zone_fmt, serial, serial / 256, serial % 256,
		     serial / 256, serial % 256);
	diag_init(&d, stderr);
	d.hide_warnings = 1;
	assert_int_equal(zone_parse_string(text, (size_t)n, "test", NULL, &d, &z), 0);
	assert_int_equal(zone_check(z, NULL, &d), 0);
	assert_int_equal(snap_compile(&z, 1, NULL, &d, &o->blob, &o->len), 0);
	assert_int_equal(snap_open_mem(o->blob, o->len, &d, &o->s), 0);
	zone_free(z);
	o->serial = serial;
	return o;
}

static void free_snap(struct owned_snap *o)
{
	if (!o)
		return;
	snap_close(o->s);
	memset(o->blob, 0xa5, o->len);   /* poison: a late reader sees garbage */
	free(o->blob);
	free(o);
}

/* ---- frames ------------------------------------------------------------- */

static uint16_t csum(const void *p, size_t n, uint32_t sum)
{
	return pkt_csum_fold(pkt_csum_add(sum, p, n));
}

#define BAD_CSUM 1      /* build_query's flags: a wrong UDP checksum */
#define QR_SET   2      /* a response, which the engine drops */

/* A DNS query for name/type in an Ethernet frame to dst (v4 or v6). */
static size_t build_query(uint8_t *f, int v6, const char *name, uint16_t qtype,
			  uint16_t id, int flags)
{
	uint8_t dns[512];
	size_t dl = 12, off;
	const char *p = name;

	memset(dns, 0, 12);
	dns[0] = (uint8_t)(id >> 8);
	dns[1] = (uint8_t)id;
	dns[2] = flags & QR_SET ? 0x81 : 0x01;      /* RD */
	dns[5] = 1;         /* QDCOUNT */
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		dns[dl++] = (uint8_t)l;
		memcpy(dns + dl, p, l);
		dl += l;
		p += l + (dot ? 1 : 0);
	}
	dns[dl++] = 0;
	dns[dl++] = (uint8_t)(qtype >> 8);
	dns[dl++] = (uint8_t)qtype;
	dns[dl++] = 0;
	dns[dl++] = 1;

	memcpy(f, mac_us, 6);
	memcpy(f + 6, mac_them, 6);
	f[12] = v6 ? 0x86 : 0x08;
	f[13] = v6 ? 0xdd : 0x00;
	off = 14;
	uint8_t *ip = f + off, *u;
	size_t ulen = 8 + dl;
	uint32_t sum;
	if (!v6) {
		memset(ip, 0, 20);
		ip[0] = 0x45;
		ip[2] = (uint8_t)((20 + ulen) >> 8);
		ip[3] = (uint8_t)(20 + ulen);
		ip[8] = 64;
		ip[9] = 17;
		inet_pton(AF_INET, "198.18.0.2", ip + 12);
		inet_pton(AF_INET, "192.0.2.53", ip + 16);
		uint16_t c = csum(ip, 20, 0);
		ip[10] = (uint8_t)(c >> 8);
		ip[11] = (uint8_t)c;
		u = ip + 20;
		sum = pkt_csum_add(0, ip + 12, 8);
	} else {
		memset(ip, 0, 40);
		ip[0] = 0x60;
		ip[4] = (uint8_t)(ulen >> 8);
		ip[5] = (uint8_t)ulen;
		ip[6] = 17;
		ip[7] = 64;
		inet_pton(AF_INET6, "fd00:53::2", ip + 8);
		inet_pton(AF_INET6, "2001:db8::53", ip + 24);
		u = ip + 40;
		sum = pkt_csum_add(0, ip + 8, 32);
	}
	u[0] = 0x9c;
	u[1] = 0x40;        /* port 40000 */
	u[2] = 0;
	u[3] = 53;
	u[4] = (uint8_t)(ulen >> 8);
	u[5] = (uint8_t)ulen;
	u[6] = u[7] = 0;
	memcpy(u + 8, dns, dl);
	uint8_t ph[4] = { 0, 17, (uint8_t)(ulen >> 8), (uint8_t)ulen };
	sum = pkt_csum_add(sum, ph, 4);
	uint16_t c = csum(u, ulen, sum);
	if (c == 0)
		c = 0xffff;
	if (flags & BAD_CSUM)
		c ^= 0x1234;
	u[6] = (uint8_t)(c >> 8);
	u[7] = (uint8_t)c;
	return (size_t)(u - f) + ulen;
}

static struct rte_mbuf *mbuf_of(const uint8_t *f, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	assert_non_null(m);
	char *p = rte_pktmbuf_append(m, (uint16_t)len);
	assert_non_null(p);
	memcpy(p, f, len);
	return m;
}

static void send_frame(const uint8_t *f, size_t len)
{
	struct rte_mbuf *m = mbuf_of(f, len);
	assert_int_equal(rte_ring_enqueue(ring, m), 0);
}

/* The A records of the answer section (up to max) into a[]; returns
 * ANCOUNT. Owners must be compression pointers (they are, to the qname). */
static unsigned answers_a(const uint8_t *dns, size_t len, uint32_t *a, unsigned max)
{
	unsigned an = (unsigned)((dns[6] << 8) | dns[7]), got = 0;
	size_t o = 12;

	for (unsigned i = 0; i < max; i++)
		a[i] = 0;
	while (o < len && dns[o])
		o += dns[o] + 1u;
	o += 5;
	for (unsigned i = 0; i < an && o + 12 <= len; i++) {
		assert_int_equal(dns[o] & 0xc0, 0xc0);
		uint16_t type = (uint16_t)((dns[o + 2] << 8) | dns[o + 3]);
		uint16_t rdlen = (uint16_t)((dns[o + 10] << 8) | dns[o + 11]);
		o += 12;
		assert_true(o + rdlen <= len);
		if (type == 1 && rdlen == 4 && got < max)
			a[got++] = ((uint32_t)dns[o] << 24) | ((uint32_t)dns[o + 1] << 16) |
				   ((uint32_t)dns[o + 2] << 8) | dns[o + 3];
		o += rdlen;
	}
	return an;
}

/* Response checks: returns the RCODE; *a gets the first A record's
 * address (0 if none), *ancount the answer count. Verifies MACs, addresses,
 * ports and checksums of the reply frame. */
static int check_reply(struct rte_mbuf *m, int v6, uint16_t id, uint32_t *a, unsigned *ancount)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	size_t len = m->data_len, l3 = 14, l4 = v6 ? 54 : 34;
	uint8_t want[16];

	assert_int_equal(m->nb_segs, 1);
	assert_memory_equal(f, mac_them, 6);
	assert_memory_equal(f + 6, mac_us, 6);
	uint8_t *ip = f + l3, *u = f + l4, *dns = u + 8;
	size_t ulen = ((size_t)u[4] << 8) | u[5];
	assert_int_equal(l4 + ulen, len);
	uint32_t sum;
	if (!v6) {
		assert_int_equal(csum(ip, 20, 0), 0);
		inet_pton(AF_INET, "192.0.2.53", want);
		assert_memory_equal(ip + 12, want, 4);
		inet_pton(AF_INET, "198.18.0.2", want);
		assert_memory_equal(ip + 16, want, 4);
		sum = pkt_csum_add(0, ip + 12, 8);
	} else {
		inet_pton(AF_INET6, "2001:db8::53", want);
		assert_memory_equal(ip + 8, want, 16);
		sum = pkt_csum_add(0, ip + 8, 32);
	}
	uint8_t ph[4] = { 0, 17, (uint8_t)(ulen >> 8), (uint8_t)ulen };
	assert_int_equal(csum(u, ulen, pkt_csum_add(sum, ph, 4)), 0);
	assert_int_equal(u[0], 0);
	assert_int_equal(u[1], 53);
	assert_int_equal((u[2] << 8) | u[3], 40000);
	assert_int_equal((dns[0] << 8) | dns[1], id);
	assert_true(dns[2] & 0x80);    /* QR */
	*ancount = answers_a(dns, ulen - 8, a, 1);
	return dns[3] & 0x0f;
}

static struct rte_mbuf *take_reply(void)
{
	void *m = NULL;

	assert_int_equal(rte_ring_dequeue(ring, &m), 0);
	return m;
}

/* ---- setup -------------------------------------------------------------- */

static int group_setup(void **state)
{
	char prefix[64], err[256] = "";
	char *argv[] = {
		"test_dpdk", "--no-huge", "-m", "64", "--no-shconf", "--no-pci",
		"--no-telemetry", "-l", "0", "--vdev", "net_ring0", "--log-level", "*:error",
		"--file-prefix", prefix, NULL,
	};
	struct dp_conf conf;

	(void)state;
	snprintf(prefix, sizeof(prefix), "p53test%d", (int)getpid());
	if (dp_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv, err, sizeof(err)) < 0) {
		fprintf(stderr, "cannot start the EAL: %s\n", err);
		return -1;
	}
	memset(&conf, 0, sizeof(conf));
	engine_conf_init(&conf.engine);
	inet_pton(AF_INET, "192.0.2.53", conf.svc.v4[0]);
	conf.svc.n4 = 1;
	inet_pton(AF_INET6, "2001:db8::53", conf.svc.v6[0]);
	conf.svc.n6 = 1;
	conf.svc.port = 53;
	conf.nworkers = 1;
	conf.nb_desc = 256;
	conf.nb_mbufs = 2047;
	/* RRL at 2 answers a second, suspended but in test_rrl_burst */
	conf.rrl_on = 1;
	rrl_conf_init(&conf.rrl);
	conf.rrl.responses_per_second = 2;
	conf.rrl.slip = 0;
	if (dp_port_setup(&conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "port setup: %s\n", err);
		return -1;
	}
	dp_rrl_suspend(true);
	pool = rte_mempool_lookup("p53_mbufs");
	ring = rte_ring_lookup(RING_NAME);
	if (!pool || !ring) {
		fprintf(stderr, "no pool or ring\n");
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	dp_stop();
	return 0;
}

/* ---- tests -------------------------------------------------------------- */

/* A stand-in for the worker lcore while the test thread publishes. */
static atomic_int poller_stop;

static void *poller(void *arg)
{
	(void)arg;
	while (!atomic_load(&poller_stop))
		dp_poll(0);
	return NULL;
}

static int publish_polled(const struct snap *s, const struct snap **old)
{
	pthread_t t;
	int ret;

	atomic_store(&poller_stop, 0);
	assert_int_equal(pthread_create(&t, NULL, poller, NULL), 0);
	ret = dp_publish(s, old, 5000);
	atomic_store(&poller_stop, 1);
	pthread_join(t, NULL);
	return ret;
}

static void test_errors(void **state)
{
	char err[128] = "";
	char *argv[] = { "x", NULL };
	struct dp_conf conf;

	(void)state;
	memset(&conf, 0, sizeof(conf));
	assert_int_equal(dp_init(1, argv, err, sizeof(err)), P53_ESTATE);
	assert_non_null(strstr(err, "already"));
	assert_int_equal(dp_port_setup(&conf, err, sizeof(err)), P53_ESTATE);
	/* net_ring port, one worker, but -l 0 has no worker lcore */
	assert_int_equal(dp_start(NULL, err, sizeof(err)), P53_EINVAL);
	assert_int_equal(dp_workers(), 1);
	assert_int_equal(dp_heartbeat(7), 0);
}

static void test_loop(void **state)
{
	struct owned_snap *o = make_snap(7);
	const struct snap *old = (const struct snap *)1;
	uint8_t f[1600];
	struct dp_stats st0, st;
	struct rte_mbuf *m;
	uint32_t a;
	unsigned an;
	size_t len;

	(void)state;
	dp_stats(&st0);
	uint64_t hb = dp_heartbeat(0);
	/* nothing published yet: SERVFAIL */
	len = build_query(f, 0, "www.example.com", 1, 1, 0);
	send_frame(f, len);
	assert_int_equal(dp_poll(0), 1);
	m = take_reply();
	assert_int_equal(check_reply(m, 0, 1, &a, &an), 2);
	rte_pktmbuf_free(m);
	assert_true(dp_heartbeat(0) > hb);

	/* A worker that does not poll holds up the grace period: timeout,
	 * and the old snapshot is not handed back (the store happened). */
	assert_int_equal(dp_publish(o->s, &old, 20), P53_ETIMEOUT);
	assert_null(old);
	assert_ptr_equal(dp_current(), o->s);
	assert_int_equal(publish_polled(o->s, &old), 0);
	assert_ptr_equal(old, o->s);

	/* IPv4 answer */
	len = build_query(f, 0, "www.example.com", 1, 2, 0);
	send_frame(f, len);
	/* IPv6 answer, NXDOMAIN, bad checksum, not ours (ARP), multi-segment */
	len = build_query(f, 1, "www.example.com", 1, 3, 0);
	send_frame(f, len);
	len = build_query(f, 0, "nope.example.com", 1, 4, 0);
	send_frame(f, len);
	len = build_query(f, 0, "www.example.com", 1, 5, 1);
	send_frame(f, len);
	memset(f, 0, 60);
	memset(f, 0xff, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	send_frame(f, 60);
	len = build_query(f, 0, "www.example.com", 1, 6, 0);
	m = mbuf_of(f, 40);
	struct rte_mbuf *m2 = mbuf_of(f + 40, len - 40);
	assert_int_equal(rte_pktmbuf_chain(m, m2), 0);
	assert_int_equal(rte_ring_enqueue(ring, m), 0);

	assert_int_equal(dp_poll(0), 6);
	assert_int_equal(rte_ring_count(ring), 3);
	m = take_reply();
	assert_int_equal(check_reply(m, 0, 2, &a, &an), 0);
	assert_int_equal(an, 2);
	assert_int_equal(a >> 24, 10);
	assert_int_equal(a & 0xff, 7);
	rte_pktmbuf_free(m);
	m = take_reply();
	assert_int_equal(check_reply(m, 1, 3, &a, &an), 0);
	assert_int_equal(a & 0xff, 7);
	rte_pktmbuf_free(m);
	m = take_reply();
	assert_int_equal(check_reply(m, 0, 4, &a, &an), 3);   /* NXDOMAIN */
	assert_int_equal(an, 0);
	rte_pktmbuf_free(m);

	dp_stats(&st);
	assert_int_equal(st.rx - st0.rx, 7);
	assert_int_equal(st.tx - st0.tx, 4);
	assert_int_equal(st.answers - st0.answers, 4);
	assert_int_equal(st.rcode[0] - st0.rcode[0], 2);
	assert_int_equal(st.rcode[2] - st0.rcode[2], 1);
	assert_int_equal(st.rcode[3] - st0.rcode[3], 1);
	assert_int_equal(st.drop[PKT_DROP_CHECKSUM] - st0.drop[PKT_DROP_CHECKSUM], 1);
	assert_int_equal(st.drop[PKT_KERNEL] - st0.drop[PKT_KERNEL], 1);
	assert_int_equal(st.drop_multiseg - st0.drop_multiseg, 1);
	assert_int_equal(st.tx_fail - st0.tx_fail, 0);
	struct dp_stats w0;
	dp_worker_stats(0, &w0);
	assert_int_equal(w0.rx, st.rx);
	dp_worker_stats(3, &w0);
	assert_int_equal(w0.rx, 0);

	/* leave nothing published that the next test frees */
	assert_int_equal(publish_polled(NULL, &old), 0);
	assert_ptr_equal(old, o->s);
	free_snap(o);
}

/* RRL sees a whole burst, the queries the engine drops in it too: those
 * cost their client nothing, and the limited answers of the others are
 * dropped, the rest sent in order. */
static void test_rrl_burst(void **state)
{
	struct owned_snap *o = make_snap(9);
	const struct snap *old = NULL;
	struct dp_stats st0, st;
	uint8_t f[1600];
	struct rte_mbuf *m;
	unsigned an;
	uint32_t a;
	size_t len;

	(void)state;
	assert_int_equal(publish_polled(o->s, &old), 0);
	dp_rrl_suspend(false);
	dp_stats(&st0);
	for (uint16_t id = 1; id <= 8; id++) {
		/* 1, 4 and 8 are responses: the engine drops them */
		len = build_query(f, 0, "www.example.com", 1, id,
				  id == 1 || id == 4 || id == 8 ? QR_SET : 0);
		send_frame(f, len);
	}
	assert_int_equal(dp_poll(0), 8);
	assert_int_equal(rte_ring_count(ring), 2);
	m = take_reply();
	assert_int_equal(check_reply(m, 0, 2, &a, &an), 0);
	rte_pktmbuf_free(m);
	m = take_reply();
	assert_int_equal(check_reply(m, 0, 3, &a, &an), 0);
	rte_pktmbuf_free(m);
	dp_stats(&st);
	assert_int_equal(st.drop_engine - st0.drop_engine, 3);
	assert_int_equal(st.rrl.limited[ENGINE_KIND_ANSWER] - st0.rrl.limited[ENGINE_KIND_ANSWER], 3);
	assert_int_equal(st.rrl.dropped[ENGINE_KIND_ANSWER] - st0.rrl.dropped[ENGINE_KIND_ANSWER], 3);
	assert_int_equal(st.tx - st0.tx, 2);
	dp_rrl_suspend(true);
	assert_int_equal(publish_polled(NULL, &old), 0);
	assert_ptr_equal(old, o->s);
	free_snap(o);
}

/* The health check's canary goes through the worker's own loop: answered
 * from the snapshot it serves, only when the worker polls; one at a time;
 * a frame not for us comes back as dropped. */
static void test_canary(void **state)
{
	struct owned_snap *o = make_snap(9);
	const struct snap *old = NULL;
	struct engine_client cl = { .family = AF_INET, .port = 40000 };
	uint8_t dns[64] = { 0xca, 0xfe, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
	uint8_t dst[4], f[DP_CANARY_MAX], r[DP_CANARY_MAX];
	struct dp_stats st0, st;
	size_t dl = 12, len;
	int n;

	(void)state;
	memcpy(dns + dl, "\3www\7example\3com\0\0\1\0\1", 21);
	dl += 21;
	inet_pton(AF_INET, "198.18.0.2", cl.addr);
	inet_pton(AF_INET, "192.0.2.53", dst);
	assert_int_equal(publish_polled(o->s, &old), 0);
	dp_stats(&st0);
	len = pkt_build(f, sizeof(f), &cl, dst, 53, dns, dl);
	assert_true(len > 0);
	assert_int_equal(dp_canary_send(7, f, len), P53_EINVAL);
	assert_int_equal(dp_canary_send(0, f, DP_CANARY_MAX + 1), P53_EINVAL);
	assert_int_equal(dp_canary_send(0, f, len), 0);
	assert_int_equal(dp_canary_recv(0, r, sizeof(r)), 0);
	assert_int_equal(dp_canary_send(0, f, len), P53_ESTATE);
	dp_poll(0);
	n = dp_canary_recv(0, r, sizeof(r));
	assert_true(n > 14 + 20 + 8 + 12);
	/* a reply frame: addresses swapped, QR, the ID, NOERROR, two A */
	assert_memory_equal(r + 14 + 12, dst, 4);
	assert_memory_equal(r + 14 + 16, cl.addr, 4);
	assert_int_equal((r[42] << 8) | r[43], 0xcafe);
	assert_true(r[44] & 0x80);
	assert_int_equal(r[45] & 0x0f, 0);
	assert_int_equal((r[48] << 8) | r[49], 2);
	/* not counted as traffic */
	dp_stats(&st);
	assert_int_equal(st.rx, st0.rx);
	assert_int_equal(st.answers, st0.answers);
	/* to an address we do not serve: dropped, said so */
	inet_pton(AF_INET, "192.0.2.99", dst);
	len = pkt_build(f, sizeof(f), &cl, dst, 53, dns, dl);
	assert_int_equal(dp_canary_send(0, f, len), 0);
	dp_poll(0);
	assert_int_equal(dp_canary_recv(0, r, sizeof(r)), P53_ENOTFOUND);
	assert_int_equal(publish_polled(NULL, &old), 0);
	assert_ptr_equal(old, o->s);
	free_snap(o);
}

/* ---- RCU under load ------------------------------------------------------ */

static atomic_int stop_reader;
static atomic_uint published_lo;   /* oldest serial a response may carry */
static atomic_uint published_hi;   /* newest serial published */

struct reader_result {
	unsigned long answers, servfail, bad;
	char why[160];
};

static void *reader(void *arg)
{
	struct reader_result *r = arg;
	uint8_t f[1600];
	uint16_t id = 0;

	while (!atomic_load(&stop_reader)) {
		unsigned lo = atomic_load(&published_lo);
		for (int i = 0; i < 8; i++) {
			size_t len = build_query(f, i & 1, "www.example.com", 1, ++id, 0);
			struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
			if (!m)
				break;
			memcpy(rte_pktmbuf_append(m, (uint16_t)len), f, len);
			if (rte_ring_enqueue(ring, m) != 0)
				rte_pktmbuf_free(m);
		}
		dp_poll(0);
		unsigned hi = atomic_load(&published_hi);
		void *objs[32];
		unsigned n = rte_ring_dequeue_burst(ring, objs, 32, NULL);
		for (unsigned i = 0; i < n; i++) {
			struct rte_mbuf *m = objs[i];
			uint8_t *fr = rte_pktmbuf_mtod(m, uint8_t *);
			int v6 = fr[12] == 0x86;
			uint8_t *dns = fr + (v6 ? 62 : 42);
			uint16_t ancount = (uint16_t)((dns[6] << 8) | dns[7]);
			int rcode = dns[3] & 0xf;
			if (rcode == 2) {
				r->servfail++;
			} else if (rcode != 0 || ancount != 2) {
				if (!r->bad++)
					snprintf(r->why, sizeof(r->why), "rcode %d ancount %u", rcode,
						 ancount);
			} else {
				/* both A records must be of one serial, within the window */
				uint32_t a[2];
				size_t dl = m->data_len - (size_t)(dns - fr);
				answers_a(dns, dl, a, 2);
				unsigned s0 = (a[0] >> 8 & 0xff) * 256 + (a[0] & 0xff);
				unsigned s1 = (a[1] >> 8 & 0xff) * 256 + (a[1] & 0xff);
				uint8_t a0[2] = { (uint8_t)(a[0] >> 24), (uint8_t)(a[0] >> 16) };
				uint8_t a1[2] = { (uint8_t)(a[1] >> 24), (uint8_t)(a[1] >> 16) };
				if (s0 != s1 || s0 < lo || s0 > hi || a0[0] != 10 || a1[0] != 10 ||
				    a0[1] + a1[1] != 1) {
					if (!r->bad++)
						snprintf(r->why, sizeof(r->why),
							 "serials %u/%u outside [%u, %u]", s0, s1,
							 lo, hi);
				} else {
					r->answers++;
				}
			}
			rte_pktmbuf_free(m);
		}
	}
	return NULL;
}

static void test_publish_under_load(void **state)
{
	enum { SWAPS = 400 };
	struct owned_snap *cur = NULL;
	struct reader_result res = { 0 };
	pthread_t t;
	const struct snap *old;
	struct dp_stats st0, st;

	(void)state;
	dp_stats(&st0);
	atomic_store(&stop_reader, 0);
	atomic_store(&published_lo, 1);
	atomic_store(&published_hi, 0);
	assert_int_equal(pthread_create(&t, NULL, reader, &res), 0);
	for (unsigned serial = 1; serial <= SWAPS; serial++) {
		struct owned_snap *next = make_snap(serial);
		atomic_store(&published_hi, serial);
		assert_int_equal(dp_publish(next->s, &old, 5000), 0);
		if (cur) {
			assert_ptr_equal(old, cur->s);
			/* every response from now on carries >= serial */
			atomic_store(&published_lo, serial);
			free_snap(cur);
		}
		cur = next;
		usleep(200);
	}
	usleep(20000);
	atomic_store(&stop_reader, 1);
	pthread_join(t, NULL);
	dp_stats(&st);
	fprintf(stderr, "# %u swaps: %lu consistent answers, %lu SERVFAIL (before the first), "
		"%lu bad%s%s\n", SWAPS, res.answers, res.servfail, res.bad, res.bad ? ": " : "",
		res.why);
	assert_int_equal(res.bad, 0);
	assert_true(res.answers > SWAPS);
	assert_int_equal(st.tx_fail - st0.tx_fail, 0);
	assert_int_equal(publish_polled(NULL, &old), 0);
	assert_ptr_equal(old, cur->s);
	free_snap(cur);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_loop),
		cmocka_unit_test(test_canary),
		cmocka_unit_test(test_rrl_burst),
		cmocka_unit_test(test_publish_under_load),
	};
	if (geteuid() != 0 && access("/dev/hugepages", W_OK) != 0)
		fprintf(stderr, "# not root: the EAL may refuse to start\n");
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
