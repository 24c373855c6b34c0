/*
 * daemon.h — pop53d's life: load what to serve, start the doors, run until
 * a signal, stop cleanly. pop53d's main() only fills struct ctl_daemon_opts.
 */
#ifndef POP53_DAEMON_H
#define POP53_DAEMON_H

#include <stddef.h>

#include "srv.h"

#define CTL_MAX_ZONES 256

enum ctl_io { CTL_IO_KERNEL = 0, CTL_IO_DPDK = 1 };

struct ctl_daemon_opts {
	enum ctl_io io;
	const char *zones[CTL_MAX_ZONES];   /* --zone: compiled at start */
	size_t nzones;
	const char *snapshot;               /* --snapshot: served as is */
	struct srv_conf srv;                /* listen addresses, threads */
	const char *eal;                    /* --eal (DPDK mode) */
};

/* Run the daemon until SIGTERM/SIGINT. Prints what it serves and why it
 * fails to stderr. Returns the process exit status. */
int ctl_daemon_run(struct ctl_daemon_opts *o);

#endif
