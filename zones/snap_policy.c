/*
 * snap_policy.c — traffic-policy records in the zones before a compile.
 *
 * A policy record (owner, type) answers from policy_eval, but the rest of
 * the name machinery (the node, its parents and empty non-terminals, the
 * CNAME flag, NODATA for the other types, wildcards not applying to it)
 * must behave as if the owner held ordinary data. So the record becomes
 * one placeholder RR in its zone and the compiler marks that RRset; the
 * placeholder itself is never sent.
 */
#include <stdlib.h>
#include <string.h>

#include "dname.h"
#include "error.h"
#include "policy.h"
#include "rdata.h"
#include "snap.h"

/* A set of lower-cased wire names with a 16-bit tag each (a type, or 0). */
struct nset {
	uint8_t (*name)[DNAME_MAXLEN];
	uint16_t *tag;
	uint32_t *slot;         /* index + 1, 0 = empty */
	uint32_t n, cap, mask;
};

static uint32_t nset_hash(const uint8_t *w, uint16_t tag)
{
	size_t len = (size_t)dname_wire_len(w, DNAME_MAXLEN);

	return snap_name_hash(w, len) ^ (uint32_t)tag * 0x9e3779b1u;
}

static int nset_init(struct nset *s, uint32_t cap)
{
	uint32_t slots = 16;

	while (slots < cap * 2)
		slots <<= 1;
	memset(s, 0, sizeof(*s));
	s->name = malloc((size_t)cap * sizeof(*s->name));
	s->tag = malloc((size_t)cap * sizeof(*s->tag));
	s->slot = calloc(slots, sizeof(*s->slot));
	s->cap = cap;
	s->mask = slots - 1;
	return s->name && s->tag && s->slot ? 0 : P53_ENOMEM;
}

static void nset_free(struct nset *s)
{
	free(s->name);
	free(s->tag);
	free(s->slot);
}

/* The index of (w, tag), or -1; with add, inserts it when absent (the
 * caller sized the set). */
static int64_t nset_find(struct nset *s, const uint8_t *w, uint16_t tag, bool add)
{
	uint32_t pos = nset_hash(w, tag) & s->mask;

	for (; s->slot[pos]; pos = (pos + 1) & s->mask) {
		uint32_t i = s->slot[pos] - 1;

		if (s->tag[i] == tag && dname_equal(s->name[i], w))
			return i;
	}
	if (!add || s->n == s->cap)
		return -1;
	dname_copy_lower(s->name[s->n], w);
	s->tag[s->n] = tag;
	s->slot[pos] = s->n + 1;
	return s->n++;
}

/* The zone among zones[0..n) with the longest apex that holds name. */
static struct zone *zone_of(struct zone *const *zones, size_t n, const uint8_t *name)
{
	size_t i = zone_enclosing((const struct zone *const *)zones, n, name);

	return i < n ? zones[i] : NULL;
}

/* What the records of z say about the policy owners in rec (each in it
 * with its type and with tag 0): clashes (tag = type: static data of a
 * record's type; tag 0: a CNAME on either side of a shared name), and
 * the zone cuts and DNAMEs (tag 1 NS below the apex, 2 DNAME), and the
 * owners of static addresses (alias targets). */
static int scan_zone(const struct zone *z, struct nset *rec, struct nset *cuts,
		     struct nset *clash, struct nset *addrs)
{
	const uint8_t *apex = zone_origin(z);
	const struct zone_rr *rr;
	size_t nrr;

	rr = zone_rrs(z, &nrr);
	for (size_t i = 0; i < nrr; i++) {
		const uint8_t *owner = zone_rr_owner(z, &rr[i]);
		uint16_t t = rr[i].type;
		int64_t k = 0;

		if ((t == RRTYPE_NS && !dname_equal(owner, apex)) || t == RRTYPE_DNAME)
			k = nset_find(cuts, owner, t == RRTYPE_NS ? 1 : 2, true);
		if (k >= 0 && nset_find(rec, owner, t, false) >= 0)
			k = nset_find(clash, owner, t, true);
		if (k >= 0 && nset_find(rec, owner, 0, false) >= 0 &&
		    (t == RRTYPE_CNAME || nset_find(rec, owner, RRTYPE_CNAME, false) >= 0))
			k = nset_find(clash, owner, 0, true);
		if (k >= 0 && (t == RRTYPE_A || t == RRTYPE_AAAA))
			k = nset_find(addrs, owner, 0, true);
		if (k < 0)
			return P53_ENOMEM;
	}
	return 0;
}

/* Why record name (type) cannot be a policy record of z, or NULL. */
static const char *refuse(const struct zone *z, const uint8_t *name, uint16_t type,
			  struct nset *cuts, struct nset *clash)
{
	const uint8_t *apex = zone_origin(z);
	int total = dname_labels(name), strip = total - dname_labels(apex);

	if (nset_find(clash, name, type, false) >= 0)
		return "the zone has static data of the same type there";
	if (nset_find(clash, name, 0, false) >= 0)
		return "a CNAME cannot share its name with other data";
	for (int k = 0; k < strip; k++) {
		const uint8_t *up = dname_suffix(name, total - k);

		if (nset_find(cuts, up, 1, false) >= 0)
			return "it is at or below a zone cut (delegated away)";
		if (k > 0 && nset_find(cuts, up, 2, false) >= 0)
			return "it is below a DNAME";
	}
	return NULL;
}

/* A zone with DNSSEC data (a DNSKEY at its apex or any RRSIG). Policy
 * answers are signed only by the compile that signs the zone
 * (zones/policy_sig.h): a zone signed elsewhere gets no policy records,
 * a validating resolver would take their answers for forgeries. */
static bool zone_signed(const struct zone *z)
{
	const struct zone_rr *rr;
	size_t nrr;

	rr = zone_rrs(z, &nrr);
	for (size_t i = 0; i < nrr; i++) {
		if (rr[i].type == RRTYPE_RRSIG ||
		    (rr[i].type == RRTYPE_DNSKEY && dname_equal(zone_rr_owner(z, &rr[i]),
								zone_origin(z))))
			return true;
	}
	return false;
}

/* The placeholder's RDATA for type: never served, only well-formed. */
static uint16_t placeholder(uint16_t type, uint8_t rd[16])
{
	memset(rd, 0, 16);
	switch (type) {
	case RRTYPE_A: return 4;
	case RRTYPE_AAAA: return 16;
	default: return 1;      /* TXT: one empty string; CNAME: the root */
	}
}

static int add_records(struct zone *const *zones, size_t n, const struct policy *p,
		       const bool *signing, struct nset *cuts, struct nset *clash,
		       struct diag *d)
{
	char text[DNAME_TEXT_MAX];
	uint8_t rd[16];
	bool signed_zone[n ? n : 1];
	int ret = 0;

	for (size_t k = 0; k < n; k++)
		signed_zone[k] = !(signing && signing[k]) && zone_signed(zones[k]);
	for (uint32_t i = 0; i < policy_record_count(p); i++) {
		struct policy_record r;
		struct zone *z;
		const char *why;
		int err;

		policy_record_get(p, i, &r);
		dname_to_text(r.name, text, sizeof(text));
		if (!(z = zone_of(zones, n, r.name))) {
			diag_error(d, NULL, 0, 0, "policy record %s: no zone given "
				   "contains it", text);
			ret = P53_EZONE;
			continue;
		}
		why = refuse(z, r.name, r.type, cuts, clash);
		for (size_t k = 0; k < n && !why; k++) {
			if (zones[k] == z && signed_zone[k])
				why = "the zone is signed already, and its policy answers can "
				      "only be signed by the compile that signs the zone "
				      "(pop53-zonec compile --dnssec-key)";
		}
		if (why) {
			diag_error(d, NULL, 0, 0, "policy record %s type %u: %s",
				   text, r.type, why);
			ret = P53_EZONE;
			continue;
		}
		err = zone_add_rr(z, r.name, r.type, 1, r.ttl, rd,
				  placeholder(r.type, rd), "(policy)", 0);
		if (err < 0)
			return err;
	}
	return ret;
}

/* An alias inside the served zones answers with its target's addresses
 * from the served data at query time, so the target must be static A/AAAA
 * data we serve authoritatively; an alias of an alias (or of another
 * policy record) is refused rather than chased. A target outside every
 * served zone is pop53d's to resolve (snap.h, out-of-zone alias targets). */
static int check_aliases(struct zone *const *zones, size_t n, const struct policy *p,
			 struct nset *rec, struct nset *cuts, struct nset *clash,
			 struct nset *addrs, struct diag *d)
{
	char text[DNAME_TEXT_MAX];
	int ret = 0;

	for (uint32_t i = 0; i < policy_endpoint_count(p); i++) {
		struct policy_endpoint ep;
		const struct zone *z;
		uint8_t lower[DNAME_MAXLEN];
		const char *why = NULL;

		policy_endpoint_get(p, i, &ep);
		if (ep.type != POLICY_ALIAS)
			continue;
		dname_copy_lower(lower, ep.rdata);
		dname_to_text(lower, text, sizeof(text));
		if (!(z = zone_of(zones, n, lower)))
			continue;
		if (nset_find(rec, lower, 0, false) >= 0)
			why = "is itself a policy record (aliases are not chained)";
		else if (refuse(z, lower, RRTYPE_A, cuts, clash))
			why = "is at or below a zone cut or a DNAME";
		else if (nset_find(addrs, lower, 0, false) < 0)
			why = "has no A or AAAA records";
		if (why) {
			diag_error(d, NULL, 0, 0, "policy alias target %s %s", text, why);
			ret = P53_EZONE;
		}
	}
	return ret;
}

int snap_policy_prepare(struct zone *const *zones, size_t n, const void *blob,
			size_t len, struct diag *d)
{
	return snap_policy_prepare_signing(zones, n, blob, len, NULL, d);
}

int snap_policy_prepare_signing(struct zone *const *zones, size_t n, const void *blob,
				size_t len, const bool *signing, struct diag *d)
{
	struct nset rec = { 0 }, cuts = { 0 }, clash = { 0 }, addrs = { 0 };
	struct policy *p = NULL;
	size_t total = 0;
	int ret;

	if ((ret = policy_open(blob, len, d, &p)) < 0)
		return ret;
	for (size_t i = 0; i < n; i++) {
		size_t c;

		zone_rrs(zones[i], &c);
		total += c;
	}
	ret = P53_ENOMEM;
	if (nset_init(&rec, 2 * policy_record_count(p) + 1) < 0 ||
	    nset_init(&cuts, (uint32_t)total + 1) < 0 ||
	    nset_init(&clash, (uint32_t)total + 1) < 0 ||
	    nset_init(&addrs, (uint32_t)total + 1) < 0)
		goto fail;
	for (uint32_t i = 0; i < policy_record_count(p); i++) {
		struct policy_record r;

		policy_record_get(p, i, &r);
		if (nset_find(&rec, r.name, r.type, true) < 0 ||
		    nset_find(&rec, r.name, 0, true) < 0)
			goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		if ((ret = scan_zone(zones[i], &rec, &cuts, &clash, &addrs)) < 0)
			goto fail;
	}
	if ((ret = check_aliases(zones, n, p, &rec, &cuts, &clash, &addrs, d)) < 0)
		goto fail;
	ret = add_records(zones, n, p, signing, &cuts, &clash, d);
fail:
	nset_free(&rec);
	nset_free(&cuts);
	nset_free(&clash);
	nset_free(&addrs);
	policy_close(p);
	return ret;
}
