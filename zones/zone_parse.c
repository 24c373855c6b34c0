/*
 * zone_parse.c — RFC 1035 section 5 master files.
 *
 * The file is read whole, then split into records: a record is the tokens
 * up to a newline outside parentheses. Tokens keep their escapes so that
 * names and RDATA decode them with their own rules (\. means a dot inside a
 * label, which only the name parser can know). Errors do not stop the scan
 * at once, so one run reports several of them, but any error rejects the
 * whole zone.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "dname.h"
#include "error.h"
#include "rdata.h"
#include "zone.h"

#define TTL_MAX           2147483647u   /* RFC 2181 8 */
#define INCLUDE_DEPTH     10
#define GENERATE_MAX      1000000       /* records per $GENERATE */

/* State that survives $INCLUDE (the zone, limits, TTL defaults). */
struct parser {
	struct zone *zone;
	struct diag *d;
	unsigned max_errors;
	unsigned max_depth;
	uint32_t default_ttl;     /* $TTL, or last explicit TTL (RFC 1035) */
	int have_default_ttl;
	int have_dollar_ttl;
	uint16_t last_class;
	uint8_t first_origin[DNAME_MAXLEN]; /* names a zone that lacks a SOA */
	int have_first_origin;
	struct rdata_tok *tok;    /* tokens of the current record */
	size_t ntok, cap;
	uint8_t rdata[RDATA_MAXLEN];
};

/* Per-file state: $ORIGIN and the previous owner are file-scoped
 * (RFC 1035 5.1: an $INCLUDE does not change the parent's origin). */
struct lexer {
	const char *buf;
	size_t len, pos;
	const char *file;
	unsigned line;
	size_t line_start;
	unsigned depth;
	uint8_t origin[DNAME_MAXLEN];
	int have_origin;
	uint8_t owner[DNAME_MAXLEN];
	int have_owner;
};

static int parse_buffer(struct parser *p, struct lexer *lx);

static int too_many_errors(const struct parser *p)
{
	return p->d && p->d->errors >= p->max_errors;
}

static int push_tok(struct parser *p, const char *s, size_t len, unsigned line,
		    unsigned col, int quoted)
{
	if (p->ntok == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct rdata_tok *t = realloc(p->tok, cap * sizeof(*t));
		if (!t)
			return P53_ENOMEM;
		p->tok = t;
		p->cap = cap;
	}
	p->tok[p->ntok++] = (struct rdata_tok){ .s = s, .len = (uint32_t)len,
		.line = line, .col = col, .quoted = (uint8_t)quoted };
	return 0;
}

static unsigned lx_col(const struct lexer *lx, size_t pos)
{
	return (unsigned)(pos - lx->line_start + 1);
}

static void lx_newline(struct lexer *lx)
{
	lx->line++;
	lx->line_start = lx->pos;
}

/* Skip to the end of the current record after an error. */
static void lx_skip_record(struct lexer *lx, int paren)
{
	int in_quote = 0;

	while (lx->pos < lx->len) {
		char c = lx->buf[lx->pos++];
		if (c == '\\' && lx->pos < lx->len) {
			if (lx->buf[lx->pos++] == '\n')
				lx_newline(lx);
		} else if (c == '"') {
			in_quote = !in_quote;
		} else if (c == ';' && !in_quote) {
			while (lx->pos < lx->len && lx->buf[lx->pos] != '\n')
				lx->pos++;
		} else if (c == '(' && !in_quote) {
			paren++;
		} else if (c == ')' && !in_quote && paren > 0) {
			paren--;
		} else if (c == '\n') {
			lx_newline(lx);
			if (paren == 0 && !in_quote)
				return;
			in_quote = 0;
		}
	}
}

/* Scan one unquoted token starting at lx->pos; a quote inside it runs to the
 * closing quote (SVCB's alpn="h2,h3"). Returns its length or -1 if a quote
 * is not closed on the line. */
static long lx_word(struct lexer *lx)
{
	size_t start = lx->pos;

	while (lx->pos < lx->len) {
		char c = lx->buf[lx->pos];
		if (c == '\\') {
			if (lx->pos + 1 >= lx->len || lx->buf[lx->pos + 1] == '\n')
				break;
			lx->pos += 2;
		} else if (c == '"') {
			lx->pos++;
			while (lx->pos < lx->len && lx->buf[lx->pos] != '"') {
				if (lx->buf[lx->pos] == '\n')
					return -1;
				lx->pos += lx->buf[lx->pos] == '\\' ? 2 : 1;
			}
			if (lx->pos >= lx->len)
				return -1;
			lx->pos++;
		} else if (isspace((unsigned char)c) || c == ';' || c == '(' ||
			   c == ')') {
			break;
		} else {
			lx->pos++;
		}
	}
	return (long)(lx->pos - start);
}

/* A quoted token: the text between the quotes, escapes kept. */
static long lx_quoted(struct lexer *lx)
{
	size_t start = ++lx->pos;

	while (lx->pos < lx->len && lx->buf[lx->pos] != '"') {
		if (lx->buf[lx->pos] == '\n')
			return -1;
		if (lx->buf[lx->pos] == '\\' && lx->pos + 1 < lx->len)
			lx->pos++;
		lx->pos++;
	}
	if (lx->pos >= lx->len)
		return -1;
	lx->pos++;
	return (long)(lx->pos - start - 1);
}

/*
 * Read the tokens of the next record into p->tok. *blank_owner is set when
 * the record starts with white space (owner inherited). Returns 1 when a
 * record was read, 0 at end of input, negative on a lexical error (already
 * reported, record skipped).
 */
static int lx_record(struct parser *p, struct lexer *lx, int *blank_owner)
{
	int paren = 0, ret;
	unsigned open_line = 0, open_col = 0;

	p->ntok = 0;
	*blank_owner = 0;
	while (lx->pos < lx->len) {
		char c = lx->buf[lx->pos];
		size_t start = lx->pos;
		long n;

		if (c == '\n') {
			lx->pos++;
			lx_newline(lx);
			if (paren == 0 && p->ntok > 0)
				return 1;
			if (p->ntok == 0)
				*blank_owner = 0;   /* a blank line says nothing */
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
			if (p->ntok == 0 && start == lx->line_start && paren == 0)
				*blank_owner = 1;
			lx->pos++;
			continue;
		}
		if (c == ';') {
			while (lx->pos < lx->len && lx->buf[lx->pos] != '\n')
				lx->pos++;
			continue;
		}
		if (c == '(') {
			if (paren++ == 0) {
				open_line = lx->line;
				open_col = lx_col(lx, start);
			}
			lx->pos++;
			continue;
		}
		if (c == ')') {
			if (paren == 0) {
				diag_error(p->d, lx->file, lx->line, lx_col(lx, start),
					   "')' without a matching '('");
				lx_skip_record(lx, 0);
				return P53_ESYNTAX;
			}
			paren--;
			lx->pos++;
			continue;
		}
		unsigned line = lx->line, col = lx_col(lx, start);
		int quoted = c == '"';
		n = quoted ? lx_quoted(lx) : lx_word(lx);
		if (n < 0) {
			diag_error(p->d, lx->file, line, col,
				   "unterminated quoted string (expected '\"' before the end of the line)");
			lx_skip_record(lx, paren);
			return P53_ESYNTAX;
		}
		if (!quoted && n == 0) {
			/* A lone backslash before the newline or at EOF. */
			diag_error(p->d, lx->file, line, col,
				   "'\\' at the end of a line (expected an escaped character)");
			lx->pos++;
			lx_skip_record(lx, paren);
			return P53_ESYNTAX;
		}
		ret = push_tok(p, lx->buf + start + quoted, (size_t)n, line, col,
			       quoted);
		if (ret < 0)
			return ret;
	}
	if (paren > 0) {
		diag_error(p->d, lx->file, open_line, open_col,
			   "'(' is never closed (expected ')' before the end of the file)");
		return P53_ESYNTAX;
	}
	return p->ntok > 0;
}

static int tok_is(const struct rdata_tok *t, const char *word)
{
	size_t n = strlen(word);
	return !t->quoted && t->len == n && strncasecmp(t->s, word, n) == 0;
}

/* TTL as seconds or BIND units (1w2d3h4m5s). Returns 0 or P53_ESYNTAX /
 * P53_ERANGE. */
static int parse_ttl(const char *s, size_t len, uint32_t *out)
{
	uint64_t total = 0, cur = 0;
	int digits = 0, units = 0;

	if (len == 0 || !isdigit((unsigned char)s[0]))
		return P53_ESYNTAX;
	for (size_t i = 0; i < len; i++) {
		char c = (char)tolower((unsigned char)s[i]);
		uint64_t mul;
		if (isdigit((unsigned char)c)) {
			cur = cur * 10 + (uint64_t)(c - '0');
			digits = 1;
			if (cur > UINT32_MAX)
				return P53_ERANGE;
			continue;
		}
		switch (c) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		case 'w': mul = 604800; break;
		default: return P53_ESYNTAX;
		}
		if (!digits)
			return P53_ESYNTAX;
		total += cur * mul;
		cur = 0;
		digits = 0;
		units = 1;
		if (total > UINT32_MAX)
			return P53_ERANGE;
	}
	if (digits && units)
		return P53_ESYNTAX;   /* "1h30" is ambiguous; BIND refuses it too */
	total += cur;
	if (total > TTL_MAX)
		return P53_ERANGE;
	*out = (uint32_t)total;
	return 0;
}

static int tok_name(struct parser *p, struct lexer *lx, const struct rdata_tok *t,
		    uint8_t out[DNAME_MAXLEN], const char *what)
{
	int ret;

	if (t->quoted) {
		diag_error(p->d, lx->file, t->line, t->col,
			   "expected %s, got a quoted string", what);
		return P53_ESYNTAX;
	}
	ret = dname_from_text(t->s, t->len, lx->have_origin ? lx->origin : NULL, out);
	if (ret == P53_ERANGE)
		diag_error(p->d, lx->file, t->line, t->col,
			   "%s '%.*s' is too long (labels at most 63, names at most 255 bytes)",
			   what, (int)t->len, t->s);
	else if (ret < 0 && !lx->have_origin &&
		 (t->len == 0 || t->s[t->len - 1] != '.'))
		diag_error(p->d, lx->file, t->line, t->col,
			   "relative %s '%.*s' with no origin (expected $ORIGIN, --origin or an absolute name)",
			   what, (int)t->len, t->s);
	else if (ret < 0)
		diag_error(p->d, lx->file, t->line, t->col,
			   "expected %s, got '%.*s' (empty label or bad escape)",
			   what, (int)t->len, t->s);
	return ret < 0 ? ret : 0;
}

static int tok_ttl(struct parser *p, struct lexer *lx, const struct rdata_tok *t,
		   uint32_t *ttl)
{
	int ret = t->quoted ? P53_ESYNTAX : parse_ttl(t->s, t->len, ttl);

	if (ret == P53_ERANGE)
		diag_error(p->d, lx->file, t->line, t->col,
			   "TTL '%.*s' out of range (0..2147483647 seconds, RFC 2181 8)",
			   (int)t->len, t->s);
	else if (ret < 0)
		diag_error(p->d, lx->file, t->line, t->col,
			   "expected a TTL (seconds or units like 1h30m), got '%.*s'",
			   (int)t->len, t->s);
	return ret;
}

static int directive_origin(struct parser *p, struct lexer *lx)
{
	uint8_t name[DNAME_MAXLEN];
	int ret;

	if (p->ntok != 2) {
		diag_error(p->d, lx->file, p->tok[0].line, p->tok[0].col,
			   "$ORIGIN takes exactly one domain name");
		return P53_ESYNTAX;
	}
	if ((ret = tok_name(p, lx, &p->tok[1], name, "an origin name")) < 0)
		return ret;
	memcpy(lx->origin, name, sizeof(name));
	lx->have_origin = 1;
	if (lx->depth == 0 && !p->have_first_origin) {
		memcpy(p->first_origin, name, sizeof(name));
		p->have_first_origin = 1;
	}
	return 0;
}

static int directive_ttl(struct parser *p, struct lexer *lx)
{
	uint32_t ttl;
	int ret;

	if (p->ntok != 2) {
		diag_error(p->d, lx->file, p->tok[0].line, p->tok[0].col,
			   "$TTL takes exactly one TTL value");
		return P53_ESYNTAX;
	}
	if ((ret = tok_ttl(p, lx, &p->tok[1], &ttl)) < 0)
		return ret;
	p->default_ttl = ttl;
	p->have_default_ttl = p->have_dollar_ttl = 1;
	return 0;
}

static int read_file(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b = NULL;
	long size;

	if (!f)
		return P53_EIO;
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		goto fail;
	if (!(b = malloc((size_t)size + 1)))
		goto fail;
	if (fread(b, 1, (size_t)size, f) != (size_t)size)
		goto fail;
	b[size] = '\0';
	fclose(f);
	*buf = b;
	*len = (size_t)size;
	return 0;
fail:
	free(b);
	fclose(f);
	return P53_EIO;
}

/* Relative $INCLUDE paths are taken from the including file's directory,
 * so a zone and its includes can move together. */
static char *include_path(const char *parent, const char *name, size_t len)
{
	const char *slash = parent ? strrchr(parent, '/') : NULL;
	size_t dir = (name[0] == '/' || !slash) ? 0 : (size_t)(slash - parent + 1);
	char *path = malloc(dir + len + 1);

	if (!path)
		return NULL;
	memcpy(path, parent, dir);
	memcpy(path + dir, name, len);
	path[dir + len] = '\0';
	return path;
}

static int directive_include(struct parser *p, struct lexer *lx)
{
	struct lexer sub = { .depth = lx->depth + 1, .line = 1 };
	const struct rdata_tok *t = &p->tok[1];
	char *path = NULL, *buf = NULL;
	int ret;

	if (p->ntok < 2 || p->ntok > 3) {
		diag_error(p->d, lx->file, p->tok[0].line, p->tok[0].col,
			   "$INCLUDE takes a file name and an optional origin");
		return P53_ESYNTAX;
	}
	if (lx->depth + 1 >= p->max_depth) {
		diag_error(p->d, lx->file, t->line, t->col,
			   "$INCLUDE nested more than %u deep (include loop?)",
			   p->max_depth);
		return P53_ELIMIT;
	}
	memcpy(sub.origin, lx->origin, sizeof(sub.origin));
	sub.have_origin = lx->have_origin;
	if (p->ntok == 3) {
		if ((ret = tok_name(p, lx, &p->tok[2], sub.origin, "an origin name")) < 0)
			return ret;
		sub.have_origin = 1;
	}
	ret = P53_ENOMEM;
	if (!(path = include_path(lx->file, t->s, t->len)))
		goto fail;
	if ((ret = read_file(path, &buf, &sub.len)) < 0) {
		diag_error(p->d, lx->file, t->line, t->col,
			   "cannot read included file '%s': %s", path, strerror(errno));
		goto fail;
	}
	sub.buf = buf;
	sub.file = path;
	ret = parse_buffer(p, &sub);
fail:
	/* The zone keeps its own copy of file names; tokens are gone by now. */
	free(buf);
	free(path);
	return ret;
}

static int add_record(struct parser *p, struct lexer *lx, size_t first,
		      const uint8_t *owner);

/* Expand one $GENERATE template for iterator value i into out.
 * ${offset[,width[,base]]} with base d, o, x, X, n or N (nibbles, reversed,
 * dot-separated, width = minimum number of nibbles); "\$" is a literal $. */
static int gen_expand(const struct rdata_tok *t, long i, char *out, size_t cap,
		      const char **why)
{
	size_t o = 0;

	for (size_t k = 0; k < t->len; k++) {
		char c = t->s[k];
		long off = 0, width = 0;
		char base = 'd', num[96];
		int n;

		if (c == '\\' && k + 1 < t->len) {
			if (o + 2 >= cap)
				goto space;
			out[o++] = c;
			out[o++] = t->s[++k];
			continue;
		}
		if (c != '$') {
			if (o + 1 >= cap)
				goto space;
			out[o++] = c;
			continue;
		}
		if (k + 1 < t->len && t->s[k + 1] == '{') {
			const char *end = memchr(t->s + k, '}', t->len - k);
			char spec[64];
			size_t sl;
			if (!end || (sl = (size_t)(end - t->s - k - 2)) >= sizeof(spec)) {
				*why = "unterminated ${...} modifier";
				return P53_ESYNTAX;
			}
			memcpy(spec, t->s + k + 2, sl);
			spec[sl] = '\0';
			if (sscanf(spec, "%ld,%ld,%c", &off, &width, &base) < 1 ||
			    width < 0 || width > 64 || !strchr("doxXnN", base)) {
				*why = "bad ${offset,width,base} modifier (base one of d o x X n N)";
				return P53_ESYNTAX;
			}
			k = (size_t)(end - t->s);
		}
		long v = i + off;
		if (base == 'n' || base == 'N') {
			unsigned long u = (unsigned long)v;
			long nib = 0;
			n = 0;
			do {
				int d = (int)(u & 0xf);
				n += snprintf(num + n, sizeof(num) - (size_t)n, "%s%c",
					      nib ? "." : "",
					      (base == 'n' ? "0123456789abcdef" : "0123456789ABCDEF")[d]);
				u >>= 4;
				nib++;
			} while ((u || nib < width) && n < (int)sizeof(num) - 3);
		} else {
			const char *fmt = base == 'o' ? "%0*lo" : base == 'x' ? "%0*lx" :
					  base == 'X' ? "%0*lX" : "%0*ld";
			n = snprintf(num, sizeof(num), fmt, (int)width, v);
		}
		if (n < 0 || o + (size_t)n >= cap)
			goto space;
		memcpy(out + o, num, (size_t)n);
		o += (size_t)n;
	}
	out[o] = '\0';
	return (int)o;
space:
	*why = "expanded text too long";
	return P53_ERANGE;
}

/* $GENERATE range lhs [ttl] [class] type rhs */
static int directive_generate(struct parser *p, struct lexer *lx)
{
	const struct rdata_tok *range, *lhs, *rhs;
	long start, stop = -1, step = 1;
	char lbuf[1024], rbuf[4096], *end;
	const char *why = NULL;
	struct rdata_tok saved[8];
	size_t nsaved = p->ntok;
	int ret = 0;

	if (p->ntok < 5 || p->ntok > 7) {
		diag_error(p->d, lx->file, p->tok[0].line, p->tok[0].col,
			   "$GENERATE takes: range owner [ttl] [class] type rdata");
		return P53_ESYNTAX;
	}
	memcpy(saved, p->tok, nsaved * sizeof(*saved));
	range = &saved[1];
	lhs = &saved[2];
	rhs = &saved[nsaved - 1];
	errno = 0;
	start = strtol(range->s, &end, 10);
	if (end < range->s + range->len && *end == '-')
		stop = strtol(end + 1, &end, 10);
	else
		end = (char *)range->s;  /* force the error below */
	if (end < range->s + range->len && *end == '/')
		step = strtol(end + 1, &end, 10);
	if (errno || end != range->s + range->len || start < 0 || stop < start ||
	    step < 1 || (stop - start) / step >= GENERATE_MAX) {
		diag_error(p->d, lx->file, range->line, range->col,
			   "expected a range start-stop[/step] with 0 <= start <= stop, step >= 1 and at most %d records, got '%.*s'",
			   GENERATE_MAX, (int)range->len, range->s);
		return P53_ESYNTAX;
	}
	for (long i = start; i <= stop && ret == 0; i += step) {
		uint8_t owner[DNAME_MAXLEN];
		int ln = gen_expand(lhs, i, lbuf, sizeof(lbuf), &why);
		int rn = ln < 0 ? ln : gen_expand(rhs, i, rbuf, sizeof(rbuf), &why);
		if (ln < 0 || rn < 0) {
			diag_error(p->d, lx->file, (ln < 0 ? lhs : rhs)->line,
				   (ln < 0 ? lhs : rhs)->col, "$GENERATE: %s", why);
			return P53_ESYNTAX;
		}
		/* Re-assemble a record: owner, middle tokens, expanded rdata. */
		p->ntok = 0;
		push_tok(p, lbuf, (size_t)ln, lhs->line, lhs->col, 0);
		for (size_t k = 3; k + 1 < nsaved; k++)
			push_tok(p, saved[k].s, saved[k].len, saved[k].line,
				 saved[k].col, saved[k].quoted);
		push_tok(p, rbuf, (size_t)rn, rhs->line, rhs->col, rhs->quoted);
		if ((ret = tok_name(p, lx, &p->tok[0], owner, "an owner name")) < 0)
			break;
		ret = add_record(p, lx, 1, owner);
	}
	return ret;
}

static int do_directive(struct parser *p, struct lexer *lx)
{
	const struct rdata_tok *t = &p->tok[0];

	if (tok_is(t, "$ORIGIN"))
		return directive_origin(p, lx);
	if (tok_is(t, "$TTL"))
		return directive_ttl(p, lx);
	if (tok_is(t, "$INCLUDE"))
		return directive_include(p, lx);
	if (tok_is(t, "$GENERATE"))
		return directive_generate(p, lx);
	diag_error(p->d, lx->file, t->line, t->col,
		   "unknown directive '%.*s' (expected $ORIGIN, $TTL, $INCLUDE or $GENERATE)",
		   (int)t->len, t->s);
	return P53_ESYNTAX;
}

/* SOA MINIMUM is the last 32-bit field of its RDATA. */
static uint32_t soa_minimum(const uint8_t *rd, size_t len)
{
	return len >= 4 ? (uint32_t)rd[len - 4] << 24 | (uint32_t)rd[len - 3] << 16 |
			  (uint32_t)rd[len - 2] << 8 | rd[len - 1] : 0;
}

/* [ttl] [class] type rdata..., from token `first`, for a known owner. */
static int add_record(struct parser *p, struct lexer *lx, size_t first,
		      const uint8_t *owner)
{
	size_t i = first;
	uint32_t ttl = 0;
	int have_ttl = 0, have_class = 0, type = -1, ret;
	uint16_t rclass = p->last_class ? p->last_class : RRCLASS_IN;
	struct rdata_err err = { 0 };

	for (; i < p->ntok && type < 0; i++) {
		const struct rdata_tok *t = &p->tok[i];
		int v;
		if (!t->quoted && !have_ttl && t->len && isdigit((unsigned char)t->s[0])) {
			if ((ret = tok_ttl(p, lx, t, &ttl)) < 0)
				return ret;
			have_ttl = 1;
		} else if (!t->quoted && !have_class &&
			   (v = rrclass_from_text(t->s, t->len)) >= 0) {
			rclass = (uint16_t)v;
			have_class = 1;
		} else if (!t->quoted && (v = rrtype_from_text(t->s, t->len)) >= 0) {
			type = v;
		} else {
			diag_error(p->d, lx->file, t->line, t->col,
				   "expected %s, got '%.*s'",
				   have_ttl && have_class ? "a record type" :
				   "a TTL, class or record type", (int)t->len, t->s);
			return P53_ESYNTAX;
		}
	}
	if (type < 0) {
		const struct rdata_tok *t = &p->tok[p->ntok - 1];
		diag_error(p->d, lx->file, t->line, t->col + t->len,
			   "expected a record type after '%.*s'", (int)t->len, t->s);
		return P53_ESYNTAX;
	}
	if (type == RRTYPE_OPT || type == RRTYPE_ANY || type == RRTYPE_AXFR ||
	    type == RRTYPE_IXFR || type == RRTYPE_TSIG || type == RRTYPE_TKEY) {
		const struct rdata_tok *t = &p->tok[i - 1];
		diag_error(p->d, lx->file, t->line, t->col,
			   "type %.*s is a meta-type and cannot appear in a zone",
			   (int)t->len, t->s);
		return P53_ESYNTAX;
	}
	ret = rdata_from_text((uint16_t)type, p->tok + i, p->ntok - i,
			      lx->have_origin ? lx->origin : NULL, p->rdata,
			      sizeof(p->rdata), &err);
	if (ret < 0) {
		size_t k = i + err.tok;
		const struct rdata_tok *t = &p->tok[k < p->ntok ? k : p->ntok - 1];
		unsigned col = k < p->ntok ? t->col : t->col + t->len;
		diag_error(p->d, lx->file, t->line, col, "%s",
			   err.msg[0] ? err.msg : "bad RDATA");
		return ret;
	}
	if (!have_ttl) {
		if (p->have_default_ttl) {
			ttl = p->default_ttl;
		} else if (type == RRTYPE_SOA) {
			/* BIND's behaviour for a zone without $TTL. */
			ttl = soa_minimum(p->rdata, (size_t)ret);
			diag_warn(p->d, lx->file, p->tok[0].line, 0,
				  "no TTL given and no $TTL: using the SOA minimum (%u)", ttl);
		} else {
			diag_error(p->d, lx->file, p->tok[0].line, p->tok[0].col,
				   "no TTL given and no $TTL before this record");
			return P53_ESYNTAX;
		}
	} else if (!p->have_dollar_ttl) {
		p->default_ttl = ttl;   /* RFC 1035: the last explicit TTL */
		p->have_default_ttl = 1;
	}
	p->last_class = rclass;
	if (type == RRTYPE_SOA && !zone_origin(p->zone))
		zone_set_origin(p->zone, owner);
	ret = zone_add_rr(p->zone, owner, (uint16_t)type, rclass, ttl, p->rdata,
			  (uint16_t)ret, lx->file, p->tok[0].line);
	if (ret == P53_ERANGE)
		diag_error(p->d, lx->file, p->tok[0].line, 0, "zone larger than 4 GiB");
	return ret;
}

static int do_record(struct parser *p, struct lexer *lx, int blank_owner)
{
	uint8_t owner[DNAME_MAXLEN];
	int ret;

	if (blank_owner) {
		if (!lx->have_owner) {
			diag_error(p->d, lx->file, p->tok[0].line, 1,
				   "record starts with white space but there is no previous owner to inherit");
			return P53_ESYNTAX;
		}
		return add_record(p, lx, 0, lx->owner);
	}
	if ((ret = tok_name(p, lx, &p->tok[0], owner, "an owner name")) < 0)
		return ret;
	memcpy(lx->owner, owner, sizeof(owner));
	lx->have_owner = 1;
	if (p->ntok < 2) {
		diag_error(p->d, lx->file, p->tok[0].line,
			   p->tok[0].col + p->tok[0].len,
			   "expected a TTL, class or record type after the owner name");
		return P53_ESYNTAX;
	}
	return add_record(p, lx, 1, owner);
}

static int parse_buffer(struct parser *p, struct lexer *lx)
{
	int blank, ret, failed = 0;

	while (!too_many_errors(p)) {
		ret = lx_record(p, lx, &blank);
		if (ret == 0)
			break;
		if (ret == P53_ENOMEM)
			return ret;
		if (ret < 0) {
			failed = 1;
			continue;
		}
		if (!blank && p->tok[0].len && p->tok[0].s[0] == '$' && !p->tok[0].quoted)
			ret = do_directive(p, lx);
		else
			ret = do_record(p, lx, blank);
		if (ret == P53_ENOMEM)
			return ret;
		if (ret < 0)
			failed = 1;
	}
	return failed || too_many_errors(p) ? P53_ESYNTAX : 0;
}

int zone_parse_string(const char *text, size_t len, const char *name,
		      const struct zone_parse_opts *opts, struct diag *d,
		      struct zone **out)
{
	struct diag quiet;
	struct parser p = { .d = d ? d : (diag_init(&quiet, NULL), &quiet) };
	struct lexer lx = { .buf = text, .len = len, .file = name, .line = 1 };
	unsigned errors_before = p.d->errors;
	int ret;

	*out = NULL;
	p.max_errors = (opts && opts->max_errors ? opts->max_errors : 20) + errors_before;
	p.max_depth = opts && opts->max_include_depth ? opts->max_include_depth : INCLUDE_DEPTH;
	if (opts && opts->default_ttl) {
		p.default_ttl = opts->default_ttl;
		p.have_default_ttl = 1;
	}
	if (!(p.zone = zone_new(opts ? opts->origin : NULL)))
		return P53_ENOMEM;
	if (opts && opts->origin) {
		dname_copy_lower(lx.origin, opts->origin);
		lx.have_origin = 1;
	}
	ret = parse_buffer(&p, &lx);
	/* Without a SOA (an error zone_check reports), the first top-level
	 * $ORIGIN still names the zone, so messages can say which one. */
	if (!zone_origin(p.zone) && p.have_first_origin)
		zone_set_origin(p.zone, p.first_origin);
	if (ret == 0 && p.d->errors > errors_before)
		ret = P53_ESYNTAX;
	free(p.tok);
	if (ret < 0) {
		zone_free(p.zone);
		return ret;
	}
	*out = p.zone;
	return 0;
}

int zone_parse_file(const char *path, const struct zone_parse_opts *opts,
		    struct diag *d, struct zone **out)
{
	char *buf;
	size_t len;
	int ret;

	*out = NULL;
	if ((ret = read_file(path, &buf, &len)) < 0) {
		diag_error(d, path, 0, 0, "cannot read zone file: %s", strerror(errno));
		return ret;
	}
	ret = zone_parse_string(buf, len, path, opts, d, out);
	free(buf);
	return ret;
}
