/*
 * rrl_server — a test harness: the DPDK dataplane (dp_*) answering from a
 * snapshot with response rate limiting and DNS cookies configured from
 * the environment, for tests/integration/rrl_flood.sh and
 * bench/rrl-bench.sh until pop53d's configuration carries them. Not
 * installed; pop53d never reads these variables.
 *
 * Usage: rrl_server --eal 'EAL ARGS' --listen ADDR[@PORT]... --snapshot FILE
 * Environment (unset: rrl_conf_init's defaults):
 *   P53_RRL=0|1                      RRL off/on (default on)
 *   P53_RRL_RESPONSES_PER_SECOND, P53_RRL_NODATA_PER_SECOND,
 *   P53_RRL_NXDOMAINS_PER_SECOND, P53_RRL_REFERRALS_PER_SECOND,
 *   P53_RRL_ERRORS_PER_SECOND, P53_RRL_WINDOW, P53_RRL_SLIP,
 *   P53_RRL_IPV4_PREFIX_LENGTH, P53_RRL_IPV6_PREFIX_LENGTH,
 *   P53_RRL_LOG_ONLY                 numbers
 *   P53_RRL_EXEMPT                   comma-separated prefixes
 *   P53_COOKIE_SECRET                32 hex digits: cookies on
 * Prints "rrl_server: ready" once answering, the top limited prefixes
 * every second (dp_rrl_report, as the control plane would log them), and
 * its counters on SIGTERM/SIGINT, then exits 0. SIGUSR1 suspends rate
 * limiting, SIGUSR2 resumes it (dp_rrl_suspend), each said on stderr
 * within 0.1 s.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "cookie.h"
#include "diag.h"
#include "dpdk.h"
#include "error.h"
#include "rrl.h"
#include "snap.h"

#define MAX_EAL_ARGS 64

static volatile sig_atomic_t stop;
static volatile sig_atomic_t suspend = -1;   /* asked: 1 suspend, 0 resume */

static void on_signal(int sig)
{
	if (sig == SIGUSR1 || sig == SIGUSR2)
		suspend = sig == SIGUSR1;
	else
		stop = 1;
}

static int env_u32(const char *name, uint32_t *v)
{
	const char *s = getenv(name);
	char *end;
	unsigned long x;

	if (!s || !*s)
		return 0;
	errno = 0;
	x = strtoul(s, &end, 10);
	if (*end || errno || x > UINT32_MAX) {
		fprintf(stderr, "rrl_server: %s: not a number: %s\n", name, s);
		return -1;
	}
	*v = (uint32_t)x;
	return 0;
}

static int env_exempt(struct rrl_conf *c)
{
	const char *s = getenv("P53_RRL_EXEMPT");
	char buf[4096], *tok, *save = NULL;

	if (!s || !*s)
		return 0;
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (c->nexempt >= RRL_MAX_EXEMPT ||
		    rrl_prefix_parse(tok, &c->exempt[c->nexempt]) < 0) {
			fprintf(stderr, "rrl_server: P53_RRL_EXEMPT: bad prefix %s\n", tok);
			return -1;
		}
		c->nexempt++;
	}
	return 0;
}

static int rrl_from_env(struct dp_conf *conf)
{
	struct rrl_conf *c = &conf->rrl;
	uint32_t on = 1, v4, v6, lo = 0;

	rrl_conf_init(c);
	v4 = c->ipv4_prefix_length;
	v6 = c->ipv6_prefix_length;
	if (env_u32("P53_RRL", &on) < 0 ||
	    env_u32("P53_RRL_RESPONSES_PER_SECOND", &c->responses_per_second) < 0 ||
	    env_u32("P53_RRL_NODATA_PER_SECOND", &c->nodata_per_second) < 0 ||
	    env_u32("P53_RRL_NXDOMAINS_PER_SECOND", &c->nxdomains_per_second) < 0 ||
	    env_u32("P53_RRL_REFERRALS_PER_SECOND", &c->referrals_per_second) < 0 ||
	    env_u32("P53_RRL_ERRORS_PER_SECOND", &c->errors_per_second) < 0 ||
	    env_u32("P53_RRL_WINDOW", &c->window) < 0 ||
	    env_u32("P53_RRL_SLIP", &c->slip) < 0 ||
	    env_u32("P53_RRL_IPV4_PREFIX_LENGTH", &v4) < 0 ||
	    env_u32("P53_RRL_IPV6_PREFIX_LENGTH", &v6) < 0 ||
	    env_u32("P53_RRL_LOG_ONLY", &lo) < 0 || env_exempt(c) < 0)
		return -1;
	if (v4 > 32 || v6 > 128) {
		fprintf(stderr, "rrl_server: prefix lengths out of range\n");
		return -1;
	}
	c->ipv4_prefix_length = (uint8_t)v4;
	c->ipv6_prefix_length = (uint8_t)v6;
	c->log_only = lo != 0;
	conf->rrl_on = on != 0;
	return 0;
}

static int add_listen(struct pkt_services *svc, const char *arg)
{
	char buf[INET6_ADDRSTRLEN + 8], *at;

	snprintf(buf, sizeof(buf), "%s", arg);
	if ((at = strchr(buf, '@'))) {
		*at = 0;
		svc->port = (uint16_t)atoi(at + 1);
	}
	if (strchr(buf, ':') && svc->n6 < PKT_MAX_SERVICES &&
	    inet_pton(AF_INET6, buf, svc->v6[svc->n6]) == 1) {
		svc->n6++;
		return 0;
	}
	if (!strchr(buf, ':') && svc->n4 < PKT_MAX_SERVICES &&
	    inet_pton(AF_INET, buf, svc->v4[svc->n4]) == 1) {
		svc->n4++;
		return 0;
	}
	fprintf(stderr, "rrl_server: --listen %s: not an address\n", arg);
	return -1;
}

/* The top limited prefixes of the last period, one line each. */
static void log_report(void)
{
	struct rrl_report rep[8];
	unsigned n = dp_rrl_report(rep, 8);
	char buf[64];

	for (unsigned i = 0; i < n; i++)
		fprintf(stderr, "rrl_server: limited %s: %llu responses\n",
			rrl_prefix_format(&rep[i].prefix, buf, sizeof(buf)),
			(unsigned long long)rep[i].limited);
}

static void print_stats(void)
{
	struct dp_stats st;
	uint64_t lim = 0, slip = 0, drop = 0;

	dp_stats(&st);
	for (int k = 0; k < ENGINE_KIND_COUNT; k++) {
		lim += st.rrl.limited[k];
		slip += st.rrl.slipped[k];
		drop += st.rrl.dropped[k];
	}
	fprintf(stderr, "rrl_server: rx %llu answers %llu tx %llu rrl limited %llu slipped %llu "
		"dropped %llu exempt %llu cookie_exempt %llu evicted %llu\n",
		(unsigned long long)st.rx, (unsigned long long)st.answers,
		(unsigned long long)st.tx, (unsigned long long)lim, (unsigned long long)slip,
		(unsigned long long)drop, (unsigned long long)st.rrl.exempt,
		(unsigned long long)st.rrl.cookie_exempt, (unsigned long long)st.rrl.evicted);
}

/* Split the EAL string into argv (argv[0] is ours). */
static int eal_argv(char *s, char **argv)
{
	int argc = 0;

	argv[argc++] = "rrl_server";
	for (char *t = strtok(s, " "); t && argc < MAX_EAL_ARGS - 1; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	return argc;
}

static int serve(struct dp_conf *conf, char *eal, const char *snap_path)
{
	static struct cookie_secrets secrets;
	static struct cookie_box box;
	const char *hex = getenv("P53_COOKIE_SECRET");
	char *argv[MAX_EAL_ARGS], err[512] = "";
	struct snap *s = NULL;
	struct diag d;
	int argc = eal_argv(eal, argv), status = 1;

	diag_init(&d, stderr);
	if (snap_open(snap_path, &d, &s) < 0)
		return 1;
	if (hex && *hex) {
		if (cookie_secret_parse(hex, secrets.current) < 0) {
			fprintf(stderr, "rrl_server: P53_COOKIE_SECRET: want 32 hex digits\n");
			goto out;
		}
		cookie_box_set(&box, &secrets);
		conf->engine.cookies = &box;
	}
	if (dp_init(argc, argv, err, sizeof(err)) < 0 ||
	    dp_port_setup(conf, err, sizeof(err)) < 0 || dp_start(s, err, sizeof(err)) < 0) {
		fprintf(stderr, "rrl_server: %s\n", err);
		goto out;
	}
	fprintf(stderr, "rrl_server: ready (rrl %s, cookies %s)\n", conf->rrl_on ? "on" : "off",
		conf->engine.cookies ? "on" : "off");
	for (unsigned tick = 1; !stop; tick++) {
		struct timespec tenth = { 0, 100 * 1000 * 1000 };

		nanosleep(&tenth, NULL);
		if (suspend >= 0) {
			dp_rrl_suspend(suspend);
			fprintf(stderr, "rrl_server: rrl %s\n", suspend ? "suspended" : "resumed");
			suspend = -1;
		}
		if (tick % 10 == 0)
			log_report();
	}
	print_stats();
	status = 0;
out:
	dp_stop();
	snap_close(s);
	return status;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "eal", required_argument, NULL, 'e' },
		{ "listen", required_argument, NULL, 'l' },
		{ "snapshot", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct dp_conf conf;
	char *eal = NULL;
	const char *snap_path = NULL;
	int c;

	memset(&conf, 0, sizeof(conf));
	conf.svc.port = 53;
	engine_conf_init(&conf.engine);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'e')
			eal = optarg;
		else if (c == 'l' && add_listen(&conf.svc, optarg) == 0)
			continue;
		else if (c == 's')
			snap_path = optarg;
		else
			return 2;
	}
	if (!eal || !snap_path || (!conf.svc.n4 && !conf.svc.n6) || rrl_from_env(&conf) < 0) {
		fprintf(stderr, "usage: rrl_server --eal 'EAL ARGS' --listen ADDR[@PORT]... "
			"--snapshot FILE (RRL from P53_RRL_* variables)\n");
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGUSR1, on_signal);
	signal(SIGUSR2, on_signal);
	return serve(&conf, eal, snap_path);
}
