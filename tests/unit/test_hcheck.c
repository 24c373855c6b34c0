/*
 * test_hcheck.c — endpoint health checks against real endpoints on
 * 127.0.0.1 in the test's own event loop: an evhttp server whose answers
 * are scripted per request, the same over TLS with a certificate made
 * here, TCP listeners closed and reopened, a listener that never answers.
 * Fall/rise counts, status ranges, the 5,120-byte body window, timeouts,
 * votes and quorum with expiry, calculated checks, updates that keep
 * state, and destroy with probes in flight (run it under ASan too).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "error.h"
#include "hcheck.h"

#define MAX_CHANGES 64
#define NEEDLE      "pop53-alive"

struct change {
	size_t index;
	char name[32];
	bool was, now;
	char reason[384];
	uint64_t probes, failures;      /* of the check, at the change */
	int served;                     /* requests the scripted server saw */
};

/* A small HTTP(S) server: the path picks the behaviour, or a script of
 * statuses per request. */
struct web {
	struct evhttp *http;
	uint16_t port;
	int script[32], nscript, status;
	int served;
	SSL_CTX *tls;
};

static struct ctx {
	struct event_base *base;
	struct hcheck_set *set;
	struct web *scripted;
	struct change ch[MAX_CHANGES];
	int nch;
} T;

static struct hcheck_opts opts(void)
{
	struct hcheck_opts o = { .min_interval_ms = 20, .seed = 12345 };

	return o;
}

static void on_change(void *arg, size_t index, const char *name, bool was,
		      bool now, const char *reason)
{
	struct ctx *c = arg;
	struct change *x;
	struct hcheck_stats st;

	assert_true(c->nch < MAX_CHANGES);
	assert_true(was != now);
	assert_int_equal(hcheck_words(c->set)[index], now);
	x = &c->ch[c->nch++];
	x->index = index;
	snprintf(x->name, sizeof(x->name), "%s", name);
	x->was = was;
	x->now = now;
	snprintf(x->reason, sizeof(x->reason), "%s", reason);
	assert_int_equal(hcheck_stats(c->set, index, &st), 0);
	x->probes = st.probes;
	x->failures = st.failures;
	x->served = c->scripted ? c->scripted->served : -1;
}

static struct hcheck_opts cb_opts(void)
{
	struct hcheck_opts o = opts();

	o.on_change = on_change;
	o.arg = &T;
	return o;
}

static void noop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
}

/* Run the loop until pred holds or ms pass; whether it holds. */
static bool run_until(bool (*pred)(void *), void *arg, unsigned ms)
{
	uint64_t end = hcheck_now_ms() + ms;
	struct event *wake = event_new(T.base, -1, EV_PERSIST, noop, NULL);
	struct timeval tv = { 0, 5000 };

	assert_non_null(wake);
	event_add(wake, &tv);
	while (!(pred && pred(arg)) && hcheck_now_ms() < end)
		event_base_loop(T.base, EVLOOP_ONCE);
	event_free(wake);
	return pred ? pred(arg) : true;
}

static void run_for(unsigned ms)
{
	run_until(NULL, NULL, ms);
}

struct want { size_t index; uint8_t word; uint64_t probes; };

static bool word_is(void *arg)
{
	struct want *w = arg;

	return hcheck_words(T.set)[w->index] == w->word;
}

static bool probed(void *arg)
{
	struct want *w = arg;
	struct hcheck_stats st;

	hcheck_stats(T.set, w->index, &st);
	return st.probes >= w->probes;
}

static void wait_word(size_t index, uint8_t word, unsigned ms)
{
	struct want w = { index, word, 0 };

	assert_true(run_until(word_is, &w, ms));
}

static void wait_probes(size_t index, uint64_t n, unsigned ms)
{
	struct want w = { index, 0, n };

	assert_true(run_until(probed, &w, ms));
}

static struct hcheck_stats stats(size_t index)
{
	struct hcheck_stats st;

	assert_int_equal(hcheck_stats(T.set, index, &st), 0);
	return st;
}

/* The word of check index is v; else say why the check thinks not. */
static void expect_word(size_t index, uint8_t v)
{
	struct hcheck_stats st = stats(index);

	if (hcheck_words(T.set)[index] != v)
		fail_msg("check %s: word %u, want %u (last error '%s', %llu "
			 "probes)", st.name, hcheck_words(T.set)[index], v,
			 st.last_error, (unsigned long long)st.probes);
}

static int setup(void **state)
{
	(void)state;
	memset(&T, 0, sizeof(T));
	T.base = event_base_new();
	return T.base ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	hcheck_set_destroy(T.set);
	T.set = NULL;
	event_base_free(T.base);
	return 0;
}

/* ---- endpoints ------------------------------------------------------------------------- */

/* The body of a path: NEEDLE placed so that it ends at byte `end`. */
static void body_for(const char *path, struct evbuffer *b)
{
	static char buf[8192];
	size_t end = !strcmp(path, "/edge") ? HCHECK_BODY_WINDOW :
		     !strcmp(path, "/straddle") ? HCHECK_BODY_WINDOW + 3 :
		     !strcmp(path, "/far") ? 7000 : strlen(NEEDLE);

	memset(buf, 'x', sizeof(buf));
	memcpy(buf + end - strlen(NEEDLE), NEEDLE, strlen(NEEDLE));
	evbuffer_add(b, buf, end + 500);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct web *w = arg;
	const char *path = evhttp_request_get_uri(req);
	struct evbuffer *b = evbuffer_new();
	int status = w->served < w->nscript ? w->script[w->served] : w->status;

	w->served++;
	if (!strcmp(path, "/302"))
		status = 302;
	body_for(path, b);
	evhttp_send_reply(req, status, "X", b);
	evbuffer_free(b);
}

static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
	struct web *w = arg;

	return bufferevent_openssl_socket_new(base, -1, SSL_new(w->tls),
					      BUFFEREVENT_SSL_ACCEPTING,
					      BEV_OPT_CLOSE_ON_FREE);
}

static uint16_t fd_port(int fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	return ntohs(sa.sin_port);
}

static void web_start(struct web *w, SSL_CTX *tls)
{
	struct evhttp_bound_socket *bs;

	w->tls = tls;
	w->status = w->status ? w->status : 200;
	assert_non_null(w->http = evhttp_new(T.base));
	if (tls)
		evhttp_set_bevcb(w->http, tls_bev, w);
	evhttp_set_gencb(w->http, on_request, w);
	assert_non_null(bs = evhttp_bind_socket_with_handle(w->http,
							      "127.0.0.1", 0));
	w->port = fd_port(evhttp_bound_socket_get_fd(bs));
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
		      struct sockaddr *sa, int len, void *arg)
{
	(void)l, (void)sa, (void)len, (void)arg;
	close(fd);
}

/* A TCP listener that accepts and closes; port 0: any. */
static struct evconnlistener *tcp_listen(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(*port) };
	struct evconnlistener *l;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = evconnlistener_new_bind(T.base, on_accept, NULL,
				    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE,
				    64, (struct sockaddr *)&sa, sizeof(sa));
	assert_non_null(l);
	*port = fd_port(evconnlistener_get_fd(l));
	return l;
}

/* A listener that never accepts: connects complete, nothing answers. */
static int mute_listen(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 64), 0);
	*port = fd_port(fd);
	return fd;
}

/* A port nobody listens on (bound, never listening, so not reused). */
static int dead_port(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	*port = fd_port(fd);
	return fd;
}

static struct hcheck_def tcp_def(const char *name, uint16_t port)
{
	struct hcheck_def d = { .name = name, .kind = HCHECK_TCP,
				.address = "127.0.0.1", .port = port,
				.interval_ms = 100, .timeout_ms = 80 };
	return d;
}

static struct hcheck_def http_def(const char *name, uint16_t port,
				  const char *path)
{
	struct hcheck_def d = { .name = name, .kind = HCHECK_HTTP,
				.address = "127.0.0.1", .port = port,
				.path = path, .interval_ms = 200,
				.timeout_ms = 150 };
	return d;
}

/* ---- validation ------------------------------------------------------------------------- */

static void expect_invalid(const struct hcheck_def *defs, size_t n,
			   const char *text)
{
	struct hcheck_opts o = opts();
	struct hcheck_set *s = (struct hcheck_set *)1;
	char err[256] = "";

	assert_int_equal(hcheck_set_create(T.base, defs, n, &o, err,
					   sizeof(err), &s), P53_EINVAL);
	assert_null(s);
	if (!strstr(err, text))
		fail_msg("error '%s' lacks '%s'", err, text);
}

static void test_validation_probe(void **state)
{
	static char big[HCHECK_BODY_WINDOW + 2];
	struct hcheck_def d[3];

	(void)state;
	d[0] = tcp_def(NULL, 80);
	expect_invalid(d, 1, "check 0 (unnamed): a name is required");
	d[0] = tcp_def("a", 0);
	expect_invalid(d, 1, "check 0 (a): a tcp check needs a port");
	d[0] = tcp_def("a", 80);
	d[0].address = "192.0.2.300";
	expect_invalid(d, 1, "address '192.0.2.300' is not an IPv4 or IPv6");
	d[0] = tcp_def("a", 80);
	d[0].timeout_ms = 100;
	expect_invalid(d, 1, "timeout 100 ms must be less than the interval (100 ms)");
	d[0].interval_ms = 10;
	expect_invalid(d, 1, "interval 10 ms is below the minimum of 20 ms");
	d[0] = tcp_def("a", 80);
	d[0].quorum_pct = 101;
	expect_invalid(d, 1, "quorum 101 % is above 100 %");
	d[0] = http_def("a", 80, "x");
	expect_invalid(d, 1, "path 'x' must start with '/'");
	d[0] = http_def("a", 80, "/");
	d[0].host = "bad host";
	expect_invalid(d, 1, "host 'bad host' is not a host name");
	d[0] = http_def("a", 80, "/");
	d[0].status_min = 300;
	d[0].status_max = 200;
	expect_invalid(d, 1, "status range 300-200");
	d[0] = http_def("a", 80, "/");
	d[0].ca_file = "/etc/ssl/certs/ca-certificates.crt";
	expect_invalid(d, 1, "ca_file applies to https checks only");
	memset(big, 'b', HCHECK_BODY_WINDOW + 1);
	d[0] = http_def("a", 80, "/");
	d[0].body = big;
	expect_invalid(d, 1, "body substring must be 1 to 5120 bytes");
	d[0] = tcp_def("a", 80);
	d[1] = tcp_def("b", 81);
	d[2] = tcp_def("a", 82);
	expect_invalid(d, 3, "check 2 (a): name already used by check 0");
}

static void test_validation_calculated(void **state)
{
	struct hcheck_def d[3];
	size_t m01[] = { 0, 1 }, m1[] = { 1 }, m2[] = { 2 }, m0[] = { 0 },
	       m9[] = { 9 }, m00[] = { 0, 0 };

	(void)state;
	d[0] = tcp_def("a", 80);
	d[1] = tcp_def("b", 81);
	d[2] = (struct hcheck_def){ .name = "c", .kind = HCHECK_CALCULATED,
				    .op = HCHECK_AND, .members = m9, .nmembers = 1 };
	expect_invalid(d, 3, "check 2 (c): member 9 is out of range (3 checks)");
	d[2].members = m2;
	expect_invalid(d, 3, "a check cannot be its own member");
	d[2].members = m00;
	d[2].nmembers = 2;
	expect_invalid(d, 3, "member 0 is listed twice");
	d[2].members = m01;
	d[2].op = HCHECK_AT_LEAST;
	d[2].at_least = 3;
	expect_invalid(d, 3, "at_least 3 is not within 1-2");
	d[2].nmembers = 0;
	expect_invalid(d, 3, "a calculated check needs members");
	/* a cycle: x -> y -> z -> x */
	d[0] = (struct hcheck_def){ .name = "x", .kind = HCHECK_CALCULATED,
				    .op = HCHECK_OR, .members = m1, .nmembers = 1 };
	d[1] = (struct hcheck_def){ .name = "y", .kind = HCHECK_CALCULATED,
				    .op = HCHECK_OR, .members = m2, .nmembers = 1 };
	d[2] = (struct hcheck_def){ .name = "z", .kind = HCHECK_CALCULATED,
				    .op = HCHECK_OR, .members = m0, .nmembers = 1 };
	expect_invalid(d, 3, "calculated checks form a cycle: x -> y -> z -> x");
}

/* A leaf and a chain of calculated checks over it, n0 <- n1 <- ...: 32
 * levels are fine, more are refused. */
static void test_validation_depth(void **state)
{
	static char names[40][8];
	struct hcheck_opts o = opts();
	struct hcheck_def d[40];
	size_t chain[40];
	char err[256];

	(void)state;
	d[0] = tcp_def("leaf", 80);
	for (size_t i = 1; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "n%zu", i);
		chain[i] = i - 1;
		d[i] = (struct hcheck_def){ .name = names[i],
					    .kind = HCHECK_CALCULATED, .op = HCHECK_AND,
					    .members = &chain[i], .nmembers = 1 };
	}
	expect_invalid(d, 40, "nest deeper than 32");
	expect_invalid(d, 34, "check 33 (n33): calculated checks nest deeper than 32");
	assert_int_equal(hcheck_set_create(T.base, d, 33, &o, err, sizeof(err),
					   &T.set), 0);
	assert_int_equal(hcheck_count(T.set), 33);
	assert_int_equal(hcheck_index(T.set, "n32"), 32);
	assert_int_equal(hcheck_index(T.set, "nope"), P53_ENOTFOUND);
	expect_word(32, 1);     /* a healthy leaf: the whole chain is */
}

/* ---- http ------------------------------------------------------------------------------ */

/* Healthy at start; down exactly at the 3rd failure in a row, up exactly
 * at the 3rd success in a row; a success in between resets the count. */
static void test_http_fall_rise(void **state)
{
	struct web w = { .script = { 200, 200, 500, 500, 500, 200, 500, 200,
				     200, 200 }, .nscript = 10 };
	struct hcheck_opts o = cb_opts();
	struct hcheck_def d;
	char err[256];

	(void)state;
	web_start(&w, NULL);
	T.scripted = &w;
	d = http_def("web", w.port, "/health");
	d.fall = 3;
	d.rise = 3;
	assert_int_equal(hcheck_set_create(T.base, &d, 1, &o, err, sizeof(err),
					   &T.set), 0);
	expect_word(0, 1);
	wait_word(0, 0, 5000);
	assert_int_equal(T.nch, 1);
	assert_int_equal(T.ch[0].served, 5);
	assert_int_equal(T.ch[0].failures, 3);
	assert_string_equal(T.ch[0].reason, "3 failures in a row: HTTP status "
			    "500 not in 200-399");
	wait_word(0, 1, 5000);
	assert_int_equal(T.nch, 2);
	assert_int_equal(T.ch[1].served, 10);
	assert_int_equal(T.ch[1].probes, 10);
	assert_int_equal(T.ch[1].failures, 4);
	assert_string_equal(T.ch[1].reason, "3 successes in a row");
	assert_int_equal(stats(0).transitions, 2);
	assert_string_equal(stats(0).last_error, "");
	hcheck_set_destroy(T.set);
	T.set = NULL;
	evhttp_free(w.http);
}

/* Status ranges and the body window: the substring must lie wholly in the
 * first 5,120 bytes. */
static void test_http_status_and_body(void **state)
{
	struct web w = { 0 };
	struct hcheck_opts o = opts();
	struct hcheck_def d[8];
	struct evhttp_bound_socket *v6;
	struct sockaddr_in6 sa6;
	socklen_t len = sizeof(sa6);
	char err[256];

	(void)state;
	web_start(&w, NULL);
	/* the same server on ::1 too (loopback has IPv6 unless disabled) */
	v6 = evhttp_bind_socket_with_handle(w.http, "::1", 0);
	if (!v6)
		skip();
	assert_int_equal(getsockname(evhttp_bound_socket_get_fd(v6),
				     (struct sockaddr *)&sa6, &len), 0);
	d[0] = http_def("redirect-ok", w.port, "/302");
	d[1] = http_def("redirect-bad", w.port, "/302");
	d[1].status_min = 200;
	d[1].status_max = 299;
	d[2] = http_def("far", w.port, "/far");
	d[3] = http_def("edge", w.port, "/edge");
	d[4] = http_def("straddle", w.port, "/straddle");
	d[5] = http_def("near", w.port, "/near");
	d[6] = http_def("no-body-test", w.port, "/far");
	d[7] = http_def("ipv6", ntohs(sa6.sin6_port), "/near");
	d[7].address = "::1";
	for (int i = 0; i < 8; i++) {
		d[i].fall = d[i].rise = 1;
		d[i].start = HCHECK_START_FIRST;
		if ((i >= 2 && i <= 5) || i == 7)
			d[i].body = NEEDLE;
	}
	assert_int_equal(hcheck_set_create(T.base, d, 8, &o, err, sizeof(err),
					   &T.set), 0);
	for (size_t i = 0; i < 8; i++)
		wait_probes(i, 2, 3000);
	expect_word(0, 1);
	expect_word(1, 0);
	assert_string_equal(stats(1).last_error, "HTTP status 302 not in 200-299");
	expect_word(2, 0);
	assert_string_equal(stats(2).last_error, "body has no '" NEEDLE "' in its "
			    "first 5120 bytes");
	expect_word(3, 1);
	expect_word(4, 0);
	expect_word(5, 1);
	expect_word(6, 1);
	expect_word(7, 1);
	assert_int_equal(stats(5).failures, 0);
	assert_true(stats(5).last_latency_us > 0);
	hcheck_set_destroy(T.set);
	T.set = NULL;
	evhttp_free(w.http);
}

/* A server that accepts and never answers: the probe ends at its timeout. */
static void test_http_timeout(void **state)
{
	uint16_t port;
	int fd = mute_listen(&port);
	struct hcheck_opts o = opts();
	struct hcheck_def d = http_def("mute", port, "/");
	struct hcheck_stats st;
	char err[256];

	(void)state;
	d.interval_ms = 300;
	d.timeout_ms = 100;
	d.fall = 1;
	assert_int_equal(hcheck_set_create(T.base, &d, 1, &o, err, sizeof(err),
					   &T.set), 0);
	wait_probes(0, 2, 3000);
	st = stats(0);
	assert_int_equal(st.failures, st.probes);
	assert_false(st.healthy);
	assert_string_equal(st.last_error, "timed out after 100 ms");
	assert_true(st.last_latency_us >= 95000);
	assert_true(st.last_latency_us < 400000);  /* a loaded machine's slack */
	hcheck_set_destroy(T.set);
	T.set = NULL;
	close(fd);
}

/* ---- https -------------------------------------------------------------------------------- */

static SSL_CTX *make_tls(const char *dir, char *ca_path, size_t len)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *nm;
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	FILE *f;

	assert_non_null(key);
	assert_non_null(x);
	assert_non_null(ctx);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	nm = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
				   (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(x, nm);
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
				  "DNS:localhost,IP:127.0.0.1");
	assert_non_null(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	snprintf(ca_path, len, "%s/cert.pem", dir);
	assert_non_null(f = fopen(ca_path, "w"));
	PEM_write_X509(f, x);
	fclose(f);
	assert_int_equal(SSL_CTX_use_certificate(ctx, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, key), 1);
	X509_free(x);
	EVP_PKEY_free(key);
	return ctx;
}

static void test_https(void **state)
{
	char dir[] = "/tmp/p53-hcheck.XXXXXX", ca[256], err[256];
	struct web w = { 0 };
	struct hcheck_opts o = opts();
	struct hcheck_def d[6];
	SSL_CTX *tls;

	(void)state;
	assert_non_null(mkdtemp(dir));
	tls = make_tls(dir, ca, sizeof(ca));
	web_start(&w, tls);
	for (int i = 0; i < 6; i++) {
		d[i] = http_def("", w.port, "/near");
		d[i].kind = HCHECK_HTTPS;
		d[i].interval_ms = 1000;
		d[i].timeout_ms = 900;
		d[i].fall = d[i].rise = 1;
		d[i].start = HCHECK_START_FIRST;
		d[i].ca_file = ca;
	}
	d[0].name = "by-name";
	d[0].host = "localhost";
	d[0].body = NEEDLE;
	d[1].name = "by-address";           /* the certificate has IP:127.0.0.1 */
	d[2].name = "system-cas";
	d[2].ca_file = NULL;
	d[3].name = "no-verify";
	d[3].ca_file = NULL;
	d[3].no_verify = true;
	d[4].name = "wrong-name";
	d[4].host = "wrong.example";
	d[5].name = "far-body";
	d[5].path = "/far";
	d[5].body = NEEDLE;
	assert_int_equal(hcheck_set_create(T.base, d, 6, &o, err, sizeof(err),
					   &T.set), 0);
	for (size_t i = 0; i < 6; i++)
		wait_probes(i, 1, 3000);
	expect_word(0, 1);
	expect_word(1, 1);
	expect_word(2, 0);
	assert_non_null(strstr(stats(2).last_error, "certificate"));
	expect_word(3, 1);
	expect_word(4, 0);
	assert_non_null(strstr(stats(4).last_error, "wrong.example"));
	expect_word(5, 0);
	assert_true(w.served >= 4);
	hcheck_set_destroy(T.set);
	T.set = NULL;
	evhttp_free(w.http);
	SSL_CTX_free(tls);
	unlink(ca);
	rmdir(dir);
}

/* ---- tcp, start states, calculated over probes ----------------------------------------- */

static void test_tcp_close_reopen(void **state)
{
	uint16_t port = 0, dport;
	struct evconnlistener *l = tcp_listen(&port);
	int dfd = dead_port(&dport);
	size_t and0[] = { 0 };
	struct hcheck_opts o = cb_opts();
	struct hcheck_def d[4];
	uint64_t at_reopen, t;
	char err[256];

	(void)state;
	d[0] = tcp_def("tcp", port);
	d[0].fall = 2;
	d[0].rise = 2;
	d[1] = (struct hcheck_def){ .name = "follows", .kind = HCHECK_CALCULATED,
				    .op = HCHECK_AND, .members = and0, .nmembers = 1 };
	d[2] = tcp_def("first-decides", dport);
	d[2].start = HCHECK_START_FIRST;
	d[2].fall = 5;
	d[3] = tcp_def("proves-itself", port);
	d[3].start = HCHECK_START_UNHEALTHY;
	d[3].rise = 2;
	assert_int_equal(hcheck_set_create(T.base, d, 4, &o, err, sizeof(err),
					   &T.set), 0);
	expect_word(2, 1);    /* unknown = healthy */
	expect_word(3, 0);
	wait_word(2, 0, 2000);
	assert_int_equal(stats(2).probes, 1);
	wait_word(3, 1, 2000);
	assert_int_equal(stats(3).probes, 2);
	wait_probes(0, 2, 2000);
	expect_word(0, 1);
	T.nch = 0;
	evconnlistener_free(l);
	t = hcheck_now_ms();
	wait_word(0, 0, 2000);
	/* within interval x fall + timeout (and the loop's slack) */
	assert_true(hcheck_now_ms() - t <= 100 * 2 + 80 + 150);
	assert_true(T.nch >= 2);
	assert_int_equal(T.ch[0].index, 0);
	assert_int_equal(T.ch[0].failures, 2);
	assert_non_null(strstr(T.ch[0].reason, "2 failures in a row: connect: "
			       "Connection refused"));
	assert_int_equal(T.ch[1].index, 1);     /* the calculated one follows */
	assert_false(T.ch[1].now);
	assert_string_equal(T.ch[1].reason, "and: 0 of 1 members healthy "
			    "(unhealthy: tcp)");
	at_reopen = stats(0).probes;
	l = tcp_listen(&port);
	wait_word(0, 1, 2000);
	assert_int_equal(stats(0).probes - at_reopen, 2);
	expect_word(1, 1);
	hcheck_set_destroy(T.set);
	T.set = NULL;
	evconnlistener_free(l);
	close(dfd);
}

/* 40 checks on a 1 s interval do not all probe at once. */
static void test_jitter(void **state)
{
	uint16_t port = 0;
	struct evconnlistener *l = tcp_listen(&port);
	struct hcheck_opts o = opts();
	struct hcheck_def d[40];
	static char names[40][8];
	size_t early = 0;
	char err[256];

	(void)state;
	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "t%d", i);
		d[i] = tcp_def(names[i], port);
		d[i].interval_ms = 1000;
	}
	assert_int_equal(hcheck_set_create(T.base, d, 40, &o, err, sizeof(err),
					   &T.set), 0);
	run_for(300);
	for (size_t i = 0; i < 40; i++)
		early += stats(i).probes > 0;
	assert_true(early > 0 && early < 40);
	run_for(800);
	for (size_t i = 0; i < 40; i++)
		assert_true(stats(i).probes >= 1);
	hcheck_set_destroy(T.set);
	T.set = NULL;
	evconnlistener_free(l);
}

/* ---- votes ---------------------------------------------------------------------------------- */

/* A set of two tcp checks on an open port (so the local vote is healthy),
 * quorum 50 % and the default, and a calculated check over the first. */
static void votes_set(uint16_t port)
{
	static size_t m0[] = { 0 };
	struct hcheck_opts o = cb_opts();
	struct hcheck_def d[3];
	char err[256];

	d[0] = tcp_def("half", port);
	d[0].interval_ms = 60000;
	d[0].quorum_pct = 50;
	d[1] = tcp_def("default-quorum", port);
	d[1].interval_ms = 60000;
	d[2] = (struct hcheck_def){ .name = "calc", .kind = HCHECK_CALCULATED,
				    .op = HCHECK_OR, .members = m0, .nmembers = 1 };
	assert_int_equal(hcheck_set_create(T.base, d, 3, &o, err, sizeof(err),
					   &T.set), 0);
}

static void test_votes_quorum(void **state)
{
	uint16_t port = 0;
	struct evconnlistener *l = tcp_listen(&port);
	uint64_t now = hcheck_now_ms();

	(void)state;
	votes_set(port);
	/* local healthy + 1 unhealthy: 1 of 2 = 50 % meets 50 % */
	assert_int_equal(hcheck_vote(T.set, 0, 1, false, now + 10000), 0);
	expect_word(0, 1);
	assert_int_equal(T.nch, 0);
	/* 1 of 3 */
	assert_int_equal(hcheck_vote(T.set, 0, 2, false, now + 10000), 0);
	expect_word(0, 0);
	expect_word(2, 0);
	assert_int_equal(T.nch, 2);
	assert_string_equal(T.ch[0].reason, "source 2 votes unhealthy; votes: "
			    "1 of 3 healthy, quorum 50 %");
	/* 2 of 4 */
	assert_int_equal(hcheck_vote(T.set, 0, 3, true, now + 10000), 0);
	expect_word(0, 1);
	assert_int_equal(stats(0).votes_live, 3);
	assert_int_equal(stats(0).votes_healthy, 1);
	/* a source's new vote replaces its old one: 1 of 4 */
	assert_int_equal(hcheck_vote(T.set, 0, 3, false, now + 10000), 0);
	expect_word(0, 0);
	assert_int_equal(stats(0).votes_live, 3);
	/* an expired vote withdraws: 1 of 3, then 1 of 2 */
	assert_int_equal(hcheck_vote(T.set, 0, 3, true, 0), 0);
	assert_int_equal(stats(0).votes_live, 2);
	expect_word(0, 0);
	assert_int_equal(hcheck_vote(T.set, 0, 2, false, now), 0);
	assert_int_equal(stats(0).votes_live, 1);
	expect_word(0, 1);
	/* default quorum 18 %: 1 of 6 (16.7 %) is down, 1 of 5 (20 %) up */
	for (uint32_t src = 10; src < 15; src++)
		assert_int_equal(hcheck_vote(T.set, 1, src, false, now + 10000), 0);
	expect_word(1, 0);
	assert_int_equal(hcheck_vote(T.set, 1, 14, false, 0), 0);
	expect_word(1, 1);
	hcheck_set_destroy(T.set);
	T.set = NULL;
	evconnlistener_free(l);
}

static void test_votes_expiry_and_limits(void **state)
{
	uint16_t port = 0;
	struct evconnlistener *l = tcp_listen(&port);
	uint64_t now = hcheck_now_ms(), t0;

	(void)state;
	votes_set(port);
	assert_int_equal(hcheck_vote(T.set, 0, 1, false, now + 10000), 0);
	/* two short-lived unhealthy votes: 1 of 4; 1 of 2 again when they end */
	t0 = hcheck_now_ms();
	assert_int_equal(hcheck_vote(T.set, 0, 4, false, t0 + 150), 0);
	assert_int_equal(hcheck_vote(T.set, 0, 5, false, t0 + 150), 0);
	expect_word(0, 0);
	wait_word(0, 1, 2000);
	assert_true(hcheck_now_ms() - t0 >= 150);
	assert_int_equal(stats(0).votes_live, 1);
	assert_int_equal(T.nch, 4);
	assert_string_equal(T.ch[2].reason, "votes expired; votes: "
			    "1 of 2 healthy, quorum 50 %");
	/* wrong targets: a calculated check, no such check */
	assert_int_equal(hcheck_vote(T.set, 2, 1, true, now + 10000), P53_EINVAL);
	assert_int_equal(hcheck_vote(T.set, 3, 1, true, now + 10000), P53_EINVAL);
	/* the limit of sources per check */
	for (uint32_t src = 100; src < 100 + HCHECK_MAX_VOTES; src++)
		assert_int_equal(hcheck_vote(T.set, 1, src, true, now + 10000), 0);
	assert_int_equal(stats(1).votes_live, HCHECK_MAX_VOTES);
	assert_int_equal(hcheck_vote(T.set, 1, 99999, true, now + 10000),
			 P53_ELIMIT);
	assert_int_equal(hcheck_vote(T.set, 1, 100, false, now + 10000), 0);
	hcheck_set_destroy(T.set);
	T.set = NULL;
	evconnlistener_free(l);
}

/* ---- calculated ------------------------------------------------------------------------------ */

static void test_calculated(void **state)
{
	uint16_t port = 0;
	struct evconnlistener *l = tcp_listen(&port);
	struct hcheck_opts o = cb_opts();
	size_t ab[] = { 0, 1 }, abc[] = { 0, 1, 2 }, nest[] = { 4, 2 };
	struct hcheck_def d[7];
	uint64_t far = hcheck_now_ms() + 60000;
	char err[256];
	const uint8_t *w;

	(void)state;
	d[0] = tcp_def("a", port);
	d[1] = tcp_def("b", port);
	d[2] = tcp_def("c", port);
	for (int i = 0; i < 3; i++) {
		d[i].interval_ms = 60000;
		d[i].quorum_pct = 100;  /* one unhealthy vote takes it down */
	}
	d[3] = (struct hcheck_def){ .name = "a-and-b", .kind = HCHECK_CALCULATED,
				    .op = HCHECK_AND, .members = ab, .nmembers = 2 };
	d[4] = (struct hcheck_def){ .name = "a-or-b", .kind = HCHECK_CALCULATED,
				    .op = HCHECK_OR, .members = ab, .nmembers = 2 };
	d[5] = (struct hcheck_def){ .name = "two-of-abc", .kind = HCHECK_CALCULATED,
				    .op = HCHECK_AT_LEAST, .at_least = 2,
				    .members = abc, .nmembers = 3 };
	d[6] = (struct hcheck_def){ .name = "or-and-c", .kind = HCHECK_CALCULATED,
				    .op = HCHECK_AND, .members = nest, .nmembers = 2 };
	assert_int_equal(hcheck_set_create(T.base, d, 7, &o, err, sizeof(err),
					   &T.set), 0);
	w = hcheck_words(T.set);
	assert_memory_equal(w, ((uint8_t[]){ 1, 1, 1, 1, 1, 1, 1 }), 7);
	hcheck_vote(T.set, 0, 1, false, far);
	assert_memory_equal(w, ((uint8_t[]){ 0, 1, 1, 0, 1, 1, 1 }), 7);
	assert_int_equal(T.nch, 2);
	assert_string_equal(T.ch[1].name, "a-and-b");
	assert_string_equal(T.ch[1].reason, "and: 1 of 2 members healthy "
			    "(unhealthy: a)");
	hcheck_vote(T.set, 2, 1, false, far);
	assert_memory_equal(w, ((uint8_t[]){ 0, 1, 0, 0, 1, 0, 0 }), 7);
	assert_string_equal(T.ch[T.nch - 2].reason, "at_least 2: 1 of 3 members "
			    "healthy (unhealthy: a, c)");
	assert_string_equal(T.ch[T.nch - 1].name, "or-and-c");
	hcheck_vote(T.set, 1, 1, false, far);
	assert_memory_equal(w, ((uint8_t[]){ 0, 0, 0, 0, 0, 0, 0 }), 7);
	hcheck_vote(T.set, 2, 1, true, far);
	hcheck_vote(T.set, 1, 1, true, far);
	assert_memory_equal(w, ((uint8_t[]){ 0, 1, 1, 0, 1, 1, 1 }), 7);
	assert_int_equal(stats(5).transitions, 2);
	assert_int_equal(stats(5).probes, 0);
	hcheck_set_destroy(T.set);
	T.set = NULL;
	evconnlistener_free(l);
}

/* ---- updates ------------------------------------------------------------------------------- */

static const size_t ab[] = { 0, 1 }, ab2[] = { 2, 1 };

/* a: a dead port, down after one probe; b: an open port. */
static void update_defs(struct hcheck_def d[3], uint16_t port, uint16_t dport)
{
	d[0] = tcp_def("a", dport);
	d[0].fall = 1;
	d[1] = tcp_def("b", port);
	d[2] = (struct hcheck_def){ .name = "c", .kind = HCHECK_CALCULATED,
				    .op = HCHECK_AND, .members = ab, .nmembers = 2 };
}

/* Unchanged checks keep their state through a growing count (the words
 * move) and through a reordering (they stay). */
static void test_update_keeps_state(void **state)
{
	uint16_t port = 0, dport;
	struct evconnlistener *l = tcp_listen(&port);
	int dfd = dead_port(&dport);
	struct hcheck_opts o = cb_opts();
	struct hcheck_def d[3], r[3];
	const uint8_t *w0, *w1;
	uint8_t *old = (uint8_t *)1;
	uint64_t probes;
	char err[256];

	(void)state;
	update_defs(d, port, dport);
	assert_int_equal(hcheck_set_create(T.base, d, 2, &o, err, sizeof(err),
					   &T.set), 0);
	w0 = hcheck_words(T.set);
	wait_word(0, 0, 2000);
	probes = stats(0).probes;
	T.nch = 0;
	assert_int_equal(hcheck_set_update(T.set, d, 3, err, sizeof(err), &old), 0);
	assert_ptr_equal(old, w0);
	assert_int_equal(old[0], 0);
	hcheck_words_free(old);
	w1 = hcheck_words(T.set);
	assert_memory_equal(w1, ((uint8_t[]){ 0, 1, 0 }), 3);
	assert_true(stats(0).probes >= probes);
	assert_int_equal(stats(0).transitions, 1);
	assert_int_equal(T.nch, 0);             /* nothing changed for anyone */
	r[0] = d[2];
	r[0].members = ab2;
	r[1] = d[1];
	r[2] = d[0];
	assert_int_equal(hcheck_set_update(T.set, r, 3, err, sizeof(err), &old), 0);
	assert_null(old);
	assert_ptr_equal(hcheck_words(T.set), w1);
	assert_memory_equal(w1, ((uint8_t[]){ 0, 1, 0 }), 3);
	assert_int_equal(hcheck_index(T.set, "a"), 2);
	assert_int_equal(stats(2).transitions, 1);
	assert_int_equal(T.nch, 0);
	hcheck_set_destroy(T.set);
	T.set = NULL;
	evconnlistener_free(l);
	close(dfd);
}

/* A changed definition starts afresh; a bad update changes nothing. */
static void test_update_changes(void **state)
{
	uint16_t port = 0, dport;
	struct evconnlistener *l = tcp_listen(&port);
	int dfd = dead_port(&dport);
	struct hcheck_opts o = cb_opts();
	size_t cyc[] = { 0 };
	struct hcheck_def d[3], r[3];
	const uint8_t *w;
	uint8_t *old = (uint8_t *)1;
	char err[256];

	(void)state;
	update_defs(d, port, dport);
	r[0] = d[2];
	r[0].members = ab2;
	r[1] = d[1];
	r[2] = d[0];
	assert_int_equal(hcheck_set_create(T.base, r, 3, &o, err, sizeof(err),
					   &T.set), 0);
	w = hcheck_words(T.set);
	wait_word(2, 0, 2000);
	assert_memory_equal(w, ((uint8_t[]){ 0, 1, 0 }), 3);
	/* a's timeout changes: healthy again at once, and c with it */
	T.nch = 0;
	r[2].timeout_ms = 50;
	assert_int_equal(hcheck_set_update(T.set, r, 3, err, sizeof(err), &old), 0);
	assert_null(old);
	assert_memory_equal(w, ((uint8_t[]){ 1, 1, 1 }), 3);
	assert_int_equal(stats(2).probes, 0);
	assert_int_equal(T.nch, 1);
	assert_string_equal(T.ch[0].name, "c");
	assert_int_equal(T.ch[0].index, 0);
	wait_word(2, 0, 2000);                  /* its probes still find it dead */
	assert_int_equal(w[0], 0);
	r[1] = (struct hcheck_def){ .name = "b", .kind = HCHECK_CALCULATED,
				    .op = HCHECK_OR, .members = cyc, .nmembers = 1 };
	assert_int_equal(hcheck_set_update(T.set, r, 3, err, sizeof(err), &old),
			 P53_EINVAL);
	assert_string_equal(err, "calculated checks form a cycle: c -> b -> c");
	assert_int_equal(hcheck_index(T.set, "a"), 2);
	assert_int_equal(stats(1).kind, HCHECK_TCP);
	/* down to nothing */
	assert_int_equal(hcheck_set_update(T.set, NULL, 0, err, sizeof(err), &old), 0);
	assert_ptr_equal(old, w);
	hcheck_words_free(old);
	assert_int_equal(hcheck_count(T.set), 0);
	run_for(150);
	hcheck_set_destroy(T.set);
	T.set = NULL;
	evconnlistener_free(l);
	close(dfd);
}

/* ---- destroy ------------------------------------------------------------------------------- */

static void test_destroy_in_flight(void **state)
{
	uint16_t port;
	int fd = mute_listen(&port);
	struct hcheck_opts o = cb_opts();
	struct hcheck_def d[3];
	char err[256];
	bool busy = false;

	(void)state;
	d[0] = http_def("http", port, "/");
	d[1] = http_def("https", port, "/");
	d[1].kind = HCHECK_HTTPS;
	d[2] = tcp_def("tcp", port);
	for (int i = 0; i < 3; i++) {
		d[i].interval_ms = 100;
		d[i].timeout_ms = 90;
		d[i].fall = 1;
	}
	d[0].timeout_ms = d[1].timeout_ms = 900;
	d[0].interval_ms = d[1].interval_ms = 1000;
	assert_int_equal(hcheck_set_create(T.base, d, 3, &o, err, sizeof(err),
					   &T.set), 0);
	/* a set destroyed before its loop ever ran */
	{
		struct hcheck_set *s;

		assert_int_equal(hcheck_set_create(T.base, d, 3, &o, err,
						   sizeof(err), &s), 0);
		hcheck_set_destroy(s);
	}
	for (int k = 0; k < 400 && !busy; k++) {
		run_for(5);
		busy = stats(0).in_flight && stats(1).in_flight;
	}
	assert_true(busy);
	T.nch = 0;
	hcheck_set_destroy(T.set);
	T.set = NULL;
	run_for(300);
	assert_int_equal(T.nch, 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_validation_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validation_calculated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validation_depth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_fall_rise, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_status_and_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_https, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_close_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jitter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_votes_quorum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_votes_expiry_and_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_calculated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_keeps_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_in_flight, setup, teardown),
	};

	/* TLS on both sides writes to sockets the peer may have closed;
	 * pop53d ignores SIGPIPE the same way. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
