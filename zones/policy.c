/*
 * policy.c — open a compiled policy blob: validate every byte the
 * evaluation will read, then hand out read-only views of it.
 *
 * The blob comes from a push over the network, so it is treated as
 * hostile: every offset, count and index is checked with 64-bit arithmetic
 * before anything dereferences it, and the tree rules of policy_format.h
 * (children after parents, one parent each, member ranges in node order)
 * are checked so that evaluation work is bounded by the record's tree.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blob_check.h"
#include "diag.h"
#include "dname.h"
#include "error.h"
#include "geo.h"
#include "policy.h"
#include "policy_format.h"
#include "rdata.h"

struct vctx {
	const uint8_t *b;
	uint64_t size;
	const struct pol_header *h;
	struct policy *p;
	struct diag *d;
};

/* The validator's refusal: an error naming the section, P53_EFORMAT. */
#define bad(v, ...) diag_format_error((v)->d, "policy blob", __VA_ARGS__)

static bool section_ok(const struct vctx *v, uint32_t off, uint32_t n, size_t size)
{
	return blob_table_ok(v->size, sizeof(struct pol_header), off, n, size);
}

static bool in_data(const struct vctx *v, uint32_t off, uint64_t len)
{
	return blob_in(v->h->data, v->h->data_len, off, len);
}

static bool str_ok(const struct vctx *v, const struct pol_str *s, bool nonempty)
{
	if (!in_data(v, s->off, (uint64_t)s->len + 1) || v->b[s->off + s->len] != 0)
		return false;
	return !memchr(v->b + s->off, 0, s->len) && (!nonempty || s->len > 0);
}

static int check_header(struct vctx *v)
{
	const struct pol_header *h = v->h;

	if (v->size < sizeof(*h))
		return bad(v, "shorter than its header (%llu bytes)", (unsigned long long)v->size);
	if (memcmp(h->magic, POL_MAGIC, 8))
		return bad(v, "not a policy blob (bad magic)");
	if (h->version_major != POL_VERSION_MAJOR) {
		diag_error(v->d, "policy blob", 0, 0, "format version %u.%u, this reader knows %u.x",
			   h->version_major, h->version_minor, POL_VERSION_MAJOR);
		return P53_EVERSION;
	}
	if (h->size != v->size)
		return bad(v, "size %u in the header, %llu bytes given", h->size,
			   (unsigned long long)v->size);
	if (h->nrecords > POLICY_MAX_RECORDS || h->nchecks > POLICY_MAX_CHECKS ||
	    h->nregions > POLICY_MAX_REGIONS)
		return bad(v, "more records, checks or regions than allowed");
	if (!section_ok(v, h->records, h->nrecords, sizeof(struct pol_record)) ||
	    !section_ok(v, h->nodes, h->nnodes, sizeof(struct pol_node)) ||
	    !section_ok(v, h->members, h->nmembers, sizeof(struct pol_member)) ||
	    !section_ok(v, h->endpoints, h->nendpoints, sizeof(struct pol_endpoint)) ||
	    !section_ok(v, h->checks, h->nchecks, sizeof(struct pol_check)) ||
	    !section_ok(v, h->refs, h->nrefs, sizeof(uint32_t)) ||
	    !section_ok(v, h->regions, h->nregions, sizeof(struct pol_str)) ||
	    (h->data_len && (h->data < sizeof(*h) || (uint64_t)h->data + h->data_len > v->size)))
		return bad(v, "a section lies outside the blob or is misaligned");
	return 0;
}

static bool txt_ok(const uint8_t *r, uint32_t len)
{
	uint32_t i = 0;

	while (i < len)
		i += 1u + r[i];
	return len > 0 && i == len;
}

static int check_endpoints(struct vctx *v)
{
	for (uint32_t i = 0; i < v->h->nendpoints; i++) {
		const struct pol_endpoint *e = &v->p->eps[i];
		const uint8_t *r = v->b + e->rdata;
		bool ok = in_data(v, e->rdata, e->rdlen);

		if (ok && e->type == RRTYPE_A)
			ok = e->rdlen == 4;
		else if (ok && e->type == RRTYPE_AAAA)
			ok = e->rdlen == 16;
		else if (ok && (e->type == RRTYPE_CNAME || e->type == POLICY_ALIAS))
			ok = dname_wire_len(r, e->rdlen) == (int)e->rdlen;
		else if (ok && e->type == RRTYPE_TXT)
			ok = txt_ok(r, e->rdlen);
		else
			ok = false;
		if (!ok)
			return bad(v, "endpoint %u: bad type or RDATA", i);
	}
	return 0;
}

static int check_one_check(struct vctx *v, uint32_t i, const struct pol_check *c)
{
	const char *what = NULL;

	if (!str_ok(v, &c->name, true) || !str_ok(v, &c->target, false) ||
	    !str_ok(v, &c->host, false) || !str_ok(v, &c->path, false) ||
	    !str_ok(v, &c->body, false))
		what = "a string";
	else if (c->type > POLICY_CHECK_CALCULATED || c->op > POLICY_OP_AT_LEAST)
		what = "type or op";
	else if (c->type == POLICY_CHECK_CALCULATED) {
		if (!c->nrefs || c->refs > v->h->nrefs || c->nrefs > v->h->nrefs - c->refs ||
		    (c->op == POLICY_OP_AT_LEAST && (c->n < 1 || c->n > c->nrefs)) || c->level < 1)
			what = "members";
		for (uint32_t j = 0; !what && j < c->nrefs; j++) {
			uint32_t m = v->p->refs[c->refs + j];
			if (m >= v->h->nchecks || v->p->checks[m].level >= c->level)
				what = "a member (unknown, or a cycle)";
		}
	} else if (c->level || c->nrefs || !c->port || !c->target.len || c->fall < 1 ||
		   c->fall > 100 || c->rise < 1 || c->rise > 100 || c->quorum < 1 ||
		   c->quorum > 100 || (c->type == POLICY_CHECK_TCP ? c->status_hi != 0 :
		   c->status_lo < 100 || c->status_hi > 599) ||
		   c->status_lo > c->status_hi || !c->interval_ms || !c->timeout_ms ||
		   c->timeout_ms > c->interval_ms) {
		what = "parameters";
	}
	return what ? bad(v, "check %u: bad %s", i, what) : 0;
}

static int check_checks(struct vctx *v)
{
	int ret;

	for (uint32_t i = 0; i < v->h->nchecks; i++)
		if ((ret = check_one_check(v, i, &v->p->checks[i])) < 0)
			return ret;
	for (uint32_t i = 0; i < v->h->nregions; i++)
		if (!str_ok(v, &v->p->regions[i], true))
			return bad(v, "region %u: bad name", i);
	return 0;
}

/* Names are compared as length-prefixed byte strings: any total order
 * works for the binary search as long as writer and reader agree. */
static int rec_cmp(const uint8_t *an, uint16_t al, uint16_t at, const uint8_t *bn, uint16_t bl,
		   uint16_t bt)
{
	int c = memcmp(an, bn, al < bl ? al : bl);

	if (c)
		return c;
	if (al != bl)
		return al < bl ? -1 : 1;
	return (at > bt) - (at < bt);
}

static bool type_fits(uint16_t rec, uint16_t ep)
{
	if (rec == RRTYPE_A || rec == RRTYPE_AAAA)
		return ep == rec || ep == RRTYPE_CNAME || ep == POLICY_ALIAS;
	return ep == rec;
}

static bool upper(char c) { return c >= 'A' && c <= 'Z'; }
static bool alnum(char c) { return upper(c) || (c >= '0' && c <= '9'); }

/* Continent or country: two letters; subdivision: a country, then one to
 * three of [A-Z0-9]; default: nothing. Unused bytes are zero. */
static bool loc_ok(const struct pol_member *m)
{
	size_t used;

	switch (m->loc_kind) {
	case POL_LOC_DEFAULT:
		used = 0;
		break;
	case POL_LOC_CONTINENT:
	case POL_LOC_COUNTRY:
		used = 2;
		break;
	case POL_LOC_SUBDIVISION:
		used = m->loc[3] ? (m->loc[4] ? 5 : 4) : 3;
		for (size_t i = 2; i < used; i++)
			if (!alnum(m->loc[i]))
				return false;
		break;
	default:
		return false;
	}
	if (used && (!upper(m->loc[0]) || !upper(m->loc[1])))
		return false;
	for (size_t i = used; i < sizeof(m->loc); i++)
		if (m->loc[i])
			return false;
	return true;
}

/* The unit vector must be the one of (lat, lon): the evaluation trusts it. */
static bool coords_ok(const struct pol_member *m)
{
	double la, lo, want[3];

	if (m->lat_e6 < -90000000 || m->lat_e6 > 90000000 || m->lon_e6 < -180000000 ||
	    m->lon_e6 > 180000000)
		return false;
	la = m->lat_e6 * 1e-6 * M_PI / 180;
	lo = m->lon_e6 * 1e-6 * M_PI / 180;
	want[0] = cos(la) * cos(lo);
	want[1] = cos(la) * sin(lo);
	want[2] = sin(la);
	for (int k = 0; k < 3; k++)
		if (fabs(want[k] * (1 << 30) - m->vec[k]) > 64)
			return false;
	return true;
}

static const char *member_problem(const struct vctx *v, const struct pol_record *r,
				  const struct pol_node *n, uint32_t ni, uint32_t mi, bool lr)
{
	const struct pol_member *m = &v->p->mem[mi];

	if (m->kind == POL_MEM_NODE) {
		if (lr || m->target <= ni || m->target >= r->root + r->node_count)
			return "a nested policy outside the record's tree";
		if (v->p->nodes[m->target].parent_member != mi ||
		    v->p->nodes[m->target].depth != n->depth + 1)
			return "a nested policy with another parent or depth";
	} else if (m->kind != POL_MEM_ENDPOINT || m->target >= v->h->nendpoints ||
		   !type_fits(r->type, v->p->eps[m->target].type)) {
		return "a bad endpoint";
	}
	if ((m->check != POL_NONE && m->check >= v->h->nchecks) || (lr && m->check != POL_NONE))
		return "a bad check";
	if (m->weight > POLICY_MAX_WEIGHT || m->bias < -99 || m->bias > 99 ||
	    m->flags & ~POL_MEM_COORDS)
		return "a bad weight, bias or flag";
	if ((m->region != POL_NONE && m->region >= v->h->nregions) ||
	    (n->kind == POL_LATENCY && !lr && m->region == POL_NONE))
		return "a bad region";
	if ((m->flags & POL_MEM_COORDS) ? !coords_ok(m) : (n->kind == POL_GEOPROXIMITY && !lr))
		return "bad coordinates";
	if (n->kind == POL_GEOLOCATION && !lr ? !loc_ok(m) : m->loc_kind != POL_LOC_NONE)
		return "a bad location";
	return NULL;
}

static const char *node_problem(const struct pol_record *r, const struct pol_node *n,
				uint32_t ni, uint32_t cursor)
{
	bool root = ni == r->root;

	if (n->kind >= POL_KIND_COUNT || n->flags & ~(POL_NODE_FAIL_OPEN | POL_NODE_FALLBACK))
		return "bad kind or flags";
	if (n->depth < 1 || n->depth > POLICY_MAX_DEPTH || root != (n->depth == 1) ||
	    root != (n->parent_member == POL_NONE))
		return "bad depth or parent";
	if (n->count < 1 || n->count > POLICY_MAX_MEMBERS || n->first != cursor ||
	    n->lr_first != cursor + n->count || (n->lr_count && n->kind != POL_FAILOVER) ||
	    n->lr_count > POLICY_MAX_ANSWER)
		return "bad member range";
	if ((n->kind == POL_WEIGHTED || n->kind == POL_MULTIVALUE) ?
	    (n->pick < 1 || n->pick > POLICY_MAX_ANSWER || (n->kind == POL_WEIGHTED && n->pick > n->count)) :
	    n->pick != 0)
		return "bad pick";
	return NULL;
}

/* The nodes of record ri; *cursor walks the member array in node order. */
static int check_tree(struct vctx *v, uint32_t ri, uint32_t *cursor)
{
	const struct pol_record *r = &v->p->recs[ri];
	uint64_t total = 0;

	for (uint32_t ni = r->root; ni < r->root + r->node_count; ni++) {
		const struct pol_node *n = &v->p->nodes[ni];
		const char *why = node_problem(r, n, ni, *cursor);
		uint64_t end = (uint64_t)n->first + n->count + n->lr_count;

		if (!why && end > v->h->nmembers)
			why = "members outside the table";
		for (uint32_t mi = n->first; !why && mi < end; mi++)
			why = member_problem(v, r, n, ni, mi, mi >= n->first + n->count);
		if (why)
			return bad(v, "record %u, node %u: %s", ri, ni, why);
		*cursor = (uint32_t)end;
		if ((total += n->count + n->lr_count) > POLICY_MAX_TREE)
			return bad(v, "record %u: more than %u members", ri, POLICY_MAX_TREE);
	}
	return 0;
}

static int check_record(struct vctx *v, uint32_t i, uint32_t next_root)
{
	const struct pol_record *r = &v->p->recs[i];
	const uint8_t *name = v->b + r->name;

	if (!in_data(v, r->name, r->name_len) || dname_wire_len(name, r->name_len) != r->name_len)
		return bad(v, "record %u: bad name", i);
	for (uint32_t k = 0; k < r->name_len; k++)
		if (name[k] >= 'A' && name[k] <= 'Z')
			return bad(v, "record %u: name not lower-cased", i);
	if (r->type != RRTYPE_A && r->type != RRTYPE_AAAA && r->type != RRTYPE_CNAME &&
	    r->type != RRTYPE_TXT)
		return bad(v, "record %u: type %u", i, r->type);
	if (r->ttl > INT32_MAX || r->flags & ~POL_REC_CLIENT)
		return bad(v, "record %u: bad TTL or flags", i);
	if (r->root != next_root || !r->node_count || r->node_count > v->h->nnodes - r->root)
		return bad(v, "record %u: its tree does not follow the previous one", i);
	if (i > 0) {
		const struct pol_record *q = &v->p->recs[i - 1];
		if (rec_cmp(v->b + q->name, q->name_len, q->type, name, r->name_len, r->type) >= 0)
			return bad(v, "records not sorted (record %u)", i);
	}
	return 0;
}

/* The engine locates the client only for records flagged as depending on
 * it: a flag that disagrees with the tree would answer unlocated. */
static int check_client_flag(struct vctx *v, uint32_t i)
{
	const struct pol_record *r = &v->p->recs[i];
	bool client = false;

	for (uint32_t k = r->root; k < r->root + r->node_count; k++) {
		uint8_t kind = v->p->nodes[k].kind;

		client |= kind == POL_LATENCY || kind == POL_GEOLOCATION ||
			  kind == POL_GEOPROXIMITY;
	}
	if (client != !!(r->flags & POL_REC_CLIENT))
		return bad(v, "record %u: client flag does not match its policies", i);
	return 0;
}

static int check_records(struct vctx *v)
{
	uint32_t next_root = 0, cursor = 0;
	int ret;

	for (uint32_t i = 0; i < v->h->nrecords; i++) {
		if ((ret = check_record(v, i, next_root)) < 0 ||
		    (ret = check_tree(v, i, &cursor)) < 0 ||
		    (ret = check_client_flag(v, i)) < 0)
			return ret;
		next_root += v->p->recs[i].node_count;
	}
	if (next_root != v->h->nnodes || cursor != v->h->nmembers)
		return bad(v, "nodes or members that no record owns");
	return 0;
}

static void set_sections(struct policy *p, const uint8_t *b, const struct pol_header *h)
{
	p->h = h;
	p->recs = (const void *)(b + h->records);
	p->nodes = (const void *)(b + h->nodes);
	p->mem = (const void *)(b + h->members);
	p->eps = (const void *)(b + h->endpoints);
	p->checks = (const void *)(b + h->checks);
	p->refs = (const void *)(b + h->refs);
	p->regions = (const void *)(b + h->regions);
}

/* Members' locations as packed codes, so that matching a client is a
 * compare of words. A location loc_ok accepted that geo_loc_pack does not
 * know (a continent outside the seven) is a format error. */
static int member_locations(struct vctx *v)
{
	struct policy *p = v->p;

	if (!(p->mloc = calloc(v->h->nmembers ? v->h->nmembers : 1, sizeof(*p->mloc))))
		return P53_ENOMEM;
	for (uint32_t i = 0; i < v->h->nmembers; i++) {
		const struct pol_member *m = &p->mem[i];
		char a[3] = { 0 }, b[3] = { 0 }, c[4] = { 0 };
		int ret = 0;

		if (m->loc_kind == POL_LOC_CONTINENT) {
			memcpy(a, m->loc, 2);
		} else if (m->loc_kind == POL_LOC_COUNTRY || m->loc_kind == POL_LOC_SUBDIVISION) {
			memcpy(b, m->loc, 2);
			memcpy(c, m->loc + 2, 3);
		} else {
			continue;
		}
		if ((ret = geo_loc_pack(a, b, c, &p->mloc[i])) < 0)
			return bad(v, "member %u: unknown location", i);
	}
	return 0;
}

/* ---- prefetch ----------------------------------------------------------- */

void policy_prefetch_span(const struct policy *p, uint32_t ri)
{
	/* the block's start and end: usually one line */
	if (ri < p->h->nrecords) {
		__builtin_prefetch(&p->cat[ri]);
		__builtin_prefetch(&p->cat[ri + 1]);
	}
}

void policy_prefetch(const struct policy *p, uint32_t ri)
{
	const uint8_t *at;
	uint32_t len, max = POL_PREFETCH_MAX;

	if (ri >= p->h->nrecords)
		return;
	at = (const uint8_t *)policy_block(p, ri);
	len = policy_block_len(p, ri);
	/* a quick answer reads its own lines, at the front; the rest only
	 * when a check it reads is down */
	if (p->cat[ri] & POL_CAT_QUICK)
		max = POL_PREFETCH_QUICK;
	for (uint32_t o = 0; o < len && o < max; o += POL_LINE)
		__builtin_prefetch(at + o);
}

int policy_open(const void *blob, size_t len, struct diag *d, struct policy **out)
{
	struct vctx v = { .b = blob, .size = len, .h = blob, .d = d };
	int ret;

	*out = NULL;
	if (!blob || (uintptr_t)blob % 8)
		return P53_EINVAL;
	if (len > UINT32_MAX)
		return bad(&v, "larger than 4 GiB");
	if ((ret = check_header(&v)) < 0)
		return ret;
	if (!(v.p = calloc(1, sizeof(*v.p))))
		return P53_ENOMEM;
	v.p->b = blob;
	v.p->len = len;
	set_sections(v.p, blob, v.h);
	if ((ret = check_endpoints(&v)) < 0 || (ret = check_checks(&v)) < 0 ||
	    (ret = check_records(&v)) < 0 || (ret = member_locations(&v)) < 0)
		goto fail;
	if ((ret = policy_compact_build(v.p)) < 0)
		goto fail;
	free(v.p->mloc);
	v.p->mloc = NULL;
	*out = v.p;
	return 0;
fail:
	policy_close(v.p);
	return ret;
}

void policy_close(struct policy *p)
{
	if (p) {
		free(p->cb);
		free(p->cat);
		free(p->mloc);
	}
	free(p);
}

/* ---- accessors ------------------------------------------------------------ */

uint32_t policy_record_count(const struct policy *p) { return p->h->nrecords; }
uint32_t policy_endpoint_count(const struct policy *p) { return p->h->nendpoints; }
uint32_t policy_check_count(const struct policy *p) { return p->h->nchecks; }
uint32_t policy_region_count(const struct policy *p) { return p->h->nregions; }

void policy_record_get(const struct policy *p, uint32_t i, struct policy_record *out)
{
	const struct pol_record *r = &p->recs[i];

	out->name = p->b + r->name;
	out->name_len = r->name_len;
	out->type = r->type;
	out->ttl = r->ttl;
	out->client = r->flags & POL_REC_CLIENT;
}

void policy_record_brief(const struct policy *p, uint32_t i, struct policy_record *out)
{
	const struct pol_crec *r = policy_block(p, i);

	out->name = NULL;
	out->name_len = 0;
	out->type = r->type;
	out->ttl = r->ttl;
	out->client = r->flags & POL_REC_CLIENT;
}

bool policy_record_client(const struct policy *p, uint32_t i)
{
	return p->cat[i] & POL_CAT_CLIENT;
}

int policy_find(const struct policy *p, const uint8_t *name, size_t len, uint16_t type)
{
	uint32_t lo = 0, hi = p->h->nrecords;

	if (len > DNAME_MAXLEN)
		return P53_ENOTFOUND;
	while (lo < hi) {   /* first record >= (name, type) */
		uint32_t mid = lo + (hi - lo) / 2;
		const struct pol_record *r = &p->recs[mid];
		if (rec_cmp(p->b + r->name, r->name_len, r->type, name, (uint16_t)len, type) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < p->h->nrecords) {
		const struct pol_record *r = &p->recs[lo];
		if (r->name_len == len && !memcmp(p->b + r->name, name, len) &&
		    (type == 0 || r->type == type))
			return (int)lo;
	}
	return P53_ENOTFOUND;
}

void policy_output_endpoint(const struct policy *p, const struct policy_output *out, uint32_t i,
			    struct policy_endpoint *ep)
{
	const struct pol_cep *c = (const struct pol_cep *)(out->rec + (size_t)out->at[i] * 4);
	uint32_t off;

	ep->type = c->type;
	ep->rdlen = c->rdlen;
	if (c->rdlen <= POL_CEP_INLINE) {
		ep->rdata = (const uint8_t *)(c + 1);
		return;
	}
	memcpy(&off, c + 1, 4);
	ep->rdata = p->b + off;
}

void policy_endpoint_get(const struct policy *p, uint32_t i, struct policy_endpoint *out)
{
	const struct pol_endpoint *e = &p->eps[i];

	out->type = e->type;
	out->rdlen = e->rdlen;
	out->rdata = p->b + e->rdata;
}

static const char *str_at(const struct policy *p, const struct pol_str *s)
{
	return (const char *)p->b + s->off;
}

void policy_check_get(const struct policy *p, uint32_t i, struct policy_check *out)
{
	const struct pol_check *c = &p->checks[i];

	*out = (struct policy_check){
		.name = str_at(p, &c->name), .type = c->type, .target = str_at(p, &c->target),
		.port = c->port, .host = str_at(p, &c->host), .path = str_at(p, &c->path),
		.status_lo = c->status_lo, .status_hi = c->status_hi, .body = str_at(p, &c->body),
		.interval_ms = c->interval_ms, .timeout_ms = c->timeout_ms, .fall = c->fall,
		.rise = c->rise, .quorum = c->quorum, .op = c->op, .n = c->n, .nmembers = c->nrefs,
	};
}

uint32_t policy_check_member(const struct policy *p, uint32_t i, uint32_t j)
{
	return p->refs[p->checks[i].refs + j];
}

const char *policy_region_name(const struct policy *p, uint32_t i)
{
	return str_at(p, &p->regions[i]);
}
