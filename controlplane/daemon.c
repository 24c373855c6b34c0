/*
 * daemon.c — load, serve, stop.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon.h"
#include "diag.h"
#include "dname.h"
#include "error.h"
#include "snap.h"
#include "zone.h"

#ifdef POP53_DPDK
#include <netinet/in.h>

#include "dpdk.h"

#define EAL_MAX_ARGS 64
#endif

/* Grace period allowed to the readers of a replaced snapshot (lcores,
 * kernel server threads). They hold it for one batch: microseconds. */
#define RELOAD_GRACE_MS 2000

/* A snapshot and the buffer behind it (compiled zones; NULL for a file,
 * which snap_close unmaps). */
struct loaded {
	struct snap *s;
	uint8_t *blob;
};

/* What the daemon serves and how it swaps it. */
struct serving {
	struct loaded cur;
	srv_snap_ptr current;        /* read by the kernel server threads */
	struct srv *srv;             /* NULL until started */
	int dpdk;                    /* lcores answer from dp_current() too */
	unsigned reloads, failed, leaked;
};

/* Compile zone files, exactly as pop53-zonec would. */
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

/* Load what o names (--zone files or --snapshot) into *l. */
static int load(const struct ctl_daemon_opts *o, struct diag *d, struct loaded *l)
{
	l->s = NULL;
	l->blob = NULL;
	return o->snapshot ? snap_open(o->snapshot, d, &l->s) : load_zones(o, d, &l->blob, &l->s);
}

static void unload(struct loaded *l)
{
	snap_close(l->s);
	free(l->blob);
	l->s = NULL;
	l->blob = NULL;
}

static void print_serving(const struct snap *s, const char *what)
{
	for (uint32_t i = 0; i < snap_zone_count(s); i++) {
		const struct snap_zone *z = snap_zone_at(s, i);
		char name[DNAME_TEXT_MAX];
		dname_to_text(snap_ptr(s, z->apex_name), name, sizeof(name));
		fprintf(stderr, "pop53d: %s%s serial %u (%u names)\n", what, name,
			z->soa_serial, z->node_count);
	}
}

static void signal_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
}

/* SIGHUP: load again and publish; a failed load changes nothing served.
 * The old snapshot is freed once every reader has passed a quiescent
 * state (lcores: rte_rcu_qsbr in dp_publish; kernel threads: their epoch
 * counters in srv_synchronize). A reader that does not report within the
 * grace period would still hold it: it is leaked, never freed early. */
static void reload(const struct ctl_daemon_opts *o, struct serving *sv)
{
	struct loaded next;
	struct diag d;
	int ret, grace_ok = 1;
	char what[64];

	sv->reloads++;
	diag_init(&d, stderr);
	d.hide_warnings = 1;
	ret = load(o, &d, &next);
	if (ret < 0) {
		sv->failed++;
		fprintf(stderr, "pop53d: reload %u failed (%u error%s, first: %s); nothing changed\n",
			sv->reloads, d.errors, d.errors == 1 ? "" : "s",
			d.errors ? d.first : p53_strerror(ret));
		snprintf(what, sizeof(what), "reload %u failed: still serving ", sv->reloads);
		print_serving(sv->cur.s, what);
		return;
	}
	atomic_store_explicit(&sv->current, next.s, memory_order_seq_cst);
#ifdef POP53_DPDK
	if (sv->dpdk) {
		const struct snap *old;
		if (dp_publish(next.s, &old, RELOAD_GRACE_MS) < 0) {
			fprintf(stderr, "pop53d: reload %u: a DPDK worker did not pass a quiescent "
				"state in %u ms (hung?)\n", sv->reloads, RELOAD_GRACE_MS);
			grace_ok = 0;
		}
	}
#endif
	if (sv->srv && srv_synchronize(sv->srv, RELOAD_GRACE_MS) < 0) {
		fprintf(stderr, "pop53d: reload %u: a kernel server thread did not pass a "
			"quiescent state in %u ms (hung?)\n", sv->reloads, RELOAD_GRACE_MS);
		grace_ok = 0;
	}
	if (grace_ok) {
		unload(&sv->cur);
	} else {
		sv->leaked++;
		fprintf(stderr, "pop53d: reload %u: the previous snapshot is leaked, not freed\n",
			sv->reloads);
	}
	sv->cur = next;
	snprintf(what, sizeof(what), "reload %u: serving ", sv->reloads);
	print_serving(next.s, what);
}

/* Wait for signals: reload on SIGHUP, return SIGTERM/SIGINT. */
static int serve(const struct ctl_daemon_opts *o, struct serving *sv)
{
	sigset_t set;
	int sig = 0;

	signal_set(&set);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		reload(o, sv);
	}
	fprintf(stderr, "pop53d: %u reload%s (%u failed, %u snapshots leaked)\n", sv->reloads,
		sv->reloads == 1 ? "" : "s", sv->failed, sv->leaked);
	return sig;
}

int ctl_parse_prefix(const char *text, struct ctl_prefix *p)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	unsigned long len;
	char *end;

	memset(p, 0, sizeof(*p));
	if (!slash || (size_t)(slash - text) >= sizeof(host) || slash == text)
		return -1;
	memcpy(host, text, (size_t)(slash - text));
	host[slash - text] = '\0';
	len = strtoul(slash + 1, &end, 10);
	if (!slash[1] || *end)
		return -1;
	if (inet_pton(AF_INET, host, p->addr) == 1 && len <= 32)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, host, p->addr) == 1 && len <= 128)
		p->family = AF_INET6;
	else
		return -1;
	p->len = (uint8_t)len;
	return 0;
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
	if (st.exc_in || st.exc_drop || st.exc_out)
		fprintf(stderr, "pop53d: exception path: %llu frames to the kernel, %llu dropped "
			"(TAP full), %llu from the kernel, %llu of them sent on the port\n",
			(unsigned long long)st.exc_in, (unsigned long long)st.exc_drop,
			(unsigned long long)st.exc_out, (unsigned long long)st.exc_out_sent);
}

/* DPDK mode: UDP on the lcores, TCP on kernel sockets (same addresses). */
static int run_dpdk(struct ctl_daemon_opts *o, struct serving *sv)
{
	static char eal_buf[4096];
	char *argv[EAL_MAX_ARGS];
	struct dp_conf conf;
	struct srv_conf tcp;
	struct srv_stats st;
	char err[512] = "";
	int argc, status = 1;

	memset(&conf, 0, sizeof(conf));
	if (services(&o->srv, &conf.svc, err, sizeof(err)) < 0) {
		fprintf(stderr, "pop53d: %s\n", err);
		return 2;
	}
	conf.engine = o->srv.engine;
	conf.exception = o->exception == CTL_EXC_TAP ? DP_EXC_TAP : DP_EXC_NONE;
	conf.exc_ifname = o->exc_ifname;
	for (size_t i = 0; i < o->nexc_addr && i < DP_MAX_EXC_ADDRS; i++) {
		conf.exc_addr[i].family = o->exc_addr[i].family;
		conf.exc_addr[i].len = o->exc_addr[i].len;
		memcpy(conf.exc_addr[i].addr, o->exc_addr[i].addr, 16);
		conf.nexc_addr++;
	}
	if ((argc = eal_args(o->eal, eal_buf, sizeof(eal_buf), argv)) < 0) {
		fprintf(stderr, "pop53d: --eal: too long or more than %d arguments\n",
			EAL_MAX_ARGS - 2);
		return 2;
	}
	if (dp_init(argc, argv, err, sizeof(err)) < 0) {
		fprintf(stderr, "pop53d: %s\n", err);
		return 1;
	}
	/* Exception interfaces get their addresses here, before TCP binds. */
	if (dp_port_setup(&conf, err, sizeof(err)) < 0 ||
	    dp_start(sv->cur.s, err, sizeof(err)) < 0) {
		fprintf(stderr, "pop53d: %s\n", err);
		goto out;
	}
	sv->dpdk = 1;
	tcp = o->srv;
	tcp.no_udp = 1;
	if (srv_start(&tcp, &sv->current, &sv->srv, err, sizeof(err)) < 0) {
		fprintf(stderr, "pop53d: %s\n", err);
		goto out;
	}
	fprintf(stderr, "pop53d: ready (dpdk: %u worker%s, UDP on the ports; TCP on %zu kernel "
		"listen addresses)\n", dp_workers(), dp_workers() == 1 ? "" : "s", tcp.nlisten);
	int sig = serve(o, sv);
	srv_stats(sv->srv, &st);
	fprintf(stderr, "pop53d: signal %d: stopping; tcp: %llu queries, %llu responses\n", sig,
		(unsigned long long)st.queries, (unsigned long long)st.responses);
	print_dp_stats();
	status = 0;
out:
	srv_stop(sv->srv);
	sv->srv = NULL;
	dp_stop();   /* workers, ports (XDP detached, TAPs removed), EAL */
	return status;
}
#endif

int ctl_daemon_run(struct ctl_daemon_opts *o)
{
	static struct serving sv;
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
	if (o->io != CTL_IO_DPDK && (o->exception != CTL_EXC_NONE || o->nexc_addr)) {
		fprintf(stderr, "pop53d: --exception and --exception-addr need --io dpdk (with "
			"kernel sockets the kernel sees every frame itself)\n");
		return 2;
	}
	if (o->nexc_addr && o->exception == CTL_EXC_NONE) {
		fprintf(stderr, "pop53d: --exception-addr needs --exception tap\n");
		return 2;
	}
	diag_init(&d, stderr);
	d.hide_warnings = 1;
	ret = load(o, &d, &sv.cur);
	if (ret < 0) {
		fprintf(stderr, "pop53d: nothing to serve: %s\n", d.errors ? d.first : p53_strerror(ret));
		return 1;
	}
	print_serving(sv.cur.s, "serving ");
	atomic_store(&sv.current, sv.cur.s);
	/* Threads inherit the mask: only sigwait() sees SIGTERM/SIGINT/SIGHUP. */
	signal_set(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
#ifdef POP53_DPDK
	if (o->io == CTL_IO_DPDK) {
		status = run_dpdk(o, &sv);
		goto fail;
	}
#endif
	if (srv_start(&o->srv, &sv.current, &sv.srv, err, sizeof(err)) < 0) {
		fprintf(stderr, "pop53d: %s\n", err);
		goto fail;
	}
	fprintf(stderr, "pop53d: ready (%zu listen addresses)\n", o->srv.nlisten);
	int sig = serve(o, &sv);
	srv_stats(sv.srv, &st);
	fprintf(stderr, "pop53d: signal %d: stopping; %llu queries, %llu responses, %llu dropped\n",
		sig, (unsigned long long)st.queries, (unsigned long long)st.responses,
		(unsigned long long)st.dropped);
	status = 0;
fail:
	srv_stop(sv.srv);   /* every reader gone: the last snapshot can go */
	sv.srv = NULL;
	unload(&sv.cur);
	return status;
}
