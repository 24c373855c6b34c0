/*
 * snap.h — compile zones into a snapshot, open one, and look names up in it.
 *
 * A snapshot (layout in snap_format.h, docs/snapshot-format.md) is opened
 * by mapping it and checking its header, bounds and SHA-256; nothing is
 * parsed. The lookup functions below are what the answer engine calls on
 * every query: no allocation, no locks, no syscalls.
 */
#ifndef POP53_SNAP_H
#define POP53_SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "dname.h"
#include "snap_format.h"
#include "zone.h"

struct snap;
struct geo_table;
struct latency_table;  /* an open snapshot: the blob and its size */
struct policy;

/* A section to carry beside the zones (snap_format.h, SNAP_SECT_*). */
struct snap_section_in {
	uint32_t kind;          /* SNAP_SECT_* */
	const void *data;       /* copied into the snapshot */
	size_t len;
};

struct snap_compile_opts {
	uint64_t serial;    /* snapshot serial; 0 = the compile time */
	/* Sections, at most one of each kind. A SNAP_SECT_POLICY section is
	 * a policy_compile blob: the RRset of each of its records is marked
	 * SNAP_RRSET_POLICY, so snap_policy_prepare must have added their
	 * placeholders to the zones. */
	const struct snap_section_in *sections;
	size_t nsections;
};

/* Give every record of the compiled policy blob (policy_compile) a
 * placeholder RR in the zone of zones[0..n) that holds its owner name, so
 * that the name, its node flags and empty non-terminals exist like any
 * other data. The refusals below are every clash a placeholder could
 * cause, so zones checked before stay valid. The placeholder is never
 * served.
 * Errors, each naming the record, go to d: an owner outside every zone,
 * at or below a zone cut, or with static data of the same type
 * (P53_EZONE); a blob that does not open (P53_EFORMAT); P53_ENOMEM. */
int snap_policy_prepare(struct zone *const *zones, size_t n, const void *policy,
			size_t len, struct diag *d);

/* The same when the compile signs some of the zones (signing[i] for
 * zones[i]; NULL = none): those may hold policy records even if their
 * input was signed before (signing makes every signature anew, and
 * policy_sig_build signs the answers). Other signed zones get none. */
int snap_policy_prepare_signing(struct zone *const *zones, size_t n, const void *policy,
				size_t len, const bool *signing, struct diag *d);

/* Compile zones[0..n) (already checked with zone_check) into a snapshot in
 * a malloc'd buffer *out of *len bytes that the caller frees. Duplicate
 * RRs are dropped, RRsets take the lowest TTL of their RRs. Errors (two
 * zones with the same apex, a blob over 4 GiB) go to d.
 * Returns 0, P53_EZONE, P53_ERANGE or P53_ENOMEM. */
int snap_compile(struct zone *const *zones, size_t n,
		 const struct snap_compile_opts *opts, struct diag *d,
		 uint8_t **out, size_t *len);

/* snap_compile and write the result to path atomically (temporary file in
 * the same directory, fsync, rename). Returns 0 or an error as above, or
 * P53_EIO. */
int snap_compile_file(struct zone *const *zones, size_t n,
		      const struct snap_compile_opts *opts, struct diag *d,
		      const char *path);

/* Map the snapshot file at path read-only and verify it (magic, version,
 * byte order, sizes, every table inside the blob, SHA-256). On success
 * *out owns the mapping. Errors name the problem in d: P53_EIO,
 * P53_ETRUNC, P53_EFORMAT, P53_EVERSION, P53_EHASH, P53_ENOMEM. */
int snap_open(const char *path, struct diag *d, struct snap **out);

/* Verify a snapshot held in memory (as snap_open does) and wrap it without
 * copying; the caller keeps buf alive until snap_close and frees it after.
 * buf must be 8-byte aligned (structures are read in place; malloc'd
 * memory is): P53_EINVAL otherwise. Other errors as snap_open. */
int snap_open_mem(const uint8_t *buf, size_t len, struct diag *d,
		  struct snap **out);

/* Unmap/release s (not a buffer passed to snap_open_mem). NULL is fine. */
void snap_close(struct snap *s);

/* Section kind of s (SNAP_SECT_*): its bytes and *len, or NULL. */
const void *snap_section(const struct snap *s, uint32_t kind, size_t *len);

/* The traffic policies of s (opened and validated with s), NULL if none. */
const struct policy *snap_policy(const struct snap *s);

/* The signatures of the policy answers of signed zones (zones/policy_sig.h),
 * NULL when the snapshot has none; valid as long as s. */
struct policy_sig;
const struct policy_sig *snap_policy_sig(const struct snap *s);

/* The snapshot's geolocation table (client address -> location code),
 * latency table and coordinates table, opened when the snapshot was;
 * NULL when the snapshot has none. Valid while s is open. */
const struct geo_table *snap_geo(const struct snap *s);
const struct latency_table *snap_latency(const struct snap *s);
const struct geo_table *snap_coords(const struct snap *s);

/* Attach the health words of the policy's checks (one byte per check in
 * the policy file's order, written by the control plane with release
 * stores). Call before s is published; the words must outlive s (the
 * control plane frees a replaced array with the snapshot it belonged to).
 * NULL: every check counts as healthy. */
void snap_set_health(struct snap *s, const uint8_t *words, uint32_t n);

/* The attached words and their count (*n), NULL if none. */
const uint8_t *snap_health(const struct snap *s, uint32_t *n);

/* Everything a traffic-policy answer reads from s, in one place: what
 * snap_policy, snap_health, snap_geo, snap_coords and snap_latency
 * return, kept current by snap_set_health. Owned by s, valid while s is
 * open; the engine takes it once per policy answer instead of five
 * calls. */
struct snap_policy_view {
	const struct policy *policy;
	const uint8_t *health;
	uint32_t nhealth;
	const struct geo_table *geo;
	const struct geo_table *coords;
	const struct latency_table *latency;
};
const struct snap_policy_view *snap_policy_view(const struct snap *s);

/* ---- out-of-zone alias targets ------------------------------------------
 * A policy `alias:` member whose target lies outside every served zone (a
 * cloud load balancer's name) answers with addresses the control plane
 * resolves and writes into one slot per distinct target; the slots are
 * attached to the snapshot like the health words. A slot is a sequence
 * lock with one writer (the control plane): readers copy and retry. */
#define SNAP_ALIAS_MAX 8            /* addresses kept per family */

#define SNAP_ALIAS_HAVE_A    1u     /* the A answer is known (maybe empty) */
#define SNAP_ALIAS_HAVE_AAAA 2u     /* the AAAA answer is known */

struct snap_alias_addrs {
	uint8_t have;               /* SNAP_ALIAS_HAVE_* */
	uint8_t n4, n6;             /* addresses in a / aaaa */
	uint8_t a[SNAP_ALIAS_MAX][4];
	uint8_t aaaa[SNAP_ALIAS_MAX][16];
};

struct snap_alias {
	_Atomic uint32_t seq;       /* odd while the writer is in */
	struct snap_alias_addrs v;
};

/* Distinct out-of-zone alias targets of s's policy (0 without). */
uint32_t snap_alias_count(const struct snap *s);

/* Wire name of target i (< snap_alias_count), inside the blob, in the
 * case the policy file wrote it. */
const uint8_t *snap_alias_target(const struct snap *s, uint32_t i);

/* Attach the slots (snap_alias_count of them, slot i for target i) before
 * s is published; they must outlive s. NULL: every target is unknown. */
void snap_set_aliases(struct snap *s, struct snap_alias *slots);

/* The slot of policy endpoint ep, or NULL if ep is not an out-of-zone
 * alias or no slots are attached. */
const struct snap_alias *snap_alias_of(const struct snap *s, uint32_t ep);

/* Copy slot's addresses into *out (a consistent copy). False only if the
 * writer kept overlapping (then *out is unusable). No lock, no wait. */
bool snap_alias_read(const struct snap_alias *slot, struct snap_alias_addrs *out);

/* Replace slot's addresses (the one writer only). */
void snap_alias_write(struct snap_alias *slot, const struct snap_alias_addrs *in);

/* The raw blob and its size (content plus any signature trailer). */
const uint8_t *snap_data(const struct snap *s);
size_t snap_size(const struct snap *s);

/* Header of s (already verified). */
static inline const struct snap_header *snap_header(const struct snap *s);

/* Zones in s: count and the i-th zone. */
static inline uint32_t snap_zone_count(const struct snap *s);
static inline const struct snap_zone *snap_zone_at(const struct snap *s,
						   uint32_t i);

/* Print every zone of s as master-file text (owners lower-cased, absolute),
 * in canonical order, so that parse -> compile -> dump -> parse round-trips. */
int snap_dump(const struct snap *s, FILE *f);

/* ---- lookups (hot path) ------------------------------------------------ */

/* A query name prepared once per query: lower-cased, with label offsets. */
struct snap_qname {
	uint8_t name[DNAME_MAXLEN];
	uint8_t len;                    /* wire length incl. root label */
	uint8_t labels;                 /* label count, root not counted */
	uint8_t off[DNAME_MAXLABELS];   /* off[i]: start of the suffix that
					 * drops i labels; off[labels] = root */
	uint32_t hash;                  /* snap_name_hash of the whole name,
					 * made while it is lower-cased */
};

/* Fill q from wire name w (uncompressed, valid: check it first). */
void snap_qname_init(struct snap_qname *q, const uint8_t *w, size_t len);

/* snap_qname_init for a name whose labels the caller has walked already
 * (checking it): off[0..labels] as in struct snap_qname, in an array of
 * at least 16 bytes (a short name's are copied as 16). One walk fewer:
 * its exit depends on the name and is mispredicted about once a name. */
void snap_qname_init_labels(struct snap_qname *q, const uint8_t *w,
			    size_t len, const uint8_t *off, unsigned labels);

/* snap_name_hash (snap_format.h) of a lower-cased wire name of len bytes
 * (1..255): the same value, without its byte-wise tail copy. */
uint32_t snap_hash_name(const uint8_t *name, size_t len);

struct snap_lookup {
	const struct snap_zone *zone;     /* the zone with the longest apex */
	const struct snap_node *node;     /* exact match, NULL if none */
	const struct snap_node *encloser; /* closest encloser (node if exact) */
	uint8_t encloser_strip;           /* labels stripped from q to reach it */
	const struct snap_node *deleg;    /* highest zone cut on the path from
					   * the apex down to the encloser,
					   * NULL if none */
	const struct snap_node *wildcard; /* "*.<encloser>" when no exact match
					   * and it exists, else NULL */
};

/* Find the zone that contains q and, inside it, q's node, closest
 * encloser, delegation and wildcard. Returns 0, or P53_ENOTFOUND when no
 * zone of s contains q (the engine answers REFUSED). */
int snap_lookup(const struct snap *s, const struct snap_qname *q,
		struct snap_lookup *out);

/* snap_lookup restricted to zone z (z's apex must be a suffix of q):
 * used to answer from a parent zone when the child is served too (DS).
 * Returns 0, or P53_ENOTFOUND when q is not at or below z's apex. */
int snap_lookup_in(const struct snap *s, const struct snap_zone *z,
		   const struct snap_qname *q, struct snap_lookup *out);

/* The lookup of node n's own name, as snap_lookup gives it when z is the
 * zone that holds that name (exact match: node and closest encloser n, no
 * labels stripped, no wildcard). */
void snap_lookup_node(const struct snap *s, const struct snap_zone *z,
		      const struct snap_node *n, struct snap_lookup *out);

/* The node that CNAME RRset `set` of zone z leads to, when the compiler
 * linked it (snap_format.h: its target is a node of z and no zone of s is
 * closer to it), so that the chain goes on with snap_lookup_node instead
 * of a lookup of the target; NULL when it did not. */
static inline const struct snap_node *snap_cname_link(const struct snap *s,
						      const struct snap_zone *z,
						      const struct snap_rrset *set);

/* Whether RRset `set` has targets for the additional section: a CNAME's
 * list is its link instead (snap_cname_link). */
static inline bool snap_has_additional(const struct snap_rrset *set)
{
	return set->additional && set->type != RRTYPE_CNAME;
}

/* The additional section pre-rendered for NS, MX or SRV RRset `set`
 * (struct snap_glue, snap_format.h), or NULL: none, or a 2.0 snapshot.
 * Points into the snapshot. */
const struct snap_glue *snap_glue_of(const struct snap *s, const struct snap_rrset *set);

/* Exact node lookup of a lower-cased wire name inside zone z; NULL if it
 * does not exist. */
const struct snap_node *snap_find_node(const struct snap *s,
				       const struct snap_zone *z,
				       const uint8_t *lname, size_t len);

/* The zone whose apex is the longest suffix of lower-cased name, or NULL. */
const struct snap_zone *snap_find_zone(const struct snap *s,
				       const struct snap_qname *q);

/* Node i of zone z (i < z->node_count). */
static inline const struct snap_node *snap_node_at(const struct snap *s,
						   const struct snap_zone *z,
						   uint32_t i);

/* RRset of `type` at node n, NULL if none. Inline: every answer asks
 * at least once, and most nodes have one to three RRsets. */
static inline const struct snap_rrset *snap_node_rrset(const struct snap *s,
							const struct snap_node *n,
							uint16_t type);

/* snap_node_rrset for a node of more than SNAP_RRSET_SCAN RRsets: a
 * binary search. */
const struct snap_rrset *snap_node_rrset_search(const struct snap *s,
						const struct snap_node *n,
						uint16_t type);

/* All RRsets of n, sorted by type; count in n->rrset_count. */
static inline const struct snap_rrset *snap_node_rrsets(const struct snap *s,
							const struct snap_node *n);

/* Bytes at blob offset off (no bounds check: offsets were verified). */
static inline const uint8_t *snap_ptr(const struct snap *s, uint32_t off);

/* DNSSEC denial with NSEC (RFC 4035 3.1.3) in a signed zone z
 * (SNAP_ZONE_SIGNED): the node whose NSEC covers a name that z does not
 * hold, given the name's closest encloser enc (a node of z) and the
 * name's label just below enc (length byte and bytes, lower-cased; "\1*"
 * for the wildcard of enc). That is the nearest node with an NSEC at or
 * before the name's canonical predecessor, found by a binary search over
 * enc's children (at a zone apex with many, among those that share the
 * label's first byte: snap_open indexes them). NULL when there is none
 * (an unsigned zone, no NSEC). */
const struct snap_node *snap_nsec_cover(const struct snap *s,
					const struct snap_zone *z,
					const struct snap_node *enc,
					const uint8_t *label);

/* snap_nsec_cover of the wildcard "*" below enc, in an NSEC zone: the
 * NSEC of an NXDOMAIN's wildcard proof (an NSEC3 zone's is
 * snap_nsec3_wild). Looked up once per zone for its apex when the
 * snapshot is opened (most NXDOMAIN answers have their closest encloser
 * there). */
const struct snap_node *snap_nsec_wild(const struct snap *s, const struct snap_zone *z,
				       const struct snap_node *enc);

/* Binary search of n NSEC3 hashes sorted ascending (a zone's denial table,
 * snap_format.h): the index of the first not below h, n if none. */
uint32_t snap_nsec3_lower(const struct snap_nsec3_hash *e, uint32_t n, const uint8_t *h);

/* NSEC3 denial (RFC 5155 7.2) in an NSEC3 zone z (SNAP_ZONE_NSEC3): the
 * node whose NSEC3 matches the lower-cased wire name (len bytes), or with
 * cover, the one whose NSEC3 covers its hash (a name that has no NSEC3
 * of its own). Hashes the name (SHA-1, the zone's salt and iterations).
 * NULL when none, or z has no NSEC3. */
const struct snap_node *snap_nsec3_find(const struct snap *s,
					const struct snap_zone *z,
					const uint8_t *name, size_t len,
					bool cover);

/* The node whose NSEC3 covers the wildcard "*.<enc>" below node enc of
 * NSEC3 zone z (precomputed: no hash), NULL when none. */
const struct snap_node *snap_nsec3_wild(const struct snap *s,
					const struct snap_zone *z,
					const struct snap_node *enc);

/* The node whose NSEC covers names sorting right after node n in zone z
 * (n itself when it has an NSEC), NULL when none or z is unsigned. In an
 * NSEC3 zone: the node whose NSEC3 matches n's name, NULL when none. */
static inline const struct snap_node *snap_nsec_after(const struct snap *s,
						      const struct snap_zone *z,
						      const struct snap_node *n)
{
	if (!(z->flags & SNAP_ZONE_SIGNED) || !n->nsec)
		return NULL;
	return snap_node_at(s, z, n->nsec - 1);
}

/* The denial record of node n (snap_format.h, v1.3) when n is a node of
 * signed zone z that owns an NSEC or NSEC3 RRset; NULL when it owns
 * neither, n belongs to another zone, or the snapshot has no records
 * (compiled before 1.3). */
static inline const struct snap_denial *snap_denial_of(const struct snap *s,
						       const struct snap_zone *z,
						       const struct snap_node *n)
{
	uintptr_t at = (uintptr_t)n - (uintptr_t)snap_ptr(s, z->nodes);
	const struct snap_denial *d;

	if (!z->denial || at >= (uintptr_t)z->node_count * sizeof(*n))
		return NULL;
	d = (const struct snap_denial *)(const void *)snap_ptr(s, z->denial) +
	    at / sizeof(*n);
	return d->count ? d : NULL;
}

/* ---- lookups in bursts ---------------------------------------------------
 *
 * In a zone much bigger than the CPU caches a lookup is a chain of
 * dependent cache misses (hash slot, node, name, RRsets, RR wire, and again
 * for a CNAME target): memory latency, not work, sets the pace, and one
 * query's chain cannot overlap with itself. The chains of a burst of
 * queries can overlap with each other: snap_lookup_burst runs the lookups
 * of a burst as one state machine, each pass moving every query one step
 * on and prefetching what its next step reads, so a burst of n queries
 * waits for about one miss per step instead of n. The results are those
 * of snap_lookup; besides, the RRset an answer will copy (and a CNAME
 * target's) is prefetched, so that answering the burst afterwards hits the
 * caches. In a snapshot that fits in the caches it only adds work:
 * snap_burst_useful says when it pays. */

#define SNAP_BURST_MAX 64

/* One query of a burst. The caller sets q (snap_qname_init; it must stay
 * valid during the call) and qtype; the lookup sets ret (0 or
 * P53_ENOTFOUND, as snap_lookup returns) and, when 0, lk. */
struct snap_bq {
	const struct snap_qname *q;
	uint16_t qtype;
	int ret;
	struct snap_lookup lk;
};

/* snap_lookup for b[0..n), n <= SNAP_BURST_MAX, interleaved. */
void snap_lookup_burst(const struct snap *s, struct snap_bq *b, size_t n);

/* Called once per lookup of a burst, with its index in b, when it is
 * finished (b[k].ret and lk set) and its prefetches had a round to land. */
typedef void snap_burst_done_fn(void *arg, size_t k);

/*
 * snap_lookup_burst that hands each lookup to done(arg, k) as soon as it
 * is finished, between the rounds of the others: the caller's work on it
 * (answering the query) then overlaps the misses of the burst's longer
 * chains (referrals, CNAMEs), which would otherwise be waited for alone
 * at the end. Each k is handed over exactly once, in no set order; done
 * must not touch b[] but b[k].
 */
void snap_lookup_burst_each(const struct snap *s, struct snap_bq *b, size_t n,
			    snap_burst_done_fn *done, void *arg);

/* Whether s is big enough for snap_lookup_burst to pay. */
bool snap_burst_useful(const struct snap *s);

/* ---- inline bodies ----------------------------------------------------- */

/* The first member of struct snap is the blob pointer (snap_read.c). */
static inline const uint8_t *snap_ptr(const struct snap *s, uint32_t off)
{
	return *(const uint8_t *const *)(const void *)s + off;
}

/* The accessors below run per query and per probe: inline, so that a
 * lookup is loads and compares, not a chain of calls. */
static inline const struct snap_header *snap_header(const struct snap *s)
{
	return (const struct snap_header *)(const void *)snap_ptr(s, 0);
}

static inline uint32_t snap_zone_count(const struct snap *s)
{
	return snap_header(s)->zone_count;
}

static inline const struct snap_zone *snap_zone_at(const struct snap *s,
						   uint32_t i)
{
	return (const struct snap_zone *)(const void *)
	       snap_ptr(s, snap_header(s)->zone_table) + i;
}

static inline const struct snap_node *snap_node_at(const struct snap *s,
						   const struct snap_zone *z,
						   uint32_t i)
{
	return (const struct snap_node *)(const void *)snap_ptr(s, z->nodes) + i;
}

static inline const struct snap_rrset *snap_node_rrsets(const struct snap *s,
							const struct snap_node *n)
{
	return (const struct snap_rrset *)(const void *)snap_ptr(s, n->rrsets);
}

/* Up to this many RRsets a node is scanned forward, stopping at the
 * first type not below the one asked for: that beats a binary search's
 * unpredictable branches. */
#define SNAP_RRSET_SCAN 8

static inline const struct snap_rrset *snap_node_rrset(const struct snap *s,
							const struct snap_node *n,
							uint16_t type)
{
	const struct snap_rrset *set = snap_node_rrsets(s, n);
	uint32_t count = n->rrset_count;

	if (count > SNAP_RRSET_SCAN)
		return snap_node_rrset_search(s, n, type);
	for (uint32_t k = 0; k < count; k++) {
		if (set[k].type >= type)
			return set[k].type == type ? &set[k] : NULL;
	}
	return NULL;
}

static inline const struct snap_node *snap_cname_link(const struct snap *s,
						      const struct snap_zone *z,
						      const struct snap_rrset *set)
{
	const struct snap_addl *al;

	if (!set->additional)
		return NULL;
	al = (const struct snap_addl *)(const void *)snap_ptr(s, set->additional);
	return al->count ? snap_node_at(s, z, al->node[0]) : NULL;
}

#endif
