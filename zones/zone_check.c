/*
 * zone_check.c — validation (errors) and lint (warnings) of a parsed zone.
 *
 * Records are indexed by owner name and by (owner, type) in hash tables
 * rather than sorted: checking must stay linear so that a million-name zone
 * checks in a fraction of the time a peer server needs to load it.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dname.h"
#include "error.h"
#include "rdata.h"
#include "snap_format.h"
#include "zone.h"

#define SOA_MINIMUM_MAX  86400u   /* RFC 2308 5 suggests 1-3 hours */

enum {
	NF_SOA = 1 << 0, NF_NS = 1 << 1, NF_CNAME = 1 << 2, NF_DNAME = 1 << 3,
	NF_ADDR = 1 << 4, NF_OTHER = 1 << 5, NF_CAA = 1 << 6,
};

struct name_info {
	uint32_t off;        /* lower-cased name in checker.lnames */
	uint8_t len;
	uint32_t first_rr;   /* first record with this owner */
	uint16_t flags;      /* NF_* */
	uint16_t ncname;
	uint16_t ndname;
	uint16_t nsoa;
};

struct rrset_info {
	uint32_t name;       /* index into names */
	uint32_t first_rr;
	uint32_t min_ttl, max_ttl;
	uint16_t type;
};

/* Open addressing over indexes (+1, 0 = empty); keys live in the arrays. */
struct itab {
	uint32_t *slot;
	uint32_t mask;
};

struct checker {
	const struct zone *z;
	const struct zone_check_opts *o;
	struct diag *d;
	const struct zone_rr *rr;
	size_t nrr;
	const uint8_t *origin;
	uint8_t *lnames;          /* lower-cased owner names, packed */
	size_t lnames_len;
	struct name_info *names;
	uint32_t nnames;
	struct rrset_info *sets;
	uint32_t nsets;
	uint32_t *rr_name;        /* name index of each record, UINT32_MAX if out */
	struct itab name_tab, set_tab, rr_tab;
};

static int itab_init(struct itab *t, size_t n)
{
	size_t size = 16;

	while (size < n * 2)
		size *= 2;
	if (!(t->slot = calloc(size, sizeof(*t->slot))))
		return P53_ENOMEM;
	t->mask = (uint32_t)(size - 1);
	return 0;
}

static const uint8_t *lname(const struct checker *c, uint32_t i)
{
	return c->lnames + c->names[i].off;
}

static const struct zone_rr *rr_at(const struct checker *c, uint32_t i)
{
	return &c->rr[i];
}

static void __attribute__((format(printf, 4, 5)))
report(struct checker *c, int error, uint32_t rr, const char *fmt, ...)
{
	const struct zone_rr *r = rr_at(c, rr);
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (error)
		diag_error(c->d, zone_file_name(c->z, r->file), r->line, 0, "%s", msg);
	else
		diag_warn(c->d, zone_file_name(c->z, r->file), r->line, 0, "%s", msg);
}

#define err_at(c, rr, ...)  report((c), 1, (rr), __VA_ARGS__)
#define warn_at(c, rr, ...) report((c), 0, (rr), __VA_ARGS__)

/* Find or add the lower-cased name; returns its index or a p53_err. */
static long name_get(struct checker *c, const uint8_t *ln, size_t len, int add,
		     uint32_t rr)
{
	uint32_t h = snap_name_hash(ln, len);

	for (uint32_t i = h & c->name_tab.mask;; i = (i + 1) & c->name_tab.mask) {
		uint32_t s = c->name_tab.slot[i];
		if (s == 0) {
			if (!add)
				return P53_ENOTFOUND;
			memcpy(c->lnames + c->lnames_len, ln, len);
			c->names[c->nnames] = (struct name_info){
				.off = (uint32_t)c->lnames_len, .len = (uint8_t)len,
				.first_rr = rr };
			c->lnames_len += len;
			c->name_tab.slot[i] = ++c->nnames;
			return c->nnames - 1;
		}
		if (c->names[s - 1].len == len && memcmp(lname(c, s - 1), ln, len) == 0)
			return s - 1;
	}
}

static uint32_t set_get(struct checker *c, uint32_t name, uint16_t type, uint32_t rr)
{
	uint32_t h = (name * 0x9e3779b1u) ^ (type * 0x85ebca6bu);

	for (uint32_t i = h & c->set_tab.mask;; i = (i + 1) & c->set_tab.mask) {
		uint32_t s = c->set_tab.slot[i];
		if (s == 0) {
			uint32_t ttl = c->rr[rr].ttl;
			c->sets[c->nsets] = (struct rrset_info){ .name = name,
				.first_rr = rr, .min_ttl = ttl, .max_ttl = ttl,
				.type = type };
			c->set_tab.slot[i] = ++c->nsets;
			return c->nsets - 1;
		}
		if (c->sets[s - 1].name == name && c->sets[s - 1].type == type)
			return s - 1;
	}
}

/* Returns the index of an identical earlier record, or -1. */
static long rr_dup(struct checker *c, uint32_t rr)
{
	const struct zone_rr *r = &c->rr[rr];
	const uint8_t *rd = zone_rr_rdata(c->z, r);
	uint32_t h = snap_name_hash(rd, r->rdlen) ^ (c->rr_name[rr] * 0x9e3779b1u) ^ r->type;

	for (uint32_t i = h & c->rr_tab.mask;; i = (i + 1) & c->rr_tab.mask) {
		uint32_t s = c->rr_tab.slot[i];
		if (s == 0) {
			c->rr_tab.slot[i] = rr + 1;
			return -1;
		}
		const struct zone_rr *o = &c->rr[s - 1];
		if (c->rr_name[s - 1] == c->rr_name[rr] && o->type == r->type &&
		    o->rdlen == r->rdlen && memcmp(zone_rr_rdata(c->z, o), rd, r->rdlen) == 0)
			return s - 1;
	}
}

static uint16_t type_flag(uint16_t type)
{
	switch (type) {
	case RRTYPE_SOA:   return NF_SOA;
	case RRTYPE_NS:    return NF_NS;
	case RRTYPE_CNAME: return NF_CNAME;
	case RRTYPE_DNAME: return NF_DNAME;
	case RRTYPE_A:
	case RRTYPE_AAAA:  return NF_ADDR;
	case RRTYPE_CAA:   return NF_CAA | NF_OTHER;
	/* DNSSEC records may sit beside a CNAME (RFC 4035 2.5). */
	case RRTYPE_RRSIG:
	case RRTYPE_NSEC:  return 0;
	}
	return NF_OTHER;
}

static void name_text(const uint8_t *w, char *buf, size_t cap)
{
	if (dname_to_text(w, buf, cap) < 0)
		snprintf(buf, cap, "(name)");
}

/* Names are formatted only when reported: most names report nothing. */
#define TEXT(w, buf) (name_text((w), (buf), sizeof(buf)), (buf))

/* Pass 1: index every record; report what one record alone shows. */
static int index_records(struct checker *c)
{
	char a[DNAME_TEXT_MAX], b[16];
	uint16_t zclass = 0;

	for (uint32_t i = 0; i < c->nrr; i++) {
		const struct zone_rr *r = &c->rr[i];
		uint8_t ln[DNAME_MAXLEN];
		size_t len = dname_copy_lower(ln, zone_rr_owner(c->z, r));
		long n, dup;

		c->rr_name[i] = UINT32_MAX;
		if (!dname_is_subdomain(ln, c->origin)) {
			char zn[DNAME_TEXT_MAX];
			name_text(ln, a, sizeof(a));
			name_text(c->origin, zn, sizeof(zn));
			err_at(c, i, "'%s' is outside the zone '%s' (out-of-zone data)", a, zn);
			continue;
		}
		if (r->type == RRTYPE_SOA && !zclass)
			zclass = r->rclass;
		if ((n = name_get(c, ln, len, 1, i)) < 0)
			return (int)n;
		c->rr_name[i] = (uint32_t)n;
		struct name_info *ni = &c->names[n];
		ni->flags |= type_flag(r->type);
		ni->ncname += r->type == RRTYPE_CNAME;
		ni->ndname += r->type == RRTYPE_DNAME;
		ni->nsoa += r->type == RRTYPE_SOA;
		if ((dup = rr_dup(c, i)) >= 0) {
			name_text(ln, a, sizeof(a));
			warn_at(c, i, "duplicate record for '%s' (%s); it is served once",
				a, rrtype_to_text(r->type, b, sizeof(b)));
			continue;
		}
		struct rrset_info *s = &c->sets[set_get(c, (uint32_t)n, r->type, i)];
		if (r->ttl < s->min_ttl)
			s->min_ttl = r->ttl;
		if (r->ttl > s->max_ttl)
			s->max_ttl = r->ttl;
	}
	for (uint32_t i = 0; i < c->nrr; i++) {
		if (c->rr_name[i] != UINT32_MAX && zclass && c->rr[i].rclass != zclass) {
			char cl[16], zc[16];
			err_at(c, i, "record class %s differs from the zone's class %s",
			       rrclass_to_text(c->rr[i].rclass, cl, sizeof(cl)),
			       rrclass_to_text(zclass, zc, sizeof(zc)));
		}
	}
	return 0;
}

/* Highest ancestor strictly between the apex and ln (exclusive of both
 * ends unless `self`) that has flag f, or -1. */
static long ancestor_with(struct checker *c, const uint8_t *ln, uint16_t f, int self)
{
	int labels = dname_labels(ln), apex = dname_labels(c->origin);
	long found = -1;

	for (int keep = apex + 1; keep <= labels - (self ? 0 : 1); keep++) {
		const uint8_t *s = dname_suffix(ln, keep);
		long n = name_get(c, s, (size_t)dname_wire_len(s, DNAME_MAXLEN), 0, 0);
		if (n >= 0 && (c->names[n].flags & f)) {
			found = n;
			break;
		}
	}
	return found;
}

/* NS/MX/SRV targets: in-zone name servers need addresses (glue below a
 * cut, RFC 1034 4.2.1); targets should not be aliases (RFC 2181 10.3). */
static void check_targets(struct checker *c, uint32_t i, long cut)
{
	const struct zone_rr *r = &c->rr[i];
	const uint8_t *t = rdata_target(r->type, zone_rr_rdata(c->z, r), r->rdlen);
	uint8_t lt[DNAME_MAXLEN];
	char a[DNAME_TEXT_MAX], b[16];
	long n;

	if (!t || (r->type != RRTYPE_NS && r->type != RRTYPE_MX && r->type != RRTYPE_SRV))
		return;
	size_t len = dname_copy_lower(lt, t);
	if (!dname_is_subdomain(lt, c->origin) || (len == 1 && r->type != RRTYPE_NS))
		return;
	name_text(lt, a, sizeof(a));
	n = name_get(c, lt, len, 0, 0);
	if (n >= 0 && (c->names[n].flags & NF_CNAME)) {
		warn_at(c, i, "%s target '%s' is a CNAME (RFC 2181 10.3 forbids aliases here)",
			rrtype_to_text(r->type, b, sizeof(b)), a);
		return;
	}
	if (r->type != RRTYPE_NS || (n >= 0 && (c->names[n].flags & NF_ADDR)))
		return;
	if (cut >= 0 && dname_is_subdomain(lt, lname(c, (uint32_t)cut))) {
		err_at(c, i, "missing glue: name server '%s' lies below the delegation but has no A/AAAA record", a);
		return;
	}
	/* Below another zone cut, the address is that child zone's business
	 * (sibling glue is optional); in our own authoritative data it is not. */
	if (ancestor_with(c, lt, NF_NS, 1) < 0)
		err_at(c, i, "in-zone name server '%s' has no A/AAAA record", a);
}

static void check_apex(struct checker *c)
{
	char a[DNAME_TEXT_MAX];
	long n = name_get(c, c->origin, (size_t)dname_wire_len(c->origin, DNAME_MAXLEN), 0, 0);
	const struct name_info *ni = n >= 0 ? &c->names[n] : NULL;
	const char *file = c->nrr ? zone_file_name(c->z, c->rr[0].file) : NULL;

	name_text(c->origin, a, sizeof(a));
	if (!ni || !(ni->flags & NF_SOA))
		diag_error(c->d, file, 0, 0, "zone '%s' has no SOA record at its apex", a);
	if (!ni || !(ni->flags & NF_NS))
		diag_error(c->d, file, 0, 0, "zone '%s' has no NS records at its apex", a);
	if (!ni)
		return;
	if (ni->nsoa > 1)
		err_at(c, ni->first_rr, "zone '%s' has more than one SOA record", a);
	if (ni->flags & NF_CNAME)
		err_at(c, ni->first_rr, "CNAME at the zone apex '%s' (it would hide SOA and NS, RFC 1034 3.6.2)", a);
	if (!(ni->flags & NF_CAA))
		warn_at(c, ni->first_rr, "no CAA record at the apex '%s': any CA may issue certificates for it", a);
}

static void check_soa(struct checker *c, uint32_t i)
{
	const struct zone_rr *r = &c->rr[i];
	const uint8_t *rd = zone_rr_rdata(c->z, r);
	uint32_t v[5];
	int l1 = dname_wire_len(rd, r->rdlen), l2;

	if (l1 < 0 || (l2 = dname_wire_len(rd + l1, r->rdlen - (size_t)l1)) < 0 ||
	    (size_t)(l1 + l2 + 20) != r->rdlen)
		return;
	for (int k = 0; k < 5; k++) {
		const uint8_t *p = rd + l1 + l2 + 4 * k;
		v[k] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	}
	if (v[4] > SOA_MINIMUM_MAX)
		warn_at(c, i, "SOA minimum (negative-caching TTL) %u is above one day (RFC 2308 suggests 1-3 hours)", v[4]);
	if (v[2] >= v[1])
		warn_at(c, i, "SOA retry is not below refresh");
	if (v[3] <= v[1] + v[2])
		warn_at(c, i, "SOA expire is not above refresh + retry: secondaries will expire the zone");
}

/* Pass 2: rules between records of one name and its ancestors. */
static void check_names(struct checker *c)
{
	char a[DNAME_TEXT_MAX], b[DNAME_TEXT_MAX];
	const uint8_t *apex = c->origin;

	for (uint32_t n = 0; n < c->nnames; n++) {
		const struct name_info *ni = &c->names[n];
		const uint8_t *ln = lname(c, n);
		int is_apex = dname_equal(ln, apex);
		long up;

		if ((ni->flags & NF_CNAME) &&
		    (ni->flags & (NF_SOA | NF_NS | NF_DNAME | NF_ADDR | NF_OTHER)) && !is_apex)
			err_at(c, ni->first_rr, "CNAME at '%s' beside other data (RFC 1034 3.6.2, RFC 2181 10.1)", TEXT(ln, a));
		if (ni->ncname > 1)
			err_at(c, ni->first_rr, "more than one CNAME at '%s' (RFC 2181 10.1)", TEXT(ln, a));
		if (ni->ndname > 1)
			err_at(c, ni->first_rr, "more than one DNAME at '%s' (RFC 6672 2.4)", TEXT(ln, a));
		if ((ni->flags & NF_SOA) && !is_apex)
			err_at(c, ni->first_rr, "SOA record at '%s', which is not the zone apex", TEXT(ln, a));
		if (dname_is_wildcard(ln) && (ni->flags & NF_NS))
			warn_at(c, ni->first_rr, "NS records at wildcard '%s' (RFC 4592 4.2: wildcard delegations do not work)", TEXT(ln, a));
		if (dname_is_wildcard(ln) && (ni->flags & NF_DNAME))
			warn_at(c, ni->first_rr, "DNAME at wildcard '%s' (RFC 4592 4.4 discourages it)", TEXT(ln, a));
		if (is_apex)
			continue;
		if ((up = ancestor_with(c, ln, NF_DNAME, 0)) >= 0) {
			name_text(lname(c, (uint32_t)up), b, sizeof(b));
			err_at(c, ni->first_rr, "'%s' lies below the DNAME at '%s' (RFC 6672 2.3 forbids data there)", TEXT(ln, a), b);
		}
		if ((up = ancestor_with(c, ln, NF_NS, 0)) >= 0 &&
		    (ni->flags & ~NF_ADDR)) {
			name_text(lname(c, (uint32_t)up), b, sizeof(b));
			warn_at(c, ni->first_rr, "'%s' lies below the delegation at '%s': only its A/AAAA glue is served", TEXT(ln, a), b);
		}
	}
}

static void check_records(struct checker *c)
{
	for (uint32_t i = 0; i < c->nrr; i++) {
		const struct zone_rr *r = &c->rr[i];
		uint32_t n = c->rr_name[i];
		long cut;

		if (n == UINT32_MAX)
			continue;
		if (r->type == RRTYPE_SOA && dname_equal(lname(c, n), c->origin))
			check_soa(c, i);
		if (r->type != RRTYPE_NS && r->type != RRTYPE_MX && r->type != RRTYPE_SRV)
			continue;
		cut = -1;
		if (r->type == RRTYPE_NS && !dname_equal(lname(c, n), c->origin))
			cut = n;
		check_targets(c, i, cut);
	}
}

static int is_policy_name(const struct checker *c, const uint8_t *ln)
{
	for (size_t i = 0; c->o && i < c->o->policy_name_count; i++)
		if (dname_equal(c->o->policy_names[i], ln))
			return 1;
	return 0;
}

/* Pass 3: RRset-wide lint. */
static void check_rrsets(struct checker *c)
{
	char a[DNAME_TEXT_MAX], b[96];
	uint32_t max = c->o && c->o->policy_ttl_max ? c->o->policy_ttl_max : 300;

	for (uint32_t k = 0; k < c->nsets; k++) {
		const struct rrset_info *s = &c->sets[k];
		char t[16];
		if (s->type == RRTYPE_RRSIG)
			continue;
		if (s->min_ttl != s->max_ttl) {
			name_text(lname(c, s->name), a, sizeof(a));
			snprintf(b, sizeof(b), "%s (%u..%u); all are served with %u",
				 rrtype_to_text(s->type, t, sizeof(t)), s->min_ttl,
				 s->max_ttl, s->min_ttl);
			warn_at(c, s->first_rr, "TTLs differ inside the RRset '%s' %s (RFC 2181 5.2)", a, b);
		}
		if (s->max_ttl > max && is_policy_name(c, lname(c, s->name))) {
			name_text(lname(c, s->name), a, sizeof(a));
			snprintf(b, sizeof(b), "%u > %u", s->max_ttl, max);
			warn_at(c, s->first_rr, "high TTL on '%s', which carries a traffic policy (%s): resolvers keep stale choices", a, b);
		}
	}
}

int zone_check(const struct zone *z, const struct zone_check_opts *opts,
	       struct diag *d)
{
	struct diag quiet;
	struct checker c = { .z = z, .o = opts,
			     .d = d ? d : (diag_init(&quiet, NULL), &quiet) };
	unsigned errors = c.d->errors;
	int ret = P53_ENOMEM;

	c.rr = zone_rrs(z, &c.nrr);
	if (!(c.origin = zone_origin(z))) {
		diag_error(c.d, NULL, 0, 0, "zone has no origin: no SOA record and no $ORIGIN/--origin");
		return P53_EZONE;
	}
	if (c.nrr >= UINT32_MAX / 2)
		return P53_ERANGE;
	size_t owner_bytes = 0;
	for (size_t i = 0; i < c.nrr; i++)
		owner_bytes += (size_t)dname_wire_len(zone_rr_owner(z, &c.rr[i]), DNAME_MAXLEN);
	if (owner_bytes >= UINT32_MAX)
		return P53_ERANGE;
	c.lnames = malloc(owner_bytes + 1);
	c.names = malloc((c.nrr + 1) * sizeof(*c.names));
	c.sets = malloc((c.nrr + 1) * sizeof(*c.sets));
	c.rr_name = malloc((c.nrr + 1) * sizeof(*c.rr_name));
	if (!c.lnames || !c.names || !c.sets || !c.rr_name ||
	    itab_init(&c.name_tab, c.nrr) < 0 || itab_init(&c.set_tab, c.nrr) < 0 ||
	    itab_init(&c.rr_tab, c.nrr) < 0)
		goto fail;
	if ((ret = index_records(&c)) < 0)
		goto fail;
	check_apex(&c);
	check_names(&c);
	check_records(&c);
	check_rrsets(&c);
	ret = c.d->errors > errors ? P53_EZONE : 0;
fail:
	free(c.lnames);
	free(c.names);
	free(c.sets);
	free(c.rr_name);
	free(c.name_tab.slot);
	free(c.set_tab.slot);
	free(c.rr_tab.slot);
	return ret;
}
