/*
 * latency_build.c — compiling the controller's latency file into a latency
 * table blob (latency.h; the file format is in docs/policy.md, "Latency
 * tables"). The file is read one line at a time so that millions of
 * prefixes cost memory only for what the table keeps: identical rows are
 * stored once, and each prefix is a geo-table entry pointing at its row.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "diag.h"
#include "error.h"
#include "latency.h"

#define MAX_LATENCY  (LATENCY_UNKNOWN - 1u)

/* Distinct rows, found again through an open-addressing hash. */
struct lrows {
	uint32_t *v;          /* n x nregions values */
	size_t n, cap;
	uint32_t *slot;       /* row index + 1; 0 = empty */
	size_t mask;
};

/* One prefix of the file, kept to find duplicates once all are read. */
struct pkey {
	uint8_t a[16];
	uint8_t fam, plen;
	uint16_t col;
	uint32_t line;
};

struct lbuild {
	const char *path;
	struct diag *d;
	const char *const *regions;
	uint32_t nregions;
	uint32_t *colmap;     /* value column j -> region index */
	uint32_t *row;        /* the row being parsed, in region order */
	struct lrows rows;
	struct pkey *keys;
	size_t nkeys, capkeys;
	struct geo_builder *b;
	unsigned line;
	bool header;
};

/* ---- rows ---------------------------------------------------------------- */

static size_t row_hash(const uint32_t *r, uint32_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull;

	for (uint32_t i = 0; i < n; i++)
		h = (h ^ r[i]) * 0x100000001b3ull;
	return (size_t)(h ^ h >> 31);
}

/* Slot of row r: the one holding it (*hit) or the empty one to fill. */
static size_t row_slot(const struct lrows *t, const uint32_t *r, uint32_t nreg, bool *hit)
{
	size_t k = row_hash(r, nreg) & t->mask;

	for (; t->slot[k]; k = (k + 1) & t->mask) {
		const uint32_t *have = t->v + (size_t)(t->slot[k] - 1) * nreg;

		if (!memcmp(have, r, nreg * sizeof(*r))) {
			*hit = true;
			return k;
		}
	}
	*hit = false;
	return k;
}

static int rows_rehash(struct lrows *t, uint32_t nreg)
{
	size_t size = t->mask ? (t->mask + 1) * 2 : 1024;
	uint32_t *old = t->slot;
	bool hit;

	if (!(t->slot = calloc(size, sizeof(*t->slot)))) {
		t->slot = old;
		return P53_ENOMEM;
	}
	t->mask = size - 1;
	for (size_t i = 0; i < t->n; i++)
		t->slot[row_slot(t, t->v + i * nreg, nreg, &hit)] = (uint32_t)i + 1;
	free(old);
	return 0;
}

/* Index of row r, added when it is new. */
static int rows_intern(struct lrows *t, const uint32_t *r, uint32_t nreg, uint32_t *idx)
{
	size_t k;
	bool hit;
	int err;

	if ((t->n + 1) * 2 > t->mask && (err = rows_rehash(t, nreg)))
		return err;
	k = row_slot(t, r, nreg, &hit);
	if (hit) {
		*idx = t->slot[k] - 1;
		return 0;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		uint32_t *v = realloc(t->v, cap * nreg * sizeof(*v));

		if (!v)
			return P53_ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	memcpy(t->v + t->n * nreg, r, nreg * sizeof(*r));
	t->slot[k] = (uint32_t)++t->n;
	*idx = (uint32_t)t->n - 1;
	return 0;
}

/* ---- lines --------------------------------------------------------------- */

/* The next word of a line (spaces, tabs and CRs separate; '#' starts a
 * comment), NUL-terminated in place, with its column; NULL at the end. */
static char *next_word(char **p, const char *line, unsigned *col)
{
	char *s = *p + strspn(*p, " \t\r"), *e;

	if (!*s || *s == '#')
		return NULL;
	e = s + strcspn(s, " \t\r#");
	*p = *e == '#' || !*e ? e : e + 1;
	*e = 0;
	*col = (unsigned)(s - line) + 1;
	return s;
}

/* "a, b, c" (cut when long) for messages. */
static const char *region_list(const struct lbuild *l, char *buf, size_t cap)
{
	size_t n = 0;

	buf[0] = 0;
	for (uint32_t i = 0; i < l->nregions && n + 4 < cap; i++) {
		int w = snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", l->regions[i]);

		n += w > 0 ? (size_t)w : 0;
	}
	if (n >= cap - 1)
		memcpy(buf + cap - 4, "...", 4);
	return buf;
}

static int region_index(const struct lbuild *l, const char *name)
{
	for (uint32_t i = 0; i < l->nregions; i++)
		if (!strcmp(l->regions[i], name))
			return (int)i;
	return -1;
}

/* One header column: a region of the policy, not seen before. */
static int header_column(struct lbuild *l, const char *w, unsigned col, uint32_t ncols,
			 unsigned *seen_col)
{
	char list[256];
	int i = region_index(l, w);

	if (i < 0) {
		diag_error(l->d, l->path, l->line, col, "unknown region '%s' (the policy's "
			   "latency regions: %s)", w, region_list(l, list, sizeof(list)));
		return P53_EINVAL;
	}
	if (seen_col[i]) {
		diag_error(l->d, l->path, l->line, col, "region '%s' is listed twice (also "
			   "column %u)", w, seen_col[i]);
		return P53_EINVAL;
	}
	seen_col[i] = col;
	l->colmap[ncols] = (uint32_t)i;
	return 0;
}

/* The header line "prefix REGION ..." (blank and comment lines before it
 * are skipped): every policy region exactly once, in any order. */
static int parse_header(struct lbuild *l, char *line)
{
	unsigned col, end, *seen = calloc(l->nregions, sizeof(*seen));
	char *p = line, *w = next_word(&p, line, &col);
	uint32_t ncols = 0;
	int err = 0;

	if (!seen)
		return P53_ENOMEM;
	if (!w)
		goto fail;
	if (strcmp(w, "prefix") != 0) {
		diag_error(l->d, l->path, l->line, col, "expected the header line \"prefix "
			   "REGION ...\" naming the columns, got '%s'", w);
		err = P53_ESYNTAX;
		goto fail;
	}
	end = col + 6;
	while (!err && (w = next_word(&p, line, &col)) != NULL) {
		err = header_column(l, w, col, ncols++, seen);
		end = col + (unsigned)strlen(w);
	}
	for (uint32_t i = 0; !err && i < l->nregions; i++) {
		if (seen[i])
			continue;
		diag_error(l->d, l->path, l->line, end, "the header lacks the policy's region "
			   "'%s' (every latency region needs its column)", l->regions[i]);
		err = P53_EINVAL;
	}
	l->header = !err;
fail:
	free(seen);
	return err;
}

/* A latency in ms, or '-' for unknown. */
static int parse_latency(struct lbuild *l, const char *w, unsigned col, uint32_t *out)
{
	uint64_t v = 0;
	const char *p = w;

	if (!strcmp(w, "-")) {
		*out = LATENCY_UNKNOWN;
		return 0;
	}
	for (; *p >= '0' && *p <= '9' && v <= MAX_LATENCY; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	if (p == w || (*p && (*p < '0' || *p > '9'))) {
		diag_error(l->d, l->path, l->line, col, "'%s' is not a latency (a whole number of "
			   "milliseconds, or '-' for unknown)", w);
		return P53_ESYNTAX;
	}
	if (v > MAX_LATENCY) {
		diag_error(l->d, l->path, l->line, col, "latency '%s' out of range (0..%u ms, "
			   "'-' for unknown)", w, MAX_LATENCY);
		return P53_EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

static int keep_key(struct lbuild *l, int fam, const uint8_t *a, unsigned plen, unsigned col)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	struct pkey *k;

	if (l->nkeys == l->capkeys) {
		size_t cap = l->capkeys ? l->capkeys * 2 : 1024;

		if (!(k = realloc(l->keys, cap * sizeof(*k))))
			return P53_ENOMEM;
		l->keys = k;
		l->capkeys = cap;
	}
	k = &l->keys[l->nkeys++];
	memset(k, 0, sizeof(*k));
	/* ::ffff:a.b.c.d/120 is the IPv4 /24 the geo table stores. */
	if (fam == AF_INET6 && plen >= 96 && !memcmp(a, mapped, 12)) {
		fam = AF_INET;
		plen -= 96;
		a += 12;
	}
	memcpy(k->a, a, fam == AF_INET ? 4 : 16);
	k->fam = (uint8_t)fam;
	k->plen = (uint8_t)plen;
	k->col = (uint16_t)(col > UINT16_MAX ? UINT16_MAX : col);
	k->line = l->line;
	return 0;
}

/* The values after the prefix, into l->row by region. */
static int parse_values(struct lbuild *l, char **p, const char *line, unsigned end)
{
	unsigned col;
	char *w, list[256];
	int err;

	for (uint32_t j = 0; j < l->nregions; j++) {
		if (!(w = next_word(p, line, &col))) {
			diag_error(l->d, l->path, l->line, end, "expected %u latencies after the "
				   "prefix (one per region: %s), got %u", l->nregions,
				   region_list(l, list, sizeof(list)), j);
			return P53_ESYNTAX;
		}
		if ((err = parse_latency(l, w, col, &l->row[l->colmap[j]])))
			return err;
		end = col + (unsigned)strlen(w);
	}
	if ((w = next_word(p, line, &col)) != NULL) {
		diag_error(l->d, l->path, l->line, col, "more than %u latencies after the prefix "
			   "(one per region: %s)", l->nregions, region_list(l, list, sizeof(list)));
		return P53_ESYNTAX;
	}
	return 0;
}

/* "PREFIX V V ...": the prefix points at the (shared) row. */
static int parse_row(struct lbuild *l, char *line)
{
	char *p = line, *w, err_text[160];
	uint8_t addr[16];
	unsigned col, plen;
	uint32_t idx;
	int fam, err;

	if (!(w = next_word(&p, line, &col)))
		return 0;
	if (geo_parse_prefix(w, &fam, addr, &plen, err_text, sizeof(err_text))) {
		diag_error(l->d, l->path, l->line, col, "%s", err_text);
		return P53_ESYNTAX;
	}
	if ((err = keep_key(l, fam, addr, plen, col)) ||
	    (err = parse_values(l, &p, line, col + (unsigned)strlen(w))) ||
	    (err = rows_intern(&l->rows, l->row, l->nregions, &idx)) ||
	    (err = geo_builder_add(l->b, fam, addr, plen, idx, GEO_LAYER_MAP))) {
		if (err == P53_ENOMEM || err == P53_ELIMIT)
			diag_error(l->d, l->path, l->line, col, "%s", p53_strerror(err));
		return err;
	}
	return 0;
}

static int read_lines(struct lbuild *l, FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int err = 0;

	while (!err && (n = getline(&line, &cap, f)) >= 0) {
		l->line++;
		if (n && line[n - 1] == '\n')
			line[--n] = 0;
		if (strlen(line) != (size_t)n) {
			diag_error(l->d, l->path, l->line, (unsigned)strlen(line) + 1,
				   "NUL byte in a latency file");
			err = P53_ESYNTAX;
		} else {
			err = l->header ? parse_row(l, line) : parse_header(l, line);
		}
	}
	free(line);
	if (!err && ferror(f)) {
		diag_error(l->d, l->path, 0, 0, "cannot read: %s", strerror(errno));
		err = P53_EIO;
	}
	if (!err && !l->header) {
		diag_error(l->d, l->path, l->line, 0, "no header line \"prefix REGION ...\"");
		err = P53_ESYNTAX;
	}
	return err;
}

/* ---- duplicates and the blob --------------------------------------------- */

static int key_cmp(const void *x, const void *y)
{
	const struct pkey *a = x, *b = y;
	int c = memcmp(a->a, b->a, 18);   /* address, family, length */

	return c ? c : (a->line > b->line) - (a->line < b->line);
}

/* Report the duplicate prefix whose second occurrence comes first. */
static int check_duplicates(struct lbuild *l)
{
	const struct pkey *dup = NULL, *first = NULL;
	char text[INET6_ADDRSTRLEN];

	if (l->nkeys > 1)
		qsort(l->keys, l->nkeys, sizeof(*l->keys), key_cmp);
	for (size_t i = 1; i < l->nkeys; i++) {
		if (memcmp(l->keys[i].a, l->keys[i - 1].a, 18))
			continue;
		if (!dup || l->keys[i].line < dup->line) {
			dup = &l->keys[i];
			first = &l->keys[i - 1];
		}
	}
	if (!dup)
		return 0;
	inet_ntop(dup->fam, dup->a, text, sizeof(text));
	diag_error(l->d, l->path, dup->line, dup->col, "duplicate prefix %s/%u (first on "
		   "line %u)", text, dup->plen, first->line);
	return P53_EINVAL;
}

static int assemble(struct lbuild *l, uint8_t **out, size_t *len)
{
	struct latency_header h = { .version_major = LATENCY_VERSION_MAJOR,
				    .version_minor = LATENCY_VERSION_MINOR };
	size_t rows_len = l->rows.n * l->nregions * sizeof(uint32_t), geo_len, geo_off, total;
	uint8_t *geo, *b;
	int err;

	if ((err = geo_builder_serialize(l->b, &geo, &geo_len))) {
		diag_error(l->d, l->path, 0, 0, "latency table: %s", p53_strerror(err));
		return err;
	}
	geo_off = (sizeof(h) + rows_len + 7) & ~(size_t)7;
	total = geo_off + geo_len;
	if (total > UINT32_MAX || !(b = calloc(1, total))) {
		diag_error(l->d, l->path, 0, 0, "latency table: %s", total > UINT32_MAX ?
			   "larger than 4 GiB" : "out of memory");
		free(geo);
		return total > UINT32_MAX ? P53_ERANGE : P53_ENOMEM;
	}
	memcpy(h.magic, LATENCY_MAGIC, 8);
	h.nregions = l->nregions;
	h.nrows = (uint32_t)l->rows.n;
	h.rows = sizeof(h);
	h.geo = (uint32_t)geo_off;
	h.geo_len = (uint32_t)geo_len;
	memcpy(b, &h, sizeof(h));
	if (rows_len)
		memcpy(b + sizeof(h), l->rows.v, rows_len);
	memcpy(b + geo_off, geo, geo_len);
	free(geo);
	*out = b;
	*len = total;
	return 0;
}

static int lbuild_init(struct lbuild *l)
{
	if (!l->nregions) {
		diag_error(l->d, l->path, 0, 0, "the policy defines no latency regions; a "
			   "latency table needs them (`latency: regions:`)");
		return P53_EINVAL;
	}
	if (l->nregions > LATENCY_MAX_REGIONS) {
		diag_error(l->d, l->path, 0, 0, "the policy has %u latency regions; a latency "
			   "table has at most %u", l->nregions, LATENCY_MAX_REGIONS);
		return P53_EINVAL;
	}
	l->colmap = calloc(l->nregions, sizeof(*l->colmap));
	l->row = calloc(l->nregions, sizeof(*l->row));
	if (!l->colmap || !l->row || geo_builder_new(&l->b)) {
		diag_error(l->d, l->path, 0, 0, "out of memory");
		return P53_ENOMEM;
	}
	return 0;
}

static void lbuild_free(struct lbuild *l)
{
	free(l->colmap);
	free(l->row);
	free(l->rows.v);
	free(l->rows.slot);
	free(l->keys);
	geo_builder_free(l->b);
}

int latency_compile_file(const char *path, const char *const *regions, uint32_t nregions,
			 struct diag *d, uint8_t **out, size_t *len)
{
	struct lbuild l = { .path = path, .d = d, .regions = regions, .nregions = nregions };
	FILE *f = NULL;
	int err;

	*out = NULL;
	*len = 0;
	if ((err = lbuild_init(&l)))
		goto fail;
	if (!(f = fopen(path, "r"))) {
		diag_error(d, path, 0, 0, "cannot read: %s", strerror(errno));
		err = P53_EIO;
		goto fail;
	}
	if ((err = read_lines(&l, f)) || (err = check_duplicates(&l)))
		goto fail;
	err = assemble(&l, out, len);
fail:
	if (f)
		fclose(f);
	lbuild_free(&l);
	return err;
}
