/*
 * phealth.h — the health checks of the served snapshot's traffic policies.
 *
 * pop53d owns one ctl_phealth. Each snapshot it is about to publish is
 * attached first: the policy's checks (policy_check_get, in file order)
 * become the definitions of one hcheck set (created on first use, updated
 * afterwards so that unchanged checks keep their state), and the set's
 * words are attached to the snapshot (snap_set_health) so that the
 * answering threads read them. A snapshot without checks gets no words.
 *
 * Check targets must be IP addresses: a host name is refused (with the
 * check named) rather than resolved, because the control plane's event
 * loop must never wait for DNS (the loop watchdog withdraws the node
 * after 2 s) and every PoP should probe the same endpoint; the controller
 * resolves names when it compiles the policy. The policy format allows
 * shorter intervals than the checker: an interval below min_interval_ms is
 * raised to it, a timeout not below the interval becomes half of it (both
 * logged at attach).
 *
 * Everything runs on the loop's thread. docs/health-checks.md ("In
 * pop53d") describes the daemon's side.
 */
#ifndef POP53_PHEALTH_H
#define POP53_PHEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <event2/event.h>

#include "hcheck.h"
#include "snap.h"

struct ctl_phealth_opts {
	uint32_t min_interval_ms;   /* 0: hcheck's minimum (1000 ms) */
	FILE *log;                  /* word changes and notes; NULL: stderr */
};

struct ctl_phealth;

/* A policy health owner on base (o may be NULL; copied). No checks run
 * until a snapshot with checks is attached. 0 or P53_ENOMEM. */
int ctl_phealth_new(struct event_base *base, const struct ctl_phealth_opts *o,
		    struct ctl_phealth **out);

/* Stop every check and free ph and the current words: only once no
 * snapshot that carries them can be read any more. NULL is fine. */
void ctl_phealth_free(struct ctl_phealth *ph);

/* Would attaching s succeed? Builds and validates the definitions without
 * touching any running check (for refusing a push before it is
 * persisted). 0, or P53_EINVAL (a host-name target, a definition the
 * checker refuses: which check and why in err), P53_ENOMEM. */
int ctl_phealth_check(const struct snap *s, const struct ctl_phealth_opts *o,
		      char *err, size_t errlen);

/* Run the checks of s's policy and attach their words to s; call before
 * s is published. When the number of checks changes, the words the
 * previously attached snapshot reads move: the old array goes to
 * *old_words (NULL otherwise), to be released with hcheck_words_free()
 * together with that snapshot, after its RCU grace period. On error
 * (as ctl_phealth_check) nothing changes: the running checks, the words
 * and s are as before. */
int ctl_phealth_attach(struct ctl_phealth *ph, struct snap *s, uint8_t **old_words,
		       char *err, size_t errlen);

/* Number of checks running now (those of the last attached snapshot). */
size_t ctl_phealth_count(const struct ctl_phealth *ph);

/* State and counters of check i (< ctl_phealth_count). 0 or P53_EINVAL. */
int ctl_phealth_stats(const struct ctl_phealth *ph, size_t i, struct hcheck_stats *out);

/* Another PoP's vote (the controller's): source_id says healthy or not
 * about the check called name, for ttl_ms from now (0 withdraws that
 * source's vote). 0, or P53_ENOTFOUND (no such check), P53_EINVAL (a
 * calculated check: it has no votes), P53_ELIMIT (too many sources), with
 * err filled. */
int ctl_phealth_vote(struct ctl_phealth *ph, const char *name, uint32_t source_id,
		     bool healthy, uint32_t ttl_ms, char *err, size_t errlen);

#endif
