/*
 * geo.c — location codes, the prefix-table builder, its blob, and lookup.
 *
 * The table is a multibit trie over the address bits, left-aligned in 128
 * bits for both families: a 65536-slot root on the first 16 bits, then
 * nodes of 16 slots (one cache line) on 4 bits each, down to leaves that
 * are short sorted runs of range starts. The builder first flattens the
 * prefixes into disjoint ranges (each carrying the value and length of its
 * most specific covering prefix), so a leaf never has to know about
 * nesting: find the last start <= address and read its result.
 * Layout in docs/geo.md.
 */
#include <endian.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "diag.h"
#include "error.h"
#include "geo.h"

typedef unsigned __int128 u128;

#define GEO_MAGIC      "P53GEO\0\0"
#define GEO_VERSION    1u
#define GEO_HDR_SIZE   64u
#define ROOT_BITS      16u
#define ROOT_SLOTS     (1u << ROOT_BITS)
#define STRIDE         4u
#define NODE_SLOTS     (1u << STRIDE)
#define LEAF_MAX       16u
#define SLOT_NODE      0x80000000u
#define RES_FOUND      0x100u
#define MAX_PREFIXES   (1u << 28)
#define U128_MAX       (~(u128)0)

/* ---- location code ------------------------------------------------------ */

static const char continents[7][3] = { "AF", "AN", "AS", "EU", "NA", "OC", "SA" };

static int upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

static unsigned letter_code(int c)
{
	c = upper(c);
	return c >= 'A' && c <= 'Z' ? (unsigned)(c - 'A' + 1) : 0;
}

static unsigned subdiv_char_code(int c)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0') + 27;
	return letter_code(c);
}

static int pack_continent(const char *s, uint32_t *bits)
{
	*bits = 0;
	if (!s || !*s)
		return 0;
	for (unsigned i = 0; i < 7; i++)
		if (upper(s[0]) == continents[i][0] && s[1] && upper(s[1]) == continents[i][1] &&
		    !s[2]) {
			*bits = (i + 1) << 29;
			return 0;
		}
	return P53_EINVAL;
}

static int pack_country(const char *s, uint32_t *bits)
{
	unsigned a, b;

	*bits = 0;
	if (!s || !*s)
		return 0;
	a = letter_code(s[0]);
	b = a ? letter_code(s[1]) : 0;
	if (!a || !b || s[2])
		return P53_EINVAL;
	*bits = (a << 24) | (b << 19);
	return 0;
}

static int pack_subdiv(const char *s, uint32_t *bits)
{
	size_t n = s ? strlen(s) : 0;

	*bits = 0;
	if (n > 3)
		return P53_EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned c = subdiv_char_code(s[i]);

		if (!c)
			return P53_EINVAL;
		*bits |= c << (12 - 6 * i);
	}
	return 0;
}

int geo_loc_pack(const char *continent, const char *country, const char *subdivision,
		 uint32_t *out)
{
	uint32_t a, b, c;

	if (pack_continent(continent, &a) || pack_country(country, &b) ||
	    pack_subdiv(subdivision, &c))
		return P53_EINVAL;
	if (c && !b)
		return P53_EINVAL;
	*out = a | b | c;
	return 0;
}

int geo_loc_parse(const char *text, uint32_t *out)
{
	char part[3][8] = { "", "", "" };
	const char *p = text;

	for (unsigned i = 0; i < 3; i++) {
		size_t n = strcspn(p, "-");

		if (n == 0 || n >= sizeof(part[i]))
			return P53_EINVAL;
		memcpy(part[i], p, n);
		p += n;
		if (!*p)
			return geo_loc_pack(part[0], part[1], part[2], out);
		p++;
	}
	return P53_EINVAL;
}

static char subdiv_char(unsigned c)
{
	return c >= 27 ? (char)('0' + c - 27) : (char)('A' + c - 1);
}

int geo_loc_unpack(uint32_t code, struct geo_loc_parts *out)
{
	unsigned cont = GEO_LOC_CONTINENT(code), a = (code >> 24) & 31, b = (code >> 19) & 31;
	unsigned s[3] = { (code >> 12) & 63, (code >> 6) & 63, code & 63 };
	int bad = 0;

	memset(out, 0, sizeof(*out));
	if (cont)
		memcpy(out->continent, continents[cont - 1], 2);
	if (a > 26 || b > 26 || !a != !b || (code & (1u << 18)))
		bad = 1;
	else if (a) {
		out->country[0] = (char)('A' + a - 1);
		out->country[1] = (char)('A' + b - 1);
	}
	for (unsigned i = 0; i < 3 && !bad; i++) {
		if (s[i] > 36 || (s[i] && i && !s[i - 1]))
			bad = 1;   /* out of the alphabet, or a gap */
		else if (s[i])
			out->subdivision[i] = subdiv_char(s[i]);
	}
	if (!bad && out->subdivision[0] && !a)
		bad = 1;
	return bad ? P53_EFORMAT : 0;
}

const char *geo_loc_format(uint32_t code, char *buf, size_t cap)
{
	struct geo_loc_parts p;

	if (code == GEO_LOC_NONE)
		snprintf(buf, cap, "none");
	else if (geo_loc_unpack(code, &p))
		snprintf(buf, cap, "invalid");
	else if (!p.country[0])
		snprintf(buf, cap, "%s", p.continent);
	else
		snprintf(buf, cap, "%s-%s%s%s", p.continent[0] ? p.continent : "*", p.country,
			 p.subdivision[0] ? "-" : "", p.subdivision);
	return buf;
}

/* ---- builder ------------------------------------------------------------ */

struct pfx {
	u128 addr;          /* left-aligned: IPv4 in the top 32 bits */
	uint32_t value;
	uint32_t seq;       /* order of addition: the later one replaces */
	uint8_t len;
	uint8_t layer;
};

struct geo_builder {
	struct pfx *v[2];   /* [0] IPv4, [1] IPv6 */
	size_t n[2], cap[2];
	uint32_t seq;
};

static const unsigned fam_bits[2] = { 32, 128 };

static u128 host_mask(unsigned len)
{
	return len >= 128 ? 0 : U128_MAX >> len;
}

static u128 load_addr(int fi, const uint8_t *a)
{
	u128 x = 0;
	unsigned n = fi ? 16 : 4;

	for (unsigned i = 0; i < n; i++)
		x = (x << 8) | a[i];
	return fi ? x : x << 96;
}

static bool is_v4_mapped(const uint8_t *a)
{
	static const uint8_t pre[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(a, pre, 12) == 0;
}

int geo_builder_new(struct geo_builder **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : P53_ENOMEM;
}

void geo_builder_free(struct geo_builder *b)
{
	if (!b)
		return;
	free(b->v[0]);
	free(b->v[1]);
	free(b);
}

size_t geo_builder_count(const struct geo_builder *b)
{
	return b->n[0] + b->n[1];
}

int geo_builder_add(struct geo_builder *b, int family, const void *addr, unsigned plen,
		    uint32_t value, enum geo_layer layer)
{
	const uint8_t *a = addr;
	int fi = family == AF_INET6 ? 1 : 0;
	struct pfx p;

	if ((family != AF_INET && family != AF_INET6) || layer > GEO_LAYER_MAP ||
	    plen > fam_bits[fi])
		return P53_EINVAL;
	if (fi && plen >= 96 && is_v4_mapped(a)) {
		fi = 0;
		a += 12;
		plen -= 96;
	}
	p = (struct pfx){ .addr = load_addr(fi, a), .value = value, .seq = b->seq,
			  .len = (uint8_t)plen, .layer = (uint8_t)layer };
	if (p.addr & host_mask(plen))
		return P53_EINVAL;
	if (b->seq >= MAX_PREFIXES)
		return P53_ELIMIT;
	if (b->n[fi] == b->cap[fi]) {
		size_t cap = b->cap[fi] ? b->cap[fi] * 2 : 256;
		struct pfx *v = realloc(b->v[fi], cap * sizeof(*v));

		if (!v)
			return P53_ENOMEM;
		b->v[fi] = v;
		b->cap[fi] = cap;
	}
	b->v[fi][b->n[fi]++] = p;
	b->seq++;
	return 0;
}

/* ---- serialization: results --------------------------------------------- */

/* Distinct (value, length) results; index 0 is "no match". */
struct restab {
	uint32_t *v;        /* pairs: value, length | RES_FOUND */
	uint32_t n, cap;
	uint32_t *hash;     /* open addressing: index + 1, 0 = empty */
	uint32_t hmask;
};

static uint32_t res_hash(uint32_t value, uint32_t meta)
{
	uint64_t h = ((uint64_t)value << 32 | meta) * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(h >> 32);
}

static int res_grow(struct restab *r)
{
	uint32_t cap = r->cap ? r->cap * 2 : 64, hsize = cap * 2;
	uint32_t *v = realloc(r->v, (size_t)cap * 2 * sizeof(*v));
	uint32_t *h;

	if (!v)
		return P53_ENOMEM;
	r->v = v;
	h = calloc(hsize, sizeof(*h));
	if (!h)
		return P53_ENOMEM;
	free(r->hash);
	r->hash = h;
	r->hmask = hsize - 1;
	r->cap = cap;
	for (uint32_t i = 0; i < r->n; i++) {
		uint32_t k = res_hash(v[2 * i], v[2 * i + 1]) & r->hmask;

		while (h[k])
			k = (k + 1) & r->hmask;
		h[k] = i + 1;
	}
	return 0;
}

/* Index of (value, len) as a found result, added when new; negative on
 * allocation failure. */
static int64_t res_id(struct restab *r, uint32_t value, unsigned len, bool found)
{
	uint32_t meta = found ? (len | RES_FOUND) : 0, k;

	if (!found)
		value = 0;
	if (r->n == r->cap && res_grow(r))
		return P53_ENOMEM;
	for (k = res_hash(value, meta) & r->hmask; r->hash[k]; k = (k + 1) & r->hmask) {
		uint32_t i = r->hash[k] - 1;

		if (r->v[2 * i] == value && r->v[2 * i + 1] == meta)
			return i;
	}
	r->hash[k] = r->n + 1;
	r->v[2 * r->n] = value;
	r->v[2 * r->n + 1] = meta;
	return r->n++;
}

/* ---- serialization: prefixes to disjoint ranges ------------------------- */

struct bnd {
	u128 start;         /* a range runs from here to the next start */
	uint32_t res;
};

struct bvec {
	struct bnd *v;
	size_t n, cap;
};

/* Append a range start; one at the same place replaces the last, and a
 * range with the same result as the one before merges into it. */
static int bemit(struct bvec *o, u128 start, uint32_t res)
{
	if (o->n && o->v[o->n - 1].start == start) {
		o->v[o->n - 1].res = res;
		if (o->n >= 2 && o->v[o->n - 2].res == res)
			o->n--;
		return 0;
	}
	if (o->n && o->v[o->n - 1].res == res)
		return 0;
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 1024;
		struct bnd *v = realloc(o->v, cap * sizeof(*v));

		if (!v)
			return P53_ENOMEM;
		o->v = v;
		o->cap = cap;
	}
	o->v[o->n++] = (struct bnd){ .start = start, .res = res };
	return 0;
}

static int pfx_cmp(const void *x, const void *y)
{
	const struct pfx *a = x, *b = y;

	if (a->layer != b->layer)
		return a->layer < b->layer ? -1 : 1;
	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Ranges of one layer's prefixes p[0..n) (sorted, no duplicates): a stack
 * of the prefixes that contain the current position. Nesting is at most
 * 129 deep (each inner prefix is longer). */
static int flatten(const struct pfx *p, const uint32_t *res, size_t n, struct bvec *o)
{
	struct { u128 end; uint32_t res; } st[129];
	unsigned sp = 0;
	int err = bemit(o, 0, 0);

	for (size_t i = 0; i <= n && !err; i++) {
		while (sp && !err && (i == n || st[sp - 1].end < p[i].addr)) {
			sp--;
			if (st[sp].end != U128_MAX)
				err = bemit(o, st[sp].end + 1, sp ? st[sp - 1].res : 0);
		}
		if (i == n || err)
			break;
		st[sp].end = p[i].addr | host_mask(p[i].len);
		st[sp++].res = res[i];
		err = bemit(o, p[i].addr, res[i]);
	}
	return err;
}

/* Ranges of the map layer laid over the database layer. */
static int overlay(const struct bvec *base, const struct bvec *ov, struct bvec *o)
{
	size_t i = 0, j = 0;
	uint32_t rb = 0, ro = 0;
	int err = 0;

	while ((i < base->n || j < ov->n) && !err) {
		u128 s = i < base->n ? base->v[i].start : ov->v[j].start;

		if (j < ov->n && ov->v[j].start < s)
			s = ov->v[j].start;
		if (i < base->n && base->v[i].start == s)
			rb = base->v[i++].res;
		if (j < ov->n && ov->v[j].start == s)
			ro = ov->v[j++].res;
		err = bemit(o, s, ro ? ro : rb);
	}
	return err;
}

/* Sort and deduplicate one family, then flatten each layer and overlay. */
static int fam_ranges(const struct geo_builder *b, int fi, struct restab *rt, struct bvec *out)
{
	size_t n = b->n[fi], m = 0, split;
	struct pfx *p = n ? malloc(n * sizeof(*p)) : NULL;
	uint32_t *res = n ? malloc(n * sizeof(*res)) : NULL;
	struct bvec l0 = { 0 }, l1 = { 0 };
	int err = P53_ENOMEM;

	if (n && (!p || !res))
		goto fail;
	memcpy(p, b->v[fi], n * sizeof(*p));
	qsort(p, n, sizeof(*p), pfx_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && p[i + 1].layer == p[i].layer && p[i + 1].addr == p[i].addr &&
		    p[i + 1].len == p[i].len)
			continue;   /* replaced by a later addition */
		int64_t r = res_id(rt, p[i].value, p[i].len, true);

		if (r < 0)
			goto fail;
		p[m] = p[i];
		res[m++] = (uint32_t)r;
	}
	for (split = 0; split < m && p[split].layer == GEO_LAYER_DB; split++)
		;
	err = flatten(p, res, split, &l0);
	if (!err)
		err = flatten(p + split, res + split, m - split, &l1);
	if (!err)
		err = overlay(&l0, &l1, out);
fail:
	free(p);
	free(res);
	free(l0.v);
	free(l1.v);
	return err;
}

/* ---- serialization: the trie -------------------------------------------- */

struct u32vec {
	uint32_t *v;
	size_t n, cap;
};

static int vpush(struct u32vec *x, uint32_t a)
{
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 4096;
		uint32_t *v = realloc(x->v, cap * sizeof(*v));

		if (!v)
			return P53_ENOMEM;
		x->v = v;
		x->cap = cap;
	}
	x->v[x->n++] = a;
	return 0;
}

struct trie {
	const struct bnd *b;
	struct u32vec root, nodes, entries;
	uint32_t *single;   /* per result: its one-entry leaf, or UINT32_MAX */
};

/* The 32 address bits after the first d (zero past the end). */
static uint32_t key_at(u128 s, unsigned d)
{
	return d >= 128 ? 0 : (uint32_t)((s << d) >> 96);
}

static int64_t leaf(struct trie *t, unsigned d, size_t lo, size_t hi, uint32_t carry)
{
	size_t off = t->entries.n / 2;
	int err;

	if (lo == hi && t->single[carry] != UINT32_MAX)
		return t->single[carry];
	if (off >= SLOT_NODE)
		return P53_ERANGE;
	err = vpush(&t->entries, (uint32_t)(hi - lo + 1));
	err = err ? err : vpush(&t->entries, carry);
	for (size_t k = lo; k < hi && !err; k++) {
		err = vpush(&t->entries, key_at(t->b[k].start, d));
		err = err ? err : vpush(&t->entries, t->b[k].res);
	}
	if (err)
		return err;
	if (lo == hi)
		t->single[carry] = (uint32_t)off;
	return (int64_t)off;
}

static int64_t block(struct trie *t, unsigned d, u128 bstart, size_t lo, size_t hi,
		     uint32_t carry);

/* Fill slots[0..1<<bits) with the sub-blocks of the block at depth d. */
static int children(struct trie *t, struct u32vec *slots, size_t first, unsigned d,
		    unsigned bits, u128 bstart, size_t lo, size_t hi, uint32_t carry)
{
	unsigned sh = 128 - d - bits;

	for (uint32_t c = 0; c < (1u << bits); c++) {
		u128 cs = bstart | ((u128)c << sh);
		size_t k = lo;
		int64_t slot;

		while (k < hi && (t->b[k].start >> sh) == (cs >> sh))
			k++;
		slot = block(t, d + bits, cs, lo, k, carry);
		if (slot < 0)
			return (int)slot;
		slots->v[first + c] = (uint32_t)slot;
		if (k > lo)
			carry = t->b[k - 1].res;
		lo = k;
	}
	return 0;
}

/* The slot for the block at depth d starting at bstart, holding range
 * starts b[lo..hi); carry is the result in force at bstart. A block
 * becomes a leaf when its ranges fit one and their starts differ within
 * the 32 bits a leaf key holds. */
static int64_t block(struct trie *t, unsigned d, u128 bstart, size_t lo, size_t hi,
		     uint32_t carry)
{
	bool is_leaf;
	size_t idx;
	int err;

	if (lo < hi && t->b[lo].start == bstart)
		carry = t->b[lo++].res;
	is_leaf = hi - lo + 1 <= LEAF_MAX;
	for (size_t k = lo; k < hi && is_leaf && d + 32 < 128; k++)
		is_leaf = (t->b[k].start << (d + 32)) == 0;
	if (is_leaf)
		return leaf(t, d, lo, hi, carry);
	idx = t->nodes.n / NODE_SLOTS;
	if (idx >= SLOT_NODE)
		return P53_ERANGE;
	for (unsigned i = 0; i < NODE_SLOTS; i++)
		if ((err = vpush(&t->nodes, 0)))
			return err;
	err = children(t, &t->nodes, idx * NODE_SLOTS, d, STRIDE, bstart, lo, hi, carry);
	return err ? err : (int64_t)(SLOT_NODE | idx);
}

static int fam_trie(struct trie *t, const struct bvec *r, uint32_t nres)
{
	t->b = r->v;
	t->single = malloc(nres * sizeof(*t->single));
	if (!t->single)
		return P53_ENOMEM;
	memset(t->single, 0xff, nres * sizeof(*t->single));
	t->root.v = malloc(ROOT_SLOTS * sizeof(uint32_t));
	if (!t->root.v)
		return P53_ENOMEM;
	t->root.n = t->root.cap = ROOT_SLOTS;
	/* r->v[0] starts at 0: the carry into the first block is set by it. */
	return children(t, &t->root, 0, 0, ROOT_BITS, 0, 0, r->n, 0);
}

static void trie_free(struct trie *t)
{
	free(t->root.v);
	free(t->nodes.v);
	free(t->entries.v);
	free(t->single);
}

/* ---- serialization: the blob -------------------------------------------- */

static void put32(uint8_t *p, uint32_t x)
{
	x = htole32(x);
	memcpy(p, &x, 4);
}

static void put_array(uint8_t *dst, const uint32_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put32(dst + 4 * i, src[i]);
}

static int assemble(const struct restab *rt, struct trie *t, const bool *has,
		    uint8_t **out, size_t *len)
{
	uint64_t off = GEO_HDR_SIZE, res_off = off, sec[2][3] = { { 0 } };
	uint8_t *blob;

	off += (uint64_t)rt->n * 8;
	for (int fi = 0; fi < 2; fi++) {
		if (!has[fi])
			continue;
		sec[fi][0] = off;
		off += (uint64_t)t[fi].root.n * 4;
		sec[fi][1] = off;
		off += (uint64_t)t[fi].nodes.n * 4;
		sec[fi][2] = off;
		off += (uint64_t)t[fi].entries.n * 4;
	}
	if (off > UINT32_MAX)
		return P53_ERANGE;
	blob = calloc(1, off);
	if (!blob)
		return P53_ENOMEM;
	memcpy(blob, GEO_MAGIC, 8);
	put32(blob + 8, GEO_VERSION);
	put32(blob + 12, (uint32_t)off);
	put32(blob + 16, rt->n);
	put32(blob + 20, (uint32_t)res_off);
	put_array(blob + res_off, rt->v, (size_t)rt->n * 2);
	for (int fi = 0; fi < 2; fi++) {
		uint8_t *h = blob + 24 + 20 * fi;

		if (!has[fi])
			continue;
		put32(h, (uint32_t)sec[fi][0]);
		put32(h + 4, (uint32_t)sec[fi][1]);
		put32(h + 8, (uint32_t)(t[fi].nodes.n / NODE_SLOTS));
		put32(h + 12, (uint32_t)sec[fi][2]);
		put32(h + 16, (uint32_t)(t[fi].entries.n / 2));
		put_array(blob + sec[fi][0], t[fi].root.v, t[fi].root.n);
		put_array(blob + sec[fi][1], t[fi].nodes.v, t[fi].nodes.n);
		put_array(blob + sec[fi][2], t[fi].entries.v, t[fi].entries.n);
	}
	*out = blob;
	*len = (size_t)off;
	return 0;
}

int geo_builder_serialize(const struct geo_builder *b, uint8_t **out, size_t *len)
{
	struct restab rt = { 0 };
	struct bvec r[2] = { { 0 } };
	struct trie t[2] = { { 0 } };
	bool has[2] = { b->n[0] > 0, b->n[1] > 0 };
	int err = res_id(&rt, 0, 0, false) < 0 ? P53_ENOMEM : 0;

	for (int fi = 0; fi < 2 && !err; fi++)
		if (has[fi])
			err = fam_ranges(b, fi, &rt, &r[fi]);
	for (int fi = 0; fi < 2 && !err; fi++)
		if (has[fi])
			err = fam_trie(&t[fi], &r[fi], rt.n);
	if (!err)
		err = assemble(&rt, t, has, out, len);
	for (int fi = 0; fi < 2; fi++) {
		free(r[fi].v);
		trie_free(&t[fi]);
	}
	free(rt.v);
	free(rt.hash);
	return err;
}

/* ---- open: verification ------------------------------------------------- */

struct vfam {
	const uint32_t *root, *nodes, *entries;
	uint32_t nnodes, nentries, next_node;
	unsigned bits;      /* 32 or 128 */
};

struct vctx {
	const uint32_t *res;
	uint32_t nres;
	struct diag *d;
};

static uint32_t ld(const uint32_t *p, size_t i)
{
	return le32toh(p[i]);
}

/* The validator's refusal: an error naming the table, P53_EFORMAT. */
#define vbad(v, ...) diag_format_error((v)->d, "geo table", __VA_ARGS__)

static const char *fam_name(const struct vfam *f)
{
	return f->bits == 32 ? "IPv4" : "IPv6";
}

static int check_leaf(struct vctx *v, const struct vfam *f, uint32_t off, unsigned d)
{
	unsigned lowzero = f->bits == 32 ? d : (d > 96 ? d - 96 : 0);
	uint32_t lowmask = lowzero >= 32 ? UINT32_MAX : (1u << lowzero) - 1;
	uint32_t n, prev = 0;

	if (off >= f->nentries)
		return vbad(v, "%s leaf %u past the %u entries", fam_name(f), off, f->nentries);
	n = ld(f->entries, 2 * (size_t)off);
	if (n < 1 || n > LEAF_MAX || n > f->nentries - off)
		return vbad(v, "%s leaf %u claims %u entries", fam_name(f), off, n);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t key = ld(f->entries, 2 * ((size_t)off + i));
		uint32_t r = ld(f->entries, 2 * ((size_t)off + i) + 1);

		if (i && (key <= prev || (key & lowmask)))
			return vbad(v, "%s leaf %u: key %u out of order or range", fam_name(f),
				    off, i);
		if (r >= v->nres || (ld(v->res, 2 * (size_t)r + 1) & 0xff) > f->bits)
			return vbad(v, "%s leaf %u: bad result %u", fam_name(f), off, r);
		prev = i ? key : 0;   /* entry 0's key field is the count */
	}
	return 0;
}

/* Nodes must be reached exactly once, in the order they are stored
 * (depth-first): that rules out cycles and sharing, so the walk is linear
 * and every node has one depth, which bounds the lookup's descent. */
static int check_slot(struct vctx *v, struct vfam *f, uint32_t slot, unsigned d)
{
	uint32_t idx = slot & ~SLOT_NODE;
	int err = 0;

	if (!(slot & SLOT_NODE))
		return check_leaf(v, f, slot, d);
	if (idx != f->next_node || idx >= f->nnodes)
		return vbad(v, "%s node %u out of order (expected %u)", fam_name(f), idx,
			    f->next_node);
	if (d + STRIDE >= f->bits)
		return vbad(v, "%s node %u at depth %u", fam_name(f), idx, d);
	f->next_node++;
	for (unsigned c = 0; c < NODE_SLOTS && !err; c++)
		err = check_slot(v, f, ld(f->nodes, (size_t)idx * NODE_SLOTS + c), d + STRIDE);
	return err;
}

/* Section [off, off + n * size) inside the blob, 4-aligned. */
static const uint32_t *section(const uint8_t *b, size_t len, uint32_t off, uint64_t n,
			       unsigned size)
{
	if (off < GEO_HDR_SIZE || off % 4 || (uint64_t)off + n * size > len)
		return NULL;
	return (const uint32_t *)(const void *)(b + off);
}

static int check_fam(struct vctx *v, const uint8_t *b, size_t len, int fi,
		     struct geo_fam_view *out)
{
	const uint32_t *h = (const uint32_t *)(const void *)(b + 24 + 20 * fi);
	struct vfam f = { .bits = fam_bits[fi], .nnodes = ld(h, 2), .nentries = ld(h, 4) };
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (!ld(h, 0)) {
		if (ld(h, 1) || f.nnodes || ld(h, 3) || f.nentries)
			return vbad(v, "%s part absent but sized", fam_name(&f));
		return 0;
	}
	f.root = section(b, len, ld(h, 0), ROOT_SLOTS, 4);
	f.nodes = section(b, len, ld(h, 1), (uint64_t)f.nnodes * NODE_SLOTS, 4);
	f.entries = section(b, len, ld(h, 3), f.nentries, 8);
	if (!f.root || !f.nodes || !f.entries || f.nnodes >= SLOT_NODE ||
	    f.nentries >= SLOT_NODE)
		return vbad(v, "%s sections out of bounds", fam_name(&f));
	for (uint32_t i = 0; i < ROOT_SLOTS && !err; i++)
		err = check_slot(v, &f, ld(f.root, i), ROOT_BITS);
	if (!err && f.next_node != f.nnodes)
		return vbad(v, "%s has %u nodes, %u reachable", fam_name(&f), f.nnodes,
			    f.next_node);
	out->root = f.root;
	out->nodes = f.nodes;
	out->entries = f.entries;
	return err;
}

static int check_res(struct vctx *v)
{
	for (uint32_t i = 0; i < v->nres; i++) {
		uint32_t value = ld(v->res, 2 * (size_t)i), meta = ld(v->res, 2 * (size_t)i + 1);
		bool found = meta & RES_FOUND;

		if ((meta & ~(RES_FOUND | 0xffu)) || (meta & 0xff) > 128 ||
		    (!found && (meta || value)) || (i == 0) == found)
			return vbad(v, "result %u malformed (%#x)", i, meta);
	}
	return 0;
}

int geo_open(const void *blob, size_t len, struct geo_table *t, struct diag *d)
{
	const uint8_t *b = blob;
	const uint32_t *h = blob;
	struct vctx v = { .d = d };
	struct geo_table nt;
	int err;

	if ((uintptr_t)blob % 4)
		return P53_EINVAL;
	if (len < GEO_HDR_SIZE || memcmp(b, GEO_MAGIC, 8))
		return vbad(&v, "not a geo table (size %zu)", len);
	if (ld(h, 2) != GEO_VERSION) {
		diag_error(d, NULL, 0, 0, "geo table: version %u, this build reads %u",
			   ld(h, 2), GEO_VERSION);
		return P53_EVERSION;
	}
	if (ld(h, 3) != len)
		return vbad(&v, "size %zu, header says %u", len, ld(h, 3));
	v.nres = ld(h, 4);
	v.res = section(b, len, ld(h, 5), v.nres, 8);
	if (!v.res || v.nres == 0)
		return vbad(&v, "results out of bounds (%u at %u)", v.nres, ld(h, 5));
	err = check_res(&v);
	for (int fi = 0; fi < 2 && !err; fi++)
		err = check_fam(&v, b, len, fi, &nt.fam[fi]);
	if (err)
		return err;
	nt.res = v.res;
	*t = nt;
	return 0;
}

/* ---- lookup ------------------------------------------------------------- */

/* The 32 bits of hi:lo after the first d (d < 128). */
static inline uint32_t bits32(uint64_t hi, uint64_t lo, unsigned d)
{
	uint64_t w;

	if (d == 0)
		w = hi;
	else if (d < 64)
		w = (hi << d) | (lo >> (64 - d));
	else
		w = lo << (d - 64);
	return (uint32_t)(w >> 32);
}

static inline uint64_t be64(const uint8_t *p)
{
	uint64_t x;

	memcpy(&x, p, 8);
	return be64toh(x);
}

int geo_lookup(const struct geo_table *t, int family, const uint8_t *addr, uint32_t *value,
	       unsigned *matched_len)
{
	const struct geo_fam_view *f;
	unsigned d = ROOT_BITS, extra = 0, n, i = 0;
	uint64_t hi, lo = 0;
	const uint32_t *e;
	uint32_t slot, k, meta;

	*value = 0;
	*matched_len = 0;
	if (family == AF_INET6 && is_v4_mapped(addr)) {
		family = AF_INET;
		addr += 12;
		extra = 96;
	}
	if (family == AF_INET) {
		uint32_t a;

		memcpy(&a, addr, 4);
		hi = (uint64_t)be32toh(a) << 32;
		f = &t->fam[0];
	} else if (family == AF_INET6) {
		hi = be64(addr);
		lo = be64(addr + 8);
		f = &t->fam[1];
	} else {
		return 0;
	}
	if (!f->root)
		return 0;
	slot = le32toh(f->root[hi >> 48]);
	while ((slot & SLOT_NODE) && d < 128) {
		slot = le32toh(f->nodes[(size_t)(slot & ~SLOT_NODE) * NODE_SLOTS +
					(bits32(hi, lo, d) >> (32 - STRIDE))]);
		d += STRIDE;
	}
	e = f->entries + 2 * (size_t)slot;
	n = le32toh(e[0]);
	k = bits32(hi, lo, d < 128 ? d : 127);
	while (i + 1 < n && le32toh(e[2 * (i + 1)]) <= k)
		i++;
	slot = le32toh(e[2 * i + 1]);
	meta = le32toh(t->res[2 * (size_t)slot + 1]);
	if (!(meta & RES_FOUND))
		return 0;
	*value = le32toh(t->res[2 * (size_t)slot]);
	*matched_len = (meta & 0xff) + extra;
	return 1;
}
