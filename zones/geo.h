/*
 * geo.h — longest-prefix-match tables (IPv4 and IPv6 prefix -> 32-bit
 * value), the packed location code, and their sources: MaxMind-format
 * databases (libmaxminddb) and operator CIDR maps.
 *
 * A table is built with a geo_builder (control plane or pop53-zonec:
 * allocates freely), serialized into one position-independent blob
 * (offsets only, little-endian, versioned; docs/geo.md has the layout) and
 * opened in place with geo_open, which verifies every byte the lookup can
 * reach. geo_lookup is for the query path: no allocation, locks, system
 * calls or logging; bounded work (at most 28 trie steps, one leaf of at
 * most 16 keys).
 *
 * A lookup returns the value AND the length of the prefix that supplied
 * it (the matched length); that length is what an answer that depends on
 * the lookup puts into the ECS SCOPE PREFIX-LENGTH (RFC 7871).
 */
#ifndef POP53_GEO_H
#define POP53_GEO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

struct yconf_node;

/* ---- location code ------------------------------------------------------
 *
 * A location is a packed uint32_t, so that a table value, a policy rule
 * and a comparison are all one word:
 *
 *   bits 31..29  continent: 0 none, 1 AF, 2 AN, 3 AS, 4 EU, 5 NA, 6 OC, 7 SA
 *   bits 28..24  country, first letter:  0 none, 1..26 = A..Z
 *   bits 23..19  country, second letter: 0 none, 1..26 = A..Z
 *   bit  18      zero
 *   bits 17..12  subdivision, 1st character: 0 none, 1..26 A..Z, 27..36 0..9
 *   bits 11..6   subdivision, 2nd character (same coding)
 *   bits  5..0   subdivision, 3rd character (same coding)
 *
 * Country is ISO 3166-1 alpha-2, subdivision the ISO 3166-2 part after the
 * dash (1-3 letters or digits, left-aligned: "75" is 7,5,none). A
 * subdivision needs a country; a country may come without a continent
 * (databases sometimes lack it). GEO_LOC_NONE (0) is "unknown". Matching
 * a rule at some level compares only that level's field (and the ones it
 * depends on): GEO_LOC_COUNTRY(a) == GEO_LOC_COUNTRY(b), and so on.
 */
#define GEO_LOC_NONE 0u

#define GEO_LOC_CONTINENT(c)   ((unsigned)((c) >> 29))            /* 0..7 */
#define GEO_LOC_COUNTRY(c)     ((unsigned)(((c) >> 19) & 0x3ffu)) /* 0: none */
#define GEO_LOC_SUBDIV(c)      ((unsigned)((c) & 0x3ffffu))       /* 0: none */
/* Country and subdivision together: a subdivision is only meaningful
 * within its country. */
#define GEO_LOC_COUNTRY_SUBDIV(c) ((unsigned)((c) & 0x1ffbffffu))

/* A location taken apart: NUL-terminated upper-case text, "" when absent. */
struct geo_loc_parts {
	char continent[3];
	char country[3];
	char subdivision[4];
};

/* Pack a location from its parts; NULL or "" means absent. Letters are
 * accepted in either case and stored upper-case. Returns 0 and *out, or
 * P53_EINVAL: unknown continent, country not two letters, subdivision not
 * 1-3 letters/digits, or a subdivision without a country. */
int geo_loc_pack(const char *continent, const char *country, const char *subdivision,
		 uint32_t *out);

/* Parse "CONTINENT[-COUNTRY[-SUBDIVISION]]" ("EU", "EU-FR", "EU-FR-IDF",
 * any case), the form CIDR maps and policy files use. Returns 0 or
 * P53_EINVAL (text not of that form; see geo_loc_pack). */
int geo_loc_parse(const char *text, uint32_t *out);

/* Unpack code into out. Returns 0, or P53_EFORMAT for a word that
 * geo_loc_pack cannot produce (then out holds what could be decoded). */
int geo_loc_unpack(uint32_t code, struct geo_loc_parts *out);

/* Text form into buf (cap bytes; 12 always suffice): "EU-FR-IDF", "EU",
 * "*-FR" for a country without continent, "none" for GEO_LOC_NONE,
 * "invalid" for a word geo_loc_unpack refuses. Returns buf. */
const char *geo_loc_format(uint32_t code, char *buf, size_t cap);

/*
 * Coordinates as a table value (the snapshot's SNAP_SECT_COORDS table, for
 * geoproximity): latitude and longitude in hundredths of a degree, as two
 * signed 16-bit halves (latitude high). About 1 km of resolution, which is
 * finer than any address database locates a network.
 */
static inline uint32_t geo_coord_pack(double lat, double lon)
{
	int16_t a = (int16_t)(lat * 100.0 + (lat < 0 ? -0.5 : 0.5));
	int16_t o = (int16_t)(lon * 100.0 + (lon < 0 ? -0.5 : 0.5));

	return (uint32_t)(uint16_t)a << 16 | (uint16_t)o;
}

/* Unpack a value; false (and nothing stored) when it is out of range. */
static inline bool geo_coord_unpack(uint32_t v, double *lat, double *lon)
{
	int16_t a = (int16_t)(uint16_t)(v >> 16), o = (int16_t)(uint16_t)v;

	if (a < -9000 || a > 9000 || o < -18000 || o > 18000)
		return false;
	*lat = a / 100.0;
	*lon = o / 100.0;
	return true;
}

/* ---- building ----------------------------------------------------------- */

struct geo_builder;  /* opaque; prefixes collected before serialization */

/* Layers: a prefix in a higher layer hides every lower-layer prefix
 * inside it (an operator CIDR map overrides the database for the whole
 * network it names, however specific the database is there). Within a
 * layer the most specific prefix wins. */
enum geo_layer {
	GEO_LAYER_DB  = 0,  /* databases (geo_import_mmdb) */
	GEO_LAYER_MAP = 1,  /* operator maps (geo_add_cidr_map_*) */
};

/* Families: the socket constants, AF_INET (addr has 4 bytes) and AF_INET6
 * (16 bytes). */

/* New empty builder in *out (free with geo_builder_free). P53_ENOMEM. */
int geo_builder_new(struct geo_builder **out);

/* Free b and everything in it. NULL is fine. */
void geo_builder_free(struct geo_builder *b);

/* Add prefix addr/plen of family -> value in layer. A later addition of
 * the same prefix in the same layer replaces the earlier one. IPv6 prefixes
 * inside ::ffff:0:0/96 (IPv4-mapped) are stored as the IPv4 prefix they
 * name. Errors: P53_EINVAL (unknown family or layer, plen too long, bits
 * set after plen), P53_ELIMIT (more than 2^28 prefixes), P53_ENOMEM. */
int geo_builder_add(struct geo_builder *b, int family, const void *addr, unsigned plen,
		    uint32_t value, enum geo_layer layer);

/* Prefixes added so far (duplicates counted), both families. */
size_t geo_builder_count(const struct geo_builder *b);

/* Serialize b into a malloc'd blob (*out, *len; the caller frees it).
 * b is left as it was (more may be added and serialized again).
 * Errors: P53_ERANGE (blob over 4 GiB), P53_ENOMEM. */
int geo_builder_serialize(const struct geo_builder *b, uint8_t **out, size_t *len);

/* ---- sources ------------------------------------------------------------ */

/* Add every network of the MaxMind DB at path (GeoIP2/GeoLite2 Country or
 * City, DB-IP's MMDB files, anything with the same record shape) to b in
 * GEO_LAYER_DB, valued by its location code: continent.code,
 * country.iso_code (registered_country.iso_code when there is no country)
 * and subdivisions[0].iso_code. Networks with none of them are skipped; a
 * component that does not fit the code (say a 4-character subdivision) is
 * left out and counted in one warning. In an IPv6 database, IPv4 lives at
 * ::/96; the aliases pointing there (::ffff:0:0/96, 2002::/16, ...) are
 * not walked again. Returns the number of networks added, or P53_EIO
 * (cannot open or read), P53_EFORMAT (not a MaxMind DB, corrupt tree or
 * data, fields of the wrong type), P53_ENOMEM; each with a message in d
 * naming the file (and the network, for data errors). */
long geo_import_mmdb(struct geo_builder *b, const char *path, struct diag *d);

/* The same walk for a coordinates table (SNAP_SECT_COORDS, geoproximity):
 * each network valued geo_coord_pack(location.latitude,
 * location.longitude), as City databases have them. Networks without both
 * numbers are skipped (a Country database yields none: returns 0); a
 * position out of range skips its network, counted in one warning.
 * Returns the number of networks added; errors as geo_import_mmdb
 * (P53_EFORMAT for a latitude or longitude that is not a double). */
long geo_import_mmdb_coords(struct geo_builder *b, const char *path, struct diag *d);

/* What the values of a CIDR map are. */
enum geo_map_kind {
	GEO_MAP_LOCATION = 0,  /* "EU", "EU-FR", "EU-FR-IDF" (geo_loc_parse) */
	GEO_MAP_VALUE    = 1,  /* decimal 0..4294967295, e.g. a latency row */
	GEO_MAP_COORDS   = 2,  /* "LAT,LON" in degrees ("48.86,2.35"): geo_coord_pack */
};

/* Add an operator CIDR map to b in GEO_LAYER_MAP. A text file has one
 * "PREFIX VALUE" per line ('#' starts a comment; blank lines are fine);
 * PREFIX is "192.0.2.0/24", "2001:db8::/32" or a bare address (a host).
 * Errors, reported with file:line:col in d: P53_ESYNTAX (bad prefix,
 * value or line), P53_EIO (cannot read), P53_ENOMEM. Returns the number
 * of prefixes added. */
long geo_add_cidr_map_file(struct geo_builder *b, const char *path, enum geo_map_kind kind,
			   struct diag *d);

/* The same for text in memory (len bytes); name is used in messages. */
long geo_add_cidr_map_text(struct geo_builder *b, const char *name, const char *text,
			   size_t len, enum geo_map_kind kind, struct diag *d);

/* The same from a YAML node (zones/yconf.h): a mapping whose entries are
 * either "PREFIX: VALUE" or "VALUE: [PREFIX, ...]" (both may be mixed).
 * Errors at the node's position: P53_ESYNTAX, P53_ENOMEM. */
long geo_add_cidr_map_yaml(struct geo_builder *b, const struct yconf_node *map,
			   enum geo_map_kind kind, struct diag *d);

/* Parse "ADDR/LEN" or "ADDR" into family, addr (16 bytes; IPv4 in the
 * first 4) and plen; bits after plen must be zero. Returns 0 or
 * P53_ESYNTAX with the reason in err (cap bytes). */
int geo_parse_prefix(const char *text, int *family, uint8_t addr[16], unsigned *plen,
		     char *err, size_t cap);

/* ---- lookup ------------------------------------------------------------- */

/* An opened table: a view into a verified blob (which the caller keeps
 * alive and unchanged while the table is used). Fields are private. */
struct geo_fam_view {
	const uint32_t *root;     /* 65536 slots, NULL for an empty family */
	const uint32_t *nodes;    /* 16 slots per node */
	const uint32_t *entries;  /* (key, result) pairs */
};
struct geo_table {
	const uint32_t *res;      /* (value, length | found << 8) pairs */
	struct geo_fam_view fam[2];
};

/* Verify blob (len bytes, 4-byte aligned: P53_EINVAL otherwise) and make
 * *t a view of it. Every offset, count, slot, key and result the lookup
 * can reach is checked, so a corrupt or hostile blob gives P53_EFORMAT
 * (P53_EVERSION for another format version), never a bad read later.
 * The reason goes to d (may be NULL). No allocation. */
int geo_open(const void *blob, size_t len, struct geo_table *t, struct diag *d);

/* Longest-prefix match of addr (4 bytes for AF_INET, 16 for AF_INET6).
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is looked up in the IPv4
 * part, and its matched length is then 96 + the IPv4 length.
 * Returns 1 with *value and *matched_len (the matched prefix's length,
 * which may be 0 for a 0/0 or ::/0 entry), or 0 when nothing matches (or
 * the family is unknown) with *value = 0 and *matched_len = 0.
 * Query path: no allocation, no locks, no system calls. */
int geo_lookup(const struct geo_table *t, int family, const uint8_t *addr, uint32_t *value,
	       unsigned *matched_len);

#endif
