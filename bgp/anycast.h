/*
 * anycast.h — announce, withdraw and drain the anycast service prefixes
 * through BIRD.
 *
 * Mechanism (measured in docs/anycast.md): BIRD's configuration has two
 * pairs of `static` protocols holding the service prefixes (IPv4 and IPv6):
 * "p53_svc*" (plain) and "p53_gshut*" (the same routes, preferred, tagged
 * GRACEFUL_SHUTDOWN 65535:0 by the export filter). This module flips them
 * with `enable`/`disable` over one persistent control-socket connection
 * (about 1 ms to the router) and first writes the same state into an
 * include file (temp, fsync, rename, fsync of the directory) that the
 * protocols read their `disabled` from, so a BIRD restart or any
 * `configure` keeps it; a plain `disable` alone would be undone by either.
 * After a reconnect (BIRD restarted) the state is asserted again.
 *
 * Phases:  ANNOUNCED  svc on,  gshut off
 *          DRAINING   svc on,  gshut on   (router sees 65535:0; for drain_wait_ms)
 *          WITHDRAWN  svc off, gshut off  (not healthy, or drained)
 * Changes are ordered so the router never sees a withdraw on the way
 * between two announced states (gshut is enabled before svc goes away).
 *
 * Driving it from an event loop: every call blocks for at most a few BIRD
 * exchanges, each bounded by conf.timeout_ms. Call bgp_anycast_tick on a
 * timer (100 ms .. 1 s): it advances the drain, notices a lost connection,
 * reconnects (spaced by retry_ms) and re-applies what BIRD has not
 * confirmed. Nothing here sleeps or keeps its own timers.
 *
 * Start-up order in pop53d: bgp_anycast_open (asserts WITHDRAWN), then the
 * fail-safe interface (failsafe.h), then bgp_anycast_set_healthy once
 * health allows. The routes in BIRD point at the fail-safe interface, so
 * this module's state matters only while pop53d lives.
 */
#ifndef POP53_BGP_ANYCAST_H
#define POP53_BGP_ANYCAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bird.h"

struct bgp_anycast_conf {
	const char *bird_socket;    /* BIRD's control socket path */
	const char *state_file;     /* the include file BIRD reads */
	const char *svc_pattern;    /* NULL = "p53_svc*" */
	const char *gshut_pattern;  /* NULL = "p53_gshut*" */
	unsigned timeout_ms;        /* per BIRD exchange; 0 = 200 */
	unsigned retry_ms;          /* between reconnect attempts; 0 = 1000 */
	unsigned drain_wait_ms;     /* DRAINING before WITHDRAWN; 0 = none */
};

enum bgp_phase {
	BGP_WITHDRAWN = 0,
	BGP_ANNOUNCED,
	BGP_DRAINING,
};

struct bgp_anycast_status {
	enum bgp_phase phase;       /* what is wanted now */
	bool healthy;               /* last bgp_anycast_set_healthy */
	bool drain;                 /* operator drain in force */
	bool applied;               /* BIRD confirmed the phase */
	bool bird_connected;
	uint64_t drain_left_ms;     /* DRAINING: time to the withdraw */
	uint64_t changes;           /* phase changes since open */
	uint64_t bird_errors;       /* failed exchanges since open */
	uint64_t connects;          /* successful connects to BIRD */
	char bird_version[32];
	char last_error[256];       /* "" while the last apply succeeded */
};

struct bgp_anycast;

/* Check conf, write the state file as WITHDRAWN and try to disable both
 * protocol pairs in BIRD (BIRD being down is not an error: the file holds
 * the state and tick reconnects). conf's strings are copied. Returns 0 and
 * *out, or P53_EINVAL (missing path, a pattern with '"'), P53_EIO (state
 * file cannot be written), P53_ENOMEM, with err filled. */
int bgp_anycast_open(struct bgp_anycast **out, const struct bgp_anycast_conf *conf,
		     char *err, size_t errlen);

/* Write WITHDRAWN, disable both pairs (best effort), free a. NULL is fine. */
void bgp_anycast_close(struct bgp_anycast *a);

/* Health verdict (without the operator's drain, which is
 * bgp_anycast_drain's business). true announces unless drained; false
 * withdraws at once, also in the middle of a drain. Returns 0 when BIRD
 * confirmed the resulting phase, else the error of the failed exchange
 * (the phase is kept and retried by tick). */
int bgp_anycast_set_healthy(struct bgp_anycast *a, bool healthy, uint64_t now_ms);

/* Operator drain on (true) or off. On: an ANNOUNCED node goes DRAINING
 * for drain_wait_ms, then WITHDRAWN (tick does that). Off: back to
 * ANNOUNCED if healthy. Returns as bgp_anycast_set_healthy. */
int bgp_anycast_drain(struct bgp_anycast *a, bool drain, uint64_t now_ms);

/* Advance the drain timer, notice a lost BIRD connection, reconnect and
 * re-apply anything unconfirmed. Returns 0 when BIRD holds the wanted
 * phase, else the last error. */
int bgp_anycast_tick(struct bgp_anycast *a, uint64_t now_ms);

/* Fill *st (no BIRD traffic). */
void bgp_anycast_status(const struct bgp_anycast *a, uint64_t now_ms,
			struct bgp_anycast_status *st);

/* The BGP sessions and other protocols as BIRD lists them (`show
 * protocols`), for status and metrics: see bgp_bird_show_protocols. */
int bgp_anycast_protocols(struct bgp_anycast *a, struct bgp_proto *out, size_t max);

/* The BIRD client underneath (for raw commands in tools and tests). */
struct bgp_bird *bgp_anycast_bird(struct bgp_anycast *a);

/* "withdrawn", "announced", "draining". */
const char *bgp_phase_name(enum bgp_phase p);

/* Write the include file for the given protocol states atomically (temp
 * file in the same directory, fsync, rename, fsync of the directory).
 * Content: "define P53_SVC_DISABLED = 0|1;" and
 * "define P53_GSHUT_DISABLED = 0|1;" lines. Returns 0 or P53_EIO with err
 * filled. */
int bgp_state_write(const char *path, bool svc_on, bool gshut_on,
		    char *err, size_t errlen);

#endif
