/*
 * snap_format.h — the on-disk, on-wire and in-memory layout of a snapshot.
 *
 * One blob, position-independent: every reference is a 32-bit offset from
 * the start of the blob (0 = none), never a pointer. All integers are in
 * the byte order of the host that wrote it (header.endian tells; readers
 * refuse a foreign order). Sections start on 8-byte boundaries. The full
 * description with rationale is docs/snapshot-format.md.
 *
 *  header | zone table | zone apex hash | per zone: nodes, name hash,
 *  RRSIG entries, data units (each node's RRset array, name and
 *  pre-encoded RR wire), additional lists | [signature]
 *
 * Version rule: readers refuse another major version; a minor bump only
 * adds data in reserved fields or new sections, which old readers ignore.
 */
#ifndef POP53_SNAP_FORMAT_H
#define POP53_SNAP_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "rdata.h"

#define SNAP_MAGIC          "POP53SNP"
#define SNAP_VERSION_MAJOR  2
#define SNAP_VERSION_MINOR  1
#define SNAP_ENDIAN_MARK    0x01020304u
#define SNAP_NONE           UINT32_MAX   /* "no node" in node indexes */

/* header.features: optional data present in this blob */
#define SNAP_FEAT_DNSSEC    (1u << 0)    /* RRSIG links / denial data */
#define SNAP_FEAT_POLICY    (1u << 1)    /* traffic-policy tables */

struct snap_header {
	char     magic[8];          /* SNAP_MAGIC, no NUL */
	uint16_t version_major;
	uint16_t version_minor;
	uint32_t header_size;       /* sizeof(struct snap_header) at write */
	uint64_t content_size;      /* bytes from offset 0 covered by sha256 */
	uint32_t endian;            /* SNAP_ENDIAN_MARK */
	uint32_t zone_count;
	uint32_t zone_table;        /* offset of struct snap_zone[zone_count] */
	uint32_t zone_hash;         /* offset of struct snap_hslot[mask + 1] */
	uint32_t zone_hash_mask;    /* table size - 1 (power of two) */
	uint32_t features;          /* SNAP_FEAT_* */
	uint64_t created;           /* unix seconds when compiled */
	uint64_t serial;            /* snapshot serial (controller's counter) */
	uint32_t min_sig_expiry;    /* earliest RRSIG expiration, 0 = none */
	uint32_t sections;          /* offset of struct snap_section[section_count]
				     * (v1.1), 0 = none */
	uint32_t section_count;
	uint32_t reserved[7];
	uint8_t  sha256[32];        /* SHA-256 of [0, content_size), this
				     * field taken as 32 zero bytes */
};

/* Optional data beside the zones (v1.1): each a blob with its own
 * versioned format, 8-byte aligned, validated by its module when the
 * snapshot is opened. A kind appears at most once; readers ignore kinds
 * they do not know. */
#define SNAP_SECT_POLICY    1   /* traffic policies: policy_compile (zones/policy.h) */
#define SNAP_SECT_GEO       2   /* client address -> location (zones/geo.h) */
#define SNAP_SECT_LATENCY   3   /* client address -> latency row (zones/latency.h) */
#define SNAP_SECT_COORDS    4   /* client address -> coordinates (geo_coord_pack) */
#define SNAP_SECT_POLICY_SIG 5  /* signed policy answers (v1.3): policy_sig_build
				 * (zones/policy_sig.h); needs the policy section */

struct snap_section {
	uint32_t kind;              /* SNAP_SECT_* */
	uint32_t off;               /* blob offset, a multiple of 8 */
	uint32_t len;               /* bytes */
	uint32_t reserved;
};

/* Open-addressing hash slot (linear probing). index is the node (or zone)
 * index + 1; 0 marks an empty slot. hash is snap_name_hash() of the
 * lower-cased wire name, kept to skip most key comparisons. */
struct snap_hslot {
	uint32_t hash;
	uint32_t index;
};

/* zone.flags */
#define SNAP_ZONE_SIGNED    (1u << 0)   /* zone has RRSIGs: links and node
					 * nsec/end are filled (v1.2) */
#define SNAP_ZONE_NSEC3     (1u << 1)   /* denial by NSEC3 (else NSEC) */

struct snap_zone {
	uint32_t apex_name;         /* offset: lower-cased wire name */
	uint32_t apex_node;         /* node index of the apex */
	uint32_t node_count;
	uint32_t nodes;             /* offset of struct snap_node[node_count] */
	uint32_t hash;              /* offset of struct snap_hslot[mask + 1] */
	uint32_t hash_mask;
	uint32_t soa_serial;
	uint32_t neg_ttl;           /* min(SOA TTL, SOA MINIMUM) (RFC 2308) */
	uint32_t soa_rrset;         /* offset of the apex SOA struct snap_rrset */
	uint32_t flags;             /* SNAP_ZONE_* */
	uint32_t nsec3param;        /* SNAP_ZONE_NSEC3 (v1.2): offset of the
				     * struct snap_nsec3 below, else 0 */
	uint32_t policy_table;      /* offset, 0 = none (traffic policies) */
	uint32_t rrsets;            /* offset of the zone's per-type RRSIG
				     * entries (struct snap_rrset, signed
				     * zones; v2.0: the nodes' own arrays
				     * are in their data units) */
	uint32_t rrset_count;       /* entries there */
	uint32_t kids;              /* signed zones (v1.2): offset of the
				     * children table below, else 0 */
	uint32_t denial;            /* signed zones (v1.3): offset of struct
				     * snap_denial[node_count], 0 = none
				     * (older snapshots) */
};

/* NSEC3 denial data of a zone (RFC 5155): the NSEC3PARAM, then (right
 * after it) `count` struct snap_nsec3_hash: the NSEC3 owners' hashes,
 * sorted (memcmp), each with its node; then uint32_t wild[node_count]:
 * for node i, index + 1 of the node whose NSEC3 covers "*.<name of i>"
 * (the wildcard proof of an NXDOMAIN whose closest encloser is i). */
struct snap_nsec3_hash {
	uint8_t hash[20];
	uint32_t node;
};

struct snap_nsec3 {
	uint8_t alg;                /* 1: SHA-1 */
	uint8_t flags;
	uint16_t iterations;
	uint8_t salt_len;
	uint8_t salt[255];
	uint32_t count;
};

/* Children table of a signed zone, for NSEC denial: the children of node
 * i, in canonical order, are kid[first[i] .. first[i + 1]) of the array
 * that follows first[] (at the next multiple of 8), node_count - 1
 * entries in all. key is the child's first label as in the compiler's
 * sibling sort (its first 8 bytes, big-endian, zero-padded), so that a
 * binary search compares words and reads a name only on equal keys; nsec
 * saves it two reads more. */
struct snap_kid {
	uint64_t key;
	uint32_t node;
	uint32_t nsec;              /* node.nsec of the last node of the
				     * child's subtree: the NSEC covering the
				     * names right after that subtree */
};

/* Denial record of node i of a signed zone (v1.3), for the proofs of
 * RFC 4035 3.1.3 and RFC 5155 7.2: where the node's NSEC RRset (else its
 * NSEC3 RRset) and the RRSIGs that cover it are, copied from the node
 * and its RRsets so that writing a proof reads one record instead of a
 * chain of them. count 0: the node owns neither. Every field equals what
 * the node and its RRsets say (snap_open checks it). */
struct snap_denial {
	uint32_t name;              /* node.name */
	uint32_t wire;              /* the NSEC or NSEC3 RRset's wire ... */
	uint32_t wire_len;          /* ... wire_len ... */
	uint32_t sig;               /* ... and its rrsig entry's wire, 0 = */
	uint32_t sig_len;           /* no RRSIG link */
	uint16_t count;             /* the RRset's RRs, 0 = no record */
	uint16_t sig_count;         /* the RRSIG entry's RRs */
	uint8_t name_len;           /* bytes of the name */
	uint8_t reserved[7];
};

_Static_assert(sizeof(struct snap_denial) == 32, "a denial record is half a cache line");

/* node.flags */
#define SNAP_NODE_APEX      (1u << 0)
#define SNAP_NODE_DELEG     (1u << 1)   /* zone cut: NS here, not at apex */
#define SNAP_NODE_OCCLUDED  (1u << 2)   /* strictly below a zone cut (glue) */
#define SNAP_NODE_ENT       (1u << 3)   /* empty non-terminal: no RRsets */
#define SNAP_NODE_WILDCARD  (1u << 4)   /* first label is "*" */
#define SNAP_NODE_CNAME     (1u << 5)   /* has a CNAME RRset */
#define SNAP_NODE_DNAME     (1u << 6)   /* has a DNAME RRset */
#define SNAP_NODE_NSEC3     (1u << 7)   /* an NSEC3 owner in an NSEC3 zone
					 * (v1.2): not visible to queries
					 * (RFC 5155 7.2.8) */

/* One name that exists in the zone: with data, or an empty non-terminal. */
struct snap_node {
	uint32_t name;              /* offset: lower-cased wire name */
	uint32_t rrsets;            /* offset of struct snap_rrset[count]:
				     * the start of the node's data unit,
				     * which goes on with its name (leaves)
				     * and its RRsets' wire (v2.0) */
	uint16_t rrset_count;       /* sorted by type, RRSIG included */
	uint16_t flags;             /* SNAP_NODE_* */
	uint32_t parent;            /* node index of the parent, SNAP_NONE at apex */
	uint32_t deleg;             /* highest zone cut at or above, or SNAP_NONE */
	uint32_t wildcard;          /* node index of "*.<this name>", or SNAP_NONE */
	/* Signed zones (SNAP_ZONE_SIGNED, v1.2), else 0: */
	uint32_t nsec;              /* index + 1 of the node whose NSEC covers
				     * the names sorting after this one and
				     * before the next node: the nearest node
				     * at or before it, in canonical order,
				     * that has an NSEC RRset (0 = none); in
				     * an NSEC3 zone, the node whose NSEC3
				     * matches this node's name */
	uint32_t end;               /* index one past the last node of this
				     * node's subtree (node order is pre-order) */
};

/* rrset.flags */
#define SNAP_RRSET_POLICY   (1u << 0)   /* answer chosen at query time */

/* One RRset. `wire` holds `count` RRs ready to copy into an answer: each
 * is C0 0C (a pointer to the question name at offset 12), TYPE, CLASS,
 * TTL, RDLENGTH, RDATA; names inside RDATA are uncompressed, case as in
 * the zone file. An answer whose owner is not the qname overwrites the
 * two pointer bytes. TTL is the RRset's (for RRSIG: each RR's own). */
struct snap_rrset {
	uint16_t type;
	uint16_t count;
	uint32_t ttl;
	uint32_t wire;              /* offset of the pre-encoded RRs */
	uint32_t wire_len;
	uint32_t additional;        /* offset of struct snap_addl, 0 = none */
	uint32_t rrsig;             /* offset of the RRSIG struct snap_rrset
				     * holding the signatures that cover this
				     * RRset (v1.2: an entry of the zone's
				     * RRSIG array, whose wire is a slice of
				     * the node's RRSIG wire), 0 = none */
	uint32_t policy;            /* with SNAP_RRSET_POLICY: the policy
				     * section's record index + 1, 0 = static.
				     * The wire then holds one placeholder RR
				     * (never served): answers come from
				     * policy_eval */
	uint16_t flags;             /* SNAP_RRSET_* */
	uint16_t reserved;
};

/* The RRset node n's denial record (struct snap_denial) describes: its
 * NSEC, else its NSEC3, else NULL. blob is the whole snapshot. The
 * compiler writes the record from it and snap_open checks the record
 * against it. */
static inline const struct snap_rrset *snap_denial_rrset(const uint8_t *blob,
							 const struct snap_node *n)
{
	const struct snap_rrset *set = (const void *)(blob + n->rrsets), *n3 = NULL;

	for (uint32_t k = 0; k < n->rrset_count; k++) {
		if (set[k].type == RRTYPE_NSEC)
			return &set[k];
		if (set[k].type == RRTYPE_NSEC3)
			n3 = &set[k];
	}
	return n3;
}

/* Targets of NS/MX/SRV (etc.) RRs that exist in the same zone, for the
 * additional section: node indexes in RR order (glue included). For a
 * CNAME RRset (v2.0) it is no additional data but a link: one node, its
 * target, when that name is a node of the same zone and no other zone of
 * the snapshot is closer to it; the chain goes on there without a lookup
 * (snap_cname_link). */
struct snap_addl {
	uint32_t count;
	uint32_t node[];
	/* v2.1: then uint32_t glue, the offset of a struct snap_glue (4-byte
	 * aligned; 0 = none), which RRsets with the same glue share; 2.0
	 * readers stop at node[count - 1]. */
};

/* v2.1, after an NS, MX or SRV RRset's additional list: the additional
 * section the engine writes for it, pre-rendered. It holds the A and
 * AAAA RRsets of each listed target (in list order, A then AAAA, data
 * below a zone cut only for NS, as the engine picks them), each RR
 * starting with a 2-byte owner to be pointed at the target's name where
 * the response has it. A referral then copies one run of bytes instead of
 * visiting every glue node. Left out when a target's address RRset is a
 * traffic policy (chosen per query). */
#define SNAP_GLUE_SIGNED  (1u << 0)     /* a target has RRSIGs: the blob is
					 * what DO=0 gets (with DO=1 the
					 * engine writes the glue itself) */
struct snap_glue_fix {
	uint16_t at;                /* RR start in wire[] */
	uint16_t rr;                /* the RRset's RR that names the target */
	uint16_t target;            /* where that target name starts, from
				     * the RRset's first byte as stored */
	uint16_t reserved;
};

struct snap_glue {
	uint16_t count;             /* RRs, one fix each */
	uint16_t flags;             /* SNAP_GLUE_* */
	uint32_t wire_len;
	struct snap_glue_fix fix[];
	/* then wire_len bytes of RRs (owner, type, class, TTL, RDLENGTH,
	 * RDATA), then zero padding to 4 bytes */
};

/* Bytes of glue block g, fixes and wire, without the padding. */
static inline uint64_t snap_glue_size(const struct snap_glue *g)
{
	return sizeof(*g) + (uint64_t)g->count * sizeof(g->fix[0]) + g->wire_len;
}

/* Optional trailer after content_size: a detached controller signature
 * over header.sha256 (issue 5 fills it). */
#define SNAP_SIG_MAGIC      "POP53SIG"
#define SNAP_SIG_ED25519    1
struct snap_sig {
	char     magic[8];
	uint32_t alg;               /* SNAP_SIG_* */
	uint32_t size;              /* sizeof(struct snap_sig) */
	uint8_t  key_id[32];        /* SHA-256 of the raw public key */
	uint8_t  sig[64];
};

/* Hash of a lower-cased wire name (len bytes, including the root label).
 * Shared by the compiler and the reader: changing it is a major version. */
static inline uint32_t snap_name_hash(const uint8_t *name, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t v;
		__builtin_memcpy(&v, name + i, 8);
		h = (h ^ v) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	if (i < len) {
		uint64_t v = 0;
		__builtin_memcpy(&v, name + i, len - i);
		h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
		h ^= h >> 29;
	}
	h *= 0x9e3779b97f4a7c15ull;
	return (uint32_t)(h >> 32);
}

#endif
