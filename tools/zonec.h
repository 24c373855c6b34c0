/*
 * zonec.h — the commands of pop53-zonec, callable without its main().
 */
#ifndef POP53_ZONEC_H
#define POP53_ZONEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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
	const char *keys[16];   /* verify --key: trusted public keys; dnssec-sign --key */
	size_t nkeys;
	/* DNSSEC (docs/dnssec-signing.md) */
	const char *dnssec_keys[16];  /* compile --dnssec-key: sign while compiling */
	size_t ndnssec_keys;
	const char *publish_keys[16]; /* --publish-key / --dnssec-publish-key:
				       * DNSKEY published, no signatures */
	size_t npublish_keys;
	int cds;                /* bit 1 --cds (or --cds-key), bit 2 --cds-delete */
	const char *cds_keys[16];     /* --cds-key: the keys CDS/CDNSKEY name */
	size_t ncds_keys;
	unsigned alg;           /* dnssec-keygen --algorithm (0 = 13) */
	int role;               /* dnssec-keygen --ksk/--zsk/--csk (enum dnssec_role) */
	const char *dir;        /* dnssec-keygen --dir */
	int nsec3, opt_out;     /* --nsec3, --opt-out */
	const char *inception;  /* --inception: YYYYMMDDHHmmSS or seconds */
	uint32_t validity_days; /* --validity (0 = 14) */
	unsigned threads;       /* --threads: signing threads (0 = 2) */
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

/* Make a DNSSEC key for zone name `zone` into o->dir; print its file,
 * DNSKEY and DS. Exit status 0, 1 (refused) or 2 (usage). */
int zonec_dnssec_keygen(const struct zonec_opts *o, const char *zone);

/* Sign the zone file with the keys o->keys (publishing o->publish_keys,
 * CDS/CDNSKEY as o->cds and o->cds_keys say) and write the signed zone as
 * text to o->output (stdout without). Exit status 0, 1 or 2. */
int zonec_dnssec_sign(const struct zonec_opts *o, const char *file);

struct zone;
struct diag;
struct snap_section_in;
struct zonec_keys;

/* compile --dnssec-key: load o->dnssec_keys (and the publish-only and CDS
 * keys) into *out (zonec_dnssec_free). 0, 1 after errors (reported to d),
 * 2 for bad options. */
int zonec_dnssec_load(const struct zonec_opts *o, struct diag *d, struct zonec_keys **out);

/* Whether one of the signing keys k holds belongs to zone z. */
bool zonec_dnssec_signs(const struct zonec_keys *k, const struct zone *z);

/* Sign each of the n zones that one of k's keys belongs to (replacing
 * z[i]), with that zone's publish-only and CDS keys; every key must belong
 * to a zone that is signed. With policy (the SNAP_SECT_POLICY section, its
 * placeholders already in the zones), then sign the answers of its records
 * in those zones into *sig (SNAP_SECT_POLICY_SIG, data malloc'd; kind 0
 * when none is in a signed zone). 0, 1 after errors (reported to d), 2 for
 * bad options. */
int zonec_dnssec_sign_zones(const struct zonec_opts *o, struct zonec_keys *k, struct zone **z,
			    size_t n, const struct snap_section_in *policy, struct diag *d,
			    struct snap_section_in *sig);

void zonec_dnssec_free(struct zonec_keys *k);

/* After a dump: a comment line with the snapshot's earliest RRSIG
 * expiration (unix seconds, from its header; 0 = unsigned: no line).
 * 0, or -1 when writing to f failed. */
int zonec_dnssec_expiry_note(uint32_t expiry, FILE *f);

#endif
