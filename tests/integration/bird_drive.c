/*
 * bird_drive.c — test driver for bgp/ (tests/integration/bird_anycast.sh).
 *
 * Holds the fail-safe interface and a bgp_anycast on BIRD's control socket,
 * ticks every 20 ms, and takes one command per line on stdin, answering
 * one "ok ..." or "err ..." line each:
 *   up | down            health verdict
 *   drain | undrain      operator drain
 *   status               phase, applied, connection, counters, last error
 *   protocols            one "proto NAME TYPE STATE INFO" line per protocol
 *   raw COMMAND          a BIRD command, answered "ok CODE"
 *   wait-applied MS      tick until BIRD confirmed the phase (or MS passed)
 *   quit
 * Usage: bird_drive --socket PATH --state FILE [--hold IFNAME|-]
 *                   [--drain-wait MS] [--timeout MS] [--retry MS]
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "anycast.h"
#include "error.h"
#include "failsafe.h"

struct drive {
	struct bgp_anycast *a;
	struct bgp_failsafe *f;
	char in[4096];
	size_t len;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void answer(int rc, const char *what)
{
	if (rc < 0)
		printf("err %s: %s\n", what, p53_strerror(rc));
	else
		printf("ok %s\n", what);
}

static void status(struct drive *d)
{
	struct bgp_anycast_status st;

	bgp_anycast_status(d->a, now_ms(), &st);
	printf("ok phase=%s applied=%d connected=%d connects=%llu changes=%llu "
	       "errors=%llu version=%s drain_left=%llu error=%s\n",
	       bgp_phase_name(st.phase), st.applied, st.bird_connected,
	       (unsigned long long)st.connects, (unsigned long long)st.changes,
	       (unsigned long long)st.bird_errors, st.bird_version,
	       (unsigned long long)st.drain_left_ms, st.last_error);
}

static void protocols(struct drive *d)
{
	struct bgp_proto p[64];
	int n = bgp_anycast_protocols(d->a, p, 64);

	for (int i = 0; i < n && i < 64; i++)
		printf("proto %s %s %s %s\n", p[i].name, p[i].proto, p[i].state,
		       *p[i].info ? p[i].info : "-");
	answer(n, "protocols");
}

static void raw(struct drive *d, const char *cmd)
{
	struct bgp_reply r;
	int rc = bgp_bird_cmd(bgp_anycast_bird(d->a), cmd, &r);

	if (rc >= 0)
		printf("ok %04d %s\n", rc, r.nlines ? r.lines[r.nlines - 1].text : "");
	else
		answer(rc, "raw");
	bgp_reply_free(&r);
}

static void wait_applied(struct drive *d, unsigned ms)
{
	uint64_t t0 = now_ms();
	struct bgp_anycast_status st;

	for (;;) {
		bgp_anycast_tick(d->a, now_ms());
		bgp_anycast_status(d->a, now_ms(), &st);
		if (st.applied) {
			printf("ok applied %llu\n", (unsigned long long)(now_ms() - t0));
			return;
		}
		if (now_ms() - t0 >= ms) {
			printf("err not applied: %s\n", st.last_error);
			return;
		}
		usleep(20000);
	}
}

/* Returns 0 to go on, 1 on quit. */
static int command(struct drive *d, char *line)
{
	uint64_t t = now_ms();

	if (!strcmp(line, "up"))
		answer(bgp_anycast_set_healthy(d->a, true, t), "up");
	else if (!strcmp(line, "down"))
		answer(bgp_anycast_set_healthy(d->a, false, t), "down");
	else if (!strcmp(line, "drain"))
		answer(bgp_anycast_drain(d->a, true, t), "drain");
	else if (!strcmp(line, "undrain"))
		answer(bgp_anycast_drain(d->a, false, t), "undrain");
	else if (!strcmp(line, "status"))
		status(d);
	else if (!strcmp(line, "protocols"))
		protocols(d);
	else if (!strncmp(line, "raw ", 4))
		raw(d, line + 4);
	else if (!strncmp(line, "wait-applied ", 13))
		wait_applied(d, (unsigned)atoi(line + 13));
	else if (!strcmp(line, "quit"))
		return 1;
	else
		printf("err unknown command '%s'\n", line);
	fflush(stdout);
	return 0;
}

/* Read what stdin has and run every complete line. Returns 1 on quit/EOF. */
static int input(struct drive *d)
{
	ssize_t n = read(0, d->in + d->len, sizeof(d->in) - 1 - d->len);
	char *nl;

	if (n <= 0)
		return n < 0 && errno == EINTR ? 0 : 1;
	d->len += (size_t)n;
	while ((nl = memchr(d->in, '\n', d->len))) {
		size_t used = (size_t)(nl - d->in) + 1;

		*nl = '\0';
		if (command(d, d->in))
			return 1;
		memmove(d->in, d->in + used, d->len - used);
		d->len -= used;
	}
	if (d->len == sizeof(d->in) - 1)
		d->len = 0;   /* an overlong line: drop it */
	return 0;
}

static int run(struct drive *d)
{
	char err[256];

	printf("ready\n");
	fflush(stdout);
	for (;;) {
		struct pollfd p = { .fd = 0, .events = POLLIN };

		if (poll(&p, 1, 20) > 0 && input(d))
			return 0;
		bgp_anycast_tick(d->a, now_ms());
		if (d->f && bgp_failsafe_check(d->f, err, sizeof(err)) < 0)
			fprintf(stderr, "bird_drive: %s\n", err);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, 0, 's' },
		{ "state", required_argument, 0, 'f' },
		{ "hold", required_argument, 0, 'H' },
		{ "drain-wait", required_argument, 0, 'w' },
		{ "timeout", required_argument, 0, 't' },
		{ "retry", required_argument, 0, 'r' },
		{ 0, 0, 0, 0 }
	};
	struct bgp_anycast_conf conf = { .timeout_ms = 500, .retry_ms = 200 };
	const char *hold = BGP_FAILSAFE_IFNAME;
	struct drive d = { 0 };
	char err[256];
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': conf.bird_socket = optarg; break;
		case 'f': conf.state_file = optarg; break;
		case 'H': hold = optarg; break;
		case 'w': conf.drain_wait_ms = (unsigned)atoi(optarg); break;
		case 't': conf.timeout_ms = (unsigned)atoi(optarg); break;
		case 'r': conf.retry_ms = (unsigned)atoi(optarg); break;
		default:
			fprintf(stderr, "usage: bird_drive --socket PATH --state FILE "
				"[--hold IFNAME|-] [--drain-wait MS] [--timeout MS] [--retry MS]\n");
			return 2;
		}
	}
	/* As pop53d must: withdrawn in BIRD first, then the interface. */
	rc = bgp_anycast_open(&d.a, &conf, err, sizeof(err));
	if (rc == 0 && strcmp(hold, "-") != 0)
		rc = bgp_failsafe_open(&d.f, hold, err, sizeof(err));
	if (rc == 0)
		rc = run(&d);
	else
		fprintf(stderr, "bird_drive: %s\n", err);
	bgp_anycast_close(d.a);
	bgp_failsafe_close(d.f);
	return rc < 0 ? 1 : 0;
}
