/*
 * snap_read.c — open a snapshot (map and verify) and look names up in it.
 *
 * Verification is what lets the query path skip bounds checks: after it,
 * every offset, index and range the lookups and the answer engine follow
 * stays inside the blob, whether the blob was corrupted by accident (the
 * SHA-256 catches that) or built to pass the hash on purpose (the bounds
 * checks catch that). It only reads fixed-size structures and walks names
 * and RR headers; RDATA is never parsed. The hash runs on a second thread
 * for big blobs, in parallel with the structural checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "dname.h"
#include "error.h"
#include "latency.h"
#include "nsec3.h"
#include "policy.h"
#include "policy_sig.h"
#include "rdata.h"
#include "snap.h"
#include "snap_alias.h"

/* Below this the thread costs more than it saves. */
#define HASH_THREAD_MIN (4u << 20)
#define PREFETCH        16      /* entries ahead */

/* The optional sections (snap_format.h), opened in place. */
struct snap_aux {
	struct policy *policy;          /* NULL if none */
	struct policy_sig *psig;        /* signed policy answers, NULL if none */
	const void *psig_blob;          /* its section, opened after the policy's */
	uint32_t psig_len;
	struct geo_table geo;
	struct latency_table latency;
	struct geo_table coords;
	bool has_geo, has_latency, has_coords;
};

struct snap {
	const uint8_t *blob;    /* first: snap_ptr() in snap.h reads it */
	size_t size;            /* content plus any signature trailer */
	uint64_t content;       /* header.content_size */
	void *map;              /* our mapping, NULL for snap_open_mem */
	size_t map_len;
	/* Taken from the verified header once, so that a lookup does not
	 * chase the header for them on every query. */
	const struct snap_hslot *zslot;
	const struct snap_zone *zones;
	uint32_t zmask;
	uint32_t nzones;
	uint8_t apex_min;       /* fewest / most labels of any apex: only */
	uint8_t apex_max;       /* suffixes in between can name a zone */
	/* A snapshot of one zone: its apex's wire length and last eight
	 * bytes (0 when shorter), to turn away most names outside it
	 * before any probe (snap_lookup). */
	uint8_t one_len;
	uint64_t one_tail;
	bool has_glue;          /* v2.1: additional lists end in glue */
	struct snap_aux aux;    /* the optional sections, opened */
	/* snap_policy_view: the optional sections' tables, and the health
	 * words of the policy checks, attached by the control plane
	 * (snap_set_health; read with acquire loads by policy_eval). */
	struct snap_policy_view pview;
	struct snap_alias_index ali;    /* out-of-zone alias targets */
	struct snap_alias *alias_slots; /* attached by the control plane */
	/* Per zone, NULL or built at open for a signed apex with many
	 * children (the root, a TLD): where the children whose keys start
	 * with each pair of bytes begin (struct kidx), so that the NSEC
	 * search starts among a handful. */
	struct kidx **apex_kidx;
	/* Per zone, snap_nsec_wild of its apex (NSEC zones; NULL else),
	 * or the array NULL when there was no memory for it. */
	const struct snap_node **apex_wild;
};

/* First problem found, kept until the hash result says which to report. */
struct vctx {
	const uint8_t *b;
	size_t len;
	uint64_t content;
	uint32_t hdr_size;
	uint64_t sets;          /* nodes' RRsets checked so far */
	bool has_glue;          /* v2.1: additional lists end in glue */
	uint8_t *glue_seen;     /* v2.1: a bit per 4 content bytes, set at
				 * each glue checked whole (it is shared) */
	struct snap_aux aux;    /* opened by check_sections */
	int err;
	char msg[300];
};

static int __attribute__((format(printf, 3, 4)))
bad(struct vctx *v, int err, const char *fmt, ...)
{
	va_list ap;

	if (!v->err) {
		va_start(ap, fmt);
		vsnprintf(v->msg, sizeof(v->msg), fmt, ap);
		va_end(ap);
		v->err = err;
	}
	return err;
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* ---- header ------------------------------------------------------------ */

static int check_trailer(struct vctx *v)
{
	size_t rest = v->len - v->content;
	const struct snap_sig *sig = (const void *)(v->b + v->content);
	size_t m = rest < 8 ? rest : 8;

	if (!rest)
		return 0;
	if (memcmp(v->b + v->content, SNAP_SIG_MAGIC, m) != 0)
		return bad(v, P53_EFORMAT, "%zu bytes of garbage after the "
			   "content, expected nothing or a signature", rest);
	if (rest < sizeof(*sig))
		return bad(v, P53_ETRUNC, "truncated: signature trailer has "
			   "%zu bytes, needs %zu", rest, sizeof(*sig));
	if (rest > sizeof(*sig) || sig->size != sizeof(*sig))
		return bad(v, P53_EFORMAT, "signature trailer of %zu bytes "
			   "(size field %u), expected %zu", rest, sig->size,
			   sizeof(*sig));
	return 0;
}

static int check_header(struct vctx *v)
{
	const struct snap_header *h = (const void *)v->b;
	size_t m = v->len < 8 ? v->len : 8;

	if (memcmp(v->b, SNAP_MAGIC, m) != 0)
		return bad(v, P53_EFORMAT, "not a pop53 snapshot (bad magic)");
	if (v->len < sizeof(*h))
		return bad(v, P53_ETRUNC, "truncated: file has %zu bytes, the "
			   "header alone needs %zu", v->len, sizeof(*h));
	if (h->endian != SNAP_ENDIAN_MARK)
		return bad(v, P53_EFORMAT, h->endian == __builtin_bswap32(
			   SNAP_ENDIAN_MARK) ? "written on a host of the other "
			   "byte order" : "bad byte-order mark 0x%08x",
			   h->endian);
	if (h->version_major != SNAP_VERSION_MAJOR)
		return bad(v, P53_EVERSION, "format version %u.%u, this "
			   "reader knows %u.x", h->version_major,
			   h->version_minor, SNAP_VERSION_MAJOR);
	v->has_glue = h->version_minor >= 1;
	if (h->content_size > v->len)
		return bad(v, P53_ETRUNC, "truncated: file has %zu bytes, "
			   "header says %llu", v->len,
			   (unsigned long long)h->content_size);
	if (h->content_size > UINT32_MAX || h->content_size % 8)
		return bad(v, P53_EFORMAT, "content size %llu is not a "
			   "multiple of 8 below 4 GiB",
			   (unsigned long long)h->content_size);
	if (h->header_size < sizeof(*h) || h->header_size % 8 ||
	    h->header_size > h->content_size)
		return bad(v, P53_EFORMAT, "header size %u (expected at "
			   "least %zu, a multiple of 8, inside the content)",
			   h->header_size, sizeof(*h));
	v->content = h->content_size;
	v->hdr_size = h->header_size;
	return check_trailer(v);
}

/* ---- structure ----------------------------------------------------------- */

/* [off, off + size) lies in the content, after the header. */
static bool in_blob(const struct vctx *v, uint64_t off, uint64_t size)
{
	return off >= v->hdr_size && off <= v->content &&
	       size <= v->content - off;
}

static bool name_ok(const struct vctx *v, uint32_t off)
{
	uint64_t max;

	if (!in_blob(v, off, 1))
		return false;
	max = v->content - off;
	return dname_wire_len(v->b + off, max < DNAME_MAXLEN ? max :
			      DNAME_MAXLEN) > 0;
}

/* A hash table must point only at existing entries and keep an empty
 * slot, or a probe for an absent name would never stop. */
static int check_slots(struct vctx *v, uint32_t off, uint32_t mask,
		       uint32_t count, const char *what)
{
	uint64_t size = (uint64_t)mask + 1, used = 0;
	const struct snap_hslot *slot = (const void *)(v->b + off);

	if ((size & mask) || size <= count || off % 8 ||
	    !in_blob(v, off, size * sizeof(*slot)))
		return bad(v, P53_EFORMAT, "%s hash table (offset %u, %llu "
			   "slots for %u entries) is malformed", what, off,
			   (unsigned long long)size, count);
	for (uint64_t i = 0; i < size; i++) {
		if (slot[i].index > count)
			return bad(v, P53_EFORMAT, "%s hash slot %llu points "
				   "at entry %u of %u", what,
				   (unsigned long long)i, slot[i].index - 1,
				   count);
		used += slot[i].index != 0;
	}
	if (used != count)
		return bad(v, P53_EFORMAT, "%s hash table holds %llu entries, "
			   "expected %u", what, (unsigned long long)used, count);
	return 0;
}

/* Offset of an entry of z's RRset array: its RRSIG entries (links). */
static bool is_rrset(const struct snap_zone *z, uint32_t off)
{
	uint32_t rel = off - z->rrsets;

	return off >= z->rrsets && rel % sizeof(struct snap_rrset) == 0 &&
	       rel / sizeof(struct snap_rrset) < z->rrset_count;
}

/* The engine copies wire_len bytes and walks RR headers to rewrite owner
 * pointers, so the framing must add up exactly. */
static int check_wire(struct vctx *v, uint32_t zi, const struct snap_rrset *s)
{
	const uint8_t *p = v->b + s->wire, *end = p + s->wire_len;

	for (uint32_t k = 0; k < s->count; k++) {
		if (end - p < 12 || p[0] != 0xc0 || p[1] != 0x0c ||
		    get16(p + 2) != s->type || end - p - 12 < get16(p + 10))
			return bad(v, P53_EFORMAT, "zone %u: RR %u of the RRset "
				   "at offset %u does not frame", zi, k,
				   s->wire);
		p += 12 + get16(p + 10);
	}
	if (p != end || !s->count)
		return bad(v, P53_EFORMAT, "zone %u: RRset wire at offset %u "
			   "holds %u bytes beyond its %u RRs", zi, s->wire,
			   (unsigned)(end - p), s->count);
	return 0;
}

/* A policy RRset names a record of the policy section, of its own type,
 * and holds its one placeholder RR; a static one has no policy fields.
 * In a signed zone its answers are signed (and only there). */
static int check_policy_set(struct vctx *v, uint32_t zi, const struct snap_zone *z,
			    const struct snap_rrset *s)
{
	bool want_sigs = z->flags & SNAP_ZONE_SIGNED;
	struct policy_record r;

	if (s->flags & ~SNAP_RRSET_POLICY)
		return bad(v, P53_EFORMAT, "zone %u: RRset at offset %u has "
			   "unknown flags 0x%x", zi, s->wire, s->flags);
	if (!(s->flags & SNAP_RRSET_POLICY))
		return s->policy ? bad(v, P53_EFORMAT, "zone %u: static RRset "
				       "with a policy index", zi) : 0;
	if (!v->aux.policy || !s->policy || s->policy > policy_record_count(v->aux.policy) ||
	    s->count != 1)
		return bad(v, P53_EFORMAT, "zone %u: policy RRset names record "
			   "%u, the policy section has %u", zi, s->policy,
			   v->aux.policy ? policy_record_count(v->aux.policy) : 0);
	policy_record_get(v->aux.policy, s->policy - 1, &r);
	if (r.type != s->type)
		return bad(v, P53_EFORMAT, "zone %u: policy record %u is of "
			   "type %u, its RRset of type %u", zi, s->policy - 1,
			   r.type, s->type);
	if (want_sigs != (v->aux.psig && policy_sig_signed(v->aux.psig, s->policy - 1)))
		return bad(v, P53_EFORMAT, "zone %u: policy record %u %s", zi,
			   s->policy - 1, want_sigs ? "is in a signed zone, its answers "
			   "are not signed" : "has signatures, its zone is not signed");
	return 0;
}

/* Where RR k of set s names its target, from the RRset's first byte;
 * *p (the RR at *pos, RR index *k) walks forward to it. 0 if it names
 * none. The set's wire framing was checked. */
static uint32_t set_target_at(const uint8_t *wire, const struct snap_rrset *s,
			      uint32_t want, uint32_t *pos, uint32_t *k)
{
	const uint8_t *rd, *t;

	for (; *k < want; (*k)++)
		*pos += 12u + get16(wire + *pos + 10);
	rd = wire + *pos + 12;
	t = rdata_target(s->type, rd, get16(wire + *pos + 10));
	return t ? (uint32_t)(t - wire) : 0;
}

/* Block at off's bit in vctx.glue_seen[off / 32]: one per 4 bytes. */
static inline uint8_t glue_bit(uint32_t off)
{
	return (uint8_t)(1u << (off / 4 % 8));
}

/* v2.1: the framing of glue g (at offset off) and that each
 * fix names where RR fix.rr of set s names its target; then marked seen. */
static int check_glue_whole(struct vctx *v, uint32_t zi, const struct snap_rrset *s,
			    const struct snap_glue *g, uint32_t off)
{
	const uint8_t *wire = (const uint8_t *)&g->fix[g->count], *set_wire = v->b + s->wire;
	uint32_t pos = 0, spos = 0, sk = 0;

	for (uint32_t i = 0; i < g->count; i++) {
		const struct snap_glue_fix *f = &g->fix[i];

		if (f->at != pos || g->wire_len - pos < 12 ||
		    g->wire_len - pos - 12 < get16(wire + pos + 10) ||
		    f->rr >= s->count || f->rr < sk || f->reserved ||
		    f->target != set_target_at(set_wire, s, f->rr, &spos, &sk) || !f->target)
			return bad(v, P53_EFORMAT, "zone %u: glue RR %u at %u does not frame "
				   "or names no target", zi, i, off);
		pos += 12u + get16(wire + pos + 10);
	}
	if (pos != g->wire_len || !g->count)
		return bad(v, P53_EFORMAT, "zone %u: glue at %u holds %u bytes beyond its "
			   "%u RRs", zi, off, g->wire_len - pos, g->count);
	v->glue_seen[off / 32] |= glue_bit(off);
	return 0;
}

/* v2.1: the glue word after set s's additional list (a, count nodes):
 * inside the content, and the glue it names, if any, whole inside it and
 * after NS, MX or SRV. Glue is shared by RRsets, so it is checked whole
 * at its first reference only (as the node's RRset arrays, the checks
 * keep the engine in bounds, not every answer right): at the later ones,
 * that its RRs cite RRs that set s has. */
static int check_glue(struct vctx *v, uint32_t zi, const struct snap_rrset *s,
		      const struct snap_addl *a)
{
	uint64_t at = (uint64_t)s->additional + 4 + (uint64_t)a->count * 4;
	const struct snap_glue *g;
	uint32_t off;

	if (!in_blob(v, at, 4))
		return bad(v, P53_EFORMAT, "zone %u: glue word of the additional list at "
			   "%u outside the content", zi, s->additional);
	memcpy(&off, v->b + at, 4);
	if (!off)
		return 0;
	g = (const void *)(v->b + off);
	if (off % 4 || !in_blob(v, off, sizeof(*g)) ||
	    (s->type != RRTYPE_NS && s->type != RRTYPE_MX && s->type != RRTYPE_SRV) ||
	    !in_blob(v, off, snap_glue_size(g)))
		return bad(v, P53_EFORMAT, "zone %u: glue at %u (of the additional list at "
			   "%u) does not fit", zi, off, s->additional);
	if (!(v->glue_seen[off / 32] & glue_bit(off)))
		return check_glue_whole(v, zi, s, g, off);
	if (g->count && g->fix[g->count - 1].rr >= s->count)
		return bad(v, P53_EFORMAT, "zone %u: glue at %u cites RR %u of an RRset of %u",
			   zi, off, g->fix[g->count - 1].rr, s->count);
	return 0;
}

static int check_rrset(struct vctx *v, uint32_t zi, const struct snap_zone *z,
		       const struct snap_rrset *s)
{
	const struct snap_addl *a = (const void *)(v->b + s->additional);

	if (!in_blob(v, s->wire, s->wire_len))
		return bad(v, P53_EFORMAT, "zone %u: RRset wire [%u, +%u) "
			   "outside the content", zi, s->wire, s->wire_len);
	if (check_wire(v, zi, s) < 0 || check_policy_set(v, zi, z, s) < 0)
		return v->err;
	if (s->rrsig && (!is_rrset(z, s->rrsig) ||
	    ((const struct snap_rrset *)(const void *)(v->b + s->rrsig))->type !=
	    RRTYPE_RRSIG))
		return bad(v, P53_EFORMAT, "zone %u: RRSIG link %u is not an "
			   "RRSIG RRset of the zone", zi, s->rrsig);
	if (!s->additional)
		return 0;
	if (s->additional % 4 || !in_blob(v, s->additional, 4) ||
	    !in_blob(v, s->additional, 4 + (uint64_t)a->count * 4))
		return bad(v, P53_EFORMAT, "zone %u: additional list at offset "
			   "%u outside the content", zi, s->additional);
	for (uint32_t k = 0; k < a->count; k++) {
		if (a->node[k] >= z->node_count)
			return bad(v, P53_EFORMAT, "zone %u: additional list at "
				   "offset %u names node %u of %u", zi,
				   s->additional, a->node[k], z->node_count);
	}
	return v->has_glue ? check_glue(v, zi, s, a) : 0;
}

static int check_node(struct vctx *v, uint32_t zi, const struct snap_zone *z,
		      uint32_t i, const struct snap_node *n)
{
	const struct snap_rrset *s = (const void *)(v->b + n->rrsets);

	if (!name_ok(v, n->name))
		return bad(v, P53_EFORMAT, "zone %u: node %u: name at offset "
			   "%u is not a wire name inside the content", zi, i,
			   n->name);
	/* Canonical order puts a parent before its children: no cycles. */
	if (i ? n->parent >= i : n->parent != SNAP_NONE)
		return bad(v, P53_EFORMAT, "zone %u: node %u: bad parent %u",
			   zi, i, n->parent);
	if ((n->deleg != SNAP_NONE && n->deleg > i) ||
	    (n->wildcard != SNAP_NONE && n->wildcard >= z->node_count))
		return bad(v, P53_EFORMAT, "zone %u: node %u: zone cut %u or "
			   "wildcard %u out of range", zi, i, n->deleg,
			   n->wildcard);
	/* Denial links (v1.2) are read for signed zones only. */
	if ((z->flags & SNAP_ZONE_SIGNED) &&
	    (n->nsec > ((z->flags & SNAP_ZONE_NSEC3) ? z->node_count : i + 1) ||
	     n->end <= i || n->end > z->node_count))
		return bad(v, P53_EFORMAT, "zone %u: node %u: NSEC link %u or "
			   "subtree end %u out of range", zi, i, n->nsec,
			   n->end);
	if (!n->rrset_count)
		return 0;
	/* v2.0: the array opens the node's data unit, which comes after
	 * the node array, the name hash and the RRSIG entries */
	if (n->rrsets % 8 ||
	    n->rrsets < z->rrsets + (uint64_t)z->rrset_count * sizeof(*s) ||
	    !in_blob(v, n->rrsets, (uint64_t)n->rrset_count * sizeof(*s)))
		return bad(v, P53_EFORMAT, "zone %u: node %u: %u RRsets at "
			   "offset %u outside the zone's data area", zi, i,
			   n->rrset_count, n->rrsets);
	/* Arrays shared between nodes would make these checks cost
	 * nodes x RRsets: no more than the content can hold apart. */
	v->sets += n->rrset_count;
	if (v->sets * sizeof(*s) > v->content)
		return bad(v, P53_EFORMAT, "zone %u: node %u: more RRsets "
			   "than the content holds", zi, i);
	for (uint32_t k = 0; k < n->rrset_count; k++) {
		if (k && s[k].type <= s[k - 1].type)
			return bad(v, P53_EFORMAT, "zone %u: node %u: RRsets "
				   "not sorted by type", zi, i);
		if (check_rrset(v, zi, z, &s[k]) < 0)
			return v->err;
	}
	return 0;
}

/* The SOA link must name the SOA RRset of the apex (checked as a node
 * before). */
static int check_soa(struct vctx *v, uint32_t zi, const struct snap_zone *z,
		     const struct snap_node *apex)
{
	uint32_t rel = z->soa_rrset - apex->rrsets;
	const struct snap_rrset *soa = (const void *)(v->b + z->soa_rrset);

	if (!apex->rrset_count || z->soa_rrset < apex->rrsets ||
	    rel % sizeof(*soa) || rel / sizeof(*soa) >= apex->rrset_count ||
	    soa->type != RRTYPE_SOA)
		return bad(v, P53_EFORMAT, "zone %u: SOA link %u is not the "
			   "SOA RRset of the apex", zi, z->soa_rrset);
	return 0;
}

/* Offset of a signed zone's struct snap_kid array: after the node_count + 1
 * range starts of its children table, 8-aligned (snap_format.h). */
static inline uint64_t kid_array_at(const struct snap_zone *z)
{
	return ((uint64_t)z->kids + ((uint64_t)z->node_count + 1) * 4 + 7) & ~7ull;
}

/* The children table of a signed zone (snap_format.h): ranges in order and
 * inside the array, every entry a node of the zone. */
static int check_kids(struct vctx *v, uint32_t zi, const struct snap_zone *z)
{
	const uint32_t *first = (const void *)(v->b + z->kids);
	uint64_t n = z->node_count, at = kid_array_at(z);
	const struct snap_kid *kid = (const void *)(v->b + at);

	if (z->kids % 8 || !in_blob(v, z->kids, (n + 1) * 4) ||
	    !in_blob(v, at, (n - 1) * sizeof(*kid)) || first[0] ||
	    first[n] != n - 1)
		return bad(v, P53_EFORMAT, "zone %u: children table at offset "
			   "%u is malformed", zi, z->kids);
	for (uint64_t i = 0; i < n; i++) {
		if (first[i + 1] < first[i])
			return bad(v, P53_EFORMAT, "zone %u: children of node "
				   "%llu out of order", zi, (unsigned long long)i);
	}
	for (uint64_t k = 0; k + 1 < n; k++) {
		if (kid[k].node >= n || kid[k].nsec > n)
			return bad(v, P53_EFORMAT, "zone %u: child %llu names "
				   "node %u of %llu", zi, (unsigned long long)k,
				   kid[k].node, (unsigned long long)n);
	}
	return 0;
}

/* The NSEC3 table of an NSEC3 zone: inside the content, SHA-1, a bounded
 * number of iterations (each one is a hash per proof on the query path;
 * RFC 5155 10.3 allows 2,500 at most), entries naming nodes. */
static int check_nsec3(struct vctx *v, uint32_t zi, const struct snap_zone *z)
{
	const struct snap_nsec3 *t = (const void *)(v->b + z->nsec3param);
	const struct snap_nsec3_hash *h = (const void *)(t + 1);

	const uint32_t *wild;

	if (z->nsec3param % 8 || !in_blob(v, z->nsec3param, sizeof(*t)) ||
	    !in_blob(v, z->nsec3param, sizeof(*t) + (uint64_t)t->count *
		     sizeof(*h) + (uint64_t)z->node_count * 4) ||
	    t->alg != 1 || t->iterations > 2500)
		return bad(v, P53_EFORMAT, "zone %u: NSEC3 table at offset %u "
			   "is malformed", zi, z->nsec3param);
	for (uint32_t k = 0; k < t->count; k++) {
		if (h[k].node >= z->node_count)
			return bad(v, P53_EFORMAT, "zone %u: NSEC3 hash %u names "
				   "node %u of %u", zi, k, h[k].node,
				   z->node_count);
	}
	wild = (const uint32_t *)(const void *)(h + t->count);
	for (uint32_t i = 0; i < z->node_count; i++) {
		if (wild[i] > z->node_count)
			return bad(v, P53_EFORMAT, "zone %u: NSEC3 wildcard link "
				   "of node %u out of range", zi, i);
	}
	return 0;
}

/* The engine copies from a denial record's offsets without looking at
 * the node: each record must say exactly what the node and its RRsets
 * (checked before) say, or be empty. */
static bool denial_ok(const struct vctx *v, const struct snap_node *n,
		      const struct snap_denial *d)
{
	const struct snap_rrset *set = snap_denial_rrset(v->b, n), *sig;

	if (!d->count)
		return true;
	if (!set || d->name != n->name || d->wire != set->wire ||
	    d->wire_len != set->wire_len || d->count != set->count ||
	    (int)d->name_len != dname_wire_len(v->b + n->name, DNAME_MAXLEN))
		return false;
	sig = set->rrsig ? (const void *)(v->b + set->rrsig) : NULL;
	return sig ? d->sig == sig->wire && d->sig_len == sig->wire_len &&
		     d->sig_count == sig->count :
		     !d->sig && !d->sig_len && !d->sig_count;
}

static int check_denial(struct vctx *v, uint32_t zi, const struct snap_zone *z)
{
	const struct snap_node *node = (const void *)(v->b + z->nodes);
	const struct snap_denial *d = (const void *)(v->b + z->denial);

	if (z->denial % 8 ||
	    !in_blob(v, z->denial, (uint64_t)z->node_count * sizeof(*d)))
		return bad(v, P53_EFORMAT, "zone %u: denial records at offset "
			   "%u outside the content", zi, z->denial);
	for (uint32_t i = 0; i < z->node_count; i++) {
		if (!denial_ok(v, &node[i], &d[i]))
			return bad(v, P53_EFORMAT, "zone %u: denial record of "
				   "node %u does not match the node", zi, i);
	}
	return 0;
}

/* Wire data and names are laid out in zone-file order, the arrays that
 * point at them in canonical order: without prefetching, every check
 * would wait for a cache miss. */
static inline void prefetch(const struct vctx *v, uint32_t off)
{
	if (off < v->content)
		__builtin_prefetch(v->b + off);
}

static int check_zone(struct vctx *v, uint32_t zi, const struct snap_zone *z)
{
	const struct snap_node *node = (const void *)(v->b + z->nodes);
	const struct snap_rrset *set = (const void *)(v->b + z->rrsets);
	char what[32];

	if (!z->node_count || z->nodes % 8 ||
	    !in_blob(v, z->nodes, (uint64_t)z->node_count * sizeof(*node)) ||
	    z->rrsets % 8 ||
	    !in_blob(v, z->rrsets, (uint64_t)z->rrset_count * sizeof(*set)))
		return bad(v, P53_EFORMAT, "zone %u: node array (%u at %u) or "
			   "RRset array (%u at %u) outside the content", zi,
			   z->node_count, z->nodes, z->rrset_count, z->rrsets);
	if (z->apex_node != 0 || node[0].parent != SNAP_NONE ||
	    !name_ok(v, z->apex_name))
		return bad(v, P53_EFORMAT, "zone %u: bad apex", zi);
	snprintf(what, sizeof(what), "zone %u: name", zi);
	if (check_slots(v, z->hash, z->hash_mask, z->node_count, what) < 0)
		return v->err;
	for (uint32_t i = 0; i < z->rrset_count; i++) {
		if (i + PREFETCH < z->rrset_count)
			prefetch(v, set[i + PREFETCH].wire);
		if (check_rrset(v, zi, z, &set[i]) < 0)
			return v->err;
	}
	for (uint32_t i = 0; i < z->node_count; i++) {
		if (i + PREFETCH < z->node_count) {
			prefetch(v, node[i + PREFETCH].rrsets);
			prefetch(v, node[i + PREFETCH].name);
		}
		if (check_node(v, zi, z, i, &node[i]) < 0)
			return v->err;
	}
	if (check_soa(v, zi, z, &node[0]) < 0)
		return v->err;
	if ((z->flags & SNAP_ZONE_SIGNED) && check_kids(v, zi, z) < 0)
		return v->err;
	if (z->denial && !(z->flags & SNAP_ZONE_SIGNED))
		return bad(v, P53_EFORMAT, "zone %u: denial records in an "
			   "unsigned zone", zi);
	if (z->denial && check_denial(v, zi, z) < 0)
		return v->err;
	if (z->flags & SNAP_ZONE_NSEC3)
		return check_nsec3(v, zi, z);
	return 0;
}

/* The section table, and the sections this reader knows: kinds at most
 * once, each inside the content and aligned; the policy section opens. */
static const char *section_name(uint32_t kind)
{
	switch (kind) {
	case SNAP_SECT_POLICY:  return "policy";
	case SNAP_SECT_GEO:     return "geolocation";
	case SNAP_SECT_LATENCY: return "latency";
	case SNAP_SECT_COORDS:  return "coordinates";
	case SNAP_SECT_POLICY_SIG: return "policy signatures";
	}
	return "unknown";
}

/* Open one section in place; kinds this reader does not know are left
 * alone (a newer writer's optional data). */
static int open_section(struct vctx *v, const struct snap_section *t, struct diag *pd)
{
	const uint8_t *b = v->b + t->off;
	int ret = 0;

	switch (t->kind) {
	case SNAP_SECT_POLICY:
		return policy_open(b, t->len, pd, &v->aux.policy);
	case SNAP_SECT_GEO:
		ret = geo_open(b, t->len, &v->aux.geo, pd);
		v->aux.has_geo = ret == 0;
		break;
	case SNAP_SECT_LATENCY:
		ret = latency_open(b, t->len, &v->aux.latency, pd);
		v->aux.has_latency = ret == 0;
		break;
	case SNAP_SECT_COORDS:
		ret = geo_open(b, t->len, &v->aux.coords, pd);
		v->aux.has_coords = ret == 0;
		break;
	case SNAP_SECT_POLICY_SIG:
		/* opened once the policy it signs is (check_sections) */
		v->aux.psig_blob = b;
		v->aux.psig_len = t->len;
		break;
	}
	return ret;
}

static int check_sections(struct vctx *v)
{
	const struct snap_header *h = (const void *)v->b;
	const struct snap_section *t = (const void *)(v->b + h->sections);
	struct diag pd;
	uint32_t seen = 0;
	int ret;

	diag_init(&pd, NULL);

	if (!h->sections && !h->section_count)
		return 0;
	if (h->sections % 8 || h->section_count > 32 ||
	    !in_blob(v, h->sections, (uint64_t)h->section_count * sizeof(*t)))
		return bad(v, P53_EFORMAT, "section table (%u at offset %u) "
			   "outside the content", h->section_count, h->sections);
	for (uint32_t i = 0; i < h->section_count; i++) {
		if (t[i].off % 8 || !in_blob(v, t[i].off, t[i].len) ||
		    (t[i].kind < 32 && (seen & 1u << t[i].kind)))
			return bad(v, P53_EFORMAT, "section %u (kind %u) at "
				   "[%u, +%u): misplaced or repeated", i,
				   t[i].kind, t[i].off, t[i].len);
		if (t[i].kind < 32)
			seen |= 1u << t[i].kind;
		if ((ret = open_section(v, &t[i], &pd)) < 0)
			return bad(v, ret, "%s section: %s", section_name(t[i].kind),
				   pd.first[0] ? pd.first : p53_strerror(ret));
	}
	if (!(h->features & SNAP_FEAT_POLICY) != !v->aux.policy)
		return bad(v, P53_EFORMAT, "the policy feature flag and the "
			   "policy section disagree");
	if (v->aux.psig_blob && !v->aux.policy)
		return bad(v, P53_EFORMAT, "policy signatures without a policy section");
	if (v->aux.psig_blob &&
	    (ret = policy_sig_open(v->aux.psig_blob, v->aux.psig_len, v->aux.policy, &pd,
				   &v->aux.psig)) < 0)
		return bad(v, ret, "policy signatures section: %s",
			   pd.first[0] ? pd.first : p53_strerror(ret));
	if (v->aux.has_latency && (!v->aux.policy ||
	    v->aux.latency.nregions != policy_region_count(v->aux.policy)))
		return bad(v, P53_EFORMAT, "the latency table has %u regions, the policy "
			   "file %u", v->aux.latency.nregions,
			   v->aux.policy ? policy_region_count(v->aux.policy) : 0);
	return 0;
}

static int check_structure(struct vctx *v)
{
	const struct snap_header *h = (const void *)v->b;
	const struct snap_zone *z = (const void *)(v->b + h->zone_table);

	if (check_sections(v) < 0)
		return v->err;

	if (h->zone_table % 8 ||
	    !in_blob(v, h->zone_table, (uint64_t)h->zone_count * sizeof(*z)))
		return bad(v, P53_EFORMAT, "zone table (%u zones at offset %u) "
			   "outside the content", h->zone_count,
			   h->zone_table);
	if (check_slots(v, h->zone_hash, h->zone_hash_mask, h->zone_count,
			"zone apex") < 0)
		return v->err;
	for (uint32_t i = 0; i < h->zone_count; i++) {
		if (check_zone(v, i, &z[i]) < 0)
			return v->err;
	}
	return 0;
}

static void aux_close(struct snap_aux *aux)
{
	policy_sig_close(aux->psig);
	policy_close(aux->policy);
	aux->psig = NULL;
	aux->policy = NULL;
}

/* ---- hash ----------------------------------------------------------------- */

struct hash_job {
	const uint8_t *b;
	uint64_t content;
	uint8_t md[32];
	int ok;
};

static void *hash_run(void *arg)
{
	static const uint8_t zero[32];
	struct hash_job *j = arg;
	const size_t at = offsetof(struct snap_header, sha256);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int n;

	j->ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
		EVP_DigestUpdate(c, j->b, at) &&
		EVP_DigestUpdate(c, zero, sizeof(zero)) &&
		EVP_DigestUpdate(c, j->b + at + 32, j->content - at - 32) &&
		EVP_DigestFinal_ex(c, j->md, &n);
	EVP_MD_CTX_free(c);
	return NULL;
}

static int verify(const uint8_t *b, size_t len, const char *name,
		  struct diag *d, struct snap_aux *aux)
{
	struct vctx v = { .b = b, .len = len };
	struct hash_job job = { .b = b };
	pthread_t th;
	bool threaded;

	if (check_header(&v) < 0)
		goto fail;
	if (v.has_glue && !(v.glue_seen = calloc(v.content / 32 + 1, 1))) {
		bad(&v, P53_ENOMEM, "no memory to check the glue");
		goto fail;
	}
	job.content = v.content;
	threaded = v.content >= HASH_THREAD_MIN &&
		   pthread_create(&th, NULL, hash_run, &job) == 0;
	check_structure(&v);
	free(v.glue_seen);
	v.glue_seen = NULL;
	if (threaded)
		pthread_join(th, NULL);
	else
		hash_run(&job);
	/* A wrong hash explains any structural damage too: report it first. */
	if (!job.ok) {
		v.err = 0;
		bad(&v, P53_ENOMEM, "cannot compute SHA-256");
	} else if (memcmp(job.md, ((const struct snap_header *)b)->sha256,
			  32) != 0) {
		v.err = 0;
		bad(&v, P53_EHASH, "content hash mismatch: the snapshot is "
		    "damaged or was altered");
	}
	if (!v.err) {
		*aux = v.aux;
		return 0;
	}
fail:
	free(v.glue_seen);
	aux_close(&v.aux);
	diag_error(d, name, 0, 0, "%s", v.msg);
	return v.err;
}

/* ---- open / close ---------------------------------------------------------- */

/* The lookup shortcuts of s, from its verified blob. */
static void set_shortcuts(struct snap *s, const uint8_t *blob, size_t len)
{
	const struct snap_header *h = (const void *)blob;

	s->blob = blob;
	s->size = len;
	s->content = h->content_size;
	s->zslot = (const void *)(blob + h->zone_hash);
	s->zones = (const void *)(blob + h->zone_table);
	s->zmask = h->zone_hash_mask;
	s->nzones = h->zone_count;
	s->has_glue = h->version_minor >= 1;
	s->apex_min = DNAME_MAXLABELS;
	s->apex_max = 0;
	for (uint32_t i = 0; i < h->zone_count; i++) {
		int l = dname_labels(blob + s->zones[i].apex_name);

		if (l < s->apex_min)
			s->apex_min = (uint8_t)l;
		if (l > s->apex_max)
			s->apex_max = (uint8_t)l;
	}
	s->one_len = 0;
	s->one_tail = 0;
	if (h->zone_count == 1) {
		const uint8_t *apex = blob + s->zones[0].apex_name;
		int alen = dname_wire_len(apex, DNAME_MAXLEN);

		s->one_len = (uint8_t)alen;
		if (alen >= 8)
			memcpy(&s->one_tail, apex + alen - 8, 8);
	}
}

/* Below this many children a binary search is short enough. */
#define KIDX_MIN        64

static const uint32_t *kid_first(const struct snap *s, const struct snap_zone *z)
{
	return (const uint32_t *)(const void *)(s->blob + z->kids);
}

static const struct snap_kid *kid_array(const struct snap *s, const struct snap_zone *z)
{
	return (const struct snap_kid *)(const void *)(s->blob + kid_array_at(z));
}

/*
 * An index of the apex's children by the first two bytes of their keys,
 * for the NSEC searches of names below the apex (a root NXDOMAIN has one
 * among some 1,450 TLDs, and its binary search was half of the proof's
 * cost). Bytes are ranked to keep the index small: the characters of
 * host names ('-', digits, '_', letters) get a rank each, any other byte
 * shares a rank with its neighbours. Ranks keep byte order, so bucket b
 * holds exactly the children whose first two key bytes rank b (or whose
 * shared first byte's rank does), in key order. t[b]: the first child
 * whose bucket is b or later; t[KIDX_BUCKETS]: one past the last. Open
 * does not check the children's order: were it broken, t would still be
 * non-decreasing inside the apex's range, so a search reads nothing
 * outside it and only its answer is wrong, as without the index.
 */
#define KIDX_RANKS      77      /* 2 x 38 characters + 1 */
#define KIDX_BUCKETS    (KIDX_RANKS * KIDX_RANKS)

struct kidx {
	uint8_t rank[256];
	uint32_t t[KIDX_BUCKETS + 1];
};

/* A first byte without a rank of its own (an even one) shares it with
 * other bytes, so the second byte cannot order its keys: they all go to
 * the first sub-bucket. */
static inline unsigned kidx_bucket(const struct kidx *x, uint64_t key)
{
	unsigned r0 = x->rank[key >> 56];

	return r0 * KIDX_RANKS + (-(r0 & 1) & x->rank[(key >> 48) & 0xff]);
}

static struct kidx *kidx_build(const struct snap *s, const struct snap_zone *z)
{
	static const char chars[] = "-0123456789_abcdefghijklmnopqrstuvwxyz";
	const uint32_t *first = kid_first(s, z);
	const struct snap_kid *kid = kid_array(s, z);
	uint32_t lo = first[0], hi = first[1], k;
	unsigned below = 0;
	struct kidx *x;

	if (hi - lo < KIDX_MIN || !(x = malloc(sizeof(*x))))
		return NULL;
	for (unsigned b = 0; b < 256; b++) {
		unsigned is = b && strchr(chars, (int)b);

		x->rank[b] = (uint8_t)(2 * below + is);
		below += is;
	}
	k = lo;
	for (unsigned b = 0; b < KIDX_BUCKETS; b++) {
		while (k < hi && kidx_bucket(x, kid[k].key) < b)
			k++;
		x->t[b] = k;
	}
	x->t[KIDX_BUCKETS] = hi;
	return x;
}

static void apex_free(struct snap *s)
{
	free(s->apex_wild);
	s->apex_wild = NULL;
	if (!s->apex_kidx)
		return;
	for (uint32_t i = 0; i < s->nzones; i++)
		free(s->apex_kidx[i]);
	free(s->apex_kidx);
	s->apex_kidx = NULL;
}

/* The policy view (snap_policy_view) of the sections just opened; the
 * health words come later (snap_set_health). */
static void view_attach(struct snap *s)
{
	s->pview.policy = snap_policy(s);
	s->pview.geo = snap_geo(s);
	s->pview.coords = snap_coords(s);
	s->pview.latency = snap_latency(s);
}

/* Only speed-ups: without memory for them the searches run unindexed, and
 * an apex's wildcard proof is searched for each time. */
static void apex_attach(struct snap *s)
{
	size_t n = s->nzones ? s->nzones : 1;

	if ((s->apex_kidx = calloc(n, sizeof(*s->apex_kidx)))) {
		for (uint32_t i = 0; i < s->nzones; i++) {
			if (s->zones[i].flags & SNAP_ZONE_SIGNED)
				s->apex_kidx[i] = kidx_build(s, &s->zones[i]);
		}
	}
	if (!(s->apex_wild = calloc(n, sizeof(*s->apex_wild))))
		return;
	for (uint32_t i = 0; i < s->nzones; i++) {
		const struct snap_zone *z = &s->zones[i];

		/* NSEC3 zones prove the wildcard by their own table */
		if ((z->flags & (SNAP_ZONE_SIGNED | SNAP_ZONE_NSEC3)) == SNAP_ZONE_SIGNED)
			s->apex_wild[i] = snap_nsec_cover(s, z, snap_node_at(s, z, z->apex_node),
							  (const uint8_t *)"\1*");
	}
}

int snap_open_mem(const uint8_t *buf, size_t len, struct diag *d,
		  struct snap **out)
{
	struct snap_aux aux;
	struct snap *s;
	int ret;

	*out = NULL;
	/* The structures are read in place. */
	if ((uintptr_t)buf % 8) {
		diag_error(d, NULL, 0, 0, "snapshot buffer is not 8-byte "
			   "aligned");
		return P53_EINVAL;
	}
	if ((ret = verify(buf, len, NULL, d, &aux)) < 0)
		return ret;
	if (!(s = calloc(1, sizeof(*s)))) {
		aux_close(&aux);
		return P53_ENOMEM;
	}
	set_shortcuts(s, buf, len);
	s->aux = aux;
	view_attach(s);
	apex_attach(s);
	if ((ret = snap_alias_index_build(s, &s->ali)) < 0) {
		snap_close(s);
		return ret;
	}
	*out = s;
	return 0;
}

#define HUGE_PAGE (2u << 20)

/* Anonymous memory for a snapshot of len bytes, 2 MiB aligned and marked
 * for transparent huge pages: a large snapshot is read at random, and with
 * 4 KiB pages nearly every lookup also misses the TLB. */
static void *map_anon(size_t len, size_t *map_len)
{
	size_t want = (len + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
	size_t span = want + (len >= HUGE_PAGE ? HUGE_PAGE : 0);
	uint8_t *p, *start;

	p = mmap(NULL, span, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return MAP_FAILED;
	start = p;
	if (span > want) {
		/* Trim to a 2 MiB boundary so that every page can be huge. */
		uintptr_t a = ((uintptr_t)p + HUGE_PAGE - 1) &
			      ~(uintptr_t)(HUGE_PAGE - 1);
		size_t head = a - (uintptr_t)p;

		start = (uint8_t *)a;
		if (head)
			munmap(p, head);
		if (span - head > want)
			munmap(start + want, span - head - want);
		(void)madvise(start, want, MADV_HUGEPAGE);
	}
	*map_len = want;
	return start;
}

/* The whole file into buf: a private copy, so that a file replaced or
 * truncated while it is served cannot fault the readers (a shared mapping
 * would raise SIGBUS). */
static int read_all(int fd, uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, buf + done, len - done, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

int snap_open(const char *path, struct diag *d, struct snap **out)
{
	const uint64_t max = (uint64_t)UINT32_MAX + sizeof(struct snap_sig);
	struct snap_aux aux = { 0 };
	struct snap *s = NULL;
	void *map = MAP_FAILED;
	struct stat st;
	size_t len = 0, map_len = 0;
	int fd, ret = P53_EIO, rerr;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		diag_error(d, path, 0, 0, "cannot open: %s", strerror(errno));
		goto fail;
	}
	len = (size_t)st.st_size;
	if (!S_ISREG(st.st_mode) || st.st_size == 0 || (uint64_t)len > max) {
		ret = !S_ISREG(st.st_mode) ? P53_EIO : len ? P53_EFORMAT :
		      P53_ETRUNC;
		diag_error(d, path, 0, 0, !S_ISREG(st.st_mode) ?
			   "not a regular file" : len ? "file has %zu bytes, "
			   "more than any snapshot" : "truncated: file is "
			   "empty", len);
		goto fail;
	}
	if ((map = map_anon(len, &map_len)) == MAP_FAILED) {
		ret = errno == ENOMEM ? P53_ENOMEM : P53_EIO;
		diag_error(d, path, 0, 0, "cannot allocate %zu bytes: %s",
			   len, strerror(errno));
		goto fail;
	}
	if ((rerr = read_all(fd, map, len)) < 0) {
		diag_error(d, path, 0, 0, "cannot read: %s",
			   rerr == -EIO ? "file shrank while read" :
			   strerror(-rerr));
		goto fail;
	}
	(void)mprotect(map, map_len, PROT_READ);
	if ((ret = verify(map, len, path, d, &aux)) < 0)
		goto fail;
	ret = P53_ENOMEM;
	if (!(s = calloc(1, sizeof(*s))))
		goto fail;
	set_shortcuts(s, map, len);
	s->aux = aux;
	view_attach(s);
	aux.policy = NULL;
	aux.psig = NULL;
	s->map = map;
	s->map_len = map_len;
	map = MAP_FAILED;
	apex_attach(s);
	if ((ret = snap_alias_index_build(s, &s->ali)) < 0)
		goto fail;
	close(fd);
	*out = s;
	return 0;
fail:
	aux_close(&aux);
	if (map != MAP_FAILED)
		munmap(map, map_len);
	snap_close(s);
	if (fd >= 0)
		close(fd);
	return ret;
}

void snap_close(struct snap *s)
{
	if (!s)
		return;
	aux_close(&s->aux);
	snap_alias_index_free(&s->ali);
	apex_free(s);
	if (s->map)
		munmap(s->map, s->map_len);
	free(s);
}

const void *snap_section(const struct snap *s, uint32_t kind, size_t *len)
{
	const struct snap_header *h = (const void *)s->blob;
	const struct snap_section *t = (const void *)(s->blob + h->sections);

	for (uint32_t i = 0; h->sections && i < h->section_count; i++) {
		if (t[i].kind == kind) {
			*len = t[i].len;
			return s->blob + t[i].off;
		}
	}
	*len = 0;
	return NULL;
}

const struct policy *snap_policy(const struct snap *s)
{
	return s->aux.policy;
}

const struct policy_sig *snap_policy_sig(const struct snap *s)
{
	return s->aux.psig;
}

const struct geo_table *snap_geo(const struct snap *s)
{
	return s->aux.has_geo ? &s->aux.geo : NULL;
}

const struct latency_table *snap_latency(const struct snap *s)
{
	return s->aux.has_latency ? &s->aux.latency : NULL;
}

const struct geo_table *snap_coords(const struct snap *s)
{
	return s->aux.has_coords ? &s->aux.coords : NULL;
}

void snap_set_health(struct snap *s, const uint8_t *words, uint32_t n)
{
	s->pview.health = words;
	s->pview.nhealth = words ? n : 0;
}

const struct snap_policy_view *snap_policy_view(const struct snap *s)
{
	return &s->pview;
}

const uint8_t *snap_health(const struct snap *s, uint32_t *n)
{
	*n = s->pview.nhealth;
	return s->pview.health;
}

uint32_t snap_alias_count(const struct snap *s)
{
	return s->ali.n;
}

const uint8_t *snap_alias_target(const struct snap *s, uint32_t i)
{
	struct policy_endpoint ep;

	policy_endpoint_get(s->aux.policy, s->ali.target_ep[i], &ep);
	return ep.rdata;
}

void snap_set_aliases(struct snap *s, struct snap_alias *slots)
{
	s->alias_slots = slots;
}

const struct snap_alias *snap_alias_of(const struct snap *s, uint32_t ep)
{
	uint32_t k;

	if (!s->alias_slots || !s->ali.ep_slot || !(k = s->ali.ep_slot[ep]))
		return NULL;
	return &s->alias_slots[k - 1];
}

const uint8_t *snap_data(const struct snap *s)
{
	return s->blob;
}

size_t snap_size(const struct snap *s)
{
	return s->size;
}

/* ---- lookups ----------------------------------------------------------------- */

/* The steps of snap_name_hash (snap_format.h), for names read a word at a
 * time: the seed, one whole word, the last partial word (its bytes in the
 * low end, the rest zero), the final mix. */
#define NAME_HASH_SEED 0x9e3779b97f4a7c15ull

static inline uint64_t name_hash_word(uint64_t h, uint64_t v)
{
	h = (h ^ v) * 0xff51afd7ed558ccdull;
	return h ^ h >> 32;
}

static inline uint64_t name_hash_tail(uint64_t h, uint64_t v)
{
	h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
	return h ^ h >> 29;
}

static inline uint32_t name_hash_end(uint64_t h)
{
	return (uint32_t)((h * 0x9e3779b97f4a7c15ull) >> 32);
}

static inline uint32_t name_hash(const uint8_t *name, size_t len);

/* The lower-cased name and its hash, the steps both initialisations
 * share. */
static inline void qname_lower(struct snap_qname *q, const uint8_t *w,
			       size_t len)
{
	size_t k = 0;
	uint64_t v;

	/* Length bytes are below 64, so only label bytes can be letters.
	 * The words lowered are hashed on the way (name_hash's steps): the
	 * lookup's first probe needs that hash, and a loop of its own over
	 * the stored name cost as much again. */
	if (len >= 8) {
		uint64_t h = NAME_HASH_SEED ^ len;

		for (; k + 8 <= len; k += 8) {
			memcpy(&v, w + k, 8);
			v = dname_lower8(v);
			memcpy(q->name + k, &v, 8);
			h = name_hash_word(h, v);
		}
		/* The rest as one word that ends with the name: lowering is
		 * idempotent, so the overlap does no harm. */
		if (k < len) {
			memcpy(&v, w + len - 8, 8);
			v = dname_lower8(v);
			memcpy(q->name + len - 8, &v, 8);
			h = name_hash_tail(h, v >> (8 * (8 - (len - k))));
		}
		q->hash = name_hash_end(h);
	} else {
		for (; k < len; k++)
			q->name[k] = (uint8_t)((unsigned)w[k] - 'A' < 26u ?
					       w[k] + 32 : w[k]);
		q->hash = name_hash(q->name, len);
	}
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	q->hash = snap_name_hash(q->name, len);     /* the words are not */
#endif
	q->len = (uint8_t)len;
}

void snap_qname_init(struct snap_qname *q, const uint8_t *w, size_t len)
{
	unsigned labels = 0;
	size_t i = 0;

	qname_lower(q, w, len);
	/* Length bytes come from w, not from the bytes just stored, so the
	 * walk does not wait for those stores. */
	while (i < len && w[i]) {
		q->off[labels++] = (uint8_t)i;
		i += 1u + w[i];
	}
	q->off[labels] = (uint8_t)i;
	q->labels = (uint8_t)labels;
}

void snap_qname_init_labels(struct snap_qname *q, const uint8_t *w,
			    size_t len, const uint8_t *off, unsigned labels)
{
	qname_lower(q, w, len);
	/* a fixed copy covers most names without a length to predict */
	if (labels < 16)
		memcpy(q->off, off, 16);
	else
		memcpy(q->off, off, labels + 1);
	q->labels = (uint8_t)labels;
}

/*
 * snap_name_hash() (snap_format.h), same result, faster: that one loads
 * the last partial word with a variable-length memcpy, which is a libc
 * call, and reloads it as one word from the stack, which stalls store
 * forwarding; together they were a third of the cost of a hash. Here the
 * tail is loaded as words that end where the name ends. The shifts assume
 * little-endian words; elsewhere the shared function is used.
 */
static inline uint32_t name_hash(const uint8_t *name, size_t len)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t h = NAME_HASH_SEED ^ len, v;
	size_t i = 0, n;

	for (; i + 8 <= len; i += 8) {
		memcpy(&v, name + i, 8);
		h = name_hash_word(h, v);
	}
	if (i < len) {
		n = len - i;    /* 1 to 7 */
		if (len >= 8) {
			memcpy(&v, name + len - 8, 8);
			v >>= 8 * (8 - n);
		} else if (n >= 4) {
			uint32_t lo, hi;

			/* overlapping bytes are equal in both: OR keeps them */
			memcpy(&lo, name, 4);
			memcpy(&hi, name + n - 4, 4);
			v = lo | (uint64_t)hi << (8 * (n - 4));
		} else {
			v = name[0] | (uint64_t)name[n / 2] << (8 * (n / 2)) |
			    (uint64_t)name[n - 1] << (8 * (n - 1));
		}
		h = name_hash_tail(h, v);
	}
	return name_hash_end(h);
#else
	return snap_name_hash(name, len);
#endif
}

uint32_t snap_hash_name(const uint8_t *name, size_t len)
{
	return name_hash(name, len);
}

/*
 * The stored name at blob offset off equals name (len bytes). Stored names
 * are verified wire names: if their first len bytes match a whole wire
 * name, they end where it ends, so no length is needed. The bound keeps
 * the reads inside the blob when the stored name is shorter and near its
 * end. Inline word compares: a hash match is nearly always a hit, and a
 * libc memcmp call cost more than the comparison of a short name.
 */
static inline bool name_at(const struct snap *s, uint32_t off,
			   const uint8_t *name, size_t len)
{
	const uint8_t *p = s->blob + off;
	uint64_t a, b;
	uint32_t x, y;
	size_t i;

	if (off + (uint64_t)len > s->content)
		return false;
	if (len >= 8) {
		for (i = 0; i + 8 < len; i += 8) {
			memcpy(&a, p + i, 8);
			memcpy(&b, name + i, 8);
			if (a != b)
				return false;
		}
		/* the last word may overlap the one before it */
		memcpy(&a, p + len - 8, 8);
		memcpy(&b, name + len - 8, 8);
		return a == b;
	}
	if (len >= 4) {
		memcpy(&x, p, 4);
		memcpy(&y, name, 4);
		if (x != y)
			return false;
		memcpy(&x, p + len - 4, 4);
		memcpy(&y, name + len - 4, 4);
		return x == y;
	}
	/* 1 to 3 bytes: these three positions cover them all */
	return len && p[0] == name[0] && p[len / 2] == name[len / 2] &&
	       p[len - 1] == name[len - 1];
}

/*
 * Hashes of the suffixes of one query name, each computed at most once per
 * lookup: the zone search and the node search may probe the same suffix
 * (nested zones). h[i] is the suffix that drops i labels; [lo, hi) holds
 * valid entries.
 */
struct qhash {
	unsigned lo, hi;
	uint32_t h[DNAME_MAXLABELS + 1];
};

/* The hash of q's suffix that drops i labels: the whole name's was made
 * with q. */
static inline uint32_t qname_hash(const struct snap_qname *q, unsigned i)
{
	return i ? name_hash(q->name + q->off[i], q->len - q->off[i]) : q->hash;
}

static inline uint32_t suffix_hash(struct qhash *qh, const struct snap_qname *q,
				   unsigned i)
{
	if (i >= qh->lo && i < qh->hi)
		return qh->h[i];
	return qname_hash(q, i);
}

/* Probe zone z's name table for name, whose hash is h. */
static inline const struct snap_node *find_node(const struct snap *s,
						const struct snap_zone *z,
						const uint8_t *name, size_t len,
						uint32_t h)
{
	const struct snap_hslot *slot =
		(const struct snap_hslot *)(const void *)(s->blob + z->hash);
	const struct snap_node *nodes =
		(const struct snap_node *)(const void *)(s->blob + z->nodes);
	uint32_t mask = z->hash_mask;

	for (uint32_t pos = h & mask;; pos = (pos + 1) & mask) {
		uint32_t idx = slot[pos].index;

		if (!idx)
			return NULL;
		if (slot[pos].hash == h) {
			const struct snap_node *n = nodes + (idx - 1);

			/* A matching hash is nearly always the name: its
			 * RRsets, read next, are fetched during the compare
			 * rather than after it (an ENT's 0 is the header). */
			__builtin_prefetch(s->blob + n->rrsets);
			if (name_at(s, n->name, name, len))
				return n;
		}
	}
}

/*
 * Longest apex first; *strip gets the labels dropped from q to reach it.
 * Only suffixes with as many labels as some apex can match, so a snapshot
 * whose apexes all have two labels costs one probe, not one per label.
 */
static inline __attribute__((always_inline)) const struct snap_zone *
find_zone(const struct snap *s,
	  const struct snap_qname *q,
	  struct qhash *qh, unsigned *strip)
{
	unsigned first, last;

	if (q->labels < s->apex_min)
		return NULL;
	first = q->labels > s->apex_max ? q->labels - s->apex_max : 0;
	last = q->labels - s->apex_min;
	qh->lo = first;
	qh->hi = first;
	if (s->nzones == 1) {
		/* One zone: its apex is compared, not hashed and probed. */
		if (!name_at(s, s->zones[0].apex_name, q->name + q->off[first],
			     q->len - q->off[first]))
			return NULL;
		*strip = first;
		return s->zones;
	}
	for (unsigned i = first; i <= last; i++) {
		const uint8_t *name = q->name + q->off[i];
		size_t len = q->len - q->off[i];
		uint32_t hv = qname_hash(q, i);

		qh->h[i] = hv;
		qh->hi = i + 1;
		for (uint32_t pos = hv & s->zmask;; pos = (pos + 1) & s->zmask) {
			uint32_t idx = s->zslot[pos].index;
			const struct snap_zone *z;

			if (!idx)
				break;
			z = s->zones + (idx - 1);
			if (s->zslot[pos].hash == hv &&
			    name_at(s, z->apex_name, name, len)) {
				*strip = i;
				return z;
			}
		}
	}
	return NULL;
}

const struct snap_zone *snap_find_zone(const struct snap *s,
				       const struct snap_qname *q)
{
	struct qhash qh;
	unsigned strip;

	return find_zone(s, q, &qh, &strip);
}

const struct snap_node *snap_find_node(const struct snap *s,
				       const struct snap_zone *z,
				       const uint8_t *lname, size_t len)
{
	return find_node(s, z, lname, len, name_hash(lname, len));
}

/* The highest zone cut at or above node n of zone z, or NULL. */
static inline const struct snap_node *cut_of(const struct snap *s,
					     const struct snap_zone *z,
					     const struct snap_node *n)
{
	return n->deleg == SNAP_NONE ? NULL : snap_node_at(s, z, n->deleg);
}

/* Every ancestor of a node down to the apex is a node (ENTs included), so
 * the first suffix that hits is the closest encloser, and no zone cut can
 * hide between it and q: the encloser's own `deleg` is the answer. */
/* The walk inside zone z, whose apex is q with zstrip labels dropped:
 * the suffixes that drop from..zstrip-1 labels, longest first. The first
 * node found, or NULL; *strip gets the labels it dropped (zstrip when
 * none). */
static inline __attribute__((always_inline)) const struct snap_node *
probe_below(const struct snap *s, const struct snap_zone *z,
	    const struct snap_qname *q, struct qhash *qh, unsigned from,
	    unsigned zstrip, unsigned *strip)
{
	const struct snap_node *n = NULL;
	unsigned i;

	for (i = from; i < zstrip; i++) {
		n = find_node(s, z, q->name + q->off[i], q->len - q->off[i],
			      suffix_hash(qh, q, i));
		if (n)
			break;
	}
	*strip = i;
	return n;
}

/* The lookup's result: n, the closest encloser of q in zone z, found with
 * i labels dropped. */
static inline __attribute__((always_inline)) void
lookup_fill(const struct snap *s, const struct snap_zone *z,
	    const struct snap_node *n, unsigned i, struct snap_lookup *out)
{
	out->zone = z;
	out->node = i ? NULL : n;
	out->encloser = n;
	out->encloser_strip = (uint8_t)i;
	out->deleg = cut_of(s, z, n);
	out->wildcard = !i || n->wildcard == SNAP_NONE ? NULL :
			snap_node_at(s, z, n->wildcard);
}

static inline __attribute__((always_inline)) void
lookup_in(const struct snap *s, const struct snap_zone *z,
	  const struct snap_qname *q, struct qhash *qh,
	  unsigned zstrip, struct snap_lookup *out)
{
	unsigned i;
	const struct snap_node *n = probe_below(s, z, q, qh, 0, zstrip, &i);

	lookup_fill(s, z, n ? n : snap_node_at(s, z, z->apex_node), i, out);
}

const struct snap_glue *snap_glue_of(const struct snap *s, const struct snap_rrset *set)
{
	const struct snap_addl *a;
	uint32_t off;

	if (!s->has_glue || !snap_has_additional(set))
		return NULL;
	a = (const void *)(s->blob + set->additional);
	memcpy(&off, &a->node[a->count], 4);
	return off ? (const struct snap_glue *)(const void *)(s->blob + off) : NULL;
}

void snap_lookup_node(const struct snap *s, const struct snap_zone *z,
		      const struct snap_node *n, struct snap_lookup *out)
{
	out->zone = z;
	out->node = n;
	out->encloser = n;
	out->encloser_strip = 0;
	out->deleg = cut_of(s, z, n);
	out->wildcard = NULL;
}

/* Whether q's suffix that drops zstrip labels can be the apex of the
 * snapshot's one zone: its length and last eight bytes. */
static inline bool may_end_with_one(const struct snap *s, const struct snap_qname *q,
				    unsigned zstrip)
{
	uint64_t tail;

	if ((unsigned)(q->len - q->off[zstrip]) != s->one_len)
		return false;
	if (s->one_len < 8)
		return true;
	memcpy(&tail, q->name + q->len - 8, 8);    /* q->len >= one_len */
	return tail == s->one_tail;
}

/* snap_lookup in a snapshot of one zone: the names below its apex are
 * probed before the apex is compared. Every node's name ends with the
 * apex, so a name that matches one lies in the zone; only a name that
 * matches none is compared with the apex (find_zone's test). After the
 * whole name has missed, what cannot end with the apex is turned away
 * before its parents are probed. */
static inline __attribute__((always_inline)) int
lookup_one(const struct snap *s, const struct snap_qname *q, struct snap_lookup *out)
{
	const struct snap_zone *z = s->zones;
	unsigned zstrip = (unsigned)(q->labels - s->apex_min), i;
	struct qhash qh = { .lo = 0, .hi = 0 };
	const struct snap_node *n = probe_below(s, z, q, &qh, 0, zstrip ? 1 : 0, &i);

	if (!n && zstrip > 1) {
		if (!may_end_with_one(s, q, zstrip))
			return P53_ENOTFOUND;
		n = probe_below(s, z, q, &qh, 1, zstrip, &i);
	}
	if (!n) {
		if (!name_at(s, z->apex_name, q->name + q->off[zstrip],
			     q->len - q->off[zstrip]))
			return P53_ENOTFOUND;
		n = snap_node_at(s, z, z->apex_node);
	}
	lookup_fill(s, z, n, i, out);
	return 0;
}

/* lookup_one, find_zone and lookup_in are inlined here (lookup_in into
 * snap_lookup_in too): every answer makes this call, and their own calls
 * cost ~45 of its ~250 instructions. */
int snap_lookup(const struct snap *s, const struct snap_qname *q,
		struct snap_lookup *out)
{
	const struct snap_zone *z;
	unsigned zstrip;
	struct qhash qh;

	if (s->nzones == 1 && q->labels >= s->apex_min)
		return lookup_one(s, q, out);
	if (!(z = find_zone(s, q, &qh, &zstrip)))
		return P53_ENOTFOUND;
	lookup_in(s, z, q, &qh, zstrip, out);
	return 0;
}

int snap_lookup_in(const struct snap *s, const struct snap_zone *z,
		   const struct snap_qname *q, struct snap_lookup *out)
{
	int apex = dname_labels(s->blob + z->apex_name);
	struct qhash qh = { 0 };

	if (apex < 0 || apex > q->labels ||
	    !name_at(s, z->apex_name, q->name + q->off[q->labels - apex],
		     q->len - q->off[q->labels - apex]))
		return P53_ENOTFOUND;
	lookup_in(s, z, q, &qh, (unsigned)(q->labels - apex), out);
	return 0;
}

const struct snap_rrset *snap_node_rrset_search(const struct snap *s,
						const struct snap_node *n,
						uint16_t type)
{
	const struct snap_rrset *set = snap_node_rrsets(s, n);
	uint32_t lo = 0, hi = n->rrset_count;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (set[mid].type == type)
			return &set[mid];
		if (set[mid].type < type)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- NSEC denial ------------------------------------------------------------- */

/* The compiler's sibling sort key of a label (label_key in snap_compile.c):
 * a long label's first 8 bytes are one load; a short one's bytes are
 * shifted in and the rest padded with zeros. */
static inline uint64_t kid_key(const uint8_t *label)
{
	unsigned n = label[0];
	uint64_t k = 0;

	if (n >= 8) {
		memcpy(&k, label + 1, 8);
		return __builtin_bswap64(k);
	}
	for (unsigned i = 0; i < n; i++)
		k = k << 8 | label[1 + i];
	return n ? k << (8 * (8 - n)) : 0;
}

/* RFC 4034 6.1 order of two lower-cased labels, known to share 8 bytes. */
static int label_cmp(const uint8_t *a, const uint8_t *b)
{
	unsigned n = a[0] < b[0] ? a[0] : b[0];

	for (unsigned i = 8; i < n; i++) {
		if (a[1 + i] != b[1 + i])
			return a[1 + i] - b[1 + i];
	}
	return a[0] - b[0];
}

/* The name's label differs from every child's of enc (else that child
 * would be a closer encloser): its canonical predecessor is the last node
 * of the subtree of the last child that sorts before it, or enc itself. */
const struct snap_node *snap_nsec_cover(const struct snap *s,
					const struct snap_zone *z,
					const struct snap_node *enc,
					const uint8_t *label)
{
	const struct snap_node *nodes = snap_node_at(s, z, 0);
	const uint32_t *first;
	const struct snap_kid *kid;
	uint32_t e = (uint32_t)(enc - nodes), lo, hi, base;
	uint64_t key = kid_key(label);

	if (!(z->flags & SNAP_ZONE_SIGNED))
		return NULL;
	first = kid_first(s, z);
	kid = kid_array(s, z);
	base = lo = first[e];
	hi = first[e + 1];
	/* most often (the wildcard's "*", names before every child) the first
	 * child already sorts after the name */
	if (lo == hi || kid[lo].key > key)
		return snap_nsec_after(s, z, enc);
	/* Branch-free lower bound on the keys: the probes of a search over a
	 * thousand TLDs are not predictable, and mispredictions cost more than
	 * the loads. Equal keys (labels alike in their first 8 bytes) are rare
	 * and are compared in full after. Under an indexed apex the bound lies
	 * among the children in the key's bucket, or just after. */
	{
		const struct kidx *x = e == 0 && s->apex_kidx ?
				       s->apex_kidx[z - s->zones] : NULL;
		unsigned bk = x ? kidx_bucket(x, key) : 0;
		uint32_t from = x ? x->t[bk] : lo;
		const struct snap_kid *p = kid + from;
		uint32_t len = (x ? x->t[bk + 1] : hi) - from;

		while (len > 1) {
			uint32_t half = len / 2;

			p = p[half].key < key ? p + half : p;
			len -= half;
		}
		/* an empty letter: its bound is where the next one begins */
		lo = (uint32_t)(p - kid) + (len && p->key < key);
	}
	while (lo < hi && kid[lo].key == key &&
	       label_cmp(s->blob + nodes[kid[lo].node].name, label) < 0)
		lo++;
	if (lo == base)
		return snap_nsec_after(s, z, enc);
	return kid[lo - 1].nsec ? &nodes[kid[lo - 1].nsec - 1] : NULL;
}

const struct snap_node *snap_nsec_wild(const struct snap *s, const struct snap_zone *z,
				       const struct snap_node *enc)
{
	if (s->apex_wild && enc == snap_node_at(s, z, z->apex_node))
		return s->apex_wild[z - s->zones];
	return snap_nsec_cover(s, z, enc, (const uint8_t *)"\1*");
}

static inline uint64_t be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

/* Whether hash a sorts before h, whose first 8 bytes are hk: SHA-1
 * output is uniform, so the first word nearly always decides. */
static inline bool hash_below(const uint8_t *a, const uint8_t *h, uint64_t hk)
{
	uint64_t ak = be64(a);

	if (__builtin_expect(ak != hk, 1))
		return ak < hk;
	return memcmp(a + 8, h + 8, NSEC3_HASH_LEN - 8) < 0;
}

/* Branch-free on the probes (as snap_nsec_cover): their outcomes are
 * random. */
uint32_t snap_nsec3_lower(const struct snap_nsec3_hash *e, uint32_t n, const uint8_t *h)
{
	const struct snap_nsec3_hash *p = e;
	uint64_t hk = be64(h);

	if (!n)
		return 0;
	while (n > 1) {
		uint32_t half = n / 2;

		p = hash_below(p[half].hash, h, hk) ? p + half : p;
		n -= half;
	}
	return (uint32_t)(p - e) + hash_below(p->hash, h, hk);
}

const struct snap_node *snap_nsec3_find(const struct snap *s,
					const struct snap_zone *z,
					const uint8_t *name, size_t len,
					bool cover)
{
	const struct snap_nsec3 *t;
	const struct snap_nsec3_hash *e;
	uint8_t h[NSEC3_HASH_LEN];
	uint32_t i;

	if (!(z->flags & SNAP_ZONE_NSEC3))
		return NULL;
	t = (const struct snap_nsec3 *)(const void *)(s->blob + z->nsec3param);
	e = (const struct snap_nsec3_hash *)(const void *)(t + 1);
	if (!t->count)
		return NULL;
	nsec3_hash(name, len, t->salt, t->salt_len, t->iterations, h);
	i = snap_nsec3_lower(e, t->count, h);
	if (!cover)
		return i < t->count && !memcmp(e[i].hash, h, NSEC3_HASH_LEN) ?
		       snap_node_at(s, z, e[i].node) : NULL;
	/* the last hash below h; before the first, the last of the chain
	 * (whose next hash wraps around) */
	i = i ? i - 1 : t->count - 1;
	return snap_node_at(s, z, e[i].node);
}

const struct snap_node *snap_nsec3_wild(const struct snap *s,
					const struct snap_zone *z,
					const struct snap_node *enc)
{
	const struct snap_nsec3 *t;
	const uint32_t *wild;
	uint32_t w;

	if (!(z->flags & SNAP_ZONE_NSEC3))
		return NULL;
	t = (const struct snap_nsec3 *)(const void *)(s->blob + z->nsec3param);
	wild = (const uint32_t *)(const void *)
	       ((const struct snap_nsec3_hash *)(const void *)(t + 1) + t->count);
	w = wild[enc - snap_node_at(s, z, 0)];
	return w ? snap_node_at(s, z, w - 1) : NULL;
}

/* ---- lookups in bursts ------------------------------------------------------ */

/* Below this most of a snapshot stays in the caches between bursts, and
 * the state machine costs more than the misses it hides. Measured with
 * bench/engine-bench on the development VMs (1 MiB L2 per core); a CPU
 * with a bigger last-level cache would want a bigger figure. */
#ifndef BURST_MIN_SIZE
#define BURST_MIN_SIZE (6u << 20)
#endif

/* Rounds after which a burst's stragglers (long probe chains, many
 * labels) are finished one by one: bounds the work of odd queries. A
 * round takes a lookup one suffix (or one hash collision) further. */
#define BURST_ROUNDS 16

enum {
	B_DONE = 0,
	B_SLOT,         /* hash slots of the probed suffix are in cache */
	B_NODE,         /* candidate node in cache: fetch its name and
			 * RRsets */
	B_NAME,         /* candidate's name in cache: compare */
	B_ANODE,        /* the node that answers, when it is not the
			 * closest match, in cache: fetch its RRsets */
	B_TLINK,        /* a CNAME's linked target node in cache: its
			 * lookup result, and fetch its RRsets */
	B_SETS,         /* its RRsets in cache: fetch the wire to copy */
	B_CNAME,        /* CNAME wire in cache: warm the target's lookup */
	B_POLICY,       /* a policy RRset: its record's span is in cache,
			 * fetch the record's tables */
	B_ADDL,         /* the RRset's additional list in cache: fetch its
			 * nodes (NS glue, MX and SRV targets) */
	B_GLUE,         /* those nodes in cache: fetch their names (beside
			 * their wire) and RRsets */
	B_STAGES
};

/* Additional-section nodes warmed per RRset: a referral's glue is two to
 * four names, and more are answered unwarmed. */
#define BURST_GLUE 4

/* Bytes of pre-rendered glue warmed per RRset: about the lines the nodes
 * of BURST_GLUE targets would take. */
#define BURST_GLUE_BYTES 768u

/* The state of one lookup of a burst: the query's own, or the warming of
 * its CNAME target (whose result only warms the caches). */
struct bstate {
	const struct snap_qname *q;
	struct snap_lookup *lk;
	int *ret;
	const struct snap_zone *z;
	const struct snap_node *cand;
	const struct snap_rrset *set;   /* the CNAME (step_cname), the
					 * policy RRset (step_policy) or the
					 * one with additional data */
	uint32_t hash;
	uint32_t pos;
	uint16_t qtype;
	uint8_t stage;
	uint8_t i;              /* labels dropped from q: suffix probed */
	uint8_t zstrip;         /* labels of q above the zone's apex */
	uint8_t target;         /* warming a CNAME target */
	struct snap_lookup tlk; /* its lookup */
	int tret;
};

/* CNAME targets warmed per burst. Their names are big; a few cover the
 * CNAMEs of a burst of real traffic, and the rest are answered unwarmed. */
#define BURST_TARGETS 8

struct bpool {
	struct snap_qname q[BURST_TARGETS];
	unsigned used;
};

bool snap_burst_useful(const struct snap *s)
{
	return s->content >= BURST_MIN_SIZE;
}

/* Every cache line of [off, off + len). Most spans take one or two lines:
 * the first and the last are fetched without a branch (twice the same
 * line costs less than a loop whose exit is mispredicted), and only the
 * lines between them, if any, in a loop. */
static inline void warm_span(const struct snap *s, uint32_t off, uint32_t len)
{
	const uint8_t *first = s->blob + off;
	const uint8_t *last = first + (len ? len - 1 : 0);
	uintptr_t line = ((uintptr_t)first & ~(uintptr_t)63) + 64;
	uintptr_t end = (uintptr_t)last & ~(uintptr_t)63;

	__builtin_prefetch(first);
	__builtin_prefetch(last);
	for (; line < end; line += 64)
		__builtin_prefetch((const void *)line);
}

static inline void probe_suffix(const struct snap *s, struct bstate *b)
{
	b->hash = qname_hash(b->q, b->i);
	b->pos = b->hash & b->z->hash_mask;
	__builtin_prefetch(s->blob + b->z->hash +
			   (uint64_t)b->pos * sizeof(struct snap_hslot));
	b->stage = B_SLOT;
}

/* Closest encloser n found (i labels dropped): the result, as lookup_in
 * gives it, then the node whose RRsets the answer copies. */
static void resolve(const struct snap *s, struct bstate *b,
		    const struct snap_node *n)
{
	struct snap_lookup *lk = b->lk;
	const struct snap_node *an;

	lk->zone = b->z;
	lk->node = b->i ? NULL : n;
	lk->encloser = n;
	lk->encloser_strip = b->i;
	lk->deleg = cut_of(s, b->z, n);
	lk->wildcard = !b->i || n->wildcard == SNAP_NONE ? NULL :
		       snap_node_at(s, b->z, n->wildcard);
	*b->ret = 0;
	if (lk->deleg && !(b->qtype == RRTYPE_DS && lk->deleg == lk->node))
		an = lk->deleg;
	else
		an = lk->node ? lk->node : lk->wildcard;
	b->stage = B_DONE;
	if (an == n) {
		/* its RRsets were fetched beside its name (step_node), or
		 * it is the apex, whose are hot */
		b->cand = an;
		b->stage = B_SETS;
	} else if (an) {
		b->cand = an;
		warm_span(s, (uint32_t)((const uint8_t *)an - s->blob),
			  sizeof(*an));
		b->stage = B_ANODE;
	}
}

/* Start the lookup of b->q: the zone (its table is hot) and the first
 * probe. */
static void start(const struct snap *s, struct bstate *b)
{
	struct qhash qh;
	unsigned zstrip;

	*b->ret = P53_ENOTFOUND;
	b->stage = B_DONE;
	if (!(b->z = find_zone(s, b->q, &qh, &zstrip)))
		return;
	b->zstrip = (uint8_t)zstrip;
	b->i = 0;
	if (!zstrip) {
		resolve(s, b, snap_node_at(s, b->z, b->z->apex_node));
		return;
	}
	probe_suffix(s, b);
}

static void step_slot(const struct snap *s, struct bstate *b)
{
	const struct snap_zone *z = b->z;
	const struct snap_hslot *slot =
		(const struct snap_hslot *)(const void *)(s->blob + z->hash);

	for (;; b->pos = (b->pos + 1) & z->hash_mask) {
		uint32_t idx = slot[b->pos].index;

		if (!idx)
			break;
		if (slot[b->pos].hash == b->hash) {
			b->cand = snap_node_at(s, z, idx - 1);
			b->pos = (b->pos + 1) & z->hash_mask;
			warm_span(s, (uint32_t)((const uint8_t *)b->cand -
				  s->blob), sizeof(*b->cand));
			b->stage = B_NODE;
			return;
		}
	}
	/* No such name: its parent is next; the apex is hot. */
	if (++b->i >= b->zstrip) {
		resolve(s, b, snap_node_at(s, z, z->apex_node));
		return;
	}
	probe_suffix(s, b);
}

static void step_name(const struct snap *s, struct bstate *b)
{
	const struct snap_qname *q = b->q;

	if (name_at(s, b->cand->name, q->name + q->off[b->i],
		    q->len - q->off[b->i]))
		resolve(s, b, b->cand);
	else
		b->stage = B_SLOT;      /* a hash collision: probe on */
}

/* The RRsets of the answering node are in cache: fetch the wire of the
 * one the answer copies (as the engine chooses it). */
static void step_sets(const struct snap *s, struct bstate *b)
{
	const struct snap_node *n = b->cand;
	const struct snap_lookup *lk = b->lk;
	uint16_t q = b->qtype;
	const struct snap_rrset *set;
	bool cname = false;

	b->stage = B_DONE;
	if (n == lk->deleg && n != lk->node) {
		set = snap_node_rrset(s, n, RRTYPE_NS);
	} else if ((n->flags & SNAP_NODE_CNAME) && q != RRTYPE_CNAME &&
		   q != RRTYPE_RRSIG && q != RRTYPE_NSEC && q != RRTYPE_ANY) {
		set = snap_node_rrset(s, n, RRTYPE_CNAME);
		cname = true;
	} else {
		set = snap_node_rrset(s, n, q);
	}
	if (!set)
		return;
	if ((set->flags & SNAP_RRSET_POLICY) && s->aux.policy) {
		/* the placeholder wire is never copied; the record's tables
		 * are, two steps on */
		policy_prefetch_span(s->aux.policy, set->policy - 1);
		b->set = set;
		b->stage = B_POLICY;
		return;
	}
	warm_span(s, set->wire, set->wire_len < 256 ? set->wire_len : 256);
	if (cname && !b->target) {
		b->set = set;
		b->stage = B_CNAME;
	} else if (snap_has_additional(set) && !b->target) {
		__builtin_prefetch(s->blob + set->additional);
		b->set = set;
		b->stage = B_ADDL;
	}
}

/* The first nodes of an additional list, as the engine reads them. */
static inline uint32_t glue_count(const struct snap *s,
				  const struct snap_rrset *set,
				  const uint32_t **node)
{
	const struct snap_addl *al = (const void *)snap_ptr(s, set->additional);

	*node = al->node;
	return al->count < BURST_GLUE ? al->count : BURST_GLUE;
}

static void step_addl(const struct snap *s, struct bstate *b)
{
	const struct snap_glue *g = snap_glue_of(s, b->set);
	const uint32_t *node;
	uint32_t n;

	/* Pre-rendered glue is what the engine copies, unless it carries
	 * no signatures a DO=1 answer wants (the burst does not know DO):
	 * its lines, not the targets' nodes. */
	if (g && !(g->flags & SNAP_GLUE_SIGNED)) {
		uint64_t len = snap_glue_size(g);

		warm_span(s, (uint32_t)((const uint8_t *)g - s->blob),
			  len < BURST_GLUE_BYTES ? (uint32_t)len : BURST_GLUE_BYTES);
		b->stage = B_DONE;
		return;
	}
	n = glue_count(s, b->set, &node);

	for (uint32_t k = 0; k < n; k++)
		__builtin_prefetch(snap_node_at(s, b->z, node[k]));
	b->stage = n ? B_GLUE : B_DONE;
}

static void step_glue(const struct snap *s, struct bstate *b)
{
	const uint32_t *node;
	uint32_t n = glue_count(s, b->set, &node);

	for (uint32_t k = 0; k < n; k++) {
		const struct snap_node *g = snap_node_at(s, b->z, node[k]);

		__builtin_prefetch(s->blob + g->name);
		if (g->rrset_count)
			warm_span(s, g->rrsets, g->rrset_count *
				  (uint32_t)sizeof(struct snap_rrset));
	}
	b->stage = B_DONE;
}

/* The CNAME's wire is in cache: warm its target's lookup. The RDATA was
 * not checked by snap_open, so it is checked here as the engine does. */
static void step_cname(const struct snap *s, struct bstate *b,
		       struct bpool *pool)
{
	const struct snap_node *t = snap_cname_link(s, b->z, b->set);
	const uint8_t *rr;
	struct snap_qname *tq;
	int len;

	b->stage = B_DONE;
	if (t) {
		/* linked: the node itself, no name to hash and probe */
		b->target = 1;
		b->lk = &b->tlk;
		b->ret = &b->tret;
		b->i = 0;
		b->cand = t;
		__builtin_prefetch(t);
		b->stage = B_TLINK;
		return;
	}
	rr = snap_ptr(s, b->set->wire);
	len = dname_wire_len(rr + 12, get16(rr + 10));
	if (len <= 0 || pool->used == BURST_TARGETS)
		return;
	tq = &pool->q[pool->used++];
	snap_qname_init(tq, rr + 12, (size_t)len);
	b->target = 1;
	b->q = tq;
	b->lk = &b->tlk;
	b->ret = &b->tret;
	start(s, b);
}

static void step_tlink(const struct snap *s, struct bstate *b)
{
	const struct snap_node *n = b->cand;

	if (n->rrset_count)
		warm_span(s, n->rrsets, n->rrset_count *
			  (uint32_t)sizeof(struct snap_rrset));
	resolve(s, b, n);
}

static void step_policy(const struct snap *s, struct bstate *b)
{
	policy_prefetch(s->aux.policy, b->set->policy - 1);
	b->stage = B_DONE;
}

/* The candidate's name and, when it would be the node that answers (the
 * name asked for, or a zone cut above it), its RRsets at once: a matching
 * hash is nearly always the name, so a hit waits for three lines in turn
 * (slot, node, then name and RRsets), not four. Below other names (an
 * NXDOMAIN, a wildcard) the RRsets are not read: the memory system is
 * what limits a burst, so they are not fetched for nothing. */
static void step_node(const struct snap *s, struct bstate *b)
{
	const struct snap_node *n = b->cand;

	warm_span(s, n->name, (uint32_t)(b->q->len - b->q->off[b->i]));
	if (n->rrset_count && (!b->i || n->deleg != SNAP_NONE))
		warm_span(s, n->rrsets, n->rrset_count *
			  (uint32_t)sizeof(struct snap_rrset));
	b->stage = B_NAME;
}

static void step_anode(const struct snap *s, struct bstate *b)
{
	const struct snap_node *n = b->cand;

	if (n->rrset_count)
		warm_span(s, n->rrsets, n->rrset_count *
			  (uint32_t)sizeof(struct snap_rrset));
	b->stage = n->rrset_count ? B_SETS : B_DONE;
}

/* The lookups waiting at each stage, by index into the burst; at B_DONE,
 * those finished in the round (to be handed over after the next one). */
struct bqueue {
	uint8_t n[B_STAGES];
	uint8_t k[B_STAGES][SNAP_BURST_MAX];
};

/* Lookup k joins the queue of its new stage (B_DONE included) in q. */
static inline void requeue(const struct bstate *st, uint8_t k, struct bqueue *q)
{
	unsigned to = st[k].stage;

	q->k[to][q->n[to]++] = k;
}

/* One round: every stage in turn, each over the lookups queued at that
 * stage. A lookup makes one step a round and its next step waits for the
 * next round, so the line a step prefetched has the others' steps of a
 * whole round to land. Moving on within the round, to the later stages,
 * left too little time when the snapshot was outside the caches: the
 * steps then waited for memory (one step a round answers x1.02 on a
 * 180 MB snapshot and x1.08 on a 15 MB one, the same in cache). Stage by
 * stage rather than lookup by lookup, so the branch that picks the step
 * is predicted; queues rather than a scan of every lookup per stage,
 * which cost a third of a burst's lookups when the snapshot is in
 * cache. */
static void round_of(const struct snap *s, struct bstate *st,
		     struct bqueue *now, struct bqueue *next, struct bpool *pool)
{
#define EACH(stg, call)                                                 \
	for (unsigned i = 0; i < now->n[stg]; i++) {                    \
		uint8_t k = now->k[stg][i];                             \
		struct bstate *b = &st[k];                              \
		call;                                                   \
		requeue(st, k, next);                                   \
	}                                                               \
	now->n[stg] = 0;
	EACH(B_SLOT, step_slot(s, b))
	EACH(B_NODE, step_node(s, b))
	EACH(B_NAME, step_name(s, b))
	EACH(B_ANODE, step_anode(s, b))
	EACH(B_TLINK, step_tlink(s, b))
	EACH(B_SETS, step_sets(s, b))
	EACH(B_CNAME, step_cname(s, b, pool))
	EACH(B_POLICY, step_policy(s, b))
	EACH(B_ADDL, step_addl(s, b))
	EACH(B_GLUE, step_glue(s, b))
#undef EACH
}

static bool queued(const struct bqueue *q)
{
	for (unsigned t = B_SLOT; t < B_STAGES; t++) {
		if (q->n[t])
			return true;
	}
	return false;
}

/* Hand over the lookups of q's B_DONE list. */
static void hand_over(struct bqueue *q, snap_burst_done_fn *done, void *arg)
{
	if (done) {
		for (unsigned i = 0; i < q->n[B_DONE]; i++)
			done(arg, q->k[B_DONE][i]);
	}
	q->n[B_DONE] = 0;
}

void snap_lookup_burst_each(const struct snap *s, struct snap_bq *bq, size_t n,
			    snap_burst_done_fn *done, void *arg)
{
	struct bstate st[SNAP_BURST_MAX];
	struct bqueue qa, qb, *now = &qa, *next = &qb, *t;
	struct bpool pool;
	unsigned r;

	pool.used = 0;
	memset(qa.n, 0, sizeof(qa.n));
	memset(qb.n, 0, sizeof(qb.n));
	if (n > SNAP_BURST_MAX)
		n = SNAP_BURST_MAX;
	for (size_t k = 0; k < n; k++) {
		st[k].q = bq[k].q;
		st[k].lk = &bq[k].lk;
		st[k].ret = &bq[k].ret;
		st[k].qtype = bq[k].qtype;
		st[k].target = 0;
		start(s, &st[k]);
		requeue(st, (uint8_t)k, st[k].stage == B_DONE ? next : now);
	}
	/* Those finished in a round are handed over after the next one:
	 * its steps give their last prefetches time to land. */
	for (r = 0; r < BURST_ROUNDS && queued(now); r++) {
		round_of(s, st, now, next, &pool);
		hand_over(now, done, arg);
		t = now;
		now = next;
		next = t;
	}
	hand_over(now, done, arg);
	if (r < BURST_ROUNDS)
		return;
	/* Stragglers: a query's own lookup is finished the plain way; the
	 * warming of a target is merely dropped. */
	for (unsigned stg = B_SLOT; stg < B_STAGES; stg++) {
		for (unsigned i = 0; i < now->n[stg]; i++) {
			uint8_t k = now->k[stg][i];

			if (stg <= B_NAME && !st[k].target)
				bq[k].ret = snap_lookup(s, bq[k].q, &bq[k].lk);
			if (done)
				done(arg, k);
		}
	}
}

void snap_lookup_burst(const struct snap *s, struct snap_bq *bq, size_t n)
{
	snap_lookup_burst_each(s, bq, n, NULL, NULL);
}

/* ---- dump -------------------------------------------------------------------- */

struct dump_ctx {
	const struct snap *s;
	const struct snap_zone *z;
};

static int node_cmp(const void *pa, const void *pb, void *arg)
{
	const struct dump_ctx *c = arg;
	const struct snap_node *a = snap_node_at(c->s, c->z, *(const uint32_t *)pa);
	const struct snap_node *b = snap_node_at(c->s, c->z, *(const uint32_t *)pb);

	return dname_canonical_cmp(snap_ptr(c->s, a->name),
				   snap_ptr(c->s, b->name));
}

/* Node indexes in canonical order. The compiler writes them that way, so
 * this is normally one pass of comparisons and no sort. */
static uint32_t *canonical_index(const struct snap *s, const struct snap_zone *z)
{
	struct dump_ctx c = { s, z };
	uint32_t *idx = malloc((size_t)z->node_count * sizeof(*idx));
	bool sorted = true;

	if (!idx)
		return NULL;
	for (uint32_t i = 0; i < z->node_count; i++) {
		idx[i] = i;
		if (i && sorted && node_cmp(&idx[i - 1], &idx[i], &c) > 0)
			sorted = false;
	}
	if (!sorted)
		qsort_r(idx, z->node_count, sizeof(*idx), node_cmp, &c);
	return idx;
}

/* A policy record's answer to dump: one whose every endpoint gives an RR
 * of the record's own type (an address, or an in-zone alias's addresses),
 * so that it matches the type bitmap of the owner's NSEC. */
struct dump_pick {
	const struct snap *s;
	uint16_t type;
	uint32_t n;
	uint32_t eps[POLICY_MAX_ANSWER];
};

static const struct snap_rrset *alias_rrset(const struct snap *s,
					    const struct policy_endpoint *ep, uint16_t type)
{
	struct snap_qname q;
	struct snap_lookup lk;
	int len = dname_wire_len(ep->rdata, ep->rdlen);

	if (len < 0)
		return NULL;
	snap_qname_init(&q, ep->rdata, (size_t)len);
	if (snap_lookup(s, &q, &lk) < 0 || !lk.node)
		return NULL;
	return snap_node_rrset(s, lk.node, type);
}

static int pick_answer(void *arg, const uint32_t *eps, uint32_t n)
{
	struct dump_pick *pk = arg;
	const struct policy *p = pk->s->aux.policy;
	struct policy_endpoint ep;

	if (!n)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		policy_endpoint_get(p, eps[i], &ep);
		if (ep.type == POLICY_ALIAS ? !alias_rrset(pk->s, &ep, pk->type)
					    : ep.type != pk->type)
			return 0;
	}
	memcpy(pk->eps, eps, n * sizeof(*eps));
	pk->n = n;
	return 1;
}

/* RRs in a snapshot's wire form (12-byte head, RDATA), printed; with
 * ttl, under that TTL instead of their own. */
static int dump_wire(FILE *f, const char *owner, const uint8_t *p, uint32_t count,
		     const uint32_t *ttl, char *text, size_t cap)
{
	char tbuf[16], cbuf[16];

	for (uint32_t r = 0; r < count; r++, p += 12 + get16(p + 10)) {
		uint16_t type = get16(p + 2), rdlen = get16(p + 10);
		uint32_t t = ttl ? *ttl : (uint32_t)p[6] << 24 | (uint32_t)p[7] << 16 |
					  get16(p + 8);

		if (rdata_to_text(type, p + 12, rdlen, text, cap) < 0)
			return P53_ESPACE;
		if (fprintf(f, "%s\t%u\t%s\t%s\t%s\n", owner, t,
			    rrclass_to_text(get16(p + 4), cbuf, sizeof(cbuf)),
			    rrtype_to_text(type, tbuf, sizeof(tbuf)), text) < 0)
			return P53_EIO;
	}
	return 0;
}

/* A policy record's answers vary per query, so they are not master-file
 * data. In a signed zone one of its signed answers is printed with its
 * RRSIGs: the owner's NSEC lists the record's type, and a verifier
 * (dnssec-verify, ldns-verify-zone) wants an RRset behind it. */
static int dump_policy(const struct snap *s, const char *owner, const struct snap_rrset *set,
		       char *text, size_t cap, FILE *f)
{
	const struct policy *p = s->aux.policy;
	struct dump_pick pk = { .s = s, .type = set->type };
	struct policy_sig_rrs sigs;
	struct policy_endpoint ep;
	char tbuf[16];
	int ret;

	if (fprintf(f, "; %s\t%u\tIN\t%s\t(traffic policy record %u)\n", owner,
		    set->ttl, rrtype_to_text(set->type, tbuf, sizeof(tbuf)),
		    set->policy - 1) < 0)
		return P53_EIO;
	if (!s->aux.psig || !policy_sig_signed(s->aux.psig, set->policy - 1))
		return 0;
	if ((ret = policy_sig_answers(p, set->policy - 1, pick_answer, &pk)) < 0)
		return ret;
	if (!pk.n || !policy_sig_find(s->aux.psig, set->policy - 1, pk.eps, pk.n, &sigs))
		return fprintf(f, ";   (none of its signed answers is of its own type)\n") < 0 ?
		       P53_EIO : 0;
	if (fprintf(f, ";   one of its signed answers:\n") < 0)
		return P53_EIO;
	for (uint32_t i = 0; i < pk.n; i++) {
		const struct snap_rrset *t;
		policy_endpoint_get(p, pk.eps[i], &ep);
		if (ep.type != POLICY_ALIAS) {
			if (rdata_to_text(set->type, ep.rdata, ep.rdlen, text, cap) < 0)
				return P53_ESPACE;
			if (fprintf(f, "%s\t%u\tIN\t%s\t%s\n", owner, set->ttl, tbuf,
				    text) < 0)
				return P53_EIO;
		} else if ((t = alias_rrset(s, &ep, set->type)) &&
			   (ret = dump_wire(f, owner, snap_ptr(s, t->wire), t->count,
					    &set->ttl, text, cap)) < 0) {
			return ret;
		}
	}
	return dump_wire(f, owner, sigs.wire, sigs.count, NULL, text, cap);
}

static int dump_node(const struct snap *s, const struct snap_node *n,
		     char *text, size_t cap, FILE *f)
{
	const struct snap_rrset *set = snap_node_rrsets(s, n);
	char owner[DNAME_TEXT_MAX];
	int ret;

	if (!n->rrset_count)
		return 0;
	if (dname_to_text(snap_ptr(s, n->name), owner, sizeof(owner)) < 0)
		return P53_ESPACE;
	for (uint32_t k = 0; k < n->rrset_count; k++) {
		ret = set[k].flags & SNAP_RRSET_POLICY ?
		      dump_policy(s, owner, &set[k], text, cap, f) :
		      dump_wire(f, owner, snap_ptr(s, set[k].wire), set[k].count, NULL,
				text, cap);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int snap_dump(const struct snap *s, FILE *f)
{
	const size_t cap = 4 * (size_t)RDATA_MAXLEN + 64;
	char *text = malloc(cap), apex[DNAME_TEXT_MAX];
	uint32_t *idx = NULL;
	int ret = P53_ENOMEM;

	if (!text)
		goto fail;
	for (uint32_t zi = 0; zi < snap_zone_count(s); zi++) {
		const struct snap_zone *z = snap_zone_at(s, zi);

		ret = P53_ENOMEM;
		if (!(idx = canonical_index(s, z)))
			goto fail;
		dname_to_text(snap_ptr(s, z->apex_name), apex, sizeof(apex));
		ret = P53_EIO;
		if (fprintf(f, "; zone %s serial %u\n", apex, z->soa_serial) < 0)
			goto fail;
		for (uint32_t i = 0; i < z->node_count; i++) {
			ret = dump_node(s, snap_node_at(s, z, idx[i]), text,
					cap, f);
			if (ret < 0)
				goto fail;
		}
		free(idx);
		idx = NULL;
	}
	ret = 0;
fail:
	free(idx);
	free(text);
	return ret;
}
