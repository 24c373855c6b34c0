/*
 * latency.c — opening and reading latency tables (latency.h). The
 * building side is latency_build.c.
 */
#include <string.h>

#include "diag.h"
#include "error.h"
#include "latency.h"

static int bad(struct diag *d, int err, const char *why, uint64_t a, uint64_t b)
{
	diag_error(d, NULL, 0, 0, "latency table: %s (%llu, %llu)", why,
		   (unsigned long long)a, (unsigned long long)b);
	return err;
}

int latency_open(const void *blob, size_t len, struct latency_table *t, struct diag *d)
{
	const uint8_t *b = blob;
	struct latency_header h;
	uint64_t rows_len;
	int ret;

	memset(t, 0, sizeof(*t));
	if ((uintptr_t)blob % 8)
		return bad(d, P53_EINVAL, "blob not 8-byte aligned", 0, 0);
	if (len < sizeof(h) || memcmp(b, LATENCY_MAGIC, 8) != 0)
		return bad(d, P53_EFORMAT, "no header", len, sizeof(h));
	memcpy(&h, b, sizeof(h));
	if (h.version_major != LATENCY_VERSION_MAJOR)
		return bad(d, P53_EVERSION, "unknown major version", h.version_major,
			   LATENCY_VERSION_MAJOR);
	rows_len = (uint64_t)h.nrows * h.nregions * 4;
	if (!h.nregions || h.nregions > LATENCY_MAX_REGIONS)
		return bad(d, P53_EFORMAT, "region count out of range", h.nregions,
			   LATENCY_MAX_REGIONS);
	if (h.rows % 8 || h.rows < sizeof(h) || h.rows > len || rows_len > len - h.rows)
		return bad(d, P53_EFORMAT, "rows outside the blob", h.rows, rows_len);
	if (h.geo % 8 || h.geo < sizeof(h) || h.geo > len || h.geo_len > len - h.geo ||
	    (h.geo < h.rows + rows_len && h.rows < (uint64_t)h.geo + h.geo_len))
		return bad(d, P53_EFORMAT, "geo table outside the blob or over the rows",
			   h.geo, h.geo_len);
	if (h.reserved[0] || h.reserved[1])
		return bad(d, P53_EFORMAT, "reserved fields not zero", h.reserved[0],
			   h.reserved[1]);
	if ((ret = geo_open(b + h.geo, h.geo_len, &t->geo, d)) < 0) {
		memset(t, 0, sizeof(*t));
		return ret;
	}
	t->rows = (const uint32_t *)(b + h.rows);
	t->nregions = h.nregions;
	t->nrows = h.nrows;
	return 0;
}

const uint32_t *latency_lookup(const struct latency_table *t, int family, const uint8_t *addr,
			       unsigned *matched)
{
	uint32_t row;

	/* A row index past the table (possible only in a table the builder
	 * did not make) is "no row", checked here because it is one compare. */
	if (!geo_lookup(&t->geo, family, addr, &row, matched) || row >= t->nrows) {
		*matched = 0;
		return NULL;
	}
	return t->rows + (size_t)row * t->nregions;
}
