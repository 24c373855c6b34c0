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

#ifdef POP53_DPDK
#include <arpa/inet.h>
#include <netinet/in.h>

#include "dpdk.h"

#define EAL_MAX_ARGS 64
#endif

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

#ifdef POP53_DPDK
/* Split --eal 'ARGS' on blanks (no quoting) behind argv[0]. */
static int eal_args(const char *text, char *buf, size_t buflen, char **argv)
{
	int argc = 0;

	argv[argc++] = "pop53d";
	if (!text)
		return argc;
	if (strlen(text) >= buflen)
		return -1;
	strcpy(buf, text);
	for (char *save = NULL, *t = strtok_r(buf, " \t\n", &save); t;
	     t = strtok_r(NULL, " \t\n", &save)) {
		if (argc == EAL_MAX_ARGS - 1)
			return -1;
		argv[argc++] = t;
	}
	argv[argc] = NULL;
	return argc;
}

/* The listen addresses become the service addresses of the DPDK path. */
static int services(const struct srv_conf *c, struct pkt_services *svc, char *err,
		    size_t errlen)
{
	memset(svc, 0, sizeof(*svc));
	for (size_t i = 0; i < c->nlisten; i++) {
		const struct sockaddr_storage *a = &c->listen[i].addr;
		uint16_t port;

		if (a->ss_family == AF_INET) {
			const struct sockaddr_in *in = (const void *)a;
			if (svc->n4 == PKT_MAX_SERVICES)
				goto many;
			memcpy(svc->v4[svc->n4++], &in->sin_addr, 4);
			port = ntohs(in->sin_port);
		} else {
			const struct sockaddr_in6 *in6 = (const void *)a;
			if (svc->n6 == PKT_MAX_SERVICES)
				goto many;
			memcpy(svc->v6[svc->n6++], &in6->sin6_addr, 16);
			port = ntohs(in6->sin6_port);
		}
		if (svc->port && svc->port != port) {
			snprintf(err, errlen, "--io dpdk: every --listen address needs the same port "
				 "(%u and %u given)", svc->port, port);
			return -1;
		}
		svc->port = port;
	}
	return 0;
many:
	snprintf(err, errlen, "--io dpdk: at most %d service addresses per family",
		 PKT_MAX_SERVICES);
	return -1;
}

static void print_dp_stats(void)
{
	struct dp_stats st;
	uint64_t dropped = 0;

	dp_stats(&st);
	for (int v = 1; v < PKT_VERDICT_COUNT; v++)
		dropped += st.drop[v];
	fprintf(stderr, "pop53d: dpdk: %llu received, %llu answered (%llu NOERROR, %llu NXDOMAIN, "
		"%llu SERVFAIL), %llu sent, %llu tx failures, %llu dropped (",
		(unsigned long long)st.rx, (unsigned long long)st.answers,
		(unsigned long long)st.rcode[0], (unsigned long long)st.rcode[3],
		(unsigned long long)st.rcode[2], (unsigned long long)st.tx,
		(unsigned long long)st.tx_fail, (unsigned long long)dropped);
	for (int v = 1; v < PKT_VERDICT_COUNT; v++)
		fprintf(stderr, "%s %s %llu", v > 1 ? "," : "", pkt_verdict_name((enum pkt_verdict)v),
			(unsigned long long)st.drop[v]);
	fprintf(stderr, ", multi-segment %llu, engine %llu)\n",
		(unsigned long long)st.drop_multiseg, (unsigned long long)st.drop_engine);
}

/* DPDK mode: UDP on the lcores, TCP on kernel sockets (same addresses). */
static int run_dpdk(struct ctl_daemon_opts *o, srv_snap_ptr *current, const struct snap *s)
{
	static char eal_buf[4096];
	char *argv[EAL_MAX_ARGS];
	struct dp_conf conf;
	struct srv_conf tcp;
	struct srv *srv = NULL;
	struct srv_stats st;
	char err[512] = "";
	int argc, status = 1;

	memset(&conf, 0, sizeof(conf));
	if (services(&o->srv, &conf.svc, err, sizeof(err)) < 0) {
		fprintf(stderr, "pop53d: %s\n", err);
		return 2;
	}
	conf.engine = o->srv.engine;
	if ((argc = eal_args(o->eal, eal_buf, sizeof(eal_buf), argv)) < 0) {
		fprintf(stderr, "pop53d: --eal: too long or more than %d arguments\n",
			EAL_MAX_ARGS - 2);
		return 2;
	}
	if (dp_init(argc, argv, err, sizeof(err)) < 0) {
		fprintf(stderr, "pop53d: %s\n", err);
		return 1;
	}
	if (dp_port_setup(&conf, err, sizeof(err)) < 0 || dp_start(s, err, sizeof(err)) < 0) {
		fprintf(stderr, "pop53d: %s\n", err);
		goto out;
	}
	tcp = o->srv;
	tcp.no_udp = 1;
	if (srv_start(&tcp, current, &srv, err, sizeof(err)) < 0) {
		fprintf(stderr, "pop53d: %s\n", err);
		goto out;
	}
	fprintf(stderr, "pop53d: ready (dpdk: %u worker%s, UDP on the ports; TCP on %zu kernel "
		"listen addresses)\n", dp_workers(), dp_workers() == 1 ? "" : "s", tcp.nlisten);
	int sig = wait_for_signal();
	srv_stats(srv, &st);
	fprintf(stderr, "pop53d: signal %d: stopping; tcp: %llu queries, %llu responses\n", sig,
		(unsigned long long)st.queries, (unsigned long long)st.responses);
	print_dp_stats();
	status = 0;
out:
	srv_stop(srv);
	dp_stop();   /* workers, ports (XDP detached), EAL */
	return status;
}
#endif

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

#ifndef POP53_DPDK
	if (o->io == CTL_IO_DPDK) {
		fprintf(stderr, "pop53d: --io dpdk: this pop53d was built without DPDK "
			"(libdpdk-dev and libbpf-dev missing, or -Ddpdk=disabled)\n");
		return 2;
	}
#endif
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
#ifdef POP53_DPDK
	if (o->io == CTL_IO_DPDK) {
		status = run_dpdk(o, &current, s);
		goto fail;
	}
#endif
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
