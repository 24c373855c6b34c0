/*
 * srv.c — kernel-socket DNS: UDP worker threads and one TCP thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "srv.h"

#define UDP_BATCH      32
#define UDP_BUF        4096   /* above any EDNS payload we announce */
#define UDP_RCVBUF     (4 << 20)
#define TCP_RBUF_MIN   1024
#define TCP_MSG_MAX    (65535 + 2)
#define TCP_BACKLOG    256
#define TCP_WBUF_MAX   (1u << 20)  /* a client that never reads is cut off */

/* A thread's epoch: odd while it may hold the snapshot pointer. Written
 * by that thread only, read by srv_synchronize. One cache line each. */
struct srv_epoch {
	_Atomic uint64_t ctr;
} __attribute__((aligned(64)));

struct udp_worker {
	struct srv *srv;
	pthread_t thread;
	int started;
	int fds[SRV_MAX_LISTEN];
	size_t nfds;
	int epfd;
	struct srv_stats *stats;
	struct srv_epoch *epoch;
	atomic_uint stall_ms;     /* srv_stall: fault injection */
	struct engine_conf eng;   /* the server's, with this thread's clock */
	struct rrl *rrl;          /* this thread's rate limiting, or NULL */
};

struct tcp_conn {
	int fd;
	uint8_t family;
	uint16_t port;
	uint8_t addr[16];
	uint8_t *rbuf;
	size_t rlen, rcap;
	uint8_t *wbuf;            /* unsent tail of a response */
	size_t wlen, woff;
	uint64_t last_ms;
};

struct srv {
	struct srv_conf conf;
	srv_snap_ptr *snap;
	atomic_int stop;
	int stop_fd;              /* eventfd: wakes every epoll_wait */
	struct udp_worker *udp;
	unsigned nudp;
	pthread_t tcp_thread;
	int tcp_started;
	int tcp_fds[SRV_MAX_LISTEN];
	int tcp_epfd;
	struct tcp_conn *conns;   /* conf.tcp_max_conns slots, fd -1 = free */
	unsigned nconns;
	struct srv_stats *stats;  /* nudp + 1 (TCP last) */
	struct srv_epoch *epochs; /* nudp + 1 (TCP last) */
};

/* Read-side section around every use of *srv->snap. The increment on entry
 * is sequentially consistent, as is the publisher's store of the new
 * pointer: either this thread loads the new pointer, or srv_synchronize
 * sees the odd counter and waits (no store-load reordering either way).
 * The release on exit orders every read of the old snapshot before the
 * even value srv_synchronize acquires. */
static inline const struct snap *snap_enter(struct srv *s, struct srv_epoch *e)
{
	atomic_fetch_add_explicit(&e->ctr, 1, memory_order_seq_cst);
	return atomic_load_explicit(s->snap, memory_order_seq_cst);
}

static inline void snap_exit(struct srv_epoch *e)
{
	atomic_fetch_add_explicit(&e->ctr, 1, memory_order_release);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int srv_parse_listen(const char *text, struct srv_listen *l)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *at = strrchr(text, '@');
	size_t hl = at ? (size_t)(at - text) : strlen(text);
	unsigned long port = 53;
	char *end;

	memset(l, 0, sizeof(*l));
	if (hl == 0 || hl >= sizeof(host))
		return P53_EINVAL;
	memcpy(host, text, hl);
	host[hl] = '\0';
	if (at) {
		port = strtoul(at + 1, &end, 10);
		if (!at[1] || *end || port == 0 || port > 65535)
			return P53_EINVAL;
	}
	struct sockaddr_in *v4 = (struct sockaddr_in *)&l->addr;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&l->addr;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		l->len = sizeof(*v4);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		l->len = sizeof(*v6);
	} else {
		return P53_EINVAL;
	}
	return 0;
}

static void addr_text(const struct srv_listen *l, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	const struct sockaddr_in *v4 = (const void *)&l->addr;
	const struct sockaddr_in6 *v6 = (const void *)&l->addr;

	if (v4->sin_family == AF_INET)
		inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof(ip));
	else
		inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof(ip));
	snprintf(buf, cap, "%s@%u", ip, ntohs(v4->sin_family == AF_INET ?
					     v4->sin_port : v6->sin6_port));
}

static void client_from(const struct sockaddr_storage *ss, uint8_t transport,
			struct engine_client *c)
{
	const struct sockaddr_in *v4 = (const void *)ss;
	const struct sockaddr_in6 *v6 = (const void *)ss;

	memset(c, 0, sizeof(*c));
	c->transport = transport;
	c->family = (uint8_t)ss->ss_family;
	if (ss->ss_family == AF_INET) {
		memcpy(c->addr, &v4->sin_addr, 4);
		c->port = ntohs(v4->sin_port);
	} else {
		memcpy(c->addr, &v6->sin6_addr, 16);
		c->port = ntohs(v6->sin6_port);
	}
}

/* The default receive buffer (rmem_default, ~200 KiB) holds only a few
 * hundred queries: a burst overflows it before the thread drains it.
 * Forced past rmem_max when we have CAP_NET_ADMIN, as NSD does. */
static int udp_rcvbuf(int fd)
{
	int size = UDP_RCVBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) == 0)
		return 0;
	return setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

/* A socket bound to l; SO_REUSEPORT lets every UDP thread own one. */
static int bind_socket(const struct srv_listen *l, int type)
{
	int one = 1, fd = socket(l->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (type == SOCK_DGRAM &&
	     (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	      udp_rcvbuf(fd) < 0)) ||
	    (l->addr.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, (const struct sockaddr *)&l->addr, l->len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, TCP_BACKLOG) < 0)) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void count_answer(struct srv_stats *st, size_t len, const struct engine_result *r)
{
	if (len == 0) {
		st->dropped++;
		st->drop_engine++;
		return;
	}
	st->responses++;
	st->rcode[r->rcode < SRV_RCODES - 1 ? r->rcode : SRV_RCODES - 1]++;
	for (unsigned k = 0; r->policy && k < SRV_POLICY_KINDS; k++)
		st->policy[k] += (r->policy >> k) & 1u;
}

/* ---- UDP ---------------------------------------------------------------- */

struct udp_batch {
	struct mmsghdr rx[UDP_BATCH], tx[UDP_BATCH];
	struct iovec rxio[UDP_BATCH], txio[UDP_BATCH];
	struct sockaddr_storage peer[UDP_BATCH];
	uint8_t rbuf[UDP_BATCH][UDP_BUF];
	uint8_t tbuf[UDP_BATCH][UDP_BUF];
	struct engine_client cl[UDP_BATCH];     /* of the answers in tbuf */
	struct engine_result res[UDP_BATCH];
	struct engine_job ejob[UDP_BATCH];
	uint8_t from[UDP_BATCH];        /* rx index of ejob[k] */
	struct rrl_job job[UDP_BATCH];
};

static void udp_prepare(struct udp_batch *b)
{
	for (int i = 0; i < UDP_BATCH; i++) {
		b->rxio[i] = (struct iovec){ b->rbuf[i], UDP_BUF };
		b->rx[i].msg_hdr = (struct msghdr){ .msg_name = &b->peer[i],
			.msg_namelen = sizeof(b->peer[i]), .msg_iov = &b->rxio[i],
			.msg_iovlen = 1 };
	}
}

/* Rate limiting of a batch's answers (out of them in b): limited ones are
 * dropped or slipped (TC=1, or BADCOOKIE for a cookie client); returns
 * how many answers remain, compacted in order. */
static int udp_limit(struct udp_worker *w, struct udp_batch *b, int out)
{
	int keep = 0;

	for (int i = 0; i < out; i++)
		b->job[i] = (struct rrl_job){ .client = &b->cl[i], .res = &b->res[i] };
	rrl_check_burst(w->rrl, b->job, (unsigned)out);
	for (int i = 0; i < out; i++) {
		size_t len = b->txio[i].iov_len;

		if (b->job[i].action == RRL_SLIP)
			len = engine_truncate(b->tbuf[i], len, &b->res[i], 1);
		if (b->job[i].action == RRL_DROP || len == 0) {
			w->stats->dropped++;
			w->stats->drop_rrl++;
			continue;
		}
		count_answer(w->stats, len, &b->res[i]);
		if (keep != i) {
			memcpy(b->tbuf[keep], b->tbuf[i], len);
			b->tx[keep].msg_hdr = b->tx[i].msg_hdr;
		}
		b->txio[keep] = (struct iovec){ b->tbuf[keep], len };
		b->tx[keep].msg_hdr.msg_iov = &b->txio[keep];
		keep++;
	}
	return keep;
}

/* The thread's clock, read once per batch (vDSO, no system call): the
 * engine's cookie timestamps and the rate limiter's seconds. */
static void batch_clock(struct udp_worker *w)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	w->eng.now = (uint32_t)ts.tv_sec;
	if (w->rrl) {
		clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
		rrl_begin(w->rrl, (uint32_t)ts.tv_sec);
	}
}

/* The received batch's queries as engine jobs, answers to tbuf[k];
 * returns how many. */
static int udp_jobs(struct udp_worker *w, struct udp_batch *b, int n)
{
	int m = 0;

	for (int i = 0; i < n; i++) {
		w->stats->queries++;
		if (b->rx[i].msg_hdr.msg_flags & MSG_TRUNC) {
			w->stats->dropped++;
			w->stats->drop_oversize++;
			continue;
		}
		client_from(&b->peer[i], ENGINE_UDP, &b->cl[m]);
		b->ejob[m] = (struct engine_job){ .q = b->rbuf[i],
			.qlen = b->rx[i].msg_len, .client = &b->cl[m],
			.out = b->tbuf[m], .cap = UDP_BUF, .res = &b->res[m] };
		b->from[m++] = (uint8_t)i;
	}
	return m;
}

/* The batch's answers, in order and without the dropped ones, as the
 * messages to send; returns how many. A drop (a response to no one)
 * is rare: the answers after it are moved down a slot. */
static int udp_answers(struct udp_worker *w, struct udp_batch *b, int m)
{
	int out = 0;

	for (int k = 0; k < m; k++) {
		size_t len = b->ejob[k].len;
		int i = b->from[k];

		if (!w->rrl || len == 0)
			count_answer(w->stats, len, &b->res[k]);
		if (len == 0)
			continue;
		if (out != k) {
			memcpy(b->tbuf[out], b->tbuf[k], len);
			b->cl[out] = b->cl[k];
			b->res[out] = b->res[k];
		}
		b->txio[out] = (struct iovec){ b->tbuf[out], len };
		b->tx[out].msg_hdr = (struct msghdr){ .msg_name = &b->peer[i],
			.msg_namelen = b->rx[i].msg_hdr.msg_namelen,
			.msg_iov = &b->txio[out], .msg_iovlen = 1 };
		out++;
	}
	return out;
}

/* Drain one socket: receive a batch, answer it as one burst (a snapshot
 * too big for the caches has the batch's lookups interleaved), send the
 * answers. */
static void udp_drain(struct udp_worker *w, int fd, struct udp_batch *b)
{
	for (;;) {
		int n = recvmmsg(fd, b->rx, UDP_BATCH, MSG_DONTWAIT, NULL);
		int m, out;
		if (n <= 0)
			return;
		batch_clock(w);
		const struct snap *s = snap_enter(w->srv, w->epoch);
		m = udp_jobs(w, b, n);
		engine_answer_burst(&w->eng, s, b->ejob, (size_t)m);
		out = udp_answers(w, b, m);
		/* The answers are copies in tbuf; RRL reads rrl_name, which
		 * points into the snapshot: limit before leaving it. */
		if (w->rrl && out)
			out = udp_limit(w, b, out);
		snap_exit(w->epoch);
		for (int sent = 0; sent < out;) {
			int k = sendmmsg(fd, b->tx + sent, (unsigned)(out - sent), 0);
			if (k <= 0) {
				w->stats->dropped += (uint64_t)(out - sent);
				w->stats->drop_send += (uint64_t)(out - sent);
				break;
			}
			sent += k;
		}
		for (int i = 0; i < n; i++)
			b->rx[i].msg_hdr.msg_namelen = sizeof(b->peer[i]);
		if (n < UDP_BATCH)
			return;
	}
}

static void *udp_main(void *arg)
{
	struct udp_worker *w = arg;
	struct udp_batch *b = malloc(sizeof(*b));
	struct epoll_event ev[SRV_MAX_LISTEN + 1];

	if (!b)
		return NULL;
	udp_prepare(b);
	while (!atomic_load(&w->srv->stop)) {
		int n = epoll_wait(w->epfd, ev, SRV_MAX_LISTEN + 1, 1000);
		unsigned stall = atomic_exchange_explicit(&w->stall_ms, 0, memory_order_relaxed);

		if (stall) {
			struct timespec ts = { stall / 1000, (long)(stall % 1000) * 1000000L };

			while (nanosleep(&ts, &ts) != 0)
				;
		}
		for (int i = 0; i < n; i++)
			if ((int)ev[i].data.u64 != w->srv->stop_fd)
				udp_drain(w, (int)ev[i].data.u64, b);
	}
	free(b);
	return NULL;
}

static int epoll_add(int epfd, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int udp_start(struct srv *s, char *err, size_t errlen)
{
	char where[80];

	for (unsigned t = 0; t < s->nudp; t++) {
		struct udp_worker *w = &s->udp[t];
		w->srv = s;
		w->stats = &s->stats[t];
		w->epoch = &s->epochs[t];
		w->eng = s->conf.engine;
		if (s->conf.rrl_on) {
			/* SO_REUSEPORT hashes ports too: one client's queries
			 * spread over every thread, which share the limit. */
			struct rrl_conf rc = s->conf.rrl;

			rc.cores = s->nudp;
			if (rrl_create(&rc, &w->rrl, err, errlen) < 0)
				return P53_EINVAL;
		}
		if ((w->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
		    epoll_add(w->epfd, s->stop_fd, EPOLLIN, (uint64_t)s->stop_fd) < 0)
			goto fail;
		for (size_t i = 0; i < s->conf.nlisten; i++) {
			int fd = bind_socket(&s->conf.listen[i], SOCK_DGRAM);
			if (fd < 0) {
				addr_text(&s->conf.listen[i], where, sizeof(where));
				snprintf(err, errlen, "cannot bind UDP %s: %s", where, strerror(errno));
				return P53_EIO;
			}
			w->fds[w->nfds++] = fd;
			if (epoll_add(w->epfd, fd, EPOLLIN, (uint64_t)fd) < 0)
				goto fail;
		}
	}
	for (unsigned t = 0; t < s->nudp; t++) {
		if (pthread_create(&s->udp[t].thread, NULL, udp_main, &s->udp[t]) != 0)
			goto fail;
		s->udp[t].started = 1;
	}
	return 0;
fail:
	snprintf(err, errlen, "cannot start UDP workers: %s", strerror(errno));
	return P53_EIO;
}

/* ---- TCP (RFC 7766) ------------------------------------------------------ */

/* epoll data: listen sockets are tagged so they never collide with a
 * connection slot index. */
#define TAG_LISTEN (1ull << 32)
#define TAG_STOP   (1ull << 33)

static void conn_close(struct srv *s, struct tcp_conn *c)
{
	close(c->fd);
	free(c->rbuf);
	free(c->wbuf);
	*c = (struct tcp_conn){ .fd = -1 };
	s->nconns--;
}

static void tcp_accept(struct srv *s, int lfd, struct srv_stats *st)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		unsigned slot;

		if (fd < 0)
			return;
		if (s->nconns >= s->conf.tcp_max_conns) {
			st->tcp_refused++;
			close(fd);
			continue;
		}
		for (slot = 0; s->conns[slot].fd >= 0; slot++)
			;
		struct tcp_conn *c = &s->conns[slot];
		struct engine_client ec;
		client_from(&ss, ENGINE_TCP, &ec);
		*c = (struct tcp_conn){ .fd = fd, .family = ec.family, .port = ec.port,
					.last_ms = now_ms() };
		memcpy(c->addr, ec.addr, 16);
		if (epoll_add(s->tcp_epfd, fd, EPOLLIN | EPOLLOUT | EPOLLET, slot) < 0) {
			close(fd);
			c->fd = -1;
			continue;
		}
		s->nconns++;
		st->tcp_conns++;
	}
}

/* Send buf, keeping what the socket does not take; 0 or -1 (close). */
static int conn_send(struct tcp_conn *c, const uint8_t *buf, size_t len)
{
	ssize_t k = 0;

	if (!c->wlen) {
		k = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (k < 0)
			k = 0;
		if ((size_t)k == len)
			return 0;
	}
	if (c->wlen + len > TCP_WBUF_MAX)
		return -1;
	uint8_t *w = realloc(c->wbuf, c->wlen + len - (size_t)k);
	if (!w)
		return -1;
	memcpy(w + c->wlen, buf + k, len - (size_t)k);
	c->wbuf = w;
	c->wlen += len - (size_t)k;
	return 0;
}

static int conn_flush(struct tcp_conn *c)
{
	while (c->woff < c->wlen) {
		ssize_t k = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
		if (k < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		c->woff += (size_t)k;
	}
	free(c->wbuf);
	c->wbuf = NULL;
	c->wlen = c->woff = 0;
	return 0;
}

/* Answer every complete message in the read buffer, in order. */
static int conn_answer(struct srv *s, struct tcp_conn *c, struct srv_stats *st,
		       uint8_t *out)
{
	struct srv_epoch *e = &s->epochs[s->nudp];
	const struct snap *snap = snap_enter(s, e);
	struct engine_client ec = { .family = c->family, .transport = ENGINE_TCP,
				    .port = c->port };
	size_t off = 0;
	int ret = 0;

	memcpy(ec.addr, c->addr, 16);
	while (c->rlen - off >= 2) {
		size_t mlen = (size_t)c->rbuf[off] << 8 | c->rbuf[off + 1];
		struct engine_result r;
		if (c->rlen - off < 2 + mlen)
			break;
		struct engine_conf conf = s->conf.engine;
		struct timespec now;

		/* cookies need the time; TCP is not the hot path */
		clock_gettime(CLOCK_REALTIME_COARSE, &now);
		conf.now = (uint32_t)now.tv_sec;
		st->queries++;
		size_t len = engine_answer(&conf, snap, c->rbuf + off + 2, mlen,
					   &ec, out + 2, ENGINE_MAX_RESPONSE, &r);
		count_answer(st, len, &r);
		off += 2 + mlen;
		if (len == 0) {
			ret = -1;    /* a message we must drop: the stream is unusable */
			break;
		}
		out[0] = (uint8_t)(len >> 8);
		out[1] = (uint8_t)len;
		if (conn_send(c, out, len + 2) < 0) {   /* non-blocking send */
			ret = -1;
			break;
		}
	}
	snap_exit(e);
	if (ret < 0)
		return ret;
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
	return 0;
}

static int conn_read(struct srv *s, struct tcp_conn *c, struct srv_stats *st, uint8_t *out)
{
	for (;;) {
		if (c->rlen == c->rcap) {
			size_t cap = c->rcap ? c->rcap * 2 : TCP_RBUF_MIN;
			if (cap > TCP_MSG_MAX)
				cap = TCP_MSG_MAX;
			if (cap == c->rcap)
				return -1;
			uint8_t *r = realloc(c->rbuf, cap);
			if (!r)
				return -1;
			c->rbuf = r;
			c->rcap = cap;
		}
		ssize_t k = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
		if (k == 0)
			return -1;
		if (k < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		c->rlen += (size_t)k;
		c->last_ms = now_ms();
		if (conn_answer(s, c, st, out) < 0)
			return -1;
	}
}

static void tcp_sweep(struct srv *s, struct srv_stats *st)
{
	uint64_t now = now_ms();

	for (unsigned i = 0; i < s->conf.tcp_max_conns; i++) {
		struct tcp_conn *c = &s->conns[i];
		if (c->fd >= 0 && now - c->last_ms > s->conf.tcp_idle_ms) {
			st->tcp_timeouts++;
			conn_close(s, c);
		}
	}
}

static void *tcp_main(void *arg)
{
	struct srv *s = arg;
	struct srv_stats *st = &s->stats[s->nudp];
	uint8_t *out = malloc(ENGINE_MAX_RESPONSE + 2);
	struct epoll_event ev[64];
	uint64_t last_sweep = now_ms();

	if (!out)
		return NULL;
	while (!atomic_load(&s->stop)) {
		int n = epoll_wait(s->tcp_epfd, ev, 64, 250);
		for (int i = 0; i < n; i++) {
			uint64_t tag = ev[i].data.u64;
			if (tag & TAG_STOP)
				continue;
			if (tag & TAG_LISTEN) {
				tcp_accept(s, (int)(uint32_t)tag, st);
				continue;
			}
			struct tcp_conn *c = &s->conns[tag];
			if (c->fd < 0)
				continue;
			if ((ev[i].events & (EPOLLERR | EPOLLHUP)) ||
			    ((ev[i].events & EPOLLOUT) && conn_flush(c) < 0) ||
			    ((ev[i].events & EPOLLIN) && conn_read(s, c, st, out) < 0))
				conn_close(s, c);
		}
		if (now_ms() - last_sweep >= 1000) {
			tcp_sweep(s, st);
			last_sweep = now_ms();
		}
	}
	free(out);
	return NULL;
}

static int tcp_start(struct srv *s, char *err, size_t errlen)
{
	char where[80];

	if (!(s->conns = malloc(s->conf.tcp_max_conns * sizeof(*s->conns))))
		return P53_ENOMEM;
	for (unsigned i = 0; i < s->conf.tcp_max_conns; i++)
		s->conns[i] = (struct tcp_conn){ .fd = -1 };
	if ((s->tcp_epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    epoll_add(s->tcp_epfd, s->stop_fd, EPOLLIN, TAG_STOP) < 0)
		goto fail;
	for (size_t i = 0; i < s->conf.nlisten; i++) {
		int fd = bind_socket(&s->conf.listen[i], SOCK_STREAM);
		if (fd < 0) {
			addr_text(&s->conf.listen[i], where, sizeof(where));
			snprintf(err, errlen, "cannot listen on TCP %s: %s", where, strerror(errno));
			return P53_EIO;
		}
		s->tcp_fds[i] = fd;
		if (epoll_add(s->tcp_epfd, fd, EPOLLIN, TAG_LISTEN | (uint32_t)fd) < 0)
			goto fail;
	}
	if (pthread_create(&s->tcp_thread, NULL, tcp_main, s) != 0)
		goto fail;
	s->tcp_started = 1;
	return 0;
fail:
	snprintf(err, errlen, "cannot start the TCP thread: %s", strerror(errno));
	return P53_EIO;
}

/* ---- lifecycle ----------------------------------------------------------- */

int srv_start(const struct srv_conf *conf, srv_snap_ptr *snap,
	      struct srv **out, char *err, size_t errlen)
{
	struct srv *s = calloc(1, sizeof(*s));
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int ret = P53_ENOMEM;

	*out = NULL;
	if (!s)
		return P53_ENOMEM;
	s->conf = *conf;
	s->snap = snap;
	s->stop_fd = -1;
	s->tcp_epfd = -1;
	for (size_t i = 0; i < SRV_MAX_LISTEN; i++)
		s->tcp_fds[i] = -1;
	if (!s->conf.tcp_max_conns)
		s->conf.tcp_max_conns = 1024;
	if (!s->conf.tcp_idle_ms)
		s->conf.tcp_idle_ms = 10000;
	s->nudp = conf->no_udp ? 0 : conf->udp_threads ? conf->udp_threads :
		  (unsigned)(cpus > 0 ? cpus : 1);
	s->udp = calloc(s->nudp ? s->nudp : 1, sizeof(*s->udp));
	s->stats = aligned_alloc(64, (s->nudp + 1) * sizeof(*s->stats));
	s->epochs = aligned_alloc(64, (s->nudp + 1) * sizeof(*s->epochs));
	if (!s->udp || !s->stats || !s->epochs)
		goto fail;
	memset(s->stats, 0, (s->nudp + 1) * sizeof(*s->stats));
	for (unsigned t = 0; t <= s->nudp; t++)
		atomic_init(&s->epochs[t].ctr, 0);
	for (unsigned t = 0; t < s->nudp; t++)
		s->udp[t].epfd = -1;
	ret = P53_EIO;
	if ((s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	if ((ret = udp_start(s, err, errlen)) < 0 || (ret = tcp_start(s, err, errlen)) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	srv_stop(s);
	return ret;
}

int srv_synchronize(struct srv *s, unsigned timeout_ms)
{
	struct timespec nap = { 0, 20 * 1000 };
	uint64_t t0 = now_ms();

	/* The publisher's seq_cst store precedes this in program order. */
	atomic_thread_fence(memory_order_seq_cst);
	for (unsigned t = 0; t <= s->nudp; t++) {
		uint64_t seen = atomic_load_explicit(&s->epochs[t].ctr, memory_order_acquire);

		if (!(seen & 1))
			continue;    /* outside: its next section loads the new pointer */
		while (atomic_load_explicit(&s->epochs[t].ctr, memory_order_acquire) == seen) {
			if (now_ms() - t0 >= timeout_ms)
				return P53_ETIMEOUT;
			nanosleep(&nap, NULL);
		}
	}
	return 0;
}

static void stats_add(struct srv_stats *total, const struct srv_stats *st)
{
	total->queries += st->queries;
	total->responses += st->responses;
	total->dropped += st->dropped;
	total->drop_engine += st->drop_engine;
	total->drop_oversize += st->drop_oversize;
	total->drop_send += st->drop_send;
	total->drop_rrl += st->drop_rrl;
	for (int i = 0; i < SRV_RCODES; i++)
		total->rcode[i] += st->rcode[i];
	total->tcp_conns += st->tcp_conns;
	total->tcp_refused += st->tcp_refused;
	total->tcp_timeouts += st->tcp_timeouts;
	for (int i = 0; i < SRV_POLICY_KINDS; i++)
		total->policy[i] += st->policy[i];
}

void srv_stats(const struct srv *s, struct srv_stats *total)
{
	memset(total, 0, sizeof(*total));
	for (unsigned t = 0; t <= s->nudp; t++)
		stats_add(total, &s->stats[t]);
}

void srv_stats_split(const struct srv *s, struct srv_stats *udp, struct srv_stats *tcp)
{
	memset(udp, 0, sizeof(*udp));
	memset(tcp, 0, sizeof(*tcp));
	for (unsigned t = 0; t < s->nudp; t++)
		stats_add(udp, &s->stats[t]);
	stats_add(tcp, &s->stats[s->nudp]);
}

void srv_stop(struct srv *s)
{
	uint64_t one = 1;

	if (!s)
		return;
	atomic_store(&s->stop, 1);
	if (s->stop_fd >= 0 && write(s->stop_fd, &one, sizeof(one)) < 0)
		perror("srv_stop: eventfd");
	for (unsigned t = 0; s->udp && t < s->nudp; t++) {
		struct udp_worker *w = &s->udp[t];
		if (w->started)
			pthread_join(w->thread, NULL);
		rrl_destroy(w->rrl);
		for (size_t i = 0; i < w->nfds; i++)
			close(w->fds[i]);
		if (w->epfd >= 0)
			close(w->epfd);
	}
	if (s->tcp_started)
		pthread_join(s->tcp_thread, NULL);
	for (unsigned i = 0; s->conns && i < s->conf.tcp_max_conns; i++)
		if (s->conns[i].fd >= 0)
			conn_close(s, &s->conns[i]);
	for (size_t i = 0; i < SRV_MAX_LISTEN; i++)
		if (s->tcp_fds[i] >= 0)
			close(s->tcp_fds[i]);
	if (s->tcp_epfd >= 0)
		close(s->tcp_epfd);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	free(s->conns);
	free(s->udp);
	free(s->stats);
	free(s->epochs);
	free(s);
}

int srv_stall(struct srv *s, unsigned ms)
{
	if (!s || !ms || !s->nudp)
		return P53_EINVAL;
	for (unsigned i = 0; i < s->nudp; i++)
		atomic_store(&s->udp[i].stall_ms, ms);
	/* A thread asleep in epoll_wait takes it when it next wakes: at the
	 * next query, or within a second. */
	return 0;
}

void srv_rrl_stats(const struct srv *s, struct rrl_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned t = 0; s && t < s->nudp; t++)
		if (s->udp[t].rrl)
			rrl_stats_read(s->udp[t].rrl, sum);     /* adds */
}

unsigned srv_rrl_report(struct srv *s, struct rrl_report *out, unsigned max)
{
	struct rrl *t[RRL_MAX_CORES];
	unsigned n = 0;

	for (unsigned i = 0; s && i < s->nudp && n < RRL_MAX_CORES; i++)
		if (s->udp[i].rrl)
			t[n++] = s->udp[i].rrl;
	return n ? rrl_report(t, n, out, max) : 0;
}
