/*
 * policy_format.h — the byte layout of a compiled policy blob (internal to
 * zones/policy*.c; described for other readers in docs/policy.md).
 *
 * One blob, position-independent: every reference is a 32-bit offset from
 * the start of the blob or an index into one of its tables, never a
 * pointer. Little-endian (the only byte order pop53 runs on; the structs
 * are read in place, so a big-endian build refuses to compile). Sections
 * start on 8-byte boundaries; padding and reserved fields are zero.
 *
 *  header | records | nodes | members | endpoints | checks | check refs |
 *  regions | data (names, RDATA, strings)
 */
#ifndef POP53_POLICY_FORMAT_H
#define POP53_POLICY_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the policy blob is little-endian and read in place"
#endif

#define POL_MAGIC          "P53POLCY"
#define POL_VERSION_MAJOR  1
#define POL_VERSION_MINOR  0
#define POL_NONE           UINT32_MAX

/* A string in the data section: len bytes at off, then a NUL. */
struct pol_str {
	uint32_t off;
	uint32_t len;
};

struct pol_header {
	char     magic[8];          /* POL_MAGIC, no NUL */
	uint16_t version_major;
	uint16_t version_minor;
	uint32_t size;              /* bytes in the blob */
	uint32_t nrecords, records; /* struct pol_record[], sorted (name, type) */
	uint32_t nnodes, nodes;     /* struct pol_node[] */
	uint32_t nmembers, members; /* struct pol_member[] */
	uint32_t nendpoints, endpoints;   /* struct pol_endpoint[] */
	uint32_t nchecks, checks;   /* struct pol_check[], in file order */
	uint32_t nrefs, refs;       /* uint32_t[]: calculated checks' members */
	uint32_t nregions, regions; /* struct pol_str[]: latency region names */
	uint32_t data, data_len;    /* the data section */
	uint32_t reserved[2];
};

/* record.flags */
#define POL_REC_CLIENT  (1u << 0)   /* the tree has a client-dependent policy */

struct pol_record {
	uint32_t name;              /* offset of the lower-cased wire name */
	uint16_t name_len;
	uint16_t type;              /* RRTYPE_A, _AAAA, _CNAME, _TXT */
	uint32_t ttl;
	uint32_t root;              /* node index: first node of the tree */
	uint32_t node_count;        /* the tree is nodes [root, root + node_count) */
	uint32_t flags;             /* POL_REC_* */
};

enum pol_kind { POL_SIMPLE, POL_WEIGHTED, POL_LATENCY, POL_GEOLOCATION, POL_GEOPROXIMITY,
		POL_FAILOVER, POL_MULTIVALUE, POL_KIND_COUNT };

/* node.flags */
#define POL_NODE_FAIL_OPEN  (1u << 0)   /* all down: answer as if all were up */
#define POL_NODE_FALLBACK   (1u << 1)   /* geolocation: an unhealthy match falls
					 * back to the less specific ones */

/* One policy. Its members are [first, first + count); a failover's
 * last-resort endpoints are members [lr_first, lr_first + lr_count). A
 * member pointing at a node c requires c > this node's index, c inside the
 * same record's tree, node c's parent_member = that member and depth + 1:
 * the nodes of a record form a tree of bounded depth. */
struct pol_node {
	uint8_t  kind;              /* enum pol_kind */
	uint8_t  flags;             /* POL_NODE_* */
	uint8_t  depth;             /* 1 for a record's root */
	uint8_t  reserved0;
	uint16_t pick;              /* weighted: N; multivalue: most; else 0 */
	uint16_t reserved1;
	uint32_t first, count;
	uint32_t lr_first, lr_count;
	uint32_t parent_member;     /* POL_NONE for a root */
	uint32_t reserved2;
};

/* member.kind */
enum { POL_MEM_ENDPOINT = 0, POL_MEM_NODE = 1 };
/* member.loc_kind (geolocation) */
enum { POL_LOC_NONE = 0, POL_LOC_DEFAULT, POL_LOC_CONTINENT, POL_LOC_COUNTRY,
       POL_LOC_SUBDIVISION };
/* member.flags */
#define POL_MEM_COORDS  (1u << 0)   /* lat_e6, lon_e6 and vec are set */

/* One member of a policy: an endpoint or a nested policy, with what its
 * parent needs to choose it. */
struct pol_member {
	uint8_t  kind;              /* POL_MEM_* */
	uint8_t  loc_kind;          /* POL_LOC_* */
	int8_t   bias;              /* geoproximity: -99..99 */
	uint8_t  flags;             /* POL_MEM_* flags */
	uint32_t target;            /* endpoint or node index */
	uint32_t check;             /* check index, POL_NONE = always healthy */
	uint32_t weight;            /* weighted: 0..POLICY_MAX_WEIGHT */
	uint32_t region;            /* latency: region index, else POL_NONE */
	char     loc[8];            /* continent "EU"; country "DE"; subdivision
				     * "US" "CA" -> "USCA"; NUL-padded */
	int32_t  lat_e6, lon_e6;    /* microdegrees */
	int32_t  vec[3];            /* unit vector of (lat, lon), scaled by 2^30 */
};

struct pol_endpoint {
	uint16_t type;              /* RRTYPE_A, _AAAA, _CNAME, _TXT */
	uint16_t rdlen;
	uint32_t rdata;             /* offset of the wire RDATA */
};

struct pol_check {
	uint8_t  type;              /* enum policy_check_type */
	uint8_t  op;                /* enum policy_check_op */
	uint16_t port;
	uint16_t status_lo, status_hi;
	uint32_t interval_ms, timeout_ms;
	uint8_t  fall, rise, quorum, reserved0;
	uint32_t level;             /* 0, or 1 + the highest member level: a
				     * member's level is always lower, so
				     * calculated checks have no cycle */
	uint32_t n;                 /* at_least */
	uint32_t refs, nrefs;       /* calculated: refs[refs .. refs + nrefs) */
	struct pol_str name, target, host, path, body;
	uint32_t reserved1;
};

/*
 * The compact form: what policy_eval and the answer read, built by
 * policy_open from the validated blob (memory of the process, not part of
 * the blob). One block per record, starting on a cache line: a pol_crec,
 * the record's quick answers if it has them (pol_quick, below), the
 * record's nodes (pol_cnode, in blob order), its members (pol_cmem, in
 * blob order), then one pol_cep per endpoint member with the endpoint's
 * type and RDATA (inline up to POL_CEP_INLINE bytes). A record's whole
 * answer is then a few adjacent lines instead of runs of six tables of
 * wide entries. Indexes inside a block are local: node 0 is the root,
 * member 0 the root's first member.
 */
#define POL_LINE 64

/* pol_crec.flags beside POL_REC_*: a pol_quick follows the pol_crec */
#define POL_CREC_QUICK      (1u << 7)

struct pol_crec {
	uint32_t ttl;
	uint16_t type;
	uint8_t  flags;             /* POL_REC_*, POL_CREC_QUICK */
	uint8_t  reserved;
	uint16_t nodes_at;          /* byte offset of the nodes in the block */
	uint16_t mem_at;            /* byte offset of the members in the block */
	uint32_t mem_base;          /* blob index of member 0 */
};

/*
 * Quick answers: for a record whose answers are addresses or text (no
 * name, no alias), what policy_eval selects while every check it reads is
 * up, rendered ahead: the RRs as a snapshot stores them (snap_format.h:
 * owner pointer, type, class, TTL, RDLENGTH, RDATA). The shapes: from the
 * root through failovers' first members down to an endpoint (one
 * outcome), to a weighted policy drawing one of its endpoints (an outcome
 * per member of weight > 0, chosen by the same draw from the same random
 * number), or to a simple or multivalue policy of endpoints (an outcome
 * per rotation: the RRs of the members twice over, each outcome a window
 * of them). Such an answer is a pol_quick, its checks (uint32_t[nchecks]),
 * outcomes (pol_qout[nout]) and wire; the checks highest first.
 *
 * A geolocation root has a pol_quick with ngeo set, its members' rules
 * (pol_qgeo[ngeo]) and, for each member of one of those shapes, the
 * member's answer as above (its own check among the answer's): the most
 * specific rule the client matches picks the member, as policy_eval does
 * while that member is up.
 *
 * Sizes are capped (POL_QUICK_MAX_*): a bigger record is evaluated as any
 * other.
 */
#define POL_QUICK_MAX_OUT       32
#define POL_QUICK_MAX_CHECKS    32
#define POL_QUICK_MAX_BYTES     1024
#define POL_QUICK_MAX_GEO_BYTES 4096

struct pol_quick {
	uint8_t  draw;              /* 1: the outcome by weight, 0: by rotation;
				     * geolocation: 1 when a rule other than
				     * the default makes it depend on the client */
	uint8_t  nchecks;
	uint8_t  nout;
	uint8_t  ngeo;              /* a geolocation's members, else 0 */
	uint32_t total;             /* draw: the weights' sum */
};

/* A geolocation member's rule, as pol_cmem.aux and POL_CREF_LOC. */
struct pol_qgeo {
	uint32_t aux;
	uint8_t  loc;               /* POL_LOC_* */
	uint8_t  reserved;
	uint16_t at;                /* its answer's pol_quick: bytes from the
				     * root's; 0 when it has none */
};

struct pol_qout {
	uint32_t cum;               /* draw: the weights up to this outcome's, added */
	uint16_t at;                /* its wire: bytes from the pol_quick */
	uint16_t len;
	uint16_t count;             /* its RRs */
	uint16_t reserved;
};

/* pol_cnode.flags beside POL_NODE_*: a geolocation with a rule other than
 * the default (its answer depends on the client) */
#define POL_CNODE_CLIENT    (1u << 7)
/* ... and a node that, while the checks it reads are up, answers one
 * endpoint through a chain of failovers' first members ending at that
 * endpoint or at a weighted policy of endpoints drawing one (the common
 * shapes, which policy_eval then answers without its general walk) */
#define POL_CNODE_CHAIN     (1u << 6)

struct pol_cnode {
	uint8_t  kind;              /* enum pol_kind */
	uint8_t  flags;             /* POL_NODE_*, POL_CNODE_* */
	uint8_t  pick;              /* as pol_node.pick (<= POLICY_MAX_ANSWER) */
	uint8_t  lr_count;          /* last-resort members follow the count ones */
	uint16_t count;
	uint16_t first;             /* local index of the first member */
};

/* pol_cmem.ref: a nested policy (its local node index) or an endpoint
 * (the offset of its pol_cep in the block, in 4-byte units), and the
 * member's POL_LOC_* */
#define POL_CREF_NODE        (1u << 31)
#define POL_CREF_LOC(r)      (((r) >> 28) & 7u)
#define POL_CREF_INDEX(r)    ((r) & 0x0fffffffu)

struct pol_cmem {
	uint32_t ref;               /* POL_CREF_* */
	uint32_t check;             /* POL_NONE: always healthy */
	uint32_t aux;               /* weighted: the weights of the members
				     * before and this one's, added; latency:
				     * region; geolocation: the bits of the
				     * packed location (zones/geo.h) that a
				     * client's must equal under
				     * pol_loc_mask[loc], or POL_LOC_NEVER */
};

/* An endpoint as the answer writes it: followed by the RDATA when rdlen
 * <= POL_CEP_INLINE (padded to 4 bytes), else by its uint32_t offset in
 * the blob. */
#define POL_CEP_INLINE 16

struct pol_cep {
	uint16_t type;
	uint16_t rdlen;
	uint32_t ep;                /* endpoint index */
};

/* The bits of a packed location each rule compares, by POL_LOC_* (a
 * subdivision depends on its country, so both are compared). */
static const uint32_t pol_loc_mask[5] = {
	[POL_LOC_NONE] = 0, [POL_LOC_DEFAULT] = 0, [POL_LOC_CONTINENT] = 0xe0000000u,
	[POL_LOC_COUNTRY] = 0x1ff80000u, [POL_LOC_SUBDIVISION] = 0x1ffbffffu,
};
/* No location equals this under any mask (bit 18 is in none). */
#define POL_LOC_NEVER (1u << 18)

/* Blocks longer than this are prefetched only this far: a huge tree is
 * rare, and loading all of it would evict more than it saves. */
#define POL_PREFETCH_MAX 512

/* The opened blob (policy.h's struct policy): section pointers set by
 * policy_open once everything was validated. */
struct policy {
	uint8_t *cb;                /* the compact blocks (POL_LINE aligned) */
	uint32_t *cat;              /* nrecords + 1 block starts, in lines,
				     * each with POL_CAT_CLIENT if the record
				     * has it (POL_REC_CLIENT) */
	uint32_t *mloc;             /* while opening: per member, its location
				     * as a packed code (GEO_LOC_NONE for default
				     * and non-geolocation members) */
	const uint8_t *b;
	size_t len;
	const struct pol_header *h;
	const struct pol_record *recs;
	const struct pol_node *nodes;
	const struct pol_member *mem;
	const struct pol_endpoint *eps;
	const struct pol_check *checks;
	const uint32_t *refs;
	const struct pol_str *regions;
};

/* Build p->cb and p->cat from the validated blob and p->mloc. Returns 0,
 * P53_ELIMIT (a record too big for the compact form's fields) or
 * P53_ENOMEM. */
int policy_compact_build(struct policy *p);

/* In a block start: the record depends on the client, so that the engine
 * can locate it before the block has landed; it has quick answers, whose
 * lines come first (POL_PREFETCH_QUICK of them are loaded ahead). */
#define POL_CAT_CLIENT   (1u << 31)
#define POL_CAT_QUICK    (1u << 30)
#define POL_CAT_LINE(v)  ((v) & ~(POL_CAT_CLIENT | POL_CAT_QUICK))
#define POL_PREFETCH_QUICK 128

/* Record ri's block (ri < nrecords). */
static inline const struct pol_crec *policy_block(const struct policy *p, uint32_t ri)
{
	return (const struct pol_crec *)(p->cb + (size_t)POL_CAT_LINE(p->cat[ri]) * POL_LINE);
}

/* Record ri's block length in bytes. */
static inline uint32_t policy_block_len(const struct policy *p, uint32_t ri)
{
	return (POL_CAT_LINE(p->cat[ri + 1]) - POL_CAT_LINE(p->cat[ri])) * POL_LINE;
}

static inline const struct pol_cnode *policy_block_nodes(const struct pol_crec *r)
{
	return (const struct pol_cnode *)((const uint8_t *)r + r->nodes_at);
}

static inline const struct pol_cmem *policy_block_members(const struct pol_crec *r)
{
	return (const struct pol_cmem *)((const uint8_t *)r + r->mem_at);
}

/* The endpoint at offset at (4-byte units) of block r. */
static inline const struct pol_cep *policy_block_cep(const struct pol_crec *r, uint32_t at)
{
	return (const struct pol_cep *)((const uint8_t *)r + (size_t)at * 4);
}

_Static_assert(sizeof(struct pol_header) == 88, "pol_header layout");
_Static_assert(sizeof(struct pol_record) == 24, "pol_record layout");
_Static_assert(sizeof(struct pol_node) == 32, "pol_node layout");
_Static_assert(sizeof(struct pol_member) == 48, "pol_member layout");
_Static_assert(sizeof(struct pol_endpoint) == 8, "pol_endpoint layout");
_Static_assert(sizeof(struct pol_check) == 80, "pol_check layout");
_Static_assert(sizeof(struct pol_crec) == 16, "pol_crec layout");
_Static_assert(sizeof(struct pol_cnode) == 8, "pol_cnode layout");
_Static_assert(sizeof(struct pol_quick) == 8, "pol_quick layout");
_Static_assert(sizeof(struct pol_qout) == 12, "pol_qout layout");
_Static_assert(sizeof(struct pol_qgeo) == 8, "pol_qgeo layout");
_Static_assert(sizeof(struct pol_cmem) == 12, "pol_cmem layout");
_Static_assert(sizeof(struct pol_cep) == 8, "pol_cep layout");

#endif
