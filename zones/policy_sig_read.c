/*
 * policy_sig_read.c — open a policy signature blob (validated completely,
 * it arrives with a push) and find signatures on the query path.
 */
#include <stdlib.h>
#include <string.h>

#include "blob_check.h"
#include "diag.h"
#include "dname.h"
#include "error.h"
#include "policy_sig.h"
#include "policy_sig_format.h"
#include "rdata.h"

struct policy_sig {
	const uint8_t *b;
	const struct psig_header *h;
	const struct psig_record *recs;
	const struct psig_set *sets;
	const uint32_t *eps;
};

struct vctx {
	const uint8_t *b;
	uint64_t size;
	const struct psig_header *h;
	const struct policy *p;
	struct diag *d;
};

/* The validator's refusal: an error naming the section, P53_EFORMAT. */
#define bad(v, ...) diag_format_error((v)->d, "policy signatures", __VA_ARGS__)

static bool table_ok(const struct vctx *v, uint32_t off, uint32_t n, size_t size)
{
	return blob_table_ok(v->size, sizeof(struct psig_header), off, n, size);
}

static bool in_data(const struct vctx *v, uint32_t off, uint64_t len)
{
	return blob_in(v->h->data, v->h->data_len, off, len);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* count RRs of type in wire form fill exactly [off, off + len) of the data. */
static bool wire_ok(const struct vctx *v, uint32_t off, uint32_t len, uint32_t count,
		    uint16_t type)
{
	const uint8_t *p = v->b + off, *end = p + len;

	if (!count || !in_data(v, off, len))
		return false;
	for (uint32_t i = 0; i < count; i++) {
		if (end - p < 12 || p[0] != 0xc0 || p[1] != 0x0c || get16(p + 2) != type ||
		    get16(p + 10) > end - p - 12)
			return false;
		p += 12 + get16(p + 10);
	}
	return p == end;
}

static int check_header(struct vctx *v, size_t len)
{
	const struct psig_header *h = v->h;

	if (len < sizeof(*h) || memcmp(h->magic, PSIG_MAGIC, 8))
		return bad(v, "not a policy signature blob");
	if (h->version_major != PSIG_VERSION_MAJOR) {
		bad(v, "version %u.%u, this build reads %u.x", h->version_major,
		    h->version_minor, PSIG_VERSION_MAJOR);
		return P53_EVERSION;
	}
	if (h->size != len)
		return bad(v, "size %u, the section holds %zu bytes", h->size, len);
	if (h->nrecords != policy_record_count(v->p))
		return bad(v, "signatures for %u records, the policy has %u", h->nrecords,
			   policy_record_count(v->p));
	if (!table_ok(v, h->records, h->nrecords, sizeof(struct psig_record)) ||
	    !table_ok(v, h->sets, h->nsets, sizeof(struct psig_set)) ||
	    !table_ok(v, h->eps, h->neps, sizeof(uint32_t)) ||
	    (uint64_t)h->data + h->data_len > len || h->data < sizeof(*h))
		return bad(v, "a table lies outside the blob");
	return 0;
}

static int check_set(struct vctx *v, uint32_t ri, const struct psig_set *s,
		     const struct psig_set *prev)
{
	const uint32_t *eps = (const uint32_t *)(const void *)(v->b + v->h->eps);

	if (!s->neps || s->neps > POLICY_MAX_ANSWER || (uint64_t)s->eps + s->neps > v->h->neps)
		return bad(v, "record %u: a set's endpoints lie outside the table", ri);
	for (uint32_t i = 0; i < s->neps; i++)
		if (eps[s->eps + i] >= policy_endpoint_count(v->p) ||
		    (i && eps[s->eps + i] <= eps[s->eps + i - 1]))
			return bad(v, "record %u: a set's endpoints are unknown or unsorted", ri);
	if (s->hash != psig_hash(eps + s->eps, s->neps))
		return bad(v, "record %u: a set's hash is wrong", ri);
	if (prev && prev->hash > s->hash)
		return bad(v, "record %u: sets out of order", ri);
	if (!wire_ok(v, s->sig, s->sig_len, s->nsig, RRTYPE_RRSIG))
		return bad(v, "record %u: a set's RRSIGs are malformed", ri);
	return 0;
}

static int check_record(struct vctx *v, uint32_t ri)
{
	const struct psig_record *r =
		(const struct psig_record *)(const void *)(v->b + v->h->records) + ri;
	const struct psig_set *sets = (const struct psig_set *)(const void *)(v->b + v->h->sets);
	int err;

	if (r->flags & ~PSIG_SIGNED || (!(r->flags & PSIG_SIGNED) && (r->count || r->name_len)))
		return bad(v, "record %u: signatures for a record of an unsigned zone", ri);
	if ((uint64_t)r->first + r->count > v->h->nsets)
		return bad(v, "record %u: its sets lie outside the table", ri);
	for (uint32_t i = 0; i < r->count; i++)
		if ((err = check_set(v, ri, &sets[r->first + i],
				     i ? &sets[r->first + i - 1] : NULL)) < 0)
			return err;
	if (!r->name_len)
		return 0;
	if (!in_data(v, r->name, r->name_len) ||
	    dname_wire_len(v->b + r->name, r->name_len) != r->name_len)
		return bad(v, "record %u: the denial's owner is not a name", ri);
	if (!wire_ok(v, r->nsec, r->nsec_len, 1, RRTYPE_NSEC) &&
	    !wire_ok(v, r->nsec, r->nsec_len, 1, RRTYPE_NSEC3))
		return bad(v, "record %u: the denial is not one NSEC or NSEC3", ri);
	if (!wire_ok(v, r->sig, r->sig_len, r->nsig, RRTYPE_RRSIG))
		return bad(v, "record %u: the denial's RRSIGs are malformed", ri);
	return 0;
}

int policy_sig_open(const void *blob, size_t len, const struct policy *p, struct diag *d,
		    struct policy_sig **out)
{
	struct vctx v = { .b = blob, .size = len, .h = blob, .p = p, .d = d };
	struct policy_sig *ps;
	int err;

	*out = NULL;
	if (!blob || !p || (uintptr_t)blob % 8)
		return P53_EINVAL;
	if ((err = check_header(&v, len)) < 0)
		return err;
	for (uint32_t ri = 0; ri < v.h->nrecords; ri++)
		if ((err = check_record(&v, ri)) < 0)
			return err;
	if (!(ps = calloc(1, sizeof(*ps))))
		return P53_ENOMEM;
	ps->b = blob;
	ps->h = v.h;
	ps->recs = (const struct psig_record *)(const void *)(ps->b + v.h->records);
	ps->sets = (const struct psig_set *)(const void *)(ps->b + v.h->sets);
	ps->eps = (const uint32_t *)(const void *)(ps->b + v.h->eps);
	*out = ps;
	return 0;
}

void policy_sig_close(struct policy_sig *ps)
{
	free(ps);
}

bool policy_sig_signed(const struct policy_sig *ps, uint32_t ri)
{
	return ri < ps->h->nrecords && (ps->recs[ri].flags & PSIG_SIGNED);
}

bool policy_sig_find(const struct policy_sig *ps, uint32_t ri, const uint32_t *eps,
		     uint32_t n, struct policy_sig_rrs *out)
{
	const struct psig_record *r;
	uint64_t h = psig_hash(eps, n);
	uint32_t lo, hi;

	if (ri >= ps->h->nrecords)
		return false;
	r = &ps->recs[ri];
	lo = r->first;
	hi = r->first + r->count;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (ps->sets[mid].hash < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < r->first + r->count && ps->sets[lo].hash == h; lo++) {
		const struct psig_set *s = &ps->sets[lo];
		if (s->neps == n && !memcmp(ps->eps + s->eps, eps, n * sizeof(*eps))) {
			*out = (struct policy_sig_rrs){ ps->b + s->sig, s->sig_len, s->nsig };
			return true;
		}
	}
	return false;
}

bool policy_sig_denial(const struct policy_sig *ps, uint32_t ri, const uint8_t **name,
		       uint32_t *name_len, struct policy_sig_rrs *nsec,
		       struct policy_sig_rrs *sigs)
{
	const struct psig_record *r;

	if (ri >= ps->h->nrecords || !ps->recs[ri].name_len)
		return false;
	r = &ps->recs[ri];
	*name = ps->b + r->name;
	*name_len = r->name_len;
	*nsec = (struct policy_sig_rrs){ ps->b + r->nsec, r->nsec_len, 1 };
	*sigs = (struct policy_sig_rrs){ ps->b + r->sig, r->sig_len, r->nsig };
	return true;
}
