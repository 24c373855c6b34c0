/*
 * policy_sig.h — DNSSEC signatures for the answers of traffic policies.
 *
 * A policy answer is chosen per query, but a validating resolver accepts
 * only RRsets signed with the zone's key. pop53 signs at compile time,
 * where the key is (the controller), never on a PoP: the compiler
 * enumerates every RRset a policy record can answer with — whatever the
 * health words, the client's location and the random draws — and signs
 * each one; the engine looks up the signatures of the set it chose. For
 * an answer that can be empty (every member down, no rule for the
 * client) it also signs a second NSEC (or NSEC3) of the owner whose type
 * bitmap lacks the record's type, so the NODATA validates too. The
 * reasons for this choice are in docs/dnssec-signing.md.
 *
 * The signatures form one snapshot section (SNAP_SECT_POLICY_SIG), a
 * position-independent little-endian blob like the policy's own; its
 * layout is private to policy_sig.c and described in docs/policy.md.
 */
#ifndef POP53_POLICY_SIG_H
#define POP53_POLICY_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "dnssec.h"
#include "policy.h"
#include "zone.h"

/* Most RRsets one record may answer with in a signed zone: enumerating
 * them is exponential in the members whose health can change, and each
 * costs a signature per key. The compiler refuses a record with more. */
#define POLICY_SIG_MAX_SETS   4096

struct policy_sig;   /* an opened, validated signature blob; opaque */

/* ---- building (pop53-zonec) ---------------------------------------------- */

/* One zone of the compile: the zone as it will be compiled (already
 * signed, policy placeholders included) and the keys it was signed with
 * (none: a zone this compile does not sign, whose records get none). */
struct policy_sig_zone {
	const struct zone *zone;
	struct dnssec_key *const *keys;
	size_t nkeys;
};

struct policy_sig_stats {
	size_t records;      /* policy records in signed zones */
	size_t sets;         /* distinct answer RRsets signed */
	size_t signatures;   /* RRSIGs made, denial variants' included */
	size_t empty;        /* records that can answer NODATA */
};

/* Sign every answer of every policy record (policy: the compiled blob of
 * len bytes) that lives in one of zones[0..n) with keys, with the
 * signature window dnssec_sign_zone used (o). Writes a malloc'd blob
 * (*out, *out_len; the caller frees it), or none (*out NULL) when no
 * record is in a signed zone. Errors name the record and say why
 * (reason in d): P53_EZONE (an alias to a name outside the served zones,
 * whose addresses only pop53d learns; more than POLICY_SIG_MAX_SETS
 * answers; an answer of more than POLICY_MAX_ANSWER records; no NSEC or
 * NSEC3 for the owner in the signed zone), P53_ESIG, P53_ENOMEM. */
int policy_sig_build(const void *policy, size_t len, const struct policy_sig_zone *zones,
		     size_t n, const struct dnssec_sign_opts *o, struct diag *d,
		     uint8_t **out, size_t *out_len, struct policy_sig_stats *st);

/* dnssec_sign_opts.unsigned_set for the opened policy `policy` (a struct
 * policy *): true for the placeholder of one of its records, which must
 * never be signed (its data is not an answer; a signature over it would be
 * a valid signature over a false RRset). */
bool policy_sig_placeholder(void *policy, const uint8_t *owner, uint16_t type);

/* ---- every answer a record can give (for the builder and the tests) ------ */

/* Call fn for each distinct set of endpoint indexes (sorted, no repeats;
 * n 0 for the empty answer) that policy_eval can return for record ri,
 * over every input: health words, client location, latency, random
 * numbers. The sets may be a few more than reachable, never fewer. fn
 * returning non-zero stops the walk with that value. Returns 0, the
 * value of fn, P53_EINVAL (ri out of range), P53_ELIMIT (more than
 * POLICY_SIG_MAX_SETS sets somewhere in the tree) or P53_ENOMEM. */
int policy_sig_answers(const struct policy *p, uint32_t ri,
		       int (*fn)(void *arg, const uint32_t *eps, uint32_t n), void *arg);

/* ---- opening ------------------------------------------------------------- */

/* Validate blob (len bytes, 8-byte aligned, alive until policy_sig_close)
 * against the opened policy p it signs, and wrap it without copying.
 * Returns 0, P53_EINVAL, P53_EFORMAT (reason in d), P53_EVERSION or
 * P53_ENOMEM. */
int policy_sig_open(const void *blob, size_t len, const struct policy *p, struct diag *d,
		    struct policy_sig **out);

/* Release the wrapper (not the blob). NULL is fine. */
void policy_sig_close(struct policy_sig *ps);

/* ---- query path ---------------------------------------------------------- */

/* RRs in a snapshot's wire form (snap_format.h: each C0 0C, TYPE, CLASS,
 * TTL, RDLENGTH, RDATA), inside the blob. */
struct policy_sig_rrs {
	const uint8_t *wire;
	uint32_t len;
	uint16_t count;
};

/* Whether record ri lives in a zone the compile signed (its answers then
 * need policy_sig_find's signatures). ri out of range: false. */
bool policy_sig_signed(const struct policy_sig *ps, uint32_t ri);

/* The RRSIGs over the answer of record ri made of endpoints eps[0..n)
 * (sorted, no repeats) into *out. False when that set was not signed. */
bool policy_sig_find(const struct policy_sig *ps, uint32_t ri, const uint32_t *eps,
		     uint32_t n, struct policy_sig_rrs *out);

/* For an empty answer of record ri: the owner of the denial record
 * (lower-cased wire name, *name_len bytes), the NSEC or NSEC3 RR without
 * the record's type and its RRSIGs. False when the record cannot be
 * empty (none was made). */
bool policy_sig_denial(const struct policy_sig *ps, uint32_t ri, const uint8_t **name,
		       uint32_t *name_len, struct policy_sig_rrs *nsec,
		       struct policy_sig_rrs *sigs);

#endif
