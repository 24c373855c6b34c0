/*
 * geo_import.c — the sources of a geo table: MaxMind-format databases
 * (through libmaxminddb) and operator CIDR maps (text lines or YAML).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <maxminddb.h>

#include "error.h"
#include "geo.h"
#include "yconf.h"

typedef unsigned __int128 u128;

#define MAP_MAX_FILE (512u << 20)
#define SKIP_DATA    UINT64_MAX

/* ---- MaxMind DB --------------------------------------------------------- */

/* Data records are shared by many networks: each is decoded once. */
struct dcache {
	uint32_t *off;      /* data offset + 1; 0 = empty slot */
	uint64_t *code;     /* location code, or SKIP_DATA */
	size_t n, mask;
};

struct mwalk {
	MMDB_s db;
	struct geo_builder *b;
	struct diag *d;
	const char *path;
	uint32_t node_count, v4_start;
	bool v6;
	unsigned bits;
	uint64_t visits, max_visits;
	struct dcache cache;
	long added;
	unsigned long trimmed;  /* records with a code part left out, or (coords) out of range */
	bool coords;            /* values are coordinates, not locations */
};

static int decode_coords(struct mwalk *w, MMDB_entry_s *e, const char *net, uint64_t *out);

static int cache_grow(struct dcache *c)
{
	size_t size = c->mask ? (c->mask + 1) * 2 : 1024;
	uint32_t *off = calloc(size, sizeof(*off));
	uint64_t *code = malloc(size * sizeof(*code));

	if (!off || !code) {
		free(off);
		free(code);
		return P53_ENOMEM;
	}
	for (size_t i = 0; c->mask && i <= c->mask; i++) {
		size_t k;

		if (!c->off[i])
			continue;
		for (k = (c->off[i] * 2654435761u) & (size - 1); off[k]; k = (k + 1) & (size - 1))
			;
		off[k] = c->off[i];
		code[k] = c->code[i];
	}
	free(c->off);
	free(c->code);
	c->off = off;
	c->code = code;
	c->mask = size - 1;
	return 0;
}

/* Slot for data offset o: found (*hit) or the empty slot to fill. */
static size_t cache_slot(const struct dcache *c, uint32_t o, bool *hit)
{
	size_t k = ((o + 1u) * 2654435761u) & c->mask;

	while (c->off[k] && c->off[k] != o + 1u)
		k = (k + 1) & c->mask;
	*hit = c->off[k] != 0;
	return k;
}

/* "192.0.2.0/24" for messages; path holds IPv4 in its low 32 bits. */
static void net_text(u128 path, unsigned plen, bool v6, char *buf, size_t cap)
{
	uint8_t a[16];
	char txt[INET6_ADDRSTRLEN];

	for (int i = 15; i >= 0; i--, path >>= 8)
		a[i] = (uint8_t)path;
	inet_ntop(v6 ? AF_INET6 : AF_INET, v6 ? a : a + 12, txt, sizeof(txt));
	snprintf(buf, cap, "%s/%u", txt, plen);
}

static const char *type_name(uint32_t t)
{
	switch (t) {
	case MMDB_DATA_TYPE_UTF8_STRING: return "a string";
	case MMDB_DATA_TYPE_MAP: return "a map";
	case MMDB_DATA_TYPE_ARRAY: return "an array";
	case MMDB_DATA_TYPE_DOUBLE: return "a double";
	case MMDB_DATA_TYPE_FLOAT: return "a float";
	case MMDB_DATA_TYPE_BOOLEAN: return "a boolean";
	case MMDB_DATA_TYPE_BYTES: return "bytes";
	default: return "an integer";
	}
}

/* The string at path under e into buf (cut to cap-1 bytes: a longer one
 * cannot be a code anyway). 0 found, 1 absent, negative error. */
static int get_str(struct mwalk *w, MMDB_entry_s *e, const char *const *path, char *buf,
		   size_t cap, const char *net, const char *what)
{
	MMDB_entry_data_s ed;
	int st = MMDB_aget_value(e, &ed, path);
	size_t n;

	buf[0] = 0;
	if (st == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR || (st == MMDB_SUCCESS && !ed.has_data))
		return 1;
	if (st != MMDB_SUCCESS) {
		diag_error(w->d, w->path, 0, 0, "network %s: %s: %s", net, what, MMDB_strerror(st));
		return P53_EFORMAT;
	}
	if (ed.type != MMDB_DATA_TYPE_UTF8_STRING) {
		diag_error(w->d, w->path, 0, 0, "network %s: %s is %s, not a string", net, what,
			   type_name(ed.type));
		return P53_EFORMAT;
	}
	n = ed.data_size < cap ? ed.data_size : cap - 1;
	memcpy(buf, ed.utf8_string, n);
	buf[n] = 0;
	return ed.data_size ? 0 : 1;
}

/* Location code of a data record; SKIP_DATA when it names no place. */
static int decode(struct mwalk *w, MMDB_entry_s *e, const char *net, uint64_t *out)
{
	static const char *const p_cont[] = { "continent", "code", NULL };
	static const char *const p_ctry[] = { "country", "iso_code", NULL };
	static const char *const p_reg[] = { "registered_country", "iso_code", NULL };
	static const char *const p_sub[] = { "subdivisions", "0", "iso_code", NULL };
	char cont[8], ctry[8], sub[8];
	uint32_t code, x;
	int r, trimmed = 0;

	if (w->coords)
		return decode_coords(w, e, net, out);
	if ((r = get_str(w, e, p_cont, cont, sizeof(cont), net, "continent.code")) < 0 ||
	    (r = get_str(w, e, p_ctry, ctry, sizeof(ctry), net, "country.iso_code")) < 0 ||
	    (r = get_str(w, e, p_sub, sub, sizeof(sub), net, "subdivisions[0].iso_code")) < 0)
		return r;
	if (!ctry[0] &&
	    (r = get_str(w, e, p_reg, ctry, sizeof(ctry), net, "registered_country.iso_code")) < 0)
		return r;
	if (cont[0] && geo_loc_pack(cont, NULL, NULL, &x))
		cont[0] = 0, trimmed = 1;
	if (ctry[0] && geo_loc_pack(NULL, ctry, NULL, &x))
		ctry[0] = 0, trimmed = 1;
	if (sub[0] && (!ctry[0] || geo_loc_pack(NULL, ctry, sub, &x)))
		sub[0] = 0, trimmed = 1;
	w->trimmed += (unsigned long)trimmed;
	if (geo_loc_pack(cont, ctry, sub, &code) || code == GEO_LOC_NONE)
		*out = SKIP_DATA;
	else
		*out = code;
	return 0;
}

static int add_net(struct mwalk *w, u128 path, unsigned plen, uint32_t code)
{
	uint8_t a[16];
	int err;

	for (int i = 15; i >= 0; i--)
		a[i] = (uint8_t)(path >> (8 * (15 - i)));
	if (!w->v6)
		return geo_builder_add(w->b, AF_INET, a, plen, code, GEO_LAYER_DB);
	if (plen >= 96 && !(path >> 32))
		return geo_builder_add(w->b, AF_INET, a + 12, plen - 96, code, GEO_LAYER_DB);
	err = geo_builder_add(w->b, AF_INET6, a, plen, code, GEO_LAYER_DB);
	/* ::/plen with plen < 96 covers ::/96, where IPv4 lives. */
	if (!err && path == 0)
		err = geo_builder_add(w->b, AF_INET, a, 0, code, GEO_LAYER_DB);
	return err;
}

static int data_record(struct mwalk *w, MMDB_entry_s *e, u128 path, unsigned plen)
{
	char net[64];
	uint64_t code;
	size_t k;
	bool hit;
	int err;

	if (!w->v6)
		net_text(path >> 96, plen, false, net, sizeof(net));
	else if (plen >= 96 && !(path >> 32))
		net_text(path, plen - 96, false, net, sizeof(net));
	else
		net_text(path, plen, true, net, sizeof(net));
	if (w->cache.n * 2 >= w->cache.mask && (err = cache_grow(&w->cache)))
		return err;
	k = cache_slot(&w->cache, e->offset, &hit);
	if (hit) {
		code = w->cache.code[k];
	} else {
		if ((err = decode(w, e, net, &code)))
			return err;
		w->cache.off[k] = e->offset + 1u;
		w->cache.code[k] = code;
		w->cache.n++;
	}
	if (code == SKIP_DATA)
		return 0;
	if ((err = add_net(w, path, plen, (uint32_t)code)))
		return err;
	w->added++;
	return 0;
}

static int walk(struct mwalk *w, uint32_t node, unsigned depth, u128 path);

static int record(struct mwalk *w, const MMDB_search_node_s *sn, int side, unsigned depth,
		  u128 path)
{
	uint8_t type = side ? sn->right_record_type : sn->left_record_type;
	uint64_t rec = side ? sn->right_record : sn->left_record;
	MMDB_entry_s e = side ? sn->right_record_entry : sn->left_record_entry;
	u128 child = path | ((u128)side << (127 - depth));

	switch (type) {
	case MMDB_RECORD_TYPE_EMPTY:
		return 0;
	case MMDB_RECORD_TYPE_DATA:
		return data_record(w, &e, child, depth + 1);
	case MMDB_RECORD_TYPE_SEARCH_NODE:
		/* The IPv4 subtree is walked from ::/96 only, not from its aliases. */
		if (w->v6 && rec == w->v4_start && !(depth + 1 == 96 && child == 0))
			return 0;
		return walk(w, (uint32_t)rec, depth + 1, child);
	}
	diag_error(w->d, w->path, 0, 0, "corrupt search tree: invalid record at depth %u",
		   depth + 1);
	return P53_EFORMAT;
}

static int walk(struct mwalk *w, uint32_t node, unsigned depth, u128 path)
{
	MMDB_search_node_s sn;
	int st, err;

	if (depth >= w->bits || ++w->visits > w->max_visits) {
		diag_error(w->d, w->path, 0, 0, "corrupt search tree: %s at node %u",
			   depth >= w->bits ? "deeper than the address" : "nodes reached repeatedly",
			   node);
		return P53_EFORMAT;
	}
	st = MMDB_read_node(&w->db, node, &sn);
	if (st != MMDB_SUCCESS) {
		diag_error(w->d, w->path, 0, 0, "corrupt search tree: node %u: %s", node,
			   MMDB_strerror(st));
		return P53_EFORMAT;
	}
	err = record(w, &sn, 0, depth, path);
	return err ? err : record(w, &sn, 1, depth, path);
}

/* The node IPv4 starts at in an IPv6 tree (96 left turns), if any. */
static uint32_t find_v4_start(struct mwalk *w)
{
	MMDB_search_node_s sn;
	uint32_t node = 0;

	for (unsigned i = 0; i < 96; i++) {
		if (MMDB_read_node(&w->db, node, &sn) != MMDB_SUCCESS ||
		    sn.left_record_type != MMDB_RECORD_TYPE_SEARCH_NODE)
			return UINT32_MAX;
		node = (uint32_t)sn.left_record;
	}
	return node;
}

static int open_db(struct mwalk *w)
{
	int st = MMDB_open(w->path, MMDB_MODE_MMAP, &w->db);

	if (st == MMDB_SUCCESS)
		return 0;
	if (st == MMDB_FILE_OPEN_ERROR || st == MMDB_IO_ERROR) {
		diag_error(w->d, w->path, 0, 0, "cannot read: %s", strerror(errno));
		return P53_EIO;
	}
	if (st == MMDB_OUT_OF_MEMORY_ERROR) {
		diag_error(w->d, w->path, 0, 0, "out of memory opening the database");
		return P53_ENOMEM;
	}
	diag_error(w->d, w->path, 0, 0, "not a valid MaxMind DB: %s", MMDB_strerror(st));
	return P53_EFORMAT;
}

/* Walk the whole database of w->path into w->b. */
static long import_db(struct mwalk *w)
{
	int err = open_db(w);

	if (err)
		return err;
	w->node_count = w->db.metadata.node_count;
	w->v6 = w->db.metadata.ip_version == 6;
	w->bits = w->v6 ? 128 : 32;
	/* A tree visits each node once; the slack only tolerates writers that
	 * share subtrees, and still bounds a cyclic one. */
	w->max_visits = 4ull * w->node_count + 1024;
	if (w->v6)
		w->v4_start = find_v4_start(w);
	err = w->node_count ? walk(w, 0, 0, 0) : 0;
	if (err == P53_EINVAL) {
		diag_error(w->d, w->path, 0, 0, "network not usable as a prefix");
		err = P53_EFORMAT;
	} else if (err == P53_ENOMEM || err == P53_ELIMIT) {
		diag_error(w->d, w->path, 0, 0, "%s", p53_strerror(err));
	}
	MMDB_close(&w->db);
	free(w->cache.off);
	free(w->cache.code);
	return err ? err : w->added;
}

long geo_import_mmdb(struct geo_builder *b, const char *path, struct diag *d)
{
	struct mwalk w = { .b = b, .d = d, .path = path, .v4_start = UINT32_MAX };
	long r = import_db(&w);

	if (r >= 0 && w.trimmed)
		diag_warn(d, path, 0, 0,
			  "%lu data records have a continent, country or subdivision code that "
			  "does not fit a location code; those parts were left out", w.trimmed);
	return r;
}

/* ---- CIDR maps ---------------------------------------------------------- */

int geo_parse_prefix(const char *text, int *family, uint8_t addr[16], unsigned *plen,
		     char *err, size_t cap)
{
	const char *slash = strchr(text, '/');
	char a[INET6_ADDRSTRLEN + 1];
	size_t n = slash ? (size_t)(slash - text) : strlen(text);
	unsigned bits, len = 0, nb;

	memset(addr, 0, 16);
	if (n == 0 || n >= sizeof(a))
		goto bad;
	memcpy(a, text, n);
	a[n] = 0;
	*family = strchr(a, ':') ? AF_INET6 : AF_INET;
	bits = *family == AF_INET6 ? 128 : 32;
	if (inet_pton(*family, a, addr) != 1)
		goto bad;
	if (!slash) {
		len = bits;
	} else {
		const char *p = slash + 1;

		if (!*p || strlen(p) > 3)
			goto bad;
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				goto bad;
			len = len * 10 + (unsigned)(*p - '0');
		}
		if (len > bits) {
			snprintf(err, cap, "prefix length %u is longer than %u", len, bits);
			return P53_ESYNTAX;
		}
	}
	nb = bits / 8;
	for (unsigned i = 0; i < nb; i++) {
		unsigned keep = len >= 8 * (i + 1) ? 8 : len > 8 * i ? len - 8 * i : 0;
		uint8_t host = (uint8_t)(0xffu >> keep);

		if (addr[i] & host) {
			snprintf(err, cap, "'%s' has bits set after /%u", text, len);
			return P53_ESYNTAX;
		}
	}
	*plen = len;
	return 0;
bad:
	snprintf(err, cap, "'%s' is not an address or ADDRESS/LENGTH prefix", text);
	return P53_ESYNTAX;
}

static int parse_coords(const char *text, uint32_t *out, char *err, size_t cap);

static int parse_value(const char *text, enum geo_map_kind kind, uint32_t *out, char *err,
		       size_t cap)
{
	if (kind == GEO_MAP_COORDS)
		return parse_coords(text, out, err, cap);
	if (kind == GEO_MAP_LOCATION) {
		if (!geo_loc_parse(text, out))
			return 0;
		snprintf(err, cap, "'%s' is not a location (CONTINENT[-COUNTRY[-SUBDIVISION]], "
			 "e.g. EU-FR-IDF)", text);
		return P53_ESYNTAX;
	}
	uint64_t v = 0;
	const char *p = text;

	for (; *p >= '0' && *p <= '9' && v <= UINT32_MAX; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	if (p == text || *p || v > UINT32_MAX) {
		snprintf(err, cap, "'%s' is not a number from 0 to 4294967295", text);
		return P53_ESYNTAX;
	}
	*out = (uint32_t)v;
	return 0;
}

/* Add one "PREFIX VALUE" pair; err gets the reason for P53_ESYNTAX. */
static int map_add(struct geo_builder *b, const char *prefix, const char *value,
		   enum geo_map_kind kind, char *err, size_t cap, int *bad_value)
{
	uint8_t addr[16];
	unsigned plen;
	uint32_t v;
	int fam, r;

	*bad_value = 0;
	if ((r = geo_parse_prefix(prefix, &fam, addr, &plen, err, cap)))
		return r;
	if ((r = parse_value(value, kind, &v, err, cap))) {
		*bad_value = 1;
		return r;
	}
	r = geo_builder_add(b, fam, addr, plen, v, GEO_LAYER_MAP);
	if (r)
		snprintf(err, cap, "%s", p53_strerror(r));
	return r;
}

/* Split a line into at most 3 words (the third means too many). */
static unsigned words(char *line, char **w, unsigned *col)
{
	unsigned n = 0;
	char *p = line;

	while (n < 3) {
		p += strspn(p, " \t\r");
		if (!*p || *p == '#')
			break;
		w[n] = p;
		col[n++] = (unsigned)(p - line) + 1;
		p += strcspn(p, " \t\r#");
		if (*p == '#') {
			*p = 0;
			break;
		}
		if (*p)
			*p++ = 0;
	}
	return n;
}

static int map_line(struct geo_builder *b, const char *name, unsigned lineno, char *line,
		    enum geo_map_kind kind, struct diag *d)
{
	char *w[3], err[160];
	unsigned col[3], n = words(line, w, col);
	int r, bad_value;

	if (n == 0)
		return 0;
	if (n != 2) {
		diag_error(d, name, lineno, col[n == 1 ? 0 : 2],
			   "expected \"PREFIX VALUE\", got %s", n == 1 ? "one word" : "more words");
		return P53_ESYNTAX;
	}
	r = map_add(b, w[0], w[1], kind, err, sizeof(err), &bad_value);
	if (r)
		diag_error(d, name, lineno, col[bad_value ? 1 : 0], "%s", err);
	return r;
}

long geo_add_cidr_map_text(struct geo_builder *b, const char *name, const char *text,
			   size_t len, enum geo_map_kind kind, struct diag *d)
{
	size_t before = geo_builder_count(b), pos = 0;
	unsigned lineno = 0;
	char *line = NULL;
	int err = 0;

	while (pos < len && !err) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char *l = realloc(line, n + 1);

		if (!l) {
			err = P53_ENOMEM;
			break;
		}
		line = l;
		memcpy(line, text + pos, n);
		line[n] = 0;
		lineno++;
		if (strlen(line) != n) {
			diag_error(d, name, lineno, 0, "NUL byte in a CIDR map");
			err = P53_ESYNTAX;
		} else {
			err = map_line(b, name, lineno, line, kind, d);
		}
		pos += n + 1;
	}
	free(line);
	return err ? err : (long)(geo_builder_count(b) - before);
}

long geo_add_cidr_map_file(struct geo_builder *b, const char *path, enum geo_map_kind kind,
			   struct diag *d)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	long r = P53_EIO;

	if (!f) {
		diag_error(d, path, 0, 0, "cannot read: %s", strerror(errno));
		return P53_EIO;
	}
	for (;;) {
		if (len == cap) {
			char *nb = cap < MAP_MAX_FILE ? realloc(buf, cap ? cap * 2 : 65536) : NULL;

			if (!nb) {
				diag_error(d, path, 0, 0, cap < MAP_MAX_FILE ? "out of memory" :
					   "larger than %u MiB", MAP_MAX_FILE >> 20);
				r = cap < MAP_MAX_FILE ? P53_ENOMEM : P53_ELIMIT;
				goto fail;
			}
			buf = nb;
			cap = cap ? cap * 2 : 65536;
		}
		size_t got = fread(buf + len, 1, cap - len, f);

		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		diag_error(d, path, 0, 0, "cannot read: %s", strerror(errno));
		goto fail;
	}
	r = geo_add_cidr_map_text(b, path, buf, len, kind, d);
fail:
	fclose(f);
	free(buf);
	return r;
}

static int yaml_pair(struct geo_builder *b, const struct yconf_node *pn, const char *prefix,
		     const struct yconf_node *vn, const char *value, enum geo_map_kind kind,
		     struct diag *d)
{
	char err[160];
	int bad_value, r = map_add(b, prefix, value, kind, err, sizeof(err), &bad_value);

	if (r)
		yconf_error(bad_value ? vn : pn, d, "%s", err);
	return r;
}

long geo_add_cidr_map_yaml(struct geo_builder *b, const struct yconf_node *map,
			   enum geo_map_kind kind, struct diag *d)
{
	size_t before = geo_builder_count(b);
	int err = yconf_expect(map, YCONF_MAP, d);

	for (size_t i = 0; !err && i < yconf_count(map); i++) {
		const struct yconf_node *k = yconf_key_at(map, i), *v = yconf_at(map, i);
		char buf[64], shown[64];

		if (yconf_kind(v) == YCONF_SCALAR) {
			err = yaml_pair(b, k, yconf_text(k), v, yconf_text(v), kind, d);
			continue;
		}
		if (yconf_kind(v) != YCONF_SEQ) {
			yconf_error(v, d, "%s must be a value or a list of prefixes, got %s",
				    yconf_text(k), yconf_show(v, buf, sizeof(buf)));
			return P53_ESYNTAX;
		}
		for (size_t j = 0; !err && j < yconf_count(v); j++) {
			const struct yconf_node *p = yconf_at(v, j);

			if (yconf_kind(p) != YCONF_SCALAR) {
				yconf_error(p, d, "%s must be a prefix, got %s",
					    yconf_name(p, buf, sizeof(buf)),
					    yconf_show(p, shown, sizeof(shown)));
				return P53_ESYNTAX;
			}
			err = yaml_pair(b, p, yconf_text(p), k, yconf_text(k), kind, d);
		}
	}
	return err ? err : (long)(geo_builder_count(b) - before);
}

/* ---- coordinates (geoproximity) ------------------------------------------ */

/* The number at path under e. 0 found, 1 absent, negative error. */
static int get_double(struct mwalk *w, MMDB_entry_s *e, const char *const *path, double *v,
		      const char *net, const char *what)
{
	MMDB_entry_data_s ed;
	int st = MMDB_aget_value(e, &ed, path);

	if (st == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR || (st == MMDB_SUCCESS && !ed.has_data))
		return 1;
	if (st != MMDB_SUCCESS) {
		diag_error(w->d, w->path, 0, 0, "network %s: %s: %s", net, what, MMDB_strerror(st));
		return P53_EFORMAT;
	}
	if (ed.type == MMDB_DATA_TYPE_DOUBLE) {
		*v = ed.double_value;
		return 0;
	}
	if (ed.type == MMDB_DATA_TYPE_FLOAT) {
		*v = ed.float_value;
		return 0;
	}
	diag_error(w->d, w->path, 0, 0, "network %s: %s is %s, not a double", net, what,
		   type_name(ed.type));
	return P53_EFORMAT;
}

/* Packed coordinates of a data record; SKIP_DATA without both numbers or
 * with one out of range (counted in w->trimmed). */
static int decode_coords(struct mwalk *w, MMDB_entry_s *e, const char *net, uint64_t *out)
{
	static const char *const p_lat[] = { "location", "latitude", NULL };
	static const char *const p_lon[] = { "location", "longitude", NULL };
	double lat = 0, lon = 0;
	int a, o;

	*out = SKIP_DATA;
	if ((a = get_double(w, e, p_lat, &lat, net, "location.latitude")) < 0)
		return a;
	if ((o = get_double(w, e, p_lon, &lon, net, "location.longitude")) < 0)
		return o;
	if (a || o)
		return 0;
	/* written so that NaN fails too */
	if (!(lat >= -90.0 && lat <= 90.0 && lon >= -180.0 && lon <= 180.0)) {
		w->trimmed++;
		return 0;
	}
	*out = geo_coord_pack(lat, lon);
	return 0;
}

long geo_import_mmdb_coords(struct geo_builder *b, const char *path, struct diag *d)
{
	struct mwalk w = { .b = b, .d = d, .path = path, .v4_start = UINT32_MAX, .coords = true };
	long r = import_db(&w);

	if (r >= 0 && w.trimmed)
		diag_warn(d, path, 0, 0, "%lu data records have a latitude or longitude out of "
			  "range; their networks were left out", w.trimmed);
	return r;
}

/* Degrees in [-lim, lim] from s..end: digits, one sign, a decimal point
 * (no exponents, "inf" or "nan": a map is written by people). */
static bool parse_degrees(const char *s, const char *end, double lim, double *out)
{
	size_t n = (size_t)(end - s);
	char buf[32], *e;

	if (!n || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = 0;
	if (strspn(buf, "+-.0123456789") != n)
		return false;
	*out = strtod(buf, &e);
	return e != buf && !*e && *out >= -lim && *out <= lim;
}

static int parse_coords(const char *text, uint32_t *out, char *err, size_t cap)
{
	const char *comma = strchr(text, ',');
	double lat, lon;

	if (!comma || !parse_degrees(text, comma, 90.0, &lat) ||
	    !parse_degrees(comma + 1, comma + strlen(comma), 180.0, &lon)) {
		snprintf(err, cap, "'%s' is not a position LATITUDE,LONGITUDE in degrees "
			 "(-90..90,-180..180, e.g. 48.86,2.35)", text);
		return P53_ESYNTAX;
	}
	*out = geo_coord_pack(lat, lon);
	return 0;
}
