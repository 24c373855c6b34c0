/*
 * hcheck.c — endpoint health checks in the control plane's event loop.
 *
 * Each probing check owns a timer; a probe is a nonblocking connect()
 * watched by a libevent event (tcp) or a transfer on the set's one libcurl
 * multi handle, whose sockets and timer are libevent events (http, https).
 * Nothing here waits: every step is a callback of the caller's loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "error.h"
#include "hcheck.h"

#define DEF_INTERVAL_MS 10000
#define DEF_TIMEOUT_MS  2000
#define DEF_FALL_RISE   3
#define DEF_QUORUM_PCT  18
#define DEF_MIN_IV_MS   1000

struct vote {
	uint32_t source;
	bool healthy;
	uint64_t expires_ms;
};

/* A socket libcurl asked us to watch. */
struct hsock {
	struct event *ev;
	struct hsock *prev, *next;
};

struct hc {
	struct hcheck_set *set;
	size_t index;
	struct hcheck_def d;            /* defaults applied; strings owned */
	struct sockaddr_storage sa;
	socklen_t salen;
	struct event *tick;             /* the next probe */
	struct event *expire;           /* the earliest remote vote's end */
	struct event *conn;             /* tcp: the connect in flight */
	int fd;
	CURL *easy;
	struct curl_slist *connect_to;
	char *url;
	char *buf;                      /* the body window */
	size_t blen;
	bool found, stopped;            /* body: substring seen; we cut it */
	char cerr[CURL_ERROR_SIZE];
	uint64_t started_us;
	bool busy;                      /* a probe is in flight */
	bool known;                     /* a probe has decided local_up */
	bool local_up, word;
	bool kept, fresh;               /* during an update */
	unsigned good_run, bad_run;
	struct vote *votes;
	size_t nvotes, cap;
	uint64_t probes, failures, transitions;
	uint32_t latency_us;
	char last_error[192];
};

struct hcheck_set {
	struct event_base *base;
	struct hcheck_opts o;
	CURLM *multi;
	struct event *curl_timer;
	struct hsock *socks;
	bool curl_inited;
	struct hc **checks;
	size_t n;
	size_t *calc;                   /* calculated checks, members first */
	size_t ncalc;
	uint8_t *words;
	uint64_t rng;
};

/* A definition being installed: its normalized form and address. */
struct norm {
	struct hcheck_def d;
	struct sockaddr_storage sa;
	socklen_t salen;
};

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t hcheck_now_ms(void)
{
	return mono_us() / 1000;
}

static uint64_t next_rand(struct hcheck_set *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng;
}

static struct timeval ms_tv(uint64_t ms)
{
	struct timeval tv = { .tv_sec = (time_t)(ms / 1000),
			      .tv_usec = (suseconds_t)(ms % 1000) * 1000 };
	return tv;
}

const char *hcheck_kind_name(enum hcheck_kind k)
{
	static const char *const names[] = { "tcp", "http", "https", "calculated" };

	return (unsigned)k < 4 ? names[k] : "unknown";
}

static const char *op_name(enum hcheck_op op)
{
	return op == HCHECK_AND ? "and" : op == HCHECK_OR ? "or" : "at_least";
}

/* ---- validation ------------------------------------------------------------ */

static int bad(char *err, size_t errlen, size_t i, const struct hcheck_def *d,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int bad(char *err, size_t errlen, size_t i, const struct hcheck_def *d,
	       const char *fmt, ...)
{
	va_list ap;
	int at;

	if (!err || !errlen)
		return P53_EINVAL;
	at = snprintf(err, errlen, "check %zu (%s): ", i,
		      d->name && d->name[0] ? d->name : "unnamed");
	if (at >= 0 && (size_t)at < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + at, errlen - (size_t)at, fmt, ap);
		va_end(ap);
	}
	return P53_EINVAL;
}

/* Printable, no spaces: what can go into a URL or header as it is. */
static bool url_safe(const char *p, bool host)
{
	for (; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch <= 0x20 || ch >= 0x7f)
			return false;
		if (host && !(ch == '.' || ch == '-' || ch == '_' ||
			      (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' &&
							   (ch | 0x20) <= 'z')))
			return false;
	}
	return true;
}

static int parse_address(struct norm *nm, size_t i, char *err, size_t errlen)
{
	struct hcheck_def *d = &nm->d;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&nm->sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&nm->sa;

	memset(&nm->sa, 0, sizeof(nm->sa));
	if (!d->address)
		return bad(err, errlen, i, d, "an address is required");
	if (inet_pton(AF_INET, d->address, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(d->port);
		nm->salen = sizeof(*s4);
	} else if (inet_pton(AF_INET6, d->address, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(d->port);
		nm->salen = sizeof(*s6);
	} else {
		return bad(err, errlen, i, d, "address '%s' is not an IPv4 or "
			   "IPv6 address", d->address);
	}
	return 0;
}

static int norm_timing(struct hcheck_def *d, size_t i, uint32_t min_iv,
		       char *err, size_t errlen)
{
	if (!d->interval_ms)
		d->interval_ms = DEF_INTERVAL_MS;
	if (d->interval_ms < min_iv)
		return bad(err, errlen, i, d, "interval %u ms is below the "
			   "minimum of %u ms", d->interval_ms, min_iv);
	if (!d->timeout_ms)
		d->timeout_ms = d->interval_ms > DEF_TIMEOUT_MS ? DEF_TIMEOUT_MS :
				d->interval_ms / 2;
	if (d->timeout_ms >= d->interval_ms)
		return bad(err, errlen, i, d, "timeout %u ms must be less than "
			   "the interval (%u ms)", d->timeout_ms, d->interval_ms);
	if (!d->fall)
		d->fall = DEF_FALL_RISE;
	if (!d->rise)
		d->rise = DEF_FALL_RISE;
	if (!d->quorum_pct)
		d->quorum_pct = DEF_QUORUM_PCT;
	if (d->quorum_pct > 100)
		return bad(err, errlen, i, d, "quorum %u %% is above 100 %%",
			   d->quorum_pct);
	if ((unsigned)d->start > HCHECK_START_FIRST)
		return bad(err, errlen, i, d, "unknown start state %d", d->start);
	return 0;
}

static int norm_http(struct hcheck_def *d, size_t i, char *err, size_t errlen)
{
	if (!d->path)
		d->path = "/";
	if (d->path[0] != '/' || !url_safe(d->path, false))
		return bad(err, errlen, i, d, "path '%s' must start with '/' and "
			   "hold no spaces or control characters", d->path);
	if (d->host && (!d->host[0] || !url_safe(d->host, true)))
		return bad(err, errlen, i, d, "host '%s' is not a host name",
			   d->host);
	if (!d->status_min && !d->status_max) {
		d->status_min = 200;
		d->status_max = 399;
	}
	if (d->status_min < 100 || d->status_max > 599 ||
	    d->status_min > d->status_max)
		return bad(err, errlen, i, d, "status range %u-%u is not within "
			   "100-599", d->status_min, d->status_max);
	if (d->body && (!d->body[0] || strlen(d->body) > HCHECK_BODY_WINDOW))
		return bad(err, errlen, i, d, "body substring must be 1 to %d "
			   "bytes long", HCHECK_BODY_WINDOW);
	return 0;
}

static int norm_probe(struct norm *nm, size_t i, uint32_t min_iv, char *err,
		      size_t errlen)
{
	struct hcheck_def *d = &nm->d;
	int ret;

	if (!d->port && d->kind == HCHECK_TCP)
		return bad(err, errlen, i, d, "a tcp check needs a port");
	if (!d->port)
		d->port = d->kind == HCHECK_HTTPS ? 443 : 80;
	if ((ret = parse_address(nm, i, err, errlen)) < 0 ||
	    (ret = norm_timing(d, i, min_iv, err, errlen)) < 0)
		return ret;
	if (d->ca_file && d->kind != HCHECK_HTTPS)
		return bad(err, errlen, i, d, "ca_file applies to https checks "
			   "only");
	if (d->kind == HCHECK_TCP)
		return 0;
	return norm_http(d, i, err, errlen);
}

static int norm_calc(const struct hcheck_def *d, size_t i, size_t n,
		     char *err, size_t errlen)
{
	if (!d->nmembers || !d->members)
		return bad(err, errlen, i, d, "a calculated check needs members");
	if ((unsigned)d->op > HCHECK_AT_LEAST)
		return bad(err, errlen, i, d, "unknown operator %d", d->op);
	if (d->op == HCHECK_AT_LEAST &&
	    (d->at_least < 1 || d->at_least > d->nmembers))
		return bad(err, errlen, i, d, "at_least %u is not within 1-%zu "
			   "(its members)", d->at_least, d->nmembers);
	for (size_t k = 0; k < d->nmembers; k++) {
		if (d->members[k] >= n)
			return bad(err, errlen, i, d, "member %zu is out of range "
				   "(%zu checks)", d->members[k], n);
		if (d->members[k] == i)
			return bad(err, errlen, i, d, "a check cannot be its own "
				   "member");
		for (size_t j = 0; j < k; j++)
			if (d->members[j] == d->members[k])
				return bad(err, errlen, i, d, "member %zu is "
					   "listed twice", d->members[k]);
	}
	return 0;
}

static int norm_one(struct norm *nm, const struct hcheck_def *in, size_t i,
		    size_t n, uint32_t min_iv, char *err, size_t errlen)
{
	nm->d = *in;
	if (!in->name || !in->name[0])
		return bad(err, errlen, i, in, "a name is required");
	if ((unsigned)in->kind > HCHECK_CALCULATED)
		return bad(err, errlen, i, in, "unknown kind %d", in->kind);
	if (in->kind == HCHECK_CALCULATED)
		return norm_calc(in, i, n, err, errlen);
	return norm_probe(nm, i, min_iv, err, errlen);
}

static int by_name(const void *a, const void *b, void *arg)
{
	const struct hcheck_def *defs = arg;

	return strcmp(defs[*(const size_t *)a].name,
		      defs[*(const size_t *)b].name);
}

static int unique_names(const struct hcheck_def *defs, size_t n, char *err,
			size_t errlen)
{
	size_t *ix = malloc((n ? n : 1) * sizeof(*ix));

	if (!ix)
		return P53_ENOMEM;
	for (size_t i = 0; i < n; i++)
		ix[i] = i;
	qsort_r(ix, n, sizeof(*ix), by_name, (void *)defs);
	for (size_t k = 1; k < n; k++) {
		if (!strcmp(defs[ix[k - 1]].name, defs[ix[k]].name)) {
			size_t a = ix[k - 1] < ix[k] ? ix[k - 1] : ix[k];
			size_t b = ix[k - 1] < ix[k] ? ix[k] : ix[k - 1];

			free(ix);
			return bad(err, errlen, b, &defs[b], "name already used "
				   "by check %zu", a);
		}
	}
	free(ix);
	return 0;
}

/* ---- calculated checks: order and cycles ---------------------------------------- */

struct walk {
	const struct hcheck_def *defs;
	unsigned char *state;           /* 0 new, 1 on the path, 2 done */
	size_t path[HCHECK_MAX_DEPTH + 1];
	size_t *order, norder;
	char *err;
	size_t errlen;
};

static int cycle_error(struct walk *w, size_t depth, size_t back)
{
	const struct hcheck_def *defs = w->defs;
	size_t from = 0, at;
	int len;

	while (w->path[from] != back)
		from++;
	len = snprintf(w->err, w->errlen, "calculated checks form a cycle: ");
	for (size_t k = from; k <= depth && len >= 0 && (size_t)len < w->errlen;
	     k++) {
		at = (size_t)len;
		len += snprintf(w->err + at, w->errlen - at, "%s -> ",
				defs[w->path[k]].name);
	}
	if (len >= 0 && (size_t)len < w->errlen)
		snprintf(w->err + len, w->errlen - (size_t)len, "%s",
			 defs[back].name);
	return P53_EINVAL;
}

static int visit(struct walk *w, size_t i, size_t depth)
{
	const struct hcheck_def *d = &w->defs[i];
	int ret;

	if (depth >= HCHECK_MAX_DEPTH)
		return bad(w->err, w->errlen, i, d, "calculated checks nest "
			   "deeper than %d", HCHECK_MAX_DEPTH);
	w->state[i] = 1;
	w->path[depth] = i;
	for (size_t k = 0; k < d->nmembers; k++) {
		size_t m = d->members[k];

		if (w->defs[m].kind != HCHECK_CALCULATED || w->state[m] == 2)
			continue;
		if (w->state[m] == 1)
			return cycle_error(w, depth, m);
		if ((ret = visit(w, m, depth + 1)) < 0)
			return ret;
	}
	w->state[i] = 2;
	w->order[w->norder++] = i;
	return 0;
}

/* How deep each calculated check nests (1: over probing checks only),
 * reusing state[] for the levels; members come first in order[]. */
static int nesting(struct walk *w)
{
	for (size_t k = 0; k < w->norder; k++) {
		const struct hcheck_def *d = &w->defs[w->order[k]];
		unsigned char level = 1;

		for (size_t j = 0; j < d->nmembers; j++) {
			size_t m = d->members[j];

			if (w->defs[m].kind == HCHECK_CALCULATED &&
			    w->state[m] >= level)
				level = (unsigned char)(w->state[m] + 1);
		}
		if (level > HCHECK_MAX_DEPTH)
			return bad(w->err, w->errlen, w->order[k], d,
				   "calculated checks nest deeper than %d",
				   HCHECK_MAX_DEPTH);
		w->state[w->order[k]] = level;
	}
	return 0;
}

/* The calculated checks of defs with every member before its users. */
static int calc_order(const struct hcheck_def *defs, size_t n, size_t **order,
		      size_t *norder, char *err, size_t errlen)
{
	struct walk w = { .defs = defs, .err = err, .errlen = errlen };
	int ret = P53_ENOMEM;

	w.state = calloc(n ? n : 1, 1);
	w.order = malloc((n ? n : 1) * sizeof(*w.order));
	if (!w.state || !w.order)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		if (defs[i].kind == HCHECK_CALCULATED && !w.state[i] &&
		    (ret = visit(&w, i, 0)) < 0)
			goto fail;
	}
	memset(w.state, 0, n);
	if ((ret = nesting(&w)) < 0)
		goto fail;
	free(w.state);
	*order = w.order;
	*norder = w.norder;
	return 0;
fail:
	free(w.state);
	free(w.order);
	return ret;
}

/* ---- words, quorum, calculated ----------------------------------------------------- */

static void set_word(struct hc *c, bool v, const char *reason)
{
	bool was = c->word;
	struct hcheck_set *s = c->set;

	if (was == v)
		return;
	c->word = v;
	c->transitions++;
	__atomic_store_n(&s->words[c->index], (uint8_t)v, __ATOMIC_RELEASE);
	if (s->o.on_change)
		s->o.on_change(s->o.arg, c->index, c->d.name, was, v, reason);
}

static void count_votes(const struct hc *c, uint64_t now, unsigned *live,
			unsigned *good)
{
	*live = *good = 0;
	for (size_t k = 0; k < c->nvotes; k++) {
		if (c->votes[k].expires_ms > now) {
			(*live)++;
			*good += c->votes[k].healthy;
		}
	}
}

static bool calc_eval(const struct hc *c, char *why, size_t len)
{
	struct hc **all = c->set->checks;
	size_t good = 0, m = c->d.nmembers, at;
	bool v;
	int w;

	for (size_t k = 0; k < m; k++)
		good += all[c->d.members[k]]->word;
	v = c->d.op == HCHECK_AND ? good == m :
	    c->d.op == HCHECK_OR ? good > 0 : good >= c->d.at_least;
	w = snprintf(why, len, "%s", op_name(c->d.op));
	if (c->d.op == HCHECK_AT_LEAST && w >= 0 && (size_t)w < len)
		w += snprintf(why + w, len - (size_t)w, " %u", c->d.at_least);
	if (w >= 0 && (size_t)w < len)
		w += snprintf(why + w, len - (size_t)w, ": %zu of %zu members "
			      "healthy", good, m);
	for (size_t k = 0, first = 1; k < m && w >= 0 && (size_t)w < len; k++) {
		const struct hc *mc = all[c->d.members[k]];

		if (mc->word)
			continue;
		at = (size_t)w;
		w += snprintf(why + at, len - at, "%s%s", first ? " (unhealthy: " :
			      ", ", mc->d.name);
		first = 0;
	}
	if (good < m && w >= 0 && (size_t)w < len)
		snprintf(why + w, len - (size_t)w, ")");
	return v;
}

/* Calculated checks after a word changed; a fresh one (just installed)
 * takes its value silently. */
static void recalc(struct hcheck_set *s)
{
	char why[256];

	for (size_t k = 0; k < s->ncalc; k++) {
		struct hc *c = s->checks[s->calc[k]];
		bool v = calc_eval(c, why, sizeof(why));

		if (c->fresh) {
			c->fresh = false;
			c->word = v;
			__atomic_store_n(&s->words[c->index], (uint8_t)v,
					 __ATOMIC_RELEASE);
		} else {
			set_word(c, v, why);
		}
	}
}

/* A probing check's word from its local verdict and live votes; why is
 * what changed. */
static void reevaluate(struct hc *c, const char *why)
{
	unsigned live, good;
	char reason[384];
	bool v;

	count_votes(c, hcheck_now_ms(), &live, &good);
	good += c->local_up;
	live += 1;
	v = good * 100 >= (unsigned)c->d.quorum_pct * live;
	if (v == c->word)
		return;
	if (live > 1)
		snprintf(reason, sizeof(reason), "%s; votes: %u of %u healthy, "
			 "quorum %u %%", why, good, live, c->d.quorum_pct);
	else
		snprintf(reason, sizeof(reason), "%s", why);
	set_word(c, v, reason);
	recalc(c->set);
}

/* ---- probe results ---------------------------------------------------------------- */

static void judge(struct hc *c, bool ok)
{
	bool was = c->local_up;
	char why[256];

	if (ok) {
		c->good_run++;
		c->bad_run = 0;
	} else {
		c->bad_run++;
		c->good_run = 0;
	}
	if (!c->known)
		c->local_up = ok;
	else if (c->local_up && c->bad_run >= c->d.fall)
		c->local_up = false;
	else if (!c->local_up && c->good_run >= c->d.rise)
		c->local_up = true;
	if (c->local_up == was && c->known)
		return;
	if (!c->known)
		snprintf(why, sizeof(why), "first probe %s%s%s",
			 ok ? "passed" : "failed", ok ? "" : ": ",
			 ok ? "" : c->last_error);
	else if (ok)
		snprintf(why, sizeof(why), "%u successes in a row", c->good_run);
	else
		snprintf(why, sizeof(why), "%u failures in a row: %s",
			 c->bad_run, c->last_error);
	c->known = true;
	reevaluate(c, why);
}

static void probe_done(struct hc *c, bool ok, const char *error)
{
	uint64_t took = mono_us() - c->started_us;

	c->busy = false;
	c->probes++;
	c->failures += !ok;
	c->latency_us = took > UINT32_MAX ? UINT32_MAX : (uint32_t)took;
	snprintf(c->last_error, sizeof(c->last_error), "%s", ok ? "" : error);
	judge(c, ok);
}

/* ---- tcp ------------------------------------------------------------------------------ */

static void tcp_end(struct hc *c)
{
	if (c->conn) {
		event_free(c->conn);
		c->conn = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
}

static void on_tcp(evutil_socket_t fd, short what, void *arg)
{
	struct hc *c = arg;
	socklen_t len = sizeof(int);
	char why[128];
	int e = 0;

	if (what & EV_TIMEOUT)
		snprintf(why, sizeof(why), "connect timed out after %u ms",
			 c->d.timeout_ms);
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
		e = errno;
	if (!(what & EV_TIMEOUT) && e)
		snprintf(why, sizeof(why), "connect: %s", strerror(e));
	tcp_end(c);
	probe_done(c, !(what & EV_TIMEOUT) && !e, why);
}

static void tcp_start(struct hc *c)
{
	struct timeval tv = ms_tv(c->d.timeout_ms);
	char why[128];

	c->fd = socket(c->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		       SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		snprintf(why, sizeof(why), "socket: %s", strerror(errno));
		goto fail;
	}
	if (connect(c->fd, (struct sockaddr *)&c->sa, c->salen) == 0) {
		tcp_end(c);
		probe_done(c, true, NULL);
		return;
	}
	if (errno != EINPROGRESS) {
		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		goto fail;
	}
	c->conn = event_new(c->set->base, c->fd, EV_WRITE, on_tcp, c);
	if (c->conn && event_add(c->conn, &tv) == 0)
		return;
	snprintf(why, sizeof(why), "cannot watch the connect");
fail:
	tcp_end(c);
	probe_done(c, false, why);
}

/* ---- http, https: libcurl multi in the loop ---------------------------------------- */

static void http_done(struct hc *c, CURLcode rc)
{
	long status = 0;
	char why[sizeof(c->last_error)];

	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_WRITE_ERROR && c->stopped)
		rc = CURLE_OK;  /* we cut the body: enough was seen */
	if (rc == CURLE_OPERATION_TIMEDOUT)
		snprintf(why, sizeof(why), "timed out after %u ms",
			 c->d.timeout_ms);
	else if (rc != CURLE_OK)
		snprintf(why, sizeof(why), "%.*s", (int)sizeof(why) - 1,
			 c->cerr[0] ? c->cerr : curl_easy_strerror(rc));
	else if (status < c->d.status_min || status > c->d.status_max)
		snprintf(why, sizeof(why), "HTTP status %ld not in %u-%u",
			 status, c->d.status_min, c->d.status_max);
	else if (c->d.body && !c->found)
		snprintf(why, sizeof(why), "body has no '%.64s' in its first "
			 "%d bytes", c->d.body, HCHECK_BODY_WINDOW);
	else
		why[0] = '\0';
	probe_done(c, !why[0], why);
}

static void collect(struct hcheck_set *s)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(s->multi, &left))) {
		CURL *e = msg->easy_handle;
		CURLcode rc = msg->data.result;
		char *p = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, &p);
		curl_multi_remove_handle(s->multi, e);
		http_done((struct hc *)(void *)p, rc);
	}
}

static void on_sock_ready(evutil_socket_t fd, short what, void *arg)
{
	struct hcheck_set *s = arg;
	int flags = (what & EV_READ ? CURL_CSELECT_IN : 0) |
		    (what & EV_WRITE ? CURL_CSELECT_OUT : 0), running;

	curl_multi_socket_action(s->multi, fd, flags, &running);
	collect(s);
}

static void on_curl_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct hcheck_set *s = arg;
	int running;

	(void)fd, (void)what;
	curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	collect(s);
}

static void hsock_free(struct hcheck_set *s, struct hsock *h)
{
	if (h->ev)
		event_free(h->ev);
	if (h->prev)
		h->prev->next = h->next;
	else
		s->socks = h->next;
	if (h->next)
		h->next->prev = h->prev;
	free(h);
}

static int on_curl_socket(CURL *e, curl_socket_t fd, int what, void *arg,
			  void *sockp)
{
	struct hcheck_set *s = arg;
	struct hsock *h = sockp;
	short kind = EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) |
		     (what & CURL_POLL_OUT ? EV_WRITE : 0);

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (h)
			hsock_free(s, h);
		return 0;
	}
	if (!h) {
		if (!(h = calloc(1, sizeof(*h))))
			return -1;
		h->next = s->socks;
		if (s->socks)
			s->socks->prev = h;
		s->socks = h;
		curl_multi_assign(s->multi, fd, h);
	} else if (h->ev) {
		event_free(h->ev);
	}
	h->ev = event_new(s->base, fd, kind, on_sock_ready, s);
	return h->ev && event_add(h->ev, NULL) == 0 ? 0 : -1;
}

static int on_curl_timer(CURLM *m, long ms, void *arg)
{
	struct hcheck_set *s = arg;
	struct timeval tv = ms_tv(ms < 0 ? 0 : (uint64_t)ms);

	(void)m;
	if (ms < 0)
		return evtimer_del(s->curl_timer);
	return evtimer_add(s->curl_timer, &tv);
}

/* Keep the first HCHECK_BODY_WINDOW bytes and stop the transfer once the
 * verdict cannot change (found, window full, or no body test at all). */
static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct hc *c = arg;
	size_t n = size * nmemb, nl, from, take;

	if (!c->d.body) {
		c->stopped = true;
		return 0;
	}
	nl = strlen(c->d.body);
	take = HCHECK_BODY_WINDOW - c->blen;
	take = n < take ? n : take;
	from = c->blen >= nl ? c->blen - nl + 1 : 0;
	memcpy(c->buf + c->blen, data, take);
	c->blen += take;
	if (memmem(c->buf + from, c->blen - from, c->d.body, nl))
		c->found = true;
	if (c->found || c->blen == HCHECK_BODY_WINDOW) {
		c->stopped = true;
		return 0;
	}
	return n;
}

static void http_start(struct hc *c)
{
	c->blen = 0;
	c->found = c->stopped = false;
	c->cerr[0] = '\0';
	if (curl_multi_add_handle(c->set->multi, c->easy) != CURLM_OK)
		probe_done(c, false, "libcurl refused the transfer");
}

/* "127.0.0.1" or "[2001:db8::1]" */
static void address_literal(const struct hc *c, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	const void *p = c->sa.ss_family == AF_INET ?
		(const void *)&((const struct sockaddr_in *)&c->sa)->sin_addr :
		(const void *)&((const struct sockaddr_in6 *)&c->sa)->sin6_addr;

	inet_ntop(c->sa.ss_family, p, a, sizeof(a));
	snprintf(out, len, c->sa.ss_family == AF_INET ? "%s" : "[%s]", a);
}

static int http_urls(struct hc *c)
{
	const char *scheme = c->d.kind == HCHECK_HTTPS ? "https" : "http";
	char lit[INET6_ADDRSTRLEN + 2], to[600];
	size_t len = strlen(c->d.path) + 300;

	address_literal(c, lit, sizeof(lit));
	if (!(c->url = malloc(len)))
		return P53_ENOMEM;
	snprintf(c->url, len, "%s://%s:%u%s", scheme,
		 c->d.host ? c->d.host : lit, c->d.port, c->d.path);
	if (!c->d.host)
		return 0;
	/* Connect to the address while the URL names the host: the Host
	 * header and SNI carry it, and nothing is looked up in the DNS. */
	snprintf(to, sizeof(to), "%s:%u:%s:%u", c->d.host, c->d.port, lit,
		 c->d.port);
	c->connect_to = curl_slist_append(NULL, to);
	return c->connect_to ? 0 : P53_ENOMEM;
}

static int http_prepare(struct hc *c)
{
	bool tls = c->d.kind == HCHECK_HTTPS, verify = tls && !c->d.no_verify;
	long tmo = (long)c->d.timeout_ms;
	int rc;

	if (http_urls(c) < 0 || !(c->easy = curl_easy_init()) ||
	    (c->d.body && !(c->buf = malloc(HCHECK_BODY_WINDOW))))
		return P53_ENOMEM;
	rc = curl_easy_setopt(c->easy, CURLOPT_URL, c->url);
	rc |= curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS_STR, tls ? "https" : "http");
	rc |= curl_easy_setopt(c->easy, CURLOPT_CONNECT_TO, c->connect_to);
	rc |= curl_easy_setopt(c->easy, CURLOPT_NOPROXY, "*");
	/* Every probe is a new connection and a full handshake: a pooled
	 * connection or a resumed session would prove little. */
	rc |= curl_easy_setopt(c->easy, CURLOPT_FORBID_REUSE, 1L);
	rc |= curl_easy_setopt(c->easy, CURLOPT_FRESH_CONNECT, 1L);
	rc |= curl_easy_setopt(c->easy, CURLOPT_SSL_SESSIONID_CACHE, 0L);
	rc |= curl_easy_setopt(c->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	rc |= curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, tmo);
	rc |= curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS, tmo);
	rc |= curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(c->easy, CURLOPT_USERAGENT, "pop53-health-check");
	rc |= curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_body);
	rc |= curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
	rc |= curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, c->cerr);
	rc |= curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
	if (tls) {
		rc |= curl_easy_setopt(c->easy, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
		rc |= curl_easy_setopt(c->easy, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
		if (c->d.ca_file)
			rc |= curl_easy_setopt(c->easy, CURLOPT_CAINFO, c->d.ca_file);
	}
	return rc ? P53_ENOTSUP : 0;
}

/* ---- scheduling ------------------------------------------------------------------------ */

static void arm(struct event *ev, uint64_t ms)
{
	struct timeval tv = ms_tv(ms);

	evtimer_add(ev, &tv);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct hc *c = arg;

	(void)fd, (void)what;
	arm(c->tick, c->d.interval_ms);
	if (c->busy)            /* the loop lagged: never two at once */
		return;
	c->busy = true;
	c->started_us = mono_us();
	if (c->d.kind == HCHECK_TCP)
		tcp_start(c);
	else
		http_start(c);
}

static void cancel_probe(struct hc *c)
{
	if (c->busy && c->easy)
		curl_multi_remove_handle(c->set->multi, c->easy);
	tcp_end(c);
	c->busy = false;
}

/* ---- votes ------------------------------------------------------------------------------- */

static void prune_votes(struct hc *c, uint64_t now)
{
	for (size_t k = 0; k < c->nvotes;) {
		if (c->votes[k].expires_ms <= now)
			c->votes[k] = c->votes[--c->nvotes];
		else
			k++;
	}
}

static void arm_expiry(struct hc *c, uint64_t now)
{
	uint64_t first = UINT64_MAX;

	for (size_t k = 0; k < c->nvotes; k++)
		if (c->votes[k].expires_ms < first)
			first = c->votes[k].expires_ms;
	if (first == UINT64_MAX)
		evtimer_del(c->expire);
	else
		arm(c->expire, first > now ? first - now : 0);
}

static void on_expire(evutil_socket_t fd, short what, void *arg)
{
	struct hc *c = arg;
	uint64_t now = hcheck_now_ms();

	(void)fd, (void)what;
	prune_votes(c, now);
	arm_expiry(c, now);
	reevaluate(c, "votes expired");
}

static int put_vote(struct hc *c, uint32_t source, bool healthy,
		    uint64_t expires_ms, uint64_t now)
{
	struct vote *v = NULL;

	for (size_t k = 0; k < c->nvotes && !v; k++)
		if (c->votes[k].source == source)
			v = &c->votes[k];
	if (expires_ms <= now) {
		if (v)
			*v = c->votes[--c->nvotes];
		return 0;
	}
	if (!v) {
		prune_votes(c, now);
		if (c->nvotes >= HCHECK_MAX_VOTES)
			return P53_ELIMIT;
		if (c->nvotes == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 4;
			struct vote *nv = realloc(c->votes, cap * sizeof(*nv));

			if (!nv)
				return P53_ENOMEM;
			c->votes = nv;
			c->cap = cap;
		}
		v = &c->votes[c->nvotes++];
		v->source = source;
	}
	v->healthy = healthy;
	v->expires_ms = expires_ms;
	return 0;
}

int hcheck_vote(struct hcheck_set *s, size_t index, uint32_t source_id,
		bool healthy, uint64_t expires_ms)
{
	uint64_t now = hcheck_now_ms();
	char why[96];
	struct hc *c;
	int ret;

	if (!s || index >= s->n || s->checks[index]->d.kind == HCHECK_CALCULATED)
		return P53_EINVAL;
	c = s->checks[index];
	if ((ret = put_vote(c, source_id, healthy, expires_ms, now)) < 0)
		return ret;
	if (expires_ms <= now)
		snprintf(why, sizeof(why), "vote of source %u withdrawn",
			 source_id);
	else
		snprintf(why, sizeof(why), "source %u votes %s", source_id,
			 healthy ? "healthy" : "unhealthy");
	prune_votes(c, now);
	arm_expiry(c, now);
	reevaluate(c, why);
	return 0;
}

/* ---- a check's life -------------------------------------------------------------------- */

static void check_free(struct hc *c)
{
	if (!c)
		return;
	cancel_probe(c);
	if (c->tick)
		event_free(c->tick);
	if (c->expire)
		event_free(c->expire);
	if (c->easy)
		curl_easy_cleanup(c->easy);
	curl_slist_free_all(c->connect_to);
	free(c->url);
	free(c->buf);
	free(c->votes);
	free((char *)c->d.name);
	free((char *)c->d.address);
	free((char *)c->d.host);
	free((char *)c->d.path);
	free((char *)c->d.body);
	free((char *)c->d.ca_file);
	free((size_t *)c->d.members);
	free(c);
}

static int dup_str(const char **s)
{
	if (*s && !(*s = strdup(*s)))
		return -1;
	return 0;
}

/* Own copies of the strings and members of c->d (which points at the
 * caller's until now); on failure the ones not copied are NULL. */
static int own_def(struct hcheck_def *d)
{
	const char **str[] = { &d->name, &d->address, &d->host, &d->path,
			       &d->body, &d->ca_file };
	const size_t *m = d->members;
	int fail = 0;

	for (size_t k = 0; k < sizeof(str) / sizeof(str[0]); k++) {
		if (fail || dup_str(str[k]) < 0) {
			*str[k] = NULL;
			fail = 1;
		}
	}
	d->members = NULL;
	if (!fail && m && d->nmembers) {
		size_t *copy = malloc(d->nmembers * sizeof(*copy));

		if (copy)
			memcpy(copy, m, d->nmembers * sizeof(*copy));
		d->members = copy;
		fail = !copy;
	}
	return fail ? P53_ENOMEM : 0;
}

static int check_new(struct hcheck_set *s, const struct norm *nm,
		     struct hc **out)
{
	struct hc *c = calloc(1, sizeof(*c));
	int ret = P53_ENOMEM;

	*out = c;
	if (!c)
		return P53_ENOMEM;
	c->set = s;
	c->fd = -1;
	c->d = nm->d;
	c->sa = nm->sa;
	c->salen = nm->salen;
	c->fresh = true;
	if ((ret = own_def(&c->d)) < 0)
		return ret;
	c->known = c->d.start != HCHECK_START_FIRST;
	c->local_up = c->d.start != HCHECK_START_UNHEALTHY;
	c->word = c->local_up;
	if (c->d.kind == HCHECK_CALCULATED)
		return 0;
	c->tick = evtimer_new(s->base, on_tick, c);
	c->expire = evtimer_new(s->base, on_expire, c);
	if (!c->tick || !c->expire)
		return P53_ENOMEM;
	return c->d.kind == HCHECK_TCP ? 0 : http_prepare(c);
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Whether old (in the set as it is) and the new definition i describe the
 * same check; calculated members are compared by name. */
static bool same_def(const struct hc *old, const struct norm *nms, size_t i,
		     const struct hcheck_def *defs)
{
	const struct hcheck_def *a = &old->d, *b = &nms[i].d;

	if (a->kind != b->kind)
		return false;
	if (a->kind == HCHECK_CALCULATED) {
		if (a->op != b->op || a->nmembers != b->nmembers ||
		    (a->op == HCHECK_AT_LEAST && a->at_least != b->at_least))
			return false;
		for (size_t k = 0; k < a->nmembers; k++)
			if (strcmp(old->set->checks[a->members[k]]->d.name,
				   defs[b->members[k]].name))
				return false;
		return true;
	}
	return old->salen == nms[i].salen && !memcmp(&old->sa, &nms[i].sa,
						     old->salen) &&
	       a->port == b->port && same_str(a->host, b->host) &&
	       same_str(a->path, b->path) && a->status_min == b->status_min &&
	       a->status_max == b->status_max && same_str(a->body, b->body) &&
	       a->interval_ms == b->interval_ms &&
	       a->timeout_ms == b->timeout_ms && a->fall == b->fall &&
	       a->rise == b->rise && a->quorum_pct == b->quorum_pct &&
	       a->start == b->start && a->no_verify == b->no_verify &&
	       same_str(a->ca_file, b->ca_file);
}

/* ---- installing definitions --------------------------------------------------------------- */

struct plan {
	const struct hcheck_def *defs;
	struct hc **checks;
	size_t n;
	size_t *calc, ncalc;
	uint8_t *words;                 /* a new array, or NULL: keep */
};

static void plan_free(struct plan *p)
{
	for (size_t i = 0; p->checks && i < p->n; i++) {
		if (p->checks[i] && !p->checks[i]->kept)
			check_free(p->checks[i]);
		else if (p->checks[i])
			p->checks[i]->kept = false;
	}
	free(p->checks);
	free(p->calc);
	free(p->words);
}

static int validate(const struct hcheck_set *s, const struct hcheck_def *defs,
		    size_t n, struct norm *nms, char *err, size_t errlen)
{
	uint32_t min_iv = s->o.min_interval_ms;
	int ret;

	if (n && !defs) {
		snprintf(err, errlen, "%zu checks but no definitions", n);
		return P53_EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		if ((ret = norm_one(&nms[i], &defs[i], i, n, min_iv, err,
				    errlen)) < 0)
			return ret;
	return unique_names(defs, n, err, errlen);
}

static struct hc *old_check(const struct hcheck_set *s, const char *name)
{
	for (size_t k = 0; k < s->n; k++)
		if (!strcmp(s->checks[k]->d.name, name))
			return s->checks[k];
	return NULL;
}

/* Everything that can fail, before the set changes. */
static int prepare(struct hcheck_set *s, const struct hcheck_def *defs,
		   size_t n, char *err, size_t errlen, struct plan *p)
{
	struct norm *nms = calloc(n ? n : 1, sizeof(*nms));
	int ret = P53_ENOMEM;

	memset(p, 0, sizeof(*p));
	if (!nms || !(p->checks = calloc(n ? n : 1, sizeof(*p->checks))))
		goto fail;
	p->n = n;
	p->defs = defs;
	if ((ret = validate(s, defs, n, nms, err, errlen)) < 0 ||
	    (ret = calc_order(defs, n, &p->calc, &p->ncalc, err, errlen)) < 0)
		goto fail;
	ret = P53_ENOMEM;
	if ((n != s->n || !s->words) && !(p->words = calloc(n ? n : 1, 1)))
		goto fail;
	for (size_t i = 0; i < n; i++) {
		struct hc *old = old_check(s, defs[i].name);

		if (old && same_def(old, nms, i, defs)) {
			old->kept = true;
			p->checks[i] = old;
		} else if ((ret = check_new(s, &nms[i], &p->checks[i])) < 0) {
			snprintf(err, errlen, "check %zu (%s): %s", i,
				 defs[i].name, p53_strerror(ret));
			goto fail;
		}
	}
	free(nms);
	return 0;
fail:
	free(nms);
	plan_free(p);
	return ret;
}

/* Install p: no failure from here on. */
static void commit(struct hcheck_set *s, struct plan *p, uint8_t **old_words)
{
	for (size_t k = 0; k < s->n; k++)
		if (!s->checks[k]->kept)
			check_free(s->checks[k]);
	free(s->checks);
	free(s->calc);
	s->checks = p->checks;
	s->n = p->n;
	s->calc = p->calc;
	s->ncalc = p->ncalc;
	if (old_words)
		*old_words = p->words ? s->words : NULL;
	else if (p->words)
		free(s->words);
	if (p->words)
		s->words = p->words;
	for (size_t i = 0; i < s->n; i++) {
		struct hc *c = s->checks[i];

		c->index = i;
		c->kept = false;
		if (c->d.kind == HCHECK_CALCULATED && !c->fresh)
			memcpy((size_t *)c->d.members, p->defs[i].members,
			       c->d.nmembers * sizeof(size_t));
		/* a new calculated check's word is written by recalc */
		if (c->d.kind != HCHECK_CALCULATED || !c->fresh)
			__atomic_store_n(&s->words[i], (uint8_t)c->word,
					 __ATOMIC_RELEASE);
	}
	recalc(s);
	for (size_t i = 0; i < s->n; i++) {
		struct hc *c = s->checks[i];

		if (c->fresh && c->tick)
			arm(c->tick, next_rand(s) % c->d.interval_ms);
		c->fresh = false;
	}
}

static int curl_setup(struct hcheck_set *s)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return P53_ENOMEM;
	s->curl_inited = true;
	if (!(s->multi = curl_multi_init()) ||
	    !(s->curl_timer = evtimer_new(s->base, on_curl_timeout, s)))
		return P53_ENOMEM;
	curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
	curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
	return 0;
}

int hcheck_set_create(struct event_base *base, const struct hcheck_def *defs,
		      size_t n, const struct hcheck_opts *o, char *err,
		      size_t errlen, struct hcheck_set **out)
{
	struct hcheck_set *s = calloc(1, sizeof(*s));
	struct plan p;
	int ret = P53_ENOMEM;

	*out = NULL;
	if (!s)
		return P53_ENOMEM;
	s->base = base;
	if (o)
		s->o = *o;
	if (!s->o.min_interval_ms)
		s->o.min_interval_ms = DEF_MIN_IV_MS;
	s->rng = s->o.seed ? s->o.seed : mono_us() ^ (uint64_t)(uintptr_t)s;
	s->rng |= 1;
	if ((ret = curl_setup(s)) < 0) {
		snprintf(err, errlen, "libcurl: %s", p53_strerror(ret));
		goto fail;
	}
	if ((ret = prepare(s, defs, n, err, errlen, &p)) < 0)
		goto fail;
	commit(s, &p, NULL);
	*out = s;
	return 0;
fail:
	hcheck_set_destroy(s);
	return ret;
}

int hcheck_set_update(struct hcheck_set *s, const struct hcheck_def *defs,
		      size_t n, char *err, size_t errlen, uint8_t **old_words)
{
	struct plan p;
	int ret;

	if (old_words)
		*old_words = NULL;
	if ((ret = prepare(s, defs, n, err, errlen, &p)) < 0)
		return ret;
	commit(s, &p, old_words);
	return 0;
}

void hcheck_set_destroy(struct hcheck_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		check_free(s->checks[i]);
	free(s->checks);
	free(s->calc);
	if (s->multi)
		curl_multi_cleanup(s->multi);
	while (s->socks)
		hsock_free(s, s->socks);
	if (s->curl_timer)
		event_free(s->curl_timer);
	if (s->curl_inited)
		curl_global_cleanup();
	free(s->words);
	free(s);
}

/* ---- reading --------------------------------------------------------------------------------- */

const uint8_t *hcheck_words(const struct hcheck_set *s)
{
	return s->words;
}

void hcheck_words_free(uint8_t *old_words)
{
	free(old_words);
}

size_t hcheck_count(const struct hcheck_set *s)
{
	return s->n;
}

int hcheck_index(const struct hcheck_set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->checks[i]->d.name, name))
			return (int)i;
	return P53_ENOTFOUND;
}

int hcheck_stats(const struct hcheck_set *s, size_t index,
		 struct hcheck_stats *out)
{
	const struct hc *c;

	if (!s || index >= s->n)
		return P53_EINVAL;
	c = s->checks[index];
	memset(out, 0, sizeof(*out));
	out->name = c->d.name;
	out->kind = c->d.kind;
	out->healthy = c->word;
	out->local_healthy = c->local_up;
	out->in_flight = c->busy;
	count_votes(c, hcheck_now_ms(), &out->votes_live, &out->votes_healthy);
	out->probes = c->probes;
	out->failures = c->failures;
	out->transitions = c->transitions;
	out->last_latency_us = c->latency_us;
	snprintf(out->last_error, sizeof(out->last_error), "%s", c->last_error);
	return 0;
}
