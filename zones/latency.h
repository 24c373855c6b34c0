/*
 * latency.h — the latency table of latency-routed traffic policies: client
 * prefix -> one measured value per region (lower is better), as the
 * controller publishes it; it travels as the snapshot section
 * SNAP_SECT_LATENCY.
 *
 * Layout (little-endian, 8-byte aligned, offsets from the blob's start):
 *
 *   struct latency_header
 *   rows:  nrows x nregions uint32 values (POLICY_NO_LATENCY = unknown)
 *   geo:   a geo table blob (zones/geo.h) whose values are row indexes
 *
 * Region i of a row is the policy file's region i (`latency: regions:`);
 * a snapshot whose table has another region count than its policy is
 * refused. latency_open verifies everything latency_lookup can reach.
 */
#ifndef POP53_LATENCY_H
#define POP53_LATENCY_H

#include <stddef.h>
#include <stdint.h>

#include "geo.h"

#define LATENCY_MAGIC          "P53LATNC"
#define LATENCY_VERSION_MAJOR  1
#define LATENCY_VERSION_MINOR  0
#define LATENCY_MAX_REGIONS    1024   /* == POLICY_MAX_REGIONS */
#define LATENCY_UNKNOWN        UINT32_MAX   /* == POLICY_NO_LATENCY */

struct diag;

struct latency_header {
	char magic[8];              /* LATENCY_MAGIC, no NUL */
	uint16_t version_major;
	uint16_t version_minor;
	uint32_t nregions;          /* 1..LATENCY_MAX_REGIONS */
	uint32_t nrows;
	uint32_t rows;              /* offset of the rows, a multiple of 8 */
	uint32_t geo;               /* offset of the geo blob, a multiple of 8 */
	uint32_t geo_len;
	uint32_t reserved[2];       /* zero */
};

/* An opened table: a view into the verified blob, which the caller keeps
 * alive and unchanged while it is used. */
struct latency_table {
	const uint32_t *rows;
	uint32_t nregions;
	uint32_t nrows;
	struct geo_table geo;
};

/* Verify blob (len bytes, 8-byte aligned) and make *t a view of it.
 * 0, or P53_EINVAL (misaligned), P53_EVERSION, P53_EFORMAT (a reason in
 * d, which may be NULL). No allocation. */
int latency_open(const void *blob, size_t len, struct latency_table *t, struct diag *d);

/* The row for a client address (4 bytes for AF_INET, 16 for AF_INET6):
 * nregions values, and the matched prefix length in *matched (the ECS
 * scope of an answer that used it). NULL (and *matched 0) when no prefix
 * matches. Query path: no allocation, locks or system calls. */
const uint32_t *latency_lookup(const struct latency_table *t, int family, const uint8_t *addr,
			       unsigned *matched);

/* ---- building (pop53-zonec, the controller) ------------------------------- */

/* Compile a latency file (docs/policy.md, "Latency tables") for the given
 * regions (names in row order) into a blob (malloc'd, *out, *len; the
 * caller frees it). Errors are reported with file:line:col in d:
 * P53_ESYNTAX, P53_EINVAL (unknown region, value out of range),
 * P53_ERANGE (a table over 4 GiB), P53_EIO, P53_ENOMEM. */
int latency_compile_file(const char *path, const char *const *regions, uint32_t nregions,
			 struct diag *d, uint8_t **out, size_t *len);

#endif
