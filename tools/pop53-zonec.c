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
	      "       pop53-zonec dnssec-keygen [--algorithm 13|15] [--ksk|--zsk|--csk] [--dir DIR] ZONE\n"
	      "       pop53-zonec dnssec-sign --key FILE [--key FILE]... [--publish-key FILE]...\n"
	      "                           [--cds | --cds-key FILE... | --cds-delete]\n"
	      "                           [--nsec3 [--opt-out]] [--inception T] [--validity DAYS]\n"
	      "                           [--threads N] [-o OUT.zone] ZONEFILE\n"
	      "Each FILE is one zone; its name comes from its SOA owner, $ORIGIN or --origin.\n"
	      "compile: --geo-db/--geo-map make the client -> location table (a map overrides\n"
	      "the database), --coords-db/--coords-map the client -> coordinates table\n"
	      "(geoproximity; without them the --geo-db file's coordinates, if it has any),\n"
	      "--latency the client -> latency table for the policy's regions (docs/policy.md).\n"
	      "DNSSEC (docs/dnssec-signing.md): dnssec-keygen makes a key file (default algorithm 13,\n"
	      "a CSK) and prints its DNSKEY and DS; dnssec-sign writes the signed zone as text\n"
	      "(stdout without -o); compile --dnssec-key FILE (repeatable; also --nsec3,\n"
	      "--opt-out, --inception, --validity) signs each zone with its keys first.\n"
	      "Rollovers: --publish-key (compile: --dnssec-publish-key) publishes a DNSKEY\n"
	      "that signs nothing; --cds adds CDS/CDNSKEY for the signing KSKs, --cds-key for\n"
	      "the keys named, --cds-delete the RFC 8078 delete form.\n",
	      f);
}

/* A repeatable option naming a file, at most 16 times. */
static int push(const char **list, size_t *n, const char *opt, const char *arg)
{
	if (*n == 16) {
		fprintf(stderr, "pop53-zonec: at most 16 --%s\n", opt);
		return -1;
	}
	list[(*n)++] = arg;
	return 0;
}

/* --algorithm, --validity, --threads: unsigned numbers. */
static int number(int c, const char *arg, struct zonec_opts *o)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (!*arg || *end || v > 100000) {
		fprintf(stderr, "pop53-zonec: --%s wants a number, got '%s'\n",
			c == 'A' ? "algorithm" : c == 'V' ? "validity" : "threads", arg);
		return -1;
	}
	if (c == 'A')
		o->alg = (unsigned)v;
	else if (c == 'V')
		o->validity_days = (uint32_t)v;
	else
		o->threads = (unsigned)v;
	return 0;
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
		{ "dnssec-key", required_argument, NULL, 'D' },
		{ "publish-key", required_argument, NULL, 'p' },
		{ "dnssec-publish-key", required_argument, NULL, 'p' },
		{ "cds", no_argument, NULL, 'X' },
		{ "cds-key", required_argument, NULL, 'x' },
		{ "cds-delete", no_argument, NULL, 'Y' },
		{ "algorithm", required_argument, NULL, 'A' },
		{ "ksk", no_argument, NULL, 'K' },
		{ "zsk", no_argument, NULL, 'Z' },
		{ "csk", no_argument, NULL, 'c' },
		{ "dir", required_argument, NULL, 'd' },
		{ "nsec3", no_argument, NULL, '3' },
		{ "opt-out", no_argument, NULL, 'U' },
		{ "inception", required_argument, NULL, 'I' },
		{ "validity", required_argument, NULL, 'V' },
		{ "threads", required_argument, NULL, 'T' },
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
		case 'D':
			if (o.ndnssec_keys == 16) {
				fprintf(stderr, "pop53-zonec: at most 16 --dnssec-key\n");
				return 2;
			}
			o.dnssec_keys[o.ndnssec_keys++] = optarg;
			break;
		case 'p':
			if (push(o.publish_keys, &o.npublish_keys, "publish-key", optarg) < 0)
				return 2;
			break;
		case 'x':
			if (push(o.cds_keys, &o.ncds_keys, "cds-key", optarg) < 0)
				return 2;
			break;
		case 'X': o.cds |= 1; break;
		case 'Y': o.cds |= 2; break;
		case 'K': o.role = 1; break;    /* enum dnssec_role */
		case 'Z': o.role = 2; break;
		case 'c': o.role = 0; break;
		case 'd': o.dir = optarg; break;
		case '3': o.nsec3 = 1; break;
		case 'U': o.opt_out = 1; break;
		case 'I': o.inception = optarg; break;
		case 'A': case 'V': case 'T':
			if (number(c, optarg, &o) < 0)
				return 2;
			break;
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
	if (!strcmp(cmd, "dnssec-keygen") && argc == 1)
		return zonec_dnssec_keygen(&o, argv[0]);
	if (!strcmp(cmd, "dnssec-sign") && argc == 1 && o.nkeys >= 1)
		return zonec_dnssec_sign(&o, argv[0]);
	if (!strcmp(cmd, "bench-load") && (argc == 1 || argc == 2))
		return zonec_bench_load(&o, argv[0], argc == 2 ? atoi(argv[1]) : 5);
	usage(stderr);
	return 2;
}
