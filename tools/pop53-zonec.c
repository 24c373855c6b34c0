/* pop53-zonec — check and compile zone files into pop53 snapshots. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zonec.h"

static void usage(FILE *f)
{
	fputs("usage: pop53-zonec check [--origin NAME] [-Werror] FILE...\n"
	      "       pop53-zonec compile -o OUT.snap [--origin NAME] [--serial N] [--sign PRIV]\n"
	      "                           [--policy POLICY.yaml] [--latency FILE]\n"
	      "                           [--geo-db DB.mmdb] [--geo-map FILE]\n"
	      "                           [--coords-db DB.mmdb] [--coords-map FILE] [-Werror] FILE...\n"
	      "       pop53-zonec dump SNAPSHOT\n"
	      "       pop53-zonec lookup SNAPSHOT NAME [TYPE]\n"
	      "       pop53-zonec bench-load SNAPSHOT [ROUNDS]\n"
	      "       pop53-zonec keygen PRIV PUB                    new Ed25519 controller key pair\n"
	      "       pop53-zonec sign --key PRIV [-o OUT] SNAPSHOT   (in place without -o)\n"
	      "       pop53-zonec verify --key PUB [--key PUB]... SNAPSHOT\n"
	      "Each FILE is one zone; its name comes from its SOA owner, $ORIGIN or --origin.\n"
	      "compile: --geo-db/--geo-map make the client -> location table (a map overrides\n"
	      "the database), --coords-db/--coords-map the client -> coordinates table\n"
	      "(geoproximity; without them the --geo-db file's coordinates, if it has any),\n"
	      "--latency the client -> latency table for the policy's regions (docs/policy.md).\n",
	      f);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "origin", required_argument, NULL, 'O' },
		{ "output", required_argument, NULL, 'o' },
		{ "serial", required_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "sign", required_argument, NULL, 'S' },
		{ "key", required_argument, NULL, 'k' },
		{ "policy", required_argument, NULL, 'P' },
		{ "geo-db", required_argument, NULL, 'G' },
		{ "geo-map", required_argument, NULL, 'M' },
		{ "coords-db", required_argument, NULL, 'C' },
		{ "coords-map", required_argument, NULL, 'N' },
		{ "latency", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct zonec_opts o = { 0 };
	const char *cmd;
	char *end;
	int c;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "o:qW:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'O': o.origin = optarg; break;
		case 'o': o.output = optarg; break;
		case 'q': o.quiet = 1; break;
		case 'S': o.sign_key = optarg; break;
		case 'P': o.policy = optarg; break;
		case 'G': o.geo_db = optarg; break;
		case 'M': o.geo_map = optarg; break;
		case 'C': o.coords_db = optarg; break;
		case 'N': o.coords_map = optarg; break;
		case 'L': o.latency = optarg; break;
		case 'k':
			if (o.nkeys == sizeof(o.keys) / sizeof(o.keys[0])) {
				fprintf(stderr, "pop53-zonec: at most %zu --key\n", o.nkeys);
				return 2;
			}
			o.keys[o.nkeys++] = optarg;
			break;
		case 'W':
			if (strcmp(optarg, "error") != 0) {
				fprintf(stderr, "pop53-zonec: unknown option -W%s\n", optarg);
				return 2;
			}
			o.werror = 1;
			break;
		case 's':
			o.serial = strtoull(optarg, &end, 10);
			if (*end || !*optarg) {
				fprintf(stderr, "pop53-zonec: --serial wants a number, got '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	argv += optind;
	argc -= optind;
	if (!strcmp(cmd, "check") && argc >= 1)
		return zonec_check(&o, argv, (size_t)argc);
	if (!strcmp(cmd, "compile") && argc >= 1 && o.output)
		return zonec_compile(&o, argv, (size_t)argc);
	if (!strcmp(cmd, "dump") && argc == 1)
		return zonec_dump(&o, argv[0]);
	if (!strcmp(cmd, "lookup") && (argc == 2 || argc == 3))
		return zonec_lookup(&o, argv[0], argv[1], argc == 3 ? argv[2] : "A");
	if (!strcmp(cmd, "keygen") && argc == 2)
		return zonec_keygen(&o, argv[0], argv[1]);
	if (!strcmp(cmd, "sign") && argc == 1 && o.nkeys == 1) {
		o.sign_key = o.keys[0];
		return zonec_sign(&o, argv[0]);
	}
	if (!strcmp(cmd, "verify") && argc == 1 && o.nkeys >= 1)
		return zonec_verify(&o, argv[0]);
	if (!strcmp(cmd, "bench-load") && (argc == 1 || argc == 2))
		return zonec_bench_load(&o, argv[0], argc == 2 ? atoi(argv[1]) : 5);
	usage(stderr);
	return 2;
}
