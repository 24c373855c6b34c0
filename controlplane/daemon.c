/*
 * daemon.c — load, serve, stop.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "diag.h"
#include "dname.h"
#include "error.h"
#include "snap.h"
#include "zone.h"

/* Compile zone files at start, exactly as pop53-zonec would. */
static int load_zones(const struct ctl_daemon_opts *o, struct diag *d,
		      uint8_t **blob, struct snap **out)
{
	struct zone *z[CTL_MAX_ZONES] = { 0 };
	size_t len;
	int ret = 0;

	for (size_t i = 0; i < o->nzones && ret == 0; i++) {
		if ((ret = zone_parse_file(o->zones[i], NULL, d, &z[i])) == 0)
			ret = zone_check(z[i], NULL, d);
	}
	if (ret == 0)
		ret = snap_compile(z, o->nzones, NULL, d, blob, &len);
	if (ret == 0 && (ret = snap_open_mem(*blob, len, d, out)) < 0) {
		free(*blob);
		*blob = NULL;
	}
	for (size_t i = 0; i < o->nzones; i++)
		zone_free(z[i]);
	return ret;
}

static void print_serving(const struct snap *s)
{
	for (uint32_t i = 0; i < snap_zone_count(s); i++) {
		const struct snap_zone *z = snap_zone_at(s, i);
		char name[DNAME_TEXT_MAX];
		dname_to_text(snap_ptr(s, z->apex_name), name, sizeof(name));
		fprintf(stderr, "pop53d: serving %s serial %u (%u names)\n", name,
			z->soa_serial, z->node_count);
	}
}

static int wait_for_signal(void)
{
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigwait(&set, &sig);
	return sig;
}

int ctl_daemon_run(struct ctl_daemon_opts *o)
{
	static srv_snap_ptr current;
	struct snap *s = NULL;
	struct srv *srv = NULL;
	uint8_t *blob = NULL;
	struct srv_stats st;
	struct diag d;
	char err[256] = "";
	sigset_t set;
	int ret, status = 1;

	if (o->io == CTL_IO_DPDK) {
		fprintf(stderr, "pop53d: --io dpdk: this build has no DPDK dataplane yet\n");
		return 2;
	}
	diag_init(&d, stderr);
	d.hide_warnings = 1;
	ret = o->snapshot ? snap_open(o->snapshot, &d, &s) : load_zones(o, &d, &blob, &s);
	if (ret < 0) {
		fprintf(stderr, "pop53d: nothing to serve: %s\n", d.errors ? d.first : p53_strerror(ret));
		return 1;
	}
	print_serving(s);
	atomic_store(&current, s);
	/* Threads inherit the mask: only sigwait() sees SIGTERM/SIGINT. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (srv_start(&o->srv, &current, &srv, err, sizeof(err)) < 0) {
		fprintf(stderr, "pop53d: %s\n", err);
		goto fail;
	}
	fprintf(stderr, "pop53d: ready (%zu listen addresses)\n", o->srv.nlisten);
	int sig = wait_for_signal();
	srv_stats(srv, &st);
	fprintf(stderr, "pop53d: signal %d: stopping; %llu queries, %llu responses, %llu dropped\n",
		sig, (unsigned long long)st.queries, (unsigned long long)st.responses,
		(unsigned long long)st.dropped);
	status = 0;
fail:
	srv_stop(srv);
	snap_close(s);
	free(blob);
	return status;
}
