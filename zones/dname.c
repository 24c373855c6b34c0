/*
 * dname.c — domain names: presentation form <-> wire form, comparisons.
 *
 * Every walk over a wire name is bounded by DNAME_MAXLEN and rejects label
 * lengths above 63, so a corrupt name can make a function return "no" or
 * an error, but never read past 255 bytes.
 */
#include <string.h>

#include "dname.h"
#include "error.h"

#define LABEL_MAX 63

static inline uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

static inline int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Decode the escape whose backslash precedes s[*i]: "\X" gives X, "\DDD"
 * gives the decimal byte (exactly three digits, at most 255). */
static int unescape(const char *s, size_t len, size_t *i, uint8_t *byte)
{
	size_t j = *i;
	unsigned v;

	if (j >= len)
		return P53_ESYNTAX;
	if (!is_digit(s[j])) {
		*byte = (uint8_t)s[j];
		*i = j + 1;
		return 0;
	}
	if (len - j < 3 || !is_digit(s[j + 1]) || !is_digit(s[j + 2]))
		return P53_ESYNTAX;
	v = (unsigned)(s[j] - '0') * 100 + (unsigned)(s[j + 1] - '0') * 10 +
	    (unsigned)(s[j + 2] - '0');
	if (v > 255)
		return P53_ESYNTAX;
	*byte = (uint8_t)v;
	*i = j + 3;
	return 0;
}

static int copy_origin(const uint8_t *origin, uint8_t *out, size_t pos)
{
	int olen;

	if (!origin)
		return P53_ESYNTAX;
	olen = dname_wire_len(origin, DNAME_MAXLEN);
	if (olen < 0)
		return P53_EINVAL;
	if (pos + (size_t)olen > DNAME_MAXLEN)
		return P53_ERANGE;
	memcpy(out + pos, origin, (size_t)olen);
	return (int)pos + olen;
}

int dname_from_text(const char *s, size_t len, const uint8_t *origin,
		    uint8_t out[DNAME_MAXLEN])
{
	size_t i = 0, pos = 0, lab = 0;
	int rc;

	if (!s || !out || len == 0)
		return P53_ESYNTAX;
	if (len == 1 && s[0] == '@')
		return copy_origin(origin, out, 0);
	if (len == 1 && s[0] == '.') {
		out[0] = 0;
		return 1;
	}
	while (i < len) {
		uint8_t c = (uint8_t)s[i++];

		if (c == '.') {
			if (lab == 0)
				return P53_ESYNTAX;
			out[pos] = (uint8_t)lab;
			pos += lab + 1;
			lab = 0;
			continue;
		}
		if (c == '\\') {
			rc = unescape(s, len, &i, &c);
			if (rc < 0)
				return rc;
		}
		if (lab == LABEL_MAX)
			return P53_ERANGE;
		/* Keep the last byte free for the root label. */
		if (pos + 1 + lab >= DNAME_MAXLEN - 1)
			return P53_ERANGE;
		out[pos + 1 + lab++] = c;
	}
	if (lab == 0) {
		/* The text ended with an unescaped dot: absolute. */
		out[pos] = 0;
		return (int)pos + 1;
	}
	out[pos] = (uint8_t)lab;
	return copy_origin(origin, out, pos + lab + 1);
}

int dname_wire_len(const uint8_t *w, size_t maxlen)
{
	size_t pos = 0;

	if (!w)
		return P53_EFORMAT;
	if (maxlen > DNAME_MAXLEN)
		maxlen = DNAME_MAXLEN;
	while (pos < maxlen) {
		uint8_t l = w[pos];

		if (l == 0)
			return (int)pos + 1;
		if (l > LABEL_MAX)
			return P53_EFORMAT;
		pos += (size_t)l + 1;
	}
	return P53_EFORMAT;
}

void dname_lower(uint8_t *w)
{
	int len = dname_wire_len(w, DNAME_MAXLEN);
	size_t pos = 0;

	if (len < 0)
		return;
	while (w[pos]) {
		size_t end = pos + 1 + w[pos];

		for (pos++; pos < end; pos++)
			w[pos] = lower(w[pos]);
	}
}

size_t dname_copy_lower(uint8_t *dst, const uint8_t *src)
{
	int len = dname_wire_len(src, DNAME_MAXLEN);

	if (len < 0) {
		/* Give the caller a valid name rather than garbage. */
		dst[0] = 0;
		return 1;
	}
	memcpy(dst, src, (size_t)len);
	dname_lower(dst);
	return (size_t)len;
}

/* Append the presentation form of one label byte. The caller's NUL needs
 * one byte, hence ">=". */
static int put_text_byte(char *out, size_t cap, size_t *n, uint8_t c)
{
	char tmp[4];
	size_t k;

	switch (c) {
	case '.': case '\\': case '"': case '(': case ')': case ';':
	case '@': case '$': case ' ':
		tmp[0] = '\\';
		tmp[1] = (char)c;
		k = 2;
		break;
	default:
		if (c < 0x21 || c > 0x7e) {
			tmp[0] = '\\';
			tmp[1] = (char)('0' + c / 100);
			tmp[2] = (char)('0' + c / 10 % 10);
			tmp[3] = (char)('0' + c % 10);
			k = 4;
		} else {
			tmp[0] = (char)c;
			k = 1;
		}
	}
	if (*n + k >= cap)
		return P53_ESPACE;
	memcpy(out + *n, tmp, k);
	*n += k;
	return 0;
}

int dname_to_text(const uint8_t *w, char *out, size_t cap)
{
	size_t pos = 0, n = 0;

	if (!out || cap < 2)
		return P53_ESPACE;
	out[0] = '\0';
	if (dname_wire_len(w, DNAME_MAXLEN) < 0)
		return P53_EFORMAT;
	if (w[0] == 0) {
		out[n++] = '.';
	}
	while (w[pos]) {
		size_t end = pos + 1 + w[pos];

		for (pos++; pos < end; pos++) {
			if (put_text_byte(out, cap, &n, w[pos]) < 0)
				goto nospace;
		}
		if (n + 1 >= cap)
			goto nospace;
		out[n++] = '.';
	}
	out[n] = '\0';
	return (int)n;
nospace:
	out[n] = '\0';
	return P53_ESPACE;
}

bool dname_equal(const uint8_t *a, const uint8_t *b)
{
	size_t pos = 0, i;

	if (!a || !b)
		return false;
	while (pos < DNAME_MAXLEN) {
		uint8_t l = a[pos];

		if (l != b[pos] || l > LABEL_MAX)
			return false;
		if (l == 0)
			return true;
		if (pos + 1 + l >= DNAME_MAXLEN)
			return false;
		for (i = pos + 1; i <= pos + l; i++) {
			if (lower(a[i]) != lower(b[i]))
				return false;
		}
		pos += (size_t)l + 1;
	}
	return false;
}

/* Record where each label starts (its length byte); returns the label
 * count, or -1 for a malformed name. */
static int label_offsets(const uint8_t *w, uint8_t off[DNAME_MAXLABELS])
{
	size_t pos = 0;
	int n = 0;

	if (dname_wire_len(w, DNAME_MAXLEN) < 0)
		return -1;
	while (w[pos]) {
		off[n++] = (uint8_t)pos;
		pos += (size_t)w[pos] + 1;
	}
	return n;
}

int dname_labels(const uint8_t *w)
{
	uint8_t off[DNAME_MAXLABELS];
	int n = label_offsets(w, off);

	return n < 0 ? P53_EFORMAT : n;
}

const uint8_t *dname_suffix(const uint8_t *w, int labels)
{
	uint8_t off[DNAME_MAXLABELS];
	int n = label_offsets(w, off);

	if (n < 0)
		return NULL;
	if (labels < 0)
		labels = 0;
	if (labels >= n)
		return w;
	/* The root label sits right after the last label. */
	if (labels == 0)
		return w + off[n - 1] + w[off[n - 1]] + 1;
	return w + off[n - labels];
}

bool dname_is_subdomain(const uint8_t *name, const uint8_t *parent)
{
	uint8_t off[DNAME_MAXLABELS];
	int n = label_offsets(name, off), p = dname_labels(parent);

	if (n < 0 || p < 0 || n < p)
		return false;
	/* Everything is below the root. */
	if (p == 0)
		return true;
	return dname_equal(name + off[n - p], parent);
}

static int label_cmp(const uint8_t *a, const uint8_t *b)
{
	size_t la = a[0], lb = b[0], n = la < lb ? la : lb, i;

	for (i = 1; i <= n; i++) {
		if (lower(a[i]) != lower(b[i]))
			return lower(a[i]) < lower(b[i]) ? -1 : 1;
	}
	return la < lb ? -1 : la > lb;
}

int dname_canonical_cmp(const uint8_t *a, const uint8_t *b)
{
	uint8_t oa[DNAME_MAXLABELS], ob[DNAME_MAXLABELS];
	int na = label_offsets(a, oa), nb = label_offsets(b, ob);

	/* Malformed names sort last, so the order stays total. */
	if (na < 0 || nb < 0)
		return (na < 0) - (nb < 0);
	while (na > 0 && nb > 0) {
		int r = label_cmp(a + oa[--na], b + ob[--nb]);

		if (r)
			return r;
	}
	return na - nb;
}

bool dname_is_wildcard(const uint8_t *w)
{
	return w && w[0] == 1 && w[1] == '*';
}

int dname_unpack(const uint8_t *m, size_t len, size_t *pos, uint8_t out[DNAME_MAXLEN])
{
	size_t p = *pos, lowest = *pos, n = 0;
	bool jumped = false;

	for (;;) {
		uint8_t l;

		if (p >= len)
			return P53_EFORMAT;
		l = m[p];
		if ((l & 0xc0) == 0xc0) {
			size_t t;

			if (p + 1 >= len)
				return P53_EFORMAT;
			t = (size_t)(l & 0x3f) << 8 | m[p + 1];
			if (t >= lowest)
				return P53_EFORMAT;
			if (!jumped)
				*pos = p + 2;
			jumped = true;
			lowest = p = t;
			continue;
		}
		if (l > 63 || n + 1u + l > DNAME_MAXLEN || p + 1u + l > len)
			return P53_EFORMAT;
		memcpy(out + n, m + p, 1u + l);
		n += 1u + l;
		p += 1u + l;
		if (!l)
			break;
	}
	if (!jumped)
		*pos = p;
	return (int)n;
}
