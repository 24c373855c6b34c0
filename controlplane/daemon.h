/*
 * daemon.h — pop53d's life: load what to serve, start the doors, run until
 * a signal, stop cleanly. pop53d's main() only fills struct ctl_daemon_opts.
 */
#ifndef POP53_DAEMON_H
#define POP53_DAEMON_H

#include <stddef.h>
#include <stdint.h>

#include "srv.h"

#define CTL_MAX_ZONES 256
#define CTL_MAX_KEYS  16
#define CTL_MAX_RRL_EXEMPT 32
#define CTL_MAX_ALIAS_RESOLVERS 4
#define CTL_DNSSEC_EXPIRY_WARNING_S (3 * 86400)     /* as alias.h CTL_ALIAS_MAX_RESOLVERS */
#define CTL_RRL_INHERIT 0xffffffffu

enum ctl_io { CTL_IO_KERNEL = 0, CTL_IO_DPDK = 1 };

/* DPDK mode: what happens to frames that are not DNS for us. An explicit
 * choice, not automatic for every non-af_xdp port: it creates a kernel
 * interface and adds addresses (a side effect the operator asks for), and
 * af_packet on a kernel interface (tests) or net_null/net_ring need none. */
enum ctl_exception {
	CTL_EXC_NONE = 0,   /* dropped (af_xdp needs nothing: XDP passes them) */
	CTL_EXC_TAP,        /* --exception tap: to the kernel through a TAP */
};

#define CTL_MAX_EXC_ADDRS 16

struct ctl_prefix {
	uint8_t family;     /* AF_INET / AF_INET6 */
	uint8_t len;
	uint8_t addr[16];
};

struct ctl_daemon_opts {
	enum ctl_io io;
	const char *zones[CTL_MAX_ZONES];   /* --zone: compiled at start */
	size_t nzones;
	const char *snapshot;               /* --snapshot: served as is */
	struct srv_conf srv;                /* listen addresses, threads */
	const char *eal;                    /* --eal (DPDK mode) */
	enum ctl_exception exception;       /* --exception tap[:IFNAME] */
	const char *exc_ifname;             /* IFNAME, NULL: p53x<port> */
	struct ctl_prefix exc_addr[CTL_MAX_EXC_ADDRS];  /* --exception-addr */
	size_t nexc_addr;

	/* Control plane (issue 5). NULL/0 = that piece is off. */
	const char *config_path;            /* --config: re-read by reload-config */
	const char *state_dir;              /* last good snapshot lives here */
	const char *trusted_keys[CTL_MAX_KEYS]; /* controller Ed25519 public
					     * keys (PEM files) */
	size_t nkeys;
	const char *push_listen;            /* ADDR@PORT of the HTTPS push API */
	const char *tls_cert;               /* push API server certificate */
	const char *tls_key;                /* and its private key (PEM) */
	const char *tls_client_ca;          /* CA that signs controller certs */
	uint64_t push_max_bytes;            /* largest snapshot accepted */
	unsigned push_timeout_ms;           /* whole request, header to body */
	const char *metrics_listen;         /* ADDR@PORT, plain HTTP */
	const char *control_socket;         /* pop53ctl's Unix socket path */
	unsigned max_snapshot_age_s;        /* health (issue 6); 0 = no limit */
	unsigned health_interval_ms;        /* observe every; 0 = 200 */
	unsigned health_fall;               /* failures to withdraw; 0 = 2 */
	unsigned health_rise;               /* successes to announce; 0 = 3 */
	unsigned health_hold_down_ms;       /* least time withdrawn; 0 = none */
	unsigned fault_injection;           /* 1: pop53ctl fault works (tests) */
	/* Anycast through BIRD (bgp/): off without bgp_socket. */
	const char *bgp_socket;             /* BIRD's control socket */
	const char *bgp_state_file;         /* the include file BIRD reads */
	const char *bgp_failsafe_ifname;    /* NULL: p53hold0 */
	unsigned bgp_drain_wait_ms;         /* GRACEFUL_SHUTDOWN before withdraw */
	/* Response rate limiting (BIND's semantics): on when rrl_responses
	 * is not 0. The other rates: CTL_RRL_INHERIT = as rrl_responses. */
	unsigned rrl_responses, rrl_nodata, rrl_nxdomains, rrl_referrals, rrl_errors;
	unsigned rrl_window, rrl_slip, rrl_v4len, rrl_v6len, rrl_log_only, rrl_table_size;
	const char *rrl_exempt[CTL_MAX_RRL_EXEMPT];   /* prefixes never limited */
	/* EDNS Client Subnet (RFC 7871, docs/ecs.md): off (0) by default; the
	 * longest source prefixes taken as sent. Copied into srv.engine. */
	unsigned ecs, ecs_v4len, ecs_v6len;
	size_t nrrl_exempt;
	/* DNS cookies (RFC 7873/9018): the fleet's shared server secret (32
	 * hex digits), given or read from a file; random when neither. */
	const char *cookie_secret;
	const char *cookie_secret_file;
	/* Out-of-zone alias targets of traffic policies (controlplane/alias.h):
	 * the resolvers asked (none: /etc/resolv.conf's) and the shortest
	 * refresh, whatever the answer's TTL says. */
	struct srv_listen alias_resolvers[CTL_MAX_ALIAS_RESOLVERS];
	size_t nalias_resolvers;
	unsigned alias_min_refresh_s;       /* 0 = 5 */
	/* Warn this long before the served snapshot's earliest RRSIG
	 * expires (docs/config.md, dnssec); 0 = CTL_DNSSEC_EXPIRY_WARNING_S. */
	unsigned dnssec_expiry_warning_s;
};

/* Parse "ADDR/LEN" (IPv4 or IPv6; "/LEN" required) into p. 0 or -1. */
int ctl_parse_prefix(const char *text, struct ctl_prefix *p);

/* Run the daemon until SIGTERM/SIGINT; SIGHUP reloads the --zone files
 * (or the --snapshot) and publishes the result, or keeps serving what it
 * served when the reload fails. Prints what it serves and why it fails to
 * stderr. Returns the process exit status. */
int ctl_daemon_run(struct ctl_daemon_opts *o);

#endif
