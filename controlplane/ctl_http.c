/*
 * ctl_http.c — the push API (HTTPS, mutual TLS) and the metrics page.
 *
 * The push port speaks just enough HTTP/1.1 for its two resources: one
 * request per connection, a head of at most HEAD_MAX bytes, a body only
 * with Content-Length (no chunked uploads: the size must be known before a
 * byte of a snapshot is accepted), Expect: 100-continue honoured after the
 * checks, so a refused curl upload sends nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ctl_http.h"
#include "error.h"
#include "srv.h"

#define HEAD_MAX        16384
#define MAX_CONNS       64          /* concurrent push-port connections */
#define LINGER_MS       1000        /* reading what a refused client still sends */
#define DEFAULT_MAX     (1ull << 30)
#define DEFAULT_TIMEOUT 60000
#define VOTES_MAX       (1u << 20)  /* bytes of one POST /v1/votes body */
#define VOTE_ERRORS     8           /* refused lines quoted in the answer */

enum conn_state {
	C_HEAD,     /* TLS handshake, then the request head */
	C_BODY,     /* a push body arriving */
	C_REPLY,    /* the answer being written */
	C_LINGER,   /* answered; discarding input until EOF so the client
		     * reads our answer instead of a reset */
};

struct push_conn {
	struct ctl_http *h;
	struct push_conn *prev, *next;
	struct bufferevent *bev;
	struct event *timer;
	enum conn_state state;
	int tls_up;
	int consumed;               /* the whole request was read */
	int force;
	int votes;                  /* the body is POST /v1/votes' */
	uint8_t *body;
	size_t clen, got;
	char peer[INET6_ADDRSTRLEN + 8];
};

struct ctl_http {
	struct event_base *base;
	const struct ctl_ops *ops;
	struct evconnlistener *lev;
	SSL_CTX *ctx;               /* push port only */
	struct evhttp *http;        /* metrics port only */
	uint64_t max_bytes;
	unsigned timeout_ms;
	struct push_conn *conns;
	unsigned nconns;
	struct push_conn *pushing;  /* the one connection receiving a body */
};

/* ---- JSON and HTTP text --------------------------------------------------- */

void ctl_json_str(struct evbuffer *out, const char *s)
{
	evbuffer_add(out, "\"", 1);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			evbuffer_add_printf(out, "\\%c", ch);
		else if (ch == '\n')
			evbuffer_add(out, "\\n", 2);
		else if (ch < 0x20 || ch == 0x7f)
			evbuffer_add_printf(out, "\\u%04x", ch);
		else
			evbuffer_add(out, s, 1);
	}
	evbuffer_add(out, "\"", 1);
}

int ctl_http_status_of(enum ctl_refusal r)
{
	switch (r) {
	case CTL_OK:               return 200;
	case CTL_REFUSE_CORRUPT:   return 400;
	case CTL_REFUSE_SIGNATURE: return 403;
	case CTL_REFUSE_STALE:     return 409;
	case CTL_REFUSE_TOO_LARGE: return 413;
	case CTL_REFUSE_STORE:     return 500;
	}
	return 500;
}

static const char *reason_phrase(int code)
{
	switch (code) {
	case 100: return "Continue";
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	}
	return "Internal Server Error";
}

/* ---- connections ---------------------------------------------------------- */

static void conn_free(struct push_conn *c)
{
	struct ctl_http *h = c->h;

	if (h->pushing == c)
		h->pushing = NULL;
	if (c->prev)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	h->nconns--;
	free(c->body);
	event_free(c->timer);
	bufferevent_free(c->bev);
	free(c);
}

static void arm_timer(struct push_conn *c, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	evtimer_add(c->timer, &tv);
}

/* Send the answer (body: JSON) and stop taking the request. */
static void reply(struct push_conn *c, int code, const char *extra_header,
		  struct evbuffer *body)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (c->h->pushing == c)
		c->h->pushing = NULL;
	free(c->body);
	c->body = NULL;
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
			    "Content-Length: %zu\r\nConnection: close\r\n%s\r\n", code,
			    reason_phrase(code), evbuffer_get_length(body),
			    extra_header ? extra_header : "");
	evbuffer_add_buffer(out, body);
	c->state = C_REPLY;
	arm_timer(c, LINGER_MS + c->h->timeout_ms);   /* a client that never reads */
}

static void reply_error(struct push_conn *c, int code, const char *extra_header,
			const char *name, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void reply_error(struct push_conn *c, int code, const char *extra_header,
			const char *name, const char *fmt, ...)
{
	struct evbuffer *b = evbuffer_new();
	char msg[512];
	va_list ap;

	if (!b) {
		conn_free(c);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	evbuffer_add_printf(b, "{\"error\": ");
	ctl_json_str(b, name);
	evbuffer_add_printf(b, ", \"message\": ");
	ctl_json_str(b, msg);
	evbuffer_add_printf(b, ", \"serial\": %llu}\n",
			    (unsigned long long)c->h->ops->served_serial(c->h->ops->arg));
	reply(c, code, extra_header, b);
	evbuffer_free(b);
}

static void reply_push(struct push_conn *c, const struct ctl_push_result *r)
{
	struct evbuffer *b;

	if (r->why != CTL_OK) {
		reply_error(c, ctl_http_status_of(r->why), NULL, ctl_refusal_name(r->why), "%s",
			    r->message);
		return;
	}
	if (!(b = evbuffer_new())) {
		conn_free(c);
		return;
	}
	evbuffer_add_printf(b, "{\"serial\": %llu, \"previous_serial\": %llu, \"zones\": %u}\n",
			    (unsigned long long)r->serial,
			    (unsigned long long)r->previous_serial, r->zones);
	reply(c, 200, NULL, b);
	evbuffer_free(b);
}

static void reply_status(struct push_conn *c)
{
	struct evbuffer *b = evbuffer_new();

	if (!b) {
		conn_free(c);
		return;
	}
	evbuffer_add(b, "{", 1);
	c->h->ops->status(c->h->ops->arg, b);
	evbuffer_add(b, "}\n", 2);
	reply(c, 200, NULL, b);
	evbuffer_free(b);
}

/* ---- the request ------------------------------------------------------------ */

struct request {
	char *method, *path, *query;
	int have_length, chunked, expect_continue, bad_length;
	uint64_t length;
};

/* Content-Length: digits only, and the same value if repeated. */
static void parse_length(struct request *rq, const char *v)
{
	uint64_t n = 0;

	if (!*v)
		rq->bad_length = 1;
	for (; *v; v++) {
		if (*v < '0' || *v > '9' || n > (UINT64_MAX - 9) / 10) {
			rq->bad_length = 1;
			return;
		}
		n = n * 10 + (uint64_t)(*v - '0');
	}
	if (rq->have_length && n != rq->length)
		rq->bad_length = 1;
	rq->have_length = 1;
	rq->length = n;
}

static void parse_header(struct request *rq, char *line)
{
	char *colon = strchr(line, ':'), *v, *end;

	if (!colon)
		return;
	*colon = '\0';
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	for (end = v + strlen(v); end > v && (end[-1] == ' ' || end[-1] == '\t'); end--)
		;
	*end = '\0';
	if (!strcasecmp(line, "Content-Length"))
		parse_length(rq, v);
	else if (!strcasecmp(line, "Transfer-Encoding"))
		rq->chunked = 1;
	else if (!strcasecmp(line, "Expect") && !strcasecmp(v, "100-continue"))
		rq->expect_continue = 1;
}

/* Split head (NUL-terminated, CRLF lines) into rq; 0 or -1 (malformed). */
static int parse_head(char *head, struct request *rq)
{
	char *save = NULL, *line = strtok_r(head, "\r\n", &save), *version;

	memset(rq, 0, sizeof(*rq));
	if (!line)
		return -1;
	rq->method = line;
	if (!(rq->path = strchr(line, ' ')))
		return -1;
	*rq->path++ = '\0';
	if (!(version = strchr(rq->path, ' ')))
		return -1;
	*version++ = '\0';
	if (strncmp(version, "HTTP/1.", 7) != 0 || rq->path[0] != '/')
		return -1;
	if ((rq->query = strchr(rq->path, '?')))
		*rq->query++ = '\0';
	while ((line = strtok_r(NULL, "\r\n", &save)))
		parse_header(rq, line);
	return 0;
}

/* force=1 (or true) among the query parameters. */
static int want_force(char *query)
{
	char *save = NULL;

	for (char *p = query ? strtok_r(query, "&", &save) : NULL; p;
	     p = strtok_r(NULL, "&", &save))
		if (!strcmp(p, "force=1") || !strcmp(p, "force=true") || !strcmp(p, "force"))
			return 1;
	return 0;
}

static void read_body(struct push_conn *c);

/* POST /v1/votes: a small body read like a snapshot, but beside a push. */
static void begin_votes(struct push_conn *c, struct request *rq)
{
	if (!c->h->ops->vote) {
		reply_error(c, 404, NULL, "not-found", "this daemon takes no votes");
		return;
	}
	if (rq->chunked || !rq->have_length || rq->bad_length) {
		reply_error(c, rq->bad_length ? 400 : 411, NULL, "bad-request",
			    "votes need a valid Content-Length (no chunked uploads)");
		return;
	}
	if (rq->length > VOTES_MAX) {
		reply_error(c, 413, NULL, "too-large", "votes of %llu bytes: the limit is %u",
			    (unsigned long long)rq->length, VOTES_MAX);
		return;
	}
	if (!(c->body = malloc((size_t)rq->length + 1))) {
		reply_error(c, 503, "Retry-After: 1\r\n", "busy", "out of memory");
		return;
	}
	c->clen = (size_t)rq->length;
	c->got = 0;
	c->votes = 1;
	c->state = C_BODY;
	if (rq->expect_continue)
		bufferevent_write(c->bev, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	read_body(c);
}

/* One body line "CHECK SOURCE_ID healthy|unhealthy TTL_MS" to the daemon;
 * 0, or a negative p53_err with the reason in err. */
static int one_vote(struct ctl_http *h, char *line, char *err, size_t errlen)
{
	char *save = NULL, *f[5], *e1, *e2;
	unsigned long long source, ttl;
	int n = 0;

	for (char *t = strtok_r(line, " \t\r", &save); t && n < 5; t = strtok_r(NULL, " \t\r", &save))
		f[n++] = t;
	if (n == 4) {
		errno = 0;
		source = strtoull(f[1], &e1, 10);
		ttl = strtoull(f[3], &e2, 10);
		if (f[1][0] >= '0' && f[1][0] <= '9' && !*e1 && source <= UINT32_MAX &&
		    f[3][0] >= '0' && f[3][0] <= '9' && !*e2 && ttl <= UINT32_MAX && !errno &&
		    (!strcmp(f[2], "healthy") || !strcmp(f[2], "unhealthy")))
			return h->ops->vote(h->ops->arg, f[0], (uint32_t)source, f[2][0] == 'h',
					    (uint32_t)ttl, err, errlen);
	}
	snprintf(err, errlen, "not CHECK SOURCE_ID healthy|unhealthy TTL_MS");
	return P53_ESYNTAX;
}

/* Every line of the body, each on its own: {"applied": N, "refused": M,
 * "errors": [the first refusals]}. */
static void apply_votes(struct push_conn *c)
{
	struct evbuffer *b = evbuffer_new();
	char err[384], where[448], *nl;
	unsigned line = 0, applied = 0, refused = 0;

	if (!b) {
		conn_free(c);
		return;
	}
	c->body[c->clen] = '\0';
	evbuffer_add_printf(b, "{\"errors\": [");
	for (char *l = (char *)c->body; l; l = nl ? nl + 1 : NULL) {
		if ((nl = strchr(l, '\n')))
			*nl = '\0';
		line++;
		if (!l[strspn(l, " \t\r")])
			continue;
		if (one_vote(c->h, l, err, sizeof(err)) == 0) {
			applied++;
			continue;
		}
		if (refused++ < VOTE_ERRORS) {
			snprintf(where, sizeof(where), "line %u: %s", line, err);
			evbuffer_add_printf(b, "%s", refused > 1 ? ", " : "");
			ctl_json_str(b, where);
		}
	}
	evbuffer_add_printf(b, "], \"applied\": %u, \"refused\": %u}\n", applied, refused);
	reply(c, 200, NULL, b);
	evbuffer_free(b);
}

static void begin_push(struct push_conn *c, struct request *rq)
{
	struct ctl_http *h = c->h;

	if (rq->chunked || !rq->have_length) {
		h->ops->refused(h->ops->arg, "bad-request");
		reply_error(c, 411, NULL, "length-required", "%s",
			    rq->chunked ? "chunked uploads are not accepted: send Content-Length"
					: "Content-Length is required");
		return;
	}
	if (rq->bad_length) {
		h->ops->refused(h->ops->arg, "bad-request");
		reply_error(c, 400, NULL, "bad-request", "malformed Content-Length");
		return;
	}
	if (rq->length > h->max_bytes || rq->length > SIZE_MAX) {
		h->ops->refused(h->ops->arg, "too-large");
		reply_error(c, 413, NULL, "too-large", "snapshot of %llu bytes: the limit is %llu",
			    (unsigned long long)rq->length, (unsigned long long)h->max_bytes);
		return;
	}
	if (h->pushing) {
		h->ops->refused(h->ops->arg, "busy");
		reply_error(c, 503, "Retry-After: 1\r\n", "busy",
			    "another push (from %s) is in progress", h->pushing->peer);
		return;
	}
	if (!(c->body = malloc(rq->length ? (size_t)rq->length : 1))) {
		h->ops->refused(h->ops->arg, "busy");
		reply_error(c, 503, "Retry-After: 5\r\n", "busy",
			    "cannot allocate %llu bytes for the snapshot now",
			    (unsigned long long)rq->length);
		return;
	}
	c->clen = (size_t)rq->length;
	c->got = 0;
	c->force = want_force(rq->query);
	h->pushing = c;
	c->state = C_BODY;
	if (rq->expect_continue)
		bufferevent_write(c->bev, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	read_body(c);
}

static void route(struct push_conn *c, struct request *rq)
{
	int get = !strcmp(rq->method, "GET");

	if (!strcmp(rq->path, "/v1/snapshot")) {
		if (!strcmp(rq->method, "PUT")) {
			begin_push(c, rq);
			return;
		}
		reply_error(c, 405, "Allow: PUT\r\n", "method-not-allowed",
			    "%s /v1/snapshot: only PUT", rq->method);
	} else if (!strcmp(rq->path, "/v1/votes")) {
		if (!strcmp(rq->method, "POST")) {
			begin_votes(c, rq);
			return;
		}
		reply_error(c, 405, "Allow: POST\r\n", "method-not-allowed",
			    "%s /v1/votes: only POST", rq->method);
	} else if (!strcmp(rq->path, "/v1/status")) {
		c->consumed = !rq->have_length || rq->length == 0;
		if (get)
			reply_status(c);
		else
			reply_error(c, 405, "Allow: GET\r\n", "method-not-allowed",
				    "%s /v1/status: only GET", rq->method);
	} else {
		reply_error(c, 404, NULL, "not-found", "no resource %s (the API has "
			    "/v1/snapshot, /v1/votes and /v1/status)", rq->path);
	}
}

static void read_head(struct push_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	struct request rq;
	char *head;

	if (end.pos < 0 || end.pos + 4 > HEAD_MAX) {
		if (end.pos >= 0 || evbuffer_get_length(in) > HEAD_MAX)
			reply_error(c, 431, NULL, "bad-request", "request head over %d bytes",
				    HEAD_MAX);
		return;
	}
	if (!(head = malloc((size_t)end.pos + 5))) {
		conn_free(c);
		return;
	}
	evbuffer_remove(in, head, (size_t)end.pos + 4);
	head[end.pos + 4] = '\0';
	if (parse_head(head, &rq) < 0)
		reply_error(c, 400, NULL, "bad-request", "malformed HTTP request head");
	else
		route(c, &rq);
	free(head);
}

static void read_body(struct push_conn *c)
{
	struct ctl_http *h = c->h;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct ctl_push_result r;

	if (c->got < c->clen) {
		int n = evbuffer_remove(in, c->body + c->got, c->clen - c->got);
		if (n > 0)
			c->got += (size_t)n;
	}
	if (c->got < c->clen)
		return;
	c->consumed = 1;
	if (c->votes) {
		apply_votes(c);
		return;
	}
	memset(&r, 0, sizeof(r));
	/* Verification and the write to disk run here, on the loop: the
	 * DNS threads and lcores keep answering; other control requests
	 * wait (a 150 MB snapshot hashes in ~0.3 s). */
	h->ops->push(h->ops->arg, c->body, c->clen, c->force, &r);
	reply_push(c, &r);
}

/* ---- libevent callbacks ----------------------------------------------------- */

static void on_read(struct bufferevent *bev, void *arg)
{
	struct push_conn *c = arg;

	switch (c->state) {
	case C_HEAD:
		read_head(c);
		break;
	case C_BODY:
		read_body(c);
		break;
	case C_REPLY:
	case C_LINGER:
		evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(
			bufferevent_get_input(bev)));
		break;
	}
}

/* The answer left: done, unless the client may still be sending. */
static void on_write(struct bufferevent *bev, void *arg)
{
	struct push_conn *c = arg;

	(void)bev;
	if (c->state != C_REPLY)
		return;
	if (c->consumed) {
		conn_free(c);
		return;
	}
	c->state = C_LINGER;
	arm_timer(c, LINGER_MS);
}

static void tls_error_text(struct push_conn *c, char *buf, size_t len)
{
	unsigned long e = bufferevent_get_openssl_error(c->bev);

	if (e)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "%s", errno ? strerror(errno) : "connection closed");
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct push_conn *c = arg;
	char why[256];

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		c->tls_up = 1;
		return;
	}
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	if (!c->tls_up) {
		tls_error_text(c, why, sizeof(why));
		fprintf(stderr, "pop53d: push API: TLS handshake with %s failed: %s\n", c->peer,
			why);
	} else if (c->state == C_BODY) {
		fprintf(stderr, "pop53d: push API: %s closed the connection after %zu of %zu "
			"bytes; nothing changed\n", c->peer, c->got, c->clen);
	}
	conn_free(c);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct push_conn *c = arg;
	struct ctl_http *h = c->h;

	(void)fd;
	(void)what;
	if (!c->tls_up || c->state == C_REPLY || c->state == C_LINGER) {
		conn_free(c);
		return;
	}
	if (c->state == C_BODY) {
		h->ops->refused(h->ops->arg, "timeout");
		fprintf(stderr, "pop53d: push API: %s: request not complete after %u ms (%zu of %zu "
			"bytes); nothing changed\n", c->peer, h->timeout_ms, c->got, c->clen);
		reply_error(c, 408, NULL, "timeout", "request not complete within %u ms "
			    "(%zu of %zu bytes received)", h->timeout_ms, c->got, c->clen);
	} else {
		reply_error(c, 408, NULL, "timeout", "request head not complete within %u ms",
			    h->timeout_ms);
	}
}

static void peer_text(const struct sockaddr *sa, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *v4 = (const void *)sa;
		inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof(ip));
		port = ntohs(v4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const void *)sa;
		inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof(ip));
		port = ntohs(v6->sin6_port);
	}
	snprintf(buf, len, "%s@%u", ip, port);
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct ctl_http *h = arg;
	struct push_conn *c;
	SSL *ssl;

	(void)lev;
	(void)salen;
	if (h->nconns >= MAX_CONNS || !(c = calloc(1, sizeof(*c)))) {
		close(fd);
		return;
	}
	if (!(ssl = SSL_new(h->ctx))) {
		free(c);
		close(fd);
		return;
	}
	c->bev = bufferevent_openssl_socket_new(h->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
						BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(h->base, on_timeout, c);
	if (!c->bev || !c->timer) {
		if (c->bev)
			bufferevent_free(c->bev);   /* frees ssl, closes fd */
		else {
			SSL_free(ssl);
			close(fd);
		}
		if (c->timer)
			event_free(c->timer);
		free(c);
		return;
	}
	c->h = h;
	peer_text(sa, c->peer, sizeof(c->peer));
	c->next = h->conns;
	if (h->conns)
		h->conns->prev = c;
	h->conns = c;
	h->nconns++;
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	arm_timer(c, h->timeout_ms);
}

/* ---- set-up ----------------------------------------------------------------- */

static int ssl_fail(char *err, size_t errlen, const char *what, const char *file)
{
	char e[256] = "unknown OpenSSL error";
	unsigned long code = ERR_peek_last_error();

	if (code)
		ERR_error_string_n(code, e, sizeof(e));
	ERR_clear_error();
	snprintf(err, errlen, "push API: %s %s: %s", what, file, e);
	return P53_EIO;
}

static int tls_setup(struct ctl_http *h, const struct ctl_push_conf *c, char *err,
		     size_t errlen)
{
	STACK_OF(X509_NAME) *cas;
	static const unsigned char sid[] = "pop53-push";

	if (!c->cert || !c->key || !c->client_ca) {
		snprintf(err, errlen, "push API: needs a server certificate, its key and the "
			 "controllers' CA (tls_cert, tls_key, tls_client_ca)");
		return P53_EINVAL;
	}
	if (!(h->ctx = SSL_CTX_new(TLS_server_method())))
		return ssl_fail(err, errlen, "cannot create a TLS context for", c->listen);
	SSL_CTX_set_min_proto_version(h->ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(h->ctx, SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_session_id_context(h->ctx, sid, sizeof(sid) - 1);
	if (SSL_CTX_use_certificate_chain_file(h->ctx, c->cert) != 1)
		return ssl_fail(err, errlen, "certificate", c->cert);
	if (SSL_CTX_use_PrivateKey_file(h->ctx, c->key, SSL_FILETYPE_PEM) != 1)
		return ssl_fail(err, errlen, "private key", c->key);
	if (SSL_CTX_check_private_key(h->ctx) != 1)
		return ssl_fail(err, errlen, "private key does not match the certificate",
				c->cert);
	if (SSL_CTX_load_verify_locations(h->ctx, c->client_ca, NULL) != 1)
		return ssl_fail(err, errlen, "client CA", c->client_ca);
	if (!(cas = SSL_load_client_CA_file(c->client_ca)))
		return ssl_fail(err, errlen, "no CA certificate in", c->client_ca);
	SSL_CTX_set_client_CA_list(h->ctx, cas);
	/* A controller without a certificate from our CA never gets to HTTP. */
	SSL_CTX_set_verify(h->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	return 0;
}

static int listen_on(struct ctl_http *h, const char *what, const char *addr,
		     evconnlistener_cb cb, char *err, size_t errlen)
{
	struct srv_listen l;

	if (!addr || !strchr(addr, '@') || srv_parse_listen(addr, &l) < 0) {
		snprintf(err, errlen, "%s: wants ADDR@PORT, got '%s'", what, addr ? addr : "");
		return P53_EINVAL;
	}
	h->lev = evconnlistener_new_bind(h->base, cb, h, LEV_OPT_CLOSE_ON_FREE |
					 LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 64,
					 (const struct sockaddr *)&l.addr, (int)l.len);
	if (!h->lev) {
		snprintf(err, errlen, "%s: cannot listen on %s: %s", what, addr, strerror(errno));
		return P53_EIO;
	}
	return 0;
}

void ctl_http_set_limits(struct ctl_http *h, uint64_t max_bytes, unsigned timeout_ms)
{
	h->max_bytes = max_bytes ? max_bytes : DEFAULT_MAX;
	h->timeout_ms = timeout_ms ? timeout_ms : DEFAULT_TIMEOUT;
}

int ctl_http_push_start(struct event_base *base, const struct ctl_push_conf *c,
			const struct ctl_ops *ops, struct ctl_http **out,
			char *err, size_t errlen)
{
	struct ctl_http *h = calloc(1, sizeof(*h));
	int ret;

	*out = NULL;
	if (!h)
		return P53_ENOMEM;
	h->base = base;
	h->ops = ops;
	h->max_bytes = c->max_bytes ? c->max_bytes : DEFAULT_MAX;
	h->timeout_ms = c->timeout_ms ? c->timeout_ms : DEFAULT_TIMEOUT;
	if ((ret = tls_setup(h, c, err, errlen)) < 0 ||
	    (ret = listen_on(h, "push API", c->listen, on_accept, err, errlen)) < 0) {
		ctl_http_free(h);
		return ret;
	}
	*out = h;
	return 0;
}

/* ---- metrics (evhttp: a GET of a page, nothing to refuse precisely) ---------- */

static void on_metrics(struct evhttp_request *req, void *arg)
{
	struct ctl_http *h = arg;
	struct evbuffer *b = evbuffer_new();

	if (!b) {
		evhttp_send_error(req, 503, "out of memory");
		return;
	}
	h->ops->metrics(h->ops->arg, b);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void on_other(struct evhttp_request *req, void *arg)
{
	(void)arg;
	evhttp_send_error(req, 404, "only /metrics here");
}

int ctl_http_metrics_start(struct event_base *base, const char *listen,
			   const struct ctl_ops *ops, struct ctl_http **out,
			   char *err, size_t errlen)
{
	struct ctl_http *h = calloc(1, sizeof(*h));
	int ret = P53_ENOMEM;

	*out = NULL;
	if (!h)
		return P53_ENOMEM;
	h->base = base;
	h->ops = ops;
	if (!(h->http = evhttp_new(base))) {
		snprintf(err, errlen, "metrics: cannot create the HTTP server");
		goto fail;
	}
	if ((ret = listen_on(h, "metrics", listen, NULL, err, errlen)) < 0)
		goto fail;
	if (!evhttp_bind_listener(h->http, h->lev)) {
		snprintf(err, errlen, "metrics: cannot serve HTTP on %s", listen);
		ret = P53_EIO;
		goto fail;
	}
	h->lev = NULL;                    /* owned by evhttp now */
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(h->http, 10);
	evhttp_set_cb(h->http, "/metrics", on_metrics, h);
	evhttp_set_gencb(h->http, on_other, h);
	*out = h;
	return 0;
fail:
	ctl_http_free(h);
	return ret;
}

void ctl_http_free(struct ctl_http *h)
{
	if (!h)
		return;
	while (h->conns)
		conn_free(h->conns);
	if (h->http)
		evhttp_free(h->http);    /* and its bound listener */
	if (h->lev)
		evconnlistener_free(h->lev);
	if (h->ctx)
		SSL_CTX_free(h->ctx);
	free(h);
}
