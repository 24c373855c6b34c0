/*
 * zone.c — in-memory zone: records plus one heap for names and RDATA.
 */
#include <stdlib.h>
#include <string.h>

#include "dname.h"
#include "error.h"
#include "rdata.h"
#include "zone.h"

struct zone {
	uint8_t origin[DNAME_MAXLEN];
	int has_origin;
	struct zone_rr *rr;
	size_t rr_count, rr_cap;
	uint8_t *heap;
	size_t heap_len, heap_cap;
	char **files;
	size_t file_count;
};

struct zone *zone_new(const uint8_t *origin)
{
	struct zone *z = calloc(1, sizeof(*z));

	if (z && origin)
		zone_set_origin(z, origin);
	return z;
}

void zone_free(struct zone *z)
{
	if (!z)
		return;
	for (size_t i = 0; i < z->file_count; i++)
		free(z->files[i]);
	free(z->files);
	free(z->rr);
	free(z->heap);
	free(z);
}

const uint8_t *zone_origin(const struct zone *z)
{
	return z->has_origin ? z->origin : NULL;
}

size_t zone_enclosing(const struct zone *const *zones, size_t n, const uint8_t *name)
{
	size_t best = n;
	int best_labels = -1;

	for (size_t i = 0; i < n; i++) {
		const uint8_t *o = zone_origin(zones[i]);
		int l = o ? dname_labels(o) : -1;

		if (o && l > best_labels && dname_is_subdomain(name, o)) {
			best = i;
			best_labels = l;
		}
	}
	return best;
}

int zone_set_origin(struct zone *z, const uint8_t *origin)
{
	dname_copy_lower(z->origin, origin);
	z->has_origin = 1;
	return 0;
}

/* Grow-by-doubling; callers keep offsets, never pointers, into the heap. */
static int heap_put(struct zone *z, const void *p, size_t n, uint32_t *off)
{
	if (z->heap_len + n > UINT32_MAX)
		return P53_ERANGE;
	if (z->heap_len + n > z->heap_cap) {
		size_t cap = z->heap_cap ? z->heap_cap : 4096;
		while (cap < z->heap_len + n)
			cap *= 2;
		uint8_t *h = realloc(z->heap, cap);
		if (!h)
			return P53_ENOMEM;
		z->heap = h;
		z->heap_cap = cap;
	}
	*off = (uint32_t)z->heap_len;
	if (n)
		memcpy(z->heap + z->heap_len, p, n);
	z->heap_len += n;
	return 0;
}

/* Files are few; a linear search keeps the common case (same file as the
 * previous record) cheap by checking the last one first. */
static int file_index(struct zone *z, const char *file, uint16_t *idx)
{
	if (!file) {
		*idx = UINT16_MAX;
		return 0;
	}
	for (size_t i = z->file_count; i-- > 0;) {
		if (strcmp(z->files[i], file) == 0) {
			*idx = (uint16_t)i;
			return 0;
		}
	}
	if (z->file_count >= UINT16_MAX - 1)
		return P53_ELIMIT;
	char **f = realloc(z->files, (z->file_count + 1) * sizeof(*f));
	if (!f)
		return P53_ENOMEM;
	z->files = f;
	if (!(f[z->file_count] = strdup(file)))
		return P53_ENOMEM;
	*idx = (uint16_t)z->file_count++;
	return 0;
}

int zone_add_rr(struct zone *z, const uint8_t *owner, uint16_t type,
		uint16_t rclass, uint32_t ttl, const uint8_t *rdata,
		uint16_t rdlen, const char *file, uint32_t line)
{
	struct zone_rr rr = { .ttl = ttl, .type = type, .rclass = rclass,
			      .rdlen = rdlen, .line = line };
	int ret = dname_wire_len(owner, DNAME_MAXLEN);

	if (ret < 0)
		return P53_EINVAL;
	if (z->rr_count == z->rr_cap) {
		size_t cap = z->rr_cap ? z->rr_cap * 2 : 256;
		struct zone_rr *n = realloc(z->rr, cap * sizeof(*n));
		if (!n)
			return P53_ENOMEM;
		z->rr = n;
		z->rr_cap = cap;
	}
	if ((ret = heap_put(z, owner, (size_t)ret, &rr.owner)) < 0 ||
	    (ret = heap_put(z, rdata, rdlen, &rr.rdata)) < 0 ||
	    (ret = file_index(z, file, &rr.file)) < 0)
		return ret;
	z->rr[z->rr_count++] = rr;
	return 0;
}

const struct zone_rr *zone_rrs(const struct zone *z, size_t *count)
{
	*count = z->rr_count;
	return z->rr;
}

const uint8_t *zone_rr_owner(const struct zone *z, const struct zone_rr *rr)
{
	return z->heap + rr->owner;
}

const uint8_t *zone_rr_rdata(const struct zone *z, const struct zone_rr *rr)
{
	return z->heap + rr->rdata;
}

const char *zone_file_name(const struct zone *z, uint16_t file)
{
	return file < z->file_count ? z->files[file] : "-";
}

static int rr_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct zone *sort_zone = ctx;
	const struct zone_rr *a = pa, *b = pb;
	int c = dname_canonical_cmp(sort_zone->heap + a->owner,
				    sort_zone->heap + b->owner);

	if (c)
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	size_t n = a->rdlen < b->rdlen ? a->rdlen : b->rdlen;
	c = memcmp(sort_zone->heap + a->rdata, sort_zone->heap + b->rdata, n);
	if (c)
		return c;
	if (a->rdlen != b->rdlen)
		return a->rdlen < b->rdlen ? -1 : 1;
	/* Keep file order among duplicates so diagnostics stay stable. */
	if (a->file != b->file)
		return a->file < b->file ? -1 : 1;
	return a->line < b->line ? -1 : (a->line > b->line);
}

void zone_sort(struct zone *z)
{
	qsort_r(z->rr, z->rr_count, sizeof(*z->rr), rr_cmp, z);
}

int zone_print(const struct zone *z, FILE *f)
{
	static char text[4 * RDATA_MAXLEN + 64];
	char owner[DNAME_TEXT_MAX], tbuf[16], cbuf[16];

	for (size_t i = 0; i < z->rr_count; i++) {
		const struct zone_rr *rr = &z->rr[i];
		if (dname_to_text(z->heap + rr->owner, owner, sizeof(owner)) < 0 ||
		    rdata_to_text(rr->type, z->heap + rr->rdata, rr->rdlen,
				  text, sizeof(text)) < 0)
			return P53_ESPACE;
		if (fprintf(f, "%s\t%u\t%s\t%s\t%s\n", owner, rr->ttl,
			    rrclass_to_text(rr->rclass, cbuf, sizeof(cbuf)),
			    rrtype_to_text(rr->type, tbuf, sizeof(tbuf)), text) < 0)
			return P53_EIO;
	}
	return 0;
}
