/*
 * zone.h — one zone in memory as parsed from master files, before compiling.
 *
 * A zone is a list of RRs in file order. Owner names and RDATA live in one
 * growing heap owned by the zone; records refer to them by offset, so
 * adding records never invalidates earlier ones. The zone keeps where each
 * record came from (file, line) for diagnostics.
 */
#ifndef POP53_ZONE_H
#define POP53_ZONE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"

struct zone;

struct zone_rr {
	uint32_t owner;   /* heap offset: absolute wire name, case as written */
	uint32_t rdata;   /* heap offset: wire RDATA, names uncompressed */
	uint32_t ttl;
	uint16_t type;
	uint16_t rclass;
	uint16_t rdlen;
	uint16_t file;    /* index for zone_file_name() */
	uint32_t line;    /* line the record starts on (0 = unknown) */
};

struct zone_parse_opts {
	const uint8_t *origin;    /* initial $ORIGIN (wire), or NULL */
	uint32_t default_ttl;     /* TTL before any $TTL/SOA; 0 = require one */
	unsigned max_include_depth; /* 0 = default (10) */
	unsigned max_errors;      /* stop after this many errors; 0 = 20 */
};

/* New empty zone whose apex is origin (wire; may be NULL and set later by
 * the parser from the first SOA). Returns NULL on allocation failure. */
struct zone *zone_new(const uint8_t *origin);

/* Free z and everything it owns. NULL is fine. */
void zone_free(struct zone *z);

/* Apex name (wire, lower-cased), or NULL if not known yet. */
const uint8_t *zone_origin(const struct zone *z);

/* Index of the zone among zones[0..n) with the longest apex that holds
 * name (wire, any case), or n when none does. */
size_t zone_enclosing(const struct zone *const *zones, size_t n, const uint8_t *name);

/* Set the apex name (copied, lower-cased). */
int zone_set_origin(struct zone *z, const uint8_t *origin);

/* Append one record; owner and rdata are copied. file may be NULL.
 * Returns 0 or P53_ENOMEM / P53_ERANGE (zone heap over 4 GiB). */
int zone_add_rr(struct zone *z, const uint8_t *owner, uint16_t type,
		uint16_t rclass, uint32_t ttl, const uint8_t *rdata,
		uint16_t rdlen, const char *file, uint32_t line);

/* The records, in the order they were added (or sorted by zone_sort). */
const struct zone_rr *zone_rrs(const struct zone *z, size_t *count);

/* Owner name / RDATA of a record of z. */
const uint8_t *zone_rr_owner(const struct zone *z, const struct zone_rr *rr);
const uint8_t *zone_rr_rdata(const struct zone *z, const struct zone_rr *rr);

/* Name of the file a record came from ("-" when unknown). */
const char *zone_file_name(const struct zone *z, uint16_t file);

/* Sort records into canonical order (RFC 4034 6.1 owner order, then type,
 * then RDATA), keeping file order among equal RDATA. */
void zone_sort(struct zone *z);

/* Parse the master file at path (RFC 1035 section 5 with $ORIGIN, $TTL,
 * $INCLUDE, $GENERATE) into a new zone. Errors and warnings go to d with
 * file:line:col. A file with any error gives no zone (whole rejection).
 * Returns 0 and *out, or P53_EIO / P53_ESYNTAX / P53_ENOMEM. */
int zone_parse_file(const char *path, const struct zone_parse_opts *opts,
		    struct diag *d, struct zone **out);

/* Same as zone_parse_file for text held in memory; `name` is used in
 * messages and to resolve relative $INCLUDE paths (may be NULL). */
int zone_parse_string(const char *text, size_t len, const char *name,
		      const struct zone_parse_opts *opts, struct diag *d,
		      struct zone **out);

struct zone_check_opts {
	uint32_t policy_ttl_max;  /* lint: max TTL on policy names (default 300) */
	const uint8_t *const *policy_names; /* owners that carry traffic policies */
	size_t policy_name_count;
};

/* Validate z (errors: CNAME beside other data, CNAME at the apex, missing
 * SOA/NS at the apex, more than one SOA, data outside the zone, missing
 * glue, wrong class, DNAME with data below) and lint it (warnings).
 * opts may be NULL. Returns 0, or P53_EZONE if any error was reported. */
int zone_check(const struct zone *z, const struct zone_check_opts *opts,
	       struct diag *d);

/* Print z as a master file (absolute names, one record per line). */
int zone_print(const struct zone *z, FILE *f);

#endif
