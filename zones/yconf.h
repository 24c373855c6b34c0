/*
 * yconf.h — a small YAML document reader for configuration-like files
 * (pop53d's configuration, traffic-policy files), on top of libyaml.
 *
 * A file is read whole into a tree of mappings, sequences and scalars;
 * every node knows its file, line and column, so that a checker can say
 * exactly where a value is wrong. Deliberately strict: one document per
 * file, mapping keys are scalars and unique, no aliases, no explicit tags.
 * Scalars stay text: a getter decides what a value must be (an integer in
 * a range, one of some words, a string) and explains a mismatch as
 * "file:line:col: error: 'key' must be ..., got ...".
 *
 * The tree is read-only once loaded; nodes live as long as their document.
 */
#ifndef POP53_YCONF_H
#define POP53_YCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

enum yconf_kind {
	YCONF_NULL = 0,  /* empty plain value, ~ or null */
	YCONF_SCALAR,    /* any other scalar: text */
	YCONF_SEQ,       /* [ a, b ] or "- a" lines */
	YCONF_MAP,       /* key: value */
};

struct yconf_doc;   /* a loaded file; opaque */
struct yconf_node;  /* one node of it; opaque */

/* Largest file yconf_load_file reads (policy files can be big). */
#define YCONF_MAX_FILE (64u << 20)

/* Read and parse the YAML file at path into *out (free with yconf_free).
 * Errors are reported in d with their position: P53_EIO (cannot read;
 * errno's text in the message), P53_ESYNTAX (YAML syntax, duplicate key,
 * alias, tag, non-scalar key, more than one document), P53_ELIMIT (file
 * or nesting too large), P53_ENOMEM. */
int yconf_load_file(const char *path, struct diag *d, struct yconf_doc **out);

/* The same for text already in memory (len bytes); name is used as the
 * file name in positions. */
int yconf_load_text(const char *name, const char *text, size_t len, struct diag *d,
		    struct yconf_doc **out);

/* Free a document and every node in it. NULL is fine. */
void yconf_free(struct yconf_doc *doc);

/* The document's top node; an empty file gives a YCONF_NULL node. */
const struct yconf_node *yconf_root(const struct yconf_doc *doc);

/* What a node is, where it starts (1-based line and column) and the file
 * it came from (the name given at load). */
enum yconf_kind yconf_kind(const struct yconf_node *n);
unsigned yconf_line(const struct yconf_node *n);
unsigned yconf_col(const struct yconf_node *n);
const char *yconf_file(const struct yconf_node *n);

/* A scalar's text (NUL-terminated, never contains NUL); "" for a null
 * node; NULL for a sequence or mapping. */
const char *yconf_text(const struct yconf_node *n);

/* Entries of a mapping or items of a sequence; 0 for scalars. */
size_t yconf_count(const struct yconf_node *n);

/* Item i of a sequence, or the value of entry i of a mapping (in file
 * order); NULL when i is out of range or n is a scalar. */
const struct yconf_node *yconf_at(const struct yconf_node *n, size_t i);

/* The key node of mapping entry i (its text is the key; its position is
 * where the key was written); NULL when out of range or not a mapping. */
const struct yconf_node *yconf_key_at(const struct yconf_node *map, size_t i);

/* The value under key in a mapping, or NULL (no such key, not a mapping). */
const struct yconf_node *yconf_get(const struct yconf_node *map, const char *key);

/* How messages name a node: "'udp_threads'" for a mapping value,
 * "item 2 of 'listen'" for a sequence item (1-based), "the document" for
 * the root. Writes into buf (cap bytes, truncated) and returns buf. */
const char *yconf_name(const struct yconf_node *n, char *buf, size_t cap);

/* How messages show a node's value: "\"many\"" (quoted, cut at 40
 * bytes), "nothing (null)", "a list", "a mapping". Returns buf. */
const char *yconf_show(const struct yconf_node *n, char *buf, size_t cap);

/* Report an error at n's position ("file:line:col: error: ..."); the
 * format is the whole message. n NULL reports without a position. */
void yconf_error(const struct yconf_node *n, struct diag *d, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Typed getters. Each returns 0 and sets *out, or reports a precise error
 * at n's position in d and returns a negative p53_err (P53_ESYNTAX: wrong
 * kind or form; P53_ERANGE: a number outside min..max) leaving *out as it
 * was. Quoted and plain scalars are treated alike except that a quoted
 * "null" or "" is a string, not nothing. */

/* A non-null scalar; *out points into the document. */
int yconf_str(const struct yconf_node *n, struct diag *d, const char **out);

/* A decimal integer min..max (no sign, no underscores, no 0x). */
int yconf_uint(const struct yconf_node *n, uint64_t min, uint64_t max, struct diag *d,
	       uint64_t *out);

/* true/false (also yes/no, on/off; any case). */
int yconf_bool(const struct yconf_node *n, struct diag *d, bool *out);

/* One of the words in names (NULL-terminated, case-sensitive); *out is
 * its index. */
int yconf_enum(const struct yconf_node *n, const char *const *names, struct diag *d,
	       unsigned *out);

/* n must be of kind k (YCONF_MAP or YCONF_SEQ): "'server' must be a
 * mapping, got a list". */
int yconf_expect(const struct yconf_node *n, enum yconf_kind k, struct diag *d);

/* Every key of mapping map must be in allowed (NULL-terminated): each
 * unknown key is reported at the key's position, with the known ones
 * listed. Returns 0 or P53_ESYNTAX. */
int yconf_check_keys(const struct yconf_node *map, const char *const *allowed,
		     struct diag *d);

#endif
