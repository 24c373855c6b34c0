/*
 * ctl_sock.h — the local control socket (pop53ctl <-> pop53d).
 *
 * A Unix stream socket; one request per connection: the client writes one
 * line holding a JSON object, the daemon answers one line holding a JSON
 * object and closes. Requests:
 *   {"cmd": "status"}   {"cmd": "stats"}   {"cmd": "drain"}   {"cmd": "undrain"}
 *   {"cmd": "load", "file": "/abs/path.snap", "force": false}
 *   {"cmd": "reload-config"}
 *   {"cmd": "vote", "check": "web-1", "source": 7, "healthy": false,
 *    "ttl_ms": 30000}   (another PoP's vote on a policy health check)
 * Every answer has "ok": true or false; a refusal adds "error" (a short
 * name) and "message" (the precise reason). status and stats answers carry
 * the daemon's documents (ctl_ops.status / .stats) next to "ok"; load
 * answers as the push API does ("serial", "previous_serial", "zones").
 */
#ifndef POP53_CTL_SOCK_H
#define POP53_CTL_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <event2/event.h>

#include "ctl_http.h"

#define CTL_SOCK_LINE_MAX 65536     /* longest request or answer line */

struct ctl_sock;

/* Listen on the Unix socket path (mode 0660). A socket file left by a
 * daemon that died is replaced; one a live daemon answers on is not
 * (P53_EEXIST). ops must outlive the socket. Returns 0 and *out, or
 * P53_EINVAL (path too long), P53_EEXIST, P53_EIO with err filled. */
int ctl_sock_start(struct event_base *base, const char *path,
		   const struct ctl_ops *ops, struct ctl_sock **out,
		   char *err, size_t errlen);

/* Close the socket and every connection, remove the socket file, free s.
 * NULL is fine. */
void ctl_sock_free(struct ctl_sock *s);

/* Client: the request line (no newline) for cmd, with file and force for
 * "load" (file made absolute: the daemon has its own working directory).
 * Returns 0, or P53_EINVAL (unknown command, load without a file) or
 * P53_EIO (file cannot be resolved) with err filled; *out is malloc'd. */
int ctl_sock_request(const char *cmd, const char *file, bool force,
		     char **out, char *err, size_t errlen);

/* Client: the request line for a vote (see above): source is the voting
 * PoP's id, ttl_ms how long the vote lives (0: withdraw it). 0, or
 * P53_EINVAL (empty check name), P53_ENOMEM; *out is malloc'd. */
int ctl_sock_vote_request(const char *check, uint32_t source, bool healthy,
			  uint32_t ttl_ms, char **out, char *err, size_t errlen);

/* Client: send request to the daemon at path, wait up to timeout_ms for
 * the answer line (*reply, malloc'd, without the newline). Returns 0, or
 * P53_EIO (cannot connect, connection lost), P53_ETIMEOUT, P53_ELIMIT
 * (answer too long) with err filled. */
int ctl_sock_call(const char *path, const char *request, unsigned timeout_ms,
		  char **reply, char *err, size_t errlen);

/* Client: print an answer for people (one "key: value" line per member,
 * nested members indented, times also as dates; a refusal as
 * "refused (error): message"). Returns 1 when the answer says ok, 0 when
 * it reports a refusal, P53_EPROTO when it is not a JSON object. */
int ctl_sock_print_human(const char *reply, FILE *out);

/* Client: whether the answer says "ok": true (1), false (0), or is not a
 * JSON object (P53_EPROTO). */
int ctl_sock_reply_ok(const char *reply);

#endif
