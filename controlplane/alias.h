/*
 * alias.h — pop53d's resolver for out-of-zone alias targets.
 *
 * A traffic policy's `alias:` member may name a host outside every zone
 * pop53d serves (a cloud load balancer). The snapshot lists those targets
 * (snap_alias_count); this module asks recursive resolvers for their A and
 * AAAA records from the event loop, without ever blocking it, and writes
 * the addresses into slots attached to the snapshot, which the answering
 * threads read (snap_alias_read). Each answer is asked again when its TTL
 * runs out (bounded by min/max refresh). A failed refresh keeps serving
 * the last addresses it had (logged once, counted), retries with the next
 * resolver and backs off; an authoritative "no such name" or "no address"
 * empties the family (answers become NODATA). Until the first answer for a
 * family arrives, queries choosing the alias get SERVFAIL (engine).
 *
 * Everything runs on the loop's thread.
 */
#ifndef POP53_ALIAS_H
#define POP53_ALIAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "snap.h"

#define CTL_ALIAS_MAX_RESOLVERS 4

struct ctl_alias_resolver {
	struct sockaddr_storage addr;     /* IPv4 or IPv6, with the port */
	socklen_t len;
};

struct ctl_alias_opts {
	struct ctl_alias_resolver resolvers[CTL_ALIAS_MAX_RESOLVERS];
	size_t nresolvers;                /* 0: the nameservers of /etc/resolv.conf */
	uint32_t min_refresh_ms;          /* 0: 5,000 (a TTL below is raised to it) */
	uint32_t max_refresh_ms;          /* 0: 3,600,000 */
	uint32_t timeout_ms;              /* one try; 0: 1,000 */
	const char *resolv_conf;          /* NULL: /etc/resolv.conf (tests) */
	FILE *log;                        /* NULL: stderr */
};

struct ctl_alias;

/* A resolver owner on base (o may be NULL; copied). Without resolvers in
 * o, the nameservers of resolv.conf are used; if there are none, only
 * snapshots without out-of-zone targets can be attached. Sockets open at
 * the first attach with targets. 0 or P53_ENOMEM. */
int ctl_alias_new(struct event_base *base, const struct ctl_alias_opts *o,
		  struct ctl_alias **out);

/* Could s be attached? P53_EINVAL (it has out-of-zone targets and there
 * is no resolver: err says which target and why) or 0. For refusing a
 * push before it is persisted. */
int ctl_alias_check(const struct ctl_alias *al, const struct snap *s, char *err,
		    size_t errlen);

/* Stop resolving and free al and its current slots: only once no
 * snapshot that carries them can be read any more. NULL is fine. */
void ctl_alias_free(struct ctl_alias *al);

/* Give s slots for its out-of-zone targets and attach them (snap_set_
 * aliases); call before s is published. Targets the previous snapshot
 * had keep their addresses and schedule; new ones are asked at once;
 * those gone stop. The slots the previous snapshot reads go to *old, to
 * be released with ctl_alias_slots_free together with that snapshot,
 * after its RCU grace period. 0, P53_EINVAL (as ctl_alias_check), P53_EIO
 * (a socket: err says why) or P53_ENOMEM; on error nothing changes. */
int ctl_alias_attach(struct ctl_alias *al, struct snap *s, struct snap_alias **old,
		     char *err, size_t errlen);

/* Release slots handed out by ctl_alias_attach. NULL is fine. */
void ctl_alias_slots_free(struct snap_alias *slots);

struct ctl_alias_stats {
	const char *target;               /* text, e.g. "lb.example.net." */
	uint8_t n4, n6;                   /* addresses served now */
	bool have4, have6;                /* an answer has arrived for the family */
	bool stale;                       /* the last refresh failed */
	uint64_t queries, failures, changes;
};

/* Number of targets now (those of the last attached snapshot). */
size_t ctl_alias_count(const struct ctl_alias *al);

/* Target i (< ctl_alias_count). 0 or P53_EINVAL. */
int ctl_alias_stats(const struct ctl_alias *al, size_t i, struct ctl_alias_stats *out);

#endif
