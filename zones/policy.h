/*
 * policy.h — traffic policies: the policy file, its compiled form, and the
 * per-query evaluation.
 *
 * A policy file (YAML, docs/policy.md) binds owner names and an RR type to
 * a tree of policies (simple, weighted, latency, geolocation, geoproximity,
 * failover, multivalue) whose leaves are endpoints (an address, a name
 * answered as CNAME, or TXT data), and defines the health checks and the
 * latency regions those refer to. policy_compile* turns it into one
 * position-independent, little-endian blob (layout in policy_format.h) that
 * becomes a snapshot section; policy_open validates such a blob completely
 * before anything reads it; policy_eval picks the answer of one query with
 * no allocation, lock, log or system call and bounded work.
 */
#ifndef POP53_POLICY_H
#define POP53_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "yconf.h"

struct policy;   /* an opened, validated blob; opaque */

/* Limits (the compiler refuses more, policy_open refuses a blob with more). */
#define POLICY_MAX_DEPTH      8        /* nested policies, the record's own included */
#define POLICY_MAX_MEMBERS    1024     /* members of one policy */
#define POLICY_MAX_TREE       4096     /* members in one record's whole tree */
#define POLICY_MAX_ANSWER     32       /* endpoints in one answer */
#define POLICY_MAX_RECORDS    (1u << 22)
#define POLICY_MAX_CHECKS     65536
#define POLICY_MAX_REGIONS    1024
#define POLICY_MAX_WEIGHT     1000000
#define POLICY_TTL_WARN       300      /* client-dependent answers: warn above */
#define POLICY_NO_LATENCY     UINT32_MAX

/* Endpoint type of an `alias:` member (RDATA: the target's wire name): an
 * A or AAAA record answered with the target's own addresses, as Route 53's
 * alias records; the only way to point a zone apex elsewhere. The value
 * is in the private-use type range and never reaches the wire. */
#define POLICY_ALIAS          65401

/* ---- compiling ----------------------------------------------------------- */

/* Compile the policy file at path into a malloc'd blob (*blob, *len; the
 * caller frees it with free()). Every mistake is reported in d as
 * "file:line:col: error: ..." (lint findings as warnings) and the blob is
 * not produced. Returns 0, P53_EIO, P53_ESYNTAX (any error in the file),
 * P53_ELIMIT or P53_ENOMEM. */
int policy_compile_file(const char *path, struct diag *d, uint8_t **blob, size_t *len);

/* The same for a file already in memory (len bytes; name for messages). */
int policy_compile_text(const char *name, const char *text, size_t len, struct diag *d,
			uint8_t **blob, size_t *blob_len);

/* The same for a document already loaded with yconf (the caller keeps and
 * frees doc). */
int policy_compile(const struct yconf_doc *doc, struct diag *d, uint8_t **blob, size_t *len);

/* ---- opening ------------------------------------------------------------- */

/* Validate blob (len bytes, 8-byte aligned, kept alive by the caller until
 * policy_close) and wrap it without copying into *out. Everything the
 * evaluation and the accessors read is checked here: bounds, counts,
 * offsets, names, RDATA, tree shape and depth, references, limits.
 * Returns 0, P53_EINVAL (NULL or misaligned), P53_EFORMAT (anything wrong,
 * the reason in d if d is not NULL), P53_EVERSION or P53_ENOMEM. */
int policy_open(const void *blob, size_t len, struct diag *d, struct policy **out);

/* Release the wrapper (not the blob). NULL is fine. */
void policy_close(struct policy *p);

/* ---- records (owner name + type -> policy tree) -------------------------- */

struct policy_record {
	const uint8_t *name;   /* lower-cased wire name, inside the blob */
	uint16_t name_len;
	uint16_t type;         /* RRTYPE_A, _AAAA, _CNAME or _TXT */
	uint32_t ttl;          /* of every RR of the answer */
	bool client;           /* the answer may depend on where the client is */
};

uint32_t policy_record_count(const struct policy *p);

/* Record i (< policy_record_count) into *out. */
void policy_record_get(const struct policy *p, uint32_t i, struct policy_record *out);

/* Record i (< policy_record_count) as an answer needs it: type, TTL and
 * client, read from the lines policy_prefetch loads (name NULL, name_len
 * 0). */
void policy_record_brief(const struct policy *p, uint32_t i, struct policy_record *out);

/* Whether record i's answer may depend on where the client is (as
 * policy_record.client), from the entry policy_prefetch_span loads: known
 * before the record's own lines have landed. */
bool policy_record_client(const struct policy *p, uint32_t i);

/* Index of the record for name (lower-cased wire name of len bytes) and
 * type, or with type 0 of the first record of that name in type order.
 * Binary search over the sorted record table; no allocation.
 * Returns the index or P53_ENOTFOUND. */
int policy_find(const struct policy *p, const uint8_t *name, size_t len, uint16_t type);

/* ---- endpoints ----------------------------------------------------------- */

struct policy_endpoint {
	uint16_t type;           /* RRTYPE_A, _AAAA, _CNAME (a name), _TXT or
				  * POLICY_ALIAS (a name whose addresses answer) */
	uint16_t rdlen;
	const uint8_t *rdata;    /* wire RDATA inside the blob (a name as written) */
};

uint32_t policy_endpoint_count(const struct policy *p);

/* Endpoint i (< policy_endpoint_count) into *out. */
void policy_endpoint_get(const struct policy *p, uint32_t i, struct policy_endpoint *out);

/* ---- health checks (index = health word index) --------------------------- */

enum policy_check_type { POLICY_CHECK_TCP, POLICY_CHECK_HTTP, POLICY_CHECK_HTTPS,
			 POLICY_CHECK_CALCULATED };
enum policy_check_op { POLICY_OP_AND, POLICY_OP_OR, POLICY_OP_AT_LEAST };

struct policy_check {
	const char *name;          /* NUL-terminated strings inside the blob */
	enum policy_check_type type;
	const char *target;        /* address or host name ("" for calculated) */
	uint16_t port;
	const char *host;          /* Host header and SNI; "" = target */
	const char *path;          /* http(s): request path */
	uint16_t status_lo, status_hi;   /* healthy status range, inclusive */
	const char *body;          /* substring wanted in the first 5,120 bytes; "" = none */
	uint32_t interval_ms, timeout_ms;
	uint8_t fall, rise;        /* failures / successes in a row to change state */
	uint8_t quorum;            /* percent of votes that must say healthy (1..100) */
	enum policy_check_op op;   /* calculated */
	uint32_t n;                /* calculated at_least: how many members */
	uint32_t nmembers;         /* calculated: members (policy_check_member) */
};

uint32_t policy_check_count(const struct policy *p);

/* Check i (< policy_check_count) into *out. */
void policy_check_get(const struct policy *p, uint32_t i, struct policy_check *out);

/* Index of member j (< nmembers) of calculated check i. */
uint32_t policy_check_member(const struct policy *p, uint32_t i, uint32_t j);

/* ---- latency regions (index = position in a latency row) ----------------- */

uint32_t policy_region_count(const struct policy *p);

/* Name of region i (< policy_region_count), NUL-terminated, in the blob. */
const char *policy_region_name(const struct policy *p, uint32_t i);

/* ---- evaluation (query path) --------------------------------------------- */

struct policy_input {
	/* the client: ECS when present (capped), else the source address;
	 * the lookups below were made with it */
	uint8_t family;             /* 4, 6, or 0 when unknown */
	uint8_t prefix_len;
	uint8_t addr[16];
	/* geolocation lookup: the location (a packed code, zones/geo.h;
	 * GEO_LOC_NONE = unknown) and the prefix length that matched */
	uint32_t geo;
	uint8_t geo_prefix;
	/* coordinates of the client (geoproximity), if known */
	bool has_coords;
	double lat, lon;            /* degrees */
	uint8_t coords_prefix;
	/* latency row: one value per region (lower is better,
	 * POLICY_NO_LATENCY = unknown), or NULL */
	const uint32_t *latency;
	uint32_t nlatency;
	uint8_t latency_prefix;
	/* health words, one per check (1 healthy, 0 not), read with acquire
	 * loads; a check beyond nhealth (or health NULL) counts as healthy */
	const uint8_t *health;
	uint32_t nhealth;
	uint64_t random;            /* a fresh random number per query */
	uint64_t rotation;          /* a counter, for rotating simple/multivalue answers */
};

/* output flags */
#define POLICY_FAIL_OPEN    (1u << 0)   /* a policy had no healthy member and answered anyway */
#define POLICY_LAST_RESORT  (1u << 1)   /* a failover answered its last-resort endpoints */

struct policy_output {
	uint32_t n;                          /* endpoints selected, 0 = no answer */
	uint32_t ep[POLICY_MAX_ANSWER];      /* endpoint indexes, in answer order */
	uint8_t scope;                       /* ECS scope prefix length (0: not client-dependent) */
	uint32_t flags;                      /* POLICY_FAIL_OPEN, POLICY_LAST_RESORT */
	/* for policy_output_endpoint: where the record's copy of each
	 * endpoint lies (policy_format.h) */
	const uint8_t *rec;
	uint32_t at[POLICY_MAX_ANSWER];
};

/* Evaluate record ri (< policy_record_count) for one query into *out.
 * Deterministic given *in. A name endpoint (CNAME) is answered alone: if
 * the first endpoint selected is a name, only it is returned, otherwise
 * names are dropped from the selection. n 0 means the policy chose
 * nothing (every member down and fail_open false, or no geolocation rule
 * for the client): the caller answers NODATA. */
void policy_eval(const struct policy *p, uint32_t ri, const struct policy_input *in,
		 struct policy_output *out);

/* A quick answer (policy_quick): count RRs, len bytes at wire (owned by
 * the policy), in a snapshot's wire form (owner pointer, type, class,
 * TTL, RDLENGTH, RDATA), and the ECS scope they depend on. */
struct policy_quick {
	const uint8_t *wire;
	uint32_t len;
	uint16_t count;
	uint8_t scope;
};

/* Record ri's answer without policy_eval, for the records that allow it
 * (addresses or text answered through failovers' first members and one
 * weighted, simple or multivalue policy, under at most a geolocation
 * root: policy_format.h's quick answers), while every check the answer
 * reads is up. Reads in's health words, random number and rotation, and
 * for a geolocation root its location and geo_prefix. True: *out is what
 * policy_eval would select for the same input, its flags none. False:
 * evaluate. Query path: no allocation, lock or system call. */
bool policy_quick(const struct policy *p, uint32_t ri, const struct policy_input *in,
		  struct policy_quick *out);

/* Endpoint i (< out->n) of an answer of policy_eval, as policy_endpoint_get
 * gives endpoint out->ep[i], but read from the lines the evaluation has
 * just read (the record's own copy) rather than from the blob's tables. */
void policy_output_endpoint(const struct policy *p, const struct policy_output *out, uint32_t i,
			    struct policy_endpoint *ep);

/* Start loading record ri's policy data (its tree and the endpoints it
 * may answer) into the cache, all at once, so that policy_eval does not
 * wait for each line in turn. Query path; no effect on any result; ri out
 * of range is ignored. */
void policy_prefetch(const struct policy *p, uint32_t ri);

/* The step before policy_prefetch, for pipelines that can wait between
 * the two (snap_lookup_burst): start loading only the small entry that
 * says where record ri's data is. */
void policy_prefetch_span(const struct policy *p, uint32_t ri);

/* Great-circle distance in kilometres between two points given in degrees
 * (spherical Earth, radius 6371 km), and the distance geoproximity
 * compares for a member with bias -99..99 (docs/policy.md). */
double policy_distance_km(double lat1, double lon1, double lat2, double lon2);
double policy_biased_km(double km, int bias);

#endif
