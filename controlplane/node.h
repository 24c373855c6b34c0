/*
 * node.h — this node's health, watched from the control plane's event loop.
 *
 * Every interval the node is observed (workers' heartbeats, ports' links,
 * the snapshot and its age, the canary query, the operator's drain) and
 * the observation goes to the health module (health.h), whose up/down
 * decision is handed to the caller (which announces or withdraws the
 * service prefix). The canary is a real query for the first zone's SOA:
 * in DPDK mode through each worker's own loop (dp_canary_send), in kernel
 * mode over a UDP socket to the first service address, from a new source
 * port each time so that SO_REUSEPORT spreads it over the threads. Its
 * answer is due by the next observation.
 */
#ifndef POP53_NODE_H
#define POP53_NODE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "health.h"
#include "snap.h"

struct ctl_node_conf {
	unsigned interval_ms;           /* 0: 200 */
	struct health_conf health;      /* fall, rise, hold-down */
	unsigned max_snapshot_age_s;    /* 0: no limit */
	bool dpdk;                      /* workers and ports are DPDK's */
	/* Where the canary goes: a service address and the DNS port. */
	struct sockaddr_storage service;
	socklen_t service_len;
};

/* What the node asks of the daemon. Called on the loop's thread. */
struct ctl_node_ops {
	void *arg;
	const struct snap *(*snapshot)(void *arg);      /* served now, or NULL */
	/* The decision changed: announce (up) or withdraw, and why. */
	void (*changed)(void *arg, bool up, const char *reason);
};

struct ctl_node;

/* Start observing on base. c and ops are copied. 0, or P53_ENOMEM /
 * P53_EINVAL with a message in err. */
int ctl_node_start(struct event_base *base, const struct ctl_node_conf *c,
		   const struct ctl_node_ops *ops, struct ctl_node **out,
		   char *err, size_t errlen);

/* New maximum snapshot age (configuration reload). */
void ctl_node_set_max_age(struct ctl_node *n, unsigned seconds);

/* The decision state, for status and metrics. */
const struct health *ctl_node_health(const struct ctl_node *n);

/* Canary queries sent (kernel mode: they are counted by the UDP server
 * like any query; DPDK mode: through the mailbox, not counted). */
uint64_t ctl_node_canaries(const struct ctl_node *n);

/* The reason of the last failing observation ("" when healthy). */
const char *ctl_node_reason(const struct ctl_node *n);

void ctl_node_free(struct ctl_node *n);

#endif
