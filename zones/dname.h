/*
 * dname.h — domain names in uncompressed wire form (RFC 1035 3.1).
 *
 * A wire name is a sequence of length-prefixed labels ending with the root
 * label (a zero byte); at most 255 bytes, labels at most 63 bytes. All
 * functions here take absolute, uncompressed wire names.
 */
#ifndef POP53_DNAME_H
#define POP53_DNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNAME_MAXLEN    255
#define DNAME_MAXLABELS 128
/* Longest presentation form: every byte escaped as \DDD plus dots. */
#define DNAME_TEXT_MAX  (DNAME_MAXLEN * 4 + 2)

/* Parse a presentation-format name of len bytes (RFC 1035 5.1: \X and \DDD
 * escapes, "@" = origin, relative names get origin appended) into out.
 * origin may be NULL: then relative names and "@" are P53_ESYNTAX.
 * Returns the wire length (>= 1) or P53_ESYNTAX (empty label, bad escape),
 * P53_ERANGE (label > 63 or name > 255 bytes). */
int dname_from_text(const char *s, size_t len, const uint8_t *origin,
		    uint8_t out[DNAME_MAXLEN]);

/* Length of the wire name at w, reading at most maxlen bytes; P53_EFORMAT
 * if it is not a valid uncompressed name within maxlen (or 255) bytes. */
int dname_wire_len(const uint8_t *w, size_t maxlen);

/* Read the name at *pos of DNS message m (len bytes), following
 * compression pointers (RFC 1035 4.1.4; each must point strictly before
 * the one followed last, so loops end), into out as an uncompressed wire
 * name; *pos moves past the name as it sits in the message. Returns the
 * wire length or P53_EFORMAT (out of bounds, bad label type, a pointer
 * loop or forward, longer than 255 bytes). */
int dname_unpack(const uint8_t *m, size_t len, size_t *pos, uint8_t out[DNAME_MAXLEN]);

/* Lower-case ASCII letters of wire name w in place. */
void dname_lower(uint8_t *w);

/* The eight bytes of x with ASCII A-Z lower-cased at once (bytes with the
 * top bit set left alone): a byte loop costs a branch per byte. */
static inline uint64_t dname_lower8(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ull, high = ones * 0x80;
	uint64_t low7 = x & ~high;
	uint64_t ge_a = low7 + ones * (0x80 - 'A');
	uint64_t gt_z = low7 + ones * (0x7f - 'Z');

	return x | (((ge_a ^ gt_z) & ~x & high) >> 2);
}

/* Copy wire name src lower-cased into dst (which holds DNAME_MAXLEN);
 * returns the length. */
size_t dname_copy_lower(uint8_t *dst, const uint8_t *src);

/* Write the absolute presentation form ("www.example.", "." for the root)
 * with RFC 1035 escapes into out (cap bytes, NUL-terminated). Returns the
 * text length or P53_ESPACE. */
int dname_to_text(const uint8_t *w, char *out, size_t cap);

/* Case-insensitive equality of two wire names. */
bool dname_equal(const uint8_t *a, const uint8_t *b);

/* True if name equals parent or lies below it (case-insensitive). */
bool dname_is_subdomain(const uint8_t *name, const uint8_t *parent);

/* Number of labels, not counting the root label ("." has 0). */
int dname_labels(const uint8_t *w);

/* Pointer to the suffix of w that has `labels` labels (labels <= count). */
const uint8_t *dname_suffix(const uint8_t *w, int labels);

/* RFC 4034 6.1 canonical order: <0, 0, >0 like memcmp. Case-insensitive. */
int dname_canonical_cmp(const uint8_t *a, const uint8_t *b);

/* True if the first label of w is "*". */
bool dname_is_wildcard(const uint8_t *w);

#endif
