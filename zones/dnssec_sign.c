/*
 * dnssec_sign.c — signing a parsed zone: records in canonical form and
 * order, zone cuts and occluded names, the NSEC or NSEC3 chain, and the
 * RRSIGs (made on several threads), then a new zone with all of it.
 *
 * Everything signed is built from canonical copies (lower-cased owners,
 * RDATA per RFC 4034 6.2) kept in an arena; the output keeps the input's
 * records as they were written, which verifiers canonicalise the same way.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dname.h"
#include "dnssec.h"
#include "error.h"
#include "rdata.h"

#define NONE UINT32_MAX
#define CHUNK (1u << 20)

enum { N_APEX = 1, N_CUT = 2, N_OCCLUDED = 4, N_DS = 8, N_SIGNED = 16 };
enum { SIGN_NONE, SIGN_ZSK, SIGN_KSK };

struct rec {
	const uint8_t *owner;   /* lower-cased wire name */
	const uint8_t *rd;      /* canonical RDATA */
	uint32_t ttl;
	uint32_t src;           /* index in the input zone, NONE = made here */
	uint16_t type, rdlen;
	uint8_t olen;
};

struct rset {
	uint32_t first, n;      /* records recs[first .. first + n) */
	uint32_t ttl;
	uint16_t type;
	uint8_t signer;
};

struct name {
	const uint8_t *owner;
	uint32_t first_set, nsets;
	uint32_t chain_set;     /* its NSEC, NONE without */
	uint8_t flags;
};

struct job {
	uint32_t set, expire;
	uint16_t key;
	uint8_t sig[DNSSEC_SIG_LEN];
};

struct chunk {
	struct chunk *next;
	size_t used, cap;
	uint8_t data[];
};

struct signer {
	const struct zone *in;
	struct dnssec_key *const *keys;
	size_t nkeys;
	const struct dnssec_sign_opts *o;
	struct diag *d;
	uint8_t apex[DNAME_MAXLEN];
	uint16_t rclass;
	uint32_t soa_ttl, chain_ttl;
	uint32_t inception;
	struct rec *recs;
	size_t nrecs, caprecs;
	struct rset *sets;
	size_t nsets, capsets, data_sets;   /* sets before the chain's */
	struct name *names;
	size_t nnames, capnames;
	struct job *jobs;
	size_t njobs;
	struct chunk *arena;
	struct dnssec_sign_stats st;
};

/* ---- storage ------------------------------------------------------------- */

static void *arena_alloc(struct signer *s, size_t n)
{
	struct chunk *c = s->arena;

	if (!c || c->cap - c->used < n) {
		size_t cap = n > CHUNK ? n : CHUNK;
		if (!(c = malloc(sizeof(*c) + cap)))
			return NULL;
		c->next = s->arena;
		c->used = 0;
		c->cap = cap;
		s->arena = c;
	}
	c->used += n;
	return c->data + c->used - n;
}

/* Grow an array of `size`-byte items to hold one more. */
static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 1024;
	void *p = realloc(*arr, ncap * size);
	if (!p)
		return P53_ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

static int add_rec(struct signer *s, const uint8_t *owner, uint16_t type, uint32_t ttl,
		   const uint8_t *rd, size_t rdlen, uint32_t src)
{
	uint8_t *copy;

	if (grow((void **)&s->recs, &s->caprecs, s->nrecs, sizeof(*s->recs)) < 0 ||
	    !(copy = arena_alloc(s, rdlen ? rdlen : 1)))
		return P53_ENOMEM;
	memcpy(copy, rd, rdlen);
	dnssec_canonical_rdata(type, copy, rdlen);
	s->recs[s->nrecs++] = (struct rec){ .owner = owner, .rd = copy, .ttl = ttl,
					    .src = src, .type = type,
					    .rdlen = (uint16_t)rdlen,
					    .olen = (uint8_t)dname_wire_len(owner, DNAME_MAXLEN) };
	return 0;
}

static uint8_t *lower_copy(struct signer *s, const uint8_t *name)
{
	uint8_t *p = arena_alloc(s, (size_t)dname_wire_len(name, DNAME_MAXLEN));

	if (p)
		dname_copy_lower(p, name);
	return p;
}

/* ---- collecting the records ------------------------------------------------ */

static int is_chain_type(uint16_t t)
{
	return t == RRTYPE_RRSIG || t == RRTYPE_NSEC || t == RRTYPE_NSEC3 ||
	       t == RRTYPE_NSEC3PARAM;
}

/* CDS/CDNSKEY at the apex are made anew when the options ask for them:
 * the input's would announce keys the operator no longer means. */
static int made_here(const struct signer *s, uint16_t t, const uint8_t *owner)
{
	if (t == RRTYPE_CDS || t == RRTYPE_CDNSKEY)
		return s->o->cds != DNSSEC_CDS_NONE && dname_equal(owner, s->apex);
	return is_chain_type(t);
}

/* The input's records, canonical, without what signing makes anew. Owners
 * repeat in runs: one copy per run. */
static int collect_input(struct signer *s)
{
	size_t n;
	const struct zone_rr *rr = zone_rrs(s->in, &n);
	const uint8_t *prev_raw = NULL, *prev = NULL;

	for (size_t i = 0; i < n; i++) {
		const uint8_t *raw = zone_rr_owner(s->in, &rr[i]);
		if (made_here(s, rr[i].type, raw)) {
			s->st.dropped++;
			continue;
		}
		if (!prev_raw || !dname_equal(prev_raw, raw)) {
			if (!(prev = lower_copy(s, raw)))
				return P53_ENOMEM;
			prev_raw = raw;
		}
		if (rr[i].type == RRTYPE_SOA && rr[i].rdlen >= 22 && dname_equal(raw, s->apex) &&
		    !s->soa_ttl) {
			const uint8_t *rd = zone_rr_rdata(s->in, &rr[i]);
			uint32_t min = (uint32_t)rd[rr[i].rdlen - 4] << 24 |
				       (uint32_t)rd[rr[i].rdlen - 3] << 16 |
				       (uint32_t)rd[rr[i].rdlen - 2] << 8 | rd[rr[i].rdlen - 1];
			s->soa_ttl = rr[i].ttl ? rr[i].ttl : 1;
			/* RFC 9077: the negative TTL, min(SOA TTL, SOA minimum). */
			s->chain_ttl = min < rr[i].ttl ? min : rr[i].ttl;
			s->rclass = rr[i].rclass;
		}
		if (add_rec(s, prev, rr[i].type, rr[i].ttl, zone_rr_rdata(s->in, &rr[i]),
			    rr[i].rdlen, (uint32_t)i) < 0)
			return P53_ENOMEM;
	}
	return 0;
}

static int add_dnskeys(struct signer *s, const uint8_t *apex,
		       struct dnssec_key *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t len;
		const uint8_t *rd = dnssec_key_dnskey(keys[i], &len);
		if (add_rec(s, apex, RRTYPE_DNSKEY, s->soa_ttl, rd, len, NONE) < 0)
			return P53_ENOMEM;
	}
	return 0;
}

/* One CDS (the DS the parent should hold, SHA-256) and one CDNSKEY. */
static int add_cds_pair(struct signer *s, const uint8_t *apex, const struct dnssec_key *k)
{
	uint8_t ds[DNSSEC_DS_LEN];
	size_t len;
	const uint8_t *rd = dnssec_key_dnskey(k, &len);

	if (dnssec_ds(s->apex, rd, len, ds) != DNSSEC_DS_LEN ||
	    add_rec(s, apex, RRTYPE_CDS, s->soa_ttl, ds, sizeof(ds), NONE) < 0 ||
	    add_rec(s, apex, RRTYPE_CDNSKEY, s->soa_ttl, rd, len, NONE) < 0)
		return P53_ENOMEM;
	return 0;
}

/* RFC 7344 4 / RFC 8078 4: for the keys asked, else every signing KSK
 * and CSK; the delete form is one fixed record of each type. */
static int add_cds(struct signer *s, const uint8_t *apex)
{
	static const uint8_t del_cds[5] = { 0, 0, 0, 0, 0 };         /* 0 0 0 00 */
	static const uint8_t del_cdnskey[5] = { 0, 0, 3, 0, 0 };     /* 0 3 0 AA== */
	int ret = 0;

	if (s->o->cds == DNSSEC_CDS_DELETE) {
		if (add_rec(s, apex, RRTYPE_CDS, s->soa_ttl, del_cds, 5, NONE) < 0 ||
		    add_rec(s, apex, RRTYPE_CDNSKEY, s->soa_ttl, del_cdnskey, 5, NONE) < 0)
			return P53_ENOMEM;
		return 0;
	}
	for (size_t i = 0; i < s->o->ncds_keys && ret == 0; i++)
		ret = add_cds_pair(s, apex, s->o->cds_keys[i]);
	for (size_t i = 0; !s->o->ncds_keys && i < s->nkeys && ret == 0; i++)
		if (dnssec_key_role(s->keys[i]) != DNSSEC_ZSK)
			ret = add_cds_pair(s, apex, s->keys[i]);
	return ret;
}

/* The keys' DNSKEYs (signing and publish-only), CDS/CDNSKEY and the
 * NSEC3PARAM join the apex before sorting, so they merge with what the
 * input has there. */
static int collect_apex(struct signer *s)
{
	static const uint8_t nsec3param[5] = { 1, 0, 0, 0, 0 };
	uint8_t *apex = lower_copy(s, s->apex);

	if (!apex || add_dnskeys(s, apex, s->keys, s->nkeys) < 0 ||
	    add_dnskeys(s, apex, s->o->publish, s->o->npublish) < 0)
		return P53_ENOMEM;
	if (s->o->cds != DNSSEC_CDS_NONE && add_cds(s, apex) < 0)
		return P53_ENOMEM;
	if (s->o->nsec3 &&
	    add_rec(s, apex, RRTYPE_NSEC3PARAM, s->chain_ttl, nsec3param, 5, NONE) < 0)
		return P53_ENOMEM;
	return 0;
}

static int rdata_cmp(const struct rec *a, const struct rec *b)
{
	size_t n = a->rdlen < b->rdlen ? a->rdlen : b->rdlen;
	int c = memcmp(a->rd, b->rd, n);

	if (c)
		return c;
	return (a->rdlen > b->rdlen) - (a->rdlen < b->rdlen);
}

static int rec_cmp(const void *pa, const void *pb)
{
	const struct rec *a = pa, *b = pb;
	int c = a->owner == b->owner ? 0 : dname_canonical_cmp(a->owner, b->owner);

	if (c)
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return rdata_cmp(a, b);
}

/* ---- names and RRsets ---------------------------------------------------------- */

static int same_owner(const struct rec *a, const struct rec *b)
{
	return a->owner == b->owner ||
	       (a->olen == b->olen && memcmp(a->owner, b->owner, a->olen) == 0);
}

static int new_name(struct signer *s, const struct rec *r)
{
	if (grow((void **)&s->names, &s->capnames, s->nnames, sizeof(*s->names)) < 0)
		return P53_ENOMEM;
	s->names[s->nnames++] = (struct name){ .owner = r->owner,
					       .first_set = (uint32_t)s->nsets,
					       .chain_set = NONE };
	return 0;
}

static int new_set(struct signer *s, uint32_t first, uint16_t type, uint32_t ttl)
{
	if (grow((void **)&s->sets, &s->capsets, s->nsets, sizeof(*s->sets)) < 0)
		return P53_ENOMEM;
	s->sets[s->nsets++] = (struct rset){ .first = first, .type = type, .ttl = ttl };
	return 0;
}

/* Sorted records into names and RRsets; duplicates (equal in canonical
 * form) go, RFC 4034 6.3. */
static int group(struct signer *s)
{
	size_t out = 0;

	for (size_t i = 0; i < s->nrecs; i++) {
		struct rec *r = &s->recs[i];
		struct rec *last = out ? &s->recs[out - 1] : NULL;
		int owner_same = last && same_owner(last, r);
		if (owner_same && last->type == r->type && rdata_cmp(last, r) == 0)
			continue;
		if (!owner_same && new_name(s, r) < 0)
			return P53_ENOMEM;
		if ((!owner_same || last->type != r->type) &&
		    new_set(s, (uint32_t)out, r->type, r->ttl) < 0)
			return P53_ENOMEM;
		struct rset *set = &s->sets[s->nsets - 1];
		set->n++;
		if (r->ttl < set->ttl)
			set->ttl = r->ttl;
		s->names[s->nnames - 1].nsets = (uint32_t)s->nsets - s->names[s->nnames - 1].first_set;
		s->recs[out++] = *r;
	}
	s->nrecs = out;
	s->data_sets = s->nsets;
	return 0;
}

static const struct rset *find_set(const struct signer *s, const struct name *n, uint16_t t)
{
	for (uint32_t i = 0; i < n->nsets; i++)
		if (s->sets[n->first_set + i].type == t)
			return &s->sets[n->first_set + i];
	return NULL;
}

/* Which key role signs a set of a name whose flags are known. */
static uint8_t set_signer(const struct name *n, uint16_t type)
{
	if (n->flags & N_OCCLUDED)
		return SIGN_NONE;
	if (n->flags & N_CUT)
		return type == RRTYPE_DS ? SIGN_ZSK : SIGN_NONE;
	if ((n->flags & N_APEX) && (type == RRTYPE_DNSKEY || type == RRTYPE_CDS ||
				    type == RRTYPE_CDNSKEY))
		return SIGN_KSK;
	return SIGN_ZSK;
}

/* Zone cuts and DNAMEs occlude what is below them (RFC 4035 2.2): in
 * canonical order a name's descendants follow it at once. */
static void classify(struct signer *s)
{
	const uint8_t *cut = NULL;

	for (size_t i = 0; i < s->nnames; i++) {
		struct name *n = &s->names[i];
		if (dname_equal(n->owner, s->apex))
			n->flags |= N_APEX;
		if (cut && dname_is_subdomain(n->owner, cut)) {
			n->flags |= N_OCCLUDED;
		} else {
			cut = NULL;
			if (!(n->flags & N_APEX) && find_set(s, n, RRTYPE_NS)) {
				n->flags |= N_CUT;
				n->flags |= find_set(s, n, RRTYPE_DS) ? N_DS : 0;
				cut = n->owner;
			} else if (find_set(s, n, RRTYPE_DNAME)) {
				cut = n->owner;
			}
		}
		for (uint32_t k = 0; k < n->nsets; k++) {
			struct rset *set = &s->sets[n->first_set + k];
			set->signer = set_signer(n, set->type);
			n->flags |= set->signer ? N_SIGNED : 0;
			/* signed elsewhere: the name keeps RRSIG in its bitmap */
			if (set->signer && s->o->unsigned_set &&
			    s->o->unsigned_set(s->o->unsigned_arg, n->owner, set->type))
				set->signer = SIGN_NONE;
		}
	}
}

/* The types an NSEC/NSEC3 of name n lists (RFC 4035 2.3: at a cut only NS
 * and DS); returns the bitmap length. */
static size_t name_bitmap(const struct signer *s, const struct name *n, int nsec,
			  uint8_t *out)
{
	uint16_t types[512];
	size_t k = 0;

	for (uint32_t i = 0; i < n->nsets && k < 510; i++) {
		const struct rset *set = &s->sets[n->first_set + i];
		if (!(n->flags & N_CUT) || set->type == RRTYPE_NS || set->type == RRTYPE_DS)
			types[k++] = set->type;
	}
	if (nsec) {
		types[k++] = RRTYPE_NSEC;
		types[k++] = RRTYPE_RRSIG;
	} else if (n->flags & N_SIGNED) {
		types[k++] = RRTYPE_RRSIG;
	}
	return dnssec_type_bitmap(types, k, out);
}

/* One record of its own RRset, made here (NSEC, NSEC3). */
static int add_chain_rec(struct signer *s, const uint8_t *owner, uint16_t type,
			 const uint8_t *rd, size_t rdlen)
{
	if (add_rec(s, owner, type, s->chain_ttl, rd, rdlen, NONE) < 0 ||
	    new_set(s, (uint32_t)s->nrecs - 1, type, s->chain_ttl) < 0)
		return P53_ENOMEM;
	s->sets[s->nsets - 1].n = 1;
	s->sets[s->nsets - 1].signer = SIGN_ZSK;
	s->st.chain++;
	return 0;
}

/* ---- NSEC ------------------------------------------------------------------------ */

static int in_nsec_chain(const struct name *n)
{
	return !(n->flags & N_OCCLUDED);
}

static int make_nsec(struct signer *s)
{
	uint8_t rd[DNAME_MAXLEN + DNSSEC_BITMAP_MAX];
	size_t first = NONE, prev = NONE;

	for (size_t i = 0; i <= s->nnames; i++) {
		size_t cur = i;
		if (i < s->nnames && !in_nsec_chain(&s->names[i]))
			continue;
		if (i == s->nnames)
			cur = first;    /* the last name points back to the apex */
		if (prev != NONE) {
			const struct name *p = &s->names[prev];
			size_t nl = (size_t)dname_wire_len(s->names[cur].owner, DNAME_MAXLEN);
			memcpy(rd, s->names[cur].owner, nl);
			size_t len = nl + name_bitmap(s, p, 1, rd + nl);
			if (add_chain_rec(s, p->owner, RRTYPE_NSEC, rd, len) < 0)
				return P53_ENOMEM;
			s->names[prev].chain_set = (uint32_t)s->nsets - 1;
		}
		if (first == NONE)
			first = cur;
		prev = cur;
	}
	return 0;
}

/* ---- NSEC3 ----------------------------------------------------------------------- */

struct hashed {
	uint8_t h[DNSSEC_NSEC3_HASH_LEN];
	uint32_t name;          /* NONE: an empty non-terminal */
};

static int in_nsec3_chain(const struct signer *s, const struct name *n)
{
	if (n->flags & N_OCCLUDED)
		return 0;
	/* RFC 5155 6: opt-out leaves insecure delegations out. */
	return !(s->o->opt_out && (n->flags & N_CUT) && !(n->flags & N_DS));
}

static int add_hashed(struct hashed **h, size_t *n, size_t *cap, const uint8_t *owner,
		      uint32_t name)
{
	if (grow((void **)h, cap, *n, sizeof(**h)) < 0)
		return P53_ENOMEM;
	(*h)[*n].name = name;
	if (dnssec_nsec3_hash(owner, NULL, 0, 0, (*h)[*n].h) < 0)
		return P53_ENOMEM;
	++*n;
	return 0;
}

/* Hash every name of the chain and every empty non-terminal above one
 * (RFC 5155 7.1). Ancestors come first in canonical order, so a stack of
 * the current path finds the missing ones. */
static int hash_names(struct signer *s, struct hashed **h, size_t *nh)
{
	const uint8_t *stack[DNAME_MAXLABELS + 1];
	size_t depth = 0, cap = 0;

	*h = NULL;
	*nh = 0;
	for (size_t i = 0; i < s->nnames; i++) {
		const uint8_t *o = s->names[i].owner;
		if (!in_nsec3_chain(s, &s->names[i]))
			continue;
		while (depth && !dname_is_subdomain(o, stack[depth - 1]))
			depth--;
		int labels = dname_labels(o);
		int top = depth ? dname_labels(stack[depth - 1]) : labels - 1;
		for (int k = top + 1; k < labels; k++) {
			const uint8_t *ent = dname_suffix(o, k);
			if (add_hashed(h, nh, &cap, ent, NONE) < 0)
				return P53_ENOMEM;
			stack[depth++] = ent;
		}
		if (add_hashed(h, nh, &cap, o, (uint32_t)i) < 0)
			return P53_ENOMEM;
		stack[depth++] = o;
	}
	return 0;
}

static int hash_cmp(const void *a, const void *b)
{
	return memcmp(((const struct hashed *)a)->h, ((const struct hashed *)b)->h,
		      DNSSEC_NSEC3_HASH_LEN);
}

/* NSEC3 RDATA for h pointing at next; returns its length. */
static size_t nsec3_rdata(const struct signer *s, const struct hashed *h,
			  const struct hashed *next, uint8_t *rd)
{
	size_t len = 0;

	rd[len++] = 1;                          /* SHA-1 */
	rd[len++] = s->o->opt_out ? 1 : 0;
	rd[len++] = 0;                          /* iterations (RFC 9276) */
	rd[len++] = 0;
	rd[len++] = 0;                          /* no salt */
	rd[len++] = DNSSEC_NSEC3_HASH_LEN;
	memcpy(rd + len, next->h, DNSSEC_NSEC3_HASH_LEN);
	len += DNSSEC_NSEC3_HASH_LEN;
	if (h->name != NONE)
		len += name_bitmap(s, &s->names[h->name], 0, rd + len);
	return len;
}

static int nsec3_owner(struct signer *s, const struct hashed *h, uint8_t **out)
{
	uint8_t *o = arena_alloc(s, DNAME_MAXLEN);

	if (!o)
		return P53_ENOMEM;
	if (dnssec_nsec3_owner(h->h, s->apex, o) < 0) {
		diag_error(s->d, NULL, 0, 0, "zone name too long for NSEC3 owner names");
		return P53_ERANGE;
	}
	*out = o;
	return 0;
}

static int make_nsec3(struct signer *s)
{
	uint8_t rd[64 + DNSSEC_BITMAP_MAX];
	struct hashed *h;
	size_t nh;
	int ret = hash_names(s, &h, &nh);

	if (ret < 0)
		goto fail;
	qsort(h, nh, sizeof(*h), hash_cmp);
	for (size_t i = 0; i < nh; i++) {
		uint8_t *owner;
		if (i + 1 < nh && hash_cmp(&h[i], &h[i + 1]) == 0) {
			diag_error(s->d, NULL, 0, 0, "NSEC3 hash collision: two names hash "
				   "alike (use NSEC)");
			ret = P53_EZONE;
			goto fail;
		}
		if ((ret = nsec3_owner(s, &h[i], &owner)) < 0 ||
		    (ret = add_chain_rec(s, owner, RRTYPE_NSEC3, rd,
					 nsec3_rdata(s, &h[i], &h[(i + 1) % nh], rd))) < 0)
			goto fail;
	}
fail:
	free(h);
	return ret;
}

/* ---- keys ------------------------------------------------------------------------- */

static int key_can(const struct dnssec_key *k, uint8_t signer)
{
	enum dnssec_role r = dnssec_key_role(k);

	return r == DNSSEC_CSK || (signer == SIGN_KSK ? r == DNSSEC_KSK : r == DNSSEC_ZSK);
}

static int key_for_zone(struct signer *s, const struct dnssec_key *k)
{
	char zone[DNAME_TEXT_MAX], kz[DNAME_TEXT_MAX];

	if (dname_equal(dnssec_key_zone(k), s->apex))
		return 0;
	dname_to_text(s->apex, zone, sizeof(zone));
	dname_to_text(dnssec_key_zone(k), kz, sizeof(kz));
	diag_error(s->d, dnssec_key_path(k), 0, 0, "a key for zone %s, not %s", kz, zone);
	return P53_EINVAL;
}

/* Every key for this zone; every algorithm with a key for the data and
 * one for the DNSKEY RRset (RFC 4035 2.2 wants each algorithm to sign
 * all of the zone). */
static int check_keys(struct signer *s)
{
	if (!s->nkeys || s->nkeys > 64) {
		diag_error(s->d, NULL, 0, 0, s->nkeys ? "more than 64 DNSSEC keys" :
			   "no DNSSEC key given");
		return P53_EINVAL;
	}
	for (size_t i = 0; i < s->nkeys; i++) {
		const struct dnssec_key *k = s->keys[i];
		int zsk = 0, ksk = 0;
		if (key_for_zone(s, k) < 0)
			return P53_EINVAL;
		for (size_t j = 0; j < s->nkeys; j++) {
			if (dnssec_key_alg(s->keys[j]) != dnssec_key_alg(k))
				continue;
			zsk |= key_can(s->keys[j], SIGN_ZSK);
			ksk |= key_can(s->keys[j], SIGN_KSK);
			if (j > i && dnssec_key_tag(s->keys[j]) == dnssec_key_tag(k)) {
				diag_error(s->d, dnssec_key_path(s->keys[j]), 0, 0, "key tag %u "
					   "again (%s): give each key once",
					   dnssec_key_tag(k), dnssec_key_path(k));
				return P53_EINVAL;
			}
		}
		if (!zsk || !ksk) {
			diag_error(s->d, dnssec_key_path(k), 0, 0, "algorithm %u has no %s: "
				   "give a %s or a CSK of that algorithm too",
				   dnssec_key_alg(k), zsk ? "KSK for the DNSKEY RRset" :
				   "ZSK for the zone's data", zsk ? "KSK" : "ZSK");
			return P53_EINVAL;
		}
	}
	return 0;
}

static int same_key(const struct dnssec_key *a, const struct dnssec_key *b)
{
	size_t la, lb;
	const uint8_t *ra = dnssec_key_dnskey(a, &la), *rb = dnssec_key_dnskey(b, &lb);

	return la == lb && memcmp(ra, rb, la) == 0;
}

/* The index of a key like k in keys, or -1. */
static int find_key(struct dnssec_key *const *keys, size_t n, const struct dnssec_key *k)
{
	for (size_t i = 0; i < n; i++)
		if (same_key(keys[i], k))
			return (int)i;
	return -1;
}

/* Publish-only keys: this zone's, each once, and none also signing (a
 * key cannot be pre-published or retired and sign at the same time). */
static int check_publish(struct signer *s)
{
	const struct dnssec_sign_opts *o = s->o;
	int j;

	if (o->npublish > 64) {
		diag_error(s->d, NULL, 0, 0, "more than 64 publish-only DNSSEC keys");
		return P53_EINVAL;
	}
	for (size_t i = 0; i < o->npublish; i++) {
		const struct dnssec_key *k = o->publish[i];
		if (key_for_zone(s, k) < 0)
			return P53_EINVAL;
		if ((j = find_key(s->keys, s->nkeys, k)) >= 0) {
			diag_error(s->d, dnssec_key_path(k), 0, 0, "key tag %u is given both "
				   "to sign (%s) and to publish only: a key either signs "
				   "or is only published", dnssec_key_tag(k),
				   dnssec_key_path(s->keys[j]));
			return P53_EINVAL;
		}
		if ((j = find_key(o->publish, i, k)) >= 0) {
			diag_error(s->d, dnssec_key_path(k), 0, 0, "key tag %u is published "
				   "twice (%s): give each key once", dnssec_key_tag(k),
				   dnssec_key_path(o->publish[j]));
			return P53_EINVAL;
		}
	}
	return 0;
}

/* A CDS names a KSK or CSK of the DNSKEY RRset: the parent's DS must
 * point at a key that signs (or will sign) the DNSKEY RRset. */
static int check_cds_key(struct signer *s, const struct dnssec_key *k)
{
	if (dnssec_key_role(k) == DNSSEC_ZSK) {
		diag_error(s->d, dnssec_key_path(k), 0, 0, "key tag %u is a ZSK: CDS/CDNSKEY "
			   "name KSKs or CSKs, the keys the parent's DS points at",
			   dnssec_key_tag(k));
		return P53_EINVAL;
	}
	if (find_key(s->keys, s->nkeys, k) < 0 &&
	    find_key(s->o->publish, s->o->npublish, k) < 0) {
		diag_error(s->d, dnssec_key_path(k), 0, 0, "key tag %u is for CDS/CDNSKEY "
			   "but not in the DNSKEY RRset: sign with it or publish it too",
			   dnssec_key_tag(k));
		return P53_EINVAL;
	}
	return 0;
}

static int check_cds(struct signer *s)
{
	const struct dnssec_sign_opts *o = s->o;
	size_t sep = 0;

	if (o->cds != DNSSEC_CDS_KEYS) {
		if (!o->ncds_keys)
			return 0;
		diag_error(s->d, NULL, 0, 0, o->cds == DNSSEC_CDS_DELETE ?
			   "the CDS/CDNSKEY delete form names no key: keys for CDS "
			   "and the delete form exclude each other" :
			   "keys for CDS given, but no CDS/CDNSKEY asked for");
		return P53_EINVAL;
	}
	for (size_t i = 0; i < o->ncds_keys; i++)
		if (check_cds_key(s, o->cds_keys[i]) < 0)
			return P53_EINVAL;
	for (size_t i = 0; i < s->nkeys; i++)
		sep += dnssec_key_role(s->keys[i]) != DNSSEC_ZSK;
	if (!o->ncds_keys && s->nkeys && !sep) {
		diag_error(s->d, NULL, 0, 0, "CDS/CDNSKEY asked for, but no signing KSK "
			   "or CSK to make them from");
		return P53_EINVAL;
	}
	return 0;
}

/* ---- signatures --------------------------------------------------------------------- */

static int plan_jobs(struct signer *s)
{
	size_t cap = 0;

	for (size_t i = 0; i < s->nsets; i++) {
		const struct rset *set = &s->sets[i];
		uint32_t inception, expire;
		if (!set->signer)
			continue;
		dnssec_sign_window(s->o, s->recs[set->first].owner, &inception, &expire);
		s->st.rrsets++;
		for (size_t k = 0; k < s->nkeys; k++) {
			if (!key_can(s->keys[k], set->signer))
				continue;
			if (grow((void **)&s->jobs, &cap, s->njobs, sizeof(*s->jobs)) < 0)
				return P53_ENOMEM;
			s->jobs[s->njobs++] = (struct job){ .set = (uint32_t)i, .key = (uint16_t)k,
							    .expire = expire };
			if (s->st.signatures++ == 0 || expire < s->st.earliest_expiry)
				s->st.earliest_expiry = expire;
		}
	}
	return 0;
}

static uint8_t *put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	return put16(p + 2, v);
}

/* RRSIG RDATA up to the signature (RFC 4034 3.1); returns its length. */
static size_t rrsig_head(const struct signer *s, const struct job *j, uint8_t *out)
{
	const struct rset *set = &s->sets[j->set];
	const uint8_t *owner = s->recs[set->first].owner;
	const struct dnssec_key *k = s->keys[j->key];
	uint8_t *p = put16(out, set->type);

	*p++ = dnssec_key_alg(k);
	/* the wildcard label does not count (RFC 4034 3.1.3) */
	*p++ = (uint8_t)(dname_labels(owner) - dname_is_wildcard(owner));
	p = put32(p, set->ttl);
	p = put32(p, j->expire);
	p = put32(p, s->inception);
	p = put16(p, dnssec_key_tag(k));
	p += dname_copy_lower(p, s->apex);
	return (size_t)(p - out);
}

struct buf {
	uint8_t *p;
	size_t cap;
};

/* RFC 4034 3.1.8.1: RRSIG head, then each RR in canonical form and order. */
static int signed_data(const struct signer *s, const struct job *j, struct buf *b,
		       size_t *len)
{
	const struct rset *set = &s->sets[j->set];
	size_t need = 18 + DNAME_MAXLEN, n;

	for (uint32_t i = 0; i < set->n; i++)
		need += s->recs[set->first + i].olen + 10u + s->recs[set->first + i].rdlen;
	if (need > b->cap) {
		uint8_t *p = realloc(b->p, need);
		if (!p)
			return P53_ENOMEM;
		b->p = p;
		b->cap = need;
	}
	n = rrsig_head(s, j, b->p);
	for (uint32_t i = 0; i < set->n; i++) {
		const struct rec *r = &s->recs[set->first + i];
		memcpy(b->p + n, r->owner, r->olen);
		uint8_t *p = put16(b->p + n + r->olen, r->type);
		p = put16(p, s->rclass);
		p = put32(p, set->ttl);
		p = put16(p, r->rdlen);
		memcpy(p, r->rd, r->rdlen);
		n = (size_t)(p - b->p) + r->rdlen;
	}
	*len = n;
	return 0;
}

struct pool {
	struct signer *s;
	atomic_size_t next;
	atomic_int err;
};

#define BATCH 256

static void *sign_worker(void *arg)
{
	struct pool *pool = arg;
	struct signer *s = pool->s;
	struct dnssec_signer *sg[64] = { 0 };
	struct buf b = { 0 };
	size_t len, i;
	int err = 0;

	for (size_t k = 0; k < s->nkeys && k < 64 && !err; k++)
		err = dnssec_signer_new(s->keys[k], &sg[k]);
	while (!err && !atomic_load(&pool->err) &&
	       (i = atomic_fetch_add(&pool->next, BATCH)) < s->njobs) {
		size_t end = i + BATCH < s->njobs ? i + BATCH : s->njobs;
		for (; i < end && !err; i++) {
			struct job *j = &s->jobs[i];
			if ((err = signed_data(s, j, &b, &len)) == 0)
				err = dnssec_signer_sign(sg[j->key], b.p, len, j->sig);
		}
	}
	if (err)
		atomic_store(&pool->err, err);
	for (size_t k = 0; k < s->nkeys && k < 64; k++)
		dnssec_signer_free(sg[k]);
	free(b.p);
	return NULL;
}

static int sign_all(struct signer *s)
{
	unsigned n = s->o->threads ? s->o->threads : 2;
	pthread_t tid[16];
	struct pool pool = { .s = s };
	unsigned started = 0;

	if (n > 16)
		n = 16;
	atomic_init(&pool.next, 0);
	atomic_init(&pool.err, 0);
	/* This thread is one of the n. */
	while (started + 1 < n && pthread_create(&tid[started], NULL, sign_worker, &pool) == 0)
		started++;
	sign_worker(&pool);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	if (atomic_load(&pool.err)) {
		diag_error(s->d, NULL, 0, 0, "signing failed: %s",
			   p53_strerror(atomic_load(&pool.err)));
		return atomic_load(&pool.err);
	}
	return 0;
}

/* ---- the signed zone -------------------------------------------------------------------- */

static int emit_set(const struct signer *s, uint32_t si, struct zone *z)
{
	const struct rset *set = &s->sets[si];
	int ret = 0;

	for (uint32_t i = 0; i < set->n && ret == 0; i++) {
		const struct rec *r = &s->recs[set->first + i];
		if (r->src == NONE) {
			ret = zone_add_rr(z, r->owner, r->type, s->rclass, set->ttl, r->rd,
					  r->rdlen, NULL, 0);
		} else {
			size_t n;
			const struct zone_rr *in = &zone_rrs(s->in, &n)[r->src];
			ret = zone_add_rr(z, zone_rr_owner(s->in, in), in->type, in->rclass,
					  set->ttl, zone_rr_rdata(s->in, in), in->rdlen,
					  zone_file_name(s->in, in->file), in->line);
		}
	}
	return ret;
}

/* The RRSIGs of set si: the jobs are in set order. */
static int emit_sigs(const struct signer *s, uint32_t si, size_t *job, struct zone *z)
{
	uint8_t rd[18 + DNAME_MAXLEN + DNSSEC_SIG_LEN];
	int ret = 0;

	for (; ret == 0 && *job < s->njobs && s->jobs[*job].set == si; ++*job) {
		const struct job *j = &s->jobs[*job];
		size_t n = rrsig_head(s, j, rd);
		memcpy(rd + n, j->sig, DNSSEC_SIG_LEN);
		ret = zone_add_rr(z, s->recs[s->sets[si].first].owner, RRTYPE_RRSIG, s->rclass,
				  s->sets[si].ttl, rd, (uint16_t)(n + DNSSEC_SIG_LEN), NULL, 0);
	}
	return ret;
}

static int emit(const struct signer *s, struct zone *z)
{
	size_t job = 0;
	int ret = 0;

	for (size_t i = 0; i < s->nnames && ret == 0; i++) {
		const struct name *n = &s->names[i];
		for (uint32_t k = 0; k < n->nsets && ret == 0; k++) {
			uint32_t si = n->first_set + k;
			if ((ret = emit_set(s, si, z)) == 0)
				ret = emit_sigs(s, si, &job, z);
		}
	}
	/* NSEC sets follow the data, in name order; NSEC3 in hash order. */
	for (size_t si = s->data_sets; si < s->nsets && ret == 0; si++)
		if ((ret = emit_set(s, (uint32_t)si, z)) == 0)
			ret = emit_sigs(s, (uint32_t)si, &job, z);
	return ret;
}

/* ---- one RRset at a time (signed answers of traffic policies) ----------- */

/* The owner's place in the jitter span: FNV-1a of its wire form, so that
 * every signing of one owner expires at the same moment. */
static uint32_t owner_hash(const uint8_t *o)
{
	uint32_t h = 2166136261u;

	for (; *o; o += 1u + *o)
		for (unsigned i = 0; i <= *o; i++)
			h = (h ^ o[i]) * 16777619u;
	return h;
}

void dnssec_sign_window(const struct dnssec_sign_opts *o, const uint8_t *owner,
			uint32_t *inception, uint32_t *expiration)
{
	int64_t now = o->now ? o->now : (int64_t)time(NULL);
	uint32_t validity = o->validity ? o->validity : 14 * 86400;
	uint32_t jitter = o->jitter ? o->jitter : 86400;

	if (jitter > validity / 4)
		jitter = validity / 4;
	*inception = (uint32_t)(o->inception ? o->inception : now - 3600);
	*expiration = *inception + validity - jitter + owner_hash(owner) % (2 * jitter + 1);
}

struct canon_rr {
	const uint8_t *rd;
	uint16_t len;
};

static int canon_cmp(const void *pa, const void *pb)
{
	const struct canon_rr *a = pa, *b = pb;
	int c = memcmp(a->rd, b->rd, a->len < b->len ? a->len : b->len);

	return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* The RRs' canonical RDATA in canonical order, duplicates dropped, in v
 * (n entries; their bytes copied into arena, DNSSEC_RRSET_MAX * 65535 at
 * most). Returns how many are left. */
static size_t canon_rrs(uint16_t type, const struct dnssec_rr *rrs, size_t n,
			struct canon_rr *v, uint8_t *arena)
{
	size_t k = 0, off = 0;

	for (size_t i = 0; i < n; i++) {
		memcpy(arena + off, rrs[i].rdata, rrs[i].rdlen);
		dnssec_canonical_rdata(type, arena + off, rrs[i].rdlen);
		v[i] = (struct canon_rr){ arena + off, rrs[i].rdlen };
		off += rrs[i].rdlen;
	}
	qsort(v, n, sizeof(*v), canon_cmp);
	for (size_t i = 0; i < n; i++)
		if (!k || canon_cmp(&v[k - 1], &v[i]))
			v[k++] = v[i];
	return k;
}

int dnssec_sign_rrset(struct dnssec_signer *sg, const struct dnssec_key *k,
		      const struct dnssec_rrset *set, uint32_t inception,
		      uint32_t expiration, uint8_t *out, size_t cap)
{
	struct canon_rr v[DNSSEC_RRSET_MAX];
	uint8_t lower[DNAME_MAXLEN], *msg = NULL, *arena = NULL, *p;
	size_t total = 0, head, olen, n, need;
	int ret = P53_EINVAL;

	if (!set->n || set->n > DNSSEC_RRSET_MAX)
		return P53_EINVAL;
	for (size_t i = 0; i < set->n; i++)
		total += set->rrs[i].rdlen;
	if (cap < DNSSEC_RRSIG_MAX)
		return P53_ESPACE;
	olen = dname_copy_lower(lower, set->owner);
	/* RRSIG RDATA up to the signature (RFC 4034 3.1) */
	p = put16(out, set->type);
	*p++ = dnssec_key_alg(k);
	*p++ = (uint8_t)(dname_labels(lower) - dname_is_wildcard(lower));
	p = put32(p, set->ttl);
	p = put32(p, expiration);
	p = put32(p, inception);
	p = put16(p, dnssec_key_tag(k));
	p += dname_copy_lower(p, dnssec_key_zone(k));
	head = (size_t)(p - out);
	need = head + total + set->n * (olen + 10);
	if (!(arena = malloc(total ? total : 1)) || !(msg = malloc(need))) {
		ret = P53_ENOMEM;
		goto fail;
	}
	n = canon_rrs(set->type, set->rrs, set->n, v, arena);
	memcpy(msg, out, head);
	p = msg + head;
	for (size_t i = 0; i < n; i++) {
		memcpy(p, lower, olen);
		p = put16(p + olen, set->type);
		p = put16(p, set->rclass);
		p = put32(p, set->ttl);
		p = put16(p, v[i].len);
		memcpy(p, v[i].rd, v[i].len);
		p += v[i].len;
	}
	ret = dnssec_signer_sign(sg, msg, (size_t)(p - msg), out + head);
	if (ret == 0)
		ret = (int)(head + DNSSEC_SIG_LEN);
fail:
	free(msg);
	free(arena);
	return ret;
}

/* ---- the whole ---------------------------------------------------------------------------- */

static void free_signer(struct signer *s)
{
	while (s->arena) {
		struct chunk *c = s->arena;
		s->arena = c->next;
		free(c);
	}
	free(s->recs);
	free(s->sets);
	free(s->names);
	free(s->jobs);
}

/* The inception of every signature (their expirations depend on the
 * owner: plan_jobs asks dnssec_sign_window per RRset). */
static void set_times(struct signer *s)
{
	uint32_t expire;

	dnssec_sign_window(s->o, s->apex, &s->inception, &expire);
}

static int prepare(struct signer *s)
{
	const uint8_t *apex = zone_origin(s->in);
	char name[DNAME_TEXT_MAX];
	int ret;

	if (!apex) {
		diag_error(s->d, NULL, 0, 0, "the zone has no name (no SOA, no $ORIGIN)");
		return P53_EZONE;
	}
	dname_copy_lower(s->apex, apex);
	/* CDS first: without a KSK its reason says more than check_keys'. */
	if ((ret = check_cds(s)) < 0 || (ret = check_keys(s)) < 0 ||
	    (ret = check_publish(s)) < 0 || (ret = collect_input(s)) < 0)
		return ret;
	if (!s->soa_ttl) {
		dname_to_text(s->apex, name, sizeof(name));
		diag_error(s->d, NULL, 0, 0, "no SOA record at the apex %s: not a zone "
			   "that can be signed", name);
		return P53_EZONE;
	}
	if ((ret = collect_apex(s)) < 0)
		return ret;
	qsort(s->recs, s->nrecs, sizeof(*s->recs), rec_cmp);
	if ((ret = group(s)) < 0)
		return ret;
	classify(s);
	return 0;
}

int dnssec_sign_zone(const struct zone *in, struct dnssec_key *const *keys,
		     size_t nkeys, const struct dnssec_sign_opts *o,
		     struct diag *d, struct zone **out,
		     struct dnssec_sign_stats *stats)
{
	static const struct dnssec_sign_opts defaults = { 0 };
	struct signer s = { .in = in, .keys = keys, .nkeys = nkeys,
			    .o = o ? o : &defaults, .d = d };
	struct zone *z = NULL;
	int ret;

	*out = NULL;
	set_times(&s);
	if ((ret = prepare(&s)) < 0 ||
	    (ret = s.o->nsec3 ? make_nsec3(&s) : make_nsec(&s)) < 0 ||
	    (ret = plan_jobs(&s)) < 0 || (ret = sign_all(&s)) < 0)
		goto fail;
	ret = P53_ENOMEM;
	if (!(z = zone_new(s.apex)) || emit(&s, z) < 0)
		goto fail;
	*out = z;
	z = NULL;
	ret = 0;
	if (stats)
		*stats = s.st;
fail:
	if (ret == P53_ENOMEM && (!d || !d->errors))
		diag_error(d, NULL, 0, 0, "out of memory while signing");
	zone_free(z);
	free_signer(&s);
	return ret;
}
