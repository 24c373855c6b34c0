/*
 * yconf.c — YAML file -> node tree (libyaml events), and typed getters.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "error.h"
#include "yconf.h"

/* Deeper than any sane configuration; bounds the recursion. */
#define MAX_DEPTH 64

struct yconf_node {
	enum yconf_kind kind;
	bool quoted;                  /* scalar not in plain style */
	bool is_key;                  /* a mapping key */
	unsigned line, col;
	const char *file;
	const struct yconf_node *parent;
	size_t index;                 /* item index, or entry index in a map */
	char *text;                   /* scalars ("" for null) */
	struct yconf_node **kids;     /* seq: items; map: key0, value0, key1, ... */
	size_t n, cap;                /* items, or entries */
	struct yconf_node **sorted;   /* map: key nodes sorted by text */
};

struct yconf_doc {
	char *file;
	struct yconf_node *root;
};

struct build {
	yaml_parser_t p;
	struct yconf_doc *doc;
	struct diag *d;
};

static void node_free(struct yconf_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n * (n->kind == YCONF_MAP ? 2 : 1); i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->sorted);
	free(n->text);
	free(n);
}

void yconf_free(struct yconf_doc *doc)
{
	if (!doc)
		return;
	node_free(doc->root);
	free(doc->file);
	free(doc);
}

/* libyaml's own reason, with the construct it was in when it has one. */
static int yaml_failure(struct build *b)
{
	const yaml_parser_t *p = &b->p;
	const char *file = b->doc->file;

	if (p->error == YAML_MEMORY_ERROR) {
		diag_error(b->d, file, 0, 0, "out of memory reading YAML");
		return P53_ENOMEM;
	}
	if (p->error == YAML_READER_ERROR) {
		diag_error(b->d, file, 0, 0, "YAML: %s at byte %zu", p->problem ? p->problem : "?",
			   p->problem_offset);
		return P53_ESYNTAX;
	}
	if (p->context)
		diag_error(b->d, file, (unsigned)p->problem_mark.line + 1,
			   (unsigned)p->problem_mark.column + 1, "YAML syntax: %s (%s at %u:%u)",
			   p->problem ? p->problem : "?", p->context,
			   (unsigned)p->context_mark.line + 1, (unsigned)p->context_mark.column + 1);
	else
		diag_error(b->d, file, (unsigned)p->problem_mark.line + 1,
			   (unsigned)p->problem_mark.column + 1, "YAML syntax: %s",
			   p->problem ? p->problem : "?");
	return P53_ESYNTAX;
}

static int next(struct build *b, yaml_event_t *ev)
{
	return yaml_parser_parse(&b->p, ev) ? 0 : yaml_failure(b);
}

static int at_event(struct build *b, const yaml_event_t *ev, int ret, const char *msg)
{
	diag_error(b->d, b->doc->file, (unsigned)ev->start_mark.line + 1,
		   (unsigned)ev->start_mark.column + 1, "%s", msg);
	return ret;
}

static bool plain_null(const char *s, size_t len)
{
	return len == 0 || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

/* Strictness that keeps a file meaning one thing: what an anchor, alias or
 * tag would change is better written out. */
static int refuse_extras(struct build *b, const yaml_event_t *ev)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;

	if (ev->type == YAML_ALIAS_EVENT)
		return at_event(b, ev, P53_ESYNTAX, "YAML aliases (*name) are not supported: write the value out");
	if (ev->type == YAML_SCALAR_EVENT) {
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
	} else if (ev->type == YAML_SEQUENCE_START_EVENT) {
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
	} else if (ev->type == YAML_MAPPING_START_EVENT) {
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
	}
	if (anchor)
		return at_event(b, ev, P53_ESYNTAX, "YAML anchors (&name) are not supported: write the value out");
	if (tag)
		return at_event(b, ev, P53_ESYNTAX, "YAML tags (!tag) are not supported: quote a value to make it a string");
	return 0;
}

static struct yconf_node *node_new(struct build *b, const yaml_event_t *ev,
				   const struct yconf_node *parent, size_t index)
{
	struct yconf_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->line = (unsigned)ev->start_mark.line + 1;
	n->col = (unsigned)ev->start_mark.column + 1;
	n->file = b->doc->file;
	n->parent = parent;
	n->index = index;
	return n;
}

static int scalar(struct build *b, const yaml_event_t *ev, struct yconf_node *n)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;

	if (memchr(v, '\0', len))
		return at_event(b, ev, P53_ESYNTAX, "a value contains a NUL character");
	n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
	n->kind = (!n->quoted && plain_null(v, len)) ? YCONF_NULL : YCONF_SCALAR;
	if (!(n->text = malloc(len + 1)))
		return P53_ENOMEM;
	memcpy(n->text, v, len);
	n->text[len] = '\0';
	return 0;
}

/* Room for one more item (sequence) or entry (mapping: key and value). */
static int reserve(struct yconf_node *n)
{
	size_t per = n->kind == YCONF_MAP ? 2 : 1;

	if (n->n * per + per > n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 8;
		struct yconf_node **k = realloc(n->kids, cap * sizeof(*k));
		if (!k)
			return P53_ENOMEM;
		n->kids = k;
		n->cap = cap;
	}
	return 0;
}

static int tree(struct build *b, yaml_event_t *ev, const struct yconf_node *parent,
		size_t index, unsigned depth, struct yconf_node **out);

static int sequence(struct build *b, struct yconf_node *n, unsigned depth)
{
	yaml_event_t ev;
	struct yconf_node *kid;
	int ret;

	for (;;) {
		if ((ret = next(b, &ev)) < 0)
			return ret;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		if ((ret = reserve(n)) < 0) {
			yaml_event_delete(&ev);
			return ret;
		}
		if ((ret = tree(b, &ev, n, n->n, depth + 1, &kid)) < 0)
			return ret;
		n->kids[n->n++] = kid;
	}
}

static int key_cmp(const void *a, const void *b)
{
	const struct yconf_node *x = *(struct yconf_node *const *)a;
	const struct yconf_node *y = *(struct yconf_node *const *)b;
	int c = strcmp(x->text, y->text);

	return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* Sort the keys for lookups; equal neighbours are duplicates. Sorting
 * keeps big policy maps O(n log n) where pairwise checks would not be. */
static int index_keys(struct build *b, struct yconf_node *n)
{
	int ret = 0;

	if (!n->n)
		return 0;
	if (!(n->sorted = malloc(n->n * sizeof(*n->sorted))))
		return P53_ENOMEM;
	for (size_t i = 0; i < n->n; i++)
		n->sorted[i] = n->kids[2 * i];
	qsort(n->sorted, n->n, sizeof(*n->sorted), key_cmp);
	for (size_t i = 1; i < n->n; i++) {
		const struct yconf_node *first = n->sorted[i - 1], *dup = n->sorted[i];
		if (strcmp(first->text, dup->text))
			continue;
		diag_error(b->d, b->doc->file, dup->line, dup->col,
			   "duplicate key '%s' (first at line %u:%u)", dup->text, first->line,
			   first->col);
		ret = P53_ESYNTAX;
	}
	return ret;
}

/* One entry: a scalar key, then its value. 1 at the end of the map. */
static int entry(struct build *b, struct yconf_node *n, unsigned depth)
{
	yaml_event_t ev;
	struct yconf_node *key, *val;
	int ret;

	if ((ret = next(b, &ev)) < 0)
		return ret;
	if (ev.type == YAML_MAPPING_END_EVENT) {
		yaml_event_delete(&ev);
		return 1;
	}
	if (ev.type != YAML_SCALAR_EVENT || !ev.data.scalar.length) {
		ret = at_event(b, &ev, P53_ESYNTAX, ev.type == YAML_SCALAR_EVENT ? "empty mapping key" :
			       "a mapping key must be a word or string, not a list or mapping");
		yaml_event_delete(&ev);
		return ret;
	}
	if ((ret = reserve(n)) < 0) {
		yaml_event_delete(&ev);
		return ret;
	}
	if ((ret = tree(b, &ev, n, n->n, depth + 1, &key)) < 0)
		return ret;
	key->is_key = true;
	key->kind = YCONF_SCALAR;   /* a key "null" is the word null */
	n->kids[2 * n->n] = key;
	n->kids[2 * n->n + 1] = NULL;
	n->n++;   /* the key is owned by n from here on, even if the value fails */
	if ((ret = next(b, &ev)) < 0)
		return ret;
	if ((ret = tree(b, &ev, n, n->n - 1, depth + 1, &val)) < 0)
		return ret;
	n->kids[2 * (n->n - 1) + 1] = val;
	return 0;
}

static int mapping(struct build *b, struct yconf_node *n, unsigned depth)
{
	int ret;

	while ((ret = entry(b, n, depth)) == 0)
		;
	return ret < 0 ? ret : index_keys(b, n);
}

/* Build the node that starts with ev (consumed) and everything inside it. */
static int tree(struct build *b, yaml_event_t *ev, const struct yconf_node *parent,
		size_t index, unsigned depth, struct yconf_node **out)
{
	struct yconf_node *n = NULL;
	int ret;

	if ((ret = refuse_extras(b, ev)) < 0)
		goto fail;
	if (depth >= MAX_DEPTH) {
		ret = at_event(b, ev, P53_ELIMIT, "nested deeper than 64 levels");
		goto fail;
	}
	if (!(n = node_new(b, ev, parent, index))) {
		ret = P53_ENOMEM;
		goto fail;
	}
	if (ev->type == YAML_SCALAR_EVENT) {
		ret = scalar(b, ev, n);
	} else if (ev->type == YAML_SEQUENCE_START_EVENT) {
		n->kind = YCONF_SEQ;
		ret = sequence(b, n, depth);
	} else if (ev->type == YAML_MAPPING_START_EVENT) {
		n->kind = YCONF_MAP;
		ret = mapping(b, n, depth);
	} else {
		ret = at_event(b, ev, P53_ESYNTAX, "unexpected YAML event");
	}
	if (ret < 0)
		goto fail;
	yaml_event_delete(ev);
	*out = n;
	return 0;
fail:
	yaml_event_delete(ev);
	node_free(n);
	return ret;
}

/* Stream start, at most one document, stream end. */
static int document(struct build *b)
{
	yaml_event_t ev;
	int ret;

	if ((ret = next(b, &ev)) < 0)
		return ret;
	yaml_event_delete(&ev);                     /* stream start */
	if ((ret = next(b, &ev)) < 0)
		return ret;
	if (ev.type == YAML_STREAM_END_EVENT) {     /* empty file */
		yaml_event_delete(&ev);
		return 0;
	}
	yaml_event_delete(&ev);                     /* document start */
	if ((ret = next(b, &ev)) < 0 || (ret = tree(b, &ev, NULL, 0, 0, &b->doc->root)) < 0)
		return ret;
	if ((ret = next(b, &ev)) < 0)
		return ret;
	yaml_event_delete(&ev);                     /* document end */
	if ((ret = next(b, &ev)) < 0)
		return ret;
	if (ev.type != YAML_STREAM_END_EVENT)
		ret = at_event(b, &ev, P53_ESYNTAX, "only one YAML document per file (found a second '---')");
	yaml_event_delete(&ev);
	return ret;
}

static struct yconf_node *null_root(struct yconf_doc *doc)
{
	struct yconf_node *n = calloc(1, sizeof(*n));

	if (n) {
		n->kind = YCONF_NULL;
		n->line = n->col = 1;
		n->file = doc->file;
	}
	return n;
}

int yconf_load_text(const char *name, const char *text, size_t len, struct diag *d,
		    struct yconf_doc **out)
{
	struct build b = { .d = d };
	int ret = P53_ENOMEM;

	if (!(b.doc = calloc(1, sizeof(*b.doc))) || !(b.doc->file = strdup(name)))
		goto fail;
	if (!yaml_parser_initialize(&b.p))
		goto fail;
	yaml_parser_set_input_string(&b.p, (const unsigned char *)text, len);
	ret = document(&b);
	yaml_parser_delete(&b.p);
	if (ret == 0 && !b.doc->root && !(b.doc->root = null_root(b.doc)))
		ret = P53_ENOMEM;
	if (ret < 0)
		goto fail;
	*out = b.doc;
	return 0;
fail:
	if (ret == P53_ENOMEM)
		diag_error(d, name, 0, 0, "out of memory");
	yconf_free(b.doc);
	return ret;
}

static int read_all(const char *path, struct diag *d, char **buf, size_t *len)
{
	struct stat st;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = P53_EIO;

	*buf = NULL;
	if (fd < 0 || fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		goto fail;
	}
	if ((size_t)st.st_size > YCONF_MAX_FILE) {
		diag_error(d, path, 0, 0, "larger than %u MiB", YCONF_MAX_FILE >> 20);
		ret = P53_ELIMIT;
		goto out;
	}
	if (!(*buf = malloc((size_t)st.st_size + 1))) {
		ret = P53_ENOMEM;
		goto out;
	}
	for (*len = 0; *len < (size_t)st.st_size; *len += (size_t)r)
		if ((r = read(fd, *buf + *len, (size_t)st.st_size - *len)) <= 0) {
			if (r == 0)
				break;   /* shrank under us: parse what is there */
			goto fail;
		}
	close(fd);
	return 0;
fail:
	diag_error(d, path, 0, 0, "cannot read: %s", strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	free(*buf);
	*buf = NULL;
	return ret;
}

int yconf_load_file(const char *path, struct diag *d, struct yconf_doc **out)
{
	char *text;
	size_t len = 0;
	int ret;

	if ((ret = read_all(path, d, &text, &len)) < 0)
		return ret;
	ret = yconf_load_text(path, text, len, d, out);
	free(text);
	return ret;
}

/* ---- navigation ------------------------------------------------------------ */

const struct yconf_node *yconf_root(const struct yconf_doc *doc) { return doc->root; }
enum yconf_kind yconf_kind(const struct yconf_node *n) { return n->kind; }
unsigned yconf_line(const struct yconf_node *n) { return n->line; }
unsigned yconf_col(const struct yconf_node *n) { return n->col; }
const char *yconf_file(const struct yconf_node *n) { return n->file; }

const char *yconf_text(const struct yconf_node *n)
{
	if (n->kind == YCONF_NULL)
		return "";
	return n->kind == YCONF_SCALAR ? n->text : NULL;
}

size_t yconf_count(const struct yconf_node *n)
{
	return n->kind == YCONF_SEQ || n->kind == YCONF_MAP ? n->n : 0;
}

const struct yconf_node *yconf_at(const struct yconf_node *n, size_t i)
{
	if (i >= yconf_count(n))
		return NULL;
	return n->kind == YCONF_MAP ? n->kids[2 * i + 1] : n->kids[i];
}

const struct yconf_node *yconf_key_at(const struct yconf_node *map, size_t i)
{
	return map->kind == YCONF_MAP && i < map->n ? map->kids[2 * i] : NULL;
}

static int find_cmp(const void *key, const void *elem)
{
	return strcmp(key, (*(struct yconf_node *const *)elem)->text);
}

const struct yconf_node *yconf_get(const struct yconf_node *map, const char *key)
{
	struct yconf_node *const *k;

	if (map->kind != YCONF_MAP || !map->n)
		return NULL;
	k = bsearch(key, map->sorted, map->n, sizeof(*map->sorted), find_cmp);
	return k ? map->kids[2 * (*k)->index + 1] : NULL;
}

const char *yconf_name(const struct yconf_node *n, char *buf, size_t cap)
{
	char up[160];

	if (!n->parent)
		snprintf(buf, cap, "the document");
	else if (n->is_key)
		snprintf(buf, cap, "key '%s'", n->text);
	else if (n->parent->kind == YCONF_MAP)
		snprintf(buf, cap, "'%s'", n->parent->kids[2 * n->index]->text);
	/* A name deeper than buf is shown cut, and marked so. */
	else if (snprintf(buf, cap, "item %zu of %s", n->index + 1,
			  yconf_name(n->parent, up, sizeof(up))) >= (int)cap && cap > 3)
		memcpy(buf + cap - 4, "...", 4);
	return buf;
}

const char *yconf_show(const struct yconf_node *n, char *buf, size_t cap)
{
	char cut[48];
	size_t len;

	switch (n->kind) {
	case YCONF_NULL: snprintf(buf, cap, "nothing (null)"); break;
	case YCONF_SEQ: snprintf(buf, cap, "a list"); break;
	case YCONF_MAP: snprintf(buf, cap, "a mapping"); break;
	case YCONF_SCALAR:
		len = strlen(n->text);
		snprintf(cut, sizeof(cut), "%.40s", n->text);
		for (char *p = cut; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';   /* keep a message on one line */
		snprintf(buf, cap, "\"%s%s\"", cut, len > 40 ? "..." : "");
		break;
	}
	return buf;
}

void yconf_error(const struct yconf_node *n, struct diag *d, const char *fmt, ...)
{
	char msg[448];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n)
		diag_error(d, n->file, n->line, n->col, "%s", msg);
	else
		diag_error(d, NULL, 0, 0, "%s", msg);
}

/* ---- typed getters --------------------------------------------------------- */

/* "'what' must be WANT, got SHOWN" at n. */
static int mismatch(const struct yconf_node *n, struct diag *d, int ret, const char *want)
{
	char name[192], shown[64];

	yconf_error(n, d, "%s must be %s, got %s", yconf_name(n, name, sizeof(name)), want,
		    yconf_show(n, shown, sizeof(shown)));
	return ret;
}

int yconf_str(const struct yconf_node *n, struct diag *d, const char **out)
{
	if (n->kind != YCONF_SCALAR)
		return mismatch(n, d, P53_ESYNTAX, "a string");
	*out = n->text;
	return 0;
}

int yconf_uint(const struct yconf_node *n, uint64_t min, uint64_t max, struct diag *d,
	       uint64_t *out)
{
	char want[64];
	uint64_t v = 0;
	const char *s = n->text;
	int ret = 0;

	snprintf(want, sizeof(want), "an integer %llu..%llu", (unsigned long long)min,
		 (unsigned long long)max);
	if (n->kind != YCONF_SCALAR || !*s || (s[0] == '0' && s[1]))
		return mismatch(n, d, P53_ESYNTAX, want);
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return mismatch(n, d, P53_ESYNTAX, want);
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			ret = P53_ERANGE;   /* keep scanning: junk later is a syntax error */
		else
			v = v * 10 + (uint64_t)(*s - '0');
	}
	if (ret < 0 || v < min || v > max)
		return mismatch(n, d, P53_ERANGE, want);
	*out = v;
	return 0;
}

int yconf_bool(const struct yconf_node *n, struct diag *d, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on" }, *const no[] = { "false", "no", "off" };

	for (size_t i = 0; n->kind == YCONF_SCALAR && i < 3; i++) {
		if (!strcasecmp(n->text, yes[i]) || !strcasecmp(n->text, no[i])) {
			*out = !strcasecmp(n->text, yes[i]);
			return 0;
		}
	}
	return mismatch(n, d, P53_ESYNTAX, "true or false");
}

/* "a, b or c" into buf. */
static void word_list(const char *const *words, const char *last_sep, char *buf, size_t cap)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; words[i] && len < cap; i++) {
		const char *sep = i == 0 ? "" : words[i + 1] ? ", " : last_sep;
		len += (size_t)snprintf(buf + len, cap - len, "%s%s", sep, words[i]);
	}
}

int yconf_enum(const struct yconf_node *n, const char *const *names, struct diag *d,
	       unsigned *out)
{
	char want[256];

	for (unsigned i = 0; n->kind == YCONF_SCALAR && names[i]; i++) {
		if (!strcmp(n->text, names[i])) {
			*out = i;
			return 0;
		}
	}
	word_list(names, " or ", want, sizeof(want));
	return mismatch(n, d, P53_ESYNTAX, want);
}

int yconf_expect(const struct yconf_node *n, enum yconf_kind k, struct diag *d)
{
	if (n->kind == k)
		return 0;
	return mismatch(n, d, P53_ESYNTAX, k == YCONF_MAP ? "a mapping (key: value lines)" :
			k == YCONF_SEQ ? "a list" : "a value");
}

int yconf_check_keys(const struct yconf_node *map, const char *const *allowed,
		     struct diag *d)
{
	char known[320], where[200] = "";
	int ret = 0;

	if (map->kind != YCONF_MAP)
		return 0;
	word_list(allowed, ", ", known, sizeof(known));
	if (map->parent) {
		char name[180];
		snprintf(where, sizeof(where), " in %s", yconf_name(map, name, sizeof(name)));
	}
	for (size_t i = 0; i < map->n; i++) {
		const struct yconf_node *k = map->kids[2 * i];
		size_t j = 0;
		while (allowed[j] && strcmp(allowed[j], k->text))
			j++;
		if (allowed[j])
			continue;
		yconf_error(k, d, "unknown key '%s'%s (known: %s)", k->text, where, known);
		ret = P53_ESYNTAX;
	}
	return ret;
}
