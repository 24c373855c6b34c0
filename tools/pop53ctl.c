/* pop53ctl — talk to a running pop53d over its control socket. main()
 * only parses arguments; controlplane/ctl_sock.c does the rest. */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_sock.h"
#include "error.h"

#define DEFAULT_SOCKET "/run/pop53/control.sock"

static void usage(FILE *f)
{
	fputs("usage: pop53ctl [-s SOCKET] [--json] [--timeout-ms N] COMMAND\n"
	      "commands:\n"
	      "  status               what is served (serial, zones), health, drained\n"
	      "  stats                query, response, drop, push and reload counters\n"
	      "  load FILE [--force]  verify, keep and serve a snapshot file (--force: even\n"
	      "                       when its serial is not newer than the one served)\n"
	      "  drain | undrain      mark this node drained (withdrawn) or not\n"
	      "  reload-config        re-read pop53d's configuration file\n"
	      "  fault stall:MS | stall:WORKER:MS | hang:MS\n"
	      "                       tests and demos (pop53d --fault-injection 1): the\n"
	      "                       workers (or one DPDK worker) stop answering, or the\n"
	      "                       event loop stops (hang), for MS ms\n"
	      "  vote CHECK SOURCE_ID healthy|unhealthy TTL_MS\n"
	      "                       another PoP's vote on a policy health check, kept\n"
	      "                       for TTL_MS ms (0 withdraws SOURCE_ID's vote)\n"
	      "-s SOCKET is pop53d's control socket (default " DEFAULT_SOCKET ").\n"
	      "--json prints the daemon's JSON answer as is.\n"
	      "Exit status: 0 done, 1 refused or failed, 2 usage error or no daemon.\n", f);
}

/* "vote CHECK SOURCE_ID healthy|unhealthy TTL_MS" (a[0] is "vote"). */
static int vote_request(char **a, char **req, char *err, size_t errlen)
{
	unsigned long long source, ttl;
	char *e1, *e2;
	bool up = !strcmp(a[3], "healthy");

	source = strtoull(a[2], &e1, 10);
	ttl = strtoull(a[4], &e2, 10);
	if (a[2][0] < '0' || a[2][0] > '9' || *e1 || source > UINT32_MAX ||
	    a[4][0] < '0' || a[4][0] > '9' || *e2 || ttl > UINT32_MAX ||
	    (!up && strcmp(a[3], "unhealthy"))) {
		snprintf(err, errlen, "vote CHECK SOURCE_ID healthy|unhealthy TTL_MS (SOURCE_ID "
			 "and TTL_MS 0..4294967295)");
		return P53_EINVAL;
	}
	return ctl_sock_vote_request(a[1], (uint32_t)source, up, (uint32_t)ttl, req, err,
				     errlen);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'f' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_SOCKET;
	bool json = false, force = false;
	unsigned long timeout = 0;
	char err[512], *req, *reply, *end;
	int c, ret;

	while ((c = getopt_long(argc, argv, "s:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 's': path = optarg; break;
		case 'j': json = true; break;
		case 'f': force = true; break;
		case 't':
			timeout = strtoul(optarg, &end, 10);
			if (!*optarg || *end || timeout == 0 || timeout > 3600000) {
				fprintf(stderr, "pop53ctl: --timeout-ms wants 1..3600000, got '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc && !strcmp(argv[optind], "vote")) {
		if (argc - optind != 5 || force) {
			usage(stderr);
			return 2;
		}
		ret = vote_request(argv + optind, &req, err, sizeof(err));
	} else if (optind >= argc || argc - optind > 2 ||
		   (argc - optind == 2) != (!strcmp(argv[optind], "load") ||
					    !strcmp(argv[optind], "fault")) ||
		   (force && strcmp(argv[optind], "load"))) {
		usage(stderr);
		return 2;
	} else {
		ret = ctl_sock_request(argv[optind], argc - optind == 2 ? argv[optind + 1] : NULL,
				       force, &req, err, sizeof(err));
	}
	if (ret < 0) {
		fprintf(stderr, "pop53ctl: %s\n", err);
		return 2;
	}
	/* A load verifies and writes a big snapshot: give it time. */
	if (!timeout)
		timeout = strcmp(argv[optind], "load") ? 10000 : 300000;
	ret = ctl_sock_call(path, req, (unsigned)timeout, &reply, err, sizeof(err));
	free(req);
	if (ret < 0) {
		fprintf(stderr, "pop53ctl: %s\n", err);
		return ret == P53_ETIMEOUT ? 1 : 2;
	}
	if (json) {
		puts(reply);
		ret = ctl_sock_reply_ok(reply);
	} else {
		ret = ctl_sock_print_human(reply, stdout);
	}
	if (ret < 0)
		fprintf(stderr, "pop53ctl: the daemon's answer is not JSON: %s\n", reply);
	free(reply);
	return ret == 1 ? 0 : 1;
}
