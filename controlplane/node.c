/*
 * node.c — observing the node for the health decision.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "node.h"

#ifdef POP53_DPDK
#include "dpdk.h"
#include "pkt.h"
#endif

#define DEFAULT_INTERVAL_MS 200
#define CANARY_MAX 512

struct ctl_node {
	struct ctl_node_conf c;
	struct ctl_node_ops ops;
	struct event *timer;
	struct health h;
	uint16_t id;                    /* of the canary in flight */
	bool sent;                      /* a canary is in flight */
	int fd;                         /* kernel mode: its socket */
	unsigned nworkers;
	uint64_t beat[64];              /* workers' heartbeats last time */
	uint64_t canaries;              /* sent */
	char reason[256];
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The canary query: SOA of the first zone's apex, RD clear, EDNS. */
static size_t canary_query(const struct snap *s, uint16_t id, uint8_t *q,
			   size_t cap)
{
	const uint8_t *apex = snap_ptr(s, snap_zone_at(s, 0)->apex_name);
	int len = dname_wire_len(apex, DNAME_MAXLEN);
	static const uint8_t tail[] = { 0, 6, 0, 1,    /* SOA IN */
		0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0 };  /* OPT 1232 */

	if (len <= 0 || 12 + (size_t)len + sizeof(tail) > cap)
		return 0;
	memset(q, 0, 12);
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	q[5] = 1;
	q[11] = 1;
	memcpy(q + 12, apex, (size_t)len);
	memcpy(q + 12 + len, tail, sizeof(tail));
	return 12 + (size_t)len + sizeof(tail);
}

/* Whether r (len bytes) answers the canary with the apex SOA; why not in
 * why. */
static bool canary_ok(const uint8_t *r, size_t len, uint16_t id,
		      char *why, size_t whylen)
{
	if (len < 12 || ((r[0] << 8) | r[1]) != id || !(r[2] & 0x80)) {
		snprintf(why, whylen, "not a response to it");
		return false;
	}
	if ((r[3] & 0x0f) != 0) {
		snprintf(why, whylen, "RCODE %u", r[3] & 0x0fu);
		return false;
	}
	if (!(r[2] & 0x04) || ((r[6] << 8) | r[7]) < 1) {
		snprintf(why, whylen, "no authoritative SOA in the answer");
		return false;
	}
	return true;
}

/* ---- kernel mode: a UDP socket to the service address ------------------ */

static void kernel_send(struct ctl_node *n, const uint8_t *q, size_t len)
{
	if (n->fd >= 0)
		close(n->fd);
	/* A new socket, so a new source port: SO_REUSEPORT hashes it to
	 * any of the UDP threads. */
	n->fd = socket(n->c.service.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (n->fd < 0 ||
	    connect(n->fd, (const struct sockaddr *)&n->c.service, n->c.service_len) < 0 ||
	    send(n->fd, q, len, 0) != (ssize_t)len) {
		if (n->fd >= 0)
			close(n->fd);
		n->fd = -1;
		return;
	}
	n->sent = true;
	n->canaries++;
}

static bool kernel_check(struct ctl_node *n, char *why, size_t whylen)
{
	uint8_t r[CANARY_MAX];
	ssize_t got;

	if (n->fd < 0) {
		snprintf(why, whylen, "cannot send to the service address: %s", strerror(errno));
		return false;
	}
	got = recv(n->fd, r, sizeof(r), 0);
	if (got < 0) {
		snprintf(why, whylen, "no answer in %u ms", n->c.interval_ms);
		return false;
	}
	return canary_ok(r, (size_t)got, n->id, why, whylen);
}

/* ---- DPDK mode: through every worker's loop ------------------------------ */

#ifdef POP53_DPDK
static void dpdk_send(struct ctl_node *n, const uint8_t *q, size_t len)
{
	struct engine_client cl = { .port = (uint16_t)(49152 + n->id % 16384) };
	uint8_t f[DP_CANARY_MAX], dst[16];
	size_t fl;

	if (n->c.service.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)&n->c.service;

		cl.family = AF_INET6;
		memcpy(dst, &a->sin6_addr, 16);
		cl.addr[0] = 0xfd;      /* a unique local source */
		cl.addr[15] = 0x53;
		fl = pkt_build(f, sizeof(f), &cl, dst, ntohs(a->sin6_port), q, len);
	} else {
		const struct sockaddr_in *a = (const void *)&n->c.service;

		cl.family = AF_INET;
		memcpy(dst, &a->sin_addr, 4);
		cl.addr[0] = 198;       /* RFC 2544 benchmarking space */
		cl.addr[1] = 18;
		cl.addr[3] = 53;
		fl = pkt_build(f, sizeof(f), &cl, dst, ntohs(a->sin_port), q, len);
	}
	n->sent = true;
	n->canaries++;
	for (unsigned w = 0; w < n->nworkers; w++)
		(void)dp_canary_send(w, f, fl);  /* a busy mailbox fails below */
}

static bool dpdk_check(struct ctl_node *n, char *why, size_t whylen)
{
	uint8_t f[DP_CANARY_MAX];

	for (unsigned w = 0; w < n->nworkers; w++) {
		int got = dp_canary_recv(w, f, sizeof(f));
		size_t l4 = n->c.service.ss_family == AF_INET6 ? 14 + 40 : 14 + 20;
		char sub[128];

		if (got == 0) {
			snprintf(why, whylen, "worker %u did not answer in %u ms", w,
				 n->c.interval_ms);
			return false;
		}
		if (got < 0) {
			snprintf(why, whylen, "worker %u dropped it", w);
			return false;
		}
		if ((size_t)got < l4 + 8 ||
		    !canary_ok(f + l4 + 8, (size_t)got - l4 - 8, n->id, sub, sizeof(sub))) {
			snprintf(why, whylen, "worker %u: %s", w,
				 (size_t)got < l4 + 8 ? "short frame" : sub);
			return false;
		}
	}
	return true;
}

static void dpdk_observe(struct ctl_node *n, struct health_obs *o, char *wbuf,
			 size_t wlen, char *pbuf, size_t plen)
{
	unsigned down = 0;

	for (unsigned w = 0; w < n->nworkers; w++) {
		uint64_t b = dp_heartbeat(w);

		if (b == n->beat[w] && o->ok[HEALTH_WORKERS]) {
			o->ok[HEALTH_WORKERS] = false;
			snprintf(wbuf, wlen, "worker %u stalled (no loop in %u ms)", w,
				 n->c.interval_ms);
			o->why[HEALTH_WORKERS] = wbuf;
		}
		n->beat[w] = b;
	}
	if (!dp_ports_up(&down)) {
		o->ok[HEALTH_PORTS] = false;
		snprintf(pbuf, plen, "port %u has no link", down);
		o->why[HEALTH_PORTS] = pbuf;
	}
}
#endif

/* ---- one observation ------------------------------------------------------ */

static void observe(struct ctl_node *n)
{
	const struct snap *s = n->ops.snapshot(n->ops.arg);
	char cwhy[192] = "", wwhy[96] = "", pwhy[64] = "", awhy[96] = "";
	struct health_obs o;
	struct health_event ev;
	uint8_t q[CANARY_MAX];
	size_t qlen;

	memset(&o, 0, sizeof(o));
	for (int c = 0; c < HEALTH_CHECK_COUNT; c++)
		o.ok[c] = true;
#ifdef POP53_DPDK
	if (n->c.dpdk)
		dpdk_observe(n, &o, wwhy, sizeof(wwhy), pwhy, sizeof(pwhy));
#else
	(void)wwhy;
	(void)pwhy;
#endif
	if (!s) {
		o.ok[HEALTH_SNAPSHOT] = false;
		o.why[HEALTH_SNAPSHOT] = "none loaded";
	} else if (n->c.max_snapshot_age_s) {
		uint64_t now = (uint64_t)time(NULL), made = snap_header(s)->created;

		if (now > made && now - made > n->c.max_snapshot_age_s) {
			o.ok[HEALTH_AGE] = false;
			snprintf(awhy, sizeof(awhy), "%llu s old, more than %u s",
				 (unsigned long long)(now - made), n->c.max_snapshot_age_s);
			o.why[HEALTH_AGE] = awhy;
		}
	}
	/* The canary sent last time must have its answer by now. */
	if (!n->sent) {
		o.ok[HEALTH_CANARY] = false;
		o.why[HEALTH_CANARY] = s ? "not answered yet" : "nothing to ask";
	} else if (!(n->c.dpdk ?
#ifdef POP53_DPDK
		     dpdk_check(n, cwhy, sizeof(cwhy))
#else
		     false
#endif
		     : kernel_check(n, cwhy, sizeof(cwhy)))) {
		o.ok[HEALTH_CANARY] = false;
		o.why[HEALTH_CANARY] = cwhy;
	}
	health_observe(&n->h, &o, mono_ms(), &ev);
	snprintf(n->reason, sizeof(n->reason), "%s", ev.up ? "" : ev.reason);
	if (ev.changed)
		n->ops.changed(n->ops.arg, ev.up, ev.reason);
	n->sent = false;
	n->id = (uint16_t)(n->id * 31421u + 6927u);
	if (s && (qlen = canary_query(s, n->id, q, sizeof(q)))) {
#ifdef POP53_DPDK
		if (n->c.dpdk) {
			dpdk_send(n, q, qlen);
			return;
		}
#endif
		kernel_send(n, q, qlen);
	}
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	observe(arg);
}

int ctl_node_start(struct event_base *base, const struct ctl_node_conf *c,
		   const struct ctl_node_ops *ops, struct ctl_node **out,
		   char *err, size_t errlen)
{
	struct ctl_node *n = calloc(1, sizeof(*n));
	struct timeval tv;

	*out = NULL;
	if (!n)
		return P53_ENOMEM;
	n->c = *c;
	n->ops = *ops;
	n->fd = -1;
	n->id = (uint16_t)(getpid() ^ time(NULL));
	if (!n->c.interval_ms)
		n->c.interval_ms = DEFAULT_INTERVAL_MS;
	health_init(&n->h, &n->c.health);
#ifdef POP53_DPDK
	if (n->c.dpdk) {
		n->nworkers = dp_workers();
		if (n->nworkers > sizeof(n->beat) / sizeof(n->beat[0]))
			n->nworkers = sizeof(n->beat) / sizeof(n->beat[0]);
		for (unsigned w = 0; w < n->nworkers; w++)
			n->beat[w] = dp_heartbeat(w);
	}
#endif
	if (n->c.service.ss_family != AF_INET && n->c.service.ss_family != AF_INET6) {
		snprintf(err, errlen, "health: no service address for the canary query");
		free(n);
		return P53_EINVAL;
	}
	n->timer = event_new(base, -1, EV_PERSIST, on_tick, n);
	tv.tv_sec = n->c.interval_ms / 1000;
	tv.tv_usec = (suseconds_t)(n->c.interval_ms % 1000) * 1000;
	if (!n->timer || event_add(n->timer, &tv) < 0) {
		snprintf(err, errlen, "health: cannot start its timer");
		ctl_node_free(n);
		return P53_ENOMEM;
	}
	observe(n);     /* the first canary leaves now */
	*out = n;
	return 0;
}

void ctl_node_set_max_age(struct ctl_node *n, unsigned seconds)
{
	if (n)
		n->c.max_snapshot_age_s = seconds;
}

const struct health *ctl_node_health(const struct ctl_node *n)
{
	return &n->h;
}

uint64_t ctl_node_canaries(const struct ctl_node *n)
{
	return n->canaries;
}

const char *ctl_node_reason(const struct ctl_node *n)
{
	return n->reason;
}

void ctl_node_free(struct ctl_node *n)
{
	if (!n)
		return;
	if (n->timer)
		event_free(n->timer);
	if (n->fd >= 0)
		close(n->fd);
	free(n);
}
