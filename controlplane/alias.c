/*
 * alias.c — out-of-zone alias targets resolved from the event loop.
 *
 * Each target has two jobs, A and AAAA; a job is one timer that either
 * sends the next query (refresh) or ends the try in flight (timeout). One
 * unconnected UDP socket per address family carries every query; an
 * answer is taken only from a configured resolver, with the ID, type and
 * name of a query in flight, so a spoofed datagram must guess all three.
 * The target's addresses live in t->cur and are copied to its slot (a
 * sequence lock the answering threads read) only when they change.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "alias.h"
#include "dname.h"
#include "error.h"
#include "rdata.h"

#define DEF_MIN_REFRESH_MS  5000
#define DEF_MAX_REFRESH_MS  3600000
#define DEF_TIMEOUT_MS      1000
#define NEG_TTL_S           60        /* an empty answer without a SOA */
#define TRIES               3         /* per round, each to the next resolver */
#define BACKOFF_FIRST_MS    1000
#define BACKOFF_MAX_MS      60000
#define MAX_RRS             64        /* answer RRs looked at */
#define MAX_CHAIN           16        /* CNAMEs followed */
#define EDNS_PAYLOAD        1232

enum { FAM_A, FAM_AAAA, NFAM };

struct target;

struct job {
	struct target *t;
	struct ctl_alias *al;
	uint16_t qtype;
	struct event *ev;
	uint16_t id;              /* of the query in flight */
	bool pending;
	uint8_t tries;            /* in this round */
	uint8_t resolver;         /* the one asked last */
	uint32_t backoff_ms;
};

struct target {
	uint8_t name[DNAME_MAXLEN];       /* lower-cased wire name */
	char text[DNAME_TEXT_MAX];
	struct snap_alias *slot;
	struct snap_alias_addrs cur;
	struct job job[NFAM];
	bool stale;
	uint64_t queries, failures, changes;
};

struct ctl_alias {
	struct event_base *base;
	struct ctl_alias_opts o;
	int fd[2];                        /* AF_INET, AF_INET6; -1 until used */
	struct event *rev[2];
	struct target **t;
	size_t n;
	struct snap_alias *slots;         /* the ones t[i]->slot point into */
	char why_none[160];               /* why there is no resolver */
};

/* One answer RR, its owner decompressed and lower-cased. */
struct rrv {
	uint8_t owner[DNAME_MAXLEN];
	uint16_t type, rdlen;
	uint32_t ttl;
	size_t rdata;
};

static FILE *logf_(const struct ctl_alias *al)
{
	return al->o.log ? al->o.log : stderr;
}

static int fam_index(int family)
{
	return family == AF_INET6;
}

/* ---- resolvers ------------------------------------------------------------ */

static int parse_resolv_conf(struct ctl_alias_opts *o, char *err, size_t errlen)
{
	const char *path = o->resolv_conf ? o->resolv_conf : "/etc/resolv.conf";
	FILE *f = fopen(path, "r");
	char line[256], addr[128];

	if (!f) {
		snprintf(err, errlen, "no alias resolver configured and %s: %s", path,
			 strerror(errno));
		return P53_EINVAL;
	}
	while (o->nresolvers < CTL_ALIAS_MAX_RESOLVERS && fgets(line, sizeof(line), f)) {
		struct ctl_alias_resolver *r = &o->resolvers[o->nresolvers];
		struct sockaddr_in *s4 = (void *)&r->addr;
		struct sockaddr_in6 *s6 = (void *)&r->addr;

		if (sscanf(line, " nameserver %127s", addr) != 1)
			continue;
		memset(r, 0, sizeof(*r));
		if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			s4->sin_port = htons(53);
			r->len = sizeof(*s4);
		} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons(53);
			r->len = sizeof(*s6);
		} else {
			continue;         /* a scoped address (fe80::1%eth0): skip */
		}
		o->nresolvers++;
	}
	fclose(f);
	if (!o->nresolvers) {
		snprintf(err, errlen, "no alias resolver configured and no usable nameserver "
			 "line in %s", path);
		return P53_EINVAL;
	}
	return 0;
}

static bool from_resolver(const struct ctl_alias *al, const struct sockaddr_storage *ss)
{
	for (size_t i = 0; i < al->o.nresolvers; i++) {
		const struct sockaddr_storage *r = &al->o.resolvers[i].addr;

		if (r->ss_family != ss->ss_family)
			continue;
		if (r->ss_family == AF_INET) {
			const struct sockaddr_in *a = (const void *)r, *b = (const void *)ss;

			if (a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr)
				return true;
		} else {
			const struct sockaddr_in6 *a = (const void *)r, *b = (const void *)ss;

			if (a->sin6_port == b->sin6_port &&
			    !memcmp(&a->sin6_addr, &b->sin6_addr, 16))
				return true;
		}
	}
	return false;
}

/* ---- the wire -------------------------------------------------------------- */

static uint16_t g16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t g32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The possibly compressed name at *pos, lower-cased into out; *pos moves
 * past it. 0, or -1 if malformed. */
static int read_name(const uint8_t *m, size_t len, size_t *pos, uint8_t *out)
{
	if (dname_unpack(m, len, pos, out) < 0)
		return -1;
	dname_lower(out);
	return 0;
}

static size_t make_query(uint8_t *q, uint16_t id, const uint8_t *name, uint16_t qtype)
{
	size_t n = 12, nl = (size_t)dname_wire_len(name, DNAME_MAXLEN);

	memset(q, 0, 12);
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	q[2] = 0x01;                          /* RD: we ask a recursive resolver */
	q[5] = 1;
	q[11] = 1;
	memcpy(q + n, name, nl);
	n += nl;
	q[n++] = (uint8_t)(qtype >> 8);
	q[n++] = (uint8_t)qtype;
	q[n++] = 0;
	q[n++] = RRCLASS_IN;
	/* OPT: root owner, our payload size, no options */
	memcpy(q + n, "\x00\x00\x29", 3);
	q[n + 3] = EDNS_PAYLOAD >> 8;
	q[n + 4] = EDNS_PAYLOAD & 0xff;
	memset(q + n + 5, 0, 6);
	return n + 11;
}

/* The negative TTL of an empty answer: the authority SOA's (RFC 2308 5). */
static uint32_t negative_ttl(const uint8_t *m, size_t len, size_t pos, unsigned nns)
{
	uint8_t name[DNAME_MAXLEN];

	for (unsigned i = 0; i < nns; i++) {
		uint16_t type, rdlen;
		uint32_t ttl;

		if (read_name(m, len, &pos, name) < 0 || pos + 10 > len)
			break;
		type = g16(m + pos);
		ttl = g32(m + pos + 4);
		rdlen = g16(m + pos + 8);
		pos += 10;
		if (pos + rdlen > len)
			break;
		if (type == RRTYPE_SOA && rdlen >= 22) {
			uint32_t min = g32(m + pos + rdlen - 4);

			return ttl < min ? ttl : min;
		}
		pos += rdlen;
	}
	return NEG_TTL_S;
}

/* What one response said. */
struct verdict {
	bool ok;                  /* an answer (possibly no addresses) */
	const char *why;          /* !ok: the reason */
	uint8_t n;
	uint8_t addr[SNAP_ALIAS_MAX][16];
	uint32_t ttl;
};

/* Follow the CNAME chain from qname through the answer section and take
 * the addresses of the type asked at its end. */
static void take_answer(const uint8_t *m, size_t len, struct rrv *rr, size_t nrr,
			const uint8_t *qname, uint16_t qtype, struct verdict *v)
{
	uint8_t cur[DNAME_MAXLEN];
	size_t alen = qtype == RRTYPE_A ? 4 : 16;

	memcpy(cur, qname, (size_t)dname_wire_len(qname, DNAME_MAXLEN));
	v->ttl = UINT32_MAX;
	for (int hop = 0; hop < MAX_CHAIN; hop++) {
		size_t i;

		for (i = 0; i < nrr; i++) {
			if (rr[i].type == RRTYPE_CNAME && dname_equal(rr[i].owner, cur))
				break;
		}
		if (i == nrr)
			break;
		size_t p = rr[i].rdata;
		if (read_name(m, len, &p, cur) < 0)
			break;
		v->ttl = rr[i].ttl < v->ttl ? rr[i].ttl : v->ttl;
	}
	for (size_t i = 0; i < nrr && v->n < SNAP_ALIAS_MAX; i++) {
		if (rr[i].type != qtype || rr[i].rdlen != alen || !dname_equal(rr[i].owner, cur))
			continue;
		memcpy(v->addr[v->n++], m + rr[i].rdata, alen);
		v->ttl = rr[i].ttl < v->ttl ? rr[i].ttl : v->ttl;
	}
}

/* Judge the response m (len bytes) to job j's query. False when it is not
 * the answer to that query at all (ignored); otherwise *v says what. */
static bool judge(const struct job *j, const uint8_t *m, size_t len, struct verdict *v)
{
	static struct rrv rr[MAX_RRS];   /* the loop's thread only */
	uint8_t name[DNAME_MAXLEN];
	size_t pos = 12, nrr = 0;
	unsigned an, ns, rcode;

	memset(v, 0, sizeof(*v));
	if (len < 12 || !(m[2] & 0x80) || g16(m + 4) != 1 || read_name(m, len, &pos, name) < 0 ||
	    pos + 4 > len || !dname_equal(name, j->t->name) || g16(m + pos) != j->qtype)
		return false;
	pos += 4;
	rcode = m[3] & 0xf;
	an = g16(m + 6);
	ns = g16(m + 8);
	if (m[2] & 0x02) {
		v->why = "truncated response";
		return true;
	}
	if (rcode != 0 && rcode != 3) {
		v->why = rcode == 2 ? "SERVFAIL" : rcode == 5 ? "REFUSED" : "error response";
		return true;
	}
	for (unsigned i = 0; i < an; i++) {
		struct rrv spare, *r = nrr < MAX_RRS ? &rr[nrr++] : &spare;

		if (read_name(m, len, &pos, r->owner) < 0 || pos + 10 > len ||
		    pos + 10 + g16(m + pos + 8) > len) {
			v->why = "malformed response";
			return true;
		}
		r->type = g16(m + pos);
		r->ttl = g32(m + pos + 4);
		r->rdlen = g16(m + pos + 8);
		r->rdata = pos + 10;
		pos += 10u + r->rdlen;
	}
	v->ok = true;
	if (rcode == 0)
		take_answer(m, len, rr, nrr, j->t->name, j->qtype, v);
	if (!v->n)
		v->ttl = negative_ttl(m, len, pos, ns);
	return true;
}

/* ---- jobs ------------------------------------------------------------------ */

static void arm(struct job *j, uint32_t ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(j->ev, &tv);
}

static void addrs_text(const struct snap_alias_addrs *a, int fam, char *out, size_t cap)
{
	size_t n = 0;
	unsigned cnt = fam == FAM_A ? a->n4 : a->n6;

	out[0] = 0;
	for (unsigned i = 0; i < cnt && n + INET6_ADDRSTRLEN + 2 < cap; i++) {
		char t[INET6_ADDRSTRLEN];

		inet_ntop(fam == FAM_A ? AF_INET : AF_INET6, fam == FAM_A ? a->a[i] : a->aaaa[i],
			  t, sizeof(t));
		n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? " " : "", t);
	}
	if (!cnt)
		snprintf(out, cap, "none");
}

static void succeed(struct ctl_alias *al, struct job *j, const struct verdict *v)
{
	struct target *t = j->t;
	struct snap_alias_addrs next = t->cur;
	int fam = j->qtype == RRTYPE_A ? FAM_A : FAM_AAAA;
	uint32_t ms = v->ttl > al->o.max_refresh_ms / 1000 ? al->o.max_refresh_ms : v->ttl * 1000;
	char text[SNAP_ALIAS_MAX * (INET6_ADDRSTRLEN + 1) + 8];
	bool was_failing = j->backoff_ms != 0;

	next.have |= fam == FAM_A ? SNAP_ALIAS_HAVE_A : SNAP_ALIAS_HAVE_AAAA;
	for (unsigned i = 0; i < v->n; i++)
		memcpy(fam == FAM_A ? next.a[i] : next.aaaa[i], v->addr[i], fam == FAM_A ? 4 : 16);
	if (fam == FAM_A)
		next.n4 = v->n;
	else
		next.n6 = v->n;
	if (memcmp(&next, &t->cur, sizeof(next))) {
		t->cur = next;
		snap_alias_write(t->slot, &t->cur);
		t->changes++;
		addrs_text(&t->cur, fam, text, sizeof(text));
		fprintf(logf_(al), "pop53d: alias %s %s: %s (ttl %u s)\n", t->text,
			fam == FAM_A ? "A" : "AAAA", text, v->ttl);
	} else if (was_failing) {
		fprintf(logf_(al), "pop53d: alias %s %s: resolved again, unchanged\n", t->text,
			fam == FAM_A ? "A" : "AAAA");
	}
	j->tries = 0;
	j->backoff_ms = 0;
	t->stale = t->job[FAM_A].backoff_ms || t->job[FAM_AAAA].backoff_ms;
	arm(j, ms < al->o.min_refresh_ms ? al->o.min_refresh_ms : ms);
}

static void send_query(struct ctl_alias *al, struct job *j);

static void fail(struct ctl_alias *al, struct job *j, const char *why)
{
	struct target *t = j->t;
	unsigned have = t->cur.have & (j->qtype == RRTYPE_A ? SNAP_ALIAS_HAVE_A :
				       SNAP_ALIAS_HAVE_AAAA);

	t->failures++;
	j->pending = false;
	j->resolver = (uint8_t)((j->resolver + 1) % al->o.nresolvers);
	if (++j->tries < TRIES) {
		send_query(al, j);
		return;
	}
	if (!j->backoff_ms)             /* once per failing spell */
		fprintf(logf_(al), "pop53d: alias %s %s: %s from every resolver (%u tries); %s\n",
			t->text, j->qtype == RRTYPE_A ? "A" : "AAAA", why, TRIES,
			have ? "serving the last addresses" : "answering SERVFAIL until resolved");
	t->stale = true;
	j->tries = 0;
	j->backoff_ms = j->backoff_ms ? j->backoff_ms * 2 : BACKOFF_FIRST_MS;
	if (j->backoff_ms > BACKOFF_MAX_MS)
		j->backoff_ms = BACKOFF_MAX_MS;
	if (j->backoff_ms > al->o.max_refresh_ms)
		j->backoff_ms = al->o.max_refresh_ms;
	arm(j, j->backoff_ms);
}

static void send_query(struct ctl_alias *al, struct job *j)
{
	const struct ctl_alias_resolver *r = &al->o.resolvers[j->resolver];
	uint8_t q[DNAME_MAXLEN + 32];
	size_t n;
	int fd = al->fd[fam_index(r->addr.ss_family)];

	if (getrandom(&j->id, sizeof(j->id), GRND_NONBLOCK) != (ssize_t)sizeof(j->id))
		j->id = (uint16_t)(j->id * 31421u + 6927u);
	n = make_query(q, j->id, j->t->name, j->qtype);
	j->t->queries++;
	if (fd < 0 || sendto(fd, q, n, 0, (const struct sockaddr *)&r->addr, r->len) < 0) {
		fail(al, j, fd < 0 ? "no socket for the resolver's family" : strerror(errno));
		return;
	}
	j->pending = true;
	arm(j, al->o.timeout_ms);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;

	(void)fd;
	(void)what;
	if (j->pending)
		fail(j->al, j, "no response");
	else
		send_query(j->al, j);
}

static struct job *find_job(struct ctl_alias *al, const uint8_t *m, size_t len)
{
	uint16_t id = g16(m);

	for (size_t i = 0; i < al->n; i++) {
		for (int f = 0; f < NFAM; f++) {
			struct job *j = &al->t[i]->job[f];

			if (j->pending && j->id == id)
				return j;
		}
	}
	(void)len;
	return NULL;
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_alias *al = arg;
	uint8_t m[4096];

	(void)what;
	for (int k = 0; k < 64; k++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		ssize_t len = recvfrom(fd, m, sizeof(m), 0, (struct sockaddr *)&ss, &sl);
		struct verdict v;
		struct job *j;

		if (len < 0)
			return;
		if (len < 12 || !from_resolver(al, &ss) || !(j = find_job(al, m, (size_t)len)) ||
		    !judge(j, m, (size_t)len, &v))
			continue;
		j->pending = false;
		evtimer_del(j->ev);
		if (v.ok)
			succeed(al, j, &v);
		else
			fail(al, j, v.why);
	}
}

/* ---- owner ----------------------------------------------------------------- */

int ctl_alias_new(struct event_base *base, const struct ctl_alias_opts *o,
		  struct ctl_alias **out)
{
	struct ctl_alias *al = calloc(1, sizeof(*al));

	*out = NULL;
	if (!al)
		return P53_ENOMEM;
	al->base = base;
	if (o)
		al->o = *o;
	al->fd[0] = al->fd[1] = -1;
	if (!al->o.min_refresh_ms)
		al->o.min_refresh_ms = DEF_MIN_REFRESH_MS;
	if (!al->o.max_refresh_ms)
		al->o.max_refresh_ms = DEF_MAX_REFRESH_MS;
	if (al->o.max_refresh_ms < al->o.min_refresh_ms)
		al->o.max_refresh_ms = al->o.min_refresh_ms;
	if (!al->o.timeout_ms)
		al->o.timeout_ms = DEF_TIMEOUT_MS;
	/* no resolver is an error only for a snapshot that needs one */
	if (!al->o.nresolvers)
		(void)parse_resolv_conf(&al->o, al->why_none, sizeof(al->why_none));
	*out = al;
	return 0;
}

static void target_free(struct target *t)
{
	if (!t)
		return;
	for (int f = 0; f < NFAM; f++) {
		if (t->job[f].ev)
			event_free(t->job[f].ev);
	}
	free(t);
}

void ctl_alias_free(struct ctl_alias *al)
{
	if (!al)
		return;
	for (size_t i = 0; i < al->n; i++)
		target_free(al->t[i]);
	free(al->t);
	for (int f = 0; f < 2; f++) {
		if (al->rev[f])
			event_free(al->rev[f]);
		if (al->fd[f] >= 0)
			close(al->fd[f]);
	}
	free(al->slots);
	free(al);
}

void ctl_alias_slots_free(struct snap_alias *slots)
{
	free(slots);
}

/* The socket of family (AF_INET or AF_INET6), opened on first use. */
static int open_socket(struct ctl_alias *al, int family, char *err, size_t errlen)
{
	int k = fam_index(family), fd;

	if (al->fd[k] >= 0)
		return 0;
	if ((fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	if (!(al->rev[k] = event_new(al->base, fd, EV_READ | EV_PERSIST, on_read, al)) ||
	    event_add(al->rev[k], NULL) < 0) {
		if (al->rev[k])
			event_free(al->rev[k]);
		al->rev[k] = NULL;
		close(fd);
		return P53_ENOMEM;
	}
	al->fd[k] = fd;
	return 0;
fail:
	snprintf(err, errlen, "alias resolver socket (%s): %s",
		 family == AF_INET ? "IPv4" : "IPv6", strerror(errno));
	return P53_EIO;
}

static struct target *new_target(struct ctl_alias *al, const uint8_t *name)
{
	struct target *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	dname_copy_lower(t->name, name);
	dname_to_text(t->name, t->text, sizeof(t->text));
	for (int f = 0; f < NFAM; f++) {
		struct job *j = &t->job[f];

		j->t = t;
		j->al = al;
		j->qtype = f == FAM_A ? RRTYPE_A : RRTYPE_AAAA;
		j->resolver = (uint8_t)(f % al->o.nresolvers);
		if (!(j->ev = evtimer_new(al->base, on_timer, j))) {
			target_free(t);
			return NULL;
		}
	}
	return t;
}

static struct target *take_old(struct ctl_alias *al, const uint8_t *name)
{
	for (size_t i = 0; i < al->n; i++) {
		struct target *t = al->t[i];

		if (t && dname_equal(t->name, name)) {
			al->t[i] = NULL;
			return t;
		}
	}
	return NULL;
}

int ctl_alias_attach(struct ctl_alias *al, struct snap *s, struct snap_alias **old,
		     char *err, size_t errlen)
{
	size_t n = snap_alias_count(s);
	struct target **t = NULL;
	struct snap_alias *slots = NULL;
	bool fresh[n ? n : 1];
	int ret;

	*old = NULL;
	if ((ret = ctl_alias_check(al, s, err, errlen)) < 0)
		return ret;
	memset(fresh, 0, sizeof(fresh));
	for (size_t i = 0; n && i < al->o.nresolvers; i++) {
		if ((ret = open_socket(al, al->o.resolvers[i].addr.ss_family, err, errlen)) < 0)
			return ret;
	}
	ret = P53_ENOMEM;
	if (n && (!(t = calloc(n, sizeof(*t))) || !(slots = calloc(n, sizeof(*slots)))))
		goto fail;
	/* new targets first: a failure must leave the running ones alone */
	for (size_t i = 0; i < n; i++) {
		uint8_t lower[DNAME_MAXLEN];

		dname_copy_lower(lower, snap_alias_target(s, i));
		fresh[i] = true;
		for (size_t k = 0; k < al->n; k++)
			fresh[i] = fresh[i] && !dname_equal(al->t[k]->name, lower);
		if (fresh[i] && !(t[i] = new_target(al, lower)))
			goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		if (!fresh[i]) {
			uint8_t lower[DNAME_MAXLEN];

			dname_copy_lower(lower, snap_alias_target(s, i));
			t[i] = take_old(al, lower);
		}
		t[i]->slot = &slots[i];
		snap_alias_write(t[i]->slot, &t[i]->cur);
		if (fresh[i]) {
			arm(&t[i]->job[FAM_A], 0);
			arm(&t[i]->job[FAM_AAAA], 0);
		}
	}
	for (size_t i = 0; i < al->n; i++)
		target_free(al->t[i]);       /* gone from the snapshot */
	free(al->t);
	*old = al->slots;
	al->t = t;
	al->n = n;
	al->slots = slots;
	snap_set_aliases(s, slots);
	return 0;
fail:
	for (size_t i = 0; t && i < n; i++) {
		if (fresh[i])
			target_free(t[i]);
	}
	free(t);
	free(slots);
	snprintf(err, errlen, "alias targets: out of memory");
	return ret;
}

int ctl_alias_check(const struct ctl_alias *al, const struct snap *s, char *err,
		    size_t errlen)
{
	char text[DNAME_TEXT_MAX];

	if (!snap_alias_count(s) || al->o.nresolvers)
		return 0;
	dname_to_text(snap_alias_target(s, 0), text, sizeof(text));
	snprintf(err, errlen, "policy alias target %s is outside the served zones and pop53d has "
		 "no resolver to ask (%s; set policy.alias_resolvers)", text, al->why_none);
	return P53_EINVAL;
}

size_t ctl_alias_count(const struct ctl_alias *al)
{
	return al ? al->n : 0;
}

int ctl_alias_stats(const struct ctl_alias *al, size_t i, struct ctl_alias_stats *out)
{
	const struct target *t;

	if (!al || i >= al->n)
		return P53_EINVAL;
	t = al->t[i];
	*out = (struct ctl_alias_stats){
		.target = t->text, .n4 = t->cur.n4, .n6 = t->cur.n6,
		.have4 = t->cur.have & SNAP_ALIAS_HAVE_A,
		.have6 = t->cur.have & SNAP_ALIAS_HAVE_AAAA,
		.stale = t->stale, .queries = t->queries, .failures = t->failures,
		.changes = t->changes,
	};
	return 0;
}
