/*
 * ctl_http.h — pop53d's HTTP doors on the control-plane event loop: the
 * push API (HTTPS with mutual TLS) and the plain-HTTP metrics page; and
 * struct ctl_ops, what every control door (these and the control socket,
 * ctl_sock.h) asks the daemon to do.
 *
 * Push API (the contract pop53-push speaks):
 *   PUT /v1/snapshot[?force=1]  body: a signed snapshot. 200 with
 *     {"serial": N, "previous_serial": M, "zones": K} once it is persisted
 *     and published (what is now served). Refusals carry
 *     {"error": "<name>", "message": "<text>", "serial": <served>}:
 *     400 corrupt, 403 bad-signature, 409 stale, 413 too-large (from
 *     Content-Length, before the body is read), 408 timeout, 500
 *     store-failed, 503 busy (another push is in progress), 405 other
 *     methods, 404 other paths, 411 no Content-Length.
 *   GET /v1/status  200 with the daemon's status document.
 *   POST /v1/votes  body: other PoPs' votes on policy health checks, one
 *     per line, "CHECK SOURCE_ID healthy|unhealthy TTL_MS" (ctl_ops.vote;
 *     TTL_MS 0 withdraws), at most 1 MiB. Each line applies on its own:
 *     200 with {"errors": ["line N: why", ...first 8], "applied": A,
 *     "refused": R}. Not serialised with pushes (never 503 busy).
 * One request per connection (the answer says Connection: close). The
 * HTTP layer of the push port is our own, small and strict, on OpenSSL
 * bufferevents rather than evhttp: evhttp (libevent 2.1) answers an
 * oversized body with an HTML page and drops a slow request without an
 * answer, and the contract wants JSON for both.
 *
 * Metrics: GET /metrics on its own plain-HTTP listener (evhttp).
 */
#ifndef POP53_CTL_HTTP_H
#define POP53_CTL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "store.h"

/* The outcome of a push or a load, as the doors report it. */
struct ctl_push_result {
	enum ctl_refusal why;        /* CTL_OK, or why nothing changed */
	uint64_t serial;             /* served now (the new one on success) */
	uint64_t previous_serial;    /* served before (success only) */
	uint32_t zones;              /* zones in the new snapshot */
	char message[512];           /* precise reason of a refusal */
};

/* The daemon's side of the control doors. Every call runs on the loop
 * thread; arg is passed back unchanged. */
struct ctl_ops {
	void *arg;
	/* Verify, persist and publish the snapshot in buf (len bytes; the
	 * caller keeps buf). Fills *r; refusals change nothing served. */
	void (*push)(void *arg, const uint8_t *buf, size_t len, bool force,
		     struct ctl_push_result *r);
	/* The same for a snapshot file the daemon reads itself. */
	void (*load)(void *arg, const char *path, bool force,
		     struct ctl_push_result *r);
	/* A push refused before push() ran: count it under result
	 * ("too-large", "timeout", "busy", "bad-request"). */
	void (*refused)(void *arg, const char *result);
	/* Append the members (no braces) of the status / stats JSON objects. */
	void (*status)(void *arg, struct evbuffer *out);
	void (*stats)(void *arg, struct evbuffer *out);
	/* Append the Prometheus text page. */
	void (*metrics)(void *arg, struct evbuffer *out);
	/* Set or clear the drained flag. */
	void (*drain)(void *arg, bool on);
	/* Re-read the configuration file: 0, or a negative p53_err with the
	 * reason in err. */
	int (*reload_config)(void *arg, char *err, size_t errlen);
	/* Serial of the snapshot served now (0: none). */
	uint64_t (*served_serial)(void *arg);
	/* Fault injection (pop53d --fault-injection only): what is e.g.
	 * "stall:MS" (every worker stops answering for MS ms) or
	 * "stall:W:MS" (DPDK worker W). 0, or a p53_err with err. */
	int (*fault)(void *arg, const char *what, char *err, size_t errlen);
	/* Another PoP's vote on the policy health check called check
	 * (controlplane/phealth.h): source, healthy or not, for ttl_ms (0
	 * withdraws it). 0, or a p53_err with err. NULL: not offered. */
	int (*vote)(void *arg, const char *check, uint32_t source, bool healthy,
		    uint32_t ttl_ms, char *err, size_t errlen);
};

struct ctl_push_conf {
	const char *listen;          /* ADDR@PORT */
	const char *cert, *key;      /* server certificate (chain) and key, PEM */
	const char *client_ca;       /* CA file that signs controller certificates */
	uint64_t max_bytes;          /* 0: 1 GiB */
	unsigned timeout_ms;         /* whole request; 0: 60000 */
};

struct ctl_http;

/* Append s to out as a JSON string (quotes and escapes added). */
void ctl_json_str(struct evbuffer *out, const char *s);

/* The HTTP status that answers refusal r (200 for CTL_OK); the error
 * name in the body is ctl_refusal_name(r). */
int ctl_http_status_of(enum ctl_refusal r);

/* Listen for the push API on c->listen with TLS 1.2+ and a required
 * client certificate signed by c->client_ca. ops must outlive the server.
 * Returns 0 and *out, or P53_EINVAL (bad address), P53_EIO (a file that
 * OpenSSL refuses, an address that cannot be bound) with err filled. */
/* New size and time limits for the push API's next requests (0: the
 * defaults), for a configuration reload; requests under way keep theirs. */
void ctl_http_set_limits(struct ctl_http *h, uint64_t max_bytes, unsigned timeout_ms);

int ctl_http_push_start(struct event_base *base, const struct ctl_push_conf *c,
			const struct ctl_ops *ops, struct ctl_http **out,
			char *err, size_t errlen);

/* Serve GET /metrics (text/plain; version=0.0.4) in plain HTTP on listen
 * (ADDR@PORT). Errors as ctl_http_push_start. */
int ctl_http_metrics_start(struct event_base *base, const char *listen,
			   const struct ctl_ops *ops, struct ctl_http **out,
			   char *err, size_t errlen);

/* Close the listener and every connection, free h. NULL is fine. */
void ctl_http_free(struct ctl_http *h);

#endif
