/*
 * policy_sig.c — sign every answer of the policy records of signed zones
 * (pop53-zonec, after the zones were signed).
 *
 * For each record in a zone signed by this compile: its answers from
 * policy_sig_answers, each made into its RRset (an alias brings its
 * target's addresses from the compiled zones) and signed with the zone's
 * data keys; if it can answer nothing, the owner's NSEC or NSEC3 again
 * without the record's type, signed. Everything is then laid out as
 * policy_sig_format.h says.
 */
#include <stdlib.h>
#include <string.h>

#include "dname.h"
#include "error.h"
#include "policy_sig.h"
#include "policy_sig_format.h"
#include "rdata.h"
#include "slots.h"
#include "snap_format.h"

#define RCLASS_IN 1

/* A growing byte buffer. */
struct bytes {
	uint8_t *p;
	size_t n, cap;
};

static int bytes_put(struct bytes *b, const void *v, size_t n)
{
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *p;
		while (cap < b->n + n)
			cap *= 2;
		if (!(p = realloc(b->p, cap)))
			return P53_ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, v, n);
	b->n += n;
	return 0;
}

/* The records of the zones at one owner name, found in one pass. */
struct owner {
	uint8_t name[DNAME_MAXLEN];
	size_t zone;             /* which zone's records are listed */
	uint32_t *rr;            /* indexes into zone_rrs() */
	uint32_t n, cap;
};

struct owners {
	struct owner *v;
	uint32_t n, cap;
	struct slots ix;
};

static uint32_t owner_hash(const uint8_t *name, size_t zone)
{
	return snap_name_hash(name, (size_t)dname_wire_len(name, DNAME_MAXLEN)) ^
	       (uint32_t)zone * 0x9e3779b1u;
}

/* The entry of name (any case) in zone, or NULL. */
static struct owner *owner_get(struct owners *o, const uint8_t *name, size_t zone)
{
	uint8_t lower[DNAME_MAXLEN];
	uint32_t pos;

	if (!o->ix.slot)
		return NULL;
	dname_copy_lower(lower, name);
	for (pos = slots_first(&o->ix, owner_hash(lower, zone)); o->ix.slot[pos];
	     pos = slots_next(&o->ix, pos)) {
		struct owner *w = &o->v[o->ix.slot[pos] - 1];
		if (w->zone == zone && dname_equal(w->name, lower))
			return w;
	}
	return NULL;
}

static uint32_t owner_at_hash(const void *arg, uint32_t i)
{
	const struct owner *w = &((const struct owners *)arg)->v[i];

	return owner_hash(w->name, w->zone);
}

/* Twice the capacity, and slots for twice that (load at most one half). */
static int owners_grow(struct owners *o)
{
	uint32_t cap = o->cap ? o->cap * 2 : 16;
	struct owner *v = realloc(o->v, cap * sizeof(*v));

	if (!v)
		return P53_ENOMEM;
	o->v = v;
	if (slots_rebuild(&o->ix, cap * 2, o->n, owner_at_hash, o) < 0)
		return P53_ENOMEM;
	o->cap = cap;
	return 0;
}

static int owner_want(struct owners *o, const uint8_t *name, size_t zone)
{
	int err;

	if (owner_get(o, name, zone))
		return 0;
	if (o->n == o->cap && (err = owners_grow(o)) < 0)
		return err;
	memset(&o->v[o->n], 0, sizeof(o->v[o->n]));
	dname_copy_lower(o->v[o->n].name, name);
	o->v[o->n].zone = zone;
	slots_put(&o->ix, owner_hash(o->v[o->n].name, zone), o->n);
	o->n++;
	return 0;
}

static void owners_free(struct owners *o)
{
	for (uint32_t i = 0; i < o->n; i++)
		free(o->v[i].rr);
	free(o->v);
	slots_free(&o->ix);
}

struct build {
	const struct policy *p;
	const struct policy_sig_zone *zones;
	size_t nzones;
	const struct dnssec_sign_opts *o;
	struct diag *d;
	const struct zone **zl;           /* zones[i].zone, for zone_enclosing */
	struct dnssec_signer **signers;   /* per key of every zone, zone by zone
					   * (NULL: not a data key) */
	size_t *first_signer;             /* per zone: its first in signers */
	struct owners own;
	/* the blob's parts */
	struct psig_record *recs;
	struct psig_set *sets;
	size_t nsets, capsets;
	struct bytes eps, data;
	struct policy_sig_stats st;
	/* the record being signed */
	size_t zi;
	struct policy_record r;
	bool empty;
	char text[DNAME_TEXT_MAX];
};

/* The zone with the longest apex that holds name, or nzones. */
static size_t zone_of(const struct build *b, const uint8_t *name)
{
	return zone_enclosing(b->zl, b->nzones, name);
}

/* The owner name of the NSEC3 of name in zone apex (RFC 9276 parameters:
 * the ones dnssec_sign_zone uses). */
static int nsec3_owner(const uint8_t *name, const uint8_t *apex, uint8_t *out)
{
	uint8_t hash[DNSSEC_NSEC3_HASH_LEN];
	int err = dnssec_nsec3_hash(name, NULL, 0, 0, hash);

	return err < 0 ? err : dnssec_nsec3_owner(hash, apex, out);
}

/* The owners whose records signing needs: each signed record's own (its
 * NSEC) or its NSEC3's, and every alias target inside the zones. */
static int want_owners(struct build *b)
{
	uint8_t n3[DNAME_MAXLEN];
	int err = 0;

	for (uint32_t i = 0; i < policy_record_count(b->p) && !err; i++) {
		struct policy_record r;
		size_t zi;
		policy_record_get(b->p, i, &r);
		zi = zone_of(b, r.name);
		if (zi == b->nzones || !b->zones[zi].nkeys)
			continue;
		if (!b->o->nsec3)
			err = owner_want(&b->own, r.name, zi);
		else if ((err = nsec3_owner(r.name, zone_origin(b->zones[zi].zone), n3)) == 0)
			err = owner_want(&b->own, n3, zi);
	}
	for (uint32_t i = 0; i < policy_endpoint_count(b->p) && !err; i++) {
		struct policy_endpoint ep;
		size_t zi;
		policy_endpoint_get(b->p, i, &ep);
		if (ep.type != POLICY_ALIAS)
			continue;
		if ((zi = zone_of(b, ep.rdata)) < b->nzones)
			err = owner_want(&b->own, ep.rdata, zi);
	}
	return err;
}

/* One pass over every zone with a wanted owner. */
static int collect_owners(struct build *b)
{
	uint8_t lower[DNAME_MAXLEN];

	for (size_t zi = 0; zi < b->nzones; zi++) {
		size_t nrr;
		const struct zone_rr *rr = zone_rrs(b->zones[zi].zone, &nrr);
		bool any = false;
		for (uint32_t i = 0; i < b->own.n; i++)
			any |= b->own.v[i].zone == zi;
		for (size_t k = 0; any && k < nrr; k++) {
			struct owner *o;
			dname_copy_lower(lower, zone_rr_owner(b->zones[zi].zone, &rr[k]));
			if (!(o = owner_get(&b->own, lower, zi)))
				continue;
			if (o->n == o->cap) {
				uint32_t cap = o->cap ? o->cap * 2 : 8;
				uint32_t *v = realloc(o->rr, cap * sizeof(*v));
				if (!v)
					return P53_ENOMEM;
				o->rr = v;
				o->cap = cap;
			}
			o->rr[o->n++] = (uint32_t)k;
		}
	}
	return 0;
}

/* ---- one record ------------------------------------------------------------ */

static int refuse(struct build *b, const char *why)
{
	diag_error(b->d, NULL, 0, 0, "policy record %s type %u in a signed zone: %s",
		   b->text, b->r.type, why);
	return P53_EZONE;
}

/* The RRs of endpoint ep into rrs (at *n, room for DNSSEC_RRSET_MAX). */
static int endpoint_rrs(struct build *b, uint32_t epi, struct dnssec_rr *rrs, size_t *n)
{
	struct policy_endpoint ep;
	const struct owner *o;
	size_t zi;

	policy_endpoint_get(b->p, epi, &ep);
	if (ep.type != POLICY_ALIAS) {
		if (*n == DNSSEC_RRSET_MAX)
			return refuse(b, "an answer has too many records");
		rrs[(*n)++] = (struct dnssec_rr){ ep.rdata, ep.rdlen };
		return 0;
	}
	zi = zone_of(b, ep.rdata);
	if (zi == b->nzones)
		return refuse(b, "an alias to a name outside the zones compiled: pop53d "
			      "learns its addresses at run time, and only the controller "
			      "holds the key to sign them");
	if (!(o = owner_get(&b->own, ep.rdata, zi)))
		return 0;
	for (uint32_t k = 0; k < o->n; k++) {
		const struct zone *z = b->zones[zi].zone;
		const struct zone_rr *rr = &zone_rrs(z, &(size_t){ 0 })[o->rr[k]];
		if (rr->type != b->r.type)
			continue;
		if (*n == DNSSEC_RRSET_MAX)
			return refuse(b, "an answer has too many records");
		rrs[(*n)++] = (struct dnssec_rr){ zone_rr_rdata(z, rr), rr->rdlen };
	}
	return 0;
}

/* The first 12 bytes of an RR in a snapshot's wire form: a pointer to the
 * question name, type, class IN, TTL, RDLENGTH. */
static void rr_head(uint8_t h[12], uint16_t type, uint32_t ttl, uint16_t rdlen)
{
	h[0] = 0xc0;
	h[1] = 0x0c;
	h[2] = (uint8_t)(type >> 8);
	h[3] = (uint8_t)type;
	h[4] = 0;
	h[5] = RCLASS_IN;
	for (int i = 0; i < 4; i++)
		h[6 + i] = (uint8_t)(ttl >> (24 - 8 * i));
	h[10] = (uint8_t)(rdlen >> 8);
	h[11] = (uint8_t)rdlen;
}

/* RRSIG RRs (wire form) over set by the zone's data keys, into data;
 * *off, *len and *count say where. */
static int sign_set(struct build *b, const struct dnssec_rrset *set, const uint8_t *owner,
		    uint32_t *off, uint32_t *len, uint16_t *count)
{
	uint8_t rr[12 + DNSSEC_RRSIG_MAX];
	uint32_t inception, expiration;
	size_t start = b->data.n;
	int n;

	dnssec_sign_window(b->o, owner, &inception, &expiration);
	*count = 0;
	for (size_t k = 0; k < b->zones[b->zi].nkeys; k++) {
		struct dnssec_signer *sg = b->signers[b->first_signer[b->zi] + k];
		if (!sg)
			continue;
		n = dnssec_sign_rrset(sg, b->zones[b->zi].keys[k], set, inception, expiration,
				      rr + 12, DNSSEC_RRSIG_MAX);
		if (n < 0)
			return n;
		rr_head(rr, RRTYPE_RRSIG, set->ttl, (uint16_t)n);
		if (bytes_put(&b->data, rr, 12u + (size_t)n) < 0)
			return P53_ENOMEM;
		++*count;
		b->st.signatures++;
	}
	if (!*count)
		return refuse(b, "the zone has no key that signs data (a ZSK or a CSK)");
	*off = (uint32_t)start;
	*len = (uint32_t)(b->data.n - start);
	return 0;
}

/* policy_sig_answers' callback: sign one answer of the record. */
static int sign_answer(void *arg, const uint32_t *eps, uint32_t n)
{
	struct build *b = arg;
	struct dnssec_rr rrs[DNSSEC_RRSET_MAX];
	struct dnssec_rrset set = { .owner = b->r.name, .type = b->r.type,
				    .rclass = RCLASS_IN, .ttl = b->r.ttl, .rrs = rrs };
	struct psig_set *ps;
	int err;

	if (n > POLICY_MAX_ANSWER)
		return refuse(b, "an answer can hold more than 32 endpoints");
	for (uint32_t i = 0; i < n; i++) {
		struct policy_endpoint ep;
		if ((err = endpoint_rrs(b, eps[i], rrs, &set.n)) < 0)
			return err;
		policy_endpoint_get(b->p, eps[i], &ep);
		if (ep.type == RRTYPE_CNAME)
			set.type = RRTYPE_CNAME;
	}
	if (!set.n) {
		b->empty = true;
		return 0;
	}
	if (b->nsets == b->capsets) {
		size_t cap = b->capsets ? b->capsets * 2 : 64;
		struct psig_set *v = realloc(b->sets, cap * sizeof(*v));
		if (!v)
			return P53_ENOMEM;
		b->sets = v;
		b->capsets = cap;
	}
	ps = &b->sets[b->nsets];
	*ps = (struct psig_set){ .hash = psig_hash(eps, n), .neps = (uint16_t)n,
				 .eps = (uint32_t)(b->eps.n / sizeof(uint32_t)) };
	if ((err = bytes_put(&b->eps, eps, n * sizeof(*eps))) < 0 ||
	    (err = sign_set(b, &set, b->r.name, &ps->sig, &ps->sig_len, &ps->nsig)) < 0)
		return err;
	b->nsets++;
	b->st.sets++;
	return 0;
}

/* The type bitmap of NSEC/NSEC3 RDATA rd from byte `at` on, without type. */
static size_t bitmap_without(const uint8_t *rd, size_t at, size_t len, uint16_t type,
			     uint8_t *out)
{
	uint16_t types[65536 / 8];
	size_t n = 0;

	while (at + 2 <= len) {
		unsigned win = rd[at], blen = rd[at + 1];
		if (blen == 0 || blen > 32 || at + 2 + blen > len)
			break;
		for (unsigned i = 0; i < blen * 8; i++) {
			uint16_t t = (uint16_t)(win << 8 | i);
			if ((rd[at + 2 + i / 8] & (0x80 >> (i % 8))) && t != type &&
			    n < sizeof(types) / sizeof(types[0]))
				types[n++] = t;
		}
		at += 2u + blen;
	}
	return dnssec_type_bitmap(types, n, out);
}

/* Where the type bitmap of NSEC (next name, bitmap) or NSEC3 RDATA begins. */
static size_t bitmap_start(uint16_t type, const uint8_t *rd, size_t len)
{
	size_t at;

	if (type == RRTYPE_NSEC) {
		int l = dname_wire_len(rd, len);
		return l < 0 ? len : (size_t)l;
	}
	if (len < 5 || (at = 5u + rd[4]) >= len)
		return len;
	return at + 1u + rd[at];
}

/* The owner's denial record again without the record's type, signed. */
static int sign_denial(struct build *b, struct psig_record *pr)
{
	uint16_t want = b->o->nsec3 ? RRTYPE_NSEC3 : RRTYPE_NSEC;
	uint8_t name[DNAME_MAXLEN], rd[DNAME_MAXLEN + 300 + DNSSEC_BITMAP_MAX], head[12];
	const struct zone *z = b->zones[b->zi].zone;
	const struct zone_rr *all = zone_rrs(z, &(size_t){ 0 }), *rr = NULL;
	const struct owner *o;
	size_t at, len;
	int err;

	if (b->o->nsec3)
		err = nsec3_owner(b->r.name, zone_origin(z), name);
	else
		err = (dname_copy_lower(name, b->r.name), 0);
	if (err < 0)
		return err;
	o = owner_get(&b->own, name, b->zi);
	for (uint32_t k = 0; o && k < o->n && !rr; k++)
		if (all[o->rr[k]].type == want)
			rr = &all[o->rr[k]];
	if (!rr)
		return refuse(b, "it can answer nothing, and its owner has no denial record "
			      "to say so");
	at = bitmap_start(want, zone_rr_rdata(z, rr), rr->rdlen);
	memcpy(rd, zone_rr_rdata(z, rr), at);
	len = at + bitmap_without(zone_rr_rdata(z, rr), at, rr->rdlen, b->r.type, rd + at);
	struct dnssec_rr one = { rd, (uint16_t)len };
	struct dnssec_rrset set = { .owner = name, .type = want, .rclass = RCLASS_IN,
				    .ttl = rr->ttl, .rrs = &one, .n = 1 };
	rr_head(head, want, rr->ttl, (uint16_t)len);
	pr->name = (uint32_t)b->data.n;
	pr->name_len = (uint16_t)dname_wire_len(name, DNAME_MAXLEN);
	pr->nsec = (uint32_t)(b->data.n + pr->name_len);
	pr->nsec_len = (uint32_t)(12 + len);
	if (bytes_put(&b->data, name, pr->name_len) < 0 || bytes_put(&b->data, head, 12) < 0 ||
	    bytes_put(&b->data, rd, len) < 0)
		return P53_ENOMEM;
	b->st.empty++;
	return sign_set(b, &set, name, &pr->sig, &pr->sig_len, &pr->nsig);
}

static int set_cmp(const void *pa, const void *pb, void *arg)
{
	const struct psig_set *a = pa, *b = pb;
	const uint32_t *eps = arg;

	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	if (a->neps != b->neps)
		return a->neps < b->neps ? -1 : 1;
	return memcmp(eps + a->eps, eps + b->eps, a->neps * sizeof(uint32_t));
}

static int sign_record(struct build *b, uint32_t ri)
{
	struct psig_record *pr = &b->recs[ri];
	int err;

	policy_record_get(b->p, ri, &b->r);
	b->zi = zone_of(b, b->r.name);
	if (b->zi == b->nzones || !b->zones[b->zi].nkeys)
		return 0;
	dname_to_text(b->r.name, b->text, sizeof(b->text));
	b->empty = false;
	pr->flags = PSIG_SIGNED;
	pr->first = (uint32_t)b->nsets;
	err = policy_sig_answers(b->p, ri, sign_answer, b);
	if (err == P53_ELIMIT) {
		char why[160];
		snprintf(why, sizeof(why), "it can answer with more than %u different RRsets "
			 "(each one is signed): give fewer members a health check, or split it",
			 POLICY_SIG_MAX_SETS);
		return refuse(b, why);
	}
	if (err < 0)
		return err;
	pr->count = (uint32_t)(b->nsets - pr->first);
	b->st.records++;
	if (b->empty && (err = sign_denial(b, pr)) < 0)
		return err;
	qsort_r(b->sets + pr->first, pr->count, sizeof(*b->sets), set_cmp, b->eps.p);
	return 0;
}

bool policy_sig_placeholder(void *policy, const uint8_t *owner, uint16_t type)
{
	int len = dname_wire_len(owner, DNAME_MAXLEN);

	return len > 0 && policy_find(policy, owner, (size_t)len, type) >= 0;
}

/* ---- the blob ---------------------------------------------------------------- */

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static int layout(struct build *b, uint8_t **out, size_t *out_len)
{
	size_t nrec = policy_record_count(b->p);
	size_t recs = align8(sizeof(struct psig_header));
	size_t sets = align8(recs + nrec * sizeof(struct psig_record));
	size_t eps = align8(sets + b->nsets * sizeof(struct psig_set));
	size_t data = align8(eps + b->eps.n), size = align8(data + b->data.n);
	struct psig_header h = { .version_major = PSIG_VERSION_MAJOR,
				 .version_minor = PSIG_VERSION_MINOR };
	uint8_t *blob;

	if (size > UINT32_MAX / 2)
		return P53_ELIMIT;
	if (!(blob = calloc(1, size)))
		return P53_ENOMEM;
	memcpy(h.magic, PSIG_MAGIC, 8);
	h.size = (uint32_t)size;
	h.nrecords = (uint32_t)nrec;
	h.records = (uint32_t)recs;
	h.nsets = (uint32_t)b->nsets;
	h.sets = (uint32_t)sets;
	h.neps = (uint32_t)(b->eps.n / sizeof(uint32_t));
	h.eps = (uint32_t)eps;
	h.data = (uint32_t)data;
	h.data_len = (uint32_t)b->data.n;
	/* data offsets were relative to the data section */
	for (size_t i = 0; i < nrec; i++) {
		struct psig_record *r = &b->recs[i];
		if (r->name_len) {
			r->name += (uint32_t)data;
			r->nsec += (uint32_t)data;
			r->sig += (uint32_t)data;
		}
	}
	for (size_t i = 0; i < b->nsets; i++)
		b->sets[i].sig += (uint32_t)data;
	memcpy(blob, &h, sizeof(h));
	memcpy(blob + recs, b->recs, nrec * sizeof(struct psig_record));
	if (b->nsets)
		memcpy(blob + sets, b->sets, b->nsets * sizeof(struct psig_set));
	if (b->eps.n)
		memcpy(blob + eps, b->eps.p, b->eps.n);
	if (b->data.n)
		memcpy(blob + data, b->data.p, b->data.n);
	*out = blob;
	*out_len = size;
	return 0;
}

/* A signer for every data key (ZSK or CSK) of every zone with keys. */
static int make_signers(struct build *b)
{
	size_t total = 0;

	if (!(b->first_signer = calloc(b->nzones + 1, sizeof(*b->first_signer))) ||
	    !(b->zl = calloc(b->nzones + 1, sizeof(*b->zl))))
		return P53_ENOMEM;
	for (size_t zi = 0; zi < b->nzones; zi++) {
		b->zl[zi] = b->zones[zi].zone;
		b->first_signer[zi] = total;
		total += b->zones[zi].nkeys;
	}
	b->first_signer[b->nzones] = total;
	if (!(b->signers = calloc(total + 1, sizeof(*b->signers))))
		return P53_ENOMEM;
	for (size_t zi = 0; zi < b->nzones; zi++) {
		for (size_t k = 0; k < b->zones[zi].nkeys; k++) {
			int err;
			if (dnssec_key_role(b->zones[zi].keys[k]) == DNSSEC_KSK)
				continue;
			if ((err = dnssec_signer_new(b->zones[zi].keys[k],
						     &b->signers[b->first_signer[zi] + k])) < 0)
				return err;
		}
	}
	return 0;
}

static void free_build(struct build *b)
{
	if (b->signers)
		for (size_t i = 0; i < b->first_signer[b->nzones]; i++)
			dnssec_signer_free(b->signers[i]);
	free(b->signers);
	free(b->first_signer);
	free(b->zl);
	owners_free(&b->own);
	free(b->recs);
	free(b->sets);
	free(b->eps.p);
	free(b->data.p);
}

int policy_sig_build(const void *policy, size_t len, const struct policy_sig_zone *zones,
		     size_t n, const struct dnssec_sign_opts *o, struct diag *d,
		     uint8_t **out, size_t *out_len, struct policy_sig_stats *st)
{
	struct build b = { .zones = zones, .nzones = n, .o = o, .d = d };
	struct policy *p = NULL;
	int err;

	*out = NULL;
	*out_len = 0;
	if ((err = policy_open(policy, len, d, &p)) < 0)
		return err;
	b.p = p;
	err = P53_ENOMEM;
	if (!(b.recs = calloc(policy_record_count(p) + 1, sizeof(*b.recs))))
		goto fail;
	if ((err = make_signers(&b)) < 0 || (err = want_owners(&b)) < 0 ||
	    (err = collect_owners(&b)) < 0)
		goto fail;
	for (uint32_t ri = 0; ri < policy_record_count(p); ri++) {
		int e = sign_record(&b, ri);
		if (e < 0 && e != P53_EZONE) {
			err = e;
			goto fail;
		}
		if (e < 0)
			err = e;
	}
	if (err == P53_EZONE)
		goto fail;
	err = b.st.records ? layout(&b, out, out_len) : 0;
	if (st)
		*st = b.st;
fail:
	free_build(&b);
	policy_close(p);
	return err;
}
