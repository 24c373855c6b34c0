/*
 * snap_compile.c — turn checked in-memory zones into one snapshot blob.
 *
 * Two phases. The build phase works on one zone at a time: owner names go
 * through a hash map to nodes (ancestors are created as empty
 * non-terminals on the way), records are bucketed per node by a counting
 * sort and grouped into RRsets, and nodes are put in canonical order by
 * sorting siblings on their first label and walking the tree, which is far
 * cheaper than sorting whole names. The build also sums up the size of
 * every section. The emit phase then writes everything into a single
 * zeroed allocation, walking nodes in input order for locality (see
 * emit_zone); the same input always gives the same bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "dname.h"
#include "error.h"
#include "policy.h"
#include "rdata.h"
#include "snap.h"
#include "snap_sign.h"
#include "nsec3.h"

#define ALIGN8(x)       (((x) + 7) & ~(uint64_t)7)
#define RR_HDR          12      /* C0 0C TYPE CLASS TTL RDLENGTH */
#define SMALL_SORT      12      /* insertion sort below this */
#define RADIX_MIN       256     /* radix-sort sibling lists from this size */
#define HUGE_MIN        (4u << 20)
#define MAX_DEPTH       (DNAME_MAXLABELS + 2)

struct bnode {
	uint32_t name;          /* arena offset of the lower-cased wire name */
	uint32_t hash;          /* snap_name_hash of that name */
	uint32_t parent;        /* build id of the parent, SNAP_NONE at apex */
	uint32_t idx;           /* canonical index in the zone's node array */
	uint32_t rr_first;      /* first entry of this node in zb->order */
	uint32_t rr_count;
	uint32_t set_first;     /* first RRset in zb->set */
	uint32_t kid_first;     /* first child in zb->kids */
	uint32_t kid_count;
	uint32_t deleg;         /* canonical index, or SNAP_NONE */
	uint32_t wildcard;      /* canonical index, or SNAP_NONE */
	uint32_t name_off;      /* blob offset of the name once written */
	uint32_t sets_off;      /* blob offset of its RRset array once written */
	uint16_t set_count;
	uint16_t flags;
	uint8_t len;
};

struct bset {
	uint32_t first;         /* first RR in zb->order */
	uint32_t ttl;
	uint32_t wire_len;
	uint32_t addl;          /* first word in zb->addl + 1, 0 = none */
	uint32_t glue;          /* its glue (struct snap_glue) in zb->glue + 1 */
	uint32_t policy;        /* policy record index + 1, 0 = static */
	uint16_t type;
	uint16_t count;
};

struct kid {
	uint64_t key;           /* first label bytes, big-endian, 0-padded */
	uint32_t id;
	uint32_t pad;
};

/* Everything known about one zone between build and emit. */
struct zbuild {
	const struct zone *z;
	const struct zone_rr *rr;
	size_t nrr;
	struct diag *d;
	uint8_t apex[DNAME_MAXLEN];
	size_t apex_len;

	uint8_t *names;         /* arena of node names */
	size_t names_len, names_cap;
	struct bnode *node;
	uint32_t nnode, node_cap;
	struct snap_hslot *map; /* {hash, build id + 1}, index 0 = empty */
	uint32_t map_mask;

	uint32_t *rr_node;      /* build id of each record's owner */
	uint32_t *order;        /* record indexes bucketed per node */
	struct bset *set;
	uint32_t nset;
	struct kid *kids;
	uint32_t *inner;        /* build ids of nodes with children, pre-order */
	uint32_t ninner;
	uint32_t *addl;         /* additional lists: count, then indexes */
	size_t naddl, addl_cap;
	size_t nlists;          /* additional lists (each gets a glue word) */
	uint8_t *glue;          /* pre-rendered glue (struct snap_glue), */
	size_t glue_len, glue_cap;      /* each distinct one once */
	uint32_t *gtab;         /* glue_len + 1 of each, by content hash */
	size_t gmask;

	uint32_t soa_serial, neg_ttl, soa_set;
	uint32_t nsig;          /* per-type RRSIG entries (the zone's array) */
	uint32_t min_expiry;    /* earliest RRSIG expiration, 0 = none */
	bool nsec3;             /* NSEC3PARAM at the apex */
	struct snap_nsec3 n3;   /* its parameters */
	struct snap_nsec3_hash *n3h;    /* NSEC3 owners, by build id first */
	uint32_t n3count;
	uint64_t data_size;     /* RRset arrays, names and wire (data_unit) */
	uint32_t hash_slots;

	/* layout in the blob */
	uint64_t off_nodes, off_hash, off_sets, off_data, off_addl, off_glue;
	uint64_t off_kids;      /* children table (signed zones), 0 = none */
	uint64_t off_nsec3;     /* NSEC3 table, 0 = none */
	uint64_t off_denial;    /* denial records (signed zones), 0 = none */
};

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static inline uint8_t *put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static uint32_t pow2_at_least(uint64_t n)
{
	uint64_t s = 2;

	while (s < n)
		s <<= 1;
	return s > (1ull << 31) ? 0 : (uint32_t)s;
}

/* Filling hundreds of megabytes page by page is dominated by page faults
 * (several microseconds each under a hypervisor); transparent huge pages
 * cut them by 512. Only a hint: harmless where THP is off. */
static void hint_huge(void *p, size_t n)
{
	uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
	uintptr_t e = ((uintptr_t)p + n) & ~(uintptr_t)4095;

	if (n >= HUGE_MIN && e > a)
		madvise((void *)a, e - a, MADV_HUGEPAGE);
}

static void *big_alloc(size_t n, bool zero)
{
	void *p = zero ? calloc(1, n ? n : 1) : malloc(n ? n : 1);

	if (p)
		hint_huge(p, n);
	return p;
}

static void *big_realloc(void *old, size_t n)
{
	void *p = realloc(old, n);

	if (p)
		hint_huge(p, n);
	return p;
}

static void zb_free(struct zbuild *zb)
{
	free(zb->names);
	free(zb->node);
	free(zb->map);
	free(zb->rr_node);
	free(zb->order);
	free(zb->set);
	free(zb->kids);
	free(zb->inner);
	free(zb->addl);
	free(zb->glue);
	free(zb->gtab);
	free(zb->n3h);
	memset(zb, 0, sizeof(*zb));
}

static const uint8_t *bname(const struct zbuild *zb, uint32_t id)
{
	return zb->names + zb->node[id].name;
}

/* ---- owner name -> node map ------------------------------------------- */

static uint32_t map_find(const struct zbuild *zb, const uint8_t *name,
			 size_t len, uint32_t h)
{
	for (uint32_t pos = h & zb->map_mask;; pos = (pos + 1) & zb->map_mask) {
		const struct snap_hslot *m = &zb->map[pos];
		const struct bnode *n;

		if (!m->index)
			return SNAP_NONE;
		if (m->hash != h)
			continue;
		n = &zb->node[m->index - 1];
		if (n->len == len && memcmp(zb->names + n->name, name, len) == 0)
			return m->index - 1;
	}
}

static void map_put(struct snap_hslot *map, uint32_t mask, uint32_t h,
		    uint32_t id)
{
	uint32_t pos = h & mask;

	while (map[pos].index)
		pos = (pos + 1) & mask;
	map[pos].hash = h;
	map[pos].index = id + 1;
}

static int map_grow(struct zbuild *zb)
{
	uint32_t size = pow2_at_least(((uint64_t)zb->map_mask + 1) * 2);
	struct snap_hslot *m = size ? big_alloc(size * sizeof(*m), true) : NULL;

	if (!m)
		return P53_ENOMEM;
	for (uint32_t id = 0; id < zb->nnode; id++)
		map_put(m, size - 1, zb->node[id].hash, id);
	free(zb->map);
	zb->map = m;
	zb->map_mask = size - 1;
	return 0;
}

/* Append a node for a name known to be absent; parent is set by caller. */
static int node_add(struct zbuild *zb, const uint8_t *name, size_t len,
		    uint32_t h, uint32_t *id)
{
	if (zb->nnode == zb->node_cap) {
		uint32_t cap = zb->node_cap * 2;
		struct bnode *n;

		if (zb->node_cap >= (1u << 30))
			return P53_ERANGE;
		if (!(n = big_realloc(zb->node, (size_t)cap * sizeof(*n))))
			return P53_ENOMEM;
		zb->node = n;
		zb->node_cap = cap;
	}
	if (zb->names_len + len > zb->names_cap) {
		size_t cap = zb->names_cap * 2;
		uint8_t *a = big_realloc(zb->names, cap);

		if (!a)
			return P53_ENOMEM;
		zb->names = a;
		zb->names_cap = cap;
	}
	if (zb->names_len + len > UINT32_MAX)
		return P53_ERANGE;
	if ((uint64_t)(zb->nnode + 1) * 2 > (uint64_t)zb->map_mask + 1) {
		int ret = map_grow(zb);
		if (ret < 0)
			return ret;
	}
	memcpy(zb->names + zb->names_len, name, len);
	zb->node[zb->nnode] = (struct bnode){
		.name = (uint32_t)zb->names_len, .hash = h, .parent = SNAP_NONE,
		.deleg = SNAP_NONE, .wildcard = SNAP_NONE, .len = (uint8_t)len,
	};
	zb->names_len += len;
	map_put(zb->map, zb->map_mask, h, zb->nnode);
	*id = zb->nnode++;
	return 0;
}

/* Node of lower-cased `name` (not in the arena: it may move) whose hash is
 * h, creating it and every missing ancestor up to the closest existing
 * one. P53_EZONE if the name is not at or below the apex. */
static int node_get(struct zbuild *zb, const uint8_t *name, size_t len,
		    uint32_t h, uint32_t *out)
{
	uint32_t id = map_find(zb, name, len, h), child;
	int ret;

	if (id != SNAP_NONE) {
		*out = id;
		return 0;
	}
	/* The apex exists, so an absent name not longer than it is outside. */
	if (len <= zb->apex_len)
		return P53_EZONE;
	if ((ret = node_add(zb, name, len, h, &child)) < 0)
		return ret;
	*out = child;
	for (;;) {
		size_t skip = 1u + name[0];

		name += skip;
		len -= skip;
		h = snap_name_hash(name, len);
		if ((id = map_find(zb, name, len, h)) != SNAP_NONE)
			break;
		if (len <= zb->apex_len)
			return P53_EZONE;
		if ((ret = node_add(zb, name, len, h, &id)) < 0)
			return ret;
		zb->node[child].parent = id;
		child = id;
	}
	zb->node[child].parent = id;
	return 0;
}

struct owner {
	uint8_t name[DNAME_MAXLEN];
	size_t len;
	uint32_t hash;
};

static void outside_zone(const struct zbuild *zb, const struct zone_rr *rr,
			 const uint8_t *name)
{
	char text[DNAME_TEXT_MAX], ztext[DNAME_TEXT_MAX];

	dname_to_text(name, text, sizeof(text));
	dname_to_text(zb->apex, ztext, sizeof(ztext));
	diag_error(zb->d, zone_file_name(zb->z, rr->file), rr->line, 0,
		   "%s is outside zone %s", text, ztext);
}

/* Owners are hashed OWNER_AHEAD records in advance and their map slots
 * prefetched: most owners are new names, whose probe would otherwise be a
 * cache miss each. Records of one owner usually follow each other, so the
 * previous owner is compared before probing at all. The ring is twice the
 * distance so that the previous owner is never overwritten early. */
#define OWNER_AHEAD 8
#define OWNER_RING  (2 * OWNER_AHEAD)
static int owners_to_nodes(struct zbuild *zb)
{
	struct owner ring[OWNER_RING], *o, *prev = NULL;
	uint32_t id = 0;
	int ret;

	for (size_t i = 0; i < zb->nrr + OWNER_AHEAD; i++) {
		size_t k = i - OWNER_AHEAD;

		if (i < zb->nrr) {
			o = &ring[i % OWNER_RING];
			o->len = dname_copy_lower(o->name, zone_rr_owner(zb->z,
							&zb->rr[i]));
			o->hash = snap_name_hash(o->name, o->len);
			__builtin_prefetch(&zb->map[o->hash & zb->map_mask]);
		}
		if (i < OWNER_AHEAD)
			continue;
		o = &ring[k % OWNER_RING];
		if (!prev || prev->len != o->len ||
		    memcmp(prev->name, o->name, o->len) != 0) {
			ret = node_get(zb, o->name, o->len, o->hash, &id);
			if (ret == P53_EZONE)
				outside_zone(zb, &zb->rr[k], o->name);
			if (ret < 0)
				return ret;
		}
		zb->rr_node[k] = id;
		prev = o;
	}
	return 0;
}

/* ---- records -> RRsets ------------------------------------------------ */

/* Type, then RDATA as unsigned bytes with the shorter first (the order of
 * RFC 4034 6.3 for lower-case RDATA), then file order. */
static int rr_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct zbuild *zb = ctx;
	uint32_t ia = *(const uint32_t *)pa, ib = *(const uint32_t *)pb;
	const struct zone_rr *a = &zb->rr[ia], *b = &zb->rr[ib];
	size_t n = a->rdlen < b->rdlen ? a->rdlen : b->rdlen;
	int c;

	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	c = n ? memcmp(zone_rr_rdata(zb->z, a), zone_rr_rdata(zb->z, b), n) : 0;
	if (c)
		return c;
	if (a->rdlen != b->rdlen)
		return a->rdlen < b->rdlen ? -1 : 1;
	return ia < ib ? -1 : ia > ib;
}

/* Most nodes hold one to three records: qsort's setup would dominate. */
static void rr_sort(struct zbuild *zb, uint32_t *v, size_t n)
{
	if (n > SMALL_SORT) {
		qsort_r(v, n, sizeof(*v), rr_cmp, zb);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		uint32_t x = v[i];
		size_t j = i;

		for (; j > 0 && rr_cmp(&v[j - 1], &x, zb) > 0; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

static bool rr_same(const struct zbuild *zb, uint32_t ia, uint32_t ib)
{
	const struct zone_rr *a = &zb->rr[ia], *b = &zb->rr[ib];

	return a->type == b->type && a->rdlen == b->rdlen &&
	       memcmp(zone_rr_rdata(zb->z, a), zone_rr_rdata(zb->z, b),
		      a->rdlen) == 0;
}

/* Counting sort of record indexes by owner node, keeping file order. */
static int bucket_rrs(struct zbuild *zb)
{
	uint32_t pos = 0;

	if (!(zb->order = big_alloc(zb->nrr * sizeof(*zb->order), false)))
		return P53_ENOMEM;
	for (size_t i = 0; i < zb->nrr; i++)
		zb->node[zb->rr_node[i]].rr_count++;
	for (uint32_t id = 0; id < zb->nnode; id++) {
		zb->node[id].rr_first = pos;
		pos += zb->node[id].rr_count;
		zb->node[id].rr_count = 0;
	}
	for (size_t i = 0; i < zb->nrr; i++) {
		struct bnode *n = &zb->node[zb->rr_node[i]];

		zb->order[n->rr_first + n->rr_count++] = (uint32_t)i;
	}
	return 0;
}

/* Sort one node's records, drop exact duplicates and cut RRsets. */
static int node_sets(struct zbuild *zb, struct bnode *n)
{
	uint32_t *o = zb->order + n->rr_first, keep = 0;
	struct bset *cur = NULL;
	uint64_t wire = 0;

	rr_sort(zb, o, n->rr_count);
	n->set_first = zb->nset;
	for (uint32_t k = 0; k < n->rr_count; k++) {
		const struct zone_rr *r = &zb->rr[o[k]];

		if (cur && cur->type == r->type) {
			if (rr_same(zb, o[keep - 1], o[k])) {
				if (r->ttl < cur->ttl)
					cur->ttl = r->ttl;
				continue;
			}
			if (cur->count == UINT16_MAX)
				return P53_ERANGE;
		} else {
			if (n->set_count == UINT16_MAX)
				return P53_ERANGE;
			wire = 0;
			cur = &zb->set[zb->nset++];
			*cur = (struct bset){ .first = n->rr_first + keep,
					      .ttl = r->ttl, .type = r->type };
			n->set_count++;
		}
		o[keep++] = o[k];
		cur->count++;
		if (r->ttl < cur->ttl)
			cur->ttl = r->ttl;
		wire += RR_HDR + r->rdlen;
		if (wire > UINT32_MAX)
			return P53_ERANGE;
		cur->wire_len = (uint32_t)wire;
	}
	n->rr_count = keep;
	return 0;
}

static int build_sets(struct zbuild *zb)
{
	char text[DNAME_TEXT_MAX];
	int ret;

	if (!(zb->set = big_alloc(zb->nrr * sizeof(*zb->set), false)))
		return P53_ENOMEM;
	for (uint32_t id = 0; id < zb->nnode; id++) {
		if ((ret = node_sets(zb, &zb->node[id])) < 0) {
			dname_to_text(bname(zb, id), text, sizeof(text));
			diag_error(zb->d, NULL, 0, 0, "%s: more than 65535 "
				   "RRsets or records in one RRset", text);
			return ret;
		}
	}
	return 0;
}

static const struct bset *node_set(const struct zbuild *zb,
				   const struct bnode *n, uint16_t type)
{
	for (uint32_t i = 0; i < n->set_count; i++) {
		if (zb->set[n->set_first + i].type == type)
			return &zb->set[n->set_first + i];
	}
	return NULL;
}

/* Serial and negative TTL from the apex SOA (RFC 2308 section 5). */
static int read_soa(struct zbuild *zb)
{
	const struct bnode *apex = &zb->node[0];
	const struct bset *s = node_set(zb, apex, RRTYPE_SOA);
	char text[DNAME_TEXT_MAX];
	int n1, n2;

	if (s) {
		const struct zone_rr *r = &zb->rr[zb->order[s->first]];
		const uint8_t *rd = zone_rr_rdata(zb->z, r);

		n1 = dname_wire_len(rd, r->rdlen);
		n2 = n1 < 0 ? -1 : dname_wire_len(rd + n1, r->rdlen - (size_t)n1);
		if (n2 >= 0 && (size_t)n1 + (size_t)n2 + 20 == r->rdlen) {
			uint32_t min = get32(rd + n1 + n2 + 16);

			zb->soa_serial = get32(rd + n1 + n2);
			zb->neg_ttl = min < s->ttl ? min : s->ttl;
			zb->soa_set = (uint32_t)(s - zb->set);
			return 0;
		}
	}
	dname_to_text(zb->apex, text, sizeof(text));
	diag_error(zb->d, NULL, 0, 0, "zone %s: %s SOA record at the apex",
		   text, s ? "malformed" : "no");
	return P53_EZONE;
}

/* ---- canonical node order --------------------------------------------- */

static uint64_t label_key(const uint8_t *name)
{
	uint64_t k = 0;

	for (unsigned i = 0; i < 8; i++)
		k = k << 8 | (i < name[0] ? name[1 + i] : 0);
	return k;
}

/* Siblings differ only in their first label; names are lower-case, so
 * canonical order is bytewise with a shorter label first. */
static int kid_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct kid *a = pa, *b = pb;
	const struct zbuild *zb = ctx;
	const uint8_t *la, *lb;
	int c;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	la = bname(zb, a->id);
	lb = bname(zb, b->id);
	c = memcmp(la + 1, lb + 1, la[0] < lb[0] ? la[0] : lb[0]);
	return c ? c : (la[0] > lb[0]) - (la[0] < lb[0]);
}

/* Flags, zone cut, wildcard link and RRset position of node id, which
 * gets canonical index idx; its parent has been done already. */
static void node_flags(struct zbuild *zb, uint32_t id, uint32_t idx)
{
	struct bnode *n = &zb->node[id];
	struct bnode *p = n->parent == SNAP_NONE ? NULL : &zb->node[n->parent];
	const uint8_t *name = bname(zb, id);
	uint16_t f = 0;

	if (!p)
		f |= SNAP_NODE_APEX;
	if (!n->set_count)
		f |= SNAP_NODE_ENT;
	if (name[0] == 1 && name[1] == '*')
		f |= SNAP_NODE_WILDCARD;
	for (uint32_t k = 0; k < n->set_count; k++) {
		uint16_t t = zb->set[n->set_first + k].type;

		if (t == RRTYPE_CNAME)
			f |= SNAP_NODE_CNAME;
		else if (t == RRTYPE_DNAME)
			f |= SNAP_NODE_DNAME;
		else if (t == RRTYPE_NS && p)
			f |= SNAP_NODE_DELEG;
	}
	if (p && p->deleg != SNAP_NONE) {
		n->deleg = p->deleg;
		f |= SNAP_NODE_OCCLUDED;
	} else if (f & SNAP_NODE_DELEG) {
		n->deleg = idx;
	}
	if (p && (f & SNAP_NODE_WILDCARD))
		p->wildcard = idx;
	n->flags = f;
	n->idx = idx;
	if (n->kid_count)
		zb->inner[zb->ninner++] = id;
}

/* LSD radix sort on the 8-byte keys, then full comparisons only inside
 * runs of equal keys: a million siblings sort in a few passes over memory
 * instead of twenty rounds of comparisons through the name arena. */
static void sort_kids(struct zbuild *zb, struct kid *v, size_t n,
		      struct kid *tmp)
{
	uint32_t count[8][256];
	struct kid *src = v, *dst = tmp, *t;

	if (n < RADIX_MIN) {
		qsort_r(v, n, sizeof(*v), kid_cmp, zb);
		return;
	}
	memset(count, 0, sizeof(count));
	for (size_t i = 0; i < n; i++) {
		for (unsigned b = 0; b < 8; b++)
			count[b][(src[i].key >> (8 * b)) & 255]++;
	}
	for (unsigned b = 0; b < 8; b++) {
		uint32_t sum = 0;

		if (count[b][(src[0].key >> (8 * b)) & 255] == n)
			continue;       /* every key has the same byte here */
		for (unsigned k = 0; k < 256; k++) {
			uint32_t c = count[b][k];

			count[b][k] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[b][(src[i].key >> (8 * b)) & 255]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && v[j].key == v[i].key; j++)
			;
		if (j - i > 1)
			qsort_r(v + i, j - i, sizeof(*v), kid_cmp, zb);
	}
}

/* Children of each node as a contiguous run of zb->kids (counting sort by
 * parent), each with its sort key. */
static void link_kids(struct zbuild *zb)
{
	uint32_t pos = 0;

	for (uint32_t id = 1; id < zb->nnode; id++)
		zb->node[zb->node[id].parent].kid_count++;
	for (uint32_t id = 0; id < zb->nnode; id++) {
		zb->node[id].kid_first = pos;
		pos += zb->node[id].kid_count;
		zb->node[id].kid_count = 0;
	}
	for (uint32_t id = 1; id < zb->nnode; id++) {
		struct bnode *p = &zb->node[zb->node[id].parent];

		zb->kids[p->kid_first + p->kid_count++] = (struct kid){
			.key = label_key(bname(zb, id)), .id = id };
	}
}

static int canon_order(struct zbuild *zb)
{
	struct { uint32_t id, next; } stack[MAX_DEPTH];
	uint32_t idx = 0;
	struct kid *tmp;
	int sp = 0;

	zb->kids = big_alloc(zb->nnode * sizeof(*zb->kids), false);
	zb->inner = big_alloc(zb->nnode * sizeof(*zb->inner), false);
	tmp = big_alloc(zb->nnode * sizeof(*tmp), false);
	if (!zb->kids || !zb->inner || !tmp) {
		free(tmp);
		return P53_ENOMEM;
	}
	link_kids(zb);
	for (uint32_t id = 0; id < zb->nnode; id++) {
		const struct bnode *n = &zb->node[id];

		if (n->kid_count > 1)
			sort_kids(zb, zb->kids + n->kid_first, n->kid_count,
				  tmp);
	}
	free(tmp);
	/* Pre-order walk from the apex (build id 0): a parent precedes its
	 * subtree, which is RFC 4034 canonical order. */
	node_flags(zb, 0, idx++);
	stack[0].id = 0;
	stack[0].next = 0;
	while (sp >= 0) {
		const struct bnode *n = &zb->node[stack[sp].id];
		uint32_t c;

		if (stack[sp].next == n->kid_count) {
			sp--;
			continue;
		}
		c = zb->kids[n->kid_first + stack[sp].next++].id;
		node_flags(zb, c, idx++);
		sp++;
		stack[sp].id = c;
		stack[sp].next = 0;
	}
	return 0;
}

/* ---- additional-section targets --------------------------------------- */

static bool wants_addl(uint16_t type)
{
	return type == RRTYPE_NS || type == RRTYPE_MX || type == RRTYPE_SRV ||
	       type == RRTYPE_SVCB || type == RRTYPE_HTTPS;
}

static int addl_push(struct zbuild *zb, uint32_t v)
{
	if (zb->naddl == zb->addl_cap) {
		size_t cap = zb->addl_cap ? zb->addl_cap * 2 : 1024;
		uint32_t *a = realloc(zb->addl, cap * sizeof(*a));

		if (!a)
			return P53_ENOMEM;
		zb->addl = a;
		zb->addl_cap = cap;
	}
	zb->addl[zb->naddl++] = v;
	return 0;
}

/* Canonical index of the in-zone node an RR points at, or SNAP_NONE. */
static uint32_t rr_target(const struct zbuild *zb, const struct zone_rr *r,
			  uint32_t owner_idx)
{
	const uint8_t *rd = zone_rr_rdata(zb->z, r);
	const uint8_t *t = rdata_target(r->type, rd, r->rdlen);
	uint8_t lname[DNAME_MAXLEN];
	size_t len;
	uint32_t id;

	if (!t)
		return SNAP_NONE;
	/* RFC 9460 2.5.2: in ServiceMode "." stands for the owner name. */
	if (t[0] == 0 && (r->type == RRTYPE_SVCB || r->type == RRTYPE_HTTPS))
		return get16(rd) ? owner_idx : SNAP_NONE;
	len = dname_copy_lower(lname, t);
	id = map_find(zb, lname, len, snap_name_hash(lname, len));
	return id == SNAP_NONE ? SNAP_NONE : zb->node[id].idx;
}

static int set_addl(struct zbuild *zb, struct bset *s, uint32_t owner_idx)
{
	size_t start = zb->naddl;
	int ret;

	if ((ret = addl_push(zb, 0)) < 0)
		return ret;
	for (uint32_t k = 0; k < s->count; k++) {
		uint32_t t = rr_target(zb, &zb->rr[zb->order[s->first + k]],
				       owner_idx);
		size_t j = start + 1;

		if (t == SNAP_NONE)
			continue;
		while (j < zb->naddl && zb->addl[j] != t)
			j++;
		if (j < zb->naddl)
			continue;
		if ((ret = addl_push(zb, t)) < 0)
			return ret;
		zb->addl[start]++;
	}
	if (zb->addl[start]) {
		s->addl = (uint32_t)start + 1;
		zb->nlists++;
	} else {
		zb->naddl = start;
	}
	return 0;
}

static int build_addl(struct zbuild *zb)
{
	int ret;

	for (uint32_t id = 0; id < zb->nnode; id++) {
		const struct bnode *n = &zb->node[id];

		for (uint32_t k = 0; k < n->set_count; k++) {
			struct bset *s = &zb->set[n->set_first + k];

			/* a CNAME's list is the link to its target
			 * (snap_format.h); unlink_cnames drops links to
			 * names that another zone is closer to */
			if ((wants_addl(s->type) ||
			     (s->type == RRTYPE_CNAME && s->count == 1)) &&
			    (ret = set_addl(zb, s, n->idx)) < 0)
				return ret;
		}
	}
	if (zb->naddl > UINT32_MAX / 4)
		return P53_ERANGE;
	return 0;
}

/* ---- pre-rendered glue (struct snap_glue) ------------------------------ */

static int glue_reserve(struct zbuild *zb, size_t more)
{
	if (zb->glue_len + more > zb->glue_cap) {
		size_t cap = zb->glue_cap ? zb->glue_cap : 4096;
		uint8_t *g;

		while (cap < zb->glue_len + more)
			cap *= 2;
		if (!(g = realloc(zb->glue, cap)))
			return P53_ENOMEM;
		zb->glue = g;
		zb->glue_cap = cap;
	}
	return 0;
}

/* FNV-1a over n bytes: glue is hashed once, at compile time. */
static uint64_t glue_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (n--)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}

/* The glue just rendered at zb->glue + glue_len (size bytes) kept once:
 * NS RRsets of many delegations often name the same servers (the root's
 * TLDs; a hosting provider's zones). Its place + 1, the first copy's
 * when it is a repeat (then it is dropped). */
static uint32_t glue_keep(struct zbuild *zb, size_t size)
{
	const uint8_t *g = zb->glue + zb->glue_len;
	size_t pos = glue_hash(g, size) & zb->gmask;

	for (; zb->gtab[pos]; pos = (pos + 1) & zb->gmask) {
		const uint8_t *o = zb->glue + zb->gtab[pos] - 1;
		uint64_t osize = snap_glue_size((const struct snap_glue *)(const void *)o);

		if (((osize + 3) & ~(uint64_t)3) == size && !memcmp(o, g, size))
			return zb->gtab[pos];
	}
	zb->gtab[pos] = (uint32_t)zb->glue_len + 1;
	zb->glue_len += size;
	return zb->gtab[pos];
}

/* Where each listed target is first named: for the list's targets in
 * order, the RR of s (as the engine's merge pass matches them) and the
 * offset of the target name from the start of s's wire. False when an
 * offset does not fit 16 bits. */
static bool glue_targets(const struct zbuild *zb, const struct bset *s, uint32_t owner_idx,
			 const uint32_t *list, uint16_t *rr, uint16_t *at)
{
	uint32_t j = 0, off = 0;

	for (uint32_t k = 0; k < s->count && j < list[0]; k++) {
		const struct zone_rr *r = &zb->rr[zb->order[s->first + k]];
		const uint8_t *rd = zone_rr_rdata(zb->z, r);
		const uint8_t *t = rdata_target(r->type, rd, r->rdlen);

		if (t && rr_target(zb, r, owner_idx) == list[1 + j]) {
			if (off + 12 + (size_t)(t - rd) > UINT16_MAX || k > UINT16_MAX)
				return false;
			rr[j] = (uint16_t)k;
			at[j++] = (uint16_t)(off + 12 + (size_t)(t - rd));
		}
		off += 12u + r->rdlen;
	}
	return j == list[0];
}

/* The address RRsets the engine writes for target node t of RRset s
 * (put_additional: data below a zone cut only for NS), or false when one
 * is a traffic policy (its answer is chosen per query). */
static bool glue_sets(const struct zbuild *zb, const struct bset *s, const struct bnode *t,
		      const struct bset *out[2])
{
	out[0] = out[1] = NULL;
	if ((t->flags & SNAP_NODE_OCCLUDED) && s->type != RRTYPE_NS)
		return true;
	out[0] = node_set(zb, t, RRTYPE_A);
	out[1] = node_set(zb, t, RRTYPE_AAAA);
	return !(out[0] && out[0]->policy) && !(out[1] && out[1]->policy);
}

/* Glue of RRset s of node n into zb->glue; s->glue stays 0 when there is
 * none to write or it cannot be pre-rendered. */
static int set_glue(struct zbuild *zb, const uint32_t *by_idx, const struct bnode *n,
		    struct bset *s)
{
	const uint32_t *list = &zb->addl[s->addl - 1];
	uint16_t *rr = malloc((size_t)list[0] * 2 * sizeof(*rr)), *tat = rr + list[0];
	size_t count = 0, wire = 0, head, size, at;
	uint16_t flags = 0;
	struct snap_glue *g;
	uint8_t *p;
	int ret = 0;

	if (!rr)
		return P53_ENOMEM;
	if (!glue_targets(zb, s, n->idx, list, rr, tat))
		goto out;
	for (uint32_t j = 0; j < list[0]; j++) {
		const struct bnode *t = &zb->node[by_idx[list[1 + j]]];
		const struct bset *as[2];

		if (!glue_sets(zb, s, t, as))
			goto out;
		for (int i = 0; i < 2; i++) {
			if (as[i]) {
				count += as[i]->count;
				wire += as[i]->wire_len;
			}
		}
		if ((as[0] || as[1]) && node_set(zb, t, RRTYPE_RRSIG))
			flags |= SNAP_GLUE_SIGNED;
	}
	head = sizeof(*g) + count * sizeof(g->fix[0]);
	size = (head + wire + 3) & ~(size_t)3;
	if (!count || count > UINT16_MAX || wire > UINT16_MAX ||
	    (ret = glue_reserve(zb, size)) < 0)
		goto out;
	g = (struct snap_glue *)(void *)(zb->glue + zb->glue_len);
	memset(g, 0, size);
	g->count = (uint16_t)count;
	g->flags = flags;
	g->wire_len = (uint32_t)wire;
	p = (uint8_t *)g + head;
	count = 0;
	for (uint32_t j = 0; j < list[0]; j++) {
		const struct bnode *t = &zb->node[by_idx[list[1 + j]]];
		const struct bset *as[2];

		(void)glue_sets(zb, s, t, as);
		for (int i = 0; i < 2; i++) {
			for (uint32_t k = 0; as[i] && k < as[i]->count; k++) {
				const struct zone_rr *r = &zb->rr[zb->order[as[i]->first + k]];

				at = (size_t)(p - ((uint8_t *)g + head));
				g->fix[count++] = (struct snap_glue_fix){
					(uint16_t)at, rr[j], tat[j], 0 };
				*p++ = 0xc0;
				*p++ = 0x0c;
				p = put16(p, r->type);
				p = put16(p, r->rclass);
				p = put32(p, as[i]->ttl);
				p = put16(p, r->rdlen);
				memcpy(p, zone_rr_rdata(zb->z, r), r->rdlen);
				p += r->rdlen;
			}
		}
	}
	s->glue = glue_keep(zb, size);
out:
	free(rr);
	return ret;
}

/* Pre-render the glue of every NS, MX and SRV RRset with targets. */
static int build_glue(struct zbuild *zb)
{
	uint32_t *by_idx = malloc(((size_t)zb->nnode + 1) * sizeof(*by_idx));
	size_t slots = 16;      /* the dedup table: at most half full */
	int ret = 0;

	while (slots < 2 * zb->nlists)
		slots *= 2;
	free(zb->gtab);
	zb->gtab = calloc(slots, sizeof(*zb->gtab));
	zb->gmask = slots - 1;
	if (!by_idx || !zb->gtab) {
		free(by_idx);
		return P53_ENOMEM;
	}
	for (uint32_t id = 0; id < zb->nnode; id++)
		by_idx[zb->node[id].idx] = id;
	for (uint32_t id = 0; id < zb->nnode && !ret; id++) {
		const struct bnode *n = &zb->node[id];

		for (uint32_t k = 0; k < n->set_count && !ret; k++) {
			struct bset *s = &zb->set[n->set_first + k];

			if (s->addl && (s->type == RRTYPE_NS || s->type == RRTYPE_MX ||
					s->type == RRTYPE_SRV))
				ret = set_glue(zb, by_idx, n, s);
		}
	}
	free(by_idx);
	if (!ret && zb->glue_len > UINT32_MAX / 2)
		ret = P53_ERANGE;
	return ret;
}

/* ---- RRSIG links -------------------------------------------------------- */

/* Type covered by the k-th RR of RRSIG set s (0 when too short to say). */
static uint16_t sig_covered(const struct zbuild *zb, const struct bset *s,
			    uint32_t k)
{
	const struct zone_rr *r = &zb->rr[zb->order[s->first + k]];

	return r->rdlen >= 2 ? get16(zone_rr_rdata(zb->z, r)) : 0;
}

/* RRSIG RDATA starts with the type covered, so the sorted RRSIG set holds
 * the signatures of each type in one run: its length from the k-th RR on. */
static uint32_t sig_run(const struct zbuild *zb, const struct bset *s,
			uint32_t k, uint16_t *covered)
{
	uint32_t n = 1;

	*covered = sig_covered(zb, s, k);
	while (k + n < s->count && sig_covered(zb, s, k + n) == *covered)
		n++;
	return n;
}

/* Count the per-type RRSIG entries (one per run that covers an RRset of
 * its node) and find the earliest expiration. */
static void build_sigs(struct zbuild *zb)
{
	for (uint32_t id = 0; id < zb->nnode; id++) {
		const struct bnode *n = &zb->node[id];
		const struct bset *s = node_set(zb, n, RRTYPE_RRSIG);
		uint32_t run;
		uint16_t t;

		if (!s)
			continue;
		for (uint32_t k = 0; k < s->count; k += run) {
			run = sig_run(zb, s, k, &t);
			if (t != RRTYPE_RRSIG && node_set(zb, n, t))
				zb->nsig++;
		}
		for (uint32_t k = 0; k < s->count; k++) {
			const struct zone_rr *r = &zb->rr[zb->order[s->first + k]];
			uint32_t exp;

			if (r->rdlen < 12)
				continue;
			exp = get32(zone_rr_rdata(zb->z, r) + 8);
			if (exp && (!zb->min_expiry || exp < zb->min_expiry))
				zb->min_expiry = exp;
		}
	}
}

/* NSEC3PARAM of the apex into zb->n3; false when there is none usable. */
static bool read_nsec3param(struct zbuild *zb)
{
	const struct bset *s = node_set(zb, &zb->node[0], RRTYPE_NSEC3PARAM);
	const struct zone_rr *r;
	const uint8_t *rd;

	if (!s)
		return false;
	r = &zb->rr[zb->order[s->first]];
	rd = zone_rr_rdata(zb->z, r);
	if (r->rdlen < 5 || r->rdlen != 5u + rd[4] || rd[0] != 1)
		return false;
	zb->n3.alg = rd[0];
	zb->n3.flags = rd[1];
	zb->n3.iterations = get16(rd + 2);
	zb->n3.salt_len = rd[4];
	memcpy(zb->n3.salt, rd + 5, rd[4]);
	return true;
}

static int hash_cmp(const void *a, const void *b)
{
	return memcmp(a, b, NSEC3_HASH_LEN);
}

/* The entry whose NSEC3 covers hash h (n > 0): the last one below it, or
 * the last of all (the chain wraps around). */
static uint32_t nsec3_cover(const struct snap_nsec3_hash *e, uint32_t n,
			    const uint8_t *h)
{
	uint32_t lo = snap_nsec3_lower(e, n, h);

	return lo ? lo - 1 : n - 1;
}

/* RFC 5155 7.2.8: names that own only NSEC3 (and their RRSIGs) are not
 * visible to queries; their hashes, sorted, make the denial table. Needs
 * the canonical indexes (after canon_order). */
static int build_nsec3(struct zbuild *zb)
{
	if (!zb->nsig || !read_nsec3param(zb))
		return 0;
	zb->nsec3 = true;
	if (!(zb->n3h = malloc(zb->nnode * sizeof(*zb->n3h))))
		return P53_ENOMEM;
	for (uint32_t id = 1; id < zb->nnode; id++) {
		struct bnode *n = &zb->node[id];
		uint32_t other = 0;

		for (uint32_t k = 0; k < n->set_count; k++) {
			uint16_t t = zb->set[n->set_first + k].type;

			other += t != RRTYPE_NSEC3 && t != RRTYPE_RRSIG;
		}
		if (other || !node_set(zb, n, RRTYPE_NSEC3) || n->parent != 0 ||
		    nsec3_label_decode(bname(zb, id), zb->n3h[zb->n3count].hash) < 0)
			continue;
		n->flags |= SNAP_NODE_NSEC3;
		zb->n3h[zb->n3count++].node = n->idx;
	}
	qsort(zb->n3h, zb->n3count, sizeof(*zb->n3h), hash_cmp);
	return 0;
}

/*
 * A node's RRset array, its name (leaves only: an inner node's is the
 * tail of a child's) and the wire of its RRsets lie side by side, a unit:
 * an answer compares the name, picks the RRset and copies its wire, and
 * in a snapshot too big for the caches each is a miss of its own when
 * they are apart. Units start on 8 bytes (the array's alignment); one
 * that would touch more cache lines than its size needs starts on the
 * next line instead (offsets from the data area's start, which is on a
 * line).
 */
static uint32_t data_unit(const struct zbuild *zb, const struct bnode *n)
{
	uint32_t size = n->kid_count ? 0 : n->len;

	size += n->set_count * (uint32_t)sizeof(struct snap_rrset);
	for (uint32_t k = 0; k < n->set_count; k++)
		size += zb->set[n->set_first + k].wire_len;
	return size;
}

/* Where a unit of size bytes goes when the data area is filled up to
 * pos. */
static uint64_t data_place(uint64_t pos, uint32_t size)
{
	uint64_t lines = (size + 63) / 64;

	pos = ALIGN8(pos);
	if (size && ((pos + size - 1) >> 6) - (pos >> 6) + 1 > lines)
		pos = (pos + 63) & ~(uint64_t)63;
	return pos + size;
}

/* ---- build one zone ---------------------------------------------------- */

static int zb_build(struct zbuild *zb, const struct zone *z, struct diag *d)
{
	const uint8_t *origin = zone_origin(z);
	uint32_t id, size;
	int ret;

	memset(zb, 0, sizeof(*zb));
	zb->z = z;
	zb->d = d;
	if (!origin) {
		diag_error(d, NULL, 0, 0, "zone without an origin");
		return P53_EZONE;
	}
	zb->apex_len = dname_copy_lower(zb->apex, origin);
	zb->rr = zone_rrs(z, &zb->nrr);
	if (zb->nrr >= UINT32_MAX / 2)
		return P53_ERANGE;
	/* Sized for one node per record; ENT-heavy zones grow them. */
	size = pow2_at_least((uint64_t)zb->nrr * 2 + 2);
	zb->node_cap = (uint32_t)zb->nrr + 64;
	zb->names_cap = zb->nrr * 24 + 4096;
	zb->map = size ? big_alloc(size * sizeof(*zb->map), true) : NULL;
	zb->rr_node = big_alloc(zb->nrr * sizeof(*zb->rr_node), false);
	zb->node = big_alloc(zb->node_cap * sizeof(*zb->node), false);
	zb->names = big_alloc(zb->names_cap, false);
	if (!zb->map || !zb->rr_node || !zb->node || !zb->names)
		return P53_ENOMEM;
	zb->map_mask = size - 1;
	if ((ret = node_add(zb, zb->apex, zb->apex_len,
			    snap_name_hash(zb->apex, zb->apex_len), &id)) < 0 ||
	    (ret = owners_to_nodes(zb)) < 0 ||
	    (ret = bucket_rrs(zb)) < 0 ||
	    (ret = build_sets(zb)) < 0 ||
	    (ret = read_soa(zb)) < 0 ||
	    (ret = canon_order(zb)) < 0 ||
	    (ret = build_addl(zb)) < 0 ||
	    (ret = build_glue(zb)) < 0)
		return ret;
	build_sigs(zb);
	if ((ret = build_nsec3(zb)) < 0)
		return ret;
	for (id = 0; id < zb->nnode; id++)
		zb->data_size = data_place(zb->data_size,
					   data_unit(zb, &zb->node[id]));
	zb->hash_slots = pow2_at_least((uint64_t)zb->nnode * 2);
	return zb->hash_slots ? 0 : P53_ERANGE;
}

/* ---- layout and emit ---------------------------------------------------- */

static uint64_t zb_layout(struct zbuild *zb, uint64_t off)
{
	zb->off_nodes = off;
	off += (uint64_t)zb->nnode * sizeof(struct snap_node);
	zb->off_hash = off;
	off += (uint64_t)zb->hash_slots * sizeof(struct snap_hslot);
	zb->off_sets = off;
	off += (uint64_t)zb->nsig * sizeof(struct snap_rrset);
	zb->off_data = off = (off + 63) & ~(uint64_t)63;
	off = ALIGN8(off + zb->data_size);
	zb->off_addl = off;
	off = ALIGN8(off + zb->naddl * 4 + zb->nlists * 4);
	zb->off_glue = off;
	off = ALIGN8(off + zb->glue_len);
	if (!zb->nsig)
		return off;
	zb->off_kids = off;
	off = ALIGN8(off + ((uint64_t)zb->nnode + 1) * 4);
	off = ALIGN8(off + ((uint64_t)zb->nnode - 1) * sizeof(struct snap_kid));
	/* on a cache line: no record straddles two */
	zb->off_denial = off = (off + 63) & ~(uint64_t)63;
	off += (uint64_t)zb->nnode * sizeof(struct snap_denial);
	if (!zb->nsec3)
		return off;
	zb->off_nsec3 = off;
	return ALIGN8(off + sizeof(struct snap_nsec3) +
		      (uint64_t)zb->n3count * sizeof(struct snap_nsec3_hash) +
		      (uint64_t)zb->nnode * 4);
}

/* Leaves store their names (emit_zone, each beside its wire); a parent
 * points into a child's name, of which it is the tail. Inner nodes go
 * backwards in pre-order, so children come first. */
static void link_inner_names(struct zbuild *zb)
{
	for (uint32_t i = zb->ninner; i-- > 0;) {
		struct bnode *n = &zb->node[zb->inner[i]];
		uint32_t kid = zb->kids[n->kid_first].id;

		n->name_off = zb->node[kid].name_off + 1u + bname(zb, kid)[0];
	}
}

static void emit_set(struct zbuild *zb, uint8_t *blob, struct snap_rrset *out,
		     const struct bset *s, uint64_t *wpos, uint64_t *apos)
{
	uint8_t *p = blob + *wpos;

	out->type = s->type;
	out->count = s->count;
	out->ttl = s->ttl;
	out->policy = s->policy;
	out->flags = s->policy ? SNAP_RRSET_POLICY : 0;
	out->wire = (uint32_t)*wpos;
	out->wire_len = s->wire_len;
	for (uint32_t k = 0; k < s->count; k++) {
		const struct zone_rr *r = &zb->rr[zb->order[s->first + k]];

		*p++ = 0xc0;
		*p++ = 0x0c;
		p = put16(p, r->type);
		p = put16(p, r->rclass);
		p = put32(p, s->type == RRTYPE_RRSIG ? r->ttl : s->ttl);
		p = put16(p, r->rdlen);
		memcpy(p, zone_rr_rdata(zb->z, r), r->rdlen);
		p += r->rdlen;
	}
	*wpos += s->wire_len;
	if (s->addl) {
		const uint32_t *a = &zb->addl[s->addl - 1];
		size_t bytes = (1 + (size_t)a[0]) * sizeof(*a);
		uint32_t glue = s->glue ? (uint32_t)zb->off_glue + s->glue - 1 : 0;

		memcpy(blob + *apos, a, bytes);
		out->additional = (uint32_t)*apos;
		*apos += bytes;
		memcpy(blob + *apos, &glue, 4);
		*apos += 4;
	}
}

/* The per-type RRSIG entries of node n (just emitted, its RRsets in own)
 * from sets[*spos] on, each a slice of the node's RRSIG wire, linked from
 * the RRset it covers. A policy RRset is answered by policy_eval, which
 * static signatures do not cover: it gets no link. */
static void emit_sigs(const struct zbuild *zb, struct snap_rrset *sets,
		      struct snap_rrset *own, const struct bnode *n,
		      uint32_t *spos)
{
	const struct bset *s = node_set(zb, n, RRTYPE_RRSIG);
	struct snap_rrset *cov;
	uint32_t wire, run;
	uint16_t t;

	if (!s)
		return;
	wire = own[s - &zb->set[n->set_first]].wire;
	for (uint32_t k = 0; k < s->count; k += run) {
		uint32_t len = 0, ttl = UINT32_MAX;

		run = sig_run(zb, s, k, &t);
		for (uint32_t j = k; j < k + run; j++) {
			const struct zone_rr *r = &zb->rr[zb->order[s->first + j]];

			len += RR_HDR + r->rdlen;
			if (r->ttl < ttl)
				ttl = r->ttl;
		}
		cov = NULL;
		for (uint32_t j = 0; t != RRTYPE_RRSIG && j < n->set_count; j++) {
			if (own[j].type == t)
				cov = &own[j];
		}
		if (cov) {
			struct snap_rrset *e = &sets[(*spos)++];

			*e = (struct snap_rrset){ .type = RRTYPE_RRSIG,
				.count = (uint16_t)run, .ttl = ttl,
				.wire = wire, .wire_len = len };
			if (!cov->policy)
				cov->rrsig = (uint32_t)(zb->off_sets +
					     (uint64_t)(e - sets) * sizeof(*e));
		}
		wire += len;
	}
}

/* ---- signatures beside their RRset ------------------------------------------ */

/* Set `type` of node n when it is static and RRSIG set sig has a run that
 * covers it: *at gets that run's first RR and *run its length. */
static const struct bset *signed_set(const struct zbuild *zb, const struct bnode *n,
				     const struct bset *sig, uint16_t type, uint32_t *at,
				     uint32_t *run)
{
	const struct bset *s = node_set(zb, n, type);
	uint16_t t;

	if (!s || s->policy)
		return NULL;
	for (uint32_t k = 0; k < sig->count; k += *run) {
		*run = sig_run(zb, sig, k, &t);
		*at = k;
		if (t == type)
			return s;
	}
	return NULL;
}

/* The RRset of node n whose signatures the compiler lays right after its
 * wire, so that the engine copies both at once (the format does not
 * promise it: the engine compares the offsets). The one answers need
 * most with its RRSIGs: the apex's SOA (every negative answer), a cut's
 * DS (every secure referral) or else its NSEC, else the addresses, a
 * CNAME or the first other signed RRset, else the NSEC; *at and *run
 * say where its signatures' run is in the RRSIG set. NULL when n has no
 * signed RRset. */
static const struct bset *sig_partner(const struct zbuild *zb, const struct bnode *n,
				      uint32_t *at, uint32_t *run)
{
	static const uint16_t pref[] = { RRTYPE_A, RRTYPE_AAAA, RRTYPE_CNAME };
	const struct bset *sig = node_set(zb, n, RRTYPE_RRSIG), *s;

	if (!sig)
		return NULL;
	if (n->flags & SNAP_NODE_APEX)
		return signed_set(zb, n, sig, RRTYPE_SOA, at, run);
	if (n->flags & SNAP_NODE_DELEG) {
		s = signed_set(zb, n, sig, RRTYPE_DS, at, run);
		return s ? s : signed_set(zb, n, sig, RRTYPE_NSEC, at, run);
	}
	for (size_t i = 0; i < sizeof(pref) / sizeof(pref[0]); i++) {
		if ((s = signed_set(zb, n, sig, pref[i], at, run)))
			return s;
	}
	for (uint32_t i = 0; i < n->set_count; i++) {
		uint16_t t = zb->set[n->set_first + i].type;

		if (t != RRTYPE_RRSIG && t != RRTYPE_NSEC &&
		    (s = signed_set(zb, n, sig, t, at, run)))
			return s;
	}
	return signed_set(zb, n, sig, RRTYPE_NSEC, at, run);
}

static void reverse(uint32_t *v, uint32_t n)
{
	for (uint32_t i = 0; i < n / 2; i++) {
		uint32_t t = v[i];

		v[i] = v[n - 1 - i];
		v[n - 1 - i] = t;
	}
}

/* Move the run [at, at + run) of RRSIG set sig to its front (the RRset's
 * order is free; emit_sigs slices the runs in the order they come). */
static void sig_run_first(struct zbuild *zb, const struct bset *sig, uint32_t at,
			  uint32_t run)
{
	uint32_t *o = zb->order + sig->first;

	reverse(o, at);
	reverse(o + at, run);
	reverse(o, at + run);
}

static bool has_nsec(const uint8_t *blob, const struct snap_node *n)
{
	const struct snap_rrset *set = (const void *)(blob + n->rrsets);

	for (uint32_t k = 0; k < n->rrset_count; k++) {
		if (set[k].type == RRTYPE_NSEC)
			return true;
	}
	return false;
}

/* Node nsec and end fields (snap_format.h) of a signed zone: one pass
 * forwards for the nearest NSEC, one backwards to carry each subtree's
 * end up to its parent (pre-order: children come after their parent). */
static void link_denial(const struct zbuild *zb, const uint8_t *blob,
			struct snap_node *nodes)
{
	uint32_t last = 0;

	for (uint32_t i = 0; i < zb->nnode; i++) {
		nodes[i].end = i + 1;
		if (!(nodes[i].flags & SNAP_NODE_OCCLUDED) &&
		    has_nsec(blob, &nodes[i]))
			last = i + 1;
		nodes[i].nsec = last;
	}
	for (uint32_t i = zb->nnode; i-- > 1;) {
		struct snap_node *p = &nodes[nodes[i].parent];

		if (nodes[i].end > p->end)
			p->end = nodes[i].end;
	}
}

/* The denial records (snap_format.h): a proof reads one record, which
 * says where to copy from, instead of the node, its RRsets and the RRSIG
 * entry one after the other, each a cache miss in a big zone. */
static void emit_denial(const struct zbuild *zb, uint8_t *blob,
			const struct snap_node *nodes)
{
	struct snap_denial *d = (struct snap_denial *)(void *)(blob + zb->off_denial);

	for (uint32_t i = 0; i < zb->nnode; i++) {
		const struct snap_rrset *set = snap_denial_rrset(blob, &nodes[i]), *sig;

		if (!set)
			continue;
		sig = set->rrsig ? (const void *)(blob + set->rrsig) : NULL;
		d[i] = (struct snap_denial){
			.name = nodes[i].name, .wire = set->wire,
			.wire_len = set->wire_len, .count = set->count,
			.sig = sig ? sig->wire : 0,
			.sig_len = sig ? sig->wire_len : 0,
			.sig_count = sig ? sig->count : 0,
			.name_len = (uint8_t)dname_wire_len(blob + nodes[i].name,
							    DNAME_MAXLEN),
		};
	}
}

/* The children table (snap_format.h): the compiler's sorted sibling lists
 * with their keys, by canonical index of the parent. */
static void emit_kids(const struct zbuild *zb, uint8_t *blob,
		      const struct snap_node *nodes)
{
	uint32_t *first = (uint32_t *)(void *)(blob + zb->off_kids);
	struct snap_kid *kid = (struct snap_kid *)(void *)(blob +
		ALIGN8(zb->off_kids + ((uint64_t)zb->nnode + 1) * 4));
	uint32_t pos = 0;

	for (uint32_t id = 0; id < zb->nnode; id++)
		first[zb->node[id].idx + 1] = zb->node[id].kid_count;
	for (uint32_t i = 0; i < zb->nnode; i++) {
		pos += first[i + 1];
		first[i + 1] = pos;
	}
	for (uint32_t id = 0; id < zb->nnode; id++) {
		const struct bnode *n = &zb->node[id];
		struct snap_kid *k = &kid[first[n->idx]];

		for (uint32_t j = 0; j < n->kid_count; j++) {
			const struct kid *c = &zb->kids[n->kid_first + j];

			k[j].key = c->key;
			k[j].node = zb->node[c->id].idx;
			k[j].nsec = nodes[nodes[k[j].node].end - 1].nsec;
		}
	}
}

/* In an NSEC3 zone node.nsec is the node whose NSEC3 matches the node's
 * name (snap_format.h): hashed once here, not for every NODATA or closest
 * encloser proof. */
static void link_nsec3(const struct zbuild *zb, const uint8_t *blob,
		       struct snap_node *nodes, uint32_t *wild)
{
	const struct snap_nsec3 *t = &zb->n3;

	for (uint32_t i = 0; i < zb->nnode; i++) {
		const uint8_t *name = blob + nodes[i].name;
		size_t len = (size_t)dname_wire_len(name, DNAME_MAXLEN);
		uint8_t h[NSEC3_HASH_LEN], w[DNAME_MAXLEN];
		const struct snap_nsec3_hash *m;

		nodes[i].nsec = 0;
		if (nodes[i].flags & (SNAP_NODE_NSEC3 | SNAP_NODE_OCCLUDED) ||
		    !zb->n3count)
			continue;
		nsec3_hash(name, len, t->salt, t->salt_len, t->iterations, h);
		m = bsearch(h, zb->n3h, zb->n3count, sizeof(*zb->n3h), hash_cmp);
		if (m)
			nodes[i].nsec = m->node + 1;
		if (len + 2 > DNAME_MAXLEN)
			continue;
		w[0] = 1;
		w[1] = '*';
		memcpy(w + 2, name, len);
		nsec3_hash(w, len + 2, t->salt, t->salt_len, t->iterations, h);
		wild[i] = zb->n3h[nsec3_cover(zb->n3h, zb->n3count, h)].node + 1;
	}
}

/* The wire of node n's RRsets (own: its RRset array): in type order, but
 * for its signature partner (sig_partner), which goes last but for the
 * RRSIGs, whose run for it comes first. */
static void emit_sets(struct zbuild *zb, uint8_t *blob, const struct bnode *n,
		      struct snap_rrset *own, uint64_t *wpos, uint64_t *apos)
{
	const struct bset *first = &zb->set[n->set_first], *pt = NULL, *sig = NULL;
	uint32_t at = 0, run = 0;

	if (zb->nsig && (pt = sig_partner(zb, n, &at, &run))) {
		sig = node_set(zb, n, RRTYPE_RRSIG);
		sig_run_first(zb, sig, at, run);
	}
	for (uint32_t k = 0; k < n->set_count; k++) {
		if (!pt || (first[k].type != pt->type && first[k].type != RRTYPE_RRSIG))
			emit_set(zb, blob, &own[k], &first[k], wpos, apos);
	}
	if (!pt)
		return;
	emit_set(zb, blob, &own[pt - first], pt, wpos, apos);
	emit_set(zb, blob, &own[sig - first], sig, wpos, apos);
}

/* Nodes land at their canonical positions, but the walk is in build
 * order: that reads records and RDATA from the zone heap nearly
 * sequentially, where canonical order would miss the cache on every
 * record (a third of the compile time for a million names). The data
 * units (RRset arrays, names, wire) and additional lists are therefore
 * laid out in input order. */
static void emit_zone(struct zbuild *zb, uint8_t *blob, struct snap_zone *z)
{
	struct snap_node *nodes = (struct snap_node *)(blob + zb->off_nodes);
	struct snap_rrset *sets = (struct snap_rrset *)(blob + zb->off_sets);
	struct snap_hslot *slot = (struct snap_hslot *)(blob + zb->off_hash);
	uint32_t mask = zb->hash_slots - 1;
	uint64_t wpos = zb->off_data, apos = zb->off_addl;
	uint32_t spos = 0;

	if (zb->glue_len)
		memcpy(blob + zb->off_glue, zb->glue, zb->glue_len);

	for (uint32_t id = 0; id < zb->nnode; id++) {
		struct bnode *n = &zb->node[id];
		struct snap_node *sn = &nodes[n->idx];
		uint32_t pos = n->hash & mask, unit = data_unit(zb, n);
		struct snap_rrset *own;

		wpos = zb->off_data + data_place(wpos - zb->off_data, unit) - unit;
		own = (struct snap_rrset *)(void *)(blob + wpos);
		n->sets_off = (uint32_t)wpos;
		wpos += n->set_count * sizeof(*own);
		if (!n->kid_count) {
			memcpy(blob + wpos, zb->names + n->name, n->len);
			n->name_off = (uint32_t)wpos;
			wpos += n->len;
		}
		sn->rrset_count = n->set_count;
		sn->flags = n->flags;
		sn->parent = n->parent == SNAP_NONE ? SNAP_NONE :
			     zb->node[n->parent].idx;
		sn->deleg = n->deleg;
		sn->wildcard = n->wildcard;
		if (n->set_count)
			sn->rrsets = n->sets_off;
		emit_sets(zb, blob, n, own, &wpos, &apos);
		if (zb->nsig)
			emit_sigs(zb, sets, own, n, &spos);
		while (slot[pos].index)
			pos = (pos + 1) & mask;
		slot[pos].hash = n->hash;
		slot[pos].index = n->idx + 1;
	}
	link_inner_names(zb);
	for (uint32_t id = 0; id < zb->nnode; id++)
		nodes[zb->node[id].idx].name = zb->node[id].name_off;
	/* the apex is build id 0 */
	z->soa_rrset = (uint32_t)(zb->node[0].sets_off + (zb->soa_set -
				  zb->node[0].set_first) * sizeof(*sets));
	z->apex_name = zb->node[0].name_off;
	z->apex_node = 0;
	z->node_count = zb->nnode;
	z->nodes = (uint32_t)zb->off_nodes;
	z->hash = (uint32_t)zb->off_hash;
	z->hash_mask = mask;
	z->soa_serial = zb->soa_serial;
	z->neg_ttl = zb->neg_ttl;
	z->rrsets = (uint32_t)zb->off_sets;
	z->rrset_count = zb->nsig;
	if (zb->nsig) {
		z->flags = SNAP_ZONE_SIGNED | (zb->nsec3 ? SNAP_ZONE_NSEC3 : 0);
		link_denial(zb, blob, nodes);
		emit_kids(zb, blob, nodes);
		z->kids = (uint32_t)zb->off_kids;
		emit_denial(zb, blob, nodes);
		z->denial = (uint32_t)zb->off_denial;
	}
	if (zb->nsec3) {
		struct snap_nsec3 *t = (struct snap_nsec3 *)(void *)(blob + zb->off_nsec3);

		*t = zb->n3;
		t->count = zb->n3count;
		memcpy(t + 1, zb->n3h, zb->n3count * sizeof(*zb->n3h));
		z->nsec3param = (uint32_t)zb->off_nsec3;
		link_nsec3(zb, blob, nodes, (uint32_t *)(void *)
			   ((struct snap_nsec3_hash *)(void *)(t + 1) + zb->n3count));
	}
}

/* ---- the whole snapshot ------------------------------------------------- */

static int zone_cmp(const void *pa, const void *pb)
{
	const struct zbuild *a = pa, *b = pb;

	return dname_canonical_cmp(a->apex, b->apex);
}

/* SOURCE_DATE_EPOCH (reproducible-builds.org) pins the time for
 * byte-identical rebuilds. */
static uint64_t compile_time(void)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end;

	if (s && *s >= '0' && *s <= '9') {
		unsigned long long v;

		errno = 0;
		v = strtoull(s, &end, 10);
		if (!errno && !*end)
			return v;
	}
	return (uint64_t)time(NULL);
}

static void emit_header(uint8_t *blob, uint64_t content, size_t nzones,
			uint64_t table, uint64_t zhash, uint32_t zslots,
			const struct snap_compile_opts *opts)
{
	struct snap_header *h = (struct snap_header *)blob;

	memcpy(h->magic, SNAP_MAGIC, sizeof(h->magic));
	h->version_major = SNAP_VERSION_MAJOR;
	h->version_minor = SNAP_VERSION_MINOR;
	h->header_size = sizeof(*h);
	h->content_size = content;
	h->endian = SNAP_ENDIAN_MARK;
	h->zone_count = (uint32_t)nzones;
	h->zone_table = (uint32_t)table;
	h->zone_hash = (uint32_t)zhash;
	h->zone_hash_mask = zslots - 1;
	h->created = compile_time();
	h->serial = opts && opts->serial ? opts->serial : h->created;
}

static void emit_zone_hash(uint8_t *blob, const struct zbuild *zb, size_t n,
			   uint64_t off, uint32_t slots)
{
	struct snap_hslot *slot = (struct snap_hslot *)(blob + off);

	for (size_t i = 0; i < n; i++) {
		uint32_t h = snap_name_hash(zb[i].apex, zb[i].apex_len);
		uint32_t pos = h & (slots - 1);

		while (slot[pos].index)
			pos = (pos + 1) & (slots - 1);
		slot[pos].hash = h;
		slot[pos].index = (uint32_t)i + 1;
	}
}

static int check_apexes(const struct zbuild *zb, size_t n, struct diag *d)
{
	char text[DNAME_TEXT_MAX];

	for (size_t i = 1; i < n; i++) {
		if (zb[i].apex_len == zb[i - 1].apex_len &&
		    memcmp(zb[i].apex, zb[i - 1].apex, zb[i].apex_len) == 0) {
			dname_to_text(zb[i].apex, text, sizeof(text));
			diag_error(d, NULL, 0, 0, "zone %s given twice", text);
			return P53_EZONE;
		}
	}
	return 0;
}

/* Whether name (lower-cased) is the apex of a zone of zb[0..n), which
 * are in canonical order. */
static bool is_apex(const struct zbuild *zb, size_t n, const uint8_t *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = dname_canonical_cmp(name, zb[mid].apex);

		if (!c)
			return true;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

/* The target of CNAME set s of zone z is at or below the apex of another
 * zone of zb[0..n) that is closer to it than z's own: a lookup of the
 * target goes to that zone (a child served beside its parent). */
static bool closer_zone(const struct zbuild *zb, size_t n,
			const struct zbuild *z, const struct bset *s)
{
	const struct zone_rr *r = &z->rr[z->order[s->first]];
	const uint8_t *t = rdata_target(r->type, zone_rr_rdata(z->z, r), r->rdlen);
	uint8_t name[DNAME_MAXLEN];
	size_t len, i = 0;

	if (!t)
		return true;
	len = dname_copy_lower(name, t);
	for (; len - i > z->apex_len; i += 1u + name[i]) {
		if (is_apex(zb, n, name + i))
			return true;
	}
	return false;
}

/* A CNAME's link to its target (build_addl) holds only while no other
 * zone of the snapshot is closer to the target than the CNAME's own. */
static void unlink_cnames(struct zbuild *zb, size_t n)
{
	for (size_t i = 0; n > 1 && i < n; i++) {
		for (uint32_t k = 0; k < zb[i].nset; k++) {
			struct bset *s = &zb[i].set[k];

			if (s->type == RRTYPE_CNAME && s->addl &&
			    closer_zone(zb, n, &zb[i], s))
				s->addl = 0;
		}
	}
}

/* ---- traffic policies and other sections --------------------------------- */

/* Mark the placeholder RRset of every policy record (snap_policy_prepare
 * put them in the zones) with its record index. */
static int mark_policy(struct zbuild *zb, size_t n, const void *blob, size_t len,
		       struct diag *d)
{
	char text[DNAME_TEXT_MAX];
	struct policy *p;
	int ret;

	if ((ret = policy_open(blob, len, d, &p)) < 0)
		return ret;
	for (uint32_t i = 0; i < policy_record_count(p); i++) {
		struct policy_record r;
		struct bset *set = NULL;

		policy_record_get(p, i, &r);
		for (size_t k = 0; k < n && !set; k++) {
			uint32_t id = map_find(&zb[k], r.name, r.name_len,
					       snap_name_hash(r.name, r.name_len));

			if (id != SNAP_NONE)
				set = (struct bset *)node_set(&zb[k], &zb[k].node[id], r.type);
		}
		if (!set || set->count != 1) {
			dname_to_text(r.name, text, sizeof(text));
			diag_error(d, NULL, 0, 0, "policy record %s type %u: no "
				   "placeholder in the zones (snap_policy_prepare)",
				   text, r.type);
			ret = P53_EZONE;
			break;
		}
		set->policy = i + 1;
	}
	policy_close(p);
	return ret;
}

/* Check the sections asked for: known kinds, each at most once, sizes. */
static int check_sections(const struct snap_compile_opts *o, struct diag *d)
{
	uint32_t seen = 0;

	for (size_t i = 0; o && i < o->nsections; i++) {
		uint32_t k = o->sections[i].kind;

		if (k < SNAP_SECT_POLICY || k > SNAP_SECT_POLICY_SIG || (seen & 1u << k) ||
		    o->sections[i].len > UINT32_MAX || !o->sections[i].data) {
			diag_error(d, NULL, 0, 0, "section %zu (kind %u): unknown, "
				   "repeated or too large", i, k);
			return P53_EINVAL;
		}
		seen |= 1u << k;
	}
	return 0;
}

/* Room for the section table and the sections from off on. */
static uint64_t sections_layout(const struct snap_compile_opts *o, uint64_t off)
{
	if (!o || !o->nsections)
		return off;
	off += o->nsections * sizeof(struct snap_section);
	for (size_t i = 0; i < o->nsections; i++)
		off = ALIGN8(off) + o->sections[i].len;
	return ALIGN8(off);
}

static void emit_sections(uint8_t *blob, const struct snap_compile_opts *o, uint64_t off)
{
	struct snap_header *h = (struct snap_header *)blob;
	struct snap_section *t = (struct snap_section *)(blob + off);

	if (!o || !o->nsections)
		return;
	h->sections = (uint32_t)off;
	h->section_count = (uint32_t)o->nsections;
	off += o->nsections * sizeof(*t);
	for (size_t i = 0; i < o->nsections; i++) {
		off = ALIGN8(off);
		t[i].kind = o->sections[i].kind;
		t[i].off = (uint32_t)off;
		t[i].len = (uint32_t)o->sections[i].len;
		memcpy(blob + off, o->sections[i].data, o->sections[i].len);
		off += o->sections[i].len;
	}
}

/* The policy section of o, if any. */
static const struct snap_section_in *policy_in(const struct snap_compile_opts *o)
{
	for (size_t i = 0; o && i < o->nsections; i++) {
		if (o->sections[i].kind == SNAP_SECT_POLICY)
			return &o->sections[i];
	}
	return NULL;
}

int snap_compile(struct zone *const *zones, size_t n,
		 const struct snap_compile_opts *opts, struct diag *d,
		 uint8_t **out, size_t *len)
{
	struct zbuild *zb = calloc(n + 1, sizeof(*zb));
	uint32_t zslots = pow2_at_least((uint64_t)n * 2);
	const struct snap_section_in *pin = NULL;
	uint64_t table, zhash, off, sect;
	unsigned int mdlen, errors = d ? d->errors : 0;
	uint8_t *blob = NULL;
	int ret = P53_ENOMEM;

	*out = NULL;
	*len = 0;
	if (!zb || !zslots)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		if ((ret = zb_build(&zb[i], zones[i], d)) < 0)
			goto fail;
	}
	qsort(zb, n, sizeof(*zb), zone_cmp);
	if ((ret = check_apexes(zb, n, d)) < 0 ||
	    (ret = check_sections(opts, d)) < 0)
		goto fail;
	unlink_cnames(zb, n);
	if ((pin = policy_in(opts)) &&
	    (ret = mark_policy(zb, n, pin->data, pin->len, d)) < 0)
		goto fail;
	table = ALIGN8(sizeof(struct snap_header));
	zhash = table + n * sizeof(struct snap_zone);
	off = zhash + (uint64_t)zslots * sizeof(struct snap_hslot);
	for (size_t i = 0; i < n; i++)
		off = zb_layout(&zb[i], off);
	sect = ALIGN8(off);
	off = sections_layout(opts, sect);
	if (off > UINT32_MAX) {
		diag_error(d, NULL, 0, 0, "snapshot would be %llu bytes, over "
			   "the 4 GiB that 32-bit offsets reach",
			   (unsigned long long)off);
		ret = P53_ERANGE;
		goto fail;
	}
	ret = P53_ENOMEM;
	if (!(blob = big_alloc(off, true)))
		goto fail;
	emit_header(blob, off, n, table, zhash, zslots, opts);
	emit_zone_hash(blob, zb, n, zhash, zslots);
	for (size_t i = 0; i < n; i++) {
		struct snap_header *h = (struct snap_header *)blob;
		uint32_t exp = zb[i].min_expiry;

		emit_zone(&zb[i], blob,
			  (struct snap_zone *)(blob + table) + i);
		if (zb[i].nsig)
			h->features |= SNAP_FEAT_DNSSEC;
		if (exp && (!h->min_sig_expiry || exp < h->min_sig_expiry))
			h->min_sig_expiry = exp;
		zb_free(&zb[i]);
	}
	emit_sections(blob, opts, sect);
	if (pin)
		((struct snap_header *)blob)->features |= SNAP_FEAT_POLICY;
	if (!EVP_Digest(blob, off, ((struct snap_header *)blob)->sha256,
			&mdlen, EVP_sha256(), NULL))
		goto fail;
	*out = blob;
	*len = off;
	blob = NULL;
	ret = 0;
fail:
	if (ret < 0 && d && d->errors == errors)
		diag_error(d, NULL, 0, 0, "cannot compile the snapshot: %s",
			   p53_strerror(ret));
	for (size_t i = 0; zb && i < n; i++)
		zb_free(&zb[i]);
	free(zb);
	free(blob);
	return ret;
}

int snap_compile_file(struct zone *const *zones, size_t n,
		      const struct snap_compile_opts *opts, struct diag *d,
		      const char *path)
{
	uint8_t *blob;
	size_t len;
	int ret = snap_compile(zones, n, opts, d, &blob, &len);

	if (ret < 0)
		return ret;
	/* temp file, fsync, rename, fsync of the directory */
	ret = snap_file_write(path, blob, len, d);
	free(blob);
	return ret;
}
