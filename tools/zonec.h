/*
 * zonec.h — the commands of pop53-zonec, callable without its main().
 */
#ifndef POP53_ZONEC_H
#define POP53_ZONEC_H

#include <stddef.h>
#include <stdint.h>

struct zonec_opts {
	const char *origin;     /* --origin: zone name for a single file */
	const char *output;     /* -o: snapshot path */
	uint64_t serial;        /* --serial: snapshot serial (0 = now) */
	int werror;             /* -Werror: warnings fail the run */
	int quiet;              /* -q: no warnings, no statistics */
	const char *sign_key;   /* compile --sign / sign --key: private key */
	const char *policy;     /* --policy: traffic-policy file (docs/policy.md) */
	const char *geo_db;     /* --geo-db: MaxMind DB of locations (SNAP_SECT_GEO) */
	const char *geo_map;    /* --geo-map: CIDR map of locations, over the database */
	const char *coords_db;  /* --coords-db: MaxMind DB of coordinates; default geo_db */
	const char *coords_map; /* --coords-map: CIDR map of coordinates (SNAP_SECT_COORDS) */
	const char *latency;    /* --latency: latency file (SNAP_SECT_LATENCY; needs policy) */
	const char *keys[16];   /* verify --key: trusted public keys */
	size_t nkeys;
};

/* Parse and check each file as one zone; print diagnostics to stderr.
 * Returns the process exit status (0 ok, 1 zone errors, 2 usage/IO). */
int zonec_check(const struct zonec_opts *o, char *const *files, size_t n);

/* Check, then compile the files (one zone each) into o->output, with the
 * sections o asks for (policy, geolocation, coordinates, latency). */
int zonec_compile(const struct zonec_opts *o, char *const *files, size_t n);

/* Print a snapshot as zone-file text on stdout. */
int zonec_dump(const struct zonec_opts *o, const char *snap);

/* Look name/type up in a snapshot and print what the lookup found. */
int zonec_lookup(const struct zonec_opts *o, const char *snap,
		 const char *name, const char *type);

/* Time open+verify of a snapshot `rounds` times; print the median in ms. */
int zonec_bench_load(const struct zonec_opts *o, const char *snap, int rounds);

/* Make an Ed25519 key pair: priv (mode 0600, never overwritten), pub. */
int zonec_keygen(const struct zonec_opts *o, const char *priv, const char *pub);

/* Sign a snapshot file with o->sign_key, in place or into o->output. */
int zonec_sign(const struct zonec_opts *o, const char *snap);

/* Verify a snapshot file and its signature against o->keys; 0 valid, 1 not. */
int zonec_verify(const struct zonec_opts *o, const char *snap);

#endif
