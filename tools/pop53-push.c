/* pop53-push — sign a snapshot and push it to a fleet of pop53d nodes. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "push.h"

static void usage(FILE *f)
{
	fputs("usage: pop53-push --key CONTROLLER.key --cert CLIENT.crt --client-key CLIENT.key\n"
	      "                  --ca NODES-CA.crt [--force] [--timeout-ms N] [--retries N]\n"
	      "                  [--parallel N] [--sign | --no-sign] [--json] SNAPSHOT NODE...\n"
	      "NODE is host:port, [v6addr]:port or https://host:port. The snapshot is signed with\n"
	      "--key (unless it carries that key's signature already, or --no-sign: pushed as is),\n"
	      "then PUT to every node's /v1/snapshot over mutual TLS. Exit 0 when every node\n"
	      "serves it, 1 when some did not take it, 2 for usage errors or an unusable snapshot.\n",
	      f);
}

static int number(const char *opt, const char *arg, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (!*arg || *end || v > max) {
		fprintf(stderr, "pop53-push: --%s wants a number up to %u, got '%s'\n",
			opt, max, arg);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

/* Files named by options must be readable: say which one is not before
 * any node is contacted. */
static int readable(const char *opt, const char *path)
{
	if (!path) {
		fprintf(stderr, "pop53-push: --%s is required\n", opt);
		return -1;
	}
	if (access(path, R_OK) < 0) {
		fprintf(stderr, "pop53-push: --%s %s: cannot read it\n", opt, path);
		return -1;
	}
	return 0;
}

static int parse(int argc, char **argv, struct push_opts *o, int *json)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "cert", required_argument, NULL, 'c' },
		{ "client-key", required_argument, NULL, 'K' },
		{ "ca", required_argument, NULL, 'a' },
		{ "force", no_argument, NULL, 'f' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "retries", required_argument, NULL, 'r' },
		{ "parallel", required_argument, NULL, 'p' },
		{ "sign", no_argument, NULL, 's' },
		{ "no-sign", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': o->key = optarg; break;
		case 'c': o->cert = optarg; break;
		case 'K': o->client_key = optarg; break;
		case 'a': o->ca = optarg; break;
		case 'f': o->force = true; break;
		case 's': o->no_sign = false; break;
		case 'n': o->no_sign = true; break;
		case 'j': *json = 1; break;
		case 't':
			if (number("timeout-ms", optarg, 3600000, &o->timeout_ms) < 0 ||
			    !o->timeout_ms)
				return -1;
			break;
		case 'r':
			if (number("retries", optarg, 20, &o->retries) < 0)
				return -1;
			break;
		case 'p':
			if (number("parallel", optarg, 1024, &o->parallel) < 0 ||
			    !o->parallel)
				return -1;
			break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	if (argc - optind < 2) {
		fprintf(stderr, "pop53-push: need a SNAPSHOT and at least one NODE\n");
		return -1;
	}
	if ((!o->no_sign && readable("key", o->key) < 0) ||
	    readable("cert", o->cert) < 0 || readable("client-key", o->client_key) < 0 ||
	    readable("ca", o->ca) < 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct push_opts o = { .timeout_ms = 30000, .retries = 3, .parallel = 16 };
	struct push_node *nodes = NULL;
	uint8_t *blob = NULL;
	uint64_t serial = 0;
	size_t len, n;
	struct diag d;
	char err[256];
	int json = 0, status = 2, failed;

	if (parse(argc, argv, &o, &json) < 0) {
		usage(stderr);
		return 2;
	}
	n = (size_t)(argc - optind - 1);
	if (!(nodes = calloc(n, sizeof(*nodes))))
		return 2;
	for (size_t i = 0; i < n; i++) {
		if (push_node_init(&nodes[i], argv[optind + 1 + i], o.force, err,
				   sizeof(err)) < 0) {
			fprintf(stderr, "pop53-push: %s\n", err);
			goto done;
		}
	}
	diag_init(&d, stderr);
	if (push_prepare(&o, argv[optind], &d, &blob, &len, &serial) < 0)
		goto done;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (failed = push_run(&o, blob, len, serial, nodes, n)) < 0) {
		fprintf(stderr, "pop53-push: cannot start libcurl\n");
		goto done;
	}
	if (json)
		push_print_json(stdout, nodes, n, serial);
	else
		push_print_table(stdout, nodes, n, serial);
	status = failed ? 1 : 0;
	curl_global_cleanup();
done:
	free(blob);
	free(nodes);
	return status;
}
