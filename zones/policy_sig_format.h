/*
 * policy_sig_format.h — the byte layout of a policy signature blob
 * (internal to zones/policy_sig*.c; docs/policy.md describes it).
 *
 * Position-independent and little-endian like the policy blob it signs:
 * offsets from the start of the blob, sections on 8-byte boundaries.
 *
 *  header | records (one per policy record) | sets | endpoint indexes |
 *  data (RR wire, names)
 */
#ifndef POP53_POLICY_SIG_FORMAT_H
#define POP53_POLICY_SIG_FORMAT_H

#include <stdint.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the policy signature blob is little-endian and read in place"
#endif

#define PSIG_MAGIC          "P53PLSIG"
#define PSIG_VERSION_MAJOR  1
#define PSIG_VERSION_MINOR  0

struct psig_header {
	char     magic[8];          /* PSIG_MAGIC, no NUL */
	uint16_t version_major;
	uint16_t version_minor;
	uint32_t size;              /* bytes in the blob */
	uint32_t nrecords, records; /* struct psig_record[]: the policy's count */
	uint32_t nsets, sets;       /* struct psig_set[] */
	uint32_t neps, eps;         /* uint32_t[]: endpoint indexes of the sets */
	uint32_t data, data_len;
	uint32_t reserved[4];
};

/* record.flags */
#define PSIG_SIGNED   (1u << 0)     /* in a zone this compile signed */

struct psig_record {
	uint32_t first, count;      /* its sets: [first, first + count), sorted
				     * by (hash, endpoint indexes) */
	uint32_t flags;             /* PSIG_* */
	uint16_t name_len;          /* denial owner length, 0 = no denial */
	uint16_t nsig;              /* RRSIGs over the denial */
	uint32_t name;              /* denial owner: lower-cased wire name */
	uint32_t nsec, nsec_len;    /* the NSEC/NSEC3 RR (wire form) */
	uint32_t sig, sig_len;      /* its RRSIG RRs (wire form) */
	uint32_t reserved;
};

/* One answer RRset: the endpoints it is made of and its RRSIG RRs. */
struct psig_set {
	uint64_t hash;              /* psig_hash of the endpoint indexes */
	uint32_t eps;               /* index of the first in eps[] */
	uint16_t neps, nsig;
	uint32_t sig, sig_len;      /* RRSIG RRs (wire form) */
};

_Static_assert(sizeof(struct psig_header) == 64, "psig_header layout");
_Static_assert(sizeof(struct psig_record) == 40, "psig_record layout");
_Static_assert(sizeof(struct psig_set) == 24, "psig_set layout");

/* Shared by writer and reader: changing it is a major version. */
static inline uint64_t psig_hash(const uint32_t *eps, uint32_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;

	for (uint32_t i = 0; i < n; i++)
		h = (h ^ eps[i]) * 0xff51afd7ed558ccdull;
	return h ^ (h >> 31);
}

#endif
