/*
 * push.c — pop53-push: prepare (verify, sign) a snapshot and PUT it to
 * every node with one libcurl multi handle.
 *
 * A node's answer is final unless it is a connection error, a timeout or
 * 503 (busy): those are retried with exponential backoff, because they
 * say nothing about the snapshot. A 4xx never is: the same bytes would get
 * the same refusal. A retry after a timeout can find that the first
 * attempt did land (409 stale with the node serving our serial); that is
 * reported as "already-served" and counts as taken.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "error.h"
#include "push.h"
#include "snap.h"
#include "snap_sign.h"

#define BODY_MAX        4096    /* answers are small JSON documents */
#define BACKOFF_MS      250
#define BACKOFF_MAX_MS  4000

struct xfer {
	struct push_node *node;
	CURL *h;
	struct curl_slist *hdrs;
	char body[BODY_MAX + 1];
	size_t body_len;
	double start, not_before;
	int state;                      /* WAITING, RUNNING, DONE */
	char err[CURL_ERROR_SIZE];
};

enum { WAITING, RUNNING, DONE };

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- nodes ------------------------------------------------------------------ */

int push_node_init(struct push_node *n, const char *spec, bool force,
		   char *err, size_t errlen)
{
	const char *hp = spec, *colon;
	char *end;
	unsigned long port;
	size_t hlen;

	memset(n, 0, sizeof(*n));
	n->spec = spec;
	n->serial = n->previous = -1;
	if (!strncmp(spec, "http://", 7)) {
		snprintf(err, errlen, "%s: the push API is HTTPS only", spec);
		return -1;
	}
	if (!strncmp(spec, "https://", 8))
		hp = spec + 8;
	hlen = strcspn(hp, "/");
	colon = hp[0] == '[' ? memchr(hp, ']', hlen) : memchr(hp, ':', hlen);
	if (colon && hp[0] == '[')
		colon = colon[1] == ':' ? colon + 1 : NULL;
	if (!colon || colon == hp || (hp[hlen] && strcmp(hp + hlen, "/"))) {
		snprintf(err, errlen, "%s: a node is host:port or "
			 "https://host:port", spec);
		return -1;
	}
	port = strtoul(colon + 1, &end, 10);
	if (end != hp + hlen || end == colon + 1 || port == 0 || port > 65535) {
		snprintf(err, errlen, "%s: bad port", spec);
		return -1;
	}
	if ((size_t)snprintf(n->url, sizeof(n->url), "https://%.*s/v1/snapshot%s",
			     (int)hlen, hp, force ? "?force=1" : "") >=
	    sizeof(n->url)) {
		snprintf(err, errlen, "%s: too long", spec);
		return -1;
	}
	return 0;
}

/* ---- the snapshot ------------------------------------------------------------- */

static bool signed_by(const uint8_t *blob, size_t len, const char *key,
		      struct diag *d)
{
	uint8_t have[32], want[32];

	return snap_sig_key_id(blob, len, have) == 0 &&
	       snap_key_id(key, want, d) == 0 && !memcmp(have, want, 32);
}

int push_prepare(const struct push_opts *o, const char *path, struct diag *d,
		 uint8_t **blob, size_t *len, uint64_t *serial)
{
	uint8_t *buf = NULL, *out = NULL, id[32];
	struct snap *s = NULL;
	unsigned errors = d->errors;
	size_t blen;
	int ret;

	*blob = NULL;
	if ((ret = snap_file_read(path, d, &buf, &blen)) < 0)
		return ret;
	/* Refuse here what every node would refuse. */
	if ((ret = snap_open_mem(buf, blen, d, &s)) < 0)
		goto fail;
	*serial = snap_header(s)->serial;
	snap_close(s);
	if (o->no_sign && snap_sig_key_id(buf, blen, id) < 0) {
		diag_error(d, path, 0, 0, "not signed: leave out --no-sign "
			   "to sign it with --key");
		ret = P53_ESIG;
		goto fail;
	}
	if (o->no_sign || signed_by(buf, blen, o->key, d)) {
		*blob = buf;
		*len = blen;
		return 0;
	}
	if (d->errors > errors)         /* the key file itself is bad */
		ret = P53_EFORMAT;
	else if ((ret = snap_sign(buf, blen, o->key, d, &out, len)) == 0)
		*blob = out;
fail:
	free(buf);
	return ret;
}

/* ---- answers ------------------------------------------------------------------- */

/* A JSON string at *p (after its opening quote) into out, unescaped
 * enough for messages (\uXXXX outside ASCII becomes '?'). */
static const char *json_string(const char *p, const char *end, char *out,
			       size_t size)
{
	size_t n = 0;

	for (; p < end && *p != '"'; p++) {
		char c = *p;

		if (c == '\\' && p + 1 < end) {
			c = *++p;
			c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' :
			    c == 'u' ? '?' : c;
			if (*p == 'u')
				p += end - p > 4 ? 4 : end - p - 1;
		}
		if (out && n + 1 < size)
			out[n++] = c;
	}
	if (out && size)
		out[n] = '\0';
	return p < end ? p + 1 : NULL;
}

/* Skip one JSON value of any kind; NULL when malformed. */
static const char *json_skip(const char *p, const char *end)
{
	int depth = 0;

	do {
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (p >= end)
			return NULL;
		if (*p == '"') {
			if (!(p = json_string(p + 1, end, NULL, 0)))
				return NULL;
		} else if (*p == '{' || *p == '[') {
			depth++, p++;
		} else if (*p == '}' || *p == ']') {
			depth--, p++;
		} else {
			while (p < end && !strchr(",}] \t\r\n", *p))
				p++;
		}
		while (depth && p < end && (isspace((unsigned char)*p) ||
					    *p == ',' || *p == ':'))
			p++;
	} while (depth > 0);
	return depth == 0 ? p : NULL;
}

static void json_member(const char *key, const char *v, const char *end,
			struct push_node *n)
{
	char *num_end;

	if (!strcmp(key, "error") && *v == '"')
		json_string(v + 1, end, n->result, sizeof(n->result));
	else if (!strcmp(key, "message") && *v == '"')
		json_string(v + 1, end, n->message, sizeof(n->message));
	else if (!strcmp(key, "serial") && isdigit((unsigned char)*v))
		n->serial = strtoll(v, &num_end, 10);
	else if (!strcmp(key, "previous_serial") && isdigit((unsigned char)*v))
		n->previous = strtoll(v, &num_end, 10);
}

int push_parse_answer(const char *body, size_t len, struct push_node *n)
{
	const char *p = body, *end = body + len;
	char key[64];

	while (p < end && isspace((unsigned char)*p))
		p++;
	if (p >= end || *p++ != '{')
		return -1;
	for (;;) {
		while (p < end && (isspace((unsigned char)*p) || *p == ','))
			p++;
		if (p < end && *p == '}')
			return 0;
		if (p >= end || *p != '"' ||
		    !(p = json_string(p + 1, end, key, sizeof(key))))
			return -1;
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (p >= end || *p++ != ':')
			return -1;
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (p >= end)
			return -1;
		json_member(key, p, end, n);
		if (!(p = json_skip(p, end)))
			return -1;
	}
}

/* ---- transfers ------------------------------------------------------------------ */

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb, room = BODY_MAX - x->body_len;

	memcpy(x->body + x->body_len, data, n < room ? n : room);
	x->body_len += n < room ? n : room;
	x->body[x->body_len] = '\0';
	return n;
}

static int xfer_init(struct xfer *x, const struct push_opts *o,
		     const uint8_t *blob, size_t len)
{
	CURL *h = curl_easy_init();

	if (!h)
		return P53_ENOMEM;
	x->h = h;
	/* No "Expect: 100-continue": the node answers a refusal it can
	 * decide from the headers at once, and a server that ignores
	 * Expect would cost a one-second wait per push. */
	x->hdrs = curl_slist_append(NULL, "Content-Type: application/octet-stream");
	x->hdrs = x->hdrs ? curl_slist_append(x->hdrs, "Expect:") : NULL;
	if (!x->hdrs)
		return P53_ENOMEM;
	curl_easy_setopt(h, CURLOPT_URL, x->node->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, blob);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(h, CURLOPT_SSLCERT, o->cert);
	curl_easy_setopt(h, CURLOPT_SSLKEY, o->client_key);
	curl_easy_setopt(h, CURLOPT_CAINFO, o->ca);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(o->timeout_ms < 5000 ? o->timeout_ms : 5000));
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->err);
	curl_easy_setopt(h, CURLOPT_PRIVATE, x);
	return 0;
}

/* Worth another attempt: the node was not reached or did not answer. A
 * TLS alert from the node (our certificate refused) is not. */
static bool transient(CURLcode rc, const char *err)
{
	if (strstr(err, "alert"))
		return false;
	return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
	       rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_SEND_ERROR ||
	       rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING;
}

static const char *curl_result(CURLcode rc, const char *err)
{
	if (strstr(err, "alert"))
		return "tls-failed";
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return "timeout";
	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
		return "connect-failed";
	if (rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ||
	    rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CACERT_BADFILE)
		return "tls-failed";
	return "transfer-failed";
}

/* What the node answered (an HTTP status with or without our JSON). */
static void take_answer(struct xfer *x, uint64_t serial)
{
	struct push_node *n = x->node;

	n->result[0] = n->message[0] = '\0';
	n->serial = n->previous = -1;
	if (push_parse_answer(x->body, x->body_len, n) < 0) {
		/* first line of whatever it was, for the operator */
		snprintf(n->message, sizeof(n->message), "%.*s",
			 (int)strcspn(x->body, "\r\n"), x->body);
		n->result[0] = '\0';
	}
	n->ok = n->http == 200 ||
		(n->http == 409 && n->serial == (int64_t)serial);
	if (n->http == 200)
		snprintf(n->result, sizeof(n->result), "ok");
	else if (n->ok)
		snprintf(n->result, sizeof(n->result), "already-served");
	else if (!n->result[0])
		snprintf(n->result, sizeof(n->result), "http-%ld", n->http);
}

/* An attempt ended: final, or scheduled again. Returns true when final. */
static bool finish(struct xfer *x, CURLcode rc, const struct push_opts *o,
		   uint64_t serial)
{
	struct push_node *n = x->node;
	double backoff;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &n->http);
	if (n->http && x->body_len) {
		/* an answer, even if the connection broke after it */
		take_answer(x, serial);
		if (n->http != 503 || n->attempts > o->retries)
			return true;
	} else {
		snprintf(n->result, sizeof(n->result), "%s", curl_result(rc, x->err));
		snprintf(n->message, sizeof(n->message), "%s",
			 x->err[0] ? x->err : curl_easy_strerror(rc));
		if (!transient(rc, x->err) || n->attempts > o->retries)
			return true;
	}
	backoff = BACKOFF_MS * (double)(1u << (n->attempts - 1));
	backoff = backoff > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff;
	x->not_before = now_ms() + backoff * (1.0 + (rand() % 25) / 100.0);
	return false;
}

static void start(CURLM *m, struct xfer *x, double now)
{
	x->body_len = 0;
	x->body[0] = x->err[0] = '\0';
	x->node->attempts++;
	if (!x->start)
		x->start = now;
	x->state = RUNNING;
	curl_multi_add_handle(m, x->h);
}

/* Start what may start; return ms until the next delayed retry. */
static long start_due(CURLM *m, struct xfer *xs, size_t n, unsigned *running,
		      unsigned parallel)
{
	double now = now_ms(), wait = 1000;

	for (size_t i = 0; i < n; i++) {
		if (xs[i].state != WAITING)
			continue;
		if (xs[i].not_before <= now && *running < parallel) {
			start(m, &xs[i], now);
			(*running)++;
		} else if (xs[i].not_before > now &&
			   xs[i].not_before - now < wait) {
			wait = xs[i].not_before - now;
		}
	}
	return (long)wait + 1;
}

static size_t collect(CURLM *m, const struct push_opts *o, uint64_t serial,
		      unsigned *running)
{
	size_t done = 0;
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(m, &left))) {
		struct xfer *x;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		curl_multi_remove_handle(m, x->h);
		(*running)--;
		if (finish(x, msg->data.result, o, serial)) {
			x->state = DONE;
			x->node->ms = now_ms() - x->start;
			done++;
		} else {
			x->state = WAITING;
		}
	}
	return done;
}

int push_run(const struct push_opts *o, const uint8_t *blob, size_t len,
	     uint64_t serial, struct push_node *nodes, size_t n)
{
	struct xfer *xs = calloc(n ? n : 1, sizeof(*xs));
	CURLM *m = curl_multi_init();
	unsigned running = 0;
	size_t done = 0, failed = 0;
	int ret = P53_ENOMEM;

	if (!xs || !m)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		xs[i].node = &nodes[i];
		if ((ret = xfer_init(&xs[i], o, blob, len)) < 0)
			goto fail;
	}
	while (done < n) {
		int active;
		long wait = start_due(m, xs, n, &running, o->parallel);

		curl_multi_perform(m, &active);
		done += collect(m, o, serial, &running);
		if (done < n)
			curl_multi_poll(m, NULL, 0, (int)wait, NULL);
	}
	for (size_t i = 0; i < n; i++)
		failed += !nodes[i].ok;
	ret = (int)failed;
fail:
	for (size_t i = 0; xs && i < n; i++) {
		if (xs[i].h)
			curl_easy_cleanup(xs[i].h);
		curl_slist_free_all(xs[i].hdrs);
	}
	if (m)
		curl_multi_cleanup(m);
	free(xs);
	return ret;
}

/* ---- reports ---------------------------------------------------------------------- */

static void serial_text(int64_t s, char *out, size_t size)
{
	if (s < 0)
		snprintf(out, size, "-");
	else
		snprintf(out, size, "%lld", (long long)s);
}

void push_print_table(FILE *f, const struct push_node *nodes, size_t n,
		      uint64_t serial)
{
	int wn = 4, wr = 6;
	size_t ok = 0;
	char s[24];

	for (size_t i = 0; i < n; i++) {
		int a = (int)strlen(nodes[i].spec), b = (int)strlen(nodes[i].result);

		wn = a > wn ? a : wn;
		wr = b > wr ? b : wr;
	}
	fprintf(f, "%-*s | %-*s | %-13s | %s\n", wn, "node", wr, "result",
		"serial served", "time");
	for (size_t i = 0; i < n; i++) {
		serial_text(nodes[i].serial, s, sizeof(s));
		fprintf(f, "%-*s | %-*s | %-13s | %.0f ms\n", wn, nodes[i].spec,
			wr, nodes[i].result, s, nodes[i].ms);
	}
	for (size_t i = 0; i < n; i++) {
		if (!nodes[i].ok)
			fprintf(f, "%s: %s%s(%u attempt%s)\n", nodes[i].spec,
				nodes[i].message, nodes[i].message[0] ? " " : "",
				nodes[i].attempts, nodes[i].attempts == 1 ? "" : "s");
	}
	for (size_t i = 0; i < n; i++)
		ok += nodes[i].ok;
	fprintf(f, "serial %llu: %zu of %zu nodes serve it\n",
		(unsigned long long)serial, ok, n);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void push_print_json(FILE *f, const struct push_node *nodes, size_t n,
		     uint64_t serial)
{
	char s[24], p[24];

	fprintf(f, "{\"serial\": %llu, \"nodes\": [", (unsigned long long)serial);
	for (size_t i = 0; i < n; i++) {
		const struct push_node *x = &nodes[i];

		serial_text(x->serial, s, sizeof(s));
		serial_text(x->previous, p, sizeof(p));
		fprintf(f, "%s\n  {\"node\": ", i ? "," : "");
		json_str(f, x->spec);
		fprintf(f, ", \"ok\": %s, \"result\": ", x->ok ? "true" : "false");
		json_str(f, x->result);
		fprintf(f, ", \"http_status\": %ld, \"serial\": %s, "
			"\"previous_serial\": %s, \"message\": ", x->http,
			x->serial < 0 ? "null" : s, x->previous < 0 ? "null" : p);
		json_str(f, x->message);
		fprintf(f, ", \"attempts\": %u, \"time_ms\": %.0f}", x->attempts,
			x->ms);
	}
	fprintf(f, "\n]}\n");
}
